"""``trainbot run``: every configured front door plus the scheduler, in one process.

Each front door (Telegram, Slack) has the same small lifecycle: ``start()`` connects and
returns one line saying how, ``drain()`` waits for the events received so far, ``stop()``
stops receiving and finishes in-flight sends. The runner starts the doors, hands them to
the dispatcher as its outbound ports, waits for SIGTERM or SIGINT, then stops the
scheduler first (no new runs, no new claims), gives the sends under way
``TRAINBOT_STOP_GRACE`` to finish and releases the claims it did not begin, and stops the
doors. It logs "stopped" and returns 0.

With ``TRAINBOT_OPS_PORT`` set, the operations endpoints (:mod:`adapters.ops`) listen
first, so ``/healthz`` answers while the doors connect; ``/readyz`` says "starting" until
everything is up and "stopping" from the stop signal on, and the endpoints close last.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from bot import logsafety
from bot.events import Conversation, Reply

if TYPE_CHECKING:
    from adapters.ops import Check, OpsServer
    from bot.app import TrainBot
    from bot.scheduler import BotScheduler
    from bot.settings import Settings

logger = logging.getLogger(__name__)


class FrontDoor(Protocol):
    """A chat platform connection: receives events for the bot, sends its pushes."""

    platform: str

    async def start(self) -> str:
        """Connect; return one line describing how (never a secret)."""
        ...

    async def drain(self) -> None:
        """Wait until every event received so far is handled and answered."""
        ...

    async def stop(self) -> None:
        """Stop receiving, finish in-flight sends, close connections."""
        ...

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        """The outbound port (see :mod:`bot.ports`)."""
        ...

    async def ready(self) -> Check:
        """Whether the platform answers (a cheap call, cached; see :mod:`adapters.ops`)."""
        ...


def configured_front_doors(bot: TrainBot, settings: Settings) -> list[FrontDoor]:
    """The platform front doors whose tokens are set (none: use the console)."""
    doors: list[FrontDoor] = []
    if settings.telegram_token:
        from adapters.telegram import TelegramAdapter

        # The store holds the long-polling lease: one poller per token across processes.
        doors.append(TelegramAdapter(bot, settings, store=bot.ctx.db))
    if settings.slack_bot_token:
        from adapters.slack import SlackAdapter

        doors.append(SlackAdapter(bot, settings))
    return doors


def start_scheduler(settings: Settings, bot: TrainBot, outbound: dict[str, object]) -> BotScheduler:
    """Start the dispatcher and the scheduled jobs, pushing through ``outbound``."""
    from datetime import timedelta

    from bot.dispatcher import Dispatcher
    from bot.scheduler import BotScheduler, Runtime

    dispatcher = Dispatcher(
        db=bot.ctx.db,
        library=bot.ctx.library,
        settings=settings,
        clock=bot.ctx.clock,
        outbound=outbound,  # type: ignore[arg-type]  # every door implements Outbound
        lease=timedelta(seconds=settings.claim_lease),
    )
    scheduler = BotScheduler(
        settings,
        Runtime(dispatcher=dispatcher, library=bot.ctx.library, knowledge=bot.ctx.knowledge),
    )
    scheduler.start()
    return scheduler


async def stop_scheduler(scheduler: BotScheduler, settings: Settings) -> None:
    """No new runs or claims; running jobs get ``TRAINBOT_STOP_GRACE`` to finish their sends."""
    from datetime import timedelta

    await scheduler.stop(timedelta(seconds=settings.stop_grace))


def quiet_http_client_logs() -> None:
    """HTTP clients log every request at INFO: a line per Bot API call says nothing."""
    # APScheduler logs every job run at INFO: two lines a minute that say nothing.
    for name in (
        "httpx",
        "httpcore",
        "aiohttp.access",
        "slack_sdk",
        "slack_bolt",
        "apscheduler.executors.default",
        "apscheduler.scheduler",
    ):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).level))


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set ``stop`` on SIGTERM or SIGINT; returns a function removing the handlers."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no support
            logger.debug("cannot install a handler for %s", signum.name)

    def remove() -> None:
        for signum in installed:
            loop.remove_signal_handler(signum)

    return remove


async def start_ops(
    bot: TrainBot, settings: Settings, doors: list[FrontDoor], *, port: int | None = None
) -> OpsServer | None:
    """Start the operations endpoints when a port is set (``None`` when they are off).

    Args:
        doors: the started front doors (the list grows as the runner starts them).
        port: overrides ``TRAINBOT_OPS_PORT`` (0 here picks a free port).
    """
    if port is None:
        if not settings.ops_port:
            return None
        port = settings.ops_port
    from adapters.ops import OpsServer

    ops = OpsServer(
        db=bot.ctx.db,
        knowledge=bot.ctx.knowledge,
        doors=doors,
        host=settings.ops_listen,
        port=port,
    )
    logger.info("%s", await ops.start())
    return ops


async def serve(
    bot: TrainBot,
    settings: Settings,
    doors: list[FrontDoor],
    *,
    stop: asyncio.Event | None = None,
    on_started: Callable[[], Awaitable[None]] | None = None,
    ops_port: int | None = None,
) -> int:
    """Run ``doors`` and the scheduler until ``stop`` is set (or a stop signal arrives).

    Args:
        bot: the bot core.
        settings: configuration.
        doors: the front doors to start, in order.
        stop: set it to shut down; by default SIGTERM/SIGINT set it.
        on_started: awaited once everything is up (tests use it).
        ops_port: the operations endpoints' port instead of ``TRAINBOT_OPS_PORT``
            (0 picks a free one; ``None`` follows the setting, where 0 means off).

    Returns:
        The process exit code (0 after a clean shutdown).
    """
    stop = stop or asyncio.Event()
    logsafety.install(settings)  # secrets redacted, message texts kept out (bot.logsafety)
    quiet_http_client_logs()
    remove_signals = install_stop_signals(stop)
    started: list[FrontDoor] = []
    scheduler: BotScheduler | None = None
    ops: OpsServer | None = None
    try:
        ops = await start_ops(bot, settings, started, port=ops_port)
        for door in doors:
            line = await door.start()
            started.append(door)
            logger.info("%s", line)
        scheduler = start_scheduler(settings, bot, {door.platform: door for door in started})
        if ops is not None:
            ops.serving()
        if on_started is not None:
            await on_started()
        await stop.wait()
        if ops is not None:
            ops.stopping()
        logger.info("stopping: finishing in-flight work")
    finally:
        if ops is not None:
            ops.stopping()
        if scheduler is not None:
            await stop_scheduler(scheduler, settings)
        for door in reversed(started):
            try:
                await door.stop()
            except Exception:  # one door failing to close must not keep the others open
                logger.exception("%s did not stop cleanly", door.platform)
        remove_signals()
        await asyncio.to_thread(bot.close)  # events under way are answered by now
        if ops is not None:
            await ops.stop()
    logger.info("stopped")
    return 0
