"""Dispatcher throughput and the simulator's FSRS-vs-rotation comparison.

- Throughput: 10,000 enrolled people all due at the same minute, one dispatcher tick
  against the in-memory adapter (no platform limits), on SQLite. Target >= 1,000
  deliveries/s, so that the platforms' own limits are always the bound.
- Simulation: ``trainbot simulate --learners 200 --days 60``: recall at the end with FSRS
  scheduling vs a fixed rotation at the same push times.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from adapters.memory import MemoryOutbound
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.library import CourseLibrary
from bot.ratelimit import RateLimiter
from bot.settings import load_settings
from bot.simulation import simulate
from bot.store.db import Database
from bot.store.models import Delivery, Person

ROOT = Path(__file__).resolve().parent.parent
MONDAY_0930_SHANGHAI = datetime(2026, 11, 16, 1, 30, tzinfo=UTC)


def _populate(db: Database, count: int) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        {
            "platform": "memory",
            "platform_user_id": f"u{index}",
            "display_name": f"u{index}",
            "language": "zh",
            "timezone": "Asia/Shanghai",
            "track_id": "frontline",
            "role": "learner",
            "status": "active",
            "enrolled_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for index in range(count)
    ]
    with db.session() as session:
        session.execute(insert(Person), rows)


def throughput(people: int = 10_000, runs: int = 3) -> dict[str, Any]:
    """Deliveries per second of one tick with ``people`` due at once (median of runs)."""
    rates = []
    deliveries = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as workdir:
            url = f"sqlite:///{Path(workdir) / 'bench.db'}"
            db = Database(url)
            db.upgrade()
            _populate(db, people)
            settings = load_settings(
                database_url=url, content_dir=ROOT / "content", reminder_hours=0
            )
            library = CourseLibrary(settings.content_dir)
            library.reload()
            outbound = MemoryOutbound()
            dispatcher = Dispatcher(
                db=db,
                library=library,
                settings=settings,
                clock=FakeClock(MONDAY_0930_SHANGHAI),
                outbound={"memory": outbound},
                limiters={"memory": RateLimiter()},
                concurrency=64,
            )
            started = time.perf_counter()
            report = asyncio.run(dispatcher.tick())
            elapsed = time.perf_counter() - started
            with db.session() as session:
                deliveries = session.query(Delivery).filter(Delivery.sent_at.is_not(None)).count()
            assert report.sent == deliveries == len(outbound.sent)
            rates.append(deliveries / elapsed)
            db.dispose()
    return {
        "people": people,
        "deliveries": deliveries,
        "runs": runs,
        "rate_median": statistics.median(rates),
        "rates": rates,
    }


def fsrs_vs_rotation(learners: int = 200, days: int = 60, seed: int = 1) -> dict[str, Any]:
    """The simulator's end-of-run recall for FSRS and the fixed-rotation baseline."""
    settings = load_settings(content_dir=ROOT / "content")
    started = time.perf_counter()
    result = asyncio.run(simulate(settings, learners=learners, days=days, seed=seed))
    data = result.as_dict()
    data["seconds"] = time.perf_counter() - started
    return data


if __name__ == "__main__":
    import json
    import logging

    logging.disable(logging.WARNING)
    print(json.dumps(throughput(), indent=2))
