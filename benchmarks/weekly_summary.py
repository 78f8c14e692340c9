"""The weekly summary at scale: 10,000 people, 1,000,000 attempts over 12 weeks.

Target: the organisation-wide weekly JSON (``build_summary`` + ``to_json``) in ≤ 1 s,
median of 5, on SQLite and on PostgreSQL (when ``TRAINBOT_BENCH_POSTGRES_URL`` or
``TRAINBOT_TEST_POSTGRES_URL`` names a server). The store is filled with bulk inserts
(executemany on SQLite, COPY on PostgreSQL), and the query plans of the report's main
query are printed so that the use of the indexes can be read, not assumed.
"""

from __future__ import annotations

import logging
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.report import replace_section
from bot.reports.metrics import build_summary, group_counts_query, literal_thresholds
from bot.reports.render import to_csv, to_json
from bot.store.db import Database, normalise_url
from bot.weeks import iso_week_window
from quizzes.content import Course
from quizzes.loader import load_course

logger = logging.getLogger("benchmarks.weekly_summary")

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 1.0
PEOPLE = 10_000
ATTEMPTS = 1_000_000
WEEKS = 12
TEAMS = 50
RUNS = 5
PEOPLE_RUNS = 3
TIMEZONE = "Asia/Shanghai"
FIRST_MONDAY = date(2026, 8, 31)  # 2026-W36; the 12 weeks end with 2026-W47
REPORT_WEEK = "2026-W47"
POSTGRES_ENV = ("TRAINBOT_BENCH_POSTGRES_URL", "TRAINBOT_TEST_POSTGRES_URL")


@dataclass
class BackendResult:
    """Timings and plans on one database."""

    backend: str
    load_seconds: float
    runs: list[float]
    plan: list[str]
    totals: dict[str, Any] = field(default_factory=dict)
    people_runs: list[float] = field(default_factory=list)
    """Seconds for the per-person CSV (every person's row and streak): no target, for scale."""

    @property
    def median(self) -> float:
        """Median seconds of the runs."""
        return statistics.median(self.runs)

    @property
    def met(self) -> bool:
        """Whether the median is within the target."""
        return self.median <= TARGET_S


def _rows(seed: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """People, deliveries and attempts as tuples (ids assigned here, so COPY can be used).

    Each person answers on weekdays at their own pace; ~85 % of quizzes get an answer,
    two lessons a week are pushed. The attempt count is exactly :data:`ATTEMPTS`.
    """
    rng = random.Random(seed)
    enrolled = datetime.combine(FIRST_MONDAY - timedelta(days=30), datetime.min.time(), UTC)
    people = []
    for person_id in range(1, PEOPLE + 1):
        track = "frontline" if person_id % 4 else "managers"
        people.append((person_id, f"p{person_id}", track, person_id % TEAMS + 1, enrolled))
    deliveries: list[tuple[Any, ...]] = []
    attempts: list[tuple[Any, ...]] = []
    days = [FIRST_MONDAY + timedelta(days=offset) for offset in range(WEEKS * 7)]
    workdays = [day for day in days if day.weekday() < 5]
    per_person = ATTEMPTS // PEOPLE  # answered quizzes each
    delivery_id = 0
    for person_id, _, track, team_id, _ in people:
        answered_days = sorted(rng.sample(workdays * 2, per_person))
        for slot, day in enumerate(answered_days):
            sent = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                hours=1, minutes=30 + 7 * (slot % 2)
            )
            delivery_id += 1
            deliveries.append(
                (
                    delivery_id,
                    person_id,
                    "quiz",
                    f"d{slot}",
                    day,
                    f"q{rng.randrange(200)}",
                    track,
                    team_id,
                    "answered",
                    sent,
                )
            )
            answered = sent + timedelta(minutes=rng.choice((5, 20, 45, 90, 300)))
            attempts.append(
                (
                    delivery_id,
                    person_id,
                    deliveries[-1][5],
                    delivery_id,
                    rng.random() < 0.72,
                    rng.random() < 0.6,
                    answered,
                    track,
                    team_id,
                )
            )
        for week in range(WEEKS):
            monday = FIRST_MONDAY + timedelta(days=7 * week)
            for index, day in enumerate((monday, monday + timedelta(days=2))):
                delivery_id += 1
                sent = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)
                status = "completed" if rng.random() < 0.8 else "sent"
                deliveries.append(
                    (
                        delivery_id,
                        person_id,
                        "lesson",
                        f"l{index}",
                        day,
                        f"lesson-{week}-{index}",
                        track,
                        team_id,
                        status,
                        sent,
                    )
                )
            if rng.random() < 0.15:  # a quiz that was never answered
                delivery_id += 1
                day = monday + timedelta(days=3)
                sent = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=2)
                deliveries.append(
                    (delivery_id, person_id, "quiz", "u", day, "q1", track, team_id, "sent", sent)
                )
    return people, deliveries, attempts


def _chunks(rows: list[tuple[Any, ...]], size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    for index in range(0, len(rows), size):
        yield rows[index : index + size]


def populate(db: Database, seed: int = 7) -> dict[str, int]:
    """Fill an empty, migrated store; returns the row counts."""
    people, deliveries, attempts = _rows(seed)
    now = datetime.combine(FIRST_MONDAY - timedelta(days=30), datetime.min.time(), UTC)
    teams = [(team_id, f"Team {team_id:02d}", now) for team_id in range(1, TEAMS + 1)]
    person_rows = [
        (pid, "bench", uid, uid, "zh", TIMEZONE, track, team, "learner", "active", at, at, at)
        for pid, uid, track, team, at in people
    ]
    delivery_rows = [(*row, 1, row[-1], row[-1]) for row in deliveries]  # +attempts, claimed, sent
    attempt_rows = [(*row, '{"keys": ["a"]}') for row in attempts]
    columns = {
        "teams": "id, name, created_at",
        "people": "id, platform, platform_user_id, display_name, language, timezone, track_id, "
        "team_id, role, status, enrolled_at, created_at, updated_at",
        "team_memberships": "id, person_id, team_id, since",
        "deliveries": "id, person_id, kind, slot, local_date, item_id, track_id, team_id, status, "
        "completed_at, send_attempts, claimed_at, sent_at",
        "attempts": "id, person_id, question_id, delivery_id, correct, first_try, answered_at, "
        "track_id, team_id, chosen",
    }
    # deliveries: completed_at stands in the tuple where "sent" is; set it for answered rows.
    delivery_rows = [
        (
            d,
            p,
            kind,
            slot,
            day,
            item,
            track,
            team,
            status,
            sent if status in ("answered", "completed") else None,
            tries,
            claimed,
            sent,
        )
        for (
            d,
            p,
            kind,
            slot,
            day,
            item,
            track,
            team,
            status,
            sent,
            tries,
            claimed,
            _,
        ) in delivery_rows
    ]
    tables: dict[str, list[Any]] = {
        "teams": teams,
        "people": person_rows,
        # The bot writes a person's team history as it stores them; bulk inserts must too.
        "team_memberships": [(pid, pid, team, at) for pid, _, _, team, at in people],
        "deliveries": delivery_rows,
        "attempts": attempt_rows,
    }
    if db.dialect == "postgresql":
        _copy_postgres(db, columns, tables)
    else:
        _insert_sqlite(db, columns, tables)
    return {name: len(rows) for name, rows in tables.items()}


def _insert_sqlite(db: Database, columns: dict[str, str], tables: dict[str, list[Any]]) -> None:
    def plain(value: Any) -> Any:
        # The store keeps naive UTC text on SQLite (see models.UTCDateTime).
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        if isinstance(value, date):
            return value.isoformat()
        return value

    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        for table, rows in tables.items():
            names = columns[table]
            marks = ", ".join("?" for _ in names.split(","))
            for chunk in _chunks(rows):
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",
                    [tuple(plain(value) for value in row) for row in chunk],
                )
        connection.commit()
        cursor.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def _copy_postgres(db: Database, columns: dict[str, str], tables: dict[str, list[Any]]) -> None:
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        for table, rows in tables.items():
            with cursor.copy(f"COPY {table} ({columns[table]}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
        connection.commit()
    finally:
        connection.close()
    # What autovacuum does in a live store: statistics, and the visibility map that lets
    # the covering indexes be read without visiting the table.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as live:
        live.execute(text("VACUUM ANALYZE"))


def explain(db: Database, course: Course) -> list[str]:
    """The plan of the per-(team, track) query for the report week, one line per node."""
    start, end = iso_week_window(REPORT_WEEK, TIMEZONE)
    query = group_counts_query(start, end, None, literal_thresholds(course))
    compiled = query.compile(db.engine, compile_kwargs={"render_postcompile": True})
    with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            connection.exec_driver_sql("SET jit = off")  # as build_summary runs it
            named = {name: _param(value, db.dialect) for name, value in compiled.params.items()}
            rows = connection.exec_driver_sql("EXPLAIN " + str(compiled), named).all()
            return [row[0] for row in rows]
        positional = tuple(
            _param(compiled.params[name], db.dialect) for name in compiled.positiontup or []
        )
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), positional).all()
        return [f"{'  ' * _depth(rows, row)}{row[3]}" for row in rows]


def _param(value: Any, dialect: str) -> Any:
    """A bound value as the driver takes it (what the column types would have done)."""
    if isinstance(value, datetime) and dialect == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return getattr(value, "value", value)


def _depth(rows: Sequence[Any], row: Any) -> int:
    parents = {item[0]: item[1] for item in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth += 1
        parent = parents[parent]
    return depth


def _measure(db: Database, course: Course, backend: str, load_seconds: float) -> BackendResult:
    runs = []
    data: dict[str, Any] = {}
    for _ in range(RUNS):
        began = time.perf_counter()
        summary = build_summary(
            db, course, week=REPORT_WEEK, timezone=TIMEZONE, include_people=False, language="en"
        )
        payload = to_json(summary)
        runs.append(time.perf_counter() - began)
        data = summary.total.this_week.__dict__ | {"json_bytes": len(payload)}
    people_runs = []
    for _ in range(PEOPLE_RUNS):
        began = time.perf_counter()
        summary = build_summary(
            db, course, week=REPORT_WEEK, timezone=TIMEZONE, include_people=True, language="en"
        )
        to_csv(summary)
        people_runs.append(time.perf_counter() - began)
    result = BackendResult(backend, load_seconds, runs, explain(db, course), data, people_runs)
    logger.info("%s: median %.3f s over %d runs %s", backend, result.median, RUNS, runs)
    logger.info("%s: per-person CSV median %.3f s", backend, statistics.median(people_runs))
    return result


def _postgres_url() -> str | None:
    for name in POSTGRES_ENV:
        if os.environ.get(name):
            return os.environ[name]
    return None


def run() -> dict[str, Any]:
    """Fill and measure SQLite, and PostgreSQL when a server is configured."""
    course = load_course(ROOT / "content")
    results: list[BackendResult] = []
    with tempfile.TemporaryDirectory(prefix="trainbot-bench-report-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'report.db'}")
        db.upgrade()
        began = time.perf_counter()
        counts = populate(db)
        logger.info("SQLite filled in %.0f s: %s", time.perf_counter() - began, counts)
        results.append(_measure(db, course, "SQLite", time.perf_counter() - began))
        db.dispose()
    admin = _postgres_url()
    if admin is not None:
        name = f"trainbot_bench_{uuid.uuid4().hex[:10]}"
        admin_engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = (
            make_url(normalise_url(admin)).set(database=name).render_as_string(hide_password=False)
        )
        try:
            db = Database(url)
            db.upgrade()
            began = time.perf_counter()
            populate(db)
            logger.info("PostgreSQL filled in %.0f s", time.perf_counter() - began)
            results.append(_measure(db, course, "PostgreSQL", time.perf_counter() - began))
            db.dispose()
        finally:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()
    else:
        logger.info("no PostgreSQL server configured (%s): SQLite only", " or ".join(POSTGRES_ENV))
    return {"counts": counts, "results": results}


def markdown(data: dict[str, Any]) -> list[str]:
    """The report section, with the query plans."""
    results: list[BackendResult] = data["results"]
    counts = data["counts"]
    rows = [
        f"| {item.backend} | {item.median * 1000:,.0f} | "
        f"{', '.join(f'{value * 1000:,.0f}' for value in item.runs)} | "
        f"{'✅ met' if item.met else '❌ not met'} | {item.load_seconds:,.0f} |"
        for item in results
    ]
    lines = [
        "## Weekly summary",
        "",
        f"**Target:** the organisation-wide weekly JSON (`trainbot report --format json`) for "
        f"{PEOPLE:,} people and {ATTEMPTS:,} attempts over {WEEKS} weeks in ≤ {TARGET_S:.0f} s, "
        "median of 5, on SQLite and on PostgreSQL.",
        "",
        f"{counts['people']:,} people in {counts['teams']} teams, {counts['deliveries']:,} "
        f"deliveries and {counts['attempts']:,} attempts in 2026-W36..W47 (bulk-inserted); "
        f"the report is for {REPORT_WEEK} and compares with the week before.",
        "",
        "| store | median (ms) | runs (ms) | verdict | fill (s) |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]
    timed = [item for item in results if item.people_runs]
    if timed:
        lines += [
            f"With every person's row (`trainbot report --format csv`: {PEOPLE:,} rows, each "
            f"with the person's streak), median of {PEOPLE_RUNS}, no target: "
            + "; ".join(
                f"{item.backend} {statistics.median(item.people_runs) * 1000:,.0f} ms"
                for item in timed
            )
            + ".",
            "",
        ]
    for item in results:
        lines += [
            f"Plan of the per-team-and-track query on {item.backend}:",
            "",
            "```",
            *item.plan,
            "```",
            "",
        ]
    return lines


def summary_rows(data: dict[str, Any]) -> list[str]:
    """Rows for the report's Summary table, one per store."""
    return [
        f"| Weekly summary JSON, {PEOPLE:,} people / {ATTEMPTS:,} attempts, {item.backend} "
        f"(median of 5) | ≤ {TARGET_S:.0f} s | {item.median * 1000:,.0f} ms | "
        f"{'✅ met' if item.met else '❌ not met'} |"
        for item in data["results"]
    ]


def add_to_report(path: Path, data: dict[str, Any]) -> None:
    """Put the section into a written report before its Notes (replacing an older one), and
    its rows at the end of the Summary table."""
    replace_section(path, "Weekly summary", markdown(data), summary_rows(data))
