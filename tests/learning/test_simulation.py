"""The simulator runs the real enrolment, dispatcher, grading and FSRS code on a virtual clock."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from adapters.cli import app
from benchmarks.simulated_loop import SAME_FORM_TWICE
from bot.errors import TrainbotError
from bot.library import CourseLibrary
from bot.settings import load_settings
from bot.simulation import (
    HABITS,
    chance,
    forgetting_curve,
    guess,
    make_learners,
    render_summary,
    simulate,
)
from bot.store.db import Database
from bot.store.models import Attempt, Delivery, Person
from quizzes.grading import grade
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT

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
        # The learners, and a manager per team (who observes them, and is on no track).
        assert session.scalar(select(func.count()).select_from(Person)) == 12 + 3
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


UNTIL = "2026-12-07"  # the same Monday, through the command line's --until

KEYS = {
    "learners",
    "days",
    "seed",
    "timezone",
    "start",
    "end",
    "deliveries",
    "lessons",
    "quizzes",
    "attempts",
    "accuracy",
    "chance",
    "duplicates",
    "quiet_hour_pushes",
    "blackout_pushes",
    "recall_fsrs",
    "recall_baseline",
    "habits",
    "weeks",
    "report",
    "feedback",
    "kpis",
    "true_effect",
    "experiments",
    "weak_lessons",
    "practice",
    "weak",
}
WEEK_KEYS = {
    "in_progress",
    "people",
    "active",
    "quizzes_sent",
    "quizzes_answered",
    "correct",
    "accuracy",
    "follow_up",
    "ratings",
    "mean_rating",
    "application",
    "teams",
    "tracks",
    "habits",
}
ROW_KEYS = {
    "name",
    "people",
    "quizzes_sent",
    "quizzes_answered",
    "correct",
    "accuracy",
    "streak_median",
    "follow_up",
}


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRAINBOT_CONTENT_DIR", str(SAMPLE_CONTENT))
    monkeypatch.setenv("TRAINBOT_LANGUAGE", "en")
    return tmp_path


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_cli_simulation_from_the_issue_is_above_chance_with_few_follow_ups(
    cli_env: Path, seed: int
) -> None:
    """``simulate --learners 50 --days 14``: better than blind guessing, and the weekly
    report's follow-up list names a minority, on every seed."""
    database = cli_env / "sim.db"
    data = json.loads(
        run_cli(
            *("simulate", "--learners", "50", "--days", "14", "--seed", str(seed)),
            *("--until", UNTIL, "--db", str(database), "--json"),
        )
    )
    assert set(data) == KEYS
    assert data["learners"] == 50 and data["days"] == 14 and data["seed"] == seed
    assert data["duplicates"] == 0
    assert data["quiet_hour_pushes"] == 0 and data["blackout_pushes"] == 0
    # Blind guessing: 1/4 on the four-option questions, 1/2 on true/false, 1/15 on the
    # four-option multiple-choice ones, weighted by what was answered.
    assert 1 / 15 < data["chance"] < 1 / 2
    assert data["accuracy"] > data["chance"] + 0.3
    assert sum(data["habits"].values()) == 50 and all(data["habits"].values())
    assert set(data["report"]) == {"2026-W48", "2026-W49"}
    for week, figures in data["report"].items():
        assert set(figures) == WEEK_KEYS and not figures["in_progress"]
        assert figures["people"] == 50
        assert 0 < figures["follow_up"] < 25, (seed, week, figures["follow_up"])
        assert figures["accuracy"] > data["chance"]
        for group in ("teams", "tracks", "habits"):
            rows = figures[group]
            assert rows and all(set(row) == ROW_KEYS for row in rows)
            assert sum(row["people"] for row in rows) == 50
            assert sum(row["follow_up"] for row in rows) == figures["follow_up"]
        habits = {row["name"]: row for row in figures["habits"]}
        completion = {
            name: row["quizzes_answered"] / row["quizzes_sent"] for name, row in habits.items()
        }
        assert completion["diligent"] > completion["steady"] > completion["lapsing"]
        # The figure is the weekly report's: trainbot report counts the same people.
        if seed == 0:
            report = json.loads(
                run_cli("report", "--db", str(database), "--week", week, "--format", "json")
            )
            assert len(report["follow_up"]) == figures["follow_up"]


def test_the_printed_summary_is_a_table_in_the_chosen_language(cli_env: Path) -> None:
    args = ("simulate", "--learners", "12", "--days", "14", "--seed", "3", "--until", UNTIL)
    english = run_cli(*args)
    assert english == run_cli(*args)  # same seed, same output
    lines = english.splitlines()
    assert lines[0] == "Simulated 12 learners over 14 days (2026-11-23 to 2026-12-06), seed 3"
    assert "{" not in english  # no raw dictionaries
    week_header = lines.index(next(line for line in lines if line.startswith("Week ")))
    assert lines[week_header].split() == [
        "Week",
        "People",
        "Active",
        "Answered/sent",
        "Accuracy",
        "Follow-up",
        "Ratings",
        "Mean",
        "rating",
        "Applying/reported",
    ]
    first, second = lines[week_header + 1].split(), lines[week_header + 2].split()
    assert first[:2] == ["2026-W48", "12"] and second[:2] == ["2026-W49", "12"]
    assert first[4].endswith("%")
    assert "2026-W49 as the weekly report counts it:" in lines
    for header in ("Team ", "Track ", "Habit "):
        assert any(line.startswith(header) for line in lines), header
    assert any(line.startswith("Frontline operations ") for line in lines)
    assert any(line.startswith("Accuracy over all ") and "blind guessing" in line for line in lines)
    assert any(line.startswith("Pushes: ") and "sent twice 0" in line for line in lines)
    assert any(line.startswith("Surveys: ") and " rated (mean " in line for line in lines)
    # The columns line up: every row of the week table is as wide as its header.
    table = lines[week_header : week_header + 3]
    assert len({len(line) for line in table}) == 1

    chinese = run_cli(*args, "--lang", "zh")
    assert chinese.startswith("模拟 12 名学员，共 14 天（2026-11-23 至 2026-12-06），随机种子 3")
    assert "需跟进" in chinese and "纯靠猜的正确率" in chinese and "一线运营" in chinese
    with_db = run_cli(*args, "--db", str(cli_env / "kept.db"))
    assert with_db.rstrip().endswith(f"trainbot report --db {cli_env / 'kept.db'} --week 2026-W49")
    # A second run on the same store would mix both into one report: refused, one line.
    again = CliRunner().invoke(app, [*args, "--db", str(cli_env / "kept.db")])
    assert isinstance(again.exception, TrainbotError)
    assert "already holds a simulation (15 simulated people)" in str(again.exception)


def test_an_unreadable_until_is_one_clear_error(cli_env: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--until", "next monday"])
    assert isinstance(result.exception, TrainbotError)
    assert "2026-12-07" in str(result.exception)


@pytest.mark.parametrize(
    ("kind", "expected"), [("single", 1 / 4), ("true_false", 1 / 2), ("multi", 1 / 15)]
)
def test_a_blind_guess_is_right_at_chance_level(kind: str, expected: float) -> None:
    """A learner who does not recall picks uniformly: right 1/n of the time, and any
    non-empty combination of a multiple-choice question's options equally often."""
    settings = load_settings(content_dir=SAMPLE_CONTENT)
    library = CourseLibrary(settings.content_dir)
    assert not library.reload()
    course = library.course
    question = next(
        question
        for (_, language), question in sorted(course.questions.items())
        if language == "en" and question.type.value == kind and len(question.keys) in (2, 4)
    )
    assert chance(question) == pytest.approx(expected)
    rng = random.Random(5)
    draws = 30_000
    answers = [tuple(sorted(guess(question, rng))) for _ in range(draws)]
    right = sum(grade(question, answer) for answer in answers) / draws
    assert right == pytest.approx(expected, abs=0.01)
    assert all(answers)  # never an empty answer
    if kind == "multi":
        assert len(set(answers)) == 15


def test_learners_differ_and_are_the_same_for_a_seed() -> None:
    """Some are diligent, some lapse (days away, a stretch away), with varied ability."""
    people = make_learners(200, 9, ["frontline", "managers"], 14)
    assert people == make_learners(200, 9, ["frontline", "managers"], 14)
    habits = {habit: [p for p in people if p.habit == habit] for habit in HABITS}
    assert all(len(group) >= 20 for group in habits.values())
    assert min(p.ability for p in people) < 0.4 < 0.9 < max(p.ability for p in people)
    away = {habit: sum(len(p.away) for p in group) / len(group) for habit, group in habits.items()}
    assert away["diligent"] < away["steady"] < away["lapsing"]
    assert all(len(p.away) >= 4 for p in habits["lapsing"])  # each has a stretch away
    engagement = {habit: min(p.engagement for p in group) for habit, group in habits.items()}
    assert engagement["diligent"] > 0.9 > engagement["lapsing"]


def test_forgetting_follows_fsrs_curve() -> None:
    """Recall is 90% after one stability, falls fast at first and slowly later."""
    assert forgetting_curve(0, 3.0) == 1.0
    assert forgetting_curve(3.0, 3.0) == pytest.approx(0.9)
    drops = [forgetting_curve(day, 3.0) - forgetting_curve(day + 1, 3.0) for day in range(10)]
    assert all(a > b > 0 for a, b in itertools.pairwise(drops))


async def test_a_known_effect_shows_in_the_experiments_report_and_no_effect_does_not(
    tmp_path: Path,
) -> None:
    """Two variants of the same form (learners answer alike at 15:00 and 15:30): with no
    true effect the report finds nothing; with one it finds it, on the same learners."""
    import shutil

    content = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, content)
    (content / "experiments.yaml").write_text(SAME_FORM_TWICE, encoding="utf-8")
    settings = load_settings(content_dir=content)
    none = await simulate(settings, learners=24, days=14, seed=5, today=TODAY)
    real = await simulate(settings, learners=24, days=14, seed=5, today=TODAY, true_effect=0.6)

    def figures(result: object) -> tuple[dict[str, int], float, float, str]:
        experiment = result.experiments["ab"]  # type: ignore[attr-defined]
        (arm,) = experiment["comparisons"]
        (verdict,) = experiment["verdicts"]
        assigned = {variant["id"]: variant["assigned"] for variant in experiment["variants"]}
        return assigned, arm["difference"], arm["adjusted_p"], verdict["verdict"]

    assigned, no_difference, p_none, verdict_none = figures(none)
    same, difference, p_real, verdict_real = figures(real)
    assert assigned == same and abs(assigned["control"] - assigned["variant"]) <= 2  # balanced
    assert p_none > 0.05 and verdict_none != "conclusive_better"
    assert difference > no_difference + 0.1 and p_real < 0.05
    assert verdict_real == "conclusive_better" and real.true_effect == 0.6
    text = render_summary(real, load_course(content), "en")
    assert "Experiment ab (simulated true effect +60% on the chance to recall): variant" in text
    assert text.rstrip().endswith("better, conclusive")


async def test_a_practice_rule_fires_on_a_weak_lesson_and_raises_its_targets_recall() -> None:
    """The sample course's rule (under 70% first-try accuracy) fires on a lesson made weak;
    the people it targets recall the lesson better at the end than the same people
    simulated without the rules."""
    from datetime import timedelta
    from statistics import fmean
    from zoneinfo import ZoneInfo

    settings = load_settings(content_dir=SAMPLE_CONTENT)
    weak = ["fl-02"]
    with_rule = await simulate(
        settings, learners=30, days=28, seed=3, today=TODAY, weak_lessons=weak
    )
    without = await simulate(
        settings, learners=30, days=28, seed=3, today=TODAY, weak_lessons=weak, practice=False
    )
    (fired,) = [item for item in with_rule.practice if item["lesson"] == "fl-02"]
    assert fired["rule"] == "weak-lesson" and fired["accuracy"] < 0.7 <= fired["mark"]
    assert fired["answers"] >= 20 and fired["targets"]
    assert fired["before"] < fired["after"]  # the digest's before -> since
    assert without.practice == []
    targets = fired["targets"]
    fired_day = datetime.fromisoformat(fired["fired_at"]).astimezone(ZoneInfo("Asia/Shanghai"))

    def recall(result: object, days: int) -> float:
        day = (fired_day + timedelta(days=days)).date().isoformat()
        found = result.weak["fl-02"]["daily_recall"][day]  # type: ignore[attr-defined]
        return fmean(found[user] for user in targets)

    # The same people in the same state when it fires; a week later they recall the
    # lesson better with the drill than without it.
    assert recall(with_rule, 0) == recall(without, 0)
    assert recall(with_rule, 7) > recall(without, 7) + 0.05
    text = render_summary(with_rule, load_course(SAMPLE_CONTENT), "en")
    assert "Practice rule weak-lesson fired on Activation: first value, fast on 2026-" in text
    with pytest.raises(TrainbotError, match="no lesson fl-99"):
        await simulate(settings, learners=2, days=1, seed=1, today=TODAY, weak_lessons=["fl-99"])
