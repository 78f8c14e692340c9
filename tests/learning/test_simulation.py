"""The simulator runs the real enrolment, dispatcher, grading and FSRS code on a virtual clock."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.settings import load_settings
from bot.simulation import simulate
from bot.store.db import Database
from bot.store.models import Attempt, Delivery, Person
from tests.conftest import REPO, SAMPLE_CONTENT

TODAY = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # a Monday; the period avoids the blackout


async def test_a_small_simulation_keeps_every_promise(tmp_path: Path) -> None:
    settings = load_settings(content_dir=SAMPLE_CONTENT)
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    result = await simulate(settings, learners=12, days=14, seed=3, db_url=url, today=TODAY)
    assert result.duplicates == 0
    assert result.quiet_hour_pushes == 0 and result.blackout_pushes == 0
    assert result.lessons > 0 and result.quizzes > result.lessons
    assert 0 < result.attempts <= result.quizzes
    assert result.end.startswith("2026-12-06T16:00")  # midnight in Shanghai, in UTC
    assert set(result.weeks) == {"2026-W48", "2026-W49"}
    db = Database(url)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 12
        assert session.scalar(select(func.count()).select_from(Attempt)) == result.attempts
        assert (
            session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.sent_at.is_not(None))
            )
            == result.deliveries
        )
    db.dispose()
    again = await simulate(settings, learners=12, days=14, seed=3, today=TODAY)
    assert again.as_dict() == result.as_dict()  # same seed, same story


async def test_fsrs_beats_a_fixed_rotation(tmp_path: Path) -> None:
    settings = load_settings(content_dir=SAMPLE_CONTENT)
    result = await simulate(settings, learners=20, days=21, seed=7, today=TODAY)
    assert result.recall_fsrs > result.recall_baseline


def test_the_cli_simulation_from_the_issue(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "adapters",
            "simulate",
            "--learners",
            "50",
            "--days",
            "14",
            "--seed",
            "1",
            "--json",
        ],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "HOME": str(tmp_path),
            "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert data["learners"] == 50 and data["days"] == 14
    assert (
        data["duplicates"] == 0 and data["quiet_hour_pushes"] == 0 and data["blackout_pushes"] == 0
    )
    assert data["deliveries"] > 0 and data["attempts"] > 0
