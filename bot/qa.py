"""Questions and answers: wiring the knowledge room to the settings and the store."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, TrainbotError
from bot.settings import Settings
from knowledge.answer import Answerer
from knowledge.embeddings import embeddings_from_spec, embeddings_id
from knowledge.index import IngestReport, KnowledgeIndex, KnowledgeIndexError
from knowledge.search import Retriever
from knowledge.types import Answer

logger = logging.getLogger(__name__)


class KnowledgeUnavailable(TrainbotError):
    """The Q&A index cannot be used (not built, or built with another model)."""


def chat_model_from_spec(spec: str, *, base_url: str = "", api_key: str = "") -> Any:
    """A LangChain chat model for ``TRAINBOT_LLM`` (``provider:model``)."""
    from langchain.chat_models import init_chat_model

    kwargs: dict[str, Any] = {"temperature": 0}
    if base_url:
        kwargs["base_url"] = base_url
    if api_key:
        kwargs["api_key"] = api_key
    try:
        return init_chat_model(spec, **kwargs)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"TRAINBOT_LLM: cannot use {spec!r}: {exc}") from exc


@dataclass
class KnowledgeService:
    """The index, retriever and answerer for the configured materials.

    Args:
        settings: the configuration (index dir, Chroma URL, embeddings, LLM).
    """

    settings: Settings

    def __post_init__(self) -> None:
        self._index: KnowledgeIndex | None = None
        self._answerer: Answerer | None = None
        self._lock = asyncio.Lock()

    @property
    def materials_dir(self) -> Path:
        """Where the course materials are."""
        return self.settings.content_dir / "materials"

    @property
    def index(self) -> KnowledgeIndex:
        """The index (opened on first use).

        Raises:
            KnowledgeUnavailable: when it was built with another embedding model or Chroma.
        """
        if self._index is None:
            try:
                embeddings = embeddings_from_spec(self.settings.embeddings)
            except ValueError as exc:
                raise ConfigError(f"TRAINBOT_EMBEDDINGS: {exc}") from exc
            try:
                self._index = KnowledgeIndex(
                    self.settings.index_dir,
                    embeddings,
                    embeddings_id(self.settings.embeddings),
                    chroma_url=self.settings.chroma_url,
                )
            except KnowledgeIndexError as exc:
                raise KnowledgeUnavailable(str(exc)) from exc
        return self._index

    @property
    def answerer(self) -> Answerer:
        """The answerer (extractive, or with the configured chat model)."""
        if self._answerer is None:
            llm = None
            if self.settings.llm:
                llm = chat_model_from_spec(
                    self.settings.llm,
                    base_url=self.settings.llm_base_url,
                    api_key=self.settings.llm_api_key,
                )
            self._answerer = Answerer(Retriever(self.index), llm=llm)
        return self._answerer

    def ingest(
        self, directory: Path | None = None, *, rebuild: bool = False, progress: bool | None = None
    ) -> IngestReport:
        """Bring the index up to date with the materials (all of them when ``rebuild``)."""
        if rebuild:
            index = self.index_for_rebuild()
            index.reset()
        # The course's parallel zh/en lessons and quizzes feed the bilingual lexicon.
        report = self.index.ingest(
            directory or self.materials_dir,
            parallel_dir=self.settings.content_dir,
            progress=progress,
        )
        logger.info("ingest: %s", report.summary())
        return report

    def index_for_rebuild(self) -> KnowledgeIndex:
        """An index object even when the stored one was built with another model."""
        try:
            return self.index
        except KnowledgeUnavailable:
            manifest = self.settings.index_dir / "manifest.json"
            manifest.unlink(missing_ok=True)
            self._index = None
            return self.index

    def warm_up(self) -> None:
        """Load the model and both indexes now, so the first question is not slow."""
        if self.index.exists:
            self.index.warm_up()

    def ask(self, question: str) -> Answer:
        """Answer a question from the materials (blocking; see :meth:`ask_async`).

        Raises:
            KnowledgeUnavailable: when no index has been built.
        """
        if not self.index.exists:
            raise KnowledgeUnavailable("the Q&A index has not been built: run 'trainbot ingest'")
        return self.answerer.answer(question)

    async def ask_async(self, question: str) -> Answer:
        """Answer without blocking the event loop (embedding and search run in a thread)."""
        return await asyncio.to_thread(self.ask, question)
