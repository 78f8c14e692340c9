"""Spaced repetition over FSRS cards stored as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fsrs import Rating

from quizzes.srs import (
    AWAY_AFTER_MS,
    FAST_ANSWER_MS,
    SLOW_ANSWER_MS,
    CardData,
    new_card,
    rating_for,
    retrievability,
    review,
)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
NORMAL_MS = 20_000


def _learned(now: datetime = NOW) -> tuple[CardData, datetime]:
    """A card past its learning steps (FSRS Review state) and the moment it falls due."""
    first = review(new_card(now), correct=True, latency_ms=NORMAL_MS, now=now)
    second = review(first.card, correct=True, latency_ms=NORMAL_MS, now=first.due)
    assert second.due - first.due >= timedelta(days=1)
    return second.card, second.due


@pytest.mark.parametrize(
    ("correct", "latency_ms", "rating"),
    [
        (False, None, Rating.Again),
        (False, 1_000, Rating.Again),
        (True, None, Rating.Good),
        (True, FAST_ANSWER_MS - 1, Rating.Easy),
        (True, FAST_ANSWER_MS, Rating.Good),
        (True, SLOW_ANSWER_MS, Rating.Good),
        (True, SLOW_ANSWER_MS + 1, Rating.Hard),
        (True, AWAY_AFTER_MS, Rating.Hard),
        (True, AWAY_AFTER_MS + 1, Rating.Good),
        (True, -5, Rating.Good),
    ],
)
def test_rating_from_correctness_and_latency(
    correct: bool, latency_ms: int | None, rating: Rating
) -> None:
    assert rating_for(correct, latency_ms) is rating


def test_new_card_is_due_now_and_json_exact() -> None:
    card = new_card(NOW)
    assert json.loads(json.dumps(card)) == card
    assert card["due"] == NOW.isoformat()
    assert retrievability(card, NOW) == 0


def test_correct_answer_pushes_due_into_the_future_easy_furthest() -> None:
    card = new_card(NOW)
    hard = review(card, correct=True, latency_ms=SLOW_ANSWER_MS + 1, now=NOW)
    good = review(card, correct=True, latency_ms=NORMAL_MS, now=NOW)
    easy = review(card, correct=True, latency_ms=1_000, now=NOW)
    assert (hard.rating, good.rating, easy.rating) == (2, 3, 4)
    assert NOW < hard.due < good.due < easy.due
    assert easy.due - NOW >= timedelta(days=1)
    assert not any(result.lapsed for result in (hard, good, easy))


def test_learned_card_intervals_grow_with_ease() -> None:
    card, due = _learned()
    hard, good, easy = (
        review(card, correct=True, latency_ms=latency, now=due)
        for latency in (SLOW_ANSWER_MS + 1, NORMAL_MS, 1_000)
    )
    assert due + timedelta(days=1) < hard.due < good.due < easy.due


def test_wrong_answer_to_a_learned_question_lapses_and_comes_back_in_minutes() -> None:
    card, due = _learned()
    result = review(card, correct=False, latency_ms=NORMAL_MS, now=due)
    assert result.rating == Rating.Again
    assert result.lapsed
    assert timedelta(0) < result.due - due <= timedelta(minutes=10)


def test_wrong_first_answer_comes_back_in_minutes_without_a_lapse() -> None:
    result = review(new_card(NOW), correct=False, latency_ms=None, now=NOW)
    assert result.rating == Rating.Again
    assert not result.lapsed  # nothing learned yet, so nothing forgotten
    assert timedelta(0) < result.due - NOW <= timedelta(minutes=10)


def test_review_card_survives_a_json_round_trip_exactly() -> None:
    result = review(new_card(NOW), correct=True, latency_ms=NORMAL_MS, now=NOW)
    stored = json.loads(json.dumps(result.card))
    assert stored == result.card
    again = review(stored, correct=True, latency_ms=NORMAL_MS, now=result.due)
    direct = review(result.card, correct=True, latency_ms=NORMAL_MS, now=result.due)
    assert again == direct


def test_same_inputs_give_the_same_schedule() -> None:
    def run() -> list[tuple[datetime, CardData]]:
        card, moment, out = new_card(NOW), NOW, []
        for correct, latency in [(True, 20_000), (True, 3_000), (False, 9_000), (True, 90_000)]:
            result = review(card, correct=correct, latency_ms=latency, now=moment)
            out.append((result.due, result.card))
            card, moment = result.card, result.due
        return out

    assert run() == run()


def test_due_is_aware_utc() -> None:
    result = review(new_card(NOW), correct=True, latency_ms=NORMAL_MS, now=NOW)
    assert result.due.tzinfo is UTC
    assert result.due.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "now",
    [
        NOW.replace(tzinfo=ZoneInfo("UTC")),
        NOW.astimezone(ZoneInfo("Asia/Shanghai")),
        NOW.astimezone(timezone(timedelta(hours=-5))),
    ],
)
def test_any_aware_zone_is_normalised_to_utc(now: datetime) -> None:
    card = new_card(now)
    assert card == new_card(NOW)
    result = review(card, correct=True, latency_ms=NORMAL_MS, now=now)
    assert result == review(new_card(NOW), correct=True, latency_ms=NORMAL_MS, now=NOW)
    assert retrievability(result.card, now + timedelta(days=3)) == retrievability(
        result.card, NOW + timedelta(days=3)
    )


def test_naive_datetimes_are_refused() -> None:
    naive = NOW.replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive"):
        new_card(naive)
    with pytest.raises(ValueError, match="naive"):
        review(new_card(NOW), correct=True, latency_ms=None, now=naive)
    with pytest.raises(ValueError, match="naive"):
        retrievability(new_card(NOW), naive)


def test_retrievability_decreases_over_time() -> None:
    card, due = _learned()
    values = [retrievability(card, due + timedelta(days=days)) for days in (0, 5, 30, 120)]
    assert all(0 < value <= 1 for value in values)
    assert values == sorted(values, reverse=True)
    assert values[0] > values[-1]
