"""The weekly completion summary, computed with SQL aggregates in the store.

Definitions (docs/reports.md repeats them for readers of the report):

- The week is an ISO week from Monday 00:00 to the next Monday 00:00 in the organisation's
  time zone, as a half-open UTC window ``[start, end)`` over the timestamp columns.
- Deliveries count in the week their ``sent_at`` falls in; a quiz is *answered* and a lesson
  *completed* when that delivery's status says so (whenever it was answered). Attempts
  (accuracy, activity) count in the week their ``answered_at`` falls in. These are the
  same rules as the weekly totals printed by ``trainbot simulate``.
- Enrolled: people whose ``enrolled_at`` is before the end of the week (managers only
  with a track of their own), except those an admin removed (``trainbot users remove``) and those ``TRAINBOT_ENROLMENT`` no longer
  lets in (``admitted``), who are in no report. Active: enrolled people with at least
  one answer in the week; the active rate is active / enrolled.
- Training coverage follows the course's evaluation guide (培训覆盖率): people who read
  every lesson sent to them in the week (covered) / people in a track at the week's start
  whose track had lessons that week (due to attend, 应参训人数).
- A person belongs, for one week, to the team they were in at the end of it (the
  membership history, ``bot.membership``; the current week: their team now). So a team
  formed mid-week shows its people's whole week, a person who moved team is counted once,
  with all of the week's activity, and earlier weeks stay with the team they were in
  then. Questions asked count the same way. Tracks are the person's current track.
- A manager's scope is their teams (with the teams below) and their direct reports, who
  are counted under the team they were in that week, whichever it is.
- Pass: an active person whose accuracy in the week is at or above the pass threshold of
  their track (``tracks.yaml``); the pass rate is over active people whose track has one.

Python only adds up the handful of (team, track) cells the store returns, and looks up
names; it never reads attempts or deliveries row by row.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.application import application_cells_at
from bot.gaps import content_gaps
from bot.i18n import t
from bot.learning import PushDays, streaks_of
from bot.membership import team_at
from bot.reports.levels import build_levels
from bot.reports.satisfaction import Satisfaction, rating_cells, satisfaction
from bot.store.db import Database
from bot.store.models import (
    AskedQuestion,
    Attempt,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    PersonStatus,
    Role,
    Team,
    UTCDateTime,
)
from bot.weeks import iso_week_window
from quizzes.content import Course

if TYPE_CHECKING:
    from bot.evaluation.improve import ContentToImprove
    from bot.reports.impact import BusinessImpact
    from bot.reports.levels import Levels
    from bot.reports.upkeep import Upkeep

logger = logging.getLogger(__name__)

HARDEST_LIMIT = 5
MIN_FIRST_TRIES = 5
"""First-try answers a question needs in the week before it can rank among the hardest."""
FOLLOW_UP_IDLE_DAYS = 7
WORKING_DAYS = ("mon", "tue", "wed", "thu", "fri")
"""The default of ``settings.working_days``."""
NO_TEAM = "—"
RATES = ("coverage", "active_rate", "completion", "lesson_completion", "accuracy", "pass_rate")
_BASIS_POINTS = 10_000
_WORK = (DeliveryKind.LESSON, DeliveryKind.QUIZ)


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Counts:
    """Additive counts of one group of people for one week; rates derive from them."""

    enrolled: int = 0
    active: int = 0
    lessons_delivered: int = 0
    lessons_completed: int = 0
    quizzes_delivered: int = 0
    quizzes_answered: int = 0
    attempts: int = 0
    correct: int = 0
    assessed: int = 0  # active people whose track has a pass threshold
    passing: int = 0
    due: int = 0  # enrolled people sent at least one lesson in the week (due to attend)
    covered: int = 0  # due people who completed every lesson sent to them that week

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            **{
                item.name: getattr(self, item.name) + getattr(other, item.name)
                for item in fields(self)
            }
        )

    @property
    def coverage(self) -> float | None:
        """Training coverage as the course's evaluation guide defines 培训覆盖率: people
        who completed all the week's required lessons / people due to attend."""
        return _rate(self.covered, self.due)

    @property
    def active_rate(self) -> float | None:
        """Active / enrolled: who answered at least once, whatever they read.

        ``None`` in a week nothing was sent, nobody was due and nobody answered (a
        blackout week): 0% would read as everyone having skipped their training. Someone
        due whose pushes were paused still counts, at 0%.
        """
        idle = not (self.quizzes_delivered or self.lessons_delivered or self.due)
        if not self.active and idle:
            return None
        return _rate(self.active, self.enrolled)

    @property
    def completion(self) -> float | None:
        """Quizzes answered / quizzes delivered."""
        return _rate(self.quizzes_answered, self.quizzes_delivered)

    @property
    def lesson_completion(self) -> float | None:
        """Lessons completed / lessons delivered."""
        return _rate(self.lessons_completed, self.lessons_delivered)

    @property
    def accuracy(self) -> float | None:
        """Correct answers / answers."""
        return _rate(self.correct, self.attempts)

    @property
    def pass_rate(self) -> float | None:
        """Passing people / assessed people."""
        return _rate(self.passing, self.assessed)

    def rates(self) -> dict[str, float | None]:
        """Every rate by name (see :data:`RATES`)."""
        return {name: getattr(self, name) for name in RATES}


def change(now: float | None, before: float | None) -> float | None:
    """Change of a rate from last week, or ``None`` when either side is undefined."""
    if now is None or before is None:
        return None
    return now - before


@dataclass(frozen=True)
class GroupWeek:
    """One row of the team or track table: this week's and last week's counts."""

    key: str
    name: str
    this_week: Counts
    last_week: Counts

    def changes(self) -> dict[str, float | None]:
        """Change of every rate since last week."""
        before = self.last_week.rates()
        return {name: change(value, before[name]) for name, value in self.this_week.rates().items()}


@dataclass(frozen=True)
class PersonWeek:
    """One person's week (only for the people the viewer manages)."""

    person_id: int
    name: str
    team: str
    track: str | None
    status: str
    enrolled_at: datetime
    lessons_delivered: int
    lessons_completed: int
    quizzes_delivered: int
    quizzes_answered: int
    attempts: int
    correct: int
    pass_threshold: float | None
    streak: int | None = None
    last_answer: datetime | None = None

    @property
    def accuracy(self) -> float | None:
        """Correct / answers this week."""
        return _rate(self.correct, self.attempts)

    @property
    def completion(self) -> float | None:
        """Quizzes answered / delivered this week."""
        return _rate(self.quizzes_answered, self.quizzes_delivered)

    @property
    def passed(self) -> bool | None:
        """At or above the track's pass threshold; ``None`` when not assessed."""
        if not self.attempts or self.pass_threshold is None:
            return None
        return self.correct * _BASIS_POINTS >= _basis_points(self.pass_threshold) * self.attempts


@dataclass(frozen=True)
class FollowUp:
    """Someone a manager should talk to, and why."""

    person_id: int
    name: str
    team: str
    reason: str  # "inactive" (no answer for 7+ days) or "low_accuracy"
    accuracy: float | None
    last_answer: datetime | None
    pass_mark: float | None = None  # their track's, which a low accuracy is below


@dataclass(frozen=True)
class HardQuestion:
    """A question with low first-try accuracy this week."""

    question_id: str
    prompt: str
    first_tries: int
    first_try_correct: int

    @property
    def accuracy(self) -> float:
        """First-try accuracy (``first_tries`` is never 0 here)."""
        return self.first_try_correct / self.first_tries


@dataclass(frozen=True)
class QuestionStats:
    """Questions people asked the bot in the week, and how helpful its answers were."""

    asked: int = 0
    unanswered: int = 0
    rated: int = 0
    helpful: int = 0

    @property
    def helpfulness(self) -> float | None:
        """👍 / rated answers."""
        return _rate(self.helpful, self.rated)


@dataclass(frozen=True)
class Gap:
    """A group of similar questions the bot could not answer well (from bot.gaps)."""

    question: str
    variants: tuple[str, ...]
    count: int
    unanswered: int
    thumbs_down: int


@dataclass
class WeeklySummary:
    """Everything the weekly report shows, for one viewer's scope."""

    week: str
    timezone: str
    start: datetime
    end: datetime
    scope: str  # "organisation" or the team names
    total: GroupWeek
    teams: list[GroupWeek]
    tracks: list[GroupWeek]
    hardest: list[HardQuestion]
    follow_up: list[FollowUp]
    questions: QuestionStats
    questions_last_week: QuestionStats
    gaps: list[Gap] | None  # None: not computed
    people: list[PersonWeek] | None = None
    generated_at: datetime | None = None
    in_progress: bool = False  # the week had not ended at generated_at
    # track id -> pass threshold, for the tracks with a row in ``tracks`` (the chart's lines)
    pass_marks: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    # Level 3: the scope's business KPIs beside training (None: no KPI imported for it)
    impact: BusinessImpact | None = None
    # Level 1: the lesson ratings of the satisfaction survey (None: no rating in either week)
    satisfaction: Satisfaction | None = None
    # Levels 1 / 2 / 3 per team and track, with the change since last week
    levels: Levels | None = None
    # The trainers' ranked "content to improve" list (None: not asked for, e.g. a
    # manager's summary; bot.evaluation.improve builds it)
    improve: ContentToImprove | None = None
    # Content due for review and the practice rules fired (None: not asked for; the
    # trainers' report and digest carry it, bot.reports.upkeep builds it)
    upkeep: Upkeep | None = None

    @property
    def previous_week(self) -> str:
        """The ISO week before this one."""
        iso = (self.start.astimezone(_zone(self.timezone)) - timedelta(days=7)).isocalendar()
        return f"{iso.year}-W{iso.week:02d}"


def week_label(summary: WeeklySummary, language: str) -> str:
    """The week as titles show it, marked "in progress" while it has not ended."""
    if summary.in_progress:
        return t(language, "report_in_progress", week=summary.week)
    return summary.week


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _basis_points(threshold: float) -> int:
    return round(threshold * _BASIS_POINTS)


# -- the SQL ---------------------------------------------------------------------------


def _sent_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(Delivery.sent_at >= start, Delivery.sent_at < end, Delivery.kind.in_(_WORK))


def _delivered(start: datetime, end: datetime) -> Any:
    """Per person: the week's deliveries by kind and outcome, read once and never sorted."""
    is_lesson = Delivery.kind == DeliveryKind.LESSON
    is_quiz = Delivery.kind == DeliveryKind.QUIZ
    return (
        select(
            Delivery.person_id,
            func.sum(case((is_lesson, 1), else_=0)).label("lessons_delivered"),
            func.sum(
                case((and_(is_lesson, Delivery.status == DeliveryStatus.COMPLETED), 1), else_=0)
            ).label("lessons_completed"),
            func.sum(case((is_quiz, 1), else_=0)).label("quizzes_delivered"),
            func.sum(
                case((and_(is_quiz, Delivery.status == DeliveryStatus.ANSWERED), 1), else_=0)
            ).label("quizzes_answered"),
        )
        .where(_sent_in(start, end))
        .group_by(Delivery.person_id)
        .subquery("delivered")
    )


def per_person_query(
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
    thresholds: dict[str, int],
    person_ids: Collection[int] = (),
    admitted: ColumnElement[bool] | None = None,
) -> Select[Any]:
    """One row per person enrolled by ``end`` and admitted (in ``team_ids`` or among
    ``person_ids``, if teams are given): the week's counts, team for the week, last
    answer, and whether they pass. ``admitted`` is ``bot.admission.admitted_people``;
    without it, everyone not removed."""
    delivered = _delivered(start, end)
    answered = (
        select(
            Attempt.person_id,
            func.count().label("attempts"),
            func.sum(case((Attempt.correct, 1), else_=0)).label("correct"),
            func.max(Attempt.answered_at).label("last_answer"),
        )
        .where(Attempt.answered_at >= start, Attempt.answered_at < end)
        .group_by(Attempt.person_id)
        .subquery("answered")
    )
    threshold: ColumnElement[Any] = (
        case(thresholds, value=Person.track_id, else_=null()) if thresholds else null()
    )
    attempts = func.coalesce(answered.c.attempts, 0)
    correct = func.coalesce(answered.c.correct, 0)
    assessed = and_(attempts > 0, threshold.is_not(None))
    lessons_sent = func.coalesce(delivered.c.lessons_delivered, 0)
    lessons_read = func.coalesce(delivered.c.lessons_completed, 0)
    taught = (
        select(Delivery.track_id)
        .where(_sent_in(start, end), Delivery.kind == DeliveryKind.LESSON)
        .distinct()
    )
    due = and_(Person.enrolled_at < start, Person.track_id.in_(taught))
    team = team_at(Person.id, end, Person.team_id)
    query = (
        select(
            Person.id.label("person_id"),
            team.label("team_id"),
            Person.track_id.label("track_id"),
            Person.enrolled_at.label("enrolled_at"),
            func.coalesce(delivered.c.lessons_delivered, 0).label("lessons_delivered"),
            func.coalesce(delivered.c.lessons_completed, 0).label("lessons_completed"),
            func.coalesce(delivered.c.quizzes_delivered, 0).label("quizzes_delivered"),
            func.coalesce(delivered.c.quizzes_answered, 0).label("quizzes_answered"),
            attempts.label("attempts"),
            correct.label("correct"),
            answered.c.last_answer,
            case((attempts > 0, 1), else_=0).label("active"),
            case((assessed, 1), else_=0).label("assessed"),
            case(
                (and_(assessed, correct * _BASIS_POINTS >= threshold * attempts), 1), else_=0
            ).label("passing"),
            # Due to attend: in the track at the week's start, and the track had lessons that
            # week; covered: due, sent lessons, and read them all.
            case((due, 1), else_=0).label("due"),
            case((and_(due, lessons_sent > 0, lessons_read >= lessons_sent), 1), else_=0).label(
                "covered"
            ),
        )
        .outerjoin(delivered, delivered.c.person_id == Person.id)
        .outerjoin(answered, answered.c.person_id == Person.id)
        .where(
            Person.enrolled_at.is_not(None),
            Person.enrolled_at < end,
            # A manager imported without a track leads; they are no learner of their team.
            or_(Person.track_id.is_not(None), Person.role == Role.LEARNER),
            admitted if admitted is not None else Person.status != PersonStatus.REMOVED,
        )
    )
    if team_ids is not None:
        in_scope: ColumnElement[bool] = team.in_(sorted(team_ids))
        if person_ids:
            in_scope = or_(in_scope, Person.id.in_(sorted(person_ids)))
        query = query.where(in_scope)
    return query


def group_counts_query(
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
    thresholds: dict[str, int],
    person_ids: Collection[int] = (),
    admitted: ColumnElement[bool] | None = None,
) -> Select[Any]:
    """Counts per (team, track) cell for the window; the query the benchmark explains."""
    query = per_person_query(start, end, team_ids, thresholds, person_ids, admitted)
    rows = query.subquery("per_person")
    return _cells_of(rows)


def _cells_of(rows: Any) -> Select[Any]:
    """Sum per-person rows (a subquery or the temporary table) per (team, track)."""
    return select(
        rows.c.team_id,
        rows.c.track_id,
        func.count().label("enrolled"),
        func.sum(rows.c.active).label("active"),
        func.sum(rows.c.lessons_delivered).label("lessons_delivered"),
        func.sum(rows.c.lessons_completed).label("lessons_completed"),
        func.sum(rows.c.quizzes_delivered).label("quizzes_delivered"),
        func.sum(rows.c.quizzes_answered).label("quizzes_answered"),
        func.sum(rows.c.attempts).label("attempts"),
        func.sum(rows.c.correct).label("correct"),
        func.sum(rows.c.assessed).label("assessed"),
        func.sum(rows.c.passing).label("passing"),
        func.sum(rows.c.due).label("due"),
        func.sum(rows.c.covered).label("covered"),
    ).group_by(rows.c.team_id, rows.c.track_id)


_COUNT_NAMES = tuple(item.name for item in fields(Counts))


def _cells(session: Session, query: Select[Any]) -> dict[tuple[int | None, str | None], Counts]:
    cells = {}
    for row in session.execute(query).mappings():
        cells[(row["team_id"], row["track_id"])] = Counts(
            **{name: int(row[name] or 0) for name in _COUNT_NAMES}
        )
    return cells


def _person_week_table() -> Table:
    """A temporary table for one week's per-person rows, queried several times."""
    return Table(
        "report_person_week",
        MetaData(),
        Column("person_id", Integer, primary_key=True),
        Column("team_id", Integer),
        Column("track_id", String(64)),
        Column("enrolled_at", UTCDateTime()),
        *(
            Column(name, Integer)
            for name in (
                "lessons_delivered",
                "lessons_completed",
                "quizzes_delivered",
                "quizzes_answered",
                "attempts",
                "correct",
            )
        ),
        Column("last_answer", UTCDateTime()),
        *(Column(name, Integer) for name in ("active", "assessed", "passing", "due", "covered")),
        prefixes=["TEMPORARY"],
    )


def _sum(counts: Iterable[Counts]) -> Counts:
    total = Counts()
    for item in counts:
        total = total + item
    return total


def _hardest(
    session: Session,
    course: Course,
    start: datetime,
    end: datetime,
    scope_rows: Table | None,
    language: str,
    min_first_tries: int,
) -> list[HardQuestion]:
    tries = func.count().label("tries")
    right = func.sum(case((Attempt.correct, 1), else_=0)).label("right")
    query = select(Attempt.question_id, tries, right).where(
        Attempt.answered_at >= start, Attempt.answered_at < end, Attempt.first_try.is_(True)
    )
    if scope_rows is not None:
        query = query.join(scope_rows, scope_rows.c.person_id == Attempt.person_id)
    query = (
        query.group_by(Attempt.question_id)
        .having(func.count() >= min_first_tries)
        .order_by(
            (func.sum(case((Attempt.correct, 1), else_=0)) * 1.0 / func.count()).asc(),
            func.count().desc(),
            Attempt.question_id,
        )
        .limit(HARDEST_LIMIT)
    )
    hardest = []
    for question_id, first_tries, correct in session.execute(query).all():
        question = course.question(question_id, language) if course is not None else None
        hardest.append(
            HardQuestion(
                question_id=question_id,
                prompt=question.prompt if question is not None else question_id,
                first_tries=int(first_tries),
                first_try_correct=int(correct or 0),
            )
        )
    return hardest


def _question_stats(
    session: Session,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
    person_ids: Collection[int],
) -> QuestionStats:
    query = select(
        func.count(),
        func.sum(case((AskedQuestion.answered.is_(False), 1), else_=0)),
        func.sum(case((AskedQuestion.feedback.is_not(None), 1), else_=0)),
        func.sum(case((AskedQuestion.feedback > 0, 1), else_=0)),
    ).where(AskedQuestion.asked_at >= start, AskedQuestion.asked_at < end)
    if team_ids is not None:
        asker_team = team_at(AskedQuestion.person_id, end, AskedQuestion.team_id)
        in_scope: ColumnElement[bool] = asker_team.in_(sorted(team_ids))
        if person_ids:
            in_scope = or_(in_scope, AskedQuestion.person_id.in_(sorted(person_ids)))
        query = query.where(in_scope)
    asked, unanswered, rated, helpful = session.execute(query).one()
    return QuestionStats(int(asked or 0), int(unanswered or 0), int(rated or 0), int(helpful or 0))


def _gaps(
    db: Database,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
    person_ids: Collection[int],
    limit: int,
) -> list[Gap]:
    groups = content_gaps(
        db, start=start, end=end, team_ids=team_ids, person_ids=person_ids, limit=limit
    )
    return [
        Gap(
            question=group.question,
            variants=tuple(group.variants),
            count=int(group.count),
            unanswered=int(group.unanswered),
            thumbs_down=int(group.thumbs_down),
        )
        for group in groups
    ]


def _people(
    session: Session,
    rows: Table,
    thresholds: dict[str, int],
    team_names: dict[int, str],
    *,
    only_follow_up: datetime | None,
) -> list[PersonWeek]:
    """Per-person rows from the week's table; ``only_follow_up`` (the idle cut-off) keeps
    just the people who may need following up."""
    query = select(rows, Person.display_name, Person.status).join(
        Person, Person.id == rows.c.person_id
    )
    if only_follow_up is not None:
        query = query.where(
            or_(
                and_(rows.c.attempts == 0, rows.c.enrolled_at <= only_follow_up),
                and_(rows.c.assessed == 1, rows.c.passing == 0),
            )
        )
    people = []
    for row in session.execute(query).mappings():
        threshold = thresholds.get(row["track_id"] or "")
        people.append(
            PersonWeek(
                person_id=row["person_id"],
                name=row["display_name"],
                team=team_names.get(row["team_id"], NO_TEAM),
                track=row["track_id"],
                status=PersonStatus(row["status"]).value,
                enrolled_at=row["enrolled_at"],
                lessons_delivered=int(row["lessons_delivered"]),
                lessons_completed=int(row["lessons_completed"]),
                quizzes_delivered=int(row["quizzes_delivered"]),
                quizzes_answered=int(row["quizzes_answered"]),
                attempts=int(row["attempts"]),
                correct=int(row["correct"]),
                pass_threshold=threshold / _BASIS_POINTS if threshold is not None else None,
                last_answer=row["last_answer"],
            )
        )
    people.sort(key=lambda person: (person.team, person.name.casefold(), person.person_id))
    return people


def _last_answers(session: Session, person_ids: list[int], end: datetime) -> dict[int, datetime]:
    last: dict[int, datetime] = {}
    for index in range(0, len(person_ids), 500):
        chunk = person_ids[index : index + 500]
        for person_id, moment in session.execute(
            select(Attempt.person_id, func.max(Attempt.answered_at))
            .where(Attempt.person_id.in_(chunk), Attempt.answered_at < end)
            .group_by(Attempt.person_id)
        ).all():
            if moment is not None:
                # SQLite's MAX() comes back as text, bypassing the column type.
                last[person_id] = (
                    datetime.fromisoformat(moment) if isinstance(moment, str) else moment
                )
    return {key: value.replace(tzinfo=value.tzinfo or UTC) for key, value in last.items()}


def _idle_since(start: datetime, end: datetime, now: datetime | None) -> datetime:
    """Silent since before this moment is *no answer for 7+ days*: 7 days before the end
    of the week, or before now in a week still in progress."""
    until = now if now is not None and start <= now < end else end
    return until - timedelta(days=FOLLOW_UP_IDLE_DAYS)


def _follow_up(people: list[PersonWeek], idle_since: datetime) -> list[FollowUp]:
    follow = []
    for person in people:
        reason = None
        silent = person.last_answer is None or person.last_answer <= idle_since
        if person.attempts == 0 and person.enrolled_at <= idle_since and silent:
            reason = "inactive"
        elif person.passed is False:
            reason = "low_accuracy"
        if reason is not None:
            follow.append(
                FollowUp(
                    person_id=person.person_id,
                    name=person.name,
                    team=person.team,
                    reason=reason,
                    accuracy=person.accuracy,
                    last_answer=person.last_answer,
                    pass_mark=person.pass_threshold,
                )
            )
    follow.sort(key=_worst_first)
    return follow


def _worst_first(item: FollowUp) -> tuple[Any, ...]:
    """The follow-up order (docs/reports.md): the lowest accuracy in the week first, so
    people at 0% lead every list; then the silent, who have no accuracy this week, the
    longest silence first (never answered before anyone who did)."""
    if item.accuracy is not None:
        return (0, item.accuracy, item.name.casefold(), item.person_id)
    silent_since = item.last_answer.timestamp() if item.last_answer else float("-inf")
    return (1, silent_since, item.name.casefold(), item.person_id)


def in_region(
    admitted: ColumnElement[bool] | None, region: str | None
) -> ColumnElement[bool] | None:
    """``admitted`` (``None``: everyone not removed) narrowed to the people of ``region``;
    ``admitted`` itself without a region."""
    if region is None:
        return admitted
    return and_(
        admitted if admitted is not None else Person.status != PersonStatus.REMOVED,
        Person.region == region,
    )


def build_summary(
    db: Database,
    course: Course,
    *,
    week: str,
    timezone: str,
    team_ids: Collection[int] | None = None,
    person_ids: Collection[int] = (),
    admitted: ColumnElement[bool] | None = None,
    include_people: bool = True,
    language: str = "en",
    gap_limit: int = 10,
    min_first_tries: int = MIN_FIRST_TRIES,
    now: datetime | None = None,
    working_days: Collection[str] = WORKING_DAYS,
    kpi_weeks: int = 12,
    trained_coverage: float = 0.8,
    region: str | None = None,
) -> WeeklySummary:
    """Compute the weekly summary.

    Args:
        db: the store.
        course: the course (pass thresholds by track, question prompts).
        week: ISO week such as ``2026-W47``.
        timezone: the organisation's time zone (week boundaries).
        team_ids: the teams in scope (already expanded to the teams below); ``None`` for
            the whole organisation.
        person_ids: people in scope besides those teams' members (a manager's direct
            reports); only used with ``team_ids``.
        admitted: who may be counted, ``bot.admission.admitted_people(settings)``;
            ``None`` counts everyone not removed.
        include_people: compute the per-person rows (with streaks) for the CSV and for
            managers; the follow-up list is computed either way.
        language: language of question prompts in the hardest-questions list.
        gap_limit: most content-gap groups to list.
        min_first_tries: first-try answers a question needs to rank among the hardest.
        now: when the summary is made (shown in the report).
        working_days: ``settings.working_days``; with the course's blackouts they are
            the push days streaks are counted over.
        kpi_weeks: ``settings.kpi_weeks``, the weeks the business-impact section analyses.
        trained_coverage: ``settings.kpi_trained_coverage``, the weekly training coverage
            from which a team counts as trained (``bot.reports.impact``).
        region: only the people of this region (``people.region``, the roster column),
            within ``team_ids`` when both are given; every section counts them alone.

    Raises:
        ValueError: for a malformed week.
    """
    start, end = iso_week_window(week, timezone)
    previous = start - timedelta(days=7)
    admitted = in_region(admitted, region)
    thresholds = {
        track_id: _basis_points(track.pass_threshold) for track_id, track in course.tracks.items()
    }
    week_rows = _person_week_table()
    with db.session() as session:
        if db.dialect == "postgresql":
            # The correlated team lookups (membership history) inflate the planner's cost
            # estimate past jit_above_cost; compiling the query then takes longer (~1.5 s)
            # than running it (~0.2 s).
            session.execute(text("SET LOCAL jit = off"))
        teams = session.execute(select(Team.id, Team.name)).all()
        team_names = {team_id: name for team_id, name in teams}
        connection = session.connection()
        week_rows.drop(connection, checkfirst=True)
        week_rows.create(connection)
        try:
            this_week = per_person_query(start, end, team_ids, thresholds, person_ids, admitted)
            session.execute(
                insert(week_rows).from_select([column.name for column in week_rows.c], this_week)
            )
            this_cells = _cells(session, _cells_of(week_rows))
            last_cells = _cells(
                session,
                group_counts_query(previous, start, team_ids, thresholds, person_ids, admitted),
            )
            idle_since = _idle_since(start, end, now)
            people = _people(
                session,
                week_rows,
                thresholds,
                team_names,
                only_follow_up=None if include_people else idle_since,
            )
            silent = [person.person_id for person in people if person.attempts == 0]
            last = _last_answers(session, silent, start)
            people = [
                _with_last_answer(person, last.get(person.person_id))
                if person.attempts == 0
                else person
                for person in people
            ]
            if include_people:
                push_days = PushDays.of(working_days, course)
                people = _with_streaks(session, people, end, timezone, push_days)
            scope_rows = week_rows if team_ids is not None or region is not None else None
            hardest = _hardest(session, course, start, end, scope_rows, language, min_first_tries)
            asker_teams, askers = team_ids, person_ids
            if region is not None:  # the questions and gaps of the region's people alone
                asker_teams = []
                askers = session.scalars(select(week_rows.c.person_id)).all()
            elsewhere = _outside_teams(session, week_rows, team_ids, person_ids)
        finally:
            week_rows.drop(connection)
        ratings = rating_cells(
            session,
            previous=previous,
            start=start,
            end=end,
            team_ids=team_ids,
            person_ids=person_ids,
            admitted=admitted,
        )
        # Level 2 as it stood at the end of this week and of the week before.
        applied_before, applied_now = application_cells_at(
            session, [start, end], team_ids=team_ids, person_ids=person_ids, admitted=admitted
        )
        questions = _question_stats(session, start, end, asker_teams, askers)
        questions_before = _question_stats(session, previous, start, asker_teams, askers)
    follow_up = _follow_up(people, idle_since)
    team_keys: set[int | None] = {key[0] for key in (*this_cells, *last_cells)}
    if region is None:  # a region's cut lists only the teams its people are in
        # An empty team still gets its row.
        team_keys |= set(team_ids) if team_ids is not None else set(team_names)
    team_rows = [
        GroupWeek(
            key=str(team_id) if team_id is not None else "",
            name=team_names.get(team_id, NO_TEAM) if team_id is not None else NO_TEAM,
            this_week=_sum(counts for key, counts in this_cells.items() if key[0] == team_id),
            last_week=_sum(counts for key, counts in last_cells.items() if key[0] == team_id),
        )
        for team_id in team_keys
    ]
    team_rows.sort(key=lambda row: (row.name == NO_TEAM, row.name.casefold()))
    track_keys = {key[1] for key in (*this_cells, *last_cells)}
    track_rows = [
        GroupWeek(
            key=track_id or "",
            name=_track_title(course, track_id, language),
            this_week=_sum(counts for key, counts in this_cells.items() if key[1] == track_id),
            last_week=_sum(counts for key, counts in last_cells.items() if key[1] == track_id),
        )
        for track_id in track_keys
    ]
    track_rows.sort(key=lambda row: row.key)
    from bot.reports.impact import business_impact  # it builds on this module

    impact_teams = team_ids
    if region is not None:  # team KPIs: the teams the region's people are in
        impact_teams = sorted(int(row.key) for row in team_rows if row.key)
    impact = business_impact(
        db,
        course,
        week=week.upper(),
        timezone=timezone,
        team_ids=impact_teams,
        admitted=admitted,
        weeks=kpi_weeks,
        trained_coverage=trained_coverage,
    )
    scope = "organisation"
    if team_ids is not None:
        parts = sorted(team_names.get(team_id, str(team_id)) for team_id in team_ids)
        if elsewhere:
            parts.append(t(language, "report_direct_reports", count=elsewhere))
        scope = ", ".join(parts)
    if region is not None:
        whole = t(language, "report_organisation") if scope == "organisation" else scope
        scope = t(language, "report_region_scope", scope=whole, region=region)
    track_names = {track_id: _track_title(course, track_id, language) for track_id in course.tracks}
    rated = satisfaction(
        ratings, scope=scope, team_names=team_names, track_names=track_names, no_team=NO_TEAM
    )
    total = GroupWeek(
        key="total",
        name=scope,
        this_week=_sum(this_cells.values()),
        last_week=_sum(last_cells.values()),
    )
    return WeeklySummary(
        week=week.upper(),
        timezone=timezone,
        start=start,
        end=end,
        scope=scope,
        total=total,
        teams=team_rows,
        tracks=track_rows,
        hardest=hardest,
        follow_up=follow_up,
        questions=questions,
        questions_last_week=questions_before,
        gaps=_gaps(db, start, end, asker_teams, askers, gap_limit),
        people=people if include_people else None,
        generated_at=now,
        in_progress=now is not None and start <= now < end,
        pass_marks={
            track_id: course.tracks[track_id].pass_threshold
            for track_id in track_keys
            if track_id is not None and track_id in course.tracks
        },
        impact=impact,
        satisfaction=rated,
        levels=build_levels(
            teams=team_rows,
            tracks=track_rows,
            total=total,
            satisfaction=rated,
            impact=impact,
            application_now=applied_now,
            application_before=applied_before,
            team_names=team_names,
            track_names=track_names,
            no_team=NO_TEAM,
        ),
    )


def _outside_teams(
    session: Session, rows: Table, team_ids: Collection[int] | None, person_ids: Collection[int]
) -> int:
    """How many of the week's people are in scope as direct reports outside its teams."""
    if team_ids is None or not person_ids:
        return 0
    counted = session.scalar(
        select(func.count())
        .select_from(rows)
        .where(
            rows.c.person_id.in_(sorted(person_ids)),
            or_(rows.c.team_id.is_(None), rows.c.team_id.not_in(sorted(team_ids))),
        )
    )
    return int(counted or 0)


def _track_title(course: Course, track_id: str | None, language: str) -> str:
    track = course.tracks.get(track_id or "")
    if track is None:
        return track_id or NO_TEAM
    return str(track.title.get(language) or track_id)


def _with_last_answer(person: PersonWeek, moment: datetime | None) -> PersonWeek:
    return replace(person, last_answer=moment)


def _with_streaks(
    session: Session,
    people: list[PersonWeek],
    end: datetime,
    timezone: str,
    push_days: PushDays,
) -> list[PersonWeek]:
    """Each person's streak at the end of the week, by the same rule as /progress (push
    days; days in the organisation's ``timezone`` for someone whose stored zone is
    unknown)."""
    moment = end - timedelta(microseconds=1)
    counted = streaks_of(
        session,
        [person.person_id for person in people],
        moment,
        push_days=push_days,
        fallback_timezone=timezone,
    )
    return [replace(person, streak=counted[person.person_id]) for person in people]


def literal_thresholds(course: Course) -> dict[str, int]:
    """The pass thresholds in basis points, as the queries use them (for the benchmark)."""
    return {
        track_id: _basis_points(track.pass_threshold) for track_id, track in course.tracks.items()
    }


__all__ = [
    "RATES",
    "Counts",
    "FollowUp",
    "Gap",
    "GroupWeek",
    "HardQuestion",
    "PersonWeek",
    "QuestionStats",
    "WeeklySummary",
    "build_summary",
    "change",
    "group_counts_query",
    "literal_thresholds",
    "week_label",
]
