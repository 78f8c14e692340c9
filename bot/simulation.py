"""``trainbot simulate``: believable demo data, through the real code paths.

Simulated learners enrol with /start, receive pushes from the real dispatcher on a virtual
clock, and answer through the real button handler, so selection, grading, FSRS and the
stored rows are exactly those of real learners, and the weekly report reads them as such.

Learners differ: diligent, steady or lapsing (days skipped, a stretch away), and of varied
ability. Each has their own memory, independent of the bot's FSRS cards: recall follows
FSRS's forgetting curve from the moment a lesson or answer was last learned; a recalled
answer strengthens the memory, a wrong answer or a lucky guess re-teaches it through the
explanation. Who does not recall guesses uniformly among the options.

They also answer the evaluation flows through the real handlers (their answers are
decided in :mod:`bot.simulation_feedback`): they rate some lessons when the survey asks,
sometimes with a comment replied to the rated message; they answer application
check-ins; and each team's simulated manager answers the observation checklists about
them. The result holds what they answered, as the simulation counted it, beside what the
store's report code counts, so the two can be compared.

At the end the learners' true recall of every question they were ever quizzed on is
measured, for our FSRS scheduling and for a fixed-rotation baseline that replays the same
learners (same seed), at the same push times, cycling through the questions of the
lessons delivered so far. docs/learning.md describes the model and the output.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.admission import admitted_people
from bot.app import TrainBot
from bot.application import application_cells, totals
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.errors import TrainbotError
from bot.events import ButtonPress, Command, Conversation, Person, Reply, Text
from bot.experiments import as_dict as experiment_dict
from bot.experiments import assigned_variant, evaluate, person_outcomes
from bot.i18n import t
from bot.library import CourseLibrary
from bot.payloads import CheckinAnswer, ObservationAnswer, SurveyRating, decode
from bot.practice import Fired, effects, run_rules
from bot.ratelimit import RateLimiter
from bot.reports.metrics import PersonWeek, build_summary
from bot.reports.render import percent
from bot.settings import Settings
from bot.simulation_feedback import (
    FeedbackTally,
    Voice,
    applies_lesson,
    checkin_reply,
    make_voice,
    observation_reply,
)
from bot.simulation_feedback import comment as feedback_comment
from bot.simulation_feedback import example as feedback_example
from bot.simulation_feedback import rating as feedback_rating
from bot.store.db import Database
from bot.store.models import (
    Attempt,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    KpiValue,
    PracticeTarget,
    Role,
    Team,
)
from bot.store.models import Person as StoredPerson
from bot.weeks import iso_week_window, week_of
from quizzes.content import Course, Question, QuestionType

PLATFORM = "sim"
ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Asia/Singapore", "Europe/London", "America/New_York")
STEP = timedelta(minutes=15)
REGIONS = {"Asia/Singapore": "kuala-lumpur"}
"""The region (roster column) of the learners of a zone: those on Singapore's clock work
in the Kuala Lumpur team, which the sample course has regional variants for."""


RULES_AT = time(3, 45)
"""When the scheduler runs the practice rules each night (``bot.scheduler``)."""

WEAK_LESSON = 0.4
"""How much of the usual understanding a weak lesson gets across (``--weak-lesson``)."""

OBSERVER_ANSWERS = 0.85
"""The chance that a manager answers an observation checklist (each row of it)."""

HABITS = ("diligent", "steady", "lapsing")
"""How regularly a simulated learner shows up, in the order the summary lists them."""

_HABIT_WEIGHTS = (0.35, 0.45, 0.2)

# FSRS's forgetting curve (FSRS-4.5 onwards), fitted to real review logs: recall after
# ``t`` days is ``(1 + FACTOR * t / S) ** DECAY``, where the stability ``S`` is the
# interval at which recall has fallen to 90%. A power curve forgets fast at first and
# slowly later, as people do, where an exponential forgets everything in a few stabilities.
_DECAY = -0.5
_FACTOR = 19 / 81


def forgetting_curve(days: float, stability: float) -> float:
    """The chance to recall something ``days`` after it was last learned or recalled."""
    return float((1 + _FACTOR * max(days, 0.0) / stability) ** _DECAY)


def chance(question: Question) -> float:
    """The chance that a blind guess (:func:`guess`) answers ``question`` right."""
    if question.type is QuestionType.MULTI:
        return 1 / (2 ** len(question.keys) - 1)
    return 1 / len(question.keys)


def guess(question: Question, rng: random.Random) -> list[str]:
    """What a learner who does not recall the answer picks: a uniform guess.

    One of the options (or true/false) for a single-choice or true/false question; for a
    multiple-choice one, each option ticked or not with even odds, never none, so every
    non-empty combination is equally likely (the grader wants exactly the answer keys).
    """
    if question.type is not QuestionType.MULTI:
        return [rng.choice(question.keys)]
    while True:
        chosen = [key for key in question.keys if rng.random() < 0.5]
        if chosen:
            return chosen


@dataclass
class Learner:
    """One simulated person: how they show up, and what they remember.

    ``ability`` (0..1) is how much of a lesson sticks and how fast memories strengthen;
    ``habit`` is one of :data:`HABITS`; ``engagement`` is the chance to answer a push on a
    day they are around; ``away`` holds the days (counted from the first simulated day,
    in the learner's time zone) on which they answer nothing.
    """

    user_id: str
    zone: str
    track: str
    team: str
    habit: str
    ability: float
    engagement: float
    reads_lessons: float  # chance to open a pushed lesson and press "Got it"
    away: frozenset[int]
    seed: int
    stability: dict[str, float] = field(default_factory=dict)  # question -> days
    last_seen: dict[str, datetime] = field(default_factory=dict)
    lessons_read: dict[str, datetime] = field(default_factory=dict)  # lesson -> when
    voice: Voice = field(default_factory=lambda: make_voice("steady", random.Random(0)))
    """How they rate, comment and apply lessons (bot.simulation_feedback)."""
    applied: dict[str, bool] = field(default_factory=dict)  # lesson -> applied it at work
    weak: frozenset[str] = frozenset()
    """Lessons that get their point across poorly (``simulate --weak-lesson``)."""
    treated: bool | None = None
    """Whether they are in an experiment's non-control variant (known once assigned)."""

    def around(self, moment: datetime, first_day: date) -> bool:
        """Whether the learner is around on ``moment``'s day (their own calendar)."""
        day = moment.astimezone(ZoneInfo(self.zone)).date()
        return (day - first_day).days not in self.away

    def understood(self, question: Question) -> bool:
        """Whether the lesson got this point across, before any quiz on it.

        Fixed per learner and question (not drawn from the run's random stream), so the
        fixed-rotation baseline meets the same learner with the same understanding.
        """
        if question.lesson not in self.lessons_read:
            odds = 0.15 + 0.25 * self.ability  # a lesson skipped: only common sense
        else:
            odds = 0.55 + 0.4 * self.ability
        if question.type is QuestionType.MULTI:
            odds *= 0.85  # every part of the answer must be right
        if question.lesson in self.weak:
            odds *= WEAK_LESSON
        draw = random.Random(f"{self.seed}:{self.user_id}:{question.id}").random()
        return draw < odds

    def understanding(self, questions: Sequence[Question]) -> float:
        """The share of a lesson's questions the lesson got across (0..1; 0.5 without any)."""
        if not questions:
            return 0.5
        return sum(self.understood(question) for question in questions) / len(questions)

    def recall(self, question: Question, now: datetime) -> float:
        """Probability of recalling the answer now (without guessing)."""
        if question.id in self.stability:
            days = (now - self.last_seen[question.id]).total_seconds() / 86400
            return forgetting_curve(days, self.stability[question.id])
        if not self.understood(question):
            return 0.0
        read = self.lessons_read.get(question.lesson)
        if read is None:
            return 1.0  # understood without the lesson: it is common sense to them
        days = (now - read).total_seconds() / 86400
        return forgetting_curve(days, 1.0 + 4.0 * self.ability)

    def memory(self, question_id: str, now: datetime) -> float:
        """Recall of a question already quizzed (the simulation's end-of-run measure)."""
        days = (now - self.last_seen[question_id]).total_seconds() / 86400
        return forgetting_curve(days, self.stability[question_id])

    def learn(self, question_id: str, recalled: bool, now: datetime) -> None:
        """Update memory after answering and reading the explanation.

        A lucky guess teaches what a wrong answer does: the learner reads the explanation.
        """
        current = self.stability.get(question_id)
        if recalled and current is not None:
            # Spacing effect: a successful recall after a longer gap strengthens more.
            gap = (now - self.last_seen[question_id]).total_seconds() / 86400
            updated = current * (1.6 + 1.4 * self.ability) * (1 + min(gap / current, 2) * 0.3)
        elif recalled:
            updated = 1.5 + 4.0 * self.ability
        else:
            # The explanation re-teaches it, less firmly than a recall would.
            updated = 0.5 + 2.0 * self.ability
            if current is not None:
                updated = max(updated, current * 0.3)
        self.stability[question_id] = updated
        self.last_seen[question_id] = now


def make_learners(
    count: int, seed: int, tracks: list[str], days: int, weak: frozenset[str] = frozenset()
) -> list[Learner]:
    """Deterministic learners for a seed: a mix of habits and abilities."""
    rng = random.Random(seed)
    learners = []
    for index in range(count):
        track = tracks[0] if rng.random() < 0.7 or len(tracks) == 1 else tracks[1]
        zone = rng.choice(ZONES)
        habit = rng.choices(HABITS, weights=_HABIT_WEIGHTS)[0]
        ability = rng.betavariate(5, 2)  # most learn well, a few struggle
        away: set[int] = set()
        if habit == "diligent":
            engagement, reads, skips = rng.uniform(0.93, 0.99), 0.95, 0.02
        elif habit == "steady":
            engagement, reads, skips = rng.uniform(0.8, 0.93), 0.8, 0.08
        else:
            engagement, reads, skips = rng.uniform(0.6, 0.85), 0.6, 0.2
            # One stretch away (leave, a busy spell), which may run past the end.
            first = rng.randrange(max(days, 1))
            away.update(range(first, first + rng.randint(4, 10)))
        away.update(day for day in range(days) if rng.random() < skips)
        learners.append(
            Learner(
                user_id=f"sim{index + 1:04d}",
                zone=zone,
                track=track,
                team=f"Team {'ABC'[index % 3]}",
                habit=habit,
                ability=ability,
                engagement=engagement,
                reads_lessons=reads,
                away=frozenset(away),
                seed=seed,
                weak=weak,
            )
        )
    # A stream of its own, so adding the evaluation flows left each seed's learners, and
    # everything they learn, as they were.
    voices = random.Random(f"{seed}:voices")
    for learner in learners:
        learner.voice = make_voice(learner.habit, voices)
    return learners


@dataclass(frozen=True)
class GroupRow:
    """One team, track or habit in a simulated week, as the weekly report counts it."""

    name: str  # team name, track id or habit (see HABITS)
    people: int
    quizzes_sent: int
    quizzes_answered: int
    correct: int
    accuracy: float | None  # correct / answers; None without answers
    streak_median: float | None  # the median streak at the end of the week
    follow_up: int  # people on the report's follow-up list


@dataclass(frozen=True)
class WeekFigures:
    """One week of the simulation, read back through the weekly report (bot.reports)."""

    in_progress: bool
    people: int
    active: int
    quizzes_sent: int
    quizzes_answered: int
    correct: int
    accuracy: float | None
    follow_up: int
    ratings: int  # survey ratings given in the week (the report's satisfaction figure)
    mean_rating: float | None  # their mean, None without ratings
    application: dict[str, int]  # level 2 at the week's end: trained, reported, applying
    teams: list[GroupRow]
    tracks: list[GroupRow]
    habits: list[GroupRow]


@dataclass
class SimulationResult:
    """What ``trainbot simulate`` prints (the JSON keys are documented in docs/learning.md)."""

    learners: int
    days: int
    seed: int
    timezone: str  # the organisation's: it draws the weeks
    start: str
    end: str
    deliveries: int
    lessons: int
    quizzes: int
    attempts: int
    accuracy: float
    chance: float
    duplicates: int
    quiet_hour_pushes: int
    blackout_pushes: int
    recall_fsrs: float
    recall_baseline: float
    habits: dict[str, int]
    weeks: dict[str, dict[str, int]]
    report: dict[str, WeekFigures]
    feedback: dict[str, Any] = field(default_factory=dict)  # what the people answered
    kpis: dict[str, Any] = field(default_factory=dict)  # the business KPI written (level 3)
    true_effect: float = 0.0  # added to a treated learner's chance to recall
    experiments: dict[str, Any] = field(default_factory=dict)  # id -> experiments.as_dict
    weak_lessons: list[str] = field(default_factory=list)
    practice: list[dict[str, Any]] = field(default_factory=list)  # the rules that fired
    weak: dict[str, Any] = field(default_factory=dict)  # per weak lesson: weeks, recall

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


class _Outbox:
    """In-memory outbound port that also remembers when each message was sent."""

    platform = PLATFORM

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[str, datetime, Any]] = []

    async def send(self, conversation: Conversation, reply: Any) -> str | None:
        self.sent.append((conversation.chat_id, self.clock.now(), reply))
        return f"{conversation.chat_id}:{len(self.sent)}"


@dataclass
class _Feedback:
    """The evaluation flows' side of a run: its random draws, and the tally."""

    seed: int
    zone: ZoneInfo  # the organisation's: it draws the weeks, as the weekly report does
    learners: dict[str, Learner] = field(default_factory=dict)  # by simulated user id
    tally: FeedbackTally = field(default_factory=FeedbackTally)
    replies: int = 0

    def rng(self, *event: object) -> random.Random:
        """A random stream for one event (a survey, a check-in, a checklist row …).

        Seeded by the event, not drawn in turn from one stream: checklists are rendered
        in worker threads, so the order in which messages reach the outbox varies from
        run to run, and one shared stream would give the same seed different answers.
        """
        return random.Random(":".join(str(part) for part in (self.seed, *event)))

    def ref(self, chat_id: str) -> str:
        """A platform reference for a message the bot sent in reply to a press.

        The outbox gives pushed messages theirs; a handler's reply is "sent" by the
        simulation, which names it here, so a learner can reply to it (a comment).
        """
        self.replies += 1
        return f"{chat_id}:reply{self.replies}"

    def week(self, moment: datetime) -> str:
        """The ISO week of ``moment`` in the organisation's zone."""
        iso = moment.astimezone(self.zone).isocalendar()
        return f"{iso.year}-W{iso.week:02d}"


class SimulationError(TrainbotError):
    """The simulation cannot run on this store."""


async def simulate(
    settings: Settings,
    *,
    learners: int,
    days: int,
    seed: int,
    db_url: str | None = None,
    today: datetime | None = None,
    true_effect: float = 0.0,
    weak_lessons: Sequence[str] = (),
    practice: bool = True,
) -> SimulationResult:
    """Run the simulation; the simulated period ends at the start of ``today`` (org time).

    Args:
        true_effect: a known effect for the course's experiments (``experiments.yaml``):
            added to the chance to recall an answer of every learner in a variant other
            than the control (of the first experiment that assigned them); 0 is no effect.
        weak_lessons: lessons that get their point across poorly (:data:`WEAK_LESSON`
            of the usual understanding), for the practice rules to find.
        practice: run the tracks' practice rules every night at 03:45, as the scheduler
            does (``False``: the same learners without them, to compare with).
    """
    zone = ZoneInfo(settings.timezone)
    end_local = (
        (today or datetime.now(UTC))
        .astimezone(zone)
        .replace(hour=0, minute=0, second=0, microsecond=0)
    )
    end = end_local.astimezone(UTC)
    start = end - timedelta(days=days)
    temporary = None
    if db_url is None:
        temporary = tempfile.TemporaryDirectory(prefix="trainbot-sim-")
        db_url = f"sqlite:///{Path(temporary.name) / 'sim.db'}"
    sim_settings = settings.model_copy(update={"database_url": db_url, "reminder_hours": 0.0})
    db = Database(db_url)
    db.upgrade()
    with db.session() as session:
        already = session.scalar(
            select(func.count()).select_from(StoredPerson).where(StoredPerson.platform == PLATFORM)
        )
    if already:
        # A second run would re-enrol the same people and mix both runs into one report.
        db.dispose()
        raise SimulationError(
            f"{db_url}: the store already holds a simulation ({already} simulated people); "
            "give a new --db (or delete that one) to simulate again"
        )
    library = CourseLibrary(settings.content_dir)
    problems = library.reload()
    if problems:
        from quizzes.loader import ContentError

        raise ContentError(problems)
    course = library.course
    unknown = sorted(set(weak_lessons) - {lesson_id for lesson_id, _ in course.lessons})
    if unknown:
        raise SimulationError(f"--weak-lesson: no lesson {', '.join(unknown)} in the course")
    clock = FakeClock(start)
    bot = TrainBot(settings=sim_settings, db=db, library=library, clock=clock)
    outbox = _Outbox(clock)
    dispatcher = Dispatcher(
        db=db,
        library=library,
        settings=sim_settings,
        clock=clock,
        outbound={PLATFORM: outbox},
        limiters={PLATFORM: RateLimiter()},
    )
    tracks = sorted(course.tracks, key=lambda track_id: course.tracks[track_id].level)
    weak = frozenset(weak_lessons)
    people = make_learners(learners, seed, tracks, days, weak)
    first_day = start.astimezone(zone).date()
    fired: list[Fired] = []
    rules_at = _next_rules_run(start, zone)
    daily: dict[str, dict[str, dict[str, float]]] = {}  # day -> lesson -> user -> recall
    rng = random.Random(seed + 1)
    by_id = {learner.user_id: learner for learner in people}
    feedback = _Feedback(seed, zone, by_id)
    for learner in people:
        await _enrol(bot, learner, course)
    managers = {team: f"{PLATFORM}lead{index + 1}" for index, team in enumerate(_teams(people))}
    for manager in managers.values():
        await bot.handle(Command(_who(manager), Conversation(PLATFORM, manager), "start"))
    subjects = _assign_teams(db, people, managers, clock.now(), settings.timezone)

    # (when, user, reply, the reply's message ref) answers to give
    pending: list[tuple[datetime, str, Any, str]] = []
    seen_messages = 0
    quiz_pushes: dict[str, list[datetime]] = defaultdict(list)
    while clock.now() < end:
        if clock.now() >= rules_at:  # the scheduler's nightly practice job
            if practice:
                with db.session() as session:
                    fired += run_rules(session, course, now=clock.now(), zone=zone)
            rules_at = _next_rules_run(rules_at + timedelta(hours=1), zone)
            if weak:  # the weak lessons' true recall, each day at the job's time
                day = clock.now().astimezone(zone).date().isoformat()
                daily[day] = _weak_recall(course, weak, people, clock.now())
        await dispatcher.tick()
        for number, (chat_id, moment, reply) in enumerate(
            outbox.sent[seen_messages:], start=seen_messages + 1
        ):
            ref = f"{chat_id}:{number}"  # what the outbox returned for it
            payloads = [button.payload for row in reply.buttons for button in row]
            if chat_id not in by_id:  # a manager: an observation checklist
                if any(payload.startswith("ob:") for payload in payloads):
                    feedback.tally.observations_sent += 1
                    draw = feedback.rng("checklist", payloads[0].split(":")[1])
                    if draw.random() < OBSERVER_ANSWERS:
                        delay = timedelta(hours=draw.choice((1, 3, 6, 24)))
                        pending.append((moment + delay, chat_id, reply, ref))
                continue
            learner = by_id[chat_id]
            if payloads and payloads[0].startswith("ci:"):
                feedback.tally.checkins_sent += 1
                draw = feedback.rng("checkin", payloads[0].split(":")[1])
                if learner.around(moment, first_day) and draw.random() < learner.engagement:
                    delay = timedelta(minutes=draw.choice((5, 30, 120, 300)))
                    pending.append((moment + delay, chat_id, reply, ref))
            elif any(
                payload.startswith("qa:") or payload.startswith("qt:") for payload in payloads
            ):
                quiz_pushes[chat_id].append(moment)
                if learner.around(moment, first_day) and rng.random() < learner.engagement:
                    delay = timedelta(minutes=rng.choice((5, 20, 45, 90, 180, 300)))
                    pending.append((moment + delay, chat_id, reply, ref))
            elif (
                payloads
                and payloads[0].startswith("lg:")
                and learner.around(moment, first_day)
                and rng.random() < learner.reads_lessons
            ):
                pending.append((moment + timedelta(minutes=10), chat_id, reply, ref))
        seen_messages = len(outbox.sent)
        due = [item for item in pending if item[0] <= clock.now()]
        pending = [item for item in pending if item[0] > clock.now()]
        for _, chat_id, reply, ref in due:
            first = reply.buttons[0][0].payload if reply.buttons and reply.buttons[0] else ""
            if first.startswith("ob:"):
                await _observe(bot, chat_id, reply, ref, clock.now(), course, subjects, feedback)
            elif first.startswith("ci:"):
                await _check_in(bot, by_id[chat_id], reply, ref, clock.now(), course, feedback)
            else:
                await _respond(
                    bot, by_id[chat_id], reply, clock.now(), course, rng, feedback, true_effect
                )
        clock.advance(STEP)

    result = _summarise(db, course, sim_settings, people, outbox, start, end, days, seed)
    result.kpis = _simulate_kpis(db, _teams(people), start, end, settings.timezone, seed)
    trained = {(learner.user_id, lesson) for learner in people for lesson in learner.lessons_read}
    result.feedback = _feedback_figures(feedback.tally, trained)
    result.recall_fsrs = _mean_recall(people, end)
    result.true_effect = true_effect
    result.experiments = _experiment_figures(db, course, end, zone)
    result.weak_lessons = sorted(weak)
    result.practice = _practice_figures(db, course, fired, people, start, end)
    result.weak = _weak_figures(db, course, weak, people, end, zone, daily)
    baseline_people = make_learners(learners, seed, tracks, days, weak)
    for twin, learner in zip(baseline_people, people, strict=True):
        twin.lessons_read = dict(learner.lessons_read)  # the same lessons, read alike
    result.recall_baseline = _baseline(
        course, baseline_people, quiz_pushes, db, end, seed, first_day
    )
    db.dispose()
    if temporary is not None:
        temporary.cleanup()
    return result


KPI_METRIC = "retention_30d"
"""The simulated business KPI: each team's 30-day user retention, in percent."""
KPI_WEEKS_BEFORE = 6
"""Weeks of KPI values written before the simulated training starts (the "before")."""
KPI_UPLIFT = 2.0
"""Points the simulated KPI rises by in the weeks after training starts: a known effect
the report's business-impact section can be read against."""


def _simulate_kpis(
    db: Database, teams: list[str], start: datetime, end: datetime, timezone: str, seed: int
) -> dict[str, Any]:
    """Write a weekly business KPI per team, as ``trainbot kpis import`` would (level 3).

    Each team has its own level (62–70%) and weekly noise (sd 1 point); from the first
    full week of training on, the value is :data:`KPI_UPLIFT` points higher. The values
    cover :data:`KPI_WEEKS_BEFORE` weeks before the simulation and its weeks, so the
    report can set before against after. Every team trains from the same day, so there is
    no not-yet-trained team to compare with: the report says so instead of giving a
    difference in differences, which is the honest reading of such data.
    """
    rng = random.Random(seed + 7)
    weeks: list[str] = []
    moment = start - timedelta(weeks=KPI_WEEKS_BEFORE)
    while moment < end:
        label = week_of(moment, timezone)
        if label not in weeks:
            weeks.append(label)
        moment += timedelta(days=1)
    first_trained = week_of(start + timedelta(days=7), timezone)
    now = datetime.now(UTC)
    written = 0
    with db.session() as session:
        for name in teams:
            team = session.scalars(select(Team).where(Team.name == name)).one()
            level = rng.uniform(62.0, 70.0)
            for week in weeks:
                value = level + rng.gauss(0, 1.0) + (KPI_UPLIFT if week >= first_trained else 0)
                session.add(
                    KpiValue(
                        team_id=team.id,
                        week=week,
                        metric=KPI_METRIC,
                        value=round(value, 1),
                        unit="%",
                        direction="higher",
                        source="simulation",
                        imported_at=now,
                    )
                )
                written += 1
    return {
        "metric": KPI_METRIC,
        "teams": len(teams),
        "weeks": len(weeks),
        "values": written,
        "uplift": KPI_UPLIFT,
        "trained_from": first_trained,
    }


def _who(user_id: str) -> Person:
    return Person(PLATFORM, user_id, user_id, "zh-CN", None)


def _teams(people: list[Learner]) -> list[str]:
    return sorted({learner.team for learner in people})


async def _enrol(bot: TrainBot, learner: Learner, course: Any) -> None:
    who = _who(learner.user_id)
    conversation = Conversation(PLATFORM, learner.user_id)
    await bot.handle(Command(who, conversation, "start"))
    await bot.handle(ButtonPress(who, conversation, f"en:track:{learner.track}"))
    await bot.handle(ButtonPress(who, conversation, f"en:tz:{learner.zone}"))


def _assign_teams(
    db: Database, people: list[Learner], managers: dict[str, str], now: datetime, zone: str
) -> dict[int, str]:
    """Put the learners in their teams under their team's manager, as a roster would.

    Each manager is a stored person with the manager role and no track (so no weekly
    report counts them as a learner), who gets the observation checklists about their
    team (``people.manager_id``).

    Returns:
        The learners' stored ids -> their simulated user ids.
    """
    subjects: dict[int, str] = {}
    with db.session() as session:

        def stored(user_id: str) -> StoredPerson:
            return session.scalars(
                select(StoredPerson).where(
                    StoredPerson.platform == PLATFORM, StoredPerson.platform_user_id == user_id
                )
            ).one()

        teams: dict[str, Team] = {}
        leads: dict[str, StoredPerson] = {}
        for name in _teams(people):
            team = session.scalars(select(Team).where(Team.name == name)).one_or_none()
            if team is None:
                team = Team(name=name, created_at=now)
                session.add(team)
                session.flush()
            teams[name] = team
            lead = stored(managers[name])
            lead.role = Role.MANAGER
            lead.timezone = zone
            lead.enrollment_step = None  # a manager chooses no track
            lead.updated_at = now
            leads[name] = lead
        for learner in people:
            person = stored(learner.user_id)
            person.region = REGIONS.get(learner.zone)
            person.team_id = teams[learner.team].id
            person.manager_id = leads[learner.team].id
            person.updated_at = now  # dates the team change in the membership history
            subjects[person.id] = learner.user_id
    return subjects


async def _respond(
    bot: TrainBot,
    learner: Learner,
    reply: Any,
    now: datetime,
    course: Any,
    rng: random.Random,
    feedback: _Feedback,
    true_effect: float = 0.0,
) -> None:
    """Answer a pushed lesson or quiz the way a person would, through the real handler."""
    who = Person(PLATFORM, learner.user_id, learner.user_id, "zh-CN", None)
    conversation = Conversation(PLATFORM, learner.user_id)
    payloads = [button.payload for row in reply.buttons for button in row]
    delivery_id = int(payloads[0].split(":")[1])
    with bot.ctx.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        if (
            delivery is None
            or delivery.status is not DeliveryStatus.SENT
            or delivery.item_id is None
        ):
            return
        item_id = delivery.item_id
        language = delivery.language or "zh"
    if payloads[0].startswith("lg:"):
        learner.lessons_read.setdefault(item_id, now)
        for answer in await bot.handle(ButtonPress(who, conversation, payloads[0])):
            await _rate(bot, learner, answer, now, course, item_id, language, feedback)
        return
    question = course.question(item_id, language)
    if question is None:  # taken out of the bank since it was sent
        return
    odds = learner.recall(question, now)
    if true_effect and _treated(bot, learner, course):
        odds = min(1.0, max(0.0, odds + true_effect))
    recalled = rng.random() < odds
    chosen = list(question.answer) if recalled else guess(question, rng)
    if payloads[0].startswith("qt:"):
        for key in chosen:
            await bot.handle(ButtonPress(who, conversation, f"qt:{delivery_id}:{key}"))
        await bot.handle(ButtonPress(who, conversation, f"qs:{delivery_id}"))
    else:
        await bot.handle(ButtonPress(who, conversation, f"qa:{delivery_id}:{chosen[0]}"))
    learner.learn(question.id, recalled, now)


def _questions_of(course: Course, lesson_id: str, language: str) -> list[Question]:
    """A lesson's published questions in ``language`` (else the other language)."""
    return [
        question
        for question_id in course.question_ids(lesson_id)
        if (question := course.question(question_id, language)) is not None
    ]


def _treated(bot: TrainBot, learner: Learner, course: Course) -> bool:
    """Whether the learner is in a variant other than the control (of the first running
    experiment that assigned them); remembered once they are assigned."""
    if learner.treated is not None:
        return learner.treated
    with bot.ctx.db.session() as session:
        person = session.scalars(
            select(StoredPerson).where(
                StoredPerson.platform == PLATFORM,
                StoredPerson.platform_user_id == learner.user_id,
            )
        ).one()
        for experiment in course.experiments.values():
            variant = assigned_variant(session, experiment, person)
            if variant is not None:
                learner.treated = variant != experiment.variants[0].id
                return learner.treated
    return False


def _next_rules_run(after: datetime, zone: ZoneInfo) -> datetime:
    """The first 03:45 (organisation time) at or after ``after``: the practice job's time."""
    local = after.astimezone(zone)
    moment = datetime.combine(local.date(), RULES_AT, tzinfo=zone)
    if moment < local:
        moment = datetime.combine(local.date() + timedelta(days=1), RULES_AT, tzinfo=zone)
    return moment.astimezone(UTC)


def _experiment_figures(
    db: Database, course: Course, end: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    """Each experiment of the course as ``trainbot experiments report`` reads it at the end."""
    today = (end - timedelta(seconds=1)).astimezone(zone).date()
    figures: dict[str, Any] = {}
    with db.session() as session:
        for experiment_id, experiment in sorted(course.experiments.items()):
            result = evaluate(session, course, experiment, today=today, zone=zone)
            figures[experiment_id] = experiment_dict(result)
            # Each variant's spread between people: with the differences seen, the size a
            # test needs (the benchmark's pilots read it).
            outcomes: dict[str, list[float]] = defaultdict(list)
            for arm, value in person_outcomes(session, course, experiment, zone=zone).values():
                outcomes[arm].append(value)
            figures[experiment_id]["spread"] = {
                arm: statistics.pstdev(values) for arm, values in outcomes.items() if values
            }
    return figures


def _practice_figures(
    db: Database,
    course: Course,
    fired: list[Fired],
    people: list[Learner],
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """Each rule that fired: its evidence, its targets' accuracy on the lesson before and
    since (as the report counts it), and their true recall of its questions at the end."""
    with db.session() as session:
        found = {
            effect.firing.id: effect for effect in effects(session, course, since=start, now=end)
        }
        targets: dict[int, list[str]] = defaultdict(list)
        for firing_id, user_id in session.execute(
            select(PracticeTarget.firing_id, StoredPerson.platform_user_id).join(
                StoredPerson, StoredPerson.id == PracticeTarget.person_id
            )
        ).all():
            targets[int(firing_id)].append(str(user_id))
    by_id = {learner.user_id: learner for learner in people}
    figures = []
    for item in fired:
        effect = found.get(item.firing_id)
        questions = set(course.question_ids(item.lesson_id))
        recall = [
            by_id[user_id].memory(question_id, end)
            for user_id in targets[item.firing_id]
            if user_id in by_id
            for question_id in questions
            if question_id in by_id[user_id].stability
        ]
        figures.append(
            {
                "rule": item.rule_id,
                "track": item.track_id,
                "lesson": item.lesson_id,
                "fired_at": effect.firing.fired_at.isoformat() if effect else None,
                "accuracy": round(item.accuracy, 4),
                "answers": item.answers,
                "mark": item.mark,
                "targets": sorted(targets[item.firing_id]),
                "before": effect.before if effect else None,
                "after": effect.after if effect else None,
                "answers_after": effect.answers_after if effect else 0,
                "recall_at_end": round(statistics.fmean(recall), 4) if recall else None,
            }
        )
    return figures


def _weak_recall(
    course: Course, weak: frozenset[str], people: list[Learner], moment: datetime
) -> dict[str, dict[str, float]]:
    """Per weak lesson, each learner of its track's true chance to recall its questions at
    ``moment`` (the mean over the questions)."""
    found: dict[str, dict[str, float]] = {}
    for lesson_id in sorted(weak):
        questions = _questions_of(course, lesson_id, "zh")
        tracks = {
            track_id for track_id in course.tracks if lesson_id in course.lesson_ids(track_id)
        }
        found[lesson_id] = {
            learner.user_id: round(
                statistics.fmean(learner.recall(question, moment) for question in questions), 4
            )
            for learner in people
            if learner.track in tracks and questions
        }
    return found


def _weak_figures(
    db: Database,
    course: Course,
    weak: frozenset[str],
    people: list[Learner],
    end: datetime,
    zone: ZoneInfo,
    daily: dict[str, dict[str, dict[str, float]]],
) -> dict[str, Any]:
    """Per weak lesson: the answers to its questions week by week (all, first tries or not)
    and each learner of its track's true chance to recall them (the mean over its
    questions) at the end and on each simulated day at 03:45, to compare runs with and
    without the practice rules."""
    figures: dict[str, Any] = {}
    at_end = _weak_recall(course, weak, people, end)
    for lesson_id in sorted(weak):
        with db.session() as session:
            rows = session.execute(
                select(Attempt.answered_at, Attempt.correct).where(
                    Attempt.question_id.in_(course.question_ids(lesson_id))
                )
            ).all()
        weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for answered_at, correct in rows:
            counts = weeks[week_of(answered_at, zone.key)]
            counts[0] += 1
            counts[1] += int(correct)
        figures[lesson_id] = {
            "weeks": dict(sorted(weeks.items())),
            "recall": at_end[lesson_id],
            "daily_recall": {day: found[lesson_id] for day, found in sorted(daily.items())},
        }
    return figures


def _applied(
    learner: Learner, lesson_id: str, now: datetime, course: Any, feedback: _Feedback
) -> bool:
    """Whether the learner applied the lesson at work: decided once, the first time asked.

    The chance grows with their recall of the lesson's questions at that moment (one
    cannot apply what one has forgotten) and with how readily they apply what they learn.
    """
    if lesson_id not in learner.applied:
        questions = _questions_of(course, lesson_id, "zh")
        recall = (
            sum(learner.recall(question, now) for question in questions) / len(questions)
            if questions
            else 0.5
        )
        draw = feedback.rng("applies", learner.user_id, lesson_id)
        learner.applied[lesson_id] = applies_lesson(learner.voice, recall, draw)
    return learner.applied[lesson_id]


async def _check_in(
    bot: TrainBot,
    learner: Learner,
    reply: Reply,
    ref: str,
    now: datetime,
    course: Any,
    feedback: _Feedback,
) -> None:
    """Answer an application check-in honestly, and perhaps reply with an example."""
    payload = decode(reply.buttons[0][0].payload)
    if not isinstance(payload, CheckinAnswer):
        return
    with bot.ctx.db.session() as session:
        delivery = session.get(Delivery, payload.delivery_id)
        lesson_id = delivery.item_id if delivery is not None else None
    if lesson_id is None:
        return
    draw = feedback.rng("checkin answer", payload.delivery_id)
    answer = checkin_reply(learner.voice, _applied(learner, lesson_id, now, course, feedback), draw)
    who, conversation = _who(learner.user_id), Conversation(PLATFORM, learner.user_id)
    tapped = CheckinAnswer(payload.delivery_id, answer.value).encode()
    await bot.handle(ButtonPress(who, conversation, tapped, message_ref=ref))
    feedback.tally.answered(learner.user_id, lesson_id, answer)
    text = feedback_example(learner.voice, answer, draw)
    if text is not None:
        await bot.handle(Text(who, conversation, text, reply_to=ref))
        feedback.tally.examples += 1


async def _observe(
    bot: TrainBot,
    manager: str,
    reply: Reply,
    ref: str,
    now: datetime,
    course: Any,
    subjects: dict[int, str],
    feedback: _Feedback,
) -> None:
    """A manager answers every row of an observation checklist about one of their team.

    What they answer follows whether the person applied the lesson, with noise: a
    manager sees part of a person's work only.
    """
    rows = sorted(
        {
            payload.index: payload
            for row in reply.buttons
            for button in row
            if isinstance(payload := decode(button.payload), ObservationAnswer)
        }.items()
    )
    if not rows:
        return
    with bot.ctx.db.session() as session:
        delivery = session.get(Delivery, rows[0][1].delivery_id)
        checklist = dict(delivery.selection or {}) if delivery is not None else {}
    lessons = checklist.get("lessons") or []
    learner = feedback.learners.get(subjects.get(int(checklist.get("subject") or 0), ""))
    if learner is None:
        return
    who, conversation = _who(manager), Conversation(PLATFORM, manager)
    for index, payload in rows:
        if index >= len(lessons):
            continue
        lesson_id = str(lessons[index])
        answer = observation_reply(
            _applied(learner, lesson_id, now, course, feedback),
            feedback.rng("observation", payload.delivery_id, index),
        )
        tapped = ObservationAnswer(payload.delivery_id, index, answer.value).encode()
        await bot.handle(ButtonPress(who, conversation, tapped, message_ref=ref))
        feedback.tally.answered(learner.user_id, lesson_id, answer)


async def _rate(
    bot: TrainBot,
    learner: Learner,
    reply: Reply,
    now: datetime,
    course: Any,
    lesson_id: str,
    language: str,
    feedback: _Feedback,
) -> None:
    """Rate the lesson if ``reply`` is a survey prompt and the learner cares to, and
    perhaps comment by replying to the rated message, through the real handlers."""
    surveys = [
        decoded
        for row in reply.buttons
        for button in row
        if isinstance(decoded := decode(button.payload), SurveyRating)
    ]
    if not surveys:
        return
    tally, voice = feedback.tally, learner.voice
    tally.asked += 1
    draw = feedback.rng("survey", surveys[0].survey_id)
    if draw.random() >= voice.rates:
        return  # most people leave some surveys unrated
    questions = _questions_of(course, lesson_id, language)
    given = feedback_rating(voice, learner.understanding(questions), draw)
    who = Person(PLATFORM, learner.user_id, learner.user_id, "zh-CN", None)
    conversation = Conversation(PLATFORM, learner.user_id)
    ref = feedback.ref(learner.user_id)
    rated = SurveyRating(surveys[0].survey_id, given).encode()
    await bot.handle(ButtonPress(who, conversation, rated, message_ref=ref))
    tally.rate(feedback.week(now), given)
    written = feedback_comment(voice, given, draw)
    if written is not None:
        tone, text = written
        await bot.handle(Text(who, conversation, text, reply_to=ref))
        tally.comments[tone] += 1


def _mean_recall(people: list[Learner], end: datetime) -> float:
    values = [
        learner.memory(question_id, end) for learner in people for question_id in learner.stability
    ]
    return sum(values) / len(values) if values else 0.0


def _baseline(
    course: Any,
    people: list[Learner],
    quiz_pushes: dict[str, list[datetime]],
    db: Database,
    end: datetime,
    seed: int,
    first_day: date,
) -> float:
    """Fixed rotation at the same push times: cycle through delivered lessons' questions."""
    rng = random.Random(seed + 2)
    with db.session() as session:
        lessons = session.execute(
            select(StoredPerson.platform_user_id, Delivery.sent_at, Delivery.item_id)
            .join(StoredPerson, StoredPerson.id == Delivery.person_id)
            .where(Delivery.kind == DeliveryKind.LESSON, Delivery.sent_at.is_not(None))
        ).all()
    delivered: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for user_id, sent_at, lesson_id in lessons:
        if sent_at is not None and lesson_id is not None:
            delivered[user_id].append((sent_at, lesson_id))
    for learner in people:
        position = 0
        for moment in sorted(quiz_pushes.get(learner.user_id, [])):
            known = [
                lesson for sent, lesson in sorted(delivered[learner.user_id]) if sent <= moment
            ]
            pool = [question_id for lesson in known for question_id in course.question_ids(lesson)]
            if not pool or not learner.around(moment, first_day):
                continue
            if rng.random() >= learner.engagement:
                continue
            question = course.question(pool[position % len(pool)], "zh")
            position += 1
            answered_at = moment + timedelta(minutes=rng.choice((5, 20, 45, 90, 180, 300)))
            recalled = rng.random() < learner.recall(question, answered_at)
            learner.learn(question.id, recalled, answered_at)
    return _mean_recall(people, end)


def _summarise(
    db: Database,
    course: Course,
    settings: Settings,
    people: list[Learner],
    outbox: _Outbox,
    start: datetime,
    end: datetime,
    days: int,
    seed: int,
) -> SimulationResult:
    org_zone = ZoneInfo(settings.timezone)
    # Managers (observation checklists) are in the organisation's zone and on no track.
    zones: dict[str, ZoneInfo] = defaultdict(lambda: org_zone)
    zones.update({learner.user_id: ZoneInfo(learner.zone) for learner in people})
    tracks: dict[str, str | None] = defaultdict(lambda: None)
    tracks.update({learner.user_id: learner.track for learner in people})
    quiet = settings.quiet
    quiet_pushes = blackout_pushes = 0
    per_delivery: Counter[str] = Counter()
    for chat_id, moment, reply in outbox.sent:
        local = moment.astimezone(zones[chat_id])
        if quiet is not None and quiet.contains(local.time()):
            quiet_pushes += 1
        if course.calendar.blackout_on(local.date(), tracks[chat_id]) is not None:
            blackout_pushes += 1
        payloads = [button.payload for row in reply.buttons for button in row]
        if payloads and payloads[0].split(":")[0] in ("qa", "qt", "lg", "ci", "ob"):
            per_delivery[payloads[0].split(":")[1]] += 1
    duplicates = sum(count - 1 for count in per_delivery.values() if count > 1)
    weeks: dict[str, dict[str, int]] = defaultdict(
        lambda: {"quizzes": 0, "answered": 0, "correct": 0, "lessons": 0}
    )
    with db.session() as session:
        rows = session.execute(
            select(Delivery.kind, Delivery.status, Delivery.sent_at).where(
                Delivery.sent_at.is_not(None)
            )
        ).all()
        for kind, status, sent_at in rows:
            assert sent_at is not None
            iso = sent_at.astimezone(org_zone).isocalendar()
            week = weeks[f"{iso.year}-W{iso.week:02d}"]
            if kind is DeliveryKind.QUIZ:
                week["quizzes"] += 1
                week["answered"] += status is DeliveryStatus.ANSWERED
            elif kind is DeliveryKind.LESSON:
                week["lessons"] += 1
        attempts = session.execute(
            select(Attempt.correct, Attempt.answered_at, Attempt.question_id)
        ).all()
        for correct, answered_at, _ in attempts:
            iso = answered_at.astimezone(org_zone).isocalendar()
            weeks[f"{iso.year}-W{iso.week:02d}"]["correct"] += int(correct)
        kinds = Counter(kind for kind, _, _ in rows)
    correct_total = sum(int(correct) for correct, _, _ in attempts)
    # Chance level over the questions actually answered: what blind guessing would score.
    answered = (course.question(question_id, "zh") for _, _, question_id in attempts)
    guessed = [chance(question) for question in answered if question is not None]
    habits = {learner.user_id: learner.habit for learner in people}
    return SimulationResult(
        learners=len(people),
        days=days,
        seed=seed,
        timezone=settings.timezone,
        start=start.isoformat(),
        end=end.isoformat(),
        deliveries=len(rows),
        lessons=kinds[DeliveryKind.LESSON],
        quizzes=kinds[DeliveryKind.QUIZ],
        attempts=len(attempts),
        accuracy=round(correct_total / len(attempts), 4) if attempts else 0.0,
        chance=round(sum(guessed) / len(guessed), 4) if guessed else 0.0,
        duplicates=duplicates,
        quiet_hour_pushes=quiet_pushes,
        blackout_pushes=blackout_pushes,
        recall_fsrs=0.0,
        recall_baseline=0.0,
        habits={habit: sum(1 for h in habits.values() if h == habit) for habit in HABITS},
        weeks=dict(sorted(weeks.items())),
        report={
            week: _week_figures(db, course, settings, week, end, habits) for week in sorted(weeks)
        },
    )


def _week_figures(
    db: Database,
    course: Course,
    settings: Settings,
    week: str,
    end: datetime,
    habits: dict[str, str],
) -> WeekFigures:
    """A simulated week as the weekly report computes it, so the demo shows its numbers."""
    summary = build_summary(
        db,
        course,
        week=week,
        timezone=settings.timezone,
        now=end,  # a week the simulation stopped inside is in progress
        admitted=admitted_people(settings),
        working_days=settings.working_days,
    )
    people = summary.people or []
    following = {item.person_id for item in summary.follow_up}
    total = summary.total.this_week
    rated = summary.satisfaction.total.this_week if summary.satisfaction is not None else None

    def rows(
        key: Callable[[PersonWeek], str], order: Sequence[str] | None = None
    ) -> list[GroupRow]:
        groups: dict[str, list[PersonWeek]] = defaultdict(list)
        for person in people:
            groups[key(person)].append(person)
        names = [name for name in order if name in groups] if order else sorted(groups)
        return [_group_row(name, groups[name], following) for name in names]

    return WeekFigures(
        in_progress=summary.in_progress,
        people=total.enrolled,
        active=total.active,
        quizzes_sent=total.quizzes_delivered,
        quizzes_answered=total.quizzes_answered,
        correct=total.correct,
        accuracy=_fraction(total.correct, total.attempts),
        follow_up=len(summary.follow_up),
        application=_application_at(
            db, settings, min(iso_week_window(week, settings.timezone)[1], end)
        ),
        ratings=rated.count if rated is not None else 0,
        mean_rating=round(rated.mean, 4) if rated is not None and rated.mean is not None else None,
        teams=rows(lambda person: person.team),
        tracks=rows(lambda person: person.track or ""),
        habits=rows(lambda person: habits.get(person.name, ""), HABITS),
    )


def _application_at(db: Database, settings: Settings, until: datetime) -> dict[str, int]:
    """People × lessons trained, reported on and reported applying, as the store says."""
    with db.session() as session:
        cells = application_cells(session, until=until, admitted=admitted_people(settings))
    total = totals(cells)
    return {"trained": total.trained, "reported": total.reported, "applying": total.applying}


def _feedback_figures(tally: FeedbackTally, trained: set[tuple[str, str]]) -> dict[str, Any]:
    """What the simulated people answered, as the simulation counted it (JSON-ready).

    Args:
        tally: the answers.
        trained: the (learner, lesson) pairs whose lesson was completed.
    """
    mean, share = tally.mean_rating, tally.applied_share
    return {
        "surveys_asked": tally.asked,
        "ratings": tally.rated,
        "mean_rating": round(mean, 4) if mean is not None else None,
        "comments": dict(tally.comments),
        "weeks": dict(sorted(tally.weeks.items())),
        "checkins_sent": tally.checkins_sent,
        "checkins_answered": tally.checkins_answered,
        "checkin_answers": dict(tally.checkin_answers),
        "checkin_applied_share": round(share, 4) if share is not None else None,
        "examples": tally.examples,
        "observations_sent": tally.observations_sent,
        "observation_answers": dict(tally.observation_answers),
        "application": tally.application(trained),
    }


def _group_row(name: str, people: list[PersonWeek], following: set[int]) -> GroupRow:
    attempts = sum(person.attempts for person in people)
    correct = sum(person.correct for person in people)
    streaks = [person.streak for person in people if person.streak is not None]
    return GroupRow(
        name=name,
        people=len(people),
        quizzes_sent=sum(person.quizzes_delivered for person in people),
        quizzes_answered=sum(person.quizzes_answered for person in people),
        correct=correct,
        accuracy=_fraction(correct, attempts),
        streak_median=float(statistics.median(streaks)) if streaks else None,
        follow_up=sum(1 for person in people if person.person_id in following),
    )


def _fraction(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def render_summary(
    result: SimulationResult, course: Course, language: str, db: str | None = None
) -> str:
    """The summary ``trainbot simulate`` prints: aligned plain-text tables in ``language``.

    A week table (as the weekly report counts each week), then the last week by team,
    track and habit, then the checks a demo must pass (accuracy above blind guessing,
    nothing sent twice, in quiet hours or in blackouts) and the end-of-run recall.

    Args:
        result: what :func:`simulate` returned.
        course: the course (track titles).
        language: ``zh`` or ``en``.
        db: the database the rows stayed in, to suggest the ``trainbot report`` command.
    """
    lines = [
        t(
            language,
            "sim_title",
            learners=result.learners,
            days=result.days,
            start=_local_day(result.start, result.timezone),
            end=_local_day(result.end, result.timezone, before=True),
            seed=result.seed,
        ),
        t(language, "sim_habits", **result.habits),
        "",
    ]
    week_rows = []
    for week, figures in result.report.items():
        label = t(language, "report_in_progress", week=week) if figures.in_progress else week
        week_rows.append(
            [
                label,
                str(figures.people),
                str(figures.active),
                f"{figures.quizzes_answered}/{figures.quizzes_sent}",
                percent(figures.accuracy),
                str(figures.follow_up),
                str(figures.ratings),
                _mean(figures.mean_rating),
                _applied_cell(figures.application),
            ]
        )
    lines += _aligned(list(_COLUMNS), week_rows, language)
    if result.report:
        week, figures = list(result.report.items())[-1]
        label = t(language, "report_in_progress", week=week) if figures.in_progress else week
        lines += ["", t(language, "sim_groups", week=label)]
        for first, groups, name in (
            ("sim_team", figures.teams, lambda key: key),
            ("sim_track", figures.tracks, lambda key: _track_name(course, key, language)),
            ("sim_habit", figures.habits, lambda key: t(language, f"sim_habit_{key}")),
        ):
            rows = [
                [
                    name(row.name),
                    str(row.people),
                    f"{row.quizzes_answered}/{row.quizzes_sent}",
                    percent(row.accuracy),
                    "—" if row.streak_median is None else f"{row.streak_median:g}",
                    str(row.follow_up),
                ]
                for row in groups
            ]
            lines += ["", *_aligned([first, *_GROUP_COLUMNS], rows, language)]
    lines += [
        "",
        t(
            language,
            "sim_accuracy_line",
            attempts=result.attempts,
            accuracy=f"{result.accuracy:.1%}",
            chance=f"{result.chance:.1%}",
        ),
        t(
            language,
            "sim_pushes",
            deliveries=result.deliveries,
            lessons=result.lessons,
            quizzes=result.quizzes,
            checkins=result.feedback.get("checkins_sent", 0),
            checklists=result.feedback.get("observations_sent", 0),
            duplicates=result.duplicates,
            quiet=result.quiet_hour_pushes,
            blackout=result.blackout_pushes,
        ),
        t(
            language,
            "sim_surveys",
            asked=result.feedback.get("surveys_asked", 0),
            rated=result.feedback.get("ratings", 0),
            mean=_mean(result.feedback.get("mean_rating")),
            comments=sum(result.feedback.get("comments", {}).values()),
            **result.feedback.get("comments", {}),
        ),
        t(
            language,
            "sim_application",
            sent=result.feedback.get("checkins_sent", 0),
            answered=result.feedback.get("checkins_answered", 0),
            applied=percent(result.feedback.get("checkin_applied_share")),
            not_relevant=result.feedback.get("checkin_answers", {}).get("not_relevant", 0),
            examples=result.feedback.get("examples", 0),
            checklists=result.feedback.get("observations_sent", 0),
            seen=result.feedback.get("observation_answers", {}).get("seen", 0),
            observed=sum(result.feedback.get("observation_answers", {}).values()),
        ),
        t(
            language,
            "sim_recall",
            fsrs=f"{result.recall_fsrs:.1%}",
            baseline=f"{result.recall_baseline:.1%}",
        ),
    ]
    if result.kpis:
        lines.append(
            t(
                language,
                "sim_kpis",
                metric=result.kpis["metric"],
                teams=result.kpis["teams"],
                weeks=result.kpis["weeks"],
                uplift=f"{result.kpis['uplift']:g}",
                week=result.kpis["trained_from"],
            )
        )
    lines += _experiment_lines(result, language)
    lines += _practice_lines(result, course, language)
    if db is not None and result.report:
        ended = [week for week, figures in result.report.items() if not figures.in_progress]
        lines.append(t(language, "sim_next", db=db, week=max(ended or result.report)))
    return "\n".join(lines) + "\n"


def _experiment_lines(result: SimulationResult, language: str) -> list[str]:
    """A line per experiment and variant compared with the control, with the verdict."""
    lines = []
    for experiment_id, figures in result.experiments.items():
        values = {variant["id"]: variant for variant in figures["variants"]}
        control = values[figures["control"]]
        verdicts = {item["variant"]: item["verdict"] for item in figures["verdicts"]}
        for arm in figures["comparisons"]:
            treated = values[arm["variant"]]
            lines.append(
                t(
                    language,
                    "sim_experiment",
                    id=experiment_id,
                    effect=f"{result.true_effect:+.0%}",
                    variant=arm["variant"],
                    treated=percent(treated["value"]),
                    control=figures["control"],
                    baseline=percent(control["value"]),
                    measured=f"{treated['measured']}/{control['measured']}",
                    p="—" if arm["adjusted_p"] is None else f"{arm['adjusted_p']:.3f}",
                    needed=arm["needed_per_variant"] or "—",
                    verdict=t(language, f"sim_verdict_{verdicts[arm['variant']]}"),
                )
            )
    return lines


def _practice_lines(result: SimulationResult, course: Course, language: str) -> list[str]:
    """A line per practice rule fired (or one saying none did, when lessons were weak)."""
    if not result.practice:
        return [t(language, "sim_practice_none")] if result.weak_lessons else []
    lines = []
    for item in result.practice:
        lesson = course.lesson(item["lesson"], language)
        fired = item["fired_at"]
        lines.append(
            t(
                language,
                "sim_practice",
                rule=item["rule"],
                lesson=lesson.title if lesson is not None else item["lesson"],
                day=_local_day(fired, result.timezone) if fired else "—",
                accuracy=percent(item["accuracy"]),
                answers=item["answers"],
                people=len(item["targets"]),
                before=percent(item["before"]),
                after=percent(item["after"]),
                after_n=item["answers_after"],
                recall=percent(item["recall_at_end"]),
            )
        )
    return lines


_COLUMNS = (
    "sim_week",
    "sim_people",
    "sim_active",
    "sim_answered",
    "sim_accuracy",
    "sim_follow_up",
    "sim_ratings",
    "sim_mean_rating",
    "sim_applied",
)
_GROUP_COLUMNS = ("sim_people", "sim_answered", "sim_accuracy", "sim_streak", "sim_follow_up")


def _applied_cell(application: dict[str, int]) -> str:
    """``applying/reported``, the application rate's two numbers (``—`` before any report)."""
    reported = application.get("reported", 0)
    return f"{application.get('applying', 0)}/{reported}" if reported else "—"


def _mean(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _local_day(moment: str, timezone: str, *, before: bool = False) -> str:
    """The organisation's date of an ISO moment; ``before``: of the instant just before."""
    local = datetime.fromisoformat(moment).astimezone(ZoneInfo(timezone))
    return (local - timedelta(microseconds=1) if before else local).date().isoformat()


def _track_name(course: Course, track_id: str, language: str) -> str:
    track = course.tracks.get(track_id)
    return str(track.title.get(language) or track_id) if track is not None else track_id


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _aligned(header_keys: list[str], rows: list[list[str]], language: str) -> list[str]:
    """A plain-text table: the first column left-aligned, the figures right-aligned."""
    header = [t(language, key) for key in header_keys]
    table = [header, *rows]
    widths = [max(_width(row[column]) for row in table) for column in range(len(header))]
    lines = []
    for row in table:
        cells = [row[0] + " " * (widths[0] - _width(row[0]))]
        cells += [
            " " * (widths[column] - _width(cell)) + cell
            for column, cell in enumerate(row[1:], start=1)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


__all__ = [
    "HABITS",
    "SimulationResult",
    "chance",
    "forgetting_curve",
    "guess",
    "make_learners",
    "render_summary",
    "simulate",
]
