"""Questions and answers: wiring the knowledge room to the settings and the store.

Degraded, not down: an index that cannot be read (a damaged or missing file, a broken
vector store, another embedding model) makes questions fail with
:class:`KnowledgeDamaged`, logged once at ERROR with the command that repairs it, while
everything else the bot does keeps running. The service re-opens the index when its files
change (a rebuild in this process or another one), so questions are answered again
without a restart.

With a Chroma server and a store (several bot processes), the index is the one published
in the store (:mod:`bot.shared_index`): the service follows its newest version instead of
watching local files, and an ingest publishes the next version while holding the ``ingest``
named lease, so one process at a time re-ingests.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from bot import leases, metrics, shared_index
from bot.errors import ConfigError, TrainbotError
from bot.settings import Settings
from knowledge.answer import Answerer
from knowledge.embeddings import embeddings_from_spec, embeddings_id
from knowledge.followup import Turn
from knowledge.index import (
    COLLECTION,
    IngestReport,
    KnowledgeIndex,
    KnowledgeIndexError,
    chroma_client,
    collect_garbage,
    forget_chroma_client,
    remove_index,
)
from knowledge.search import Retriever
from knowledge.types import Answer

if TYPE_CHECKING:
    from bot.store.db import Database

logger = logging.getLogger(__name__)


class KnowledgeUnavailable(TrainbotError):
    """The Q&A index cannot be used (not built yet, or see :class:`KnowledgeDamaged`)."""


class KnowledgeDamaged(KnowledgeUnavailable):
    """The Q&A index exists but cannot be used until it is rebuilt.

    A file is damaged or missing, the vector store cannot be opened or searched, or the
    index was built with another embedding model or Chroma location. The message says
    what is wrong and what to run.
    """


SWITCH_INLINE_BYTES = 2_000_000
"""A published index version up to this size (zipped) is loaded before the question that
found it is answered; a larger one in the background (docs/benchmarks.md: about 0.2 s for
1,000 passages, 0.7 MB; 2.9 s for 10,000, 6.8 MB)."""


class IngestBusy(TrainbotError):
    """Another process is re-ingesting the shared index right now."""


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
        db: the store. With a Chroma server configured too, the index is the one
            published in the store (:attr:`shared`).
    """

    settings: Settings
    retry_seconds: float = 60.0
    db: Database | None = None

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
        self._version: int | None = None  # the published version in use (shared mode)
        self._unusable: int | None = None  # a newer version that failed, until _retry_at
        self._follow_lock = threading.Lock()  # one download of a new version at a time

    @property
    def shared(self) -> bool:
        """Whether the index is the one published in the store (Chroma server + store)."""
        return bool(self.settings.chroma_url) and self.db is not None

    @property
    def version(self) -> int | None:
        """The published index version in use (shared mode), ``None`` otherwise."""
        return self._version

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
            KnowledgeUnavailable: (shared mode) when no version was published yet.
        """
        if self.shared:
            return self._current_shared()
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

    # -- the published index (shared mode) ---------------------------------------------

    def _current_shared(self) -> KnowledgeIndex:
        with self._lock:
            index, problem = self._index, self._problem
            due = index is None or (problem is not None and time.monotonic() >= self._retry_at)
        if due:
            self.follow()
        with self._lock:
            if self._index is not None:
                return self._index  # a version that works, even if a newer one failed
            if self._problem is not None:
                raise self._problem
            raise KnowledgeUnavailable(NOT_BUILT)

    def check_version(self) -> None:
        """Switch to a newer published version, if there is one (one cheap read).

        Called before each question. A small version (up to :data:`SWITCH_INLINE_BYTES`,
        a few thousand passages: well under a second to load) is loaded at once, so the
        question asked after an ingest elsewhere finished is answered from it. A larger
        one is loaded in the background while this question is answered from the version
        in use. A store that cannot be read leaves the current version in use.
        """
        if not self.shared or self._version is None:
            return
        assert self.db is not None
        try:
            with self.db.session() as session:
                newest = shared_index.latest(session)
        except SQLAlchemyError as exc:
            logger.debug("cannot check for a newer Q&A index: %s", exc)
            return
        if newest is None or newest.id == self._version:
            return
        if newest.id == self._unusable and time.monotonic() < self._retry_at:
            return  # it failed a moment ago: not again for every question
        if newest.size <= SWITCH_INLINE_BYTES:
            self.follow()
        elif not self._follow_lock.locked():
            threading.Thread(target=self.follow, name="index-switch", daemon=True).start()

    def follow(self) -> bool:
        """Use the newest published version, if this process is not on it already.

        The new version is downloaded (once per process: it is kept under
        ``TRAINBOT_INDEX_DIR/versions``), opened and warmed before it replaces the one in
        use, so no question waits on a half-open index. A version that cannot be used is
        logged and the one in use stays.

        Returns:
            Whether the process switched to another version.
        """
        assert self.db is not None
        with self._follow_lock:
            try:
                with self.db.session() as session:
                    newest = shared_index.latest(session)
            except SQLAlchemyError as exc:
                with self._lock:
                    if self._index is None:
                        self._failed(KnowledgeIndexError(f"the store cannot be read ({exc})"))
                logger.warning("cannot read the published Q&A index versions: %s", exc)
                return False
            if newest is None or newest.id == self._version:
                with self._lock:
                    if newest is None and self._index is None:
                        self._problem = None  # nothing published: "not built"
                return False
            try:
                index = self._open_version(newest)
            except (KnowledgeIndexError, LookupError, ValueError, zipfile.BadZipFile) as exc:
                message = f"index version {newest.id} cannot be used ({exc})"
                with self._lock:
                    self._unusable = newest.id
                    if self._index is None:
                        self._failed(KnowledgeIndexError(message))
                    else:
                        self._retry_at = time.monotonic() + self.retry_seconds
                logger.error("Q&A: %s", message)
                return False
            with self._lock:
                previous = self._version
                self._index, self._answerer, self._problem = index, None, None
                self._version = newest.id
                reported, self._reported = self._reported, None
            metrics.set_index_version(newest.id)
            if reported is not None:
                logger.warning("the Q&A index can be used again")
            logger.info(
                "Q&A index version %d in use (published %s by %s)",
                newest.id,
                newest.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                newest.published_by,
            )
            shared_index.prune_local(
                self.settings.index_dir, {newest.id} | ({previous} if previous else set())
            )
            return True

    def _versioned_index(self, directory: Path, collection: str) -> KnowledgeIndex:
        """An index of the published kind: files in ``directory``, vectors in ``collection``."""
        return KnowledgeIndex(
            directory,
            self._embedding_model(),
            embeddings_id(self.settings.embeddings),
            chroma_url=self.settings.chroma_url,
            collection=collection,
            versioned=True,
        )

    def _open_version(self, version: shared_index.PublishedIndex) -> KnowledgeIndex:
        """Download (unless kept from before), open and warm a published version."""
        assert self.db is not None
        directory = shared_index.local_dir(self.settings.index_dir, version.id)
        if not (directory / "manifest.json").is_file():
            with self.db.session() as session:
                blob = shared_index.files_of(session, version.id)
            if shared_index.digest(blob) != version.digest:
                raise ValueError("its files do not match their digest")
            shared_index.unpack(blob, directory)
        index = self._versioned_index(directory, version.collection)
        warning = index.check_vectors()
        if warning is not None:
            logger.warning("Q&A index version %d: %s", version.id, warning)
        index.warm_up()
        return index

    def _ingest_shared(
        self,
        materials: Path,
        *,
        rebuild: bool,
        progress: bool | None,
        on_start: Callable[[], None] | None = None,
    ) -> IngestReport:
        """Re-ingest into a new published version, holding the ``ingest`` lease.

        Raises:
            IngestBusy: when another process is re-ingesting.
        """
        assert self.db is not None
        owner = leases.new_owner()
        lease = timedelta(seconds=max(self.settings.claim_lease, 30.0))
        with self.db.session() as session:
            if not leases.acquire_named(
                session, leases.INGEST, owner=owner, now=datetime.now(UTC), lease=lease
            ):
                holder = leases.named_holder(session, leases.INGEST, now=datetime.now(UTC))
                who = (
                    f"{holder.owner}, since {holder.acquired_at:%Y-%m-%d %H:%M} UTC"
                    if holder is not None
                    else "just now"
                )
                raise IngestBusy(
                    f"another process is re-ingesting the materials ({who}); its version "
                    "will be used by every process when it is published"
                )
        if on_start is not None:
            on_start()
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(lease.total_seconds() / 3):
                try:
                    with self.db.session() as session:  # type: ignore[union-attr]
                        leases.acquire_named(
                            session, leases.INGEST, owner=owner, now=datetime.now(UTC), lease=lease
                        )
                except SQLAlchemyError:  # retried; the lease has slack for two
                    logger.exception("could not renew the ingest lease")

        renewer = threading.Thread(target=renew, name="ingest-lease", daemon=True)
        renewer.start()
        try:
            return self._build_version(materials, rebuild=rebuild, progress=progress, owner=owner)
        finally:
            stop.set()
            renewer.join()
            try:
                with self.db.session() as session:
                    leases.release_named(session, leases.INGEST, owner=owner, now=datetime.now(UTC))
            except SQLAlchemyError:  # it runs out on its own
                logger.exception("could not release the ingest lease")

    def _build_version(
        self, materials: Path, *, rebuild: bool, progress: bool | None, owner: str
    ) -> IngestReport:
        """Build the next version from the current one and publish it (if it differs).

        The next version adds the changed materials' vectors to the current version's
        collection (a file's vectors are keyed by its content, so the processes still on
        the current version keep theirs). The first build, and a rebuild, start a new
        collection.
        """
        assert self.db is not None
        with self.db.session() as session:
            base = None if rebuild else shared_index.latest(session)
            base_files = shared_index.files_of(session, base.id) if base is not None else b""
        token = secrets.token_hex(6)
        work = self.settings.index_dir / "builds" / token
        client = chroma_client(work / "chroma", self.settings.chroma_url)
        try:
            if base is not None:
                shared_index.unpack(base_files, work)
                index = self._versioned_index(work, base.collection)
                if not index.pending_changes(materials, parallel_dir=self.settings.content_dir):
                    self.follow()
                    return IngestReport(skipped=sorted(index.files), chunks_total=len(index.chunks))
                return self._publish(
                    client, index, materials, base=base, progress=progress, owner=owner
                )
            collection = f"{COLLECTION}-{token}"
            with self.db.session() as session:
                shared_index.begin_build(session, collection, owner=owner, now=datetime.now(UTC))
            try:
                index = self._versioned_index(work, collection)
                return self._publish(
                    client, index, materials, base=None, progress=progress, owner=owner
                )
            except BaseException:
                self._drop_collections(client, [collection])
                raise
            finally:
                with self.db.session() as session:
                    shared_index.end_build(session, collection)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _publish(
        self,
        client: Any,
        index: KnowledgeIndex,
        materials: Path,
        *,
        base: shared_index.PublishedIndex | None,
        progress: bool | None,
        owner: str,
    ) -> IngestReport:
        """Ingest the materials into ``index``, publish the result and collect the garbage.

        Nothing is published when the result is the base again (a material that could not
        be read, say). After publishing, the collections no kept version uses are deleted,
        and so are the vectors no kept version names.
        """
        assert self.db is not None
        report = index.ingest(materials, parallel_dir=self.settings.content_dir, progress=progress)
        blob = shared_index.pack(index.directory)
        if base is not None and shared_index.digest(blob) == base.digest:
            return report
        with self.db.session() as session:
            report.published = shared_index.publish(
                session,
                collection=index.collection_name,
                embeddings=index.embeddings_id,
                blob=blob,
                summary=report.summary(),
                owner=owner,
                now=datetime.now(UTC),
            )
            retired = shared_index.retire(session)
            kept = shared_index.kept_tags(session)
            abandoned = shared_index.abandoned_builds(session, owner=owner)
        self._drop_collections(client, sorted({*retired, *abandoned} - set(kept)))
        for collection, tags in kept.items():
            try:
                deleted = collect_garbage(client.get_collection(collection), tags)
            except Exception:  # a tidy-up: the next publication tries again
                logger.exception("could not delete the unused vectors of %s", collection)
                continue
            if deleted:
                logger.info("deleted %d vectors no published index version uses", deleted)
        if abandoned:
            with self.db.session() as session:
                for name in abandoned:
                    shared_index.end_build(session, name)
        logger.info("ingest: published Q&A index version %d", report.published)
        self.follow()
        return report

    @staticmethod
    def _drop_collections(client: Any, names: list[str]) -> None:
        """Delete Chroma collections (a missing one is no error)."""
        for name in names:
            try:
                client.delete_collection(name)
            except Exception:  # Chroma raises a different error per version for a missing one
                logger.debug("no collection %s to delete", name)

    # -- using --------------------------------------------------------------------------

    def ingest(
        self,
        directory: Path | None = None,
        *,
        rebuild: bool = False,
        progress: bool | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> IngestReport:
        """Bring the index up to date with the materials (all of them when ``rebuild``).

        A rebuild first deletes the index whatever state it is in, so it repairs a damaged
        one; questions asked meanwhile get the 'not built' reply.

        Raises:
            KnowledgeDamaged: (without ``rebuild``) when the index cannot be read.
            IngestBusy: (shared mode) when another process is re-ingesting.
        """
        if self.shared:
            report = self._ingest_shared(
                directory or self.materials_dir,
                rebuild=rebuild,
                progress=progress,
                on_start=on_start,
            )
            logger.info("ingest: %s", report.summary())
            return report
        if on_start is not None:
            on_start()
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
        self.check_version()
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
