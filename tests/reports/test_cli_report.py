"""``trainbot simulate --db`` then ``trainbot report``: the report's totals are the
simulation's weekly totals, through the real command line."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from bot.store.db import Database
from tests.conftest import REPO, SAMPLE_CONTENT
from tests.reports.handbuilt import WEEK, build


def trainbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters", *args],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "HOME": str(tmp_path),
            "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
            "TRAINBOT_LANGUAGE": "en",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_report_totals_equal_what_the_simulation_printed(tmp_path: Path) -> None:
    simulated = trainbot(
        tmp_path,
        *("simulate", "--learners", "50", "--days", "14", "--seed", "1"),
        *("--db", "var/sim.db", "--json"),
    )
    assert simulated.returncode == 0, simulated.stderr
    weeks = json.loads(simulated.stdout)["weeks"]
    assert weeks and (tmp_path / "var" / "sim.db").is_file()
    for week, printed in weeks.items():
        reported = trainbot(
            tmp_path, "report", "--db", "var/sim.db", "--week", week, "--format", "json"
        )
        assert reported.returncode == 0, reported.stderr
        totals = json.loads(reported.stdout)["totals"]["this_week"]
        assert {
            "quizzes": totals["quizzes_delivered"],
            "answered": totals["quizzes_answered"],
            "correct": totals["correct"],
            "lessons": totals["lessons_delivered"],
        } == printed, week

    week = max(weeks)
    out = tmp_path / "out" / "team-a.csv"
    exported = trainbot(
        tmp_path,
        *("report", "--db", "var/sim.db", "--week", week, "--team", "Team A"),
        *("--format", "csv", "--out", str(out)),
    )
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows and {row["team"] for row in rows} == {"Team A"}
    assert len({row["person_id"] for row in rows}) == len(rows)


def test_report_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    Database(f"sqlite:///{tmp_path / 'var' / 'x.db'}").upgrade()
    bad_week = trainbot(tmp_path, "report", "--db", "var/x.db", "--week", "2026-W99")
    assert bad_week.returncode != 0
    assert "2026-W99" in bad_week.stderr and "Traceback" not in bad_week.stderr
    no_team = trainbot(tmp_path, "report", "--db", "var/x.db", "--team", "Nobody")
    assert no_team.returncode != 0 and "no team named 'Nobody'" in no_team.stderr


def test_a_person_stored_with_an_unknown_time_zone_is_still_reported(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'legacy.db'}")
    database.upgrade()
    build(database)
    with database.session() as session:  # as a store from before zones were checked holds it
        session.execute(
            text("UPDATE people SET timezone = 'America/Bogus' WHERE platform_user_id = 'ann'")
        )
    database.dispose()
    result = trainbot(
        tmp_path, "report", "--db", "legacy.db", "--week", WEEK, "--format", "csv", "--team", "A"
    )
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert {"Ann", "Bob", "Cid"} <= set(rows) and rows["Ann"]["streak"] == "0"
    assert "Traceback" not in result.stderr
    assert "unknown time zone" in result.stderr  # logged for whoever runs the report


def test_read_commands_refuse_a_missing_database_file(tmp_path: Path) -> None:
    for command in (
        ("report", "--db", "var/typo.db"),
        ("report", "--db", "sqlite:///var/typo.db", "--format", "json"),
        ("gaps", "--db", "var/typo.db"),
        ("users", "list", "--db", "var/typo.db"),
    ):
        result = trainbot(tmp_path, *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "no database at var/typo.db" in result.stderr, command
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "typo.db").exists()  # nothing was created


def test_a_future_week_is_refused(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'store.db'}")
    database.upgrade()
    database.dispose()
    result = trainbot(tmp_path, "report", "--db", "store.db", "--week", "2100-W10")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "trainbot: 2100-W10 has not started yet (it starts on 2100-03-08): there is nothing "
        "to report"
    )
