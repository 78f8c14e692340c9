"""Chroma server mode: a real ``chroma run`` started by the test, reached over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.embeddings import LocalE5Embeddings
from knowledge.index import IndexMismatchError, KnowledgeIndex
from tests.knowledge.conftest import LOCAL_ID


def test_ingest_search_and_delete_through_a_chroma_server(
    chroma_server: str, tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    chroma_url = chroma_server
    materials = tmp_path / "materials"
    materials.mkdir()
    (materials / "recall.md").write_text(
        "# 召回\n\n连续三十天没有下单的用户会收到一次回归优惠。\n", encoding="utf-8"
    )
    (materials / "consent.md").write_text(
        "# Consent\n\nOnly message customers who opted in to marketing.\n", encoding="utf-8"
    )
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID, chroma_url=chroma_url)
    report = index.ingest(materials, progress=False)
    assert sorted(report.added) == ["consent.md", "recall.md"]
    assert not (tmp_path / "index" / "chroma").exists()  # vectors live on the server
    assert index.collection.count() == index.vector_count > 0
    assert index.dense("Which users get a win-back coupon?", 1)[0][0].startswith("recall.md#")

    (materials / "recall.md").unlink()
    reopened = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID, chroma_url=chroma_url)
    assert reopened.ingest(materials, progress=False).removed == ["recall.md"]
    assert reopened.collection.get(where={"path": "recall.md"})["ids"] == []
    assert all(chunk_id.startswith("consent.md#") for chunk_id, _ in reopened.dense("回归优惠", 5))

    with pytest.raises(IndexMismatchError, match="Chroma"):
        KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)  # same manifest, embedded Chroma
