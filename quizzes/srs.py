"""Spaced repetition: one FSRS card per person and question, kept as a JSON-able dict.

The store saves the card as JSON, so every function here takes and returns the plain dict
that :meth:`fsrs.Card.to_dict` produces; ``json.loads(json.dumps(card)) == card`` holds.
All datetimes must be timezone-aware; they are converted to UTC before reaching FSRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from fsrs import Card, Rating, Scheduler, State
from fsrs.card import CardDict

CardData = dict[str, Any]
"""An FSRS card as stored: the JSON-able dict of :meth:`fsrs.Card.to_dict`."""

FAST_ANSWER_MS = 8_000
"""A right answer quicker than this (8 s) was effortless: rated Easy."""

SLOW_ANSWER_MS = 60_000
"""A right answer slower than this (60 s) took effort: rated Hard."""

AWAY_AFTER_MS = 10 * 60_000
"""Beyond this (10 min) the latency says the person was away, not that they struggled.

A pushed quiz is often answered hours after it arrived; rating all of those Hard would
shrink every interval, so such a latency counts as unknown (rated Good).
"""

# Default FSRS parameters, retention 0.9 and learning steps (1 min, 10 min; relearning
# 10 min). Fuzzing is off: it draws random numbers to spread reviews of cards learned
# together, which matters for decks of thousands, not for a few quiz questions a day, and
# it would make the dispatcher's tests and the simulator irreproducible.
SCHEDULER = Scheduler(enable_fuzzing=False)
DEFAULT_RETENTION = 0.9
"""FSRS's target retention when no spacing experiment sets another."""


@lru_cache(maxsize=16)
def _scheduler(retention: float) -> Scheduler:
    """A scheduler aiming at ``retention`` (an experiment's spacing variant)."""
    if retention == DEFAULT_RETENTION:
        return SCHEDULER
    return Scheduler(desired_retention=retention, enable_fuzzing=False)


@dataclass(frozen=True)
class Review:
    """The outcome of one graded answer.

    Attributes:
        card: the updated card, to be stored.
        due: when the question is next due, aware UTC.
        rating: the FSRS rating given (1 Again, 2 Hard, 3 Good, 4 Easy).
        lapsed: a learned question (FSRS Review state) was answered wrong, so it went back
            to relearning; a wrong answer to a question still being learned is no lapse.
    """

    card: CardData
    due: datetime
    rating: int
    lapsed: bool


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC, with the ``datetime.UTC`` zone FSRS insists on.

    ``ZoneInfo("UTC")`` or a ``+08:00`` offset are fine inputs; FSRS itself refuses them.

    Raises:
        ValueError: if ``moment`` is naive (its zone would be a guess).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone-aware one")
    return moment.astimezone(UTC)


def _load(card: CardData) -> Card:
    loaded = Card.from_dict(cast(CardDict, card))
    loaded.due = as_utc(loaded.due)
    if loaded.last_review is not None:
        loaded.last_review = as_utc(loaded.last_review)
    return loaded


def _dump(card: Card) -> CardData:
    return dict(card.to_dict())


def new_card(now: datetime) -> CardData:
    """A card for a question never answered, due at ``now``.

    The card id is taken from ``now`` (epoch milliseconds) instead of the wall clock, so
    the same inputs always give the same card.
    """
    moment = as_utc(now)
    return _dump(Card(card_id=int(moment.timestamp() * 1000), due=moment))


def rating_for(correct: bool, latency_ms: int | None) -> Rating:
    """The FSRS rating of an answer.

    Wrong is Again. Right is Easy under :data:`FAST_ANSWER_MS`, Hard over
    :data:`SLOW_ANSWER_MS`, Good otherwise; the thresholds themselves rate Good. An
    unknown latency (``None``, negative from clock skew, or over :data:`AWAY_AFTER_MS`)
    rates Good.
    """
    if not correct:
        return Rating.Again
    if latency_ms is None or latency_ms < 0 or latency_ms > AWAY_AFTER_MS:
        return Rating.Good
    if latency_ms < FAST_ANSWER_MS:
        return Rating.Easy
    if latency_ms > SLOW_ANSWER_MS:
        return Rating.Hard
    return Rating.Good


def review(
    card: CardData,
    *,
    correct: bool,
    latency_ms: int | None,
    now: datetime,
    retention: float | None = None,
) -> Review:
    """Schedule the next review of a question after an answer.

    Args:
        card: the stored card (from :func:`new_card` for a first answer).
        correct: whether the answer was right.
        latency_ms: how long the person took, if known; see :func:`rating_for`.
        now: when the answer was given, timezone-aware.
        retention: the target retention (a spacing experiment's variant): higher means
            shorter intervals; ``None`` is FSRS's default, 0.9.

    Returns:
        The updated card and when it is next due.
    """
    before = _load(card)
    rating = rating_for(correct, latency_ms)
    scheduler = _scheduler(retention if retention is not None else DEFAULT_RETENTION)
    after, _ = scheduler.review_card(
        before, rating, review_datetime=as_utc(now), review_duration=latency_ms
    )
    lapsed = before.state is State.Review and after.state is State.Relearning
    return Review(card=_dump(after), due=as_utc(after.due), rating=int(rating), lapsed=lapsed)


def retrievability(card: CardData, now: datetime) -> float:
    """The predicted chance (0..1) that the person still knows the answer at ``now``.

    A card never reviewed has 0.
    """
    return float(SCHEDULER.get_card_retrievability(_load(card), current_datetime=as_utc(now)))
