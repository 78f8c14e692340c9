"""Outbound rate limits per platform, and pauses asked for by a platform's 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    """Spaces sends: at most ``overall`` per second, and ``per_chat`` per conversation.

    A platform's "retry after N seconds" pauses every send through this limiter, since both
    Telegram and Slack apply it to the bot as a whole.

    Args:
        overall: sends per second across all conversations (``None`` = unlimited).
        per_chat: sends per second to one conversation (``None`` = unlimited).
        monotonic: the time source (a fake one in tests).
        sleep: how to wait (``asyncio.sleep``; a fake one in tests).
    """

    def __init__(
        self,
        *,
        overall: float | None = None,
        per_chat: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self.overall = overall
        self.per_chat = per_chat
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_overall = 0.0
        self._next_chat: dict[str, float] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Stop all sends for ``seconds`` (a 429's Retry-After)."""
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    async def wait(self, chat_id: str) -> None:
        """Wait until a send to ``chat_id`` is allowed, and book it."""
        async with self._lock:
            now = self._monotonic()
            start = max(now, self._paused_until)
            if self.overall:
                start = max(start, self._next_overall)
                self._next_overall = start + 1.0 / self.overall
            if self.per_chat:
                start = max(start, self._next_chat.get(chat_id, 0.0))
                self._next_chat[chat_id] = start + 1.0 / self.per_chat
        delay = start - now
        if delay > 0:
            result = self._sleep(delay)
            if asyncio.iscoroutine(result):
                await result


TELEGRAM_OVERALL = 30.0
"""Telegram's documented limit for a bot, in messages per second across all its chats."""


def limiter_for(platform: str, *, telegram_rate: float = TELEGRAM_OVERALL) -> RateLimiter:
    """The documented limits: Telegram about 30 messages/s overall (per bot token, so
    ``telegram_rate``, this process's share of it, when several processes send for the
    bot) and 1/s per chat; Slack about 1 message/s per conversation; none for the console
    and tests."""
    if platform == "telegram":
        return RateLimiter(overall=telegram_rate, per_chat=1.0)
    if platform == "slack":
        return RateLimiter(per_chat=1.0)
    return RateLimiter()
