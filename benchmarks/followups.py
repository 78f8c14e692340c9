"""Follow-up questions: does the rewritten follow-up find the passage it needs?

The labelled pairs (:data:`PAIRS_FILE`, written for trainbot from the sample course) are
a question and the follow-up someone types next ("那管理轨道呢？", "And for managers?"), with
the passage the follow-up needs. Three ways of searching the follow-up are compared on
the sample course's index:

- ``alone``: the follow-up as typed, as every message was answered before issue 14;
- ``concatenated``: the previous question and the follow-up searched together, the
  simplest carry-over;
- ``rule``: the standalone question of :func:`knowledge.followup.rewrite` (what the bot
  searches without a chat model).

Each is scored by hit@1/hit@3 (the needed passage among the top results) and by the share
answered by the extractive answerer (not declined). The false-rewrite rate is the share of
the eval sets' standalone questions (``qa.yaml`` and the held-out sets) that the rule
rewrites, each given the question before it in its file as the previous turn: a question
that stands on its own must be searched as typed. The chat-model path cannot be measured
here: the only model offline is the tests' scripted fake server.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from benchmarks.perf import SAMPLE_MATERIALS
from benchmarks.qa_eval import (
    HOLDOUT_FILES,
    TUNING_FILES,
    build_index,
    first_hit,
    load_questions,
    retriever_search,
)
from knowledge.answer import Answerer
from knowledge.followup import Turn, rewrite
from knowledge.search import Retriever

logger = logging.getLogger(__name__)

PAIRS_FILE = Path(__file__).parent / "eval" / "followups.yaml"
HIT_TARGET = 0.90
"""Share of pairs whose rewritten follow-up finds the needed passage in the top 3 (issue 14)."""
FALSE_REWRITE_TARGET = 0.0
"""Standalone questions rewritten: should be none."""
SYSTEMS = ("alone", "concatenated", "rule")


def load_pairs(path: Path = PAIRS_FILE) -> list[dict[str, Any]]:
    """The labelled follow-up pairs."""
    pairs: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["pairs"]
    return pairs


def query_for(system: str, pair: dict[str, Any]) -> str:
    """What ``system`` searches for the follow-up of ``pair``."""
    if system == "alone":
        return str(pair["followup"])
    if system == "concatenated":
        return f"{pair['previous']} {pair['followup']}"
    return rewrite(pair["followup"], [Turn(pair["previous"])])


@dataclass
class SystemScore:
    """How one way of searching follow-ups did, overall and per language."""

    name: str
    hit1: float
    hit3: float
    answered: float
    hit3_by_language: dict[str, float] = field(default_factory=dict)


@dataclass
class FollowupResult:
    """The follow-up benchmark's measurements."""

    pairs: int
    by_language: dict[str, int]
    systems: list[SystemScore]
    standalone: int
    false_rewrites: list[str]

    @property
    def rule(self) -> SystemScore:
        """The shipped rule's scores."""
        return next(score for score in self.systems if score.name == "rule")

    @property
    def alone(self) -> SystemScore:
        """The follow-up asked alone (the baseline)."""
        return next(score for score in self.systems if score.name == "alone")

    @property
    def false_rewrite_rate(self) -> float:
        """Share of the standalone questions the rule rewrote."""
        return len(self.false_rewrites) / self.standalone if self.standalone else 0.0


def _score(
    name: str,
    pairs: Sequence[dict[str, Any]],
    search: Callable[[str], Any],
    answerer: Answerer,
) -> SystemScore:
    hit1 = hit3 = answered = 0
    per_language: dict[str, list[bool]] = {}
    for pair in pairs:
        query = query_for(name, pair)
        rank = first_hit(search(query), pair["expected"])
        found = bool(rank and rank <= 3)
        hit1 += rank == 1
        hit3 += found
        answered += answerer.answer(query).answered
        per_language.setdefault(pair["language"], []).append(found)
        if name == "rule" and not found:
            logger.info("follow-up missed (rank %s): %s -> %s", rank, pair["followup"], query)
    count = len(pairs)
    return SystemScore(
        name,
        hit1 / count,
        hit3 / count,
        answered / count,
        {language: sum(found) / len(found) for language, found in sorted(per_language.items())},
    )


def false_rewrites(paths: Sequence[Path] = TUNING_FILES + HOLDOUT_FILES) -> tuple[int, list[str]]:
    """How many standalone questions the eval sets hold, and those the rule rewrites (each
    with the question before it in its file as the previous turn)."""
    questions = [question["question"] for question in load_questions(paths)]
    rewritten = [
        question
        for previous, question in pairwise(questions)
        if rewrite(question, [Turn(previous)]) != question.strip()
    ]
    return len(questions) - 1, rewritten


def run(materials: Path = SAMPLE_MATERIALS, pairs_file: Path = PAIRS_FILE) -> FollowupResult:
    """Score the three ways of searching follow-ups on the sample course."""
    pairs = load_pairs(pairs_file)
    with tempfile.TemporaryDirectory(prefix="trainbot-followups-") as workdir:
        index = build_index(materials, Path(workdir) / "index")
        retriever = Retriever(index)
        search = retriever_search(retriever, "hybrid")
        answerer = Answerer(retriever)
        systems = [_score(name, pairs, search, answerer) for name in SYSTEMS]
    standalone, rewritten = false_rewrites()
    for question in rewritten:
        logger.info("standalone question rewritten: %s", question)
    by_language: dict[str, int] = {}
    for pair in pairs:
        by_language[pair["language"]] = by_language.get(pair["language"], 0) + 1
    return FollowupResult(len(pairs), by_language, systems, standalone, rewritten)


_LABELS = {
    "alone": "follow-up asked alone (before)",
    "concatenated": "previous question + follow-up, concatenated",
    "rule": "rewritten by the rule (shipped, no chat model)",
}


def summary_rows(result: FollowupResult) -> list[tuple[str, str, str, bool]]:
    """Rows for the report's summary: what, target, measured, met."""
    rule, alone = result.rule, result.alone
    return [
        (
            "Follow-ups: rewritten question retrieves the needed passage (hit@3)",
            f"≥ {HIT_TARGET * 100:.1f}%",
            f"{rule.hit3 * 100:.1f}% (asked alone: {alone.hit3 * 100:.1f}%)",
            rule.hit3 >= HIT_TARGET,
        ),
        (
            "Follow-ups: standalone questions rewritten by the rule",
            "0",
            f"{len(result.false_rewrites)} of {result.standalone}",
            result.false_rewrite_rate <= FALSE_REWRITE_TARGET,
        ),
    ]


def render(result: FollowupResult) -> list[str]:
    """The report section's body (heading and footer are the report's)."""
    languages = sorted(result.by_language)
    counts = ", ".join(f"{result.by_language[lang]} {lang}" for lang in languages)
    header = ["search", "hit@1", "hit@3", *(f"hit@3 {lang}" for lang in languages), "answered"]
    rows = [
        [
            _LABELS[score.name],
            f"{score.hit1:.3f}",
            f"{score.hit3:.3f}",
            *(f"{score.hit3_by_language.get(lang, 0.0):.3f}" for lang in languages),
            f"{score.answered * 100:.1f}%",
        ]
        for score in result.systems
    ]
    lines = [
        "Does a follow-up find what it needs? `benchmarks/followups.py` (`--only followups`) "
        f"searches the follow-ups of `benchmarks/eval/followups.yaml` ({result.pairs} pairs: "
        f"{counts}; each a question, the follow-up typed next and the passage the follow-up "
        "needs) on the sample course, three ways. A hit is the needed passage among the top "
        "results (hybrid retrieval); answered is the share the extractive answerer does not "
        "decline (no chat model, shipped threshold).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        f"Standalone questions rewritten by the rule: {len(result.false_rewrites)} of "
        f"{result.standalone} (every question of `qa.yaml` and the held-out sets, each with "
        "the question before it in its file as the previous turn).",
        "",
        "The chat-model path (`TRAINBOT_LLM`: the model condenses the conversation and the "
        "follow-up into one question) is not measured: offline there is only the tests' "
        "scripted fake server.",
        "",
    ]
    return lines
