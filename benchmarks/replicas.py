"""Replicas: 1, 2 and 4 real ``trainbot run`` processes on one PostgreSQL and one Chroma server.

Everything runs on this machine over loopback, as the deployment past one machine does
(docs/deploy.md): each replica is a ``python -m adapters run`` process in Slack HTTP mode on
a port of its own, the store is a PostgreSQL database, the Q&A index a version published in
it with its vectors on a ``chroma run`` server. Slack is the fake of the tests
(:mod:`tests.fake_slack`), which counts what a person would see and when.

Set-up, once: a database migrated and the sample course ingested and published into it
(``trainbot ingest`` with ``TRAINBOT_CHROMA_URL``). Then for each replica count a fresh copy
of that database (``CREATE DATABASE ... TEMPLATE``), so every run starts equal, and:

- **Pushes**: :data:`PEOPLE` Slack people enrolled at once and due a lesson (with the
  default times the quiz comes half an hour after the lesson, in a pass of its own); then
  :data:`PEOPLE_BOTH` due a lesson and a quiz at the same minute, whose second push waits
  out Slack's 1 message per second per conversation. Pushes per second are counted at the
  fake Slack from the first push to the last. Slack has no overall cap, so the first phase
  measures trainbot's dispatch and store, not a platform limit. Each person must get
  exactly their pushes, and the store must agree; a run that duplicates or loses one is
  reported as failed.
- **Slack events**: :data:`EVENTS` direct messages ("help") from distinct people, posted
  round-robin to the replicas as a load balancer would, :data:`EVENT_CONCURRENCY` in flight;
  the acknowledgement time of each POST, and events answered per second.
- **Questions**: :data:`QUESTIONS` course questions (English and Chinese, from
  ``benchmarks/eval/qa.yaml``) the same way, :data:`ASK_CONCURRENCY` in flight; from the
  POST to the answer arriving at the fake Slack.
- **Store load**: ``pg_stat_database`` of the run's database during each push phase.
- **Memory and index**: each replica's resident memory after the run, the published
  version's size and its vector count on the Chroma server.

Needs a PostgreSQL server: ``TRAINBOT_BENCH_POSTGRES_URL`` is an admin URL on which the
benchmark creates and drops its databases. Without it the section is skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import Engine, make_url

from benchmarks.machine import cpu_clock, describe_machine
from benchmarks.report import BUSY_NEIGHBOURS, replace_section
from bot.store.db import Database, normalise_url
from bot.store.models import Delivery, DeliveryStatus, IndexVersion, Person

if TYPE_CHECKING:
    from tests.fake_slack import FakeSlack
    from tests.test_exactly_once import BotProcess

from tests.chroma_server import ChromaServer, chroma_server, free_port

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ADMIN_ENV = "TRAINBOT_BENCH_POSTGRES_URL"
REPLICA_COUNTS = (1, 2, 4)
ROUNDS = 3
"""Each replica count runs this many times (on a fresh copy each); medians are quoted."""
PEOPLE = 6000
"""People due a lesson at once: twelve of the dispatcher's 500-person slices, so 1, 2 and 4
replicas get equal shares, and more than 10 s of pushing for one replica."""
PEOPLE_BOTH = 2000
"""People due a lesson and a quiz at the same minute (four slices)."""
EVENTS = 600
EVENT_CONCURRENCY = 32
QUESTIONS = 60
ASK_CONCURRENCY = 4
ACK_LIMIT_S = 3.0
"""Slack retries an event not acknowledged within 3 seconds."""
START_TIMEOUT_S = 300.0
PHASE_TIMEOUT_S = 300.0
QUIET_SHARE = 0.25
"""Before each run the benchmark waits for other work to use less than this share of the CPU..."""
QUIET_WAIT_S = 90.0
"""... for at most this long (the run goes ahead anyway, and the report says how busy it was)."""
IDLE_S = 5.0
"""How long the replicas idle, up, before the pushes: the store load of doing nothing."""
STATS_FLUSH_S = 1.5
"""PostgreSQL backends report their statistics at most once a second."""
REPORT_HEADING = "Replicas"
RAW = ROOT / "var" / "bench-replicas.json"
"""Every run's figures, replica logs' problems included, as the last run left them."""
COMMAND = (
    f"export {ADMIN_ENV}=postgresql://postgres@127.0.0.1:5432/postgres\n"
    'make bench BENCH_ARGS="--only replicas"   # writes var/benchmarks-partial.md; '
    "the raw figures go to var/bench-replicas.json"
)

_SENT = re.compile(r"dispatch: (\d+) claimed, (\d+) sent")

# -- pure helpers -----------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values
    at or below it (``share`` in 0..1).

    Raises:
        ValueError: for no values.
    """
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered) - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


STAT_COLUMNS = (
    "xact_commit",
    "xact_rollback",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "tup_fetched",
    "tup_returned",
)


@dataclass(frozen=True)
class StoreLoad:
    """What a database did between two readings of ``pg_stat_database``.

    Attributes:
        seconds: time between the readings.
        counts: the change of each of :data:`STAT_COLUMNS`.
    """

    seconds: float
    counts: dict[str, int]

    @property
    def transactions(self) -> int:
        """Commits and rollbacks."""
        return self.counts["xact_commit"] + self.counts["xact_rollback"]

    def per_second(self, column: str) -> float:
        """The change of ``column`` (or ``transactions``) per second."""
        value = self.transactions if column == "transactions" else self.counts[column]
        return value / self.seconds if self.seconds > 0 else 0.0


def store_load(
    before: dict[str, int],
    after: dict[str, int],
    seconds: float,
    *,
    less: dict[str, int] | None = None,
) -> StoreLoad:
    """The difference of two ``pg_stat_database`` readings, minus ``less`` (work the
    benchmark itself did in between, such as enrolling people)."""
    less = less or {}
    return StoreLoad(
        seconds,
        {
            column: max(0, after[column] - before[column] - less.get(column, 0))
            for column in STAT_COLUMNS
        },
    )


def resident_kib(status: str) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak) in KiB from the text of ``/proc/PID/status``."""
    found: dict[str, int] = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def sent_by_log(log: str) -> int:
    """Pushes a replica says it sent (the sum of its ``dispatch: ... sent`` lines)."""
    return sum(int(match.group(2)) for match in _SENT.finditer(log))


_STAMP = re.compile(r"^[\d\-: ,.]+")
_LIMITED = re.compile(r"\b429\b|rate.?limited", re.IGNORECASE)
_OVERLAP = "maximum number of running instances reached"
"""APScheduler's warning that a tick came while the last pass still ran: expected here."""


def log_problems(log: str) -> list[str]:
    """Warning, error and traceback lines of a replica's log, and any saying a platform
    limited its rate (not APScheduler's overlapping ticks)."""
    problems = []
    for line in log.splitlines():
        message = _STAMP.sub("", line)
        if _OVERLAP in message:
            continue
        if (
            "Traceback" in message
            or message.startswith(("ERROR", "WARNING", "CRITICAL"))
            or _LIMITED.search(message)
        ):
            problems.append(line)
    return problems


def overlapping_ticks(log: str) -> int:
    """Ticks skipped because the replica's pass was still running."""
    return log.count(_OVERLAP)


# -- the machinery --------------------------------------------------------------------------


@dataclass
class Phase:
    """Latencies of requests sent to the replicas and what reached the fake Slack."""

    sent: int = 0
    acks: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    bad_status: Counter[int] = field(default_factory=Counter)
    unanswered: int = 0
    duplicated: int = 0
    seconds: float = 0.0


@dataclass
class ReplicaRun:
    """One run with a number of replicas."""

    replicas: int
    round: int
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The push phases by kind: ``lesson`` (one push each) and ``both`` (lesson and quiz)."""
    exactly_once: bool = False
    busy_before: float = 0.0
    """Share of the CPU busy just before the run (other work on the machine)."""
    cpu_whole: dict[str, float] = field(default_factory=dict)
    """The same from the replicas' start to their stop."""
    overlapping_ticks: int = 0
    idle: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)
    asks: dict[str, Any] = field(default_factory=dict)
    first_asks_ms: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    start_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    failure: str | None = None


def _admin_engine(admin: str) -> Engine:
    return create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")


def _url_of(admin: str, database: str) -> str:
    return (
        make_url(normalise_url(admin)).set(database=database).render_as_string(hide_password=False)
    )


def _stats(engine: Engine, database: str) -> dict[str, int]:
    with engine.connect() as connection:
        row = connection.execute(
            text(f"SELECT {', '.join(STAT_COLUMNS)} FROM pg_stat_database WHERE datname = :name"),
            {"name": database},
        ).one()
    return {column: int(value) for column, value in zip(STAT_COLUMNS, row, strict=True)}


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far: the whole machine, and the processes of the run by group.

    Attributes:
        wall: monotonic time of the reading.
        busy: all CPUs together, busy since boot (``/proc/stat``).
        groups: by group (``replicas``, ``postgres``, ``benchmark``), process id -> seconds.
    """

    wall: float
    busy: float
    groups: dict[str, dict[int, float]]


def cpu_snapshot(replicas: Sequence[int], benchmark: Sequence[int]) -> CpuSnapshot:
    """Read the CPU clocks of the machine, ``replicas``, ``benchmark`` (this process and
    the Chroma server) and every PostgreSQL process."""
    busy = cpu_clock().busy or 0.0
    groups: dict[str, dict[int, float]] = {"replicas": {}, "postgres": {}, "benchmark": {}}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.find("(") + 1 : raw.rfind(")")]
        group = (
            "replicas"
            if pid in replicas
            else "benchmark"
            if pid in benchmark
            else "postgres"
            if name == "postgres"
            else None
        )
        if group is not None:
            fields = raw.rsplit(")", 1)[1].split()
            groups[group][pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return CpuSnapshot(time.monotonic(), busy, groups)


def cpu_shares(before: CpuSnapshot, after: CpuSnapshot, cores: int) -> dict[str, float]:
    """Shares of the machine's capacity between two snapshots, by group, and ``others``:
    processes that are not part of the run (other work on a shared machine)."""
    capacity = max(after.wall - before.wall, 1e-9) * cores
    shares: dict[str, float] = {}
    for group, now in after.groups.items():
        then = before.groups.get(group, {})
        used = sum(seconds - then.get(pid, 0.0) for pid, seconds in now.items())
        shares[group] = max(0.0, used) / capacity
    total = max(0.0, after.busy - before.busy) / capacity
    shares["others"] = max(0.0, total - sum(shares.values()))
    shares["total"] = total
    return shares


def _proc_memory(pid: int) -> dict[str, int]:
    try:
        return resident_kib(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return {}


def _questions(count: int) -> list[str]:
    """Answerable course questions, alternating English and Chinese."""
    data = yaml.safe_load((ROOT / "benchmarks" / "eval" / "qa.yaml").read_text(encoding="utf-8"))
    answerable = [q for q in data["questions"] if q.get("expected")]
    english = [q["question"] for q in answerable if q["language"] == "en"]
    chinese = [q["question"] for q in answerable if q["language"] == "zh"]
    mixed = [q for pair in zip(english, chinese, strict=False) for q in pair]
    return [mixed[n % len(mixed)] for n in range(count)]


def _replica_env(
    home: Path, course: Path, url: str, chroma: str, slack: FakeSlack, name: str
) -> tuple[dict[str, str], str]:
    """One replica's environment and the URL its Slack events arrive at."""
    from adapters.slack import EVENTS_PATH
    from tests.fake_slack import BOT_TOKEN

    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "HOME": str(home),
        "TRAINBOT_DATABASE_URL": url,
        "TRAINBOT_CHROMA_URL": chroma,
        "TRAINBOT_CONTENT_DIR": str(course),
        "TRAINBOT_INDEX_DIR": str(home / name / "index"),
        "TRAINBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "TRAINBOT_SLACK_SIGNING_SECRET": slack.signing_secret,
        "TRAINBOT_SLACK_API_URL": slack.api_url,
        "TRAINBOT_SLACK_PORT": str(port),
        "TRAINBOT_TIMEZONE": "UTC",
        "TRAINBOT_LANGUAGE": "en",
        "TRAINBOT_WORKING_DAYS": "mon,tue,wed,thu,fri,sat,sun",
        "TRAINBOT_QUIET_HOURS": "",
        "TRAINBOT_LESSON_TIME": "00:00",
        "TRAINBOT_QUIZ_TIME": "12:00",
        "TRAINBOT_REMINDER_HOURS": "0",
        # Every replica joins a pass within a second (the default is every 60 s).
        "TRAINBOT_DISPATCH_INTERVAL": "1",
    }
    for name_ in ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "OMP_WAIT_POLICY"):
        if name_ in os.environ:
            env[name_] = os.environ[name_]
    return env, f"http://127.0.0.1:{port}{EVENTS_PATH}"


def _enrol_on_slack(url: str, users: list[str], timezone: str) -> None:
    """People on Slack (by user id), enrolled now on the frontline track, in ``timezone``."""
    db = Database(url)
    now = datetime.now(UTC)
    rows = [
        {
            "platform": "slack",
            "platform_user_id": user,
            "display_name": user,
            "language": "en",
            "timezone": timezone,
            "track_id": "frontline",
            "role": "learner",
            "status": "active",
            "enrolled_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for user in users
    ]
    with db.session() as session:
        session.execute(insert(Person), rows)
    db.dispose()


def _sent_deliveries(url: str) -> int:
    db = Database(url)
    with db.session() as session:
        count = len(
            list(session.scalars(select(Delivery.id).where(Delivery.status == DeliveryStatus.SENT)))
        )
    db.dispose()
    return count


def _wait_for_quiet() -> float:
    """Wait (at most :data:`QUIET_WAIT_S`) until the machine's CPU is mostly free; the share
    of it busy in the last 3 s looked at."""
    deadline = time.monotonic() + QUIET_WAIT_S
    cores = describe_machine().usable_cores
    while True:
        before = cpu_clock()
        time.sleep(3)
        after = cpu_clock()
        busy = ((after.busy or 0.0) - (before.busy or 0.0)) / ((after.wall - before.wall) * cores)
        if busy < QUIET_SHARE or time.monotonic() > deadline:
            return busy


async def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


class _Posts:
    """When each post reached the fake Slack, by channel (wraps its ``chat.postMessage``)."""

    def __init__(self, slack: FakeSlack) -> None:
        self.times: dict[str, list[float]] = {}
        self.total = 0
        original = slack._chat_postMessage

        def recorded(params: dict[str, Any]) -> dict[str, Any]:
            result = original(params)
            if result.get("ok"):
                self.times.setdefault(str(result["channel"]), []).append(time.monotonic())
                self.total += 1
            return result

        slack._chat_postMessage = recorded  # type: ignore[method-assign]

    def count(self, channel: str) -> int:
        return len(self.times.get(channel, ()))


async def _post_events(
    targets: list[str],
    messages: list[tuple[str, str]],
    concurrency: int,
    posts: _Posts,
    *,
    answers_per_message: int,
) -> Phase:
    """Send a DM event per ``(user, text)`` round-robin to ``targets``, ``concurrency`` in
    flight, each waiting for its answer at the fake Slack before the next one goes."""
    import aiohttp

    from tests.fake_slack import dm_channel_of, event_envelope, json_body, signed_headers

    phase = Phase()
    queue = list(enumerate(messages))
    begun = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def worker() -> None:
            while queue:
                number, (user, words) = queue.pop(0)
                channel = dm_channel_of(user)
                seen = posts.count(channel)
                event = {
                    "type": "message",
                    "channel": channel,
                    "channel_type": "im",
                    "user": user,
                    "text": words,
                    "ts": f"{time.time():.6f}",
                }
                body = json_body(event_envelope(event))
                headers = signed_headers(body, content_type="application/json")
                started = time.monotonic()
                try:
                    async with session.post(
                        targets[number % len(targets)], data=body, headers=headers
                    ) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                phase.acks.append(time.monotonic() - started)
                phase.sent += 1
                if status != 200:
                    phase.bad_status[status] += 1
                    continue
                deadline = started + 60
                while posts.count(channel) < seen + answers_per_message:
                    if time.monotonic() > deadline:
                        phase.unanswered += 1
                        break
                    await asyncio.sleep(0.01)
                else:
                    phase.answers.append(posts.times[channel][seen] - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.seconds = time.monotonic() - begun
    return phase


def _latencies(phase: Phase) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sent": phase.sent,
        "answered": len(phase.answers),
        "unanswered": phase.unanswered,
        "bad_status": dict(phase.bad_status),
        "seconds": phase.seconds,
        "per_second": len(phase.answers) / phase.seconds if phase.seconds else 0.0,
        "late_acks": sum(1 for ack in phase.acks if ack > ACK_LIMIT_S),
    }
    if phase.acks:
        data |= {
            "ack_p50_ms": percentile(phase.acks, 0.5) * 1000,
            "ack_p99_ms": percentile(phase.acks, 0.99) * 1000,
            "ack_max_ms": max(phase.acks) * 1000,
        }
    if phase.answers:
        data |= {
            "answer_p50_ms": percentile(phase.answers, 0.5) * 1000,
            "answer_p95_ms": percentile(phase.answers, 0.95) * 1000,
            "answer_p99_ms": percentile(phase.answers, 0.99) * 1000,
        }
    return data


def _offset_zone(hour: int) -> str:
    """A time zone whose local time is now ``hour`` o'clock or a little after."""
    offset = (hour - datetime.now(UTC).hour) % 24
    if offset > 14:  # the zones run from UTC-12 to UTC+14
        offset -= 24
    # POSIX-style names: Etc/GMT-5 is five hours ahead of UTC.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


async def _push_phase(
    kind: str,
    people: int,
    each: int,
    *,
    url: str,
    engine: Engine,
    name: str,
    slack: FakeSlack,
    posts: _Posts,
    bots: list[BotProcess],
    pids: list[int],
    ours: list[int],
    cores: int,
) -> dict[str, Any]:
    """Enrol ``people`` due now, ``each`` pushes per person; wait for every push.

    The lesson comes at 00:00 and the quiz at 12:00 local time (:func:`_replica_env`), so
    people whose local time is 06:00 get the lesson alone and people at 18:00 get both.
    """
    from tests.fake_slack import dm_channel_of

    users = [f"U{kind.upper()}{n:06d}" for n in range(people)]
    for user in users:
        slack.add_user(user, user, locale="en-US")
    channels = [dm_channel_of(user) for user in users]
    sent_before = [sent_by_log(bot.log) for bot in bots]
    cpu_before = cpu_snapshot(pids, ours)
    before = _stats(engine, name)
    enrolled_at = time.monotonic()
    _enrol_on_slack(url, users, _offset_zone(6 if each == 1 else 18))
    expected = each * people
    delivered = lambda: sum(posts.count(c) for c in channels)  # noqa: E731
    result: dict[str, Any] = {"people": people, "each": each, "failure": None}
    try:
        await _wait(lambda: delivered() >= expected, PHASE_TIMEOUT_S, f"{expected} {kind} pushes")
    except TimeoutError as exc:
        result["failure"] = f"{exc} ({delivered()} arrived)"
        return result
    cpu_after = cpu_snapshot(pids, ours)
    times = [t for c in channels for t in posts.times.get(c, ())]
    await asyncio.sleep(STATS_FLUSH_S)
    load = store_load(
        before, _stats(engine, name), time.monotonic() - enrolled_at, less={"tup_inserted": people}
    )
    await asyncio.sleep(2)  # more passes of every replica: nothing more may go out
    counts = Counter(posts.count(c) for c in channels)
    pushes = sum(posts.count(c) for c in channels)
    if counts != Counter({each: people}):
        result["failure"] = f"not exactly once: people by pushes received {dict(counts)}"
    result |= {
        "pushes": pushes,
        "seconds": max(times) - min(times),
        "rate": pushes / (max(times) - min(times)),
        "sent_by_replica": [
            sent_by_log(bot.log) - then for bot, then in zip(bots, sent_before, strict=True)
        ],
        "cpu_by_replica": [
            cpu_after.groups["replicas"].get(pid, 0.0) - cpu_before.groups["replicas"].get(pid, 0.0)
            for pid in pids
        ],
        "cpu": cpu_shares(cpu_before, cpu_after, cores),
        "load": {
            "seconds": load.seconds,
            "counts": load.counts,
            "transactions": load.transactions,
            "transactions_per_s": load.per_second("transactions"),
            "transactions_per_push": load.transactions / max(pushes, 1),
            "inserted_per_push": load.counts["tup_inserted"] / max(pushes, 1),
            "updated_per_push": load.counts["tup_updated"] / max(pushes, 1),
            "fetched_per_push": load.counts["tup_fetched"] / max(pushes, 1),
        },
    }
    return result


async def _one_run(
    replicas: int,
    round_: int,
    *,
    admin: str,
    template: str,
    chroma: ChromaServer,
    course: Path,
    work: Path,
    people: int,
    people_both: int,
    events: int,
    questions: list[str],
) -> ReplicaRun:
    """``replicas`` replicas on a fresh copy of ``template``: pushes, events, questions."""
    from tests.fake_slack import FakeSlack, dm_channel_of
    from tests.test_exactly_once import BotProcess

    run = ReplicaRun(replicas, round_)
    name = f"trainbot_bench_{uuid.uuid4().hex[:10]}"
    engine = _admin_engine(admin)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = _url_of(admin, name)
    home = work / name
    home.mkdir()
    slack = FakeSlack()
    await slack.start()
    posts = _Posts(slack)
    bots: list[BotProcess] = []
    try:
        targets: list[str] = []
        began = time.monotonic()
        for number in range(replicas):
            env, target = _replica_env(home, course, url, chroma.url, slack, f"r{number}")
            bots.append(await BotProcess(env, home).start())
            targets.append(target)
        await _wait(
            lambda: (
                all("scheduler started" in bot.log for bot in bots)
                or any(
                    bot.process is not None and bot.process.returncode is not None for bot in bots
                )
            ),
            START_TIMEOUT_S,
            "the replicas to start",
        )
        for bot in bots:
            if "scheduler started" not in bot.log:
                raise RuntimeError(f"a replica did not start:\n{bot.log[-3000:]}")
        run.start_seconds = time.monotonic() - began
        pids = [bot.process.pid for bot in bots if bot.process is not None]
        ours = [os.getpid(), chroma.pid]
        cores = describe_machine().usable_cores
        whole_before = cpu_snapshot(pids, ours)

        # Idle: what the replicas cost the store doing nothing.
        await asyncio.sleep(STATS_FLUSH_S)
        before = _stats(engine, name)
        idle_began = time.monotonic()
        await asyncio.sleep(IDLE_S)
        idle = store_load(before, _stats(engine, name), time.monotonic() - idle_began)
        run.idle = {"seconds": idle.seconds, "transactions_per_s": idle.per_second("transactions")}

        # Pushes: a lesson pass (one push each), then a lesson and a quiz at once.
        for kind, count, each in (("lesson", people, 1), ("both", people_both, 2)):
            result = await _push_phase(
                kind,
                count,
                each,
                url=url,
                engine=engine,
                name=name,
                slack=slack,
                posts=posts,
                bots=bots,
                pids=pids,
                ours=ours,
                cores=cores,
            )
            run.phases[kind] = result
            if result["failure"] is not None:
                run.failure = f"{kind}: {result['failure']}"
                raise RuntimeError(run.failure)
        stored = _sent_deliveries(url)
        if stored != people + 2 * people_both:
            run.failure = f"{stored} delivery rows sent for {people + 2 * people_both} pushes"
            raise RuntimeError(run.failure)
        run.exactly_once = True

        # Slack events: "help" from people the bot has not met, round-robin.
        event_users = [f"UEVT{n:05d}" for n in range(events)]
        for user in event_users:
            slack.add_user(user, user, locale="en-US")
        phase = await _post_events(
            targets,
            [(user, "help") for user in event_users],
            EVENT_CONCURRENCY,
            posts,
            answers_per_message=1,
        )
        await asyncio.sleep(2)
        answers = Counter(posts.count(dm_channel_of(user)) for user in event_users)
        phase.duplicated = sum(n for count, n in answers.items() if count > min(answers))
        run.events = _latencies(phase) | {"posts_per_person": dict(answers)}

        # Questions from people met in the events phase (first contact done). Each
        # replica's first question is sent alone first and kept apart: it is slower.
        for number, target in enumerate(targets):
            warm = await _post_events(
                [target],
                [(event_users[-1 - number], questions[number % len(questions)])],
                1,
                posts,
                answers_per_message=1,
            )
            run.first_asks_ms += [answer * 1000 for answer in warm.answers]
        asked = event_users[: len(questions)]
        phase = await _post_events(
            targets,
            list(zip(asked, questions, strict=True)),
            ASK_CONCURRENCY,
            posts,
            answers_per_message=1,
        )
        run.asks = _latencies(phase)

        for bot in bots:
            if bot.process is not None:
                memory = _proc_memory(bot.process.pid)
                run.rss_mib.append(memory.get("VmRSS", 0) / 1024)
                run.peak_mib.append(memory.get("VmHWM", 0) / 1024)
        run.cpu_whole = cpu_shares(whole_before, cpu_snapshot(pids, ours), cores)
        run.overlapping_ticks = sum(overlapping_ticks(bot.log) for bot in bots)
        for bot in bots:
            bot.send_signal(signal.SIGTERM)
        for bot in bots:
            try:
                await bot.wait(60)
            except TimeoutError:
                run.problems.append("a replica did not stop within 60 s of SIGTERM")
        for bot in bots:
            run.problems += log_problems(bot.log)
    except Exception as exc:  # a failed run is reported, and the next one still runs
        run.failure = run.failure or f"{type(exc).__name__}: {exc}"
        for bot in bots:
            run.problems += log_problems(bot.log)
        logger.warning("replicas=%d round %d failed: %s", replicas, round_, exc)
    finally:
        for bot in bots:
            await bot.kill()
        await slack.stop()
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
    return run


def _ingest(course: Path, work: Path, url: str, chroma: str) -> tuple[float, str]:
    """Ingest and publish the sample course into ``url``; seconds taken and the summary."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "HOME": str(work),
        "TRAINBOT_DATABASE_URL": url,
        "TRAINBOT_CHROMA_URL": chroma,
        "TRAINBOT_CONTENT_DIR": str(course),
        "TRAINBOT_INDEX_DIR": str(work / "ingest-index"),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "adapters", "ingest"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or "published as index version" not in done.stdout + done.stderr:
        raise RuntimeError(f"the ingest failed:\n{(done.stdout + done.stderr)[-2000:]}")
    return time.monotonic() - started, (done.stdout + done.stderr).strip().splitlines()[-1]


def _index_facts(url: str, chroma: str) -> dict[str, Any]:
    import chromadb

    db = Database(url)
    with db.session() as session:
        version = session.scalars(select(IndexVersion).order_by(IndexVersion.id.desc())).first()
        assert version is not None
        facts: dict[str, Any] = {
            "version": version.id,
            "size": version.size,
            "collection": version.collection,
        }
    db.dispose()
    address = urlsplit(chroma)
    client = chromadb.HttpClient(host=address.hostname or "127.0.0.1", port=address.port or 8000)
    facts["vectors"] = client.get_collection(facts["collection"]).count()
    return facts


def run(
    *,
    counts: Sequence[int] = REPLICA_COUNTS,
    rounds: int = ROUNDS,
    people: int = PEOPLE,
    people_both: int = PEOPLE_BOTH,
    events: int = EVENTS,
    questions: int = QUESTIONS,
) -> dict[str, Any]:
    """Every replica count ``rounds`` times; the figures as plain data for the report."""
    machine = describe_machine()
    admin = os.environ.get(ADMIN_ENV)
    if not admin:
        reason = f"no PostgreSQL server: set {ADMIN_ENV} to an admin URL to run it"
        logger.info("skipping replicas: %s", reason)
        return {"skipped": reason, "machine": asdict(machine)}
    from tests.test_exactly_once import course_due_every_day

    started = datetime.now().astimezone()
    began = time.monotonic()
    asked = _questions(questions)
    template = f"trainbot_bench_tpl_{uuid.uuid4().hex[:10]}"
    engine = _admin_engine(admin)
    runs: list[ReplicaRun] = []
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{template}"'))
    try:
        with (
            tempfile.TemporaryDirectory(prefix="trainbot-replicas-") as scratch,
            chroma_server(Path(scratch)) as chroma,
        ):
            work = Path(scratch)
            course = course_due_every_day(work / "course")
            url = _url_of(admin, template)
            db = Database(url)
            db.upgrade()
            db.dispose()
            logger.info("replicas: ingesting the sample course into the template store")
            ingest_seconds, ingest_summary = _ingest(course, work, url, chroma.url)
            index = _index_facts(url, chroma.url)
            for round_ in range(1, rounds + 1):
                for count in counts:
                    busy = _wait_for_quiet()
                    logger.info(
                        "replicas: %d replica(s), round %d (CPU %.0f%% busy before)",
                        count,
                        round_,
                        busy * 100,
                    )
                    one = asyncio.run(
                        _one_run(
                            count,
                            round_,
                            admin=admin,
                            template=template,
                            chroma=chroma,
                            course=course,
                            work=work,
                            people=people,
                            people_both=people_both,
                            events=events,
                            questions=asked,
                        )
                    )
                    logger.info(
                        "replicas: %d: %.0f/%.0f pushes/s%s, events p99 ack %.0f ms, "
                        "ask p95 %.0f ms",
                        count,
                        one.phases.get("lesson", {}).get("rate", math.nan),
                        one.phases.get("both", {}).get("rate", math.nan),
                        "" if one.exactly_once else f" (FAILED: {one.failure})",
                        one.events.get("ack_p99_ms", float("nan")),
                        one.asks.get("answer_p95_ms", float("nan")),
                    )
                    one.busy_before = busy
                    runs.append(one)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        engine.dispose()
    data = {
        "machine": asdict(machine),
        "started": started.isoformat(timespec="minutes"),
        "seconds": time.monotonic() - began,
        "people": people,
        "people_both": people_both,
        "events": events,
        "questions": len(asked),
        "rounds": rounds,
        "ingest_seconds": ingest_seconds,
        "ingest_summary": ingest_summary,
        "index": index,
        "postgres": _server_version(admin),
        "runs": [asdict(one) for one in runs],
    }
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    logger.info("replicas: raw figures in %s", RAW)
    return data


def _server_version(admin: str) -> str:
    engine = _admin_engine(admin)
    with engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar_one())
    engine.dispose()
    return version


# -- the report -------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _pick(run: dict[str, Any], *keys: str) -> float:
    value: Any = run
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return math.nan
        value = value[key]
    return float(value)


def summarise(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per replica count, the medians over its good runs (those that pushed exactly once
    and finished every phase)."""
    rows = []
    for count in sorted({run["replicas"] for run in data["runs"]}):
        runs = [run for run in data["runs"] if run["replicas"] == count]
        good = [run for run in runs if run["exactly_once"] and run["failure"] is None]

        def median(*keys: str, among: list[dict[str, Any]] = good) -> float:
            return _median([_pick(run, *keys) for run in among])

        def most(key: str, among: list[dict[str, Any]] = good) -> float:
            return _median([max(run[key] or [math.nan]) for run in among])

        rows.append(
            {
                "replicas": count,
                "runs": len(runs),
                "good": len(good),
                "rate": median("phases", "lesson", "rate"),
                "rates": [_pick(run, "phases", "lesson", "rate") for run in good],
                "rate_both": median("phases", "both", "rate"),
                "rates_both": [_pick(run, "phases", "both", "rate") for run in good],
                "ack_p50_ms": median("events", "ack_p50_ms"),
                "ack_p99_ms": median("events", "ack_p99_ms"),
                "late_acks": sum(run["events"].get("late_acks", 0) for run in good),
                "events_per_s": median("events", "per_second"),
                "event_answer_p95_ms": median("events", "answer_p95_ms"),
                "ask_p50_ms": median("asks", "answer_p50_ms"),
                "ask_p95_ms": median("asks", "answer_p95_ms"),
                "first_ask_ms": most("first_asks_ms"),
                "rss_mib": most("rss_mib"),
                "peak_mib": most("peak_mib"),
                "idle_tx_per_s": median("idle", "transactions_per_s"),
                "start_s": median("start_seconds"),
                "others_whole": max(
                    (_pick(run, "cpu_whole", "others") for run in runs), default=0.0
                ),
                "failures": [run["failure"] for run in runs if run["failure"]],
                "phases": {
                    kind: {
                        "tx_per_s": median("phases", kind, "load", "transactions_per_s"),
                        "tx_per_push": median("phases", kind, "load", "transactions_per_push"),
                        "inserted_per_push": median("phases", kind, "load", "inserted_per_push"),
                        "updated_per_push": median("phases", kind, "load", "updated_per_push"),
                        "fetched_per_push": median("phases", kind, "load", "fetched_per_push"),
                        "cpu_ms_per_push": _median(
                            [
                                sum(run["phases"][kind]["cpu_by_replica"])
                                * 1000
                                / max(run["phases"][kind]["pushes"], 1)
                                for run in good
                            ]
                        ),
                        "cpu": {
                            group: median("phases", kind, "cpu", group)
                            for group in ("replicas", "postgres", "benchmark", "others", "total")
                        },
                        "split": [run["phases"][kind]["sent_by_replica"] for run in good],
                    }
                    for kind in ("lesson", "both")
                },
            }
        )
    return rows


def _f(value: float, digits: int = 0) -> str:
    return "–" if math.isnan(value) else f"{value:,.{digits}f}"


def _share(value: float) -> str:
    return "–" if math.isnan(value) else f"{value * 100:.0f}%"


_PHASE_NAMES = {"lesson": "a lesson each", "both": "a lesson and a quiz at once"}


def markdown(data: dict[str, Any]) -> list[str]:
    """The report section."""
    lines = [f"## {REPORT_HEADING}", ""]
    if "skipped" in data:
        return [*lines, f"Skipped: {data['skipped']}.", ""]
    rows = summarise(data)
    machine = data["machine"]
    index = data["index"]
    people, both = data["people"], data["people_both"]
    lines += [
        f"Run on {data['started'][:16].replace('T', ' ')} on {machine['cpu']} "
        f"({machine['usable_cores']} cores, {machine['ram_gib']:.0f} GiB), PostgreSQL "
        f"{data['postgres'].split()[0]}, chromadb {machine['packages'].get('chromadb', '?')}; "
        "everything on this one machine over loopback. To reproduce (an admin URL on which "
        "the benchmark creates and drops its own databases; `chroma` comes with chromadb):",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        "Each replica is a real `trainbot run` process (Slack in HTTP mode, a port each) on "
        "one PostgreSQL database and one `chroma run` server; Slack is the fake of the tests, "
        "which counts what people would see. The sample course was ingested and published "
        f"once ({_f(data['ingest_seconds'])} s); each run starts on a fresh copy of that "
        f"database (`CREATE DATABASE ... TEMPLATE`). Each replica count ran "
        f"{data['rounds']} time(s), the counts in turn; the figures are medians over the runs "
        "that pushed exactly once (the runs' own figures in brackets).",
        "",
        f"- **Pushes, a lesson each**: {people:,} Slack people enrolled at once, due a lesson "
        f"({people // 500} of the dispatcher's 500-person slices, an equal share for 1, 2 and "
        "4 replicas). With the default times the quiz comes half an hour after the lesson, "
        "in a pass of its own, so this is the pass that decides how long a morning takes. "
        "Slack has no overall cap, so the rate is trainbot's own.",
        f"- **Pushes, a lesson and a quiz at once**: {both:,} more people due both at the "
        "same minute. Each person's quiz follows their lesson and waits out Slack's "
        "1 message/s per conversation, which holds one of the dispatcher's 16 sends in "
        "flight for that second: about 16 × 2 pushes a second per replica, whatever the CPU.",
        "- Counted at the fake Slack from a phase's first push to its last; every person must "
        "get exactly their pushes, and the store must say so, or the run is reported as "
        "failed. The replicas tick every second (`TRAINBOT_DISPATCH_INTERVAL=1`; the default "
        "60 s only delays when a replica joins a pass).",
        f'- **Slack events**: {data["events"]} DMs ("help") from people the bot has not '
        f"met, posted round-robin to the replicas as a load balancer would, "
        f"{EVENT_CONCURRENCY} in flight, each sender waiting for its answer. The ack is the "
        "POST's response time (Slack retries after 3 s); events/s counts answers seen at the "
        "fake Slack.",
        f"- **Questions**: {data['questions']} course questions (English and Chinese, "
        f"`benchmarks/eval/qa.yaml`), {ASK_CONCURRENCY} in flight, round-robin; from the "
        "POST to the answer at the fake Slack. Each replica's first question was sent alone "
        "beforehand and is shown apart.",
        "- **Store**: `pg_stat_database` of the run's database from the enrolment to "
        f"{STATS_FLUSH_S} s after a phase's last push (the enrolment rows taken out), the "
        f"replicas' idle ticks included; idle is the same over {IDLE_S:.0f} s with the "
        "replicas up and nobody due. **RSS**: `VmRSS` of each replica after the run "
        "(the largest replica; peak `VmHWM`).",
        "",
        "| replicas | pushes/s, a lesson each: all (runs) | per replica "
        "| pushes/s, lesson and quiz at once | Slack ack p50 / p99 (ms) | events answered/s "
        "| ask p50 / p95 (ms) | first question (ms) | RSS per replica (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        n = row["replicas"]
        lines.append(
            f"| {n} | **{_f(row['rate'])}** ({', '.join(_f(r) for r in row['rates'])}) "
            f"| {_f(row['rate'] / n)} "
            f"| {_f(row['rate_both'])} ({', '.join(_f(r) for r in row['rates_both'])}) "
            f"| {_f(row['ack_p50_ms'])} / **{_f(row['ack_p99_ms'])}** "
            f"| {_f(row['events_per_s'], 1)} "
            f"| {_f(row['ask_p50_ms'])} / **{_f(row['ask_p95_ms'])}** "
            f"| {_f(row['first_ask_ms'])} "
            f"| {_f(row['rss_mib'])} (peak {_f(row['peak_mib'])}) |"
        )
    lines += [
        "",
        "The store and the CPU during each push phase (CPU as shares of the "
        f"{machine['usable_cores']} cores; *others* is work on this machine that was not "
        "part of the run):",
        "",
        "| replicas | pushes | pushes sent by each replica | PostgreSQL transactions/s "
        "| transactions per push | rows per push: inserted / updated / fetched "
        "| replica CPU per push (ms) | CPU: replicas / PostgreSQL / benchmark and Chroma "
        "/ others |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for kind, phase in row["phases"].items():
            split = "; ".join(" / ".join(f"{sent:,}" for sent in run) for run in phase["split"])
            cpu = phase["cpu"]
            lines.append(
                f"| {row['replicas']} | {_PHASE_NAMES[kind]} | {split} "
                f"| {_f(phase['tx_per_s'])} | {_f(phase['tx_per_push'], 2)} "
                f"| {_f(phase['inserted_per_push'], 2)} / {_f(phase['updated_per_push'], 2)} "
                f"/ {_f(phase['fetched_per_push'], 1)} | {_f(phase['cpu_ms_per_push'], 1)} "
                f"| {_share(cpu['replicas'])} / {_share(cpu['postgres'])} "
                f"/ {_share(cpu['benchmark'])} / {_share(cpu['others'])} |"
            )
    lines += [
        "",
        "Every run, in the order run, with the share of the CPU that other work on the machine "
        "took meanwhile (the runs' figures vary with it):",
        "",
        "| replicas | round | pushes/s, a lesson each | other work's CPU then "
        "| pushes/s, lesson and quiz | ack p99 (ms) | ask p95 (ms) | other work's CPU, "
        "whole run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in sorted(data["runs"], key=lambda r: (r["round"], r["replicas"])):
        lines.append(
            f"| {run['replicas']} | {run['round']} | {_f(_pick(run, 'phases', 'lesson', 'rate'))} "
            f"| {_share(_pick(run, 'phases', 'lesson', 'cpu', 'others'))} "
            f"| {_f(_pick(run, 'phases', 'both', 'rate'))} "
            f"| {_f(_pick(run, 'events', 'ack_p99_ms'))} "
            f"| {_f(_pick(run, 'asks', 'answer_p95_ms'))} "
            f"| {_share(_pick(run, 'cpu_whole', 'others'))} |"
        )
    idle = ", ".join(f"{_f(row['idle_tx_per_s'], 1)} with {row['replicas']}" for row in rows)
    starts = ", ".join(f"{_f(row['start_s'])} s for {row['replicas']}" for row in rows)
    lesson_busy = ", ".join(
        f"{_share(row['phases']['lesson']['cpu']['total'])} with {row['replicas']}" for row in rows
    )
    lines += [
        "",
        f"During the lesson pass the machine's CPU was busy {lesson_busy} replica(s) (medians, "
        "other work included): where it is near 100%, the cores, not the store or the "
        "replicas' count, set the rate.",
        "",
        f"Idle, the replicas cost the store {idle} transactions/s (a dispatch tick every "
        "second here, every 60 s by default, and the index check every 30 s). Starting the "
        f"replicas together until every scheduler ran took {starts}.",
        "",
        f"Index: the published version is {index['size'] / 1024:,.0f} KiB in the store "
        f"(`index_versions.size`, the zip every replica downloads at start) and "
        f"{index['vectors']:,} vectors on the Chroma server, shared by every replica.",
        "",
    ]
    failures = [f"{row['replicas']} replica(s): {f}" for row in rows for f in row["failures"]]
    if failures:
        lines += ["❌ Failed runs (not in the medians):", ""]
        lines += [f"- {failure}" for failure in failures] + [""]
    problems = Counter(
        _STAMP.sub("", line)[:160] for run in data["runs"] for line in run["problems"]
    )
    if problems:
        lines += [
            f"Replica logs: {sum(problems.values())} warning or error lines; the most common:",
            "",
            *(f"- {count} × `{line}`" for line, count in problems.most_common(5)),
            "",
        ]
    else:
        lines += ["Replica logs: no warnings or errors.", ""]
    uneven = [
        f"{run['replicas']} replica(s), round {run['round']}: {run['events']['posts_per_person']}"
        for run in data["runs"]
        if len(run["events"].get("posts_per_person", {})) > 1
    ]
    if uneven:
        lines += [
            '❌ Some people got a different number of answers to their "help" '
            "(answers: people): " + "; ".join(uneven) + ".",
            "",
        ]
    else:
        lines += [
            'Every "help" was answered, each with the same number of messages: no event '
            "was lost or answered twice.",
            "",
        ]
    late = sum(row["late_acks"] for row in rows)
    if late:
        lines += [f"⚠️ {late} Slack acknowledgements took longer than 3 s.", ""]
    arithmetic = [
        f"{_f(100_000 / row['rate'] / 60, 1)} min with {row['replicas']}"
        for row in rows
        if row["rate"] > 0 and not math.isnan(row["rate"])
    ]
    if arithmetic:
        lines += [
            "Arithmetic, not measured: at the measured rates, 100,000 people due a lesson at "
            f"the same minute are pushed in {'; '.join(arithmetic)} replica(s), and their "
            "quizzes half an hour later take as long again.",
            "",
        ]
    busy = max((row["others_whole"] for row in rows), default=0.0)
    lines += [
        f"⚠️ This machine has {machine['usable_cores']} cores: the replicas share them with "
        "PostgreSQL, the Chroma server and the benchmark (its fake Slack and load "
        "generator), so 4 replicas contend for CPU. Nothing here is extrapolated beyond "
        "4 replicas on this machine."
        + (
            f" Other work on the machine used up to {_share(busy)} of the CPU during a run, "
            "so the latencies include waiting for the CPU."
            if busy > BUSY_NEIGHBOURS
            else ""
        ),
        "",
        "Telegram is not measured here: Telegram allows a bot about 30 messages/s in all, "
        "whatever the number of processes, so several replicas do **not** raise Telegram "
        "throughput; each replica sends at most `TRAINBOT_TELEGRAM_RATE` messages/s (30 by "
        "default; set 30/N for N replicas, or together they meet Telegram's 429s).",
        "",
        f"_This section took {data['seconds'] / 60:.1f} min._",
        "",
    ]
    return lines


def add_to_report(path: Path, data: dict[str, Any]) -> None:
    """Put the section into a written report before its Notes (replacing an older one)."""
    replace_section(path, REPORT_HEADING, markdown(data), [])


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if "--quick" in sys.argv:
        result = run(counts=(1, 2), rounds=1, people=1000, people_both=500, events=60, questions=8)
    else:
        result = run()
    print(json.dumps(result, indent=1, default=str))
    print("\n".join(markdown(result)), file=sys.stderr)
