"""One injectable clock, so tests and the simulator can run weeks in seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """The current moment in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to.

    Args:
        start: the initial moment; naive datetimes are taken as UTC.
    """

    def __init__(self, start: datetime) -> None:
        self._now = start if start.tzinfo else start.replace(tzinfo=UTC)

    def now(self) -> datetime:
        """The current (virtual) moment in UTC."""
        return self._now.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward and return the new moment."""
        if delta < timedelta(0):
            raise ValueError("a clock does not go backwards")
        self._now += delta
        return self.now()

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (naive datetimes are taken as UTC)."""
        self._now = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
