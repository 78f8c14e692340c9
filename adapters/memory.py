"""An in-memory front door: records what the bot pushes. Used by the simulator and tests.

It implements the outbound port like the real adapters, and can be told to fail the way
platforms do (a person who blocked the bot, a 429, a timeout).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.events import Conversation, Reply
from bot.ports import RateLimited, RecipientUnreachable, SendOutcomeUnknown, TransientSendError


@dataclass
class Sent:
    """One message the bot sent."""

    conversation: Conversation
    reply: Reply
    ref: str


@dataclass
class MemoryOutbound:
    """Outbound port that keeps messages in a list.

    Attributes:
        blocked: chat ids that answer like a user who blocked the bot.
        rate_limit_next: how many next sends answer 429 with ``retry_after``.
        fail_next: how many next sends fail with a server error (not delivered).
        timeout_next: how many next sends time out after the platform took them
            (delivered, but the sender never hears so).
    """

    platform: str = "memory"
    sent: list[Sent] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    rate_limit_next: int = 0
    retry_after: float = 1.0
    fail_next: int = 0
    timeout_next: int = 0
    calls: int = 0

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        """Record the message, or fail as configured."""
        self.calls += 1
        if conversation.chat_id in self.blocked:
            raise RecipientUnreachable(
                f"Forbidden: bot was blocked by the user {conversation.chat_id}"
            )
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            raise RateLimited(self.retry_after, "Too Many Requests")
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientSendError("500 Internal Server Error")
        ref = f"{conversation.chat_id}:{len(self.sent) + 1}"
        self.sent.append(Sent(conversation, reply, ref))
        if self.timeout_next > 0:
            self.timeout_next -= 1
            raise SendOutcomeUnknown("timed out")
        return ref

    def to(self, chat_id: str) -> list[Reply]:
        """Everything sent to one chat, in order."""
        return [item.reply for item in self.sent if item.conversation.chat_id == chat_id]
