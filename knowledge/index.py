"""The Q&A index: dense vectors in Chroma plus a BM25 keyword index over jieba tokens.

Dense vectors are per sentence, each prefixed with its section heading; a chunk's dense
score is the best score of its sentences. A chunk-level vector averages several facts
and loses the one a detail question asks about; on the eval set sentence vectors lift
hit@3 from about 0.65 to 0.87 (docs/benchmarks.md).

Ingestion is incremental. ``manifest.json`` in the index directory records, per material
file, its content hash and chunk ids, and the embedding model the vectors came from.
Unchanged files are skipped, changed files replaced, deleted files removed from both
indexes. Chunk texts and their keyword tokens live in ``chunks.json`` beside it; the BM25
index is rebuilt from them in memory when the index is opened (well under a second for
10,000 chunks). ``lexicon.json`` holds the bilingual lexicon mined from the course's
parallel texts when ingest is given them (:mod:`knowledge.lexicon`), plus the general
dictionary's English → Chinese table for the words the passages hold, rebuilt whenever
the materials change (:mod:`knowledge.dictionary`); an index without it searches each
language's keywords on their own.

A damaged index (a file that is not valid JSON, truncated, missing, or a vector store that
cannot be opened) raises :class:`IndexDamagedError` when it is opened or searched, never a
bare JSON or Chroma error, so the application can keep running without Q&A and say what
to do. :func:`remove_index` deletes every file of an index whatever state they are in;
``trainbot ingest --rebuild`` starts with it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge import background, calibration
from knowledge.calibration import Calibration
from knowledge.chunking import chunk_document, split_sentences
from knowledge.dictionary import cedict_path, edition, english_to_chinese
from knowledge.embeddings import LocalE5Embeddings
from knowledge.lexicon import Lexicon, fingerprint, mine
from knowledge.loaders import load_document
from knowledge.materials import list_materials
from knowledge.tokenize import has_cjk, tokenize
from knowledge.types import Chunk, LoadError

logger = logging.getLogger(__name__)

MANIFEST_VERSION = 2
COLLECTION = "trainbot-materials"
MIN_SENTENCE_CHARS = 6
REBUILD = "rebuild it with 'trainbot ingest --rebuild'"
INDEX_FILES = (
    "manifest.json",
    "chunks.json",
    "lexicon.json",
    "background.npz",
    calibration.FILE_NAME,
)
"""The files of an index beside its (embedded) Chroma folder ``chroma/``."""


def embedded_sentences(chunk: Chunk) -> list[str]:
    """The sentences of a chunk that have a vector of their own (``<chunk id>~<n>``)."""
    sentences = [part.strip() for part in split_sentences(chunk.text)]
    return [part for part in sentences if len(part) >= MIN_SENTENCE_CHARS] or [chunk.text]


def sentence_units(chunk: Chunk) -> list[str]:
    """The texts embedded for a chunk: each sentence, prefixed with its section heading."""
    heading = chunk.section.rsplit(" > ", 1)[-1] if chunk.section else chunk.title
    sentences = embedded_sentences(chunk)
    if not heading:
        return sentences
    separator = "：" if has_cjk(heading) else ": "
    return [f"{heading}{separator}{sentence}" for sentence in sentences]


class KnowledgeIndexError(Exception):
    """Base for index problems the user must act on."""


class IndexMismatchError(KnowledgeIndexError):
    """The index was built with another embedding model; it must be rebuilt."""


class IndexMissingError(KnowledgeIndexError):
    """No index exists yet at the configured place."""


class IndexDamagedError(KnowledgeIndexError):
    """A file of the index cannot be read, or its vector store cannot be opened or searched."""


@dataclass
class IngestReport:
    """What an ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    chunks_written: int = 0
    chunks_total: int = 0
    calibrated: dict[str, int] | None = None
    """What the abstention was calibrated on, when this run calibrated it."""
    published: int | None = None
    """The index version this run published for every process (Chroma server and store)."""

    @property
    def changed(self) -> bool:
        """Whether the index changed."""
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """One line for the CLI."""
        line = (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.skipped)} unchanged, {len(self.errors)} unreadable; "
            f"{self.chunks_written} chunks written, {self.chunks_total} chunks in the index"
        )
        if self.published is not None:
            line = f"{line}; published as index version {self.published}"
        if self.calibrated is None:
            return line
        if "near_misses" not in self.calibrated:
            return f"{line}; too few materials to calibrate abstention (general threshold)"
        return (
            f"{line}; abstention calibrated on {self.calibrated['probes']} probe questions, "
            f"{self.calibrated['near_misses']} near misses and "
            f"{self.calibrated['everyday']} everyday questions"
        )


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, data: Any) -> None:
    """Write JSON atomically, so a crash never leaves half a manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def chroma_client(directory: Path, url: str = "") -> Any:
    """An embedded Chroma client in ``directory``, or an HTTP client for ``url``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if not url:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            return chromadb.PersistentClient(path=str(directory), settings=settings)
        except Exception:
            # Chroma caches a client per folder before starting it: a start that failed
            # on damaged files would be handed out again, even after a rebuild.
            forget_chroma_client(directory)
            raise
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"invalid Chroma URL {url!r} (expected http://host:port)")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    return chromadb.HttpClient(
        host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=settings
    )


def forget_chroma_client(directory: Path) -> None:
    """Drop this process's cached embedded Chroma client for ``directory``.

    Chroma keeps one client per folder for the life of the process, holding its files
    open. When the folder is deleted or replaced (a rebuild, here or in another process),
    the next client must open the new files, not keep reading the old ones. The old client
    is not stopped: an index object still searching with it finishes undisturbed.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    # Chroma has no public call to forget one folder (clear_system_cache forgets all).
    SharedSystemClient._identifier_to_system.pop(str(directory), None)
    with SharedSystemClient._refcount_lock:
        SharedSystemClient._identifier_to_refcount.pop(str(directory), None)


def remove_index(directory: Path, *, chroma_url: str = "", collection: str = COLLECTION) -> None:
    """Delete an index, whatever state its files are in (the start of a rebuild).

    The manifest goes first, so an index interrupted half-way is seen as not built rather
    than as complete. Embedded Chroma data is removed as a folder (a damaged Chroma
    database cannot be asked to delete its collection); on a Chroma server the
    collection is deleted.
    """
    (directory / "manifest.json").unlink(missing_ok=True)
    for name in INDEX_FILES:
        (directory / name).unlink(missing_ok=True)
    if chroma_url:
        client = chroma_client(directory / "chroma", chroma_url)
        try:
            client.delete_collection(collection)
        except Exception:  # Chroma raises a different error per version for a missing one
            logger.debug("no collection to delete")
        return
    forget_chroma_client(directory / "chroma")
    shutil.rmtree(directory / "chroma", ignore_errors=True)


def _read_json(path: Path) -> Any:
    """A JSON file of the index, or :class:`IndexDamagedError` saying which one and why."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexDamagedError(f"{path} is missing; {REBUILD}") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise IndexDamagedError(f"{path} cannot be read ({exc}); {REBUILD}") from exc


class KnowledgeIndex:
    """Dense (Chroma) and keyword (BM25) indexes over the chunks of the course materials.

    Args:
        directory: where the manifest, chunk texts and (embedded) Chroma data live.
        embeddings: the embedding model.
        embeddings_id: identity of that model, stored with the index.
        chroma_url: a Chroma server URL; empty for embedded Chroma under ``directory``.
        collection: the Chroma collection name.
        versioned: the collection is shared by the versions of a published index. A
            file's vectors are written once under its content hash (id ``<hash>/<chunk
            id>~<n>``, metadata ``sha``) and never deleted by an ingest, so a process still
            on the last version keeps finding its own; searching uses only the vectors of
            the files this manifest names, and :func:`collect_garbage` deletes the rest
            once no published version names them. Its manifest's Chroma location is not
            checked: the processes reading a published index may reach the one server by
            different URLs.

    Raises:
        IndexMismatchError: the index was built with another model or Chroma location.
        IndexDamagedError: a file of the index cannot be read.
    """

    def __init__(
        self,
        directory: Path,
        embeddings: Embeddings,
        embeddings_id: str,
        *,
        chroma_url: str = "",
        collection: str = COLLECTION,
        versioned: bool = False,
    ) -> None:
        self.directory = directory
        self.versioned = versioned
        self.embeddings = embeddings
        self.embeddings_id = embeddings_id
        self.chroma_url = chroma_url
        self._collection_name = collection
        self._collection: Any = None
        self.files: dict[str, dict[str, Any]] = {}
        self.chunks: dict[str, Chunk] = {}
        self.tokens: dict[str, list[str]] = {}
        self._bm25: Any = None
        self._bm25_ids: list[str] = []
        self._document_frequency: dict[str, int] = {}
        self._background: dict[str, np.ndarray] | None = None
        self._tags: dict[str, str] | None = None
        self.lexicon = self._read_lexicon()
        self._read_manifest()
        self.calibration = self._read_calibration()

    # -- persistence ------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        """The manifest file."""
        return self.directory / "manifest.json"

    @property
    def lexicon_path(self) -> Path:
        """The bilingual lexicon mined from the course's parallel texts (may be absent)."""
        return self.directory / "lexicon.json"

    @property
    def exists(self) -> bool:
        """Whether an index has been built here."""
        return self.manifest_path.is_file()

    def _read_lexicon(self) -> Lexicon:
        if not self.lexicon_path.is_file():
            return Lexicon()
        try:
            return Lexicon.from_json(_read_json(self.lexicon_path))
        except (IndexDamagedError, AttributeError, TypeError, ValueError) as exc:
            if not self.exists:
                # Left over from an unfinished build: the first ingest mines a new one.
                logger.debug("ignoring an unreadable lexicon beside no manifest")
                return Lexicon()
            if isinstance(exc, IndexDamagedError):
                raise
            raise IndexDamagedError(f"{self.lexicon_path} is not a lexicon; {REBUILD}") from exc

    @property
    def calibration_path(self) -> Path:
        """The abstention calibration fitted at ingest (:mod:`knowledge.calibration`)."""
        return self.directory / calibration.FILE_NAME

    def _read_calibration(self) -> Calibration | None:
        if not self.exists:
            return None
        found = calibration.read(self.calibration_path)
        if found is None or found.version != calibration.VERSION:
            # An index built before calibration existed still answers, with the general
            # threshold; its next ingest (even with no changed file) calibrates it.
            logger.warning(
                "the index in %s has no current abstention calibration: questions are "
                "judged with the general threshold until 'trainbot ingest' calibrates it",
                self.directory,
            )
            return None
        return found

    def _read_manifest(self) -> None:
        if not self.exists:
            return
        manifest = _read_json(self.manifest_path)
        files = manifest.get("files") if isinstance(manifest, dict) else None
        if not isinstance(files, dict) or not all(
            isinstance(entry, dict)
            and isinstance(entry.get("chunks"), list)
            and isinstance(entry.get("vectors", 0), int)
            for entry in files.values()
        ):
            raise IndexDamagedError(f"{self.manifest_path} is not an index manifest; {REBUILD}")
        built_with = manifest.get("embeddings")
        if built_with != self.embeddings_id:
            raise IndexMismatchError(
                f"the index in {self.directory} was built with embeddings {built_with!r}, but "
                f"{self.embeddings_id!r} is configured; rebuild it with 'trainbot ingest --rebuild'"
            )
        if not self.versioned and manifest.get("chroma_url", "") != self.chroma_url:
            raise IndexMismatchError(
                f"the index in {self.directory} was built against Chroma "
                f"{manifest.get('chroma_url') or '(embedded)'}, but "
                f"{self.chroma_url or '(embedded)'} is configured; rebuild it with "
                "'trainbot ingest --rebuild'"
            )
        chunks_path = self.directory / "chunks.json"
        records = _read_json(chunks_path)
        try:
            for record in records:
                tokens = record.pop("tokens")
                chunk = Chunk(**record)
                self.chunks[chunk.id] = chunk
                self.tokens[chunk.id] = list(tokens)
        except (AttributeError, KeyError, TypeError) as exc:
            raise IndexDamagedError(f"{chunks_path} does not hold passages; {REBUILD}") from exc
        listed = {chunk_id for entry in files.values() for chunk_id in entry["chunks"]}
        if listed != set(self.chunks):
            raise IndexDamagedError(
                f"{chunks_path} holds {len(self.chunks)} passages but the manifest lists "
                f"{len(listed)} (the files do not belong together); {REBUILD}"
            )
        self.files = files

    def _save(self) -> None:
        records = [
            {**asdict(chunk), "tokens": self.tokens[chunk.id]} for chunk in self.chunks.values()
        ]
        _write_json(self.directory / "chunks.json", records)
        _write_json(
            self.manifest_path,
            {
                "version": MANIFEST_VERSION,
                "embeddings": self.embeddings_id,
                "chroma_url": self.chroma_url,
                "files": self.files,
            },
        )

    @property
    def collection_name(self) -> str:
        """The Chroma collection's name."""
        return self._collection_name

    @property
    def collection(self) -> Any:
        """The Chroma collection (created on first use, cosine distance)."""
        if self._collection is None:
            client = chroma_client(self.directory / "chroma", self.chroma_url)
            self._collection = client.get_or_create_collection(
                self._collection_name,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "embeddings": self.embeddings_id},
            )
        return self._collection

    def _vector_store_error(self, exc: Exception) -> IndexDamagedError:
        if self.chroma_url:
            return IndexDamagedError(
                f"the Chroma server at {self.chroma_url} cannot be searched ({exc}); check the "
                f"server, or {REBUILD}"
            )
        return IndexDamagedError(
            f"the vector store in {self.directory / 'chroma'} cannot be read ({exc}); {REBUILD}"
        )

    def stored_vectors(self) -> int:
        """How many vectors the Chroma collection holds (compare :attr:`vector_count`).

        Raises:
            IndexDamagedError: when the collection cannot be opened or counted.
        """
        try:
            return int(self.collection.count())
        except Exception as exc:  # any failure of the vector store: damaged or unreachable
            self._collection = None
            raise self._vector_store_error(exc) from exc

    def check_vectors(self) -> str | None:
        """What is wrong with the dense index, or ``None`` when it holds what the manifest lists.

        A missing or emptied Chroma folder opens as an empty collection; searching then
        finds nothing dense, so answers rest on keywords alone. Vectors the manifest does
        not list (left by an interrupted ingest) are ignored when searching.

        Raises:
            IndexDamagedError: when the collection cannot be opened or counted.
        """
        expected = self.vector_count
        stored = self.stored_vectors()
        if stored < expected:
            return (
                f"the vector store holds {stored} of the {expected} sentence vectors the "
                f"manifest lists: dense search is degraded (answers rely more on keywords); "
                f"{REBUILD}"
            )
        if stored > expected and not self.versioned:  # versioned: the other versions' vectors
            return (
                f"the vector store holds {stored} sentence vectors, {stored - expected} more "
                f"than the manifest lists (an interrupted ingest?); they are ignored, {REBUILD}"
            )
        return None

    def reset(self) -> None:
        """Delete everything (used by ``--rebuild``); works on damaged files too."""
        self._collection = None
        self.files, self.chunks, self.tokens = {}, {}, {}
        self._bm25 = None
        self._background = None
        self.lexicon = Lexicon()
        self.calibration = None
        remove_index(self.directory, chroma_url=self.chroma_url, collection=self._collection_name)

    # -- ingestion --------------------------------------------------------------------

    def ingest(
        self,
        materials_dir: Path,
        *,
        parallel_dir: Path | None = None,
        progress: bool | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Bring the index in line with the files under ``materials_dir``.

        Args:
            materials_dir: the materials folder.
            parallel_dir: a folder with texts in both Chinese and English (the course
                folder: lessons and quiz questions); a bilingual lexicon mined from it lets
                a question in one language find keywords in the other
                (:mod:`knowledge.lexicon`). Mined again only when its files change.
            progress: show a progress bar (default: when stderr is a terminal).
            on_progress: called with (chunks embedded so far, chunks to embed).
        """
        report = IngestReport()
        if parallel_dir is not None:
            self._update_lexicon(parallel_dir)
        present = {
            path.relative_to(materials_dir).as_posix(): path
            for path in list_materials(materials_dir)
        }
        for name in sorted(set(self.files) - set(present)):
            self._drop_file(name)
            report.removed.append(name)

        pending: list[tuple[str, str, list[Chunk]]] = []
        touched = False
        for name, path in present.items():
            stat = path.stat()
            known = self.files.get(name)
            if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
                report.skipped.append(name)
                continue
            digest = file_digest(path)
            if known and known["sha256"] == digest:
                known["mtime_ns"] = stat.st_mtime_ns  # next time the cheap check suffices
                touched = True
                report.skipped.append(name)
                continue
            try:
                document = load_document(path, materials_dir)
            except LoadError as exc:
                logger.warning("cannot read %s: %s", name, exc.reason)
                report.errors.append(exc)
                continue
            chunks = chunk_document(document)
            pending.append((name, digest, chunks))
            (report.updated if known else report.added).append(name)

        total = sum(len(chunks) for _, _, chunks in pending)  # progress counts chunks
        bar = _progress_bar(total, progress)
        done = 0
        for name, digest, chunks in pending:
            units = [
                (chunk, number, text)
                for chunk in chunks
                for number, text in enumerate(sentence_units(chunk))
            ]
            vectors = self._embed([text for _, _, text in units])
            self._drop_file(name)
            if units:
                tag = content_tag(digest)
                self.collection.upsert(
                    ids=[
                        f"{tag}/{chunk.id}~{number}" if self.versioned else f"{chunk.id}~{number}"
                        for chunk, number, _ in units
                    ],
                    embeddings=vectors,
                    metadatas=[
                        {
                            "path": chunk.path,
                            "chunk": chunk.id,
                            **({"sha": tag} if self.versioned else {}),
                        }
                        for chunk, _, _ in units
                    ],
                )
            for chunk in chunks:
                self.chunks[chunk.id] = chunk
                self.tokens[chunk.id] = tokenize(chunk.embedding_text())
            stat = present[name].stat()
            self.files[name] = {
                "sha256": digest,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "chunks": [chunk.id for chunk in chunks],
                "vectors": len(units),
            }
            done += len(chunks)
            report.chunks_written += len(chunks)
            if bar is not None:
                bar(len(chunks))
            if on_progress is not None:
                on_progress(done, total)
        if report.changed or touched or not self.exists:
            self._save()
            self._bm25 = None
        if report.changed or not self.lexicon.dictionary_edition:
            self._update_dictionary()
        if report.changed or self.calibration is None:
            self._calibrate()
            report.calibrated = dict(self.calibration.counts) if self.calibration else None
        report.chunks_total = len(self.chunks)
        return report

    def pending_changes(self, materials_dir: Path, *, parallel_dir: Path | None = None) -> bool:
        """Whether :meth:`ingest` would change anything (compares content, not file times).

        A material that cannot be read counts as a change every time: it is not in the
        manifest, and ingest tries it again.
        """
        present = {
            path.relative_to(materials_dir).as_posix(): path
            for path in list_materials(materials_dir)
        }
        if set(present) != set(self.files):
            return True
        if any(file_digest(path) != self.files[name]["sha256"] for name, path in present.items()):
            return True
        if (
            parallel_dir is not None
            and parallel_dir.is_dir()
            and fingerprint(parallel_dir) != self.lexicon.sources
        ):
            return True
        if not self.lexicon.dictionary_edition and cedict_path() is not None:
            return True
        return self.calibration is None

    def _calibrate(self) -> None:
        """Fit and store the abstention calibration for the materials as they now are."""
        # Imported here: the probes ask questions through the retriever and the answer
        # signals, which are built on this module.
        from knowledge.probes import calibrate

        self.calibration = calibrate(self)
        _write_json(self.calibration_path, self.calibration.to_json())

    def _update_lexicon(self, parallel_dir: Path) -> None:
        if not parallel_dir.is_dir():
            logger.warning("no parallel texts for the lexicon: %s is not a folder", parallel_dir)
            return
        if fingerprint(parallel_dir) == self.lexicon.sources:
            return
        mined = mine(parallel_dir)
        mined.dictionary = self.lexicon.dictionary
        mined.dictionary_edition = self.lexicon.dictionary_edition
        self.lexicon = mined
        _write_json(self.lexicon_path, self.lexicon.to_json())

    def _update_dictionary(self) -> None:
        """Rebuild the general dictionary's table for the words the passages now hold."""
        path = cedict_path()
        if path is None:
            return
        vocabulary = {token for tokens in self.tokens.values() for token in tokens}
        self.lexicon.dictionary = english_to_chinese(vocabulary, path)
        self.lexicon.dictionary_edition = edition(path)
        _write_json(self.lexicon_path, self.lexicon.to_json())

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        if isinstance(self.embeddings, LocalE5Embeddings):
            return self.embeddings.embed_passages(texts)
        return self.embeddings.embed_documents(texts)

    def _drop_file(self, name: str) -> None:
        """Take a file's passages out of the index (and its vectors, unless versioned)."""
        entry = self.files.pop(name, None)
        self._tags = None
        ids = list(entry["chunks"]) if entry else []
        for chunk_id in ids:
            self.chunks.pop(chunk_id, None)
            self.tokens.pop(chunk_id, None)
        if self.versioned:
            return  # the versions still published use them; collect_garbage deletes them
        # Delete by path too: a crash after a previous upsert may have left ids the
        # manifest never recorded.
        self.collection.delete(where={"path": name})

    def _content_tags(self) -> dict[str, str]:
        """Each file's content tag, as its vectors carry it (versioned indexes)."""
        if self._tags is None:
            self._tags = {name: content_tag(entry["sha256"]) for name, entry in self.files.items()}
        return self._tags

    # -- searching --------------------------------------------------------------------

    @property
    def vector_count(self) -> int:
        """How many sentence vectors the dense index holds."""
        return sum(int(entry.get("vectors", 0)) for entry in self.files.values())

    def dense(self, query: str, k: int) -> list[tuple[str, float]]:
        """Nearest chunks by their best sentence: ``(chunk id, cosine similarity)``."""
        return self.dense_by_vector(self.embeddings.embed_query(query), k)

    def background_similarity(self, vector: list[float], language: str) -> float:
        """Cosine similarity of an embedded question to the nearest out-of-course sentence.

        See :mod:`knowledge.background`; vectors for the bundled model ship with the code,
        other models embed the sentences once and cache them in the index directory.
        """
        if self._background is None:
            self._background = background.vectors(
                self.embeddings, self.embeddings_id, self.directory
            )
        matrix = self._background.get(language, self._background["en"])
        return float(np.max(matrix @ np.asarray(vector, dtype=np.float32)))

    def dense_by_vector(
        self, vector: list[float], k: int, *, exclude: str = ""
    ) -> list[tuple[str, float]]:
        """Nearest chunks to an already embedded question.

        Args:
            vector: the embedded question.
            k: how many chunks.
            exclude: a material file whose passages are left out (calibration asks
                questions about a file as if it were not in the materials).
        """
        total = self.vector_count
        if exclude:
            total -= int(self.files.get(exclude, {}).get("vectors", 0))
        if not self.chunks or total <= 0:
            return []
        # Several sentences of one chunk may rank high; ask for enough to fill k chunks.
        try:
            result = self.collection.query(
                query_embeddings=[vector],
                n_results=min(total, k * 4),
                include=["distances", "metadatas"],
                **({"where": {"path": {"$ne": exclude}}} if exclude else {}),
            )
        except Exception as exc:  # any failure of the vector store: damaged or unreachable
            self._collection = None
            raise self._vector_store_error(exc) from exc
        best: dict[str, float] = {}
        tags = self._content_tags() if self.versioned else None
        for metadata, distance in zip(result["metadatas"][0], result["distances"][0], strict=True):
            chunk_id = str(metadata["chunk"])
            if tags is not None and tags.get(str(metadata["path"])) != metadata.get("sha"):
                continue  # another version's vector of this file
            if chunk_id in self.chunks and chunk_id not in best:
                best[chunk_id] = 1.0 - float(distance)
        return sorted(best.items(), key=lambda item: -item[1])[:k]

    def sentence_similarities(
        self, chunks: Sequence[Chunk], vector: Sequence[float]
    ) -> list[dict[str, float]]:
        """Each chunk's sentences' cosine similarity to an embedded question, by sentence text.

        One read of the stored sentence vectors (no embedding). A sentence too short to have
        a vector of its own is missing from its chunk's mapping; when the vector store
        cannot be read, every mapping is empty (the answer is then chosen by words alone).
        """
        sentences = [embedded_sentences(chunk) for chunk in chunks]
        ids = [
            f"{chunk.id}~{number}"
            for chunk, texts in zip(chunks, sentences, strict=True)
            for number in range(len(texts))
        ]
        if not ids or not self.vector_count:
            return [{} for _ in chunks]
        try:
            stored = self.collection.get(ids=ids, include=["embeddings"])
        except Exception:  # a broken store is reported by the search itself; words suffice here
            logger.debug("sentence vectors unavailable", exc_info=True)
            return [{} for _ in chunks]
        found = dict(zip(stored["ids"], stored["embeddings"], strict=True))
        question = np.asarray(vector, dtype=float)
        norm = float(np.linalg.norm(question)) or 1.0
        result = []
        for chunk, texts in zip(chunks, sentences, strict=True):
            similarities = {}
            for number, sentence in enumerate(texts):
                stored_vector = found.get(f"{chunk.id}~{number}")
                if stored_vector is None:
                    continue
                other = np.asarray(stored_vector, dtype=float)
                similarity = float(other @ question) / (
                    (float(np.linalg.norm(other)) or 1.0) * norm
                )
                similarities[sentence] = similarity
            result.append(similarities)
        return result

    def keyword(self, query: str, k: int) -> list[tuple[str, float]]:
        """Best chunks by BM25 over jieba/English tokens: ``(chunk id, score)``, score > 0."""
        return self.keyword_by_tokens(tokenize(query), k)

    def keyword_by_tokens(
        self, tokens: list[str], k: int, *, exclude: str = ""
    ) -> list[tuple[str, float]]:
        """Best chunks by BM25 for already tokenized keywords: ``(chunk id, score)``.

        ``exclude`` leaves out a material file's passages (see :meth:`dense_by_vector`);
        the BM25 statistics still count them, a difference too small to matter.
        """
        if not tokens or not self.chunks:
            return []
        retriever = self._keyword_index()
        left_out = set(self.files.get(exclude, {}).get("chunks", ())) if exclude else set()
        documents, scores = retriever.retrieve(
            [tokens],
            k=min(k + len(left_out), len(self._bm25_ids)),
            show_progress=False,
            n_threads=1,
        )
        return [
            (self._bm25_ids[int(doc)], float(score))
            for doc, score in zip(documents[0], scores[0], strict=True)
            if score > 0 and self._bm25_ids[int(doc)] not in left_out
        ][:k]

    def _keyword_index(self) -> Any:
        if self._bm25 is None:
            import bm25s

            # bm25s sets its logger to DEBUG on import and logs every index build.
            logging.getLogger("bm25s").setLevel(logging.WARNING)
            self._bm25_ids = list(self.chunks)
            retriever = bm25s.BM25()
            corpus = [self.tokens[chunk_id] or ["\u0000"] for chunk_id in self._bm25_ids]
            retriever.index(corpus, show_progress=False)
            self._bm25 = retriever
            frequency: dict[str, int] = {}
            for tokens in corpus:
                for token in set(tokens):
                    frequency[token] = frequency.get(token, 0) + 1
            self._document_frequency = frequency
        return self._bm25

    def idf(self, token: str, *, exclude: str = "") -> float:
        """Inverse document frequency of a keyword token (high for rare or unseen words).

        ``exclude``: as if that material file were not indexed (see :meth:`dense_by_vector`).
        """
        if self._bm25 is None and self.chunks:
            self._keyword_index()
        count = len(self._bm25_ids)
        frequency = self._document_frequency.get(token, 0)
        if exclude:
            left_out = self.files.get(exclude, {}).get("chunks", ())
            count -= len(left_out)
            frequency -= sum(1 for chunk_id in left_out if token in self.tokens[chunk_id])
        return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))

    def knows(self, token: str, *, exclude: str = "") -> bool:
        """Whether any passage (outside the ``exclude`` file) contains the token."""
        if self._bm25 is None and self.chunks:
            self._keyword_index()
        frequency = self._document_frequency.get(token, 0)
        if exclude and frequency:
            left_out = self.files.get(exclude, {}).get("chunks", ())
            frequency -= sum(1 for chunk_id in left_out if token in self.tokens[chunk_id])
        return frequency > 0

    def warm_up(self) -> None:
        """Load the keyword index, the embedding model and the background before the first question."""
        if self.chunks:
            if not self.lexicon.dictionary_edition:
                self._update_dictionary()  # an index built before the dictionary existed
            self._keyword_index()
            vector = self.embeddings.embed_query("warm up")
            self.dense_by_vector(vector, 1)  # loads Chroma's HNSW index (0.2-0.5 s on 10k chunks)
            self.background_similarity(vector, "en")
            return
        self.embeddings.embed_query("warm up")


def content_tag(sha256: str) -> str:
    """The part of a file's SHA-256 its vectors carry in a versioned index."""
    return sha256[:16]


def collect_garbage(collection: Any, keep: set[str]) -> int:
    """Delete the vectors of a versioned collection whose content tag is not in ``keep``.

    Returns:
        How many vectors were deleted.
    """
    before = int(collection.count())
    if keep:
        collection.delete(where={"sha": {"$nin": sorted(keep)}})
    else:
        ids = collection.get(include=[])["ids"]
        if ids:
            collection.delete(ids=ids)
    return before - int(collection.count())


def _progress_bar(total: int, enabled: bool | None) -> Callable[[int], None] | None:
    """A rich progress bar on a terminal; ``None`` otherwise."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or total == 0:
        return None
    from rich.progress import Progress

    progress = Progress(transient=True)
    task = progress.add_task("embedding chunks", total=total)
    progress.start()
    state = {"done": 0}

    def advance(count: int) -> None:
        state["done"] += count
        progress.update(task, advance=count)
        if state["done"] >= total:
            progress.stop()

    return advance
