"""ISO weeks in the organisation's time zone, as UTC windows for queries over the store.

Reports and the content-gap list are asked for by week (``2026-W47``); a week runs from
Monday 00:00 to the next Monday 00:00 in the organisation's time zone, and the store keeps
UTC, so every query takes the half-open UTC window ``[start, end)``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

WEEK_FORMAT = "2026-W47"
"""An example of the accepted week format, quoted in error messages."""

FIRST_YEAR = 2000
LAST_YEAR = 2100
"""Weeks are accepted from ``FIRST_YEAR-W01`` to the last week of ``LAST_YEAR``.

The store holds nothing older than the bot, and years at the edges of what ``datetime``
can hold overflow once a week is turned into UTC or the week before is looked up.
"""

# [0-9], not \d: \d also matches other scripts' digits (２０２６), which would make a
# second spelling of the same week.
_WEEK = re.compile(r"^([0-9]{4})-W([0-9]{2})$")


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc


def parse_week(week: str) -> tuple[int, int]:
    """The ``(ISO year, week number)`` of ``week``.

    Args:
        week: an ISO week such as ``2026-W47`` (a lowercase ``w`` is accepted too), in
            the years ``FIRST_YEAR`` to ``LAST_YEAR``.

    Raises:
        ValueError: naming the expected format when ``week`` is not a valid ISO week or
            lies outside those years.
    """
    match = _WEEK.match(week.strip().upper())
    if match is None:
        raise ValueError(f"invalid week {week!r} (expected an ISO week such as {WEEK_FORMAT})")
    year, number = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"invalid week {week!r}: the year must be between {FIRST_YEAR} and {LAST_YEAR} "
            f"(expected an ISO week such as {WEEK_FORMAT})"
        )
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(
            f"invalid week {week!r}: {year} has no week {number} "
            f"(expected an ISO week such as {WEEK_FORMAT})"
        ) from None
    return year, number


def iso_week_window(week: str, tz: str) -> tuple[datetime, datetime]:
    """The UTC window ``[start, end)`` of an ISO week in time zone ``tz``.

    Args:
        week: an ISO week such as ``2026-W47``.
        tz: an IANA time zone name, e.g. ``Asia/Shanghai``.

    Returns:
        Aware UTC datetimes: Monday 00:00 local and the following Monday 00:00 local.

    Raises:
        ValueError: for a malformed week (the message names the format ``2026-W47``) or an
            unknown time zone.
    """
    year, number = parse_week(week)
    zone = _zone(tz)
    monday = date.fromisocalendar(year, number, 1)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def week_of(moment: datetime, tz: str) -> str:
    """The ISO week (``2026-W47``) that contains ``moment`` in time zone ``tz``.

    Raises:
        ValueError: if ``moment`` is naive or ``tz`` unknown.
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give an aware moment")
    year, number, _ = moment.astimezone(_zone(tz)).date().isocalendar()
    return f"{year}-W{number:02d}"


def last_complete_week(now: datetime, tz: str) -> str:
    """The most recent ISO week that has fully ended at ``now`` in time zone ``tz``.

    On any day of week 48 (Monday 00:00 included) that is week 47.

    Raises:
        ValueError: if ``now`` is naive or ``tz`` unknown.
    """
    if now.tzinfo is None:
        raise ValueError("naive datetime: give an aware moment")
    # Subtract days on the local calendar, not 168 hours: across a daylight-saving change
    # the hour arithmetic can land in the week before.
    local_day = now.astimezone(_zone(tz)).date() - timedelta(days=7)
    year, number, _ = local_day.isocalendar()
    return f"{year}-W{number:02d}"


def chosen_week(week: str | None, now: datetime, tz: str) -> str:
    """``week`` once checked, or by default the last complete week at ``now`` in ``tz``.

    The week comes back in its one spelling (``2026-w47`` as ``2026-W47``), since it
    names reports and keys their claims.

    Raises:
        FutureWeekError: when ``week`` starts after ``now`` (nothing can be in it yet).
        ValueError: naming the expected format when ``week`` is not a valid ISO week or
            lies outside the years :func:`parse_week` accepts.
    """
    if week is None:
        return last_complete_week(now, tz)
    year, number = parse_week(week)
    label = f"{year}-W{number:02d}"
    start, _ = iso_week_window(label, tz)
    if start > now:
        monday = date.fromisocalendar(year, number, 1)
        raise FutureWeekError(
            f"{label} has not started yet (it starts on {monday:%Y-%m-%d}): there is "
            "nothing to report"
        )
    return label


class FutureWeekError(ValueError):
    """A week that starts after now: refused rather than shown as an empty report."""


def in_progress(week: str, now: datetime, tz: str) -> bool:
    """Whether ``week`` has started and not yet ended at ``now`` in ``tz``."""
    start, end = iso_week_window(week, tz)
    return start <= now < end
