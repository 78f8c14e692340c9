"""Where the shared index lives: loading a published version, against local files.

With a Chroma server, every bot process reads the keyword index, lexicon and calibration
of the current version from the store (:mod:`bot.shared_index`): it downloads the zip,
unpacks it, opens it and warms it (the keyword index built, the HNSW index of its Chroma
collection loaded). The alternative was a shared volume every process mounts; its cost is
opening the same files from a local disk, measured here in the same process as the
baseline.

Indexes of 1,000 to 30,000 passages are made from the sample course's own passages (new ids
and paths, the same texts) with random unit vectors, so the sizes are those of a real
course of that many passages without hours of embedding.

Needs ``TRAINBOT_BENCH_POSTGRES_URL`` (a server where databases may be created) and the
``chroma`` command; skipped with a line saying so otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks import perf
from benchmarks.report import replace_section
from bot import shared_index
from bot.qa import KnowledgeService
from bot.settings import load_settings
from bot.store.db import Database, normalise_url
from knowledge.embeddings import LocalE5Embeddings, embeddings_id
from knowledge.index import COLLECTION, KnowledgeIndex, chroma_client, content_tag
from knowledge.tokenize import tokenize
from tests.chroma_server import chroma_server

logger = logging.getLogger("benchmarks.index_artifact")

POSTGRES_ENV = "TRAINBOT_BENCH_POSTGRES_URL"
SIZES = (1_000, 10_000, 30_000)
SENTENCES_PER_PASSAGE = 4
REPEATS = 5
HEADING = "Shared index: loading a published version"


def _synthetic_index(
    directory: Path, size: int, client: Any, e5: LocalE5Embeddings, base: KnowledgeIndex
) -> tuple[str, int]:
    """An index of ``size`` passages (the sample's, repeated) in a new collection."""
    collection = f"{COLLECTION}-bench{secrets.token_hex(4)}"
    index = KnowledgeIndex(
        directory,
        e5,
        embeddings_id("local"),
        chroma_url="bench",
        collection=collection,
        versioned=True,
    )
    samples = list(base.chunks.values())
    rng = np.random.default_rng(size)
    per_file = 50
    ids: list[str] = []
    metadatas: list[dict[str, str]] = []
    for number in range(size):
        sample = samples[number % len(samples)]
        path = f"bench/file{number // per_file:05d}.md"
        chunk = replace(sample, id=f"{path}#{number % per_file}", path=path)
        index.chunks[chunk.id] = chunk
        index.tokens[chunk.id] = tokenize(chunk.embedding_text())
        sha = hashlib.sha256(path.encode()).hexdigest()
        entry = index.files.setdefault(
            path, {"sha256": sha, "size": 0, "mtime_ns": 0, "chunks": [], "vectors": 0}
        )
        entry["chunks"].append(chunk.id)
        entry["vectors"] += SENTENCES_PER_PASSAGE
        for sentence in range(SENTENCES_PER_PASSAGE):
            ids.append(f"{content_tag(sha)}/{chunk.id}~{sentence}")
            metadatas.append({"path": path, "chunk": chunk.id, "sha": content_tag(sha)})
    index.lexicon = base.lexicon
    index.calibration = base.calibration
    index._save()  # the files a real ingest writes, without embedding
    shutil.copy(base.lexicon_path, index.lexicon_path)
    shutil.copy(base.calibration_path, index.calibration_path)
    vectors = rng.standard_normal((len(ids), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    target = client.create_collection(
        collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
    for start in range(0, len(ids), 5000):
        target.add(
            ids=ids[start : start + 5000],
            embeddings=vectors[start : start + 5000],
            metadatas=metadatas[start : start + 5000],
        )
    return collection, len(ids)


def run() -> dict[str, Any]:
    """Publish indexes of several sizes and time loading them; ``{}`` when skipped."""
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        logger.warning("shared index section skipped: set %s to a PostgreSQL URL", POSTGRES_ENV)
        return {}
    work = Path(tempfile.mkdtemp(prefix="bench-artifact-"))
    name = f"bench_artifact_{secrets.token_hex(4)}"
    engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(admin)).set(database=name).render_as_string(hide_password=False)
    (work / "chroma").mkdir()
    servers = contextlib.ExitStack()
    chroma_url = servers.enter_context(chroma_server(work / "chroma")).url
    rows: list[dict[str, Any]] = []
    try:
        db = Database(url)
        db.upgrade()
        e5 = LocalE5Embeddings()
        base_dir = work / "sample"
        KnowledgeIndex(base_dir, e5, embeddings_id("local")).ingest(
            perf.SAMPLE_MATERIALS, parallel_dir=perf.SAMPLE_MATERIALS.parent, progress=False
        )
        base = KnowledgeIndex(base_dir, e5, embeddings_id("local"))
        client = chroma_client(work / "unused", chroma_url)
        for size in SIZES:
            logger.info("shared index: %d passages", size)
            built = work / f"built-{size}"
            collection, vectors = _synthetic_index(built, size, client, e5, base)
            blob = shared_index.pack(built)
            with db.session() as session:
                shared_index.publish(
                    session,
                    collection=collection,
                    embeddings=embeddings_id("local"),
                    blob=blob,
                    summary=f"{size} passages",
                    owner="benchmark",
                    now=datetime.now(UTC),
                )
            follow, local = [], []
            for attempt in range(REPEATS):
                settings = load_settings(
                    database_url=url,
                    chroma_url=chroma_url,
                    index_dir=work / f"reader-{size}-{attempt}",
                )
                service = KnowledgeService(settings, db=db)
                service._embeddings = e5  # the model stays loaded, as in a replica
                began = time.perf_counter()
                assert service.follow()
                follow.append(time.perf_counter() - began)
                began = time.perf_counter()
                KnowledgeIndex(
                    built,
                    e5,
                    embeddings_id("local"),
                    chroma_url=chroma_url,
                    collection=collection,
                    versioned=True,
                ).warm_up()
                local.append(time.perf_counter() - began)
            rows.append(
                {
                    "passages": size,
                    "vectors": vectors,
                    "zip_bytes": len(blob),
                    "files_bytes": sum(p.stat().st_size for p in built.iterdir() if p.is_file()),
                    "follow": statistics.median(follow),
                    "local": statistics.median(local),
                }
            )
            logger.info("shared index: %s", rows[-1])
        db.dispose()
    finally:
        servers.close()
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
    return {"rows": rows, "repeats": REPEATS}


def markdown(data: dict[str, Any]) -> list[str]:
    """The report section."""
    lines = [
        f"## {HEADING}",
        "",
        "With a Chroma server, each bot process loads the current index version from the "
        "store: download, unpack, open, warm (`bot/shared_index.py`). The baseline opens and "
        "warms the same files from the local disk in the same process, which is what a "
        "shared volume would cost. "
        f"Medians of {data['repeats']} loads; passages are the sample course's, repeated, with "
        f"{SENTENCES_PER_PASSAGE} random 384-dimension vectors each.",
        "",
        "| passages | vectors | zip in the store | files unpacked | load from the store | "
        "open local files | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in data["rows"]:
        lines.append(
            f"| {row['passages']:,} | {row['vectors']:,} | {row['zip_bytes'] / 1e6:.1f} MB | "
            f"{row['files_bytes'] / 1e6:.1f} MB | {row['follow']:.2f} s | {row['local']:.2f} s | "
            f"{row['follow'] / row['local']:.1f}× |"
        )
    lines += [
        "",
        "Reproduce: `TRAINBOT_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres "
        'make bench BENCH_ARGS="--only artifact"`.',
        "",
    ]
    return lines


def add_to_report(path: Path, data: dict[str, Any]) -> None:
    """Put the section into a written report, with a row in its Summary table."""
    if not data.get("rows"):
        return
    largest = data["rows"][-1]
    summary = [
        f"| Shared index: loading a {largest['passages']:,}-passage version from the store | "
        f"— | {largest['follow']:.2f} s (local files {largest['local']:.2f} s) | |"
    ]
    replace_section(path, HEADING, markdown(data), summary, row_prefix="| Shared index:")
