"""Shared fixtures: an internet guard, isolated settings, stores on SQLite and PostgreSQL,
the bot core on the sample course, and transcript drivers for every front door."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Person
from bot.library import CourseLibrary
from bot.qa import KnowledgeService
from bot.settings import Settings, load_settings
from bot.store.db import Database, normalise_url
from knowledge.embeddings import LocalE5Embeddings, embeddings_id
from knowledge.index import KnowledgeIndex
from knowledge.search import Retriever
from tests.chroma_server import chroma_server as start_chroma
from tests.drivers import (
    FRONT_DOORS,
    GROUP_DOORS,
    ChatDriver,
    GroupChatDriver,
    GroupFactory,
    front_door,
    group_door,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CONTENT = REPO / "content"
POSTGRES_ENV = "TRAINBOT_TEST_POSTGRES_URL"
LOCAL_ID = embeddings_id("local")


class InternetAccessError(RuntimeError):
    """A test tried to reach a host that is not on this machine."""


def _is_local(host: Any) -> bool:
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach a non-loopback address (or resolve its name)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def _check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise InternetAccessError(f"test tried to reach {address!r}")

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        _check(sock, address)
        return real_connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        _check(sock, address)
        return real_connect_ex(sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local(host):
            raise InternetAccessError(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TRAINBOT_ variable or .env file of the developer leaks into a test."""
    for name in list(os.environ):
        if name.startswith("TRAINBOT_") and name != POSTGRES_ENV:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    """A clock stopped at Monday 2026-11-16 01:30 UTC (09:30 in Shanghai)."""
    return FakeClock(datetime(2026, 11, 16, 1, 30, tzinfo=UTC))


def postgres_admin_url() -> str | None:
    """The PostgreSQL server given to the tests, if any."""
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    admin = postgres_admin_url()
    if admin is None:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} must be set in CI (.ci/run starts PostgreSQL)")
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV} to run the PostgreSQL tests")
    name = f"trainbot_t_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(admin)).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (``chroma run``, shipped with chromadb) for the session; its URL.

    Tests give each index a collection or version of its own, so they do not meet.
    """
    try:
        with start_chroma(tmp_path_factory.mktemp("chroma-server")) as server:
            yield server.url
    except RuntimeError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"a Chroma server must start in CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated store on each backend."""
    db = Database(db_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite store (for tests whose logic does not depend on the backend)."""
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path, private_index_dir: Path) -> Settings:
    """Settings for a test: the sample course and a copy of its index, a store in the test's
    folder."""
    return load_settings(
        database_url=f"sqlite:///{tmp_path / 'trainbot.db'}",
        content_dir=SAMPLE_CONTENT,
        index_dir=private_index_dir,
    )


@pytest.fixture
def private_index_dir(tmp_path: Path, sample_index_dir: Path) -> Path:
    """A copy of the sample index for one test. Opening an index writes Chroma's files (and
    a process killed on purpose may stop mid-write), so no test opens the session's master
    copy: in one CI run the shared index lost the English FAQ's vectors part way through
    the session and a later English question was answered from the Chinese materials."""
    copy = tmp_path / "private-index"
    shutil.copytree(sample_index_dir, copy)
    return copy


@pytest.fixture(scope="session")
def e5() -> LocalE5Embeddings:
    """The bundled multilingual-e5-small, loaded once per test session."""
    return LocalE5Embeddings()


@pytest.fixture(scope="session")
def sample_index_dir(
    tmp_path_factory: pytest.TempPathFactory, e5: LocalE5Embeddings
) -> Iterator[Path]:
    """The sample course's materials (and its bilingual lexicon), ingested once per session.

    The master copy, copied from where it was built so that no Chroma client has it open:
    tests open a copy of it (``private_index_dir``), never this folder, and the session
    ends with an error if its files changed all the same."""
    built = tmp_path_factory.mktemp("sample-index-build") / "index"
    KnowledgeIndex(built, e5, LOCAL_ID).ingest(
        SAMPLE_CONTENT / "materials", parallel_dir=SAMPLE_CONTENT, progress=False
    )
    directory = tmp_path_factory.mktemp("sample-index") / "index"
    shutil.copytree(built, directory)
    before = _digest(directory)
    yield directory
    assert _digest(directory) == before, f"a test wrote into the shared index {directory}"


def _digest(directory: Path) -> dict[str, str]:
    """Each file's SHA-256 under ``directory``, by relative path."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="session")
def sample_retriever(
    sample_index_dir: Path, e5: LocalE5Embeddings, tmp_path_factory: pytest.TempPathFactory
) -> Retriever:
    """A retriever over the sample course (over its own copy of the index)."""
    copy = tmp_path_factory.mktemp("retriever-index") / "index"
    shutil.copytree(sample_index_dir, copy)
    return Retriever(KnowledgeIndex(copy, e5, LOCAL_ID))


@pytest.fixture
def bot(settings: Settings, clock: FakeClock) -> TrainBot:
    """The real bot core: the sample course, Q&A over its index, a fresh store, a fake clock."""
    db = Database(settings.database_url)
    db.upgrade()
    library = CourseLibrary(settings.content_dir)
    assert library.reload() == []
    return TrainBot(
        settings=settings, db=db, library=library, knowledge=KnowledgeService(settings), clock=clock
    )


@pytest.fixture
def default_locale() -> str | None:
    """The platform locale of people made by ``chat_as`` (a module may override it)."""
    return "zh-CN"


@pytest.fixture(params=GROUP_DOORS)
async def in_group(request: pytest.FixtureRequest, bot: TrainBot) -> AsyncIterator[GroupFactory]:
    """Make people who chat with the bot in a group and privately, on each group door in
    turn: ``in_group("tom")``, ``in_group("lan", "zh-CN")``."""
    async with group_door(request.param, bot) as driver_for:

        def make(
            user_id: str = "alice", locale: str | None = "en-US", timezone: str | None = None
        ) -> GroupChatDriver:
            return driver_for(Person(request.param, user_id, user_id.title(), locale, timezone))

        yield make


@pytest.fixture(params=FRONT_DOORS)
async def chat_as(
    request: pytest.FixtureRequest, bot: TrainBot, default_locale: str | None
) -> AsyncIterator[Callable[..., ChatDriver]]:
    """Make drivers for people chatting through each front door in turn (the real adapter
    against its fake platform server): ``chat_as("alice", "en-US", "Europe/Berlin")``."""
    async with front_door(request.param, bot) as driver_for:

        def make(
            user_id: str = "alice",
            locale: str | None = default_locale,
            timezone: str | None = None,
        ) -> ChatDriver:
            return driver_for(Person(request.param, user_id, user_id.title(), locale, timezone))

        yield make
