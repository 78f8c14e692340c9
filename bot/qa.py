"""Questions and answers: wiring the knowledge room to the settings and the store.

Degraded, not down: an index that cannot be read (a damaged or missing file, a broken
vector store, another embedding model) makes questions fail with
:class:`KnowledgeDamaged`, logged once at ERROR with the command that repairs it, while
everything else the bot does keeps running. The service re-opens the index when its files
change (a rebuild in this process or another one), so questions are answered again
without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, TrainbotError
from bot.settings import Settings
from knowledge.answer import Answerer
from knowledge.embeddings import embeddings_from_spec, embeddings_id
from knowledge.followup import Turn
from knowledge.index import (
    IngestReport,
    KnowledgeIndex,
    KnowledgeIndexError,
    forget_chroma_client,
    remove_index,
)
from knowledge.search import Retriever
from knowledge.types import Answer

logger = logging.getLogger(__name__)


class KnowledgeUnavailable(TrainbotError):
    """The Q&A index cannot be used (not built yet, or see :class:`KnowledgeDamaged`)."""


class KnowledgeDamaged(KnowledgeUnavailable):
    """The Q&A index exists but cannot be used until it is rebuilt.

    A file is damaged or missing, the vector store cannot be opened or searched, or the
    index was built with another embedding model or Chroma location. The message says
    what is wrong and what to run.
    """


NOT_BUILT = "the Q&A index has not been built: run 'trainbot ingest'"
WATCHED_FILES = (
    "manifest.json",
    "chunks.json",
    "lexicon.json",
    "calibration.json",
    "chroma/chroma.sqlite3",
)
"""Files whose change (a rebuild or an ingest by another process) makes the service re-open
the index."""

Signature = tuple[tuple[int, int, int] | None, ...]


def chat_model_from_spec(
    spec: str, *, base_url: str = "", api_key: str = "", proxy: str = ""
) -> Any:
    """A LangChain chat model for ``TRAINBOT_LLM`` (``provider:model``).

    Args:
        spec: ``provider:model``, e.g. ``openai:gpt-4o-mini``.
        base_url: an OpenAI-compatible endpoint instead of the provider's own.
        api_key: the key; empty means the provider's usual variable.
        proxy: an HTTP(S) proxy URL (``TRAINBOT_HTTPS_PROXY``); OpenAI-compatible models only.

    Raises:
        ConfigError: when the model cannot be made, or a proxy is set for another provider.
    """
    from langchain.chat_models import init_chat_model

    kwargs: dict[str, Any] = {"temperature": 0}
    if base_url:
        kwargs["base_url"] = base_url
    if api_key:
        kwargs["api_key"] = api_key
    if proxy:
        provider = spec.partition(":")[0] if ":" in spec else "openai"
        if provider != "openai":
            # Silently ignoring it would send the traffic direct, where it is blocked.
            raise ConfigError(
                f"TRAINBOT_HTTPS_PROXY: only OpenAI-compatible models take the proxy, not {spec!r}"
            )
        kwargs["openai_proxy"] = proxy
    try:
        return init_chat_model(spec, **kwargs)
    except Exception as exc:
        # is openai.OpenAIError) — one clear line for the operator, never a traceback
        hint = "" if api_key else " (is TRAINBOT_LLM_API_KEY set?)"
        raise ConfigError(f"TRAINBOT_LLM: cannot use {spec!r}: {exc}{hint}") from exc


@dataclass
class KnowledgeService:
    """The index, retriever and answerer for the configured materials.

    Safe to use from several threads: questions run in worker threads, the nightly ingest
    in another.

    Args:
        settings: the configuration (index dir, Chroma URL, embeddings, LLM).
        retry_seconds: how soon an index that failed is tried again although its files
            did not change (a Chroma server that was down may be back).
    """

    settings: Settings
    retry_seconds: float = 60.0

    def __post_init__(self) -> None:
        self._index: KnowledgeIndex | None = None
        self._answerer: Answerer | None = None
        self._embeddings: Any = None
        self._problem: KnowledgeUnavailable | None = None
        self._reported: str | None = None
        self._signature: Signature | None = None
        self._retry_at = 0.0
        self._busy = 0  # ingests running in this process: they change the files themselves
        self._rebuilding = False
        self._lock = threading.RLock()

    @property
    def materials_dir(self) -> Path:
        """Where the course materials are."""
        return self.settings.content_dir / "materials"

    @property
    def problem(self) -> str | None:
        """Why questions cannot be answered now, or ``None`` when they can."""
        try:
            index = self._current()
        except KnowledgeUnavailable as exc:
            return str(exc)
        return None if index.exists else NOT_BUILT

    @property
    def index(self) -> KnowledgeIndex:
        """The index, opened on first use and again after its files change.

        Raises:
            KnowledgeDamaged: when it cannot be read or was built with another model.
        """
        return self._current()

    @property
    def answerer(self) -> Answerer:
        """The answerer (extractive, or with the configured chat model)."""
        index = self._current()
        with self._lock:
            if self._answerer is None or self._answerer.retriever.index is not index:
                llm = None
                if self.settings.llm:
                    llm = chat_model_from_spec(
                        self.settings.llm,
                        base_url=self.settings.llm_base_url,
                        api_key=self.settings.llm_api_key,
                        proxy=self.settings.https_proxy,
                    )
                self._answerer = Answerer(
                    Retriever(index), llm=llm, strictness=self.settings.qa_strictness
                )
            return self._answerer

    # -- opening ------------------------------------------------------------------------

    def _embedding_model(self) -> Any:
        """One embedding model for the service's life (re-opening keeps it loaded)."""
        if self._embeddings is None:
            try:
                self._embeddings = embeddings_from_spec(self.settings.embeddings)
            except ValueError as exc:
                raise ConfigError(f"TRAINBOT_EMBEDDINGS: {exc}") from exc
        return self._embeddings

    def _files(self) -> Signature:
        """Identity and size of the index's files: any rewrite changes it."""
        signature: list[tuple[int, int, int] | None] = []
        for name in WATCHED_FILES:
            try:
                stat = (self.settings.index_dir / name).stat()
            except OSError:
                signature.append(None)
            else:
                signature.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
        return tuple(signature)

    def _current(self) -> KnowledgeIndex:
        """The open index; re-opened first when its files changed.

        Raises:
            KnowledgeDamaged: when it cannot be used.
        """
        with self._lock:
            if self._busy == 0 or self._index is None:
                retry = self._problem is not None and time.monotonic() >= self._retry_at
                if retry or self._files() != self._signature:
                    self._open()
            if self._problem is not None:
                raise self._problem
            assert self._index is not None
            return self._index

    def _open(self) -> None:
        """Open the index as its files are now; on failure remember (and log once) why."""
        if self._signature is not None and self._signature[-1] != self._files()[-1]:
            # Chroma's database changed under this process's cached client (a rebuild or an
            # ingest elsewhere): read it afresh.
            forget_chroma_client(self.settings.index_dir / "chroma")
        self._index = None
        self._answerer = None
        self._problem = None
        try:
            index = KnowledgeIndex(
                self.settings.index_dir,
                self._embedding_model(),
                embeddings_id(self.settings.embeddings),
                chroma_url=self.settings.chroma_url,
            )
            warning = index.check_vectors() if index.exists else None
        except KnowledgeIndexError as exc:
            self._failed(exc)
            return
        finally:
            # Taken after opening: opening a missing Chroma folder creates an empty one.
            self._signature = self._files()
        self._index = index
        if warning is not None:
            logger.warning("Q&A index in %s: %s", self.settings.index_dir, warning)
        if self._reported is not None:
            # As loud as the error was, so whoever saw that one sees this.
            logger.warning("the Q&A index in %s can be used again", self.settings.index_dir)
            self._reported = None

    def _failed(self, exc: Exception) -> None:
        """Remember why the index cannot be used; tried again when its files change."""
        self._problem = KnowledgeDamaged(str(exc))
        self._retry_at = time.monotonic() + self.retry_seconds

    def _report(self, problem: KnowledgeUnavailable) -> None:
        """Log why questions cannot be answered, once per cause (not per question)."""
        message = str(problem)
        with self._lock:
            if message == self._reported:
                logger.debug("Q&A still unavailable: %s", message)
                return
            self._reported = message
        logger.error(
            "Q&A is unavailable, questions get a 'temporarily unavailable' reply (pushes, "
            "quizzes and reports keep running): %s",
            message,
        )

    def _settled(self) -> None:
        """Take the files as they are now as the open index's own (after writing them)."""
        with self._lock:
            self._busy -= 1
            if self._problem is None:
                self._signature = self._files()

    # -- using --------------------------------------------------------------------------

    def ingest(
        self, directory: Path | None = None, *, rebuild: bool = False, progress: bool | None = None
    ) -> IngestReport:
        """Bring the index up to date with the materials (all of them when ``rebuild``).

        A rebuild first deletes the index whatever state it is in, so it repairs a damaged
        one; questions asked meanwhile get the 'not built' reply.

        Raises:
            KnowledgeDamaged: (without ``rebuild``) when the index cannot be read.
        """
        with self._lock:
            if rebuild:
                remove_index(self.settings.index_dir, chroma_url=self.settings.chroma_url)
                self._signature = None
                self._reported = None
            index = self._current()
            self._busy += 1
            self._rebuilding = rebuild
        try:
            # The course's parallel zh/en lessons and quizzes feed the bilingual lexicon.
            report = index.ingest(
                directory or self.materials_dir,
                parallel_dir=self.settings.content_dir,
                progress=progress,
            )
        finally:
            self._rebuilding = False
            self._settled()
        logger.info("ingest: %s", report.summary())
        return report

    def warm_up(self) -> None:
        """Load the model and both indexes now, so the first question is not slow.

        A damaged index is logged (once) and left alone: the bot runs without Q&A.
        """
        try:
            index = self._current()
        except KnowledgeUnavailable as exc:
            self._report(exc)
            return
        if not index.exists:
            return
        with self._lock:
            self._busy += 1
        try:
            index.warm_up()
        except KnowledgeIndexError as exc:
            with self._lock:
                self._failed(exc)
            self._report(KnowledgeDamaged(str(exc)))
        finally:
            self._settled()

    def ask(
        self, question: str, history: Sequence[Turn] = (), *, reply_language: str | None = None
    ) -> Answer:
        """Answer a question from the materials (blocking: the bot calls it in a worker).

        ``history`` is the conversation's earlier turns, oldest first: a follow-up is
        rewritten into a standalone question from them (:meth:`Answerer.standalone`), and
        the answer's ``question`` is that standalone question. ``reply_language`` is the
        language a chat model writes in (default: the question's).

        Raises:
            KnowledgeUnavailable: when no index has been built.
            KnowledgeDamaged: when the index cannot be read (logged once, not per question).
        """
        try:
            index = self._current()
        except KnowledgeDamaged as exc:
            self._report(exc)
            raise
        if not index.exists:
            if self._rebuilding:
                raise KnowledgeDamaged("the Q&A index is being rebuilt")
            raise KnowledgeUnavailable(NOT_BUILT)
        answerer = self.answerer
        try:
            return answerer.answer(question, history, reply_language=reply_language)
        except KnowledgeIndexError as exc:  # e.g. the vector store failed while searching
            damaged = KnowledgeDamaged(str(exc))
            with self._lock:
                if self._index is index:
                    self._failed(exc)
            self._report(damaged)
            raise damaged from exc
