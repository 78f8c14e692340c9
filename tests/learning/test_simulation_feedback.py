"""Simulated learners rate lessons, comment and report applying them, through the real bot.

The store's figures, read by the report code, must equal what the simulation knows it
answered: that is what lets ``simulate --db`` + ``report`` demonstrate the evaluation.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.settings import load_settings
from bot.simulation import simulate
from bot.simulation_feedback import (
    COMMENTS,
    Tone,
    comment,
    make_voice,
    rating,
    tone_of,
)
from bot.store.db import Database
from bot.store.models import SurveyResponse
from bot.surveys import comments_by_lesson
from tests.conftest import SAMPLE_CONTENT

TODAY = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # a Monday; the period avoids the blackout


async def test_the_ratings_the_report_shows_are_those_the_learners_gave(db_url: str) -> None:
    """Per week, the weekly report's count and mean rating equal the simulated learners';
    every comment is stored with its rating, in the tone of that rating."""
    settings = load_settings(content_dir=SAMPLE_CONTENT)
    result = await simulate(settings, learners=12, days=14, seed=5, db_url=db_url, today=TODAY)
    known = result.feedback
    assert 0 < known["ratings"] < known["surveys_asked"]  # some prompts are left unrated
    assert sum(known["comments"].values()) > 0
    assert set(known["weeks"]) == set(result.report)
    for week, figures in result.report.items():
        given = known["weeks"][week]
        assert figures.ratings == given["ratings"] > 0
        assert figures.mean_rating == round(given["rating_total"] / given["ratings"], 4)

    db = Database(db_url)
    with db.session() as session:
        assert session.scalar(select(func.count(SurveyResponse.id))) == known["surveys_asked"]
        assert session.scalar(select(func.sum(SurveyResponse.rating))) == round(
            known["mean_rating"] * known["ratings"]
        )
        rated = session.execute(
            select(SurveyResponse.rating, SurveyResponse.comment).where(
                SurveyResponse.comment.is_not(None)
            )
        ).all()
        by_lesson = comments_by_lesson(session)
    db.dispose()
    assert sum(len(texts) for texts in by_lesson.values()) == sum(known["comments"].values())
    tones = {
        text: tone for tone, pools in COMMENTS.items() for pool in pools.values() for text in pool
    }
    for given_rating, text in rated:
        assert tones[text] is tone_of(given_rating)
    written = Counter(tones[text].value for _, text in rated)
    assert {tone.value: written[tone.value] for tone in Tone} == known["comments"]


def test_a_rating_follows_how_much_of_the_lesson_was_understood() -> None:
    rng = random.Random(1)
    voice = make_voice("steady", rng)
    understood = [statistics.mean(rating(voice, 1.0, rng) for _ in range(400))]
    understood.append(statistics.mean(rating(voice, 0.5, rng) for _ in range(400)))
    understood.append(statistics.mean(rating(voice, 0.0, rng) for _ in range(400)))
    assert understood[0] > understood[1] + 0.8 > understood[2] + 1.6
    assert all(1 <= rating(voice, share, rng) <= 5 for share in (0.0, 1.0) for _ in range(200))


def test_diligent_learners_rate_more_often_and_complaints_are_written_more() -> None:
    rng = random.Random(2)
    rates = {
        habit: statistics.mean(make_voice(habit, rng).rates for _ in range(200))
        for habit in ("diligent", "steady", "lapsing")
    }
    assert rates["diligent"] > rates["steady"] > rates["lapsing"]
    voice = make_voice("steady", rng)
    written = {
        given: sum(comment(voice, given, rng) is not None for _ in range(2000)) for given in (1, 4)
    }
    assert written[1] > 2 * written[4]


def test_the_comment_pool_is_bilingual_in_every_tone_and_not_the_labelled_sets() -> None:
    """The sentiment model was tuned on tests/data/comments*.csv: the simulation's comments
    must be other texts, or a demo would flatter it."""
    labelled = set()
    for path in Path(__file__).parents[1].joinpath("data").glob("comments*.csv"):
        labelled.update(
            line.split(",")[0] for line in path.read_text(encoding="utf-8").splitlines()
        )
    for tone in Tone:
        assert set(COMMENTS[tone]) == {"zh", "en"}
        for texts in COMMENTS[tone].values():
            assert len(texts) >= 5
            assert not labelled & set(texts)
