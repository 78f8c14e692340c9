"""``python -m benchmarks``: run the knowledge and learning benchmarks and write the report.

A full run rewrites docs/benchmarks.md. A partial run (``--only``) writes
var/benchmarks-partial.md unless ``--out`` says otherwise, so the published report is
only ever replaced by a complete one.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks import (
    dispatch,
    experiments,
    external,
    followups,
    index_artifact,
    perf,
    qa_eval,
    replicas,
    simulated_loop,
    weekly_summary,
    words,
)
from benchmarks.machine import cpu_clock, cpu_use, describe_machine
from benchmarks.report import BenchmarkRun, SectionRun, write_report
from bot.qa import chat_model_from_spec
from bot.settings import load_settings
from knowledge.answer import CONFIDENCE

logger = logging.getLogger("benchmarks")

SECTIONS = (
    "qa",
    "external",
    "followups",
    "latency",
    "ingest",
    "reingest",
    "huge",
    "dispatch",
    "simulate",
    "report",
    "words",
    "experiments",
    "loop",
    "artifact",
    "replicas",
)
FULL_REPORT = perf.ROOT / "docs" / "benchmarks.md"
PARTIAL_REPORT = perf.ROOT / "var" / "benchmarks-partial.md"


def parse_sections(value: str) -> list[str]:
    """The comma-separated section names of ``--only``, in the canonical order.

    Raises:
        argparse.ArgumentTypeError: for an unknown name.
    """
    chosen = {part.strip() for part in value.split(",") if part.strip()}
    unknown = chosen - set(SECTIONS)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {', '.join(sorted(unknown)) or '(none)'}; choose from {', '.join(SECTIONS)}"
        )
    return [name for name in SECTIONS if name in chosen]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run the knowledge benchmarks and write a report."
    )
    parser.add_argument(
        "--only",
        type=parse_sections,
        default=list(SECTIONS),
        help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="report file (default: docs/benchmarks.md for a full run, "
        "var/benchmarks-partial.md otherwise)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="rebuild the cached query-latency corpus instead of reusing it",
    )
    return parser.parse_args(argv)


def _quality(run: BenchmarkRun) -> None:
    # With TRAINBOT_LLM configured, the written-answer path is measured as well.
    settings = load_settings()
    llm = None
    if settings.llm:
        llm = chat_model_from_spec(
            settings.llm, base_url=settings.llm_base_url, api_key=settings.llm_api_key
        )
    result = qa_eval.run(perf.SAMPLE_MATERIALS, llm=llm)
    result["llm_spec"] = settings.llm
    run.qa = result
    rows = qa_eval.sweep(CONFIDENCE, result["features"], result["labels"])
    if all(abs(threshold - CONFIDENCE.threshold) > 1e-9 for threshold, _, _ in rows):
        shipped = qa_eval.abstention(
            CONFIDENCE, result["features"], result["labels"], CONFIDENCE.threshold
        )
        rows = sorted([*rows, (CONFIDENCE.threshold, *shipped)])
    run.qa_sweep = rows


def _latency(run: BenchmarkRun, *, fresh: bool) -> None:
    questions = [question["question"] for question in qa_eval.load_questions()]
    corpus = perf.latency_corpus(rebuild=fresh)
    run.latency = perf.query_latency(questions, corpus=corpus)


def _ingest(run: BenchmarkRun) -> None:
    run.ingest = perf.ingestion_throughput()


def _reingest(run: BenchmarkRun) -> None:
    run.reingest = perf.reingest()


def _progress_or_warning(record: logging.LogRecord) -> bool:
    """Our progress lines and other libraries' warnings (bm25s sets itself to DEBUG)."""
    return record.name.startswith("benchmarks") or record.levelno >= logging.WARNING


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections, print progress to stderr and write the report."""
    arguments = _arguments(argv)
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
    )
    logger.setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_progress_or_warning)
    sections: list[str] = arguments.only
    full = sections == list(SECTIONS)
    out: Path = arguments.out or (FULL_REPORT if full else PARTIAL_REPORT)

    run = BenchmarkRun(machine=describe_machine(), started=datetime.now().astimezone())
    weekly: dict[str, Any] = {}
    learners_words: dict[str, Any] = {}
    ab_tests: dict[str, Any] = {}
    loop: dict[str, Any] = {}
    artifact: dict[str, Any] = {}
    several: dict[str, Any] = {}
    steps: dict[str, Callable[[], None]] = {
        "qa": lambda: _quality(run),
        "external": lambda: setattr(run, "external", external.run()),
        "followups": lambda: setattr(run, "followups", followups.run()),
        "latency": lambda: _latency(run, fresh=arguments.fresh),
        "ingest": lambda: _ingest(run),
        "reingest": lambda: _reingest(run),
        "huge": lambda: setattr(run, "huge", perf.huge_message()),
        "dispatch": lambda: setattr(run, "dispatch", dispatch.throughput()),
        "simulate": lambda: setattr(run, "simulation", dispatch.fsrs_vs_rotation()),
        "report": lambda: weekly.update(weekly_summary.run()),
        "words": lambda: learners_words.update(words.run()),
        "experiments": lambda: ab_tests.update(experiments.run()),
        "loop": lambda: loop.update(simulated_loop.run()),
        "artifact": lambda: artifact.update(index_artifact.run()),
        "replicas": lambda: several.update(replicas.run()),
    }
    began = time.perf_counter()
    for name in sections:
        logger.info("== %s", name)
        before = cpu_clock()
        steps[name]()
        after = cpu_clock()
        use = cpu_use(before, after, run.machine.usable_cores)
        run.sections[name] = SectionRun(after.wall - before.wall, use)
        logger.info(
            "== %s done in %.0f s (CPU: benchmark %.0f%%, other processes %s)",
            name,
            after.wall - before.wall,
            use.own * 100,
            f"{use.others * 100:.0f}%" if use.others is not None else "unknown",
        )
    run.seconds = time.perf_counter() - began
    write_report(run, out, notes_from=FULL_REPORT)
    if weekly:  # the weekly-summary section adds itself (with its query plans)
        weekly_summary.add_to_report(out, weekly)
    if learners_words:  # so does the learners' words section
        words.add_to_report(out, learners_words)
    if ab_tests:  # and the A/B tests' section
        experiments.add_to_report(out, ab_tests)
    if loop:  # and the improvement loop on the simulated bot
        simulated_loop.add_to_report(out, loop)
    if artifact:  # and the shared index's loading times
        index_artifact.add_to_report(out, artifact)
    if several:  # and the replicas on PostgreSQL and a Chroma server
        replicas.add_to_report(out, several)
    logger.info("wrote %s (%.1f min in all)", out, run.seconds / 60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
