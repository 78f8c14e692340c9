"""A/B tests checked against a known truth: the false-positive rate with no effect, and the
power at the sample size the report asks for when the effect is real.

Each repetition builds an experiment in a real store: people are assigned by
``bot.experiments.assign`` (the seeded blocks), answer the related questions' first tries
with a chance set by their own ability plus the variant's true effect (on the logit
scale), and ``bot.experiments.evaluate`` reads the outcome from the store and tests it, as
``trainbot experiments report`` does. Nothing here knows the variants except the
simulated truth.

- **No effect**: both variants have the same chance. At alpha 0.05 about 5% of
  repetitions should come out significant (the false-positive rate), within sampling error.
- **A real effect**: the variant raises the chance. The sample size the report would ask
  for, given that effect and the outcome's spread, is computed from a large pilot; at that
  size about 80% of repetitions (the power asked for) should detect it.
"""

from __future__ import annotations

import logging
import math
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import fmean, pstdev
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from benchmarks.machine import describe_machine
from benchmarks.report import replace_section
from bot import stats
from bot.experiments import assign, evaluate
from bot.library import check_course
from bot.store.db import Database
from bot.store.models import Attempt, Person
from quizzes.content import Course, Experiment

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 7, 2, tzinfo=UTC)
BASE_LOGIT = 0.8  # about 69% right for an average person
ABILITY_SD = 0.8  # people differ: the logit's spread between persons
ANSWERS = (4, 10)  # first tries per person, uniformly in this range
EFFECT_LOGIT = 0.45  # the real effect: about +8 points of accuracy
ALPHA = 0.05
POWER = 0.8


def _experiment(course: Course, name: str) -> Experiment:
    return Experiment.model_validate(
        {
            "id": name,
            "title": {"zh": "测验时间", "en": "Quiz time"},
            "population": {"tracks": ["frontline"]},
            "form": "push_time",
            "variants": [
                {"id": "control", "push_time": "09:30"},
                {"id": "variant", "push_time": "15:00"},
            ],
            "outcome": "first_try_accuracy",
            "lessons": ["fl-01", "fl-02", "fl-03"],
            "alpha": ALPHA,
            "power": POWER,
            "start": date(2026, 12, 7),
            "end": date(2027, 1, 31),
        }
    )


def _one(
    db: Database, course: Course, name: str, per_arm: int, effect: float, rng: random.Random
) -> tuple[bool, float | None, int | None]:
    """One simulated experiment: (significant?, observed difference, size asked for)."""
    experiment = _experiment(course, name)
    questions = [q for lesson in experiment.lessons or [] for q in course.question_ids(lesson)]
    with db.session() as session:
        people = [
            Person(
                platform="bench",
                platform_user_id=f"{name}-{index}",
                display_name=str(index),
                track_id="frontline",
                enrolled_at=START,
                created_at=START,
                updated_at=START,
            )
            for index in range(2 * per_arm)
        ]
        session.add_all(people)
        session.flush()
        rows: list[dict[str, Any]] = []
        for person in people:
            variant = assign(session, experiment, person, now=START, today=START.date())
            ability = rng.gauss(0, ABILITY_SD)
            logit = BASE_LOGIT + ability + (effect if variant == "variant" else 0.0)
            chance = 1 / (1 + math.exp(-logit))
            for question in rng.sample(questions, rng.randint(*ANSWERS)):
                rows.append(
                    {
                        "person_id": person.id,
                        "question_id": question,
                        "chosen": {"keys": ["A"]},
                        "correct": rng.random() < chance,
                        "first_try": True,
                        "answered_at": START + timedelta(days=rng.randint(1, 40)),
                        "track_id": "frontline",
                    }
                )
        session.execute(insert(Attempt), rows)
        result = evaluate(session, course, experiment, today=date(2027, 2, 1), zone=ZONE)
    (arm,) = result.comparisons
    if arm.comparison is None or arm.adjusted_p is None:
        return False, None, None
    return arm.adjusted_p < ALPHA, arm.comparison.difference, arm.comparison.needed_per_variant


def _needed_for_truth(course: Course, rng: random.Random) -> tuple[int, float, float]:
    """The size per arm the report would ask for if it saw the true effect: the true
    difference of mean accuracy and the spread of people's accuracy, from a large pilot
    of simulated people (no store needed: the truth is known here)."""
    control: list[float] = []
    variant: list[float] = []
    for _ in range(20000):
        ability = rng.gauss(0, ABILITY_SD)
        answers = rng.randint(*ANSWERS)
        for arm, effect in ((control, 0.0), (variant, EFFECT_LOGIT)):
            chance = 1 / (1 + math.exp(-(BASE_LOGIT + ability + effect)))
            arm.append(sum(rng.random() < chance for _ in range(answers)) / answers)
    difference = fmean(variant) - fmean(control)
    spread = math.sqrt((pstdev(control) ** 2 + pstdev(variant) ** 2) / 2)
    needed = stats.sample_size_means(difference, spread, alpha=ALPHA, power=POWER)
    assert needed is not None
    return needed, difference, spread


def run(*, null_runs: int = 400, power_runs: int = 300, per_arm: int = 40) -> dict[str, Any]:
    """Run both checks; the figures for the report."""
    course, problems = check_course(ROOT / "content")
    assert course is not None, problems
    rng = random.Random(20261205)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trainbot-bench-ab-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'ab.db'}")
        db.upgrade()
        null = [_one(db, course, f"null-{i}", per_arm, 0.0, rng) for i in range(null_runs)]
        needed, true_difference, spread = _needed_for_truth(course, rng)
        real = [_one(db, course, f"real-{i}", needed, EFFECT_LOGIT, rng) for i in range(power_runs)]
        pilots = [_one(db, course, f"pilot-{i}", per_arm, EFFECT_LOGIT, rng) for i in range(100)]
        db.dispose()
    asked = sorted(size for _, _, size in pilots if size is not None)
    false_positives = sum(significant for significant, _, _ in null)
    detected = sum(significant for significant, _, _ in real)
    return {
        "null_runs": null_runs,
        "per_arm": per_arm,
        "false_positives": false_positives,
        "power_runs": power_runs,
        "needed": needed,
        "true_difference": true_difference,
        "spread": spread,
        "detected": detected,
        "pilot_asked_median": asked[len(asked) // 2] if asked else None,
        "pilot_asked_quartiles": (asked[len(asked) // 4], asked[3 * len(asked) // 4])
        if asked
        else None,
        "seconds": time.perf_counter() - began,
        "machine": describe_machine(),
        "started": datetime.now().astimezone(),
    }


def _binomial_interval(successes: int, total: int) -> str:
    interval = stats.wilson(successes, total)
    assert interval is not None
    return f"{interval.low:.1%}–{interval.high:.1%}"


def markdown(data: dict[str, Any]) -> list[str]:
    """The section of docs/benchmarks.md."""
    fp = data["false_positives"] / data["null_runs"]
    power = data["detected"] / data["power_runs"]
    quartiles = data["pilot_asked_quartiles"]
    return [
        "## A/B tests: false positives and power",
        "",
        f"Run {data['started']:%Y-%m-%d %H:%M %Z} ({data['seconds']:.0f} s). "
        "`python -m benchmarks --only experiments` (benchmarks/experiments.py). Each repetition "
        "assigns simulated people with `bot.experiments.assign` in a real SQLite store, writes "
        "their first tries with a known chance (a person's own ability, spread "
        f"{ABILITY_SD} on the logit scale, plus the variant's true effect), and reads the "
        "verdict with `bot.experiments.evaluate` (Welch's t-test on each person's first-try "
        f"accuracy, alpha {ALPHA}), as `trainbot experiments report` does.",
        "",
        "| check | repetitions | per variant | significant | expected |",
        "|---|---:|---:|---:|---|",
        f"| no true effect (false-positive rate) | {data['null_runs']} | {data['per_arm']} | "
        f"{fp:.1%} (95% interval {_binomial_interval(data['false_positives'], data['null_runs'])}) "
        f"| about {ALPHA:.0%} |",
        f"| true effect {data['true_difference'] * 100:+.1f} points, at the size asked for "
        f"| {data['power_runs']} | {data['needed']} | {power:.1%} (95% interval "
        f"{_binomial_interval(data['detected'], data['power_runs'])}) | about {POWER:.0%} |",
        "",
        f"The size asked for ({data['needed']} per variant) is what the report's formula "
        f"gives for the true difference ({data['true_difference'] * 100:.1f} points) and the "
        f"spread of people's accuracy ({data['spread']:.3f}). A report sees only the "
        "difference observed so far: over 100 pilots of "
        f"{data['per_arm']} per variant with the same true effect, the size it asked for had "
        f"a median of {data['pilot_asked_median']} (quartiles {quartiles[0]}–{quartiles[1]}), "
        'which is why it says "not yet conclusive" with a size, not a promise.',
        "",
        f"Machine: {data['machine'].cpu}, {data['machine'].usable_cores} usable cores, "
        f"{data['machine'].ram_gib:.1f} GiB RAM, Python {data['machine'].python}.",
        "",
    ]


def summary_rows(data: dict[str, Any]) -> list[str]:
    """Rows for the Summary table."""
    fp = data["false_positives"] / data["null_runs"]
    power = data["detected"] / data["power_runs"]
    fp_ok = "✅ met" if abs(fp - ALPHA) <= 0.025 else "❌ not met"
    power_ok = "✅ met" if abs(power - POWER) <= 0.07 else "❌ not met"
    return [
        f"| A/B tests: false-positive rate with no effect ({data['null_runs']} runs) | "
        f"near {ALPHA:.0%} | {fp:.1%} | {fp_ok} |",
        f"| A/B tests: power at the size asked for ({data['power_runs']} runs) | "
        f"near {POWER:.0%} | {power:.1%} | {power_ok} |",
    ]


def add_to_report(path: Path, data: dict[str, Any]) -> None:
    """Put the section and its summary rows into a written report."""
    replace_section(
        path,
        "A/B tests: false positives and power",
        markdown(data),
        summary_rows(data),
        row_prefix="| A/B tests:",
    )
