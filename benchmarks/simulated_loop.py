"""The improvement loop proved on the whole simulated bot (``trainbot simulate``).

``benchmarks/experiments.py`` checks the A/B test's statistics on many repetitions through
the store alone. Here every run is the full simulation: learners enrol, the dispatcher
assigns them to an experiment's variants and pushes at each variant's time, they answer
through the real handlers, the nightly practice job fires its rules, and the figures are
read back the way ``trainbot experiments report`` and the weekly report read them.

- **An experiment with no true effect and with one.** The sample course plus one
  experiment whose two variants are the same form (quizzes at 15:00 and at 15:30: the
  simulated learners answer alike at any hour), so with ``--true-effect 0`` there is
  nothing to find. With ``--true-effect`` set, the variant's learners recall an answer
  that much more often, a known effect. Pilot runs give the size per variant the report
  asks for; the repeated runs are made at that size.
- **A practice rule on a weak lesson.** ``--weak-lesson fl-02`` makes the lesson get its
  point across poorly; the sample course's rule (first-try accuracy under 70% over the last
  quarter) fires on it. The same learners (same seed) are simulated with the rules and
  with ``--no-practice``, and the people the rule targeted are compared: their answers to
  the lesson after the firing, and their true chance to recall its questions at the end.

Runs go two at a time (the machine's two cores), each in its own process.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import fmean, median
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.machine import describe_machine
from benchmarks.report import replace_section
from bot import stats
from bot.reports.render import percent

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
UNTIL = datetime(2026, 12, 5, 4, tzinfo=UTC)  # the simulations end on this (fixed) day
DAYS = 21
EFFECT = 0.3
"""The known effect: added to a variant learner's chance to recall an answer."""
PILOT_LEARNERS = 60
PILOTS = 4
REPEATS = 10
MAX_LEARNERS = 240
PRACTICE_LEARNERS = 60
PRACTICE_DAYS = 35
PRACTICE_SEEDS = 3
WEAK = "fl-02"
AFTER_DAYS = (0, 7, 14)
"""Days after the firing at which the targets' true recall is compared (0: the firing)."""
ZONE = ZoneInfo("Asia/Shanghai")  # the organisation's (the settings' default)
WORKERS = 2

SAME_FORM_TWICE = """\
experiments:
  - id: ab
    title: {zh: 同一时间两种, en: The same time twice}
    population: {tracks: [frontline]}
    form: push_time
    variants:
      - id: control
        push_time: "15:00"
      - id: variant
        push_time: "15:30"
    outcome: first_try_accuracy
    start: 2026-10-01
    end: 2027-03-31
"""


def _course(folder: Path) -> Path:
    """The sample course with the experiment added."""
    content = folder / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "experiments.yaml").write_text(SAME_FORM_TWICE, encoding="utf-8")
    return content


def _simulate(job: dict[str, Any]) -> dict[str, Any]:
    """One simulation in a worker process; the figures this benchmark reads."""
    from bot.settings import load_settings
    from bot.simulation import simulate

    logging.disable(logging.WARNING)
    settings = load_settings(content_dir=Path(job["content"]))
    began = time.perf_counter()
    result = asyncio.run(
        simulate(
            settings,
            learners=job["learners"],
            days=job["days"],
            seed=job["seed"],
            today=UNTIL,
            true_effect=job.get("effect", 0.0),
            weak_lessons=job.get("weak", ()),
            practice=job.get("practice", True),
        )
    )
    figures: dict[str, Any] = {"seconds": time.perf_counter() - began, "job": job}
    experiment = result.experiments.get("ab")
    if experiment is not None:
        (arm,) = experiment["comparisons"]
        measured = {variant["id"]: variant["measured"] for variant in experiment["variants"]}
        spread = experiment["spread"]
        figures.update(
            p=arm["adjusted_p"],
            difference=arm["difference"],
            needed=arm["needed_per_variant"],
            measured=min(measured.values()),
            spread=math.sqrt(fmean(value**2 for value in spread.values())) if spread else None,
            verdict=experiment["verdicts"][0]["verdict"],
        )
    figures["practice"] = result.practice
    figures["weak"] = result.weak
    return figures


def _run_all(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(_simulate, jobs))


def _size_for(needed: int, pilots: list[dict[str, Any]]) -> int:
    """Learners to simulate for ``needed`` measured people per variant (as in the pilots)."""
    measured_share = fmean(run["measured"] / PILOT_LEARNERS for run in pilots)
    return min(MAX_LEARNERS, math.ceil(needed / measured_share))


def _targets_compared(with_rule: dict[str, Any], without: dict[str, Any]) -> dict[str, Any]:
    """The weak lesson's firing in the run with the rule, and its targets in both runs."""
    firing = next(item for item in with_rule["practice"] if item["lesson"] == WEAK)
    targets = firing["targets"]
    recall_with = with_rule["weak"][WEAK]["recall"]
    recall_without = without["weak"][WEAK]["recall"]
    fired_day = datetime.fromisoformat(firing["fired_at"]).astimezone(ZONE).date()

    def recall_after(days: int) -> tuple[float, float] | None:
        day = (fired_day + timedelta(days=days)).isoformat()
        found = [run["weak"][WEAK]["daily_recall"].get(day) for run in (with_rule, without)]
        if found[0] is None or found[1] is None:
            return None
        recall_with, recall_without = (fmean(item[user] for user in targets) for item in found)
        return recall_with, recall_without

    return {
        "seed": with_rule["job"]["seed"],
        "after_days": {days: recall_after(days) for days in AFTER_DAYS},
        "fired_at": firing["fired_at"],
        "accuracy": firing["accuracy"],
        "answers": firing["answers"],
        "targets": len(targets),
        "recall_with": fmean(recall_with[user] for user in targets),
        "recall_without": fmean(recall_without[user] for user in targets),
        "before": firing["before"],
        "after": firing["after"],
        "answers_after": firing["answers_after"],
    }


def run() -> dict[str, Any]:
    """Pilot, then the runs without and with the effect at the size asked for, then the
    practice rule with and without."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trainbot-bench-loop-") as folder:
        content = str(_course(Path(folder)))
        base = {"content": content, "days": DAYS}
        logger.info("pilot: %d runs of %d learners with the effect", PILOTS, PILOT_LEARNERS)
        pilots = _run_all(
            [
                {**base, "learners": PILOT_LEARNERS, "seed": 1 + index, "effect": EFFECT}
                for index in range(PILOTS)
            ]
        )
        # The size the report's formula gives for the effect the pilots saw on average
        # (one pilot's difference is too noisy to size a test on).
        difference = fmean(run["difference"] for run in pilots)
        spread = math.sqrt(fmean(run["spread"] ** 2 for run in pilots))
        needed = stats.sample_size_means(difference, spread, alpha=0.05, power=0.8)
        assert needed is not None, "the pilots saw no difference"
        learners = _size_for(needed, pilots)
        logger.info("size asked for: %d per variant -> %d learners", needed, learners)
        jobs = [
            {**base, "learners": learners, "seed": 101 + index, "effect": effect}
            for effect in (0.0, EFFECT)
            for index in range(REPEATS)
        ]
        runs = _run_all(jobs)
        practice_jobs = [
            {
                "content": content,
                "days": PRACTICE_DAYS,
                "learners": PRACTICE_LEARNERS,
                "seed": 301 + index,
                "weak": [WEAK],
                "practice": practice,
            }
            for index in range(PRACTICE_SEEDS)
            for practice in (True, False)
        ]
        practice_runs = _run_all(practice_jobs)
    null = [run for run in runs if run["job"]["effect"] == 0.0]
    real = [run for run in runs if run["job"]["effect"] == EFFECT]
    compared = [
        _targets_compared(practice_runs[index], practice_runs[index + 1])
        for index in range(0, len(practice_runs), 2)
        if any(item["lesson"] == WEAK for item in practice_runs[index]["practice"])
    ]
    return {
        "pilots": pilots,
        "pilot_difference": difference,
        "pilot_spread": spread,
        "needed": needed,
        "learners": learners,
        "null": null,
        "real": real,
        "practice": compared,
        "practice_runs": len(practice_runs) // 2,
        "run_seconds": median(run["seconds"] for run in [*pilots, *runs]),
        "seconds": time.perf_counter() - began,
        "machine": describe_machine(),
        "started": datetime.now().astimezone(),
    }


def _interval(successes: int, total: int) -> str:
    interval = stats.wilson(successes, total)
    assert interval is not None
    return f"{interval.low:.0%}–{interval.high:.0%}"


def _significant(runs: list[dict[str, Any]]) -> int:
    return sum(run["p"] is not None and run["p"] < 0.05 for run in runs)


def markdown(data: dict[str, Any]) -> list[str]:
    """The section of docs/benchmarks.md."""
    null, real = data["null"], data["real"]
    false_positives, detected = _significant(null), _significant(real)
    measured = median(run["measured"] for run in [*null, *real])
    pilot_differences = ", ".join(f"{run['difference'] * 100:+.1f}" for run in data["pilots"])
    lines = [
        "## The improvement loop in the simulated bot",
        "",
        f"Run {data['started']:%Y-%m-%d %H:%M %Z} ({data['seconds'] / 60:.0f} min; a "
        f"simulation of {data['learners']} learners over {DAYS} days takes "
        f"{data['run_seconds']:.0f} s, two at a time). "
        "`python -m benchmarks --only loop` (benchmarks/simulated_loop.py). Each run is "
        "`trainbot simulate` on the sample course plus one experiment whose variants are the "
        "same form (quizzes at 15:00 and at 15:30, which simulated learners answer alike), "
        "read with the code of `trainbot experiments report` (Welch's t-test on first-try "
        "accuracy per person, alpha 5%).",
        "",
        f"- **Size asked for.** {PILOTS} pilot runs of {PILOT_LEARNERS} learners with the "
        f"known effect (+{EFFECT:.0%} on a variant learner's chance to recall) saw a "
        f"difference of {data['pilot_difference'] * 100:.1f} points of first-try accuracy on "
        f"average (each: {pilot_differences}"
        f") with a spread between people of {data['pilot_spread']:.3f}; for that the "
        f"report's formula asks for {data['needed']} per variant (one pilot alone asked for "
        f"{', '.join(str(run['needed']) for run in data['pilots'])}). The runs below simulate "
        f"{data['learners']} learners, which measured a median of {measured:g} per variant"
        + (" (capped at the benchmark's largest size)" if data["learners"] == MAX_LEARNERS else "")
        + ".",
        "",
        "| check | runs | significant | expected |",
        "|---|---:|---:|---|",
        f"| no true effect (false-positive rate) | {len(null)} | {false_positives} "
        f"({_interval(false_positives, len(null))}) | about 5% |",
        f"| the known effect, at the size asked for | {len(real)} | {detected} "
        f"({_interval(detected, len(real))}) | about 80% |",
        "",
        "Observed differences (variant − control, first-try accuracy): no effect "
        + ", ".join(
            f"{run['difference'] * 100:+.1f}" for run in null if run["difference"] is not None
        )
        + "; with the effect "
        + ", ".join(
            f"{run['difference'] * 100:+.1f}" for run in real if run["difference"] is not None
        )
        + " points. Ten runs a side say the test behaves (it does not find effects that are "
        "not there, and finds the one that is); the rates themselves are pinned down by the "
        "400 and 300 repetitions of the section above, through the same test.",
        "",
        f"**A practice rule on a weak lesson** ({WEAK}, its point got across at "
        f"{0.4:.0%} of the usual rate; {PRACTICE_LEARNERS} learners over {PRACTICE_DAYS} days; "
        "the same learners with the rules and without). The people the rule targeted:",
        "",
        "| seed | fired | evidence | targets | targets' accuracy on the lesson, before → "
        "since (the report's figures) | targets' true recall, with the rule / without: at "
        "the firing | 7 days later | 14 days later | at the end |",
        "|---:|---|---|---:|---|---|---|---|---|",
    ]
    for item in data["practice"]:
        cells = [
            "—" if pair is None else f"{pair[0]:.1%} / {pair[1]:.1%}"
            for pair in (item["after_days"][days] for days in AFTER_DAYS)
        ]
        lines.append(
            f"| {item['seed']} | {item['fired_at'][:10]} | {item['accuracy']:.0%} on "
            f"{item['answers']} first tries | {item['targets']} | "
            f"{percent(item['before'])} → {percent(item['after'])} ({item['answers_after']} "
            f"answers) | {' | '.join(cells)} | "
            f"{item['recall_with']:.1%} / {item['recall_without']:.1%} |"
        )
    if len(data["practice"]) < data["practice_runs"]:
        lines.append("")
        lines.append(
            f"The rule did not fire on {WEAK} in "
            f"{data['practice_runs'] - len(data['practice'])} of {data['practice_runs']} seeds."
        )
    lines += [
        "",
        "Before → since is what the trainers' digest shows: the targets' first tries on the "
        "lesson before the firing, and all their answers to it since (drill repeats what "
        "they got wrong, after its explanation). It has no comparison group, so the "
        "simulation supplies one: the same people's true chance to recall the lesson's "
        "questions (which the bot never sees) on the day of the firing, 7 and 14 days "
        "later, and at the end of the run, with the rule and without it. Up to the first "
        "firing of any rule the two runs are the same people in the same state; where the "
        "rule fired on another lesson first (fl-01 is near the mark), they already differ "
        "a little on the day.",
        "",
        f"Machine: {data['machine'].cpu}, {data['machine'].usable_cores} usable cores, "
        f"{data['machine'].ram_gib:.1f} GiB RAM, Python {data['machine'].python}.",
        "",
    ]
    return lines


def summary_rows(data: dict[str, Any]) -> list[str]:
    """Rows for the Summary table."""
    null, real = data["null"], data["real"]
    false_positives, detected = _significant(null), _significant(real)
    week = [item["after_days"][7] for item in data["practice"]]
    gains = [pair[0] - pair[1] for pair in week if pair is not None]
    return [
        f"| Simulated bot: A/B test with no effect, significant ({len(null)} runs) | "
        f"about 5% | {false_positives}/{len(null)} | "
        f"{'✅ met' if false_positives <= 2 else '❌ not met'} |",
        f"| Simulated bot: A/B test with a known effect, detected at the size asked for "
        f"({len(real)} runs) | about 80% | {detected}/{len(real)} | "
        f"{'✅ met' if detected >= 6 else '❌ not met'} |",
        "| Simulated bot: a practice rule raises its targets' recall of the weak lesson a "
        f"week after it fired ({len(gains)} seeds) | higher with the rule | "
        + ", ".join(f"{gain * 100:+.1f} pts" for gain in gains)
        + f" | {'✅ met' if gains and all(gain > 0 for gain in gains) else '❌ not met'} |",
    ]


def add_to_report(path: Path, data: dict[str, Any]) -> None:
    """Put the section and its summary rows into a written report."""
    replace_section(
        path,
        "The improvement loop in the simulated bot",
        markdown(data),
        summary_rows(data),
        row_prefix="| Simulated bot:",
    )
