"""``trainbot simulate``: weeks of learning in seconds, through the real code paths.

Simulated learners enrol with /start, receive pushes from the real dispatcher on a virtual
clock, and answer through the real button handler, so selection, grading and FSRS all run
as in production. Each learner has a memory model: the chance to recall a question is
``exp(-elapsed / stability)``; a review that succeeds multiplies the stability, a lapse
shrinks it, and seeing the explanation after a wrong answer re-teaches it.

At the end the learners' true recall of every question they were ever quizzed on is
measured, for our FSRS scheduling and for a fixed-rotation baseline that replays the same
learners (same seed), at the same push times, cycling through the questions of the
lessons delivered so far.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import TrainBot
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.events import ButtonPress, Command, Conversation, Person
from bot.library import CourseLibrary
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Attempt, Delivery, DeliveryKind, DeliveryStatus, Team
from bot.store.models import Person as StoredPerson

PLATFORM = "sim"
ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Asia/Singapore", "Europe/London", "America/New_York")
STEP = timedelta(minutes=15)


@dataclass
class Learner:
    """One simulated person and what they remember."""

    user_id: str
    zone: str
    track: str
    team: str
    ability: float  # 0..1: how fast memories strengthen
    engagement: float  # chance to answer a pushed quiz at all
    stability: dict[str, float] = field(default_factory=dict)  # question -> days
    last_seen: dict[str, datetime] = field(default_factory=dict)

    def recall(self, question_id: str, now: datetime) -> float:
        """Probability of recalling the answer now."""
        if question_id not in self.stability:
            return 0.35  # never taught by a quiz: partly known from the lesson
        days = (now - self.last_seen[question_id]).total_seconds() / 86400
        return math.exp(-days / self.stability[question_id])

    def learn(self, question_id: str, correct: bool, now: datetime) -> None:
        """Update memory after answering and reading the explanation."""
        current = self.stability.get(question_id)
        if current is None:
            updated = 0.8 + 1.5 * self.ability if correct else 0.5
        elif correct:
            # Spacing effect: a successful recall after a longer gap strengthens more.
            gap = (now - self.last_seen[question_id]).total_seconds() / 86400
            updated = current * (1.6 + 1.4 * self.ability) * (1 + min(gap / current, 2) * 0.3)
        else:
            updated = max(0.4, current * 0.45)
        self.stability[question_id] = updated
        self.last_seen[question_id] = now


def make_learners(count: int, seed: int, tracks: list[str]) -> list[Learner]:
    """Deterministic learners for a seed."""
    rng = random.Random(seed)
    learners = []
    for index in range(count):
        track = tracks[0] if rng.random() < 0.7 or len(tracks) == 1 else tracks[1]
        learners.append(
            Learner(
                user_id=f"sim{index + 1:04d}",
                zone=rng.choice(ZONES),
                track=track,
                team=f"Team {'ABC'[index % 3]}",
                ability=rng.uniform(0.2, 0.9),
                engagement=rng.uniform(0.75, 0.98),
            )
        )
    return learners


@dataclass
class SimulationResult:
    """What ``trainbot simulate`` prints."""

    learners: int
    days: int
    start: str
    end: str
    deliveries: int
    lessons: int
    quizzes: int
    attempts: int
    accuracy: float
    duplicates: int
    quiet_hour_pushes: int
    blackout_pushes: int
    recall_fsrs: float
    recall_baseline: float
    weeks: dict[str, dict[str, int]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


class _Outbox:
    """In-memory outbound port that also remembers when each message was sent."""

    platform = PLATFORM

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[str, datetime, Any]] = []

    async def send(self, conversation: Conversation, reply: Any) -> str | None:
        self.sent.append((conversation.chat_id, self.clock.now(), reply))
        return f"{conversation.chat_id}:{len(self.sent)}"


async def simulate(
    settings: Settings,
    *,
    learners: int,
    days: int,
    seed: int,
    db_url: str | None = None,
    today: datetime | None = None,
) -> SimulationResult:
    """Run the simulation; the simulated period ends at the start of ``today`` (org time)."""
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
    library = CourseLibrary(settings.content_dir)
    problems = library.reload()
    if problems:
        from quizzes.loader import ContentError

        raise ContentError(problems)
    course = library.course
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
    people = make_learners(learners, seed, tracks)
    rng = random.Random(seed + 1)
    by_id = {learner.user_id: learner for learner in people}
    for learner in people:
        await _enrol(bot, learner, course)
    _assign_teams(db, people, clock.now())

    pending: list[tuple[datetime, str, Any]] = []  # (when, user, reply) answers to give
    seen_messages = 0
    quiz_pushes: dict[str, list[datetime]] = defaultdict(list)
    lesson_days: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    while clock.now() < end:
        await dispatcher.tick()
        for chat_id, moment, reply in outbox.sent[seen_messages:]:
            learner = by_id[chat_id]
            payloads = [button.payload for row in reply.buttons for button in row]
            if any(payload.startswith("qa:") or payload.startswith("qt:") for payload in payloads):
                quiz_pushes[chat_id].append(moment)
                if rng.random() < learner.engagement:
                    delay = timedelta(minutes=rng.choice((5, 20, 45, 90, 180, 300)))
                    pending.append((moment + delay, chat_id, reply))
            elif payloads and payloads[0].startswith("lg:"):
                lesson_days[chat_id].append((moment, payloads[0]))
                if rng.random() < 0.8:
                    pending.append((moment + timedelta(minutes=10), chat_id, reply))
        seen_messages = len(outbox.sent)
        due = [item for item in pending if item[0] <= clock.now()]
        pending = [item for item in pending if item[0] > clock.now()]
        for _, chat_id, reply in due:
            await _respond(bot, by_id[chat_id], reply, clock.now(), course, rng)
        clock.advance(STEP)

    result = _summarise(db, course, sim_settings, people, outbox, start, end, days)
    result.recall_fsrs = _mean_recall(people, end)
    result.recall_baseline = _baseline(
        course, make_learners(learners, seed, tracks), quiz_pushes, lesson_days, db, end, seed
    )
    db.dispose()
    if temporary is not None:
        temporary.cleanup()
    return result


async def _enrol(bot: TrainBot, learner: Learner, course: Any) -> None:
    who = Person(PLATFORM, learner.user_id, learner.user_id, "zh-CN", None)
    conversation = Conversation(PLATFORM, learner.user_id)
    await bot.handle(Command(who, conversation, "start"))
    await bot.handle(ButtonPress(who, conversation, f"en:track:{learner.track}"))
    await bot.handle(ButtonPress(who, conversation, f"en:tz:{learner.zone}"))


def _assign_teams(db: Database, people: list[Learner], now: datetime) -> None:
    with db.session() as session:
        teams: dict[str, Team] = {}
        for name in sorted({learner.team for learner in people}):
            team = session.scalars(select(Team).where(Team.name == name)).one_or_none()
            if team is None:
                team = Team(name=name, created_at=now)
                session.add(team)
                session.flush()
            teams[name] = team
        for learner in people:
            person = session.scalars(
                select(StoredPerson).where(
                    StoredPerson.platform == PLATFORM,
                    StoredPerson.platform_user_id == learner.user_id,
                )
            ).one()
            person.team_id = teams[learner.team].id
            person.updated_at = now  # dates the team change in the membership history


async def _respond(
    bot: TrainBot, learner: Learner, reply: Any, now: datetime, course: Any, rng: random.Random
) -> None:
    who = Person(PLATFORM, learner.user_id, learner.user_id, "zh-CN", None)
    conversation = Conversation(PLATFORM, learner.user_id)
    payloads = [button.payload for row in reply.buttons for button in row]
    if payloads[0].startswith("lg:"):
        await bot.handle(ButtonPress(who, conversation, payloads[0]))
        return
    delivery_id = int(payloads[0].split(":")[1])
    with bot.ctx.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        if (
            delivery is None
            or delivery.status is not DeliveryStatus.SENT
            or delivery.item_id is None
        ):
            return
        question = course.question(delivery.item_id, delivery.language or "zh")
    knows = rng.random() < learner.recall(question.id, now)
    if knows:
        chosen = list(question.answer)
    else:
        wrong = [key for key in question.keys if key not in question.answer]
        chosen = [rng.choice(wrong)] if wrong else [question.keys[0]]
    if payloads[0].startswith("qt:"):
        for key in chosen:
            await bot.handle(ButtonPress(who, conversation, f"qt:{delivery_id}:{key}"))
        await bot.handle(ButtonPress(who, conversation, f"qs:{delivery_id}"))
    else:
        await bot.handle(ButtonPress(who, conversation, f"qa:{delivery_id}:{chosen[0]}"))
    learner.learn(question.id, knows, now)


def _mean_recall(people: list[Learner], end: datetime) -> float:
    values = [
        learner.recall(question_id, end) for learner in people for question_id in learner.stability
    ]
    return sum(values) / len(values) if values else 0.0


def _baseline(
    course: Any,
    people: list[Learner],
    quiz_pushes: dict[str, list[datetime]],
    lesson_days: dict[str, list[tuple[datetime, str]]],
    db: Database,
    end: datetime,
    seed: int,
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
            if not pool or rng.random() >= learner.engagement:
                continue
            question_id = pool[position % len(pool)]
            position += 1
            answered_at = moment + timedelta(minutes=rng.choice((5, 20, 45, 90, 180, 300)))
            correct = rng.random() < learner.recall(question_id, answered_at)
            learner.learn(question_id, correct, answered_at)
    return _mean_recall(people, end)


def _summarise(
    db: Database,
    course: Any,
    settings: Settings,
    people: list[Learner],
    outbox: _Outbox,
    start: datetime,
    end: datetime,
    days: int,
) -> SimulationResult:
    zones = {learner.user_id: ZoneInfo(learner.zone) for learner in people}
    tracks = {learner.user_id: learner.track for learner in people}
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
        if payloads and payloads[0].split(":")[0] in ("qa", "qt", "lg"):
            per_delivery[payloads[0].split(":")[1]] += 1
    duplicates = sum(count - 1 for count in per_delivery.values() if count > 1)
    weeks: dict[str, dict[str, int]] = defaultdict(
        lambda: {"quizzes": 0, "answered": 0, "correct": 0, "lessons": 0}
    )
    org_zone = ZoneInfo(settings.timezone)
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
        attempts = session.execute(select(Attempt.correct, Attempt.answered_at)).all()
        for correct, answered_at in attempts:
            iso = answered_at.astimezone(org_zone).isocalendar()
            weeks[f"{iso.year}-W{iso.week:02d}"]["correct"] += int(correct)
        kinds = Counter(kind for kind, _, _ in rows)
    correct_total = sum(int(correct) for correct, _ in attempts)
    return SimulationResult(
        learners=len(people),
        days=days,
        start=start.isoformat(),
        end=end.isoformat(),
        deliveries=len(rows),
        lessons=kinds[DeliveryKind.LESSON],
        quizzes=kinds[DeliveryKind.QUIZ],
        attempts=len(attempts),
        accuracy=round(correct_total / len(attempts), 4) if attempts else 0.0,
        duplicates=duplicates,
        quiet_hour_pushes=quiet_pushes,
        blackout_pushes=blackout_pushes,
        recall_fsrs=0.0,
        recall_baseline=0.0,
        weeks=dict(sorted(weeks.items())),
    )


__all__ = ["SimulationResult", "simulate", "time"]
