"""Chroma server mode: a real ``chroma run`` started by the test, reached over HTTP."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.embeddings import LocalE5Embeddings
from knowledge.index import IndexMismatchError, KnowledgeIndex
from tests.knowledge.conftest import LOCAL_ID


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    executable = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(executable).exists():
        pytest.skip("the 'chroma' command (shipped with chromadb) is not installed")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [executable, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"PATH": "/usr/bin:/bin", "ANONYMIZED_TELEMETRY": "False", "HOME": str(data)},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.skip(
                f"chroma run exited with {process.returncode}: {(data / 'server.log').read_text()[-500:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.skip("chroma run did not answer within 60 s")
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_ingest_search_and_delete_through_a_chroma_server(
    chroma_url: str, tmp_path: Path, e5: LocalE5Embeddings
) -> None:
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
