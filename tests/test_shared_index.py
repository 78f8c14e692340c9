"""One Q&A index for every bot process: versions published in the store, vectors on a
real Chroma server (``chroma run``), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot import leases, metrics, shared_index
from bot.qa import NOT_BUILT, IngestBusy, KnowledgeService
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import IndexVersion
from knowledge.embeddings import LocalE5Embeddings
from knowledge.index import COLLECTION, chroma_client, content_tag

RECALL = "# Win-back\n\nUsers who have not ordered for {days} days get one win-back coupon.\n"
CONSENT = "# Consent\n\nOnly message customers who opted in to marketing messages.\n"
QUESTION = "Which users get a win-back coupon?"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A small course: two materials, no lessons."""
    materials = tmp_path / "course" / "materials"
    materials.mkdir(parents=True)
    (materials / "recall.md").write_text(RECALL.format(days="thirty"), encoding="utf-8")
    (materials / "consent.md").write_text(CONSENT, encoding="utf-8")
    return materials.parent


def process(
    name: str, tmp_path: Path, course: Path, database: Database, chroma_server: str
) -> KnowledgeService:
    """The knowledge service of one bot process: its own index folder, the shared store."""
    settings = load_settings(
        database_url=database.url,
        content_dir=course,
        index_dir=tmp_path / name / "index",
        chroma_url=chroma_server,
    )
    return KnowledgeService(settings, db=database)


def two_processes(
    tmp_path: Path, course: Path, database: Database, chroma_server: str, e5: LocalE5Embeddings
) -> tuple[KnowledgeService, KnowledgeService]:
    """One process that ingests and one that reads, with the bundled model loaded once."""
    ingester = process("ingester", tmp_path, course, database, chroma_server)
    reader = process("reader", tmp_path, course, database, chroma_server)
    ingester._embeddings = reader._embeddings = e5
    return ingester, reader


def collections(chroma_server: str) -> set[str]:
    client = chroma_client(Path("unused"), chroma_server)
    return {getattr(item, "name", item) for item in client.list_collections()}


def versions(database: Database) -> list[int]:
    with database.session() as session:
        return list(session.scalars(select(IndexVersion.id).order_by(IndexVersion.id)))


def test_one_process_publishes_the_others_answer_from_it_and_follow_a_new_version(
    tmp_path: Path,
    course: Path,
    database: Database,
    chroma_server: str,
    e5: LocalE5Embeddings,
) -> None:
    ingester = process("ingester", tmp_path, course, database, chroma_server)
    reader = process("reader", tmp_path, course, database, chroma_server)
    ingester._embeddings = reader._embeddings = e5  # the bundled model, loaded once
    assert reader.problem == NOT_BUILT

    first = ingester.ingest(progress=False)
    assert sorted(first.added) == ["consent.md", "recall.md"]
    assert first.published is not None
    assert "published as index version" in first.summary()

    answer = reader.ask(QUESTION)
    assert answer.answered and "thirty" in answer.text
    assert reader.version == first.published
    assert (tmp_path / "reader" / "index" / "versions" / f"v{first.published}").is_dir()

    # Nothing changed: nothing is published.
    again = ingester.ingest(progress=False)
    assert again.published is None and sorted(again.skipped) == ["consent.md", "recall.md"]
    assert versions(database) == [first.published]

    # A changed material: only it is embedded again, and the reader's next question uses it.
    (course / "materials" / "recall.md").write_text(RECALL.format(days="sixty"), encoding="utf-8")
    second = ingester.ingest(progress=False)
    assert second.updated == ["recall.md"] and second.skipped == ["consent.md"]
    assert second.chunks_written == 1
    assert second.published is not None and second.published > first.published
    answer = reader.ask(QUESTION)
    assert "sixty" in answer.text and "thirty" not in answer.text
    assert reader.version == second.published
    assert metrics.value("trainbot_index_version") == second.published
    # The reader keeps the version it left, for a question still under way, no more.
    assert sorted(p.name for p in (tmp_path / "reader" / "index" / "versions").iterdir()) == [
        f"v{first.published}",
        f"v{second.published}",
    ]


def test_old_versions_are_retired_with_the_vectors_only_they_used(
    tmp_path: Path,
    course: Path,
    database: Database,
    chroma_server: str,
    e5: LocalE5Embeddings,
) -> None:
    ingester = process("ingester", tmp_path, course, database, chroma_server)
    ingester._embeddings = e5
    published = []
    for days in ("ten", "twenty", "thirty", "forty"):
        (course / "materials" / "recall.md").write_text(RECALL.format(days=days), encoding="utf-8")
        report = ingester.ingest(progress=False)
        assert report.published is not None
        published.append(report.published)
    assert versions(database) == published[-shared_index.KEEP :]
    with database.session() as session:
        kept = shared_index.kept_tags(session)
    [(collection, tags)] = kept.items()  # the versions of one course share a collection
    stored = chroma_client(Path("unused"), chroma_server).get_collection(collection)
    on_server = {metadata["sha"] for metadata in stored.get(include=["metadatas"])["metadatas"]}
    assert on_server == tags
    assert tag_of(RECALL.format(days="ten")) not in on_server  # only the retired version had it
    assert {tag_of(RECALL.format(days=d)) for d in ("twenty", "thirty", "forty")} <= on_server

    # A rebuild starts a collection of its own; the old one goes once no version uses it.
    rebuilt = ingester.ingest(rebuild=True, progress=False)
    assert rebuilt.published is not None
    with database.session() as session:
        assert len(shared_index.kept_tags(session)) == 2
    for days in ("fifty", "sixty", "seventy"):
        (course / "materials" / "recall.md").write_text(RECALL.format(days=days), encoding="utf-8")
        assert ingester.ingest(progress=False).published is not None
    with database.session() as session:
        assert collection not in shared_index.kept_tags(session)
    assert collection not in collections(chroma_server)


def tag_of(text: str) -> str:
    return content_tag(hashlib.sha256(text.encode()).hexdigest())


def test_a_second_ingest_is_refused_while_one_runs(
    tmp_path: Path,
    course: Path,
    database: Database,
    chroma_server: str,
) -> None:
    ingester = process("ingester", tmp_path, course, database, chroma_server)
    now = datetime.now(UTC)
    with database.session() as session:
        assert leases.acquire_named(
            session, leases.INGEST, owner="host-b:4242:abcd", now=now, lease=timedelta(minutes=5)
        )
    with pytest.raises(IngestBusy, match=r"another process is re-ingesting .*host-b:4242:abcd"):
        ingester.ingest(progress=False)
    assert versions(database) == []


def test_a_killed_ingests_collection_is_deleted_by_the_next_publisher(
    tmp_path: Path,
    course: Path,
    database: Database,
    chroma_server: str,
    e5: LocalE5Embeddings,
) -> None:
    client = chroma_client(Path("unused"), chroma_server)
    left = f"{COLLECTION}-killed{datetime.now(UTC):%H%M%S%f}"
    client.create_collection(left, embedding_function=None)
    with database.session() as session:  # what the killed process had recorded
        shared_index.begin_build(session, left, owner="gone:1:0000", now=datetime.now(UTC))
    other_deployment = f"{COLLECTION}-other{datetime.now(UTC):%H%M%S%f}"
    client.create_collection(other_deployment, embedding_function=None)

    ingester = process("ingester", tmp_path, course, database, chroma_server)
    ingester._embeddings = e5
    assert ingester.ingest(progress=False).published is not None
    present = collections(chroma_server)
    assert left not in present
    assert other_deployment in present, "a collection this store never began is not ours"
    with database.session() as session:
        assert shared_index.abandoned_builds(session, owner="anyone") == []
        [live] = shared_index.kept_tags(session)

    # An ingest killed after writing vectors into the live collection leaves them behind;
    # the next publication deletes them.
    stray = {"path": "recall.md", "chunk": "recall.md#0", "sha": "f" * 16}
    client.get_collection(live).add(
        ids=[f"{'f' * 16}/recall.md#0~0"], embeddings=[[0.1] * 384], metadatas=[stray]
    )
    (course / "materials" / "recall.md").write_text(RECALL.format(days="sixty"), encoding="utf-8")
    assert ingester.ingest(progress=False).published is not None
    assert client.get_collection(live).get(where={"sha": "f" * 16})["ids"] == []


def test_a_version_that_cannot_be_used_leaves_the_one_in_use(
    tmp_path: Path,
    course: Path,
    database: Database,
    chroma_server: str,
    e5: LocalE5Embeddings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingester, reader = two_processes(tmp_path, course, database, chroma_server, e5)
    first = ingester.ingest(progress=False).published
    assert reader.ask(QUESTION).answered
    (course / "materials" / "recall.md").write_text(RECALL.format(days="sixty"), encoding="utf-8")
    second = ingester.ingest(progress=False).published
    assert second is not None
    with database.session() as session:  # damaged on its way through the store
        session.execute(
            update(IndexVersion).where(IndexVersion.id == second).values(files=b"not a zip")
        )
    with caplog.at_level(logging.ERROR, logger="bot.qa"):
        answer = reader.ask(QUESTION)
    assert answer.answered and "thirty" in answer.text
    assert reader.version == first
    assert f"index version {second} cannot be used" in caplog.text
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(IndexVersion)) == 2


def test_questions_asked_while_versions_switch_are_all_answered(
    tmp_path: Path,
    course: Path,
    database: Database,
    chroma_server: str,
    e5: LocalE5Embeddings,
) -> None:
    ingester, reader = two_processes(tmp_path, course, database, chroma_server, e5)
    ingester.ingest(progress=False)
    answers: list[str] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def ask_all_along() -> None:
        while not done.is_set():
            try:
                answer = reader.ask(QUESTION)
            except BaseException as exc:  # any failure is what the test looks for
                failures.append(exc)
                return
            if not answer.answered:
                failures.append(AssertionError(f"declined: {answer.text}"))
                return
            answers.append(answer.text)

    asker = threading.Thread(target=ask_all_along)
    asker.start()
    try:
        for days in ("forty", "fifty"):
            (course / "materials" / "recall.md").write_text(
                RECALL.format(days=days), encoding="utf-8"
            )
            assert ingester.ingest(progress=False).published is not None
            reader.follow()  # as the scheduler's index check would
    finally:
        done.set()
        asker.join(30)
    assert not failures
    assert len(answers) >= 3
    assert "fifty" in answers[-1] or "fifty" in reader.ask(QUESTION).text
    seen = {word for text in answers for word in ("thirty", "forty", "fifty") if word in text}
    assert "thirty" in seen


def test_a_large_version_is_loaded_in_the_background_while_questions_go_on(
    tmp_path: Path,
    course: Path,
    database: Database,
    chroma_server: str,
    e5: LocalE5Embeddings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from bot import qa

    ingester, reader = two_processes(tmp_path, course, database, chroma_server, e5)
    first = ingester.ingest(progress=False).published
    assert "thirty" in reader.ask(QUESTION).text
    monkeypatch.setattr(qa, "SWITCH_INLINE_BYTES", 0)  # every version counts as large
    (course / "materials" / "recall.md").write_text(RECALL.format(days="sixty"), encoding="utf-8")
    second = ingester.ingest(progress=False).published
    assert "thirty" in reader.ask(QUESTION).text  # answered at once, from the version in use
    deadline = time.monotonic() + 30
    while reader.version != second and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reader.version == second != first
    assert "sixty" in reader.ask(QUESTION).text
