"""The operations endpoints of ``trainbot run``: ``/healthz``, ``/readyz`` and ``/metrics``.

An aiohttp server on ``TRAINBOT_OPS_PORT`` (off when 0), for a load balancer, an
orchestrator and a Prometheus server:

- ``/healthz`` answers 200 ``{"status": "ok"}`` whenever the event loop runs: restart the
  process when it stops answering.
- ``/readyz`` checks what serving needs and says so per check: the store (``SELECT 1``,
  in a worker thread, with a time limit), the Q&A index, and each started front door's
  platform (the door's :meth:`ready`, a cheap API call cached for a while so probes do
  not hammer the platform). 503 while starting or stopping, or when the store or a
  platform cannot be reached; else 200.
- ``/metrics`` is the Prometheus text format of :data:`bot.metrics.REGISTRY`.

**Degraded, not down.** A broken or missing Q&A index is reported as ``degraded`` and
``/readyz`` still answers 200. Without the index only questions fail, and they get a
clear "temporarily unavailable" reply (:mod:`bot.qa`); pushes, quizzes, lessons and
reports keep running. Taking the replica out of the load balancer would not bring
questions back (every replica reads the same index), it would only make Slack commands
and Telegram webhooks of this replica fail too. The store and the platforms are
different: without them this replica can do nothing useful, so it is not ready.

The checks never block the event loop: the store and the index are asked in worker
threads, and while one such check is still waiting (a store that hangs), later probes
wait for it instead of starting another, so a hung store cannot use up the threads the
dispatcher and the use cases need.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from aiohttp import web
from sqlalchemy import text

from bot import logsafety, metrics
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.qa import KnowledgeService
    from bot.store.db import Database

logger = logging.getLogger(__name__)

T = TypeVar("T")

OK = "ok"
DEGRADED = "degraded"
DOWN = "down"
STARTING = "starting"
SERVING = "serving"
STOPPING = "stopping"
STORE_TIMEOUT = 2.0
INDEX_TIMEOUT = 2.0
PLATFORM_TTL = 15.0
"""How long a platform's answer is reused before the platform is asked again."""
PLATFORM_TIMEOUT = 3.0
DETAIL_CHARS = 300


@dataclass(frozen=True)
class Check:
    """The result of one readiness check.

    Attributes:
        status: ``ok``, ``degraded`` (works in part) or ``down``.
        detail: why, when not ok (one line, secrets redacted).
    """

    status: str
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        """The check as it appears in ``/readyz``."""
        return (
            {"status": self.status, "detail": self.detail}
            if self.detail
            else {"status": self.status}
        )


def describe(exc: BaseException) -> str:
    """One short line about a failure, with every known secret redacted."""
    first = (str(exc).strip().splitlines() or [""])[0]
    line = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return logsafety.scrub(line)[:DETAIL_CHARS]


class CachedProbe:
    """Asks a platform whether it answers, at most once per ``ttl`` seconds.

    Probes in between get the last answer; probes arriving while a call is under way wait
    for that call. A load balancer probing every few seconds then costs the platform one
    cheap call (``getMe``, ``auth.test``) per ``ttl``.

    Args:
        call: the cheap API call; any exception or a timeout means the platform is down.
        ttl: how long an answer is reused.
        timeout: how long the call may take.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        call: Callable[[], Awaitable[object]],
        *,
        ttl: float = PLATFORM_TTL,
        timeout: float = PLATFORM_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._call = call
        self.ttl = ttl
        self.timeout = timeout
        self._clock = clock
        self._last: Check | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    def _fresh(self) -> Check | None:
        if self._last is not None and self._clock() - self._at < self.ttl:
            return self._last
        return None

    async def check(self) -> Check:
        """Whether the platform answered, now or within the last ``ttl`` seconds."""
        cached = self._fresh()
        if cached is not None:
            return cached
        async with self._lock:
            cached = self._fresh()  # another probe asked while this one waited
            if cached is not None:
                return cached
            try:
                await asyncio.wait_for(self._call(), self.timeout)
            except TimeoutError:
                result = Check(DOWN, f"no answer within {self.timeout:g} s")
            except Exception as exc:
                result = Check(DOWN, describe(exc))
            else:
                result = Check(OK)
            self._last, self._at = result, self._clock()
            return result


class _OneAtATime(Generic[T]):
    """Runs an off-loop check; while one is still under way, the next probe waits for it."""

    def __init__(self, start: Callable[[], Awaitable[T]]) -> None:
        self._start = start
        self._running: asyncio.Future[T] | None = None

    async def __call__(self, limit: float) -> T:
        """The check's result.

        Raises:
            TimeoutError: when it took longer than ``limit`` seconds (it keeps running).
            Exception: whatever the check raised.
        """
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._start())
            # Retrieved here, so a failure nobody waited for is not reported as lost.
            self._running.add_done_callback(lambda done: done.cancelled() or done.exception())
        return await asyncio.wait_for(asyncio.shield(self._running), limit)


class ReadyDoor(Protocol):
    """What the readiness check needs from a front door."""

    platform: str

    async def ready(self) -> Check:
        """Whether the door's platform can be reached (cached, cheap)."""
        ...


class OpsServer:
    """The ``/healthz``, ``/readyz`` and ``/metrics`` endpoints of one bot process.

    Args:
        db: the store.
        knowledge: the Q&A service (``None``: questions are off, reported degraded).
        doors: the started front doors; the runner appends to this list as they start.
        host: the address to listen on (``TRAINBOT_OPS_LISTEN``).
        port: the port (``TRAINBOT_OPS_PORT``; 0 picks a free one, for tests).
        store_timeout: how long ``SELECT 1`` may take before the store counts as down.
        index_timeout: how long the index check may take.
    """

    def __init__(
        self,
        *,
        db: Database,
        knowledge: KnowledgeService | None,
        doors: Sequence[ReadyDoor],
        host: str,
        port: int,
        store_timeout: float = STORE_TIMEOUT,
        index_timeout: float = INDEX_TIMEOUT,
    ) -> None:
        self.db = db
        self.knowledge = knowledge
        self.doors = doors
        self.host = host
        self.port = port
        self.store_timeout = store_timeout
        self.index_timeout = index_timeout
        self.phase = STARTING
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._store = _OneAtATime(self._select_one)
        self._index = _OneAtATime(self._index_problem)
        self._last_status: str | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen; return one line saying where (the real port when 0 was asked for).

        Raises:
            ConfigError: when the address cannot be listened on.
        """
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"TRAINBOT_OPS_PORT: cannot listen on {self.host}:{self.port} ({exc.strerror or exc})"
            ) from None
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return f"operations: /healthz, /readyz and /metrics on {self.url}"

    def serving(self) -> None:
        """Everything is started: readiness now depends on the checks."""
        self.phase = SERVING

    def stopping(self) -> None:
        """Shutting down: not ready any more, so the load balancer sends nothing new."""
        self.phase = STOPPING

    async def stop(self) -> None:
        """Stop listening. Idempotent."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the checks -----------------------------------------------------------------------

    async def _select_one(self) -> None:
        await self.db.run(lambda session: session.execute(text("SELECT 1")).scalar())

    async def _index_problem(self) -> str | None:
        knowledge = self.knowledge
        if knowledge is None:
            return "no Q&A service in this process"
        return await asyncio.to_thread(lambda: knowledge.problem)

    async def check_store(self) -> Check:
        """Whether the store answers ``SELECT 1`` in time."""
        try:
            await self._store(self.store_timeout)
        except TimeoutError:
            return Check(DOWN, f"no answer within {self.store_timeout:g} s")
        except Exception as exc:
            return Check(DOWN, describe(exc))
        return Check(OK)

    async def check_index(self) -> Check:
        """Whether questions can be answered (degraded, never down: see the module)."""
        try:
            problem = await self._index(self.index_timeout)
        except TimeoutError:
            return Check(DEGRADED, f"no answer within {self.index_timeout:g} s")
        except Exception as exc:
            return Check(DEGRADED, describe(exc))
        return Check(OK) if problem is None else Check(DEGRADED, logsafety.scrub(problem))

    async def readiness(self) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body of ``/readyz``."""
        doors = list(self.doors)
        store, index, *checks = await asyncio.gather(
            self.check_store(), self.check_index(), *(door.ready() for door in doors)
        )
        platforms = {door.platform: check for door, check in zip(doors, checks, strict=True)}
        body: dict[str, Any] = {
            "store": store.as_json(),
            "index": index.as_json(),
            "platforms": {name: check.as_json() for name, check in platforms.items()},
        }
        down = store.status == DOWN or any(check.status == DOWN for check in checks)
        if self.phase != SERVING:
            status = self.phase
        elif down:
            status = DOWN
        elif index.status != OK:
            status = DEGRADED
        else:
            status = OK
        self._note(status, store, index, platforms)
        return (200 if status in (OK, DEGRADED) else 503), {"status": status, **body}

    def _note(self, status: str, store: Check, index: Check, platforms: dict[str, Check]) -> None:
        """Log a change of readiness once (probes come every few seconds)."""
        if status == self._last_status:
            return
        previous, self._last_status = self._last_status, status
        if status == OK and previous in (DOWN, DEGRADED):
            logger.info("ready again: the store, the index and the platforms answer")
        if status not in (DOWN, DEGRADED):
            return
        reasons = [f"store: {store.detail}"] if store.status != OK else []
        reasons += [f"index: {index.detail}"] if index.status != OK else []
        reasons += [
            f"{name}: {check.detail}" for name, check in platforms.items() if check.status != OK
        ]
        logger.warning("readiness is %s: %s", status, "; ".join(reasons))

    # -- the endpoints --------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        status, body = await self.readiness()
        return web.json_response(body, status=status, dumps=_dumps)

    async def _metrics(self, request: web.Request) -> web.Response:
        payload, content_type = await asyncio.to_thread(metrics.exposition)
        return web.Response(body=payload, headers={"Content-Type": content_type})


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
