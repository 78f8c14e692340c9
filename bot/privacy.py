"""Privacy rights: what the store holds about one person, erasing it, and retention.

Three things, documented for readers in ``docs/privacy.md``:

- :func:`export_person` gathers every row about one person (their profile, team and
  manager, the teams they manage, deliveries, answers, review schedule, the questions
  they asked, the last questions of their conversations kept for follow-ups, their
  survey ratings and comments, the answers about their applying lessons at work and the
  observations they gave) as one JSON-ready document (``trainbot users export``).
- :func:`erase_person` forgets a person (``trainbot users forget`` and the self-service
  ``/forget``): their row and every row about them are deleted; the questions they asked
  stay as anonymous counts, with their text and answer removed, so past weeks still say
  how many questions were asked but no report, gap list or export shows what they were.
- :func:`purge_expired` applies ``TRAINBOT_RETENTION_DAYS`` (nightly, and by hand with
  ``trainbot users purge-expired``): question texts and the per-person logs older than
  the retention window go, and the conversation turns past the follow-up window.

Everything here is synchronous work on a session; callers run it off the event loop.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from bot.errors import TrainbotError
from bot.reports.claims import LEGACY_RECORDS
from bot.store.models import (
    ERASED_TEXT,
    AccessRequest,
    ApplicationReport,
    AskedQuestion,
    Attempt,
    ConversationTurn,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    ExperimentAssignment,
    Observer,
    Person,
    PracticeTarget,
    ProcessedEvent,
    ReviewState,
    Role,
    SurveyResponse,
    Team,
    TeamManager,
    TeamMembership,
)

logger = logging.getLogger(__name__)

EXPORT_FORMAT = 1
"""Version of the export document's shape; raised when a field changes meaning."""
LESSON_PROGRESS = (DeliveryStatus.SENT, DeliveryStatus.COMPLETED, DeliveryStatus.CLAIMED)
"""Lesson deliveries that say which lessons a person has had (read by
:func:`bot.learning.learner_states`); retention keeps them, or the track would start over."""

_EMAIL = re.compile(r"[^@\s:]+@[^@\s]+")
_PLATFORM = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,15}")


class UnknownPerson(TrainbotError):
    """No stored person matches the reference given (or it matches several)."""


# -- finding the person ---------------------------------------------------------------


def find_subject(session: Session, reference: str) -> Person:
    """The stored person named by ``reference``.

    The same syntax as the roster's ``manager`` column (``docs/roster.md``), plus the store
    id that ``trainbot users list`` prints first.

    Args:
        session: an open session.
        reference: ``platform:user_id`` (``slack:U0123ABCD``, ``telegram:512345678``), an
            email (any case), or the numeric store id.

    Raises:
        UnknownPerson: nobody matches, several people share the email, or the reference
            is none of the three forms.
    """
    reference = reference.strip()
    if reference.isascii() and reference.isdigit():
        found = session.get(Person, int(reference)) if len(reference) <= 18 else None
        if found is None:
            raise UnknownPerson(f"no person with id {reference} (see 'trainbot users list')")
        return found
    platform, separator, user_id = reference.partition(":")
    # The roster's platforms, and any other the store holds (the simulator's "sim").
    if separator and _PLATFORM.fullmatch(platform) and user_id:
        found = session.scalars(
            select(Person).where(
                Person.platform == platform.lower(), Person.platform_user_id == user_id
            )
        ).one_or_none()
        if found is None:
            raise UnknownPerson(f"no person {platform.lower()}:{user_id} in the store")
        return found
    if _EMAIL.fullmatch(reference):
        matches = session.scalars(
            select(Person).where(func.lower(Person.email) == reference.lower()).order_by(Person.id)
        ).all()
        if len(matches) > 1:
            who = ", ".join(f"{p.platform}:{p.platform_user_id}" for p in matches)
            raise UnknownPerson(
                f"{len(matches)} people have the email {reference!r} ({who}); use platform:user_id"
            )
        if not matches:
            raise UnknownPerson(f"no person with the email {reference!r} in the store")
        return matches[0]
    raise UnknownPerson(
        f"{reference!r} is not a person reference "
        "(expected platform:user_id such as slack:U0123ABCD, an email, "
        "or the id from 'trainbot users list')"
    )


def reference_of(person: Person) -> str:
    """``platform:user_id``, the way people are named in the roster and the CLI."""
    return f"{person.platform}:{person.platform_user_id}"


# -- export ------------------------------------------------------------------------------


def _row(row: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of ``row`` by name, times as ISO strings, enums as their values."""
    document: dict[str, Any] = {}
    for column in row.__table__.columns:
        if column.key in skip:
            continue
        value = getattr(row, column.key)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        document[column.key] = value
    return document


def export_person(session: Session, person: Person, *, now: datetime) -> dict[str, Any]:
    """Everything the store holds about ``person``, as a JSON-ready document.

    ``processed_events`` and ``channel_posts`` are not in it: they name platform events,
    threads and channels, never a person (``docs/privacy.md``).

    Args:
        session: an open session.
        person: the stored person.
        now: when the export is made (written into the document).
    """
    profile = _row(person)
    team = session.get(Team, person.team_id) if person.team_id is not None else None
    profile["team"] = team.name if team is not None else None
    manager = session.get(Person, person.manager_id) if person.manager_id is not None else None
    profile["manager"] = (
        {"id": manager.id, "person": reference_of(manager), "name": manager.display_name}
        if manager is not None
        else None
    )
    managed = session.execute(
        select(Team.id, Team.name)
        .join(TeamManager, TeamManager.team_id == Team.id)
        .where(TeamManager.person_id == person.id)
        .order_by(Team.name)
    ).all()
    reports = session.scalar(
        select(func.count()).select_from(Person).where(Person.manager_id == person.id)
    )

    def count_of(column: Any) -> int:
        return int(
            session.scalar(select(func.count()).select_from(Observer).where(column == person.id))
            or 0
        )

    def rows(model: Any, *order: Any) -> list[dict[str, Any]]:
        found = session.scalars(
            select(model).where(model.person_id == person.id).order_by(*order)
        ).all()
        return [_row(row) for row in found]

    return {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "person": profile,
        "manages_teams": [{"team_id": team_id, "team": name} for team_id, name in managed],
        # Which team they were in from when: what reports count their weeks under.
        "team_history": [
            {"team_id": team_id, "team": name, "since": since.isoformat()}
            for team_id, name, since in session.execute(
                select(TeamMembership.team_id, Team.name, TeamMembership.since)
                .outerjoin(Team, Team.id == TeamMembership.team_id)
                .where(TeamMembership.person_id == person.id)
                .order_by(TeamMembership.since, TeamMembership.id)
            ).all()
        ],
        # Only how many: the names of the people they manage are those people's data.
        "direct_reports": int(reports or 0),
        "deliveries": rows(Delivery, Delivery.claimed_at, Delivery.id),
        "attempts": rows(Attempt, Attempt.answered_at, Attempt.id),
        "review_states": rows(ReviewState, ReviewState.question_id),
        "asked_questions": rows(AskedQuestion, AskedQuestion.asked_at, AskedQuestion.id),
        # The last questions of each conversation, kept minutes for follow-ups.
        "conversation_turns": rows(
            ConversationTurn, ConversationTurn.asked_at, ConversationTurn.id
        ),
        # Their ratings of lessons and tracks, and the comments they replied.
        "survey_responses": rows(SurveyResponse, SurveyResponse.asked_at, SurveyResponse.id),
        # Level 2: whether they apply lessons at work, in their own check-ins and in their
        # manager's and peers' checklists. Who observed stays out (the role says enough,
        # and a peer's identity is the peer's data).
        "application_reports": [
            _row(row, skip=("observer_id",))
            for row in session.scalars(
                select(ApplicationReport)
                .where(ApplicationReport.subject_id == person.id)
                .order_by(ApplicationReport.answered_at, ApplicationReport.id)
            ).all()
        ],
        # What they answered about others as an observer, without whom it was about.
        "observations_given": [
            _row(row, skip=("subject_id", "team_id"))
            for row in session.scalars(
                select(ApplicationReport)
                .where(ApplicationReport.observer_id == person.id)
                .order_by(ApplicationReport.answered_at, ApplicationReport.id)
            ).all()
        ],
        # Which variant of each A/B test they got (docs/experiments.md).
        "experiment_assignments": rows(
            ExperimentAssignment, ExperimentAssignment.assigned_at, ExperimentAssignment.id
        ),
        # The extra practice a rule gave them on a weak lesson, with their own first tries
        # before it.
        "practice_targets": rows(PracticeTarget, PracticeTarget.firing_id),
        # Only how many: the peers' names are those peers' data.
        "observed_by_peers": count_of(Observer.subject_id),
        "observes_peers": count_of(Observer.observer_id),
        "access_requests": [_row(row) for row in session.scalars(_requests_of(person)).all()],
    }


def _requests_of(person: Person) -> Any:
    """The access requests made from ``person``'s platform account (approval mode)."""
    return select(AccessRequest).where(
        AccessRequest.platform == person.platform,
        AccessRequest.platform_user_id == person.platform_user_id,
    )


# -- erasure -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    """What forgetting one person removes (or, before it, would remove).

    Attributes:
        deliveries: lessons, quizzes, reminders and weekly summaries sent to them, and
            the observation checklists about them sent to their observers (which name
            them and the lessons they completed).
        attempts: their quiz answers.
        review_states: their spaced-repetition schedule, one per question.
        questions: questions they asked (kept as anonymous counts, text removed).
        conversation_turns: their last questions kept for follow-ups (deleted).
        survey_responses: their satisfaction ratings and comments (deleted).
        application_reports: answers about their applying lessons at work (their own
            check-ins, their observers') and the observations they gave about others,
            with the examples (deleted).
        observers: peer-observer links naming them, either way (deleted).
        managed_teams: teams they are a manager of.
        direct_reports: people who name them as manager (they keep no link).
    """

    deliveries: int = 0
    attempts: int = 0
    review_states: int = 0
    questions: int = 0
    conversation_turns: int = 0
    survey_responses: int = 0
    application_reports: int = 0
    observers: int = 0
    managed_teams: int = 0
    direct_reports: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return asdict(self)


def erasure_preview(session: Session, person_id: int) -> Erasure:
    """What :func:`erase_person` would remove for this person now."""

    def count(model: Any, column: Any) -> int:
        return int(
            session.scalar(select(func.count()).select_from(model).where(column == person_id)) or 0
        )

    return Erasure(
        deliveries=int(
            session.scalar(
                select(func.count()).select_from(Delivery).where(_deliveries_of(person_id))
            )
            or 0
        ),
        attempts=count(Attempt, Attempt.person_id),
        review_states=count(ReviewState, ReviewState.person_id),
        questions=count(AskedQuestion, AskedQuestion.person_id),
        conversation_turns=count(ConversationTurn, ConversationTurn.person_id),
        survey_responses=count(SurveyResponse, SurveyResponse.person_id),
        application_reports=int(
            session.scalar(
                select(func.count())
                .select_from(ApplicationReport)
                .where(_application_of(person_id))
            )
            or 0
        ),
        observers=int(
            session.scalar(
                select(func.count()).select_from(Observer).where(_observer_of(person_id))
            )
            or 0
        ),
        managed_teams=count(TeamManager, TeamManager.person_id),
        direct_reports=count(Person, Person.manager_id),
    )


def _application_of(person_id: Any) -> Any:
    """Answers about the person, or given by them as an observer (an id or a column)."""
    return or_(
        ApplicationReport.subject_id == person_id, ApplicationReport.observer_id == person_id
    )


def _observer_of(person_id: Any) -> Any:
    """Peer-observer links naming the person, as observed or as observer."""
    return or_(Observer.subject_id == person_id, Observer.observer_id == person_id)


def _deliveries_of(person_id: int) -> Any:
    """Pushes to the person, and the observation checklists about them."""
    about = and_(Delivery.kind == DeliveryKind.OBSERVATION, Delivery.item_id == str(person_id))
    return or_(Delivery.person_id == person_id, about)


def _affected(result: Any) -> int:
    return int(result.rowcount)


def erase_person(session: Session, person_id: int) -> Erasure | None:
    """Forget a person: delete them and every row about them, in the caller's transaction.

    Their questions stay as anonymous rows (language, answered or not, feedback, team,
    time) with the text and answer removed and no link to anyone, so a past week still
    counts them; everything else about them is deleted, so past weeks' coverage and
    completion no longer count them at all (``docs/privacy.md`` says why). People who had
    them as manager keep no link to them.

    Every statement is keyed by ``person_id``, so running it twice (a double click, two
    processes) removes nothing the second time and raises nothing.

    Returns:
        What was removed, or ``None`` when the person was no longer stored.
    """

    def bulk(statement: Any) -> int:
        """Run an UPDATE or DELETE without loading rows; how many it touched."""
        return _affected(session.execute(statement.execution_options(synchronize_session=False)))

    account = session.execute(
        select(Person.platform, Person.platform_user_id).where(Person.id == person_id)
    ).one_or_none()
    if account is not None:  # the request they made to be let in names them too
        bulk(
            delete(AccessRequest).where(
                AccessRequest.platform == account.platform,
                AccessRequest.platform_user_id == account.platform_user_id,
            )
        )
    questions = bulk(
        update(AskedQuestion)
        .where(AskedQuestion.person_id == person_id)
        .values(text=ERASED_TEXT, answer=None, person_id=None)
    )
    turns = bulk(delete(ConversationTurn).where(ConversationTurn.person_id == person_id))
    surveys = bulk(delete(SurveyResponse).where(SurveyResponse.person_id == person_id))
    # Before their deliveries: an observer's answers hang on the checklists pushed to them.
    applications = bulk(delete(ApplicationReport).where(_application_of(person_id)))
    observers = bulk(delete(Observer).where(_observer_of(person_id)))
    attempts = bulk(delete(Attempt).where(Attempt.person_id == person_id))
    review_states = bulk(delete(ReviewState).where(ReviewState.person_id == person_id))
    deliveries = bulk(delete(Delivery).where(_deliveries_of(person_id)))
    managed = bulk(delete(TeamManager).where(TeamManager.person_id == person_id))
    bulk(delete(TeamMembership).where(TeamMembership.person_id == person_id))
    reports = bulk(update(Person).where(Person.manager_id == person_id).values(manager_id=None))
    # Their A/B-test variants and the practice rules' drill for them (the cascade would
    # remove these too; said here so the list of what goes is in one place).
    bulk(delete(ExperimentAssignment).where(ExperimentAssignment.person_id == person_id))
    bulk(delete(PracticeTarget).where(PracticeTarget.person_id == person_id))
    gone = bulk(delete(Person).where(Person.id == person_id))
    session.expire_all()  # rows loaded before the bulk statements are stale now
    if not gone:
        return None
    erasure = Erasure(
        deliveries=deliveries,
        attempts=attempts,
        review_states=review_states,
        questions=questions,
        conversation_turns=turns,
        survey_responses=surveys,
        application_reports=applications,
        observers=observers,
        managed_teams=managed,
        direct_reports=reports,
    )
    logger.info("person %d erased: %s", person_id, erasure.as_dict())  # the id only
    return erasure


# -- retention ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Purge:
    """What one retention run removed.

    Attributes:
        cutoff: rows from before this moment were in scope.
        questions: question texts removed (the anonymous rows stay).
        conversation_turns: questions kept for follow-ups, past the follow-up window (or
            the retention window, if that is shorter), deleted.
        attempts: quiz answers deleted.
        survey_responses: satisfaction ratings and comments deleted.
        application_reports: check-in and observation answers (and their examples)
            deleted.
        deliveries: deliveries deleted (lesson progress is kept, see :data:`LESSON_PROGRESS`).
        lessons_minimised: kept lesson deliveries whose message reference and error
            were cleared.
        processed_events: platform event records deleted.
        access_requests: requests to be let in (approval mode), decided or made before
            the cutoff, deleted.
        people: people who never enrolled and left no recent trace, deleted.
    """

    cutoff: datetime
    questions: int = 0
    conversation_turns: int = 0
    attempts: int = 0
    survey_responses: int = 0
    application_reports: int = 0
    deliveries: int = 0
    lessons_minimised: int = 0
    processed_events: int = 0
    access_requests: int = 0
    people: int = 0

    @property
    def total(self) -> int:
        """Rows removed or blanked in all."""
        return (
            self.questions
            + self.conversation_turns
            + self.attempts
            + self.survey_responses
            + self.application_reports
            + self.deliveries
            + self.lessons_minimised
            + self.processed_events
            + self.access_requests
            + self.people
        )

    def summary(self) -> str:
        """One line for the CLI and the log."""
        return (
            f"{self.questions} question texts removed, {self.conversation_turns} "
            f"conversation turns, {self.attempts} answers, "
            f"{self.survey_responses} survey ratings, "
            f"{self.application_reports} application answers, "
            f"{self.deliveries} deliveries, {self.processed_events} processed events, "
            f"{self.access_requests} access requests and "
            f"{self.people} never-enrolled people deleted, {self.lessons_minimised} lesson "
            f"deliveries minimised (older than {self.cutoff:%Y-%m-%d %H:%M} UTC)"
        )


def purge_expired(
    session: Session, *, now: datetime, days: int, followup_minutes: int = 0
) -> Purge | None:
    """Apply the retention window of ``days`` days before ``now``, in the caller's transaction.

    - ``asked_questions`` asked before the cutoff: text and answer removed, link to the
      person cut (the anonymous counts stay for past weeks);
    - ``conversation_turns`` (the questions kept for follow-ups) asked before the cutoff
      or more than ``followup_minutes`` ago: deleted;
    - ``attempts`` answered before the cutoff: deleted;
    - ``survey_responses`` (ratings and comments) asked before the cutoff: deleted;
    - ``application_reports`` (check-in and observation answers, their examples)
      answered before the cutoff: deleted;
    - ``deliveries`` claimed before the cutoff: deleted, except the lesson deliveries
      that record which lessons a person has had (:data:`LESSON_PROGRESS`), which only
      lose their message reference and error text;
    - ``processed_events`` received before the cutoff: deleted (except the legacy weekly
      post records, which name no one);
    - ``people`` who never enrolled (they only asked questions), hold no role or team, and
      have no row left that links to them and no change since the cutoff: deleted.

    Review states stay while the person is enrolled: they are the current learning state,
    not a log, and go with the person (``forget``).

    Args:
        session: an open session.
        now: the current moment (aware).
        days: the retention window; ``0`` keeps everything.
        followup_minutes: ``TRAINBOT_FOLLOWUP_MINUTES``; turns older than that are never
            read again (``0``: only the retention window applies to them).

    Returns:
        What was removed, or ``None`` when retention is off.
    """
    if days <= 0:
        return None
    cutoff = now - timedelta(days=days)
    questions = session.execute(
        update(AskedQuestion)
        .where(
            AskedQuestion.asked_at < cutoff,
            or_(
                AskedQuestion.text != ERASED_TEXT,
                AskedQuestion.answer.is_not(None),
                AskedQuestion.person_id.is_not(None),
            ),
        )
        .values(text=ERASED_TEXT, answer=None, person_id=None)
        .execution_options(synchronize_session=False)
    )
    turns_cutoff = cutoff
    if followup_minutes > 0:
        turns_cutoff = max(cutoff, now - timedelta(minutes=followup_minutes))
    turns = session.execute(
        delete(ConversationTurn)
        .where(ConversationTurn.asked_at < turns_cutoff)
        .execution_options(synchronize_session=False)
    )
    attempts = session.execute(
        delete(Attempt)
        .where(Attempt.answered_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    surveys = session.execute(
        delete(SurveyResponse)
        .where(SurveyResponse.asked_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    applications = session.execute(
        delete(ApplicationReport)
        .where(ApplicationReport.answered_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    progress = and_(Delivery.kind == DeliveryKind.LESSON, Delivery.status.in_(LESSON_PROGRESS))
    deliveries = session.execute(
        delete(Delivery)
        .where(Delivery.claimed_at < cutoff, ~progress)
        .execution_options(synchronize_session=False)
    )
    lessons = session.execute(
        update(Delivery)
        .where(
            Delivery.claimed_at < cutoff,
            progress,
            or_(Delivery.message_ref.is_not(None), Delivery.error.is_not(None)),
        )
        .values(message_ref=None, error=None)
        .execution_options(synchronize_session=False)
    )
    events = session.execute(
        delete(ProcessedEvent)
        .where(ProcessedEvent.received_at < cutoff, ProcessedEvent.platform != LEGACY_RECORDS)
        .execution_options(synchronize_session=False)
    )
    requests = session.execute(
        delete(AccessRequest)
        .where(func.coalesce(AccessRequest.decided_at, AccessRequest.requested_at) < cutoff)
        .execution_options(synchronize_session=False)
    )
    manager = Person.__table__.alias("reporting")
    people = session.execute(
        delete(Person)
        .where(
            Person.enrolled_at.is_(None),
            Person.on_roster.is_(False),  # on the roster: waiting to be enrolled, not a trace
            Person.role == Role.LEARNER,
            Person.team_id.is_(None),
            Person.updated_at < cutoff,
            ~exists().where(AskedQuestion.person_id == Person.id),
            ~exists().where(Delivery.person_id == Person.id),
            ~exists().where(Attempt.person_id == Person.id),
            ~exists().where(SurveyResponse.person_id == Person.id),
            ~exists().where(_application_of(Person.id)),
            ~exists().where(_observer_of(Person.id)),
            ~exists().where(ReviewState.person_id == Person.id),
            ~exists().where(TeamManager.person_id == Person.id),
            ~exists().where(manager.c.manager_id == Person.id),
        )
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    purge = Purge(
        cutoff=cutoff,
        questions=_affected(questions),
        conversation_turns=_affected(turns),
        attempts=_affected(attempts),
        survey_responses=_affected(surveys),
        application_reports=_affected(applications),
        deliveries=_affected(deliveries),
        lessons_minimised=_affected(lessons),
        processed_events=_affected(events),
        access_requests=_affected(requests),
        people=_affected(people),
    )
    return purge


__all__ = [
    "Erasure",
    "Purge",
    "UnknownPerson",
    "erase_person",
    "erasure_preview",
    "export_person",
    "find_subject",
    "purge_expired",
    "reference_of",
]
