"""Tables of the store.

Everything important is a row: people, deliveries, attempts, review state, questions asked
and their feedback, and the platform events already handled. Times are stored as aware
UTC datetimes; ``local_date`` columns are the date in the person's own time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    inspect,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always goes in and comes out as an aware UTC datetime.

    SQLite has no time zones; storing naive UTC and re-attaching UTC on the way out keeps
    both backends identical.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Role(StrEnum):
    """What a person is in the organisation (from the roster or ``trainbot users set-role``).

    There is no stored admin role: administrators are whoever ``TRAINBOT_ADMINS`` lists
    now, so taking someone off that list ends their rights at the next start (migration
    0004 turned the ``admin`` rows of earlier versions into learners).
    """

    LEARNER = "learner"
    MANAGER = "manager"


class PersonStatus(StrEnum):
    """Whether pushes go to a person."""

    ACTIVE = "active"
    OPTED_OUT = "opted_out"  # said /stop; questions are still answered
    UNREACHABLE = "unreachable"  # the platform refused delivery (blocked the bot, left)
    REMOVED = "removed"  # access ended by an admin (trainbot users remove); their data is kept


class ManagerSource(StrEnum):
    """Where a team-manager link comes from, so a roster import replaces only its own."""

    ROSTER = "roster"  # derived from the roster's role, team and manager columns
    ADMIN = "admin"  # added with trainbot users manage; kept until removed or demoted


class AccessStatus(StrEnum):
    """Where a stranger's request to use the bot stands (``TRAINBOT_ENROLMENT=approval``)."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class DeliveryKind(StrEnum):
    """What a delivery carries."""

    LESSON = "lesson"
    QUIZ = "quiz"
    REMINDER = "reminder"
    REPORT = "report"
    CHECKIN = "checkin"  # "did you apply this lesson at work?", N days after it (level 2)
    OBSERVATION = "observation"  # a manager's or peer's checklist about one person (level 2)


class DeliveryStatus(StrEnum):
    """Life of a delivery row: claimed -> sent -> answered/completed, or failed/skipped."""

    CLAIMED = "claimed"
    SENT = "sent"
    ANSWERED = "answered"  # a quiz whose attempt is recorded
    COMPLETED = "completed"  # a lesson the person marked as read
    FAILED = "failed"  # gave up after retries (recorded, never silently dropped)
    SKIPPED = "skipped"  # nothing to deliver (e.g. the track is finished)


def _enum(enum: type[StrEnum], name: str) -> Any:
    from sqlalchemy import Enum

    return Enum(
        enum,
        name=name,
        native_enum=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Team(Base):
    """A team, possibly inside a parent team; managers see their team and those below."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    parent: Mapped[Team | None] = relationship(remote_side="Team.id", foreign_keys=[parent_id])


class TeamManager(Base):
    """Who manages which team (a manager may lead several)."""

    __tablename__ = "team_managers"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[ManagerSource] = mapped_column(
        _enum(ManagerSource, "manager_source"),
        default=ManagerSource.ROSTER,
        server_default=ManagerSource.ROSTER.value,
    )


class Person(Base):
    """Someone enrolled (or enrolling) with the bot, on one platform."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str | None] = mapped_column(String(64))  # where DMs go, if not the user id
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200), index=True)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    quiz_time: Mapped[str | None] = mapped_column(String(5))  # HH:MM; None = org default
    # The region whose lesson and question variants the person gets (roster column); None:
    # the core course only.
    region: Mapped[str | None] = mapped_column(String(64))
    track_id: Mapped[str | None] = mapped_column(String(64), index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.LEARNER)
    status: Mapped[PersonStatus] = mapped_column(
        _enum(PersonStatus, "person_status"), default=PersonStatus.ACTIVE, index=True
    )
    status_reason: Mapped[str | None] = mapped_column(String(200))
    enrollment_step: Mapped[str | None] = mapped_column(String(32))  # None once enrolled
    # Listed in an imported roster: what TRAINBOT_ENROLMENT=roster lets in.
    on_roster: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    enrolled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])
    manager: Mapped[Person | None] = relationship(
        remote_side="Person.id", foreign_keys=[manager_id]
    )


class TeamMembership(Base):
    """Which team a person was in from when: a row per change of ``people.team_id``.

    Reports count a person's week under the team they were in at its end
    (``bot.membership.team_at``), so a team formed mid-week by a roster import shows its
    people's whole week, and earlier weeks stay with the team they were in then. Rows are
    written by :func:`record_team_changes` whenever the ORM flushes a new person or a new
    ``team_id``; they are personal data (exported, deleted with the person).
    """

    __tablename__ = "team_memberships"
    __table_args__ = (Index("ix_team_memberships_person_since", "person_id", "since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    since: Mapped[datetime]

    person: Mapped[Person] = relationship()


@event.listens_for(Session, "before_flush")
def record_team_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Write a :class:`TeamMembership` for each new person and each changed ``team_id``.

    The change is dated by the writer's own clock: the person's ``updated_at``, which the
    roster import and every other writer of people set when they change someone (a
    writer's clock may stand still, as in tests, so it is not required to move), and
    ``created_at`` for a new person. Bulk ``UPDATE`` statements bypass this;
    nothing in the bot moves people between teams that way.
    """
    for person in list(session.new):
        if isinstance(person, Person):
            since = person.created_at or person.enrolled_at or datetime.now(UTC)
            session.add(TeamMembership(person=person, team_id=person.team_id, since=since))
    for person in list(session.dirty):
        if not isinstance(person, Person):
            continue
        state = inspect(person)
        if not state.attrs.team_id.history.has_changes():
            continue
        since = person.updated_at or datetime.now(UTC)
        session.add(TeamMembership(person=person, team_id=person.team_id, since=since))


class Delivery(Base):
    """One thing pushed to one person: claimed, then sent, then answered or completed.

    ``slot`` makes the claim unique: ``daily`` for the scheduled push (so there is exactly
    one per person, kind and local date), ``campaign:<id>`` for a campaign,
    ``on-demand:<n>`` for items asked for with /quiz.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("person_id", "kind", "local_date", "slot"),
        Index("ix_deliveries_status_claimed_at", "status", "claimed_at"),
        Index("ix_deliveries_kind_local_date", "kind", "local_date"),
        # Weekly report: one week of deliveries from the index alone (migration 0002).
        Index("ix_deliveries_sent_at", "sent_at", "kind", "status", "person_id", "team_id"),
        # Recovery: claimed rows whose lease ran out (migration 0003).
        Index("ix_deliveries_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[DeliveryKind] = mapped_column(_enum(DeliveryKind, "delivery_kind"))
    slot: Mapped[str] = mapped_column(String(64), default="daily")
    local_date: Mapped[date] = mapped_column(Date)
    item_id: Mapped[str | None] = mapped_column(String(128))  # lesson or question id
    language: Mapped[str | None] = mapped_column(String(8))
    track_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.CLAIMED
    )
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    selection: Mapped[dict[str, Any] | None]  # multi-select answers toggled before submit
    message_ref: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    # The lease: which process owns a claimed row, and until when (renewed while it runs).
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    # Set just before a send is handed to the platform, cleared when its outcome is known:
    # a claimed row that still has it after its owner died may have reached the person.
    send_started_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()


class Attempt(Base):
    """One answer to one quiz question; at most one per delivery."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("delivery_id"),
        Index("ix_attempts_answered_at", "answered_at"),
        Index("ix_attempts_person_question", "person_id", "question_id"),
        # Weekly report: one week of answers from the index alone (migration 0002).
        Index(
            "ix_attempts_answered_week",
            "answered_at",
            "person_id",
            "correct",
            "first_try",
            "question_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(128), index=True)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL")
    )
    chosen: Mapped[dict[str, Any]]  # {"keys": [...]} or {"value": true}
    correct: Mapped[bool] = mapped_column(Boolean)
    first_try: Mapped[bool] = mapped_column(Boolean, default=True)
    answered_at: Mapped[datetime]
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    track_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))


class ReviewState(Base):
    """A person's spaced-repetition state for one question (an FSRS card as JSON)."""

    __tablename__ = "review_states"
    __table_args__ = (Index("ix_review_states_person_due", "person_id", "due"),)

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    card: Mapped[dict[str, Any]]
    due: Mapped[datetime]
    last_review: Mapped[datetime | None]
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)


ERASED_TEXT = ""
"""The text of a question whose asker was forgotten or whose retention ran out (the row
stays as an anonymous count; ``docs/privacy.md``)."""


class AskedQuestion(Base):
    """A question someone asked, how it was answered, and their feedback."""

    __tablename__ = "asked_questions"
    __table_args__ = (Index("ix_asked_questions_asked_at", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    answered: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    answer: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[dict[str, Any]]  # {"items": [{"title", "path", "section", "score"}]}
    feedback: Mapped[int | None] = mapped_column(Integer)  # +1 helpful, -1 not helpful
    feedback_at: Mapped[datetime | None]
    asked_at: Mapped[datetime]


class ConversationTurn(Base):
    """A question someone asked in one conversation, kept for a short while (personal data).

    A follow-up ("那经理呢？", "and for managers?") is read against the person's previous
    question in the same conversation (a DM, a group, a Slack thread): ``conversation`` is
    :func:`bot.followups.conversation_key`. Rows older than ``TRAINBOT_FOLLOWUP_MINUTES``
    are never read and are deleted at the next question and by the retention purge.
    """

    __tablename__ = "conversation_turns"
    __table_args__ = (
        Index("ix_conversation_turns_person_conversation", "person_id", "conversation", "asked_at"),
        Index("ix_conversation_turns_asked_at", "asked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    conversation: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)  # as searched: a follow-up already rewritten
    answer: Mapped[str | None] = mapped_column(Text)  # what the bot showed; None if declined
    asked_at: Mapped[datetime]


class SurveyResponse(Base):
    """A one-tap satisfaction survey after a lesson, and its answer (personal data).

    One row per survey prompt: unique per person and local day (``asked_on``), which is
    the one-prompt-a-day rule, and per lesson delivery. ``rating`` (1-5) is set once: a
    second tap changes nothing. ``comment`` is a free-text reply to the survey message,
    whose platform reference is ``message_ref`` once the person rated.
    """

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("person_id", "asked_on"),
        UniqueConstraint("delivery_id"),
        Index("ix_survey_responses_rated_at", "rated_at", "team_id", "track_id"),
        Index("ix_survey_responses_message_ref", "message_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    lesson_id: Mapped[str] = mapped_column(String(128))
    track_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    end_of_track: Mapped[bool] = mapped_column(Boolean, default=False)
    asked_on: Mapped[date] = mapped_column(Date)  # the person's local date of the prompt
    asked_at: Mapped[datetime]
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[datetime | None]
    message_ref: Mapped[str | None] = mapped_column(String(200))


class ObserverRole(StrEnum):
    """Who says whether a trained person applies a lesson at work (level 2)."""

    SELF = "self"  # the learner, in a check-in N days after the lesson
    MANAGER = "manager"  # their manager, in the monthly observation checklist
    PEER = "peer"  # a colleague the roster names as an observer


class Application(StrEnum):
    """An answer about applying a lesson at work; :data:`APPLIED` says which ones count."""

    SEVERAL = "several"  # self: several times
    ONCE = "once"  # self: once
    NOT_YET = "not_yet"  # self: not yet
    NOT_RELEVANT = "not_relevant"  # self: not relevant to my work (no evidence either way)
    SEEN = "seen"  # observer: seen applying it
    NOT_SEEN = "not_seen"  # observer: not seen
    UNSURE = "unsure"  # observer: can't tell (no evidence either way)


APPLIED: dict[Application, bool | None] = {
    Application.SEVERAL: True,
    Application.ONCE: True,
    Application.NOT_YET: False,
    Application.NOT_RELEVANT: None,
    Application.SEEN: True,
    Application.NOT_SEEN: False,
    Application.UNSURE: None,
}
"""Whether an answer is evidence of applying (``True``), of not applying (``False``), or
of neither (``None``: not relevant, can't tell), which the application rate leaves out."""


class ApplicationReport(Base):
    """One answer about whether a trained person applies one lesson at work (level 2).

    ``observer_id`` is ``None`` for the learner's own check-in; for an observation it is
    the manager or peer who answered. ``delivery_id`` is the push that asked (a check-in
    to the learner, or an observation checklist to the observer), and the row is unique
    per push and lesson, so a double tap stores one answer. ``applied`` is
    :data:`APPLIED` of the answer, kept so the rate is one SQL sum. ``example`` is a
    free-text reply to the answered message. Personal data of the subject (exported,
    erased with them) and of the observer (erased with them, with their pushes).
    """

    __tablename__ = "application_reports"
    __table_args__ = (
        UniqueConstraint("delivery_id", "lesson_id"),
        Index("ix_application_reports_answered_at", "answered_at", "lesson_id"),
        Index("ix_application_reports_subject_id", "subject_id", "lesson_id"),
        Index("ix_application_reports_message_ref", "message_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    observer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    source: Mapped[ObserverRole] = mapped_column(_enum(ObserverRole, "observer_role"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    lesson_id: Mapped[str] = mapped_column(String(128))
    track_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    answer: Mapped[Application] = mapped_column(_enum(Application, "application_answer"))
    applied: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime]
    example: Mapped[str | None] = mapped_column(Text)
    example_at: Mapped[datetime | None]
    message_ref: Mapped[str | None] = mapped_column(String(200))


class Observer(Base):
    """A peer who observes a person for the monthly checklist (roster column ``observers``).

    Managers need no row: a person's manager (``people.manager_id``) observes them.
    """

    __tablename__ = "observers"

    subject_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    observer_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime]


class ExperimentAssignment(Base):
    """Which variant of an A/B test a person (or a whole team) got: once, and kept.

    ``stratum`` and ``position`` place the unit in the experiment's randomisation blocks
    (``bot.experiments``): unique per experiment, stratum and position, so two processes
    assigning at once cannot both take one slot of a block, and balance holds.
    """

    __tablename__ = "experiment_assignments"
    __table_args__ = (
        UniqueConstraint("experiment_id", "person_id"),
        UniqueConstraint("experiment_id", "team_id"),
        UniqueConstraint("experiment_id", "stratum", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    variant: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    assigned_at: Mapped[datetime]


class PracticeFiring(Base):
    """A practice rule that fired on a lesson for one cycle (``bot.practice``).

    Unique per rule, track, lesson and cycle start, so the daily check, run by any number
    of processes, fires a rule once a cycle. The evidence (the lesson's first-try accuracy
    and how many first tries it rests on) is kept as it was when the rule fired.
    """

    __tablename__ = "practice_firings"
    __table_args__ = (UniqueConstraint("rule_id", "track_id", "lesson_id", "cycle_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    track_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str] = mapped_column(String(128))
    cycle_start: Mapped[date] = mapped_column(Date)
    fired_at: Mapped[datetime]
    until: Mapped[datetime]
    mark: Mapped[float] = mapped_column(Float)
    accuracy: Mapped[float] = mapped_column(Float)
    answers: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)  # how many get drill


class PracticeTarget(Base):
    """One person a firing gives drill to, with their own first tries before it."""

    __tablename__ = "practice_targets"

    firing_id: Mapped[int] = mapped_column(
        ForeignKey("practice_firings.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    correct_before: Mapped[int] = mapped_column(Integer)
    answers_before: Mapped[int] = mapped_column(Integer)


class ChannelPost(Base):
    """A post to a channel (the weekly summary to the review channel), once per week.

    Claimed like a delivery (unique per channel and week, with a lease), and marked sent
    only after the platform accepted it, so a failed post is tried again and a sent one
    never is.
    """

    __tablename__ = "channel_posts"
    __table_args__ = (UniqueConstraint("platform", "channel_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(64))
    week: Mapped[str] = mapped_column(String(10))  # ISO week, 2026-W48
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.CLAIMED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    message_ref: Mapped[str | None] = mapped_column(String(200))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class RosterImport(Base):
    """A roster import that wrote to the store.

    Once there is one, ``TRAINBOT_ENROLMENT=auto`` means ``roster``: only the people on it
    (and the admins) may use the bot.
    """

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(255))  # the file's name, without its folder
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime]


class KpiValue(Base):
    """One business KPI of one team for one ISO week (``trainbot kpis import``).

    Level 3 of the training norm: the report sets these beside the team's training
    indicators (``bot.reports.impact``). Unique per team, week and metric, so importing a
    file again replaces its values instead of adding to them. Team figures, not personal
    data: they stay when a person is forgotten, and go with their team.
    """

    __tablename__ = "kpi_values"
    __table_args__ = (
        UniqueConstraint("team_id", "week", "metric"),
        Index("ix_kpi_values_metric_week", "metric", "week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, 2026-W47 (sorts as text)
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(16))  # shown after the value: "%", "pp"
    direction: Mapped[str | None] = mapped_column(String(8))  # "higher" or "lower" is better
    source: Mapped[str] = mapped_column(String(255))  # the file's name, without its folder
    imported_at: Mapped[datetime]


class AccessRequest(Base):
    """Someone not (yet) allowed to use the bot who asked to (``TRAINBOT_ENROLMENT=approval``).

    Not a person: nothing else is stored about them until an admin approves and they
    /start. The name is kept so the admin knows whom they approve.
    """

    __tablename__ = "access_requests"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[AccessStatus] = mapped_column(
        _enum(AccessStatus, "access_status"), default=AccessStatus.PENDING, index=True
    )
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))  # platform:user_id of the admin


class ProcessedEvent(Base):
    """A platform event already handled, so a platform's retry is not answered twice."""

    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class NamedLease(Base):
    """A job that one process at a time may run, held for a while by its owner.

    Used where a single process of several must do something: re-ingest the materials,
    long-poll a Telegram token. The holder renews the expiry while it works; another
    process takes the name over only once the lease ran out (:mod:`bot.leases`).
    """

    __tablename__ = "named_leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class IndexVersion(Base):
    """A published version of the Q&A index, read by every bot process.

    The vectors live in a Chroma server collection of their own (``collection``); the
    keyword index, lexicon, calibration and manifest travel as one zip (``files``), so a
    process that has never built the index can answer from it (:mod:`knowledge.shared`).
    The highest id is the current version.
    """

    __tablename__ = "index_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(128))
    embeddings: Mapped[str] = mapped_column(String(200))  # the model the vectors came from
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of ``files``
    size: Mapped[int] = mapped_column(Integer)
    files: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[str] = mapped_column(Text, default="")  # what the ingest did, one line
    published_by: Mapped[str] = mapped_column(String(64))  # the process (host:pid:random)
    created_at: Mapped[datetime]
