"""Simulated learners rate lessons, comment and report applying them, through the real bot.

The store's figures, read by the report code, must equal what the simulation knows it
answered: that is what lets ``simulate --db`` + ``report`` demonstrate the evaluation.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from adapters.cli import app
from bot.application import application_cells, totals
from bot.settings import load_settings
from bot.simulation import simulate
from bot.simulation_feedback import (
    COMMENTS,
    CheckinReply,
    ObservationReply,
    Tone,
    applies_lesson,
    checkin_reply,
    comment,
    make_voice,
    observation_reply,
    rating,
    tone_of,
)
from bot.store.db import Database
from bot.store.models import (
    ApplicationReport,
    Delivery,
    DeliveryKind,
    Person,
    SurveyResponse,
)
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


async def test_the_application_rate_in_the_store_is_what_the_learners_reported(
    db_url: str,
) -> None:
    """Check-ins come 14 days after a lesson and checklists a week after: over 28 days the
    learners and their managers answer some, and bot.application counts exactly the
    answers the simulation gave."""
    settings = load_settings(content_dir=SAMPLE_CONTENT)
    result = await simulate(settings, learners=10, days=28, seed=4, db_url=db_url, today=TODAY)
    known = result.feedback
    assert 0 < known["checkins_answered"] <= known["checkins_sent"]
    answers = known["checkin_answers"]
    assert answers["several"] + answers["once"] > 0 and answers["not_yet"] > 0
    # The weekly figure at the end of the last week is the simulation's own count.
    last_week = list(result.report.values())[-1]
    assert last_week.application == known["application"]
    assert 0 < known["application"]["applying"] < known["application"]["reported"]
    observed = known["observation_answers"]
    assert known["observations_sent"] > 0 and observed["seen"] > 0 and observed["not_seen"] > 0

    db = Database(db_url)
    with db.session() as session:
        stored = Counter(
            (source.value, answer.value)
            for source, answer in session.execute(
                select(ApplicationReport.source, ApplicationReport.answer)
            ).all()
        )
        # Every checklist went to the manager of the person it is about.
        checklists = session.execute(
            select(Delivery.person_id, Delivery.item_id).where(
                Delivery.kind == DeliveryKind.OBSERVATION, Delivery.sent_at.is_not(None)
            )
        ).all()
        managers = {
            subject: session.get(Person, int(subject)).manager_id  # type: ignore[union-attr]
            for _, subject in checklists
        }
        examples = session.scalar(
            select(func.count(ApplicationReport.id)).where(ApplicationReport.example.is_not(None))
        )
        pushed = session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.kind == DeliveryKind.CHECKIN, Delivery.sent_at.is_not(None)
            )
        )
        counted = totals(application_cells(session, until=datetime.fromisoformat(result.end)))
    db.dispose()
    assert {answer: stored[("self", answer)] for answer in answers} == answers
    assert {answer: stored[("manager", answer)] for answer in observed} == observed
    assert len(checklists) == known["observations_sent"]
    assert all(managers[subject] == observer for observer, subject in checklists)
    assert examples == known["examples"]
    assert pushed == known["checkins_sent"]
    assert (counted.trained, counted.reported, counted.applying) == tuple(
        known["application"][key] for key in ("trained", "reported", "applying")
    )


def test_applying_follows_recall_and_answers_are_honest_or_noisy() -> None:
    rng = random.Random(3)
    voice = make_voice("steady", rng)
    remembered = sum(applies_lesson(voice, 1.0, rng) for _ in range(2000))
    forgotten = sum(applies_lesson(voice, 0.2, rng) for _ in range(2000))
    assert remembered > 3 * forgotten > 0
    said = Counter(checkin_reply(voice, False, rng) for _ in range(500))
    assert not said[CheckinReply.SEVERAL] and not said[CheckinReply.ONCE]
    seen = Counter(observation_reply(True, rng) for _ in range(2000))
    unseen = Counter(observation_reply(False, rng) for _ in range(2000))
    assert seen[ObservationReply.SEEN] > 0.6 * 2000 and unseen[ObservationReply.SEEN] < 0.2 * 2000
    assert unseen[ObservationReply.NOT_SEEN] > 0.55 * 2000


def test_trainbot_report_on_a_simulated_store_shows_the_learners_ratings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``simulate --db`` then ``report --db``: the report's satisfaction section, week by
    week, is the simulated learners' ratings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRAINBOT_CONTENT_DIR", str(SAMPLE_CONTENT))
    database = str(tmp_path / "sim.db")

    def run(*args: str) -> dict[str, Any]:
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output
        loaded = json.loads(result.output)
        assert isinstance(loaded, dict)
        return loaded

    simulated = run(
        *("simulate", "--learners", "10", "--days", "14", "--seed", "2"),
        *("--until", "2026-12-07", "--db", database, "--json"),
    )
    weeks = simulated["feedback"]["weeks"]
    assert weeks
    for week, given in weeks.items():
        report = run("report", "--db", database, "--week", week, "--format", "json")
        shown = report["satisfaction"]["totals"]["this_week"]
        assert shown["ratings"] == given["ratings"]
        assert shown["mean"] == round(given["rating_total"] / given["ratings"], 4)
    # Level 3: the simulated KPI, one value per team and week, is what the report reads.
    kpis = simulated["kpis"]
    assert (kpis["metric"], kpis["teams"]) == ("retention_30d", 3)
    assert kpis["values"] == kpis["teams"] * kpis["weeks"]
    report = run("report", "--db", database, "--week", max(weeks), "--format", "json")
    (metric,) = report["business_impact"]["metrics"]
    assert metric["metric"] == "retention_30d" and metric["unit"] == "%"
    assert len(metric["teams"]) == 3
    assert all(any(w["value"] is not None for w in team["weeks"]) for team in metric["teams"])
