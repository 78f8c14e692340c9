"""Incremental ingestion into Chroma + BM25: add, change, delete, skip, and bad files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from knowledge.embeddings import LocalE5Embeddings
from knowledge.index import IndexMismatchError, KnowledgeIndex, sentence_units
from knowledge.types import Chunk
from tests.knowledge.conftest import LOCAL_ID

RETENTION = """# 留存手册

## 召回

连续三十天没有下单的用户，由运营专员在周三发送回归优惠。优惠只发一次，避免打扰。
"""

PRIVACY = """# Privacy basics

## Consent

Only message customers who opted in. Keep the opt-in record for two years.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_add_change_delete_and_skip(tmp_path: Path, e5: LocalE5Embeddings) -> None:
    materials = tmp_path / "materials"
    materials.mkdir()
    write(materials, "retention.md", RETENTION)
    write(materials, "privacy.md", PRIVACY)
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)

    first = index.ingest(materials, progress=False)
    assert (sorted(first.added), first.updated, first.removed, first.skipped) == (
        ["privacy.md", "retention.md"],
        [],
        [],
        [],
    )
    assert first.chunks_total == len(index.chunks) == first.chunks_written
    assert index.keyword("回归优惠", 3)[0][0].startswith("retention.md#")
    assert index.dense("How long do we keep the opt-in record?", 3)[0][0].startswith("privacy.md#")

    again = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID).ingest(materials, progress=False)
    assert sorted(again.skipped) == ["privacy.md", "retention.md"] and not again.changed
    assert again.chunks_written == 0

    write(materials, "retention.md", RETENTION.replace("周三", "周五"))
    (materials / "privacy.md").unlink()
    write(materials, "calendar.txt", "培训日历\n双十一大促期间暂停所有推送。\n")
    reopened = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    changed = reopened.ingest(materials, progress=False)
    assert changed.updated == ["retention.md"]
    assert changed.removed == ["privacy.md"]
    assert changed.added == ["calendar.txt"]
    assert not any(chunk.path == "privacy.md" for chunk in reopened.chunks.values())
    assert all(
        chunk_id.split("#")[0] != "privacy.md"
        for chunk_id, _ in reopened.dense("opt-in record consent", 10)
    )
    assert reopened.keyword("opt-in record", 5) == []
    stored = reopened.collection.get(where={"path": "privacy.md"})
    assert stored["ids"] == []  # gone from Chroma too
    texts = " ".join(chunk.text for chunk in reopened.chunks.values())
    assert "周五" in texts and "周三" not in texts
    assert reopened.keyword("双十一", 3)[0][0].startswith("calendar.txt#")
    assert reopened.collection.count() == reopened.vector_count


def test_touched_but_unchanged_files_are_skipped_by_hash(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    materials = tmp_path / "materials"
    materials.mkdir()
    path = write(materials, "retention.md", RETENTION)
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    index.ingest(materials, progress=False)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    report = index.ingest(materials, progress=False)
    assert report.skipped == ["retention.md"] and report.chunks_written == 0
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["files"]["retention.md"]["mtime_ns"] == path.stat().st_mtime_ns


def test_an_unreadable_file_is_reported_and_the_rest_ingested(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    materials = tmp_path / "materials"
    materials.mkdir()
    write(materials, "retention.md", RETENTION)
    (materials / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    report = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID).ingest(materials, progress=False)
    assert report.added == ["retention.md"]
    assert [error.path for error in report.errors] == ["broken.pdf"]
    assert report.errors[0].reason


def test_an_index_built_with_another_model_must_be_rebuilt(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    materials = tmp_path / "materials"
    materials.mkdir()
    write(materials, "retention.md", RETENTION)
    KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID).ingest(materials, progress=False)
    with pytest.raises(IndexMismatchError, match="rebuild it with 'trainbot ingest --rebuild'"):
        KnowledgeIndex(tmp_path / "index", e5, "openai:text-embedding-3-small")


def test_sentence_units_carry_their_heading() -> None:
    chunk = Chunk("a.md#0", "a.md", "Guide", "留存 > 召回", "第一句话在这里。第二句话也在这里。", 0)
    assert sentence_units(chunk) == ["召回：第一句话在这里。", "召回：第二句话也在这里。"]
    english = Chunk("b.md#0", "b.md", "Guide", "", "Hi. Another sentence here.", 0)
    assert sentence_units(english) == ["Guide: Another sentence here."]
