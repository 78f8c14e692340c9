"""One Q&A index for every bot process: versions published in the store.

With a Chroma server (``TRAINBOT_CHROMA_URL``) several bot processes answer questions, on
one machine or many. The vectors live on the server, in a collection the versions of a
course share (a file's vectors keyed by its content, :class:`knowledge.index.KnowledgeIndex`
``versioned``); the rest of the index (manifest, passages and their keywords, lexicon,
calibration) is small and travels as one zip in the store's ``index_versions`` table, so
a process that never built the index answers from it, and every process answers from the
same one.

- **Publishing.** One process at a time re-ingests: it holds the ``ingest`` named lease
  (:mod:`bot.leases`). It starts from the current version's files, adds the vectors of the
  changed materials to the shared collection, and publishes the result as the next
  version. Readers on the old version search only the vectors their own manifest names
  meanwhile, so nobody reads a half-written index. The first build and a rebuild start a
  new collection.
- **Following.** A process checks the latest version before each question (one indexed
  read) and every ``TRAINBOT_INDEX_POLL`` seconds; a newer one is downloaded, opened and
  warmed, then swapped in under the service's lock (a large one in the background). A
  question never sees a missing index.
- **Retiring.** The newest :data:`KEEP` versions are kept; the publisher deletes older
  rows, the vectors no kept version names, and collections no kept version uses. A
  process still on a retired version (it slept through :data:`KEEP` publications) may
  miss vectors until its next question takes the newest.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.models import IndexVersion, NamedLease
from knowledge.index import INDEX_FILES, content_tag

logger = logging.getLogger(__name__)

KEEP = 3
"""How many published versions (and their Chroma collections) are kept."""

BUILD_PREFIX = "index-build:"
"""Named-lease rows marking a collection being built, so one left by a killed ingest is
found and deleted by the next publisher (and never a collection of another deployment that
shares the Chroma server)."""

LOCAL_DIR = "versions"
"""Folder under ``TRAINBOT_INDEX_DIR`` where a process unpacks the versions it reads."""


@dataclass(frozen=True)
class PublishedIndex:
    """A published index version, without its files."""

    id: int
    collection: str
    embeddings: str
    digest: str
    size: int
    summary: str
    published_by: str
    created_at: datetime


_COLUMNS = (
    IndexVersion.id,
    IndexVersion.collection,
    IndexVersion.embeddings,
    IndexVersion.digest,
    IndexVersion.size,
    IndexVersion.summary,
    IndexVersion.published_by,
    IndexVersion.created_at,
)


def latest(session: Session) -> PublishedIndex | None:
    """The current version (the highest id), or ``None`` when none was published."""
    row = session.execute(select(*_COLUMNS).order_by(IndexVersion.id.desc()).limit(1)).first()
    return PublishedIndex(*row) if row is not None else None


def files_of(session: Session, version: int) -> bytes:
    """The zipped index files of a version.

    Raises:
        LookupError: when the version was retired meanwhile.
    """
    blob = session.scalar(select(IndexVersion.files).where(IndexVersion.id == version))
    if blob is None:
        raise LookupError(f"index version {version} is no longer published")
    return bytes(blob)


def pack(directory: Path) -> bytes:
    """The index files in ``directory`` as one zip (the Chroma folder is not among them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in INDEX_FILES:
            path = directory / name
            if path.is_file():
                # A fixed date: the same files give the same bytes, so the same digest.
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def digest(blob: bytes) -> str:
    """SHA-256 of a packed index."""
    return hashlib.sha256(blob).hexdigest()


def unpack(blob: bytes, directory: Path) -> None:
    """Write a packed index into ``directory`` (made whole first, then moved into place).

    Raises:
        ValueError: when the zip names a file that is not an index file.
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f"{directory.name}.part")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        for name in archive.namelist():
            if name not in INDEX_FILES:  # never a path of the zip's choosing
                raise ValueError(f"unexpected file {name!r} in a published index")
            (staging / name).write_bytes(archive.read(name))
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)


def publish(
    session: Session,
    *,
    collection: str,
    embeddings: str,
    blob: bytes,
    summary: str,
    owner: str,
    now: datetime,
) -> int:
    """Record a new version (the current one from now on); returns its id."""
    version = IndexVersion(
        collection=collection,
        embeddings=embeddings,
        digest=digest(blob),
        size=len(blob),
        files=blob,
        summary=summary[:2000],
        published_by=owner,
        created_at=now,
    )
    session.add(version)
    session.flush()
    return version.id


def retire(session: Session, *, keep: int = KEEP) -> list[str]:
    """Delete the versions older than the newest ``keep``; returns their collections."""
    old = session.execute(
        select(IndexVersion.id, IndexVersion.collection)
        .order_by(IndexVersion.id.desc())
        .offset(keep)
    ).all()
    if old:
        session.execute(delete(IndexVersion).where(IndexVersion.id.in_([row.id for row in old])))
    return [row.collection for row in old]


def begin_build(session: Session, collection: str, *, owner: str, now: datetime) -> None:
    """Mark ``collection`` as being built by ``owner`` (before it is created)."""
    session.add(
        NamedLease(name=f"{BUILD_PREFIX}{collection}", owner=owner, acquired_at=now, expires_at=now)
    )


def end_build(session: Session, collection: str) -> None:
    """The build of ``collection`` ended: published, or its collection deleted."""
    session.execute(delete(NamedLease).where(NamedLease.name == f"{BUILD_PREFIX}{collection}"))


def abandoned_builds(session: Session, *, owner: str) -> list[str]:
    """Collections of builds another process began and never ended (it was killed).

    Only the holder of the ``ingest`` lease asks, so no other build is under way.
    """
    names = session.scalars(
        select(NamedLease.name).where(
            NamedLease.name.startswith(BUILD_PREFIX), NamedLease.owner != owner
        )
    )
    return sorted(name.removeprefix(BUILD_PREFIX) for name in names)


def content_tags(blob: bytes) -> set[str]:
    """The content tags of the files a packed index names (its vectors' ``sha``)."""
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    return {content_tag(entry["sha256"]) for entry in manifest["files"].values()}


def kept_tags(session: Session) -> dict[str, set[str]]:
    """For each collection still in use, the content tags its published versions name."""
    kept: dict[str, set[str]] = {}
    for collection, blob in session.execute(select(IndexVersion.collection, IndexVersion.files)):
        kept.setdefault(collection, set()).update(content_tags(bytes(blob)))
    return kept


def local_dir(index_dir: Path, version: int) -> Path:
    """Where this process unpacks ``version``."""
    return index_dir / LOCAL_DIR / f"v{version}"


def prune_local(index_dir: Path, keep: set[int]) -> None:
    """Delete the unpacked versions other than ``keep`` (and unfinished unpackings)."""
    root = index_dir / LOCAL_DIR
    if not root.is_dir():
        return
    for path in root.iterdir():
        name = path.name
        if name.startswith("v") and name[1:].isdigit() and int(name[1:]) in keep:
            continue
        shutil.rmtree(path, ignore_errors=True)
