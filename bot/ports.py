"""The ports: how events reach the bot, and how it pushes without knowing any platform.

Adapters call an :class:`EventHandler` (the bot core) and implement :class:`Outbound`; the
composition root hands one outbound port per platform to the dispatcher. Failures are raised as the small hierarchy below so the bot can decide to
retry, wait or mark a person unreachable.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from bot.events import BotAddress, Conversation, Event, Reply


class SendError(Exception):
    """Sending failed."""


class RecipientUnreachable(SendError):
    """The platform refuses to deliver to this person (blocked the bot, left, deleted)."""


class RateLimited(SendError):
    """The platform asked us to slow down for ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientSendError(SendError):
    """A server error or a failed connection: the platform did not take the message, so
    trying again later may work."""


class SendOutcomeUnknown(SendError):
    """No answer in time: the platform may have delivered the message, or not.

    Sending it again risks a duplicate, so callers record it instead of retrying.
    """


class SeenEvents(Protocol):
    """Platform events (and other keys) already handled, shared by every bot process."""

    async def first_time(self, kind: str, key: str) -> bool:
        """Record ``key`` under ``kind``; ``True`` only for the first caller."""
        ...

    async def seen(self, kind: str, key: str) -> bool:
        """Whether ``key`` was recorded under ``kind`` (and not forgotten yet)."""
        ...

    async def forget_older(self, kind: str, age: timedelta) -> int:
        """Forget ``kind``'s keys recorded longer than ``age`` ago; returns how many."""
        ...


class EventHandler(Protocol):
    """The inbound port: what every front door needs from the bot core (``TrainBot``)."""

    seen_events: SeenEvents

    async def handle(self, event: Event) -> list[Reply]:
        """Handle one event and return what to say."""
        ...

    async def language_of(self, event: Event) -> str:
        """The language to speak to the person behind ``event``."""
        ...

    def introduce(self, platform: str, address: BotAddress) -> None:
        """Tell the bot how people open a private chat with it on ``platform``."""
        ...


class Outbound(Protocol):
    """Sends replies to a conversation on one platform."""

    platform: str

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        """Send ``reply`` and return the platform's reference of the message, if any.

        Raises:
            RecipientUnreachable: the person cannot be reached any more.
            RateLimited: the platform asked to wait.
            TransientSendError: a 5xx answer or a failed connection (not delivered).
            SendOutcomeUnknown: no answer in time (it may have been delivered).
        """
        ...
