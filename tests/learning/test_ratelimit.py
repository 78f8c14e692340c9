"""Outbound rate limits: spacing per chat and overall, and a platform's pause."""

from __future__ import annotations

from bot.ratelimit import RateLimiter, limiter_for


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.now += seconds


async def test_one_message_per_second_per_chat_but_chats_in_parallel() -> None:
    clock = FakeTime()
    limiter = RateLimiter(per_chat=1.0, monotonic=clock.monotonic, sleep=clock.sleep)
    await limiter.wait("a")
    await limiter.wait("b")
    assert clock.waits == []  # different conversations do not wait for each other
    await limiter.wait("a")
    assert clock.waits == [1.0]


async def test_overall_rate_spaces_every_send() -> None:
    clock = FakeTime()
    limiter = RateLimiter(overall=30.0, monotonic=clock.monotonic, sleep=clock.sleep)
    for chat in ("a", "b", "c"):
        await limiter.wait(chat)
    assert clock.waits == [0.033, 0.033]


async def test_a_pause_holds_every_send() -> None:
    clock = FakeTime()
    limiter = RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep)
    limiter.pause(7.0)
    await limiter.wait("a")
    assert clock.waits == [7.0]


def test_platform_defaults() -> None:
    telegram, slack, console = limiter_for("telegram"), limiter_for("slack"), limiter_for("console")
    assert (telegram.overall, telegram.per_chat) == (30.0, 1.0)
    assert (slack.overall, slack.per_chat) == (None, 1.0)
    assert (console.overall, console.per_chat) == (None, None)


def test_replicas_share_telegrams_rate_for_one_bot() -> None:
    """Telegram's 30 messages/s is per bot token: each of N replicas takes 30/N of it."""
    from bot.dispatcher import Dispatcher
    from bot.settings import load_settings

    assert limiter_for("telegram", telegram_rate=15).overall == 15
    settings = load_settings(telegram_rate=10)
    dispatcher = Dispatcher(
        db=None,  # type: ignore[arg-type]  # not used by the constructor
        library=None,  # type: ignore[arg-type]
        settings=settings,
        clock=None,  # type: ignore[arg-type]
        outbound={"telegram": object(), "slack": object()},  # type: ignore[dict-item]
    )
    assert dispatcher.limiters["telegram"].overall == 10
    assert dispatcher.limiters["slack"].overall is None
