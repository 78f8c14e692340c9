"""Content gaps: unanswered and 👎 questions, similar phrasings grouped, on both backends."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from adapters.cli import app
from benchmarks.qa_eval import HOLDOUT_FILES, TUNING_FILES, load_questions
from bot.errors import TrainbotError
from bot.gaps import (
    GapGroup,
    content_gaps,
    normalise_question,
    question_tokens,
    similar,
    team_ids_under,
)
from bot.store.db import Database
from bot.store.models import AskedQuestion, Team
from bot.weeks import chosen_week, iso_week_window, last_complete_week, week_of

START = datetime(2026, 11, 15, 16, 0, tzinfo=UTC)  # Monday 2026-11-16 00:00 in Shanghai
END = START + timedelta(days=7)
GAP_PAIRS = Path(__file__).resolve().parents[1] / "benchmarks" / "eval" / "gap_pairs.yaml"


def _teams(db: Database) -> tuple[int, int]:
    with db.session() as session:
        north = Team(name="north", created_at=START)
        south = Team(name="south", created_at=START)
        session.add_all([north, south])
        session.flush()
        return north.id, south.id


def _ask(
    db: Database,
    text: str,
    *,
    at: datetime,
    answered: bool = False,
    feedback: int | None = None,
    team_id: int | None = None,
    language: str | None = None,
) -> None:
    with db.session() as session:
        session.add(
            AskedQuestion(
                person_id=None,
                team_id=team_id,
                text=text,
                language=language
                or ("zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"),
                answered=answered,
                confidence=0.9 if answered else 0.1,
                answer="an answer" if answered else None,
                sources={"items": []},
                feedback=feedback,
                asked_at=at,
            )
        )


def _by_question(groups: list[GapGroup]) -> dict[str, GapGroup]:
    return {group.question: group for group in groups}


def test_near_identical_chinese_phrasings_are_one_gap(database: Database) -> None:
    day = START + timedelta(days=1)
    _ask(database, "会议室怎么预订？", at=day)
    _ask(database, "会议室怎么预订？", at=day + timedelta(hours=1))
    _ask(database, "会议室怎么预订", at=day + timedelta(hours=2))
    _ask(database, "会议室怎么预定", at=day + timedelta(hours=3), answered=True, feedback=-1)
    _ask(database, "年假有几天", at=day + timedelta(hours=4))

    groups = content_gaps(database, start=START, end=END)

    assert [group.question for group in groups] == ["会议室怎么预订？", "年假有几天"]
    booking = groups[0]
    assert set(booking.variants) == {"会议室怎么预订", "会议室怎么预定"}
    assert (booking.count, booking.unanswered, booking.thumbs_down) == (4, 3, 1)
    assert booking.language == "zh"
    assert booking.last_asked == day + timedelta(hours=3)
    assert groups[1].variants == () and groups[1].count == 1


def test_phrasings_that_differ_in_the_word_that_matters_stay_apart(database: Database) -> None:
    day = START + timedelta(days=2)
    for text in (
        "食堂午饭几点开始？",
        "食堂晚饭几点开始？",
        "What time does the canteen open for lunch?",
        "What time does the canteen open for dinner?",
        "Where is the canteen?",
        "When does the canteen open?",
    ):
        _ask(database, text, at=day)

    groups = content_gaps(database, start=START, end=END)

    assert len(groups) == 6 and all(group.variants == () for group in groups)


def test_english_phrasings_group_when_nearly_the_same(database: Database) -> None:
    day = START + timedelta(days=2)
    _ask(database, "How do I book a meeting room?", at=day)
    _ask(database, "How do I book a meeting room?", at=day)
    _ask(database, "how do I book a MEETING room", at=day)
    _ask(database, "How do I book a meeting room pls", at=day)
    _ask(database, "How do I reset my password?", at=day)

    groups = _by_question(content_gaps(database, start=START, end=END))

    assert set(groups) == {"How do I book a meeting room?", "How do I reset my password?"}
    booking = groups["How do I book a meeting room?"]
    assert booking.count == 4
    assert set(booking.variants) == {
        "how do I book a MEETING room",
        "How do I book a meeting room pls",
    }


def test_on_the_labelled_pairs_few_different_questions_are_merged() -> None:
    """benchmarks/eval/gap_pairs.yaml: why the thresholds are where they are (bot.gaps)."""
    pairs = yaml.safe_load(GAP_PAIRS.read_text(encoding="utf-8"))["pairs"]
    merged: dict[tuple[str, bool], int] = {}
    for pair in pairs:
        first, second = (question_tokens(pair[key]) for key in ("first", "second"))
        key = (pair["language"], pair["same"])
        merged[key] = merged.get(key, 0) + similar(first, second, pair["language"])
    # Each language has 30 pairs of either kind; word overlap cannot tell a paraphrase
    # from a question that differs in one key word, so grouping stays near-identical.
    assert merged[("zh", False)] <= 2 and merged[("en", False)] == 0
    assert merged[("zh", True)] >= 1 and merged[("en", True)] >= 1
    questions = load_questions([*TUNING_FILES, *HOLDOUT_FILES])
    for language in ("zh", "en"):
        tokens = [question_tokens(q["question"]) for q in questions if q["language"] == language]
        assert not any(similar(a, b, language) for a, b in itertools.combinations(tokens, 2))


def test_helpful_and_unrated_answers_are_not_gaps(database: Database) -> None:
    day = START + timedelta(days=1)
    _ask(database, "如何提高用户留存", at=day, answered=True, feedback=1)
    _ask(database, "如何提高用户留存", at=day, answered=True, feedback=None)
    _ask(database, "如何提高用户留存", at=day, answered=True, feedback=-1)
    _ask(database, "How is coverage calculated?", at=day, answered=True, feedback=1)

    groups = content_gaps(database, start=START, end=END)

    assert [(g.question, g.count, g.unanswered, g.thumbs_down) for g in groups] == [
        ("如何提高用户留存", 1, 0, 1)
    ]


def test_window_edges_and_team_filter(database: Database) -> None:
    north, south = _teams(database)
    _ask(database, "At the start", at=START, team_id=north)
    _ask(database, "Just before the end", at=END - timedelta(microseconds=1), team_id=south)
    _ask(database, "At the end", at=END, team_id=north)
    _ask(database, "Before the start", at=START - timedelta(seconds=1), team_id=north)
    _ask(database, "Without a team", at=START + timedelta(days=1))

    everyone = {group.question for group in content_gaps(database, start=START, end=END)}
    assert everyone == {"At the start", "Just before the end", "Without a team"}
    north_only = content_gaps(database, start=START, end=END, team_ids=[north])
    assert [group.question for group in north_only] == ["At the start"]
    both = content_gaps(database, start=START, end=END, team_ids={north, south})
    assert {group.question for group in both} == {"At the start", "Just before the end"}
    assert content_gaps(database, start=START, end=END, team_ids=[]) == []


def test_sorted_by_count_then_most_recent_and_limited(database: Database) -> None:
    day = START + timedelta(days=1)
    _ask(database, "Where is the parking lot?", at=day)
    _ask(database, "How do I book a meeting room?", at=day + timedelta(hours=2))
    for hour in range(3):
        _ask(database, "Who approves overtime?", at=day + timedelta(hours=hour))

    groups = content_gaps(database, start=START, end=END)

    assert [group.question for group in groups] == [
        "Who approves overtime?",
        "How do I book a meeting room?",
        "Where is the parking lot?",
    ]
    assert all(group.last_asked.tzinfo is not None for group in groups)
    assert [g.question for g in content_gaps(database, start=START, end=END, limit=1)] == [
        "Who approves overtime?"
    ]


def test_naive_window_is_refused(sqlite_database: Database) -> None:
    with pytest.raises(ValueError, match="aware"):
        content_gaps(sqlite_database, start=datetime(2026, 11, 16), end=datetime(2026, 11, 23))


def test_normalising_removes_width_case_and_punctuation() -> None:
    assert normalise_question("  ＷＨＥＮ does the Canteen open?! ") == "when does the canteen open"
    assert normalise_question("食堂几点开门？") == normalise_question("食堂几点开门")


def test_iso_week_window_is_monday_to_monday_in_the_time_zone() -> None:
    start, end = iso_week_window("2026-W47", "Asia/Shanghai")
    assert (start, end) == (START, END)
    assert iso_week_window("2026-w47", "UTC")[0] == datetime(2026, 11, 16, tzinfo=UTC)
    # The week of a daylight-saving change is 167 hours long in Berlin.
    start, end = iso_week_window("2026-W13", "Europe/Berlin")
    assert end - start == timedelta(hours=167)


@pytest.mark.parametrize("week", ["2026-47", "W47", "2026-W5", "2026-W54", "2025-W53", ""])
def test_bad_weeks_name_the_expected_format(week: str) -> None:
    with pytest.raises(ValueError, match="2026-W47"):
        iso_week_window(week, "Asia/Shanghai")


def test_last_complete_week_in_the_organisation_time_zone() -> None:
    # Sunday 2026-11-22 17:00 UTC is already Monday 01:00 in Shanghai: week 47 is over.
    assert last_complete_week(datetime(2026, 11, 22, 17, 0, tzinfo=UTC), "Asia/Shanghai") == (
        "2026-W47"
    )
    assert last_complete_week(datetime(2026, 11, 22, 17, 0, tzinfo=UTC), "UTC") == "2026-W46"
    assert last_complete_week(datetime(2027, 1, 4, 12, tzinfo=UTC), "UTC") == "2026-W53"
    assert week_of(datetime(2026, 11, 16, tzinfo=UTC), "UTC") == "2026-W47"
    with pytest.raises(ValueError):
        last_complete_week(datetime(2026, 11, 22), "UTC")
    with pytest.raises(ValueError, match="time zone"):
        last_complete_week(datetime(2026, 11, 22, tzinfo=UTC), "Mars/Olympus")


def test_cli_lists_gaps_for_a_week_and_team(tmp_path: object, sqlite_database: Database) -> None:
    north, _ = _teams(sqlite_database)
    day = START + timedelta(days=1)
    _ask(sqlite_database, "会议室怎么预定", at=day, team_id=north, answered=True, feedback=-1)
    _ask(sqlite_database, "会议室怎么预订？", at=day + timedelta(hours=1), team_id=north)
    _ask(sqlite_database, "Where is the parking lot?", at=day)
    runner = CliRunner()
    url = sqlite_database.url

    result = runner.invoke(app, ["gaps", "--week", "2026-W47", "--db", url])
    assert result.exit_code == 0, result.output
    assert "会议室怎么预订？" in result.output and "会议室怎么预定" in result.output
    assert "Where is the parking lot?" in result.output

    result = runner.invoke(
        app, ["gaps", "--week", "2026-W47", "--team", "north", "--json", "--db", url]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["week"] == "2026-W47" and document["team"] == "north"
    (group,) = document["gaps"]
    assert group["question"] == "会议室怎么预订？"
    assert (group["count"], group["unanswered"], group["thumbs_down"]) == (2, 1, 1)
    assert group["variants"] == ["会议室怎么预定"]

    # main() prints these errors as one line; the runner keeps them as the exception.
    result = runner.invoke(app, ["gaps", "--week", "2026-47", "--db", url])
    assert isinstance(result.exception, TrainbotError) and "2026-W47" in str(result.exception)
    result = runner.invoke(app, ["gaps", "--week", "2026-W47", "--team", "nobody", "--db", url])
    assert isinstance(result.exception, TrainbotError) and "nobody" in str(result.exception)


def test_a_team_includes_the_teams_below_it(sqlite_database: Database) -> None:
    north, south = _teams(sqlite_database)
    with sqlite_database.session() as session:
        harbour = Team(name="north-harbour", parent_id=north, created_at=START)
        session.add(harbour)
        session.flush()
        pier = Team(name="north-pier", parent_id=harbour.id, created_at=START)
        session.add(pier)
        session.flush()
        harbour_id, pier_id = harbour.id, pier.id
    assert team_ids_under(sqlite_database, "north") == sorted([north, harbour_id, pier_id])
    assert team_ids_under(sqlite_database, "north-harbour") == sorted([harbour_id, pier_id])
    assert team_ids_under(sqlite_database, "south") == [south]
    with pytest.raises(LookupError, match="unknown team 'east'"):
        team_ids_under(sqlite_database, "east")


def test_chosen_week_checks_a_given_week_or_takes_the_last_complete_one() -> None:
    now = datetime(2026, 11, 22, 8, tzinfo=UTC)  # Sunday afternoon in Shanghai: W47 not over
    assert chosen_week(None, now, "Asia/Shanghai") == "2026-W46"
    assert chosen_week("2026-W40", now, "Asia/Shanghai") == "2026-W40"
    with pytest.raises(ValueError, match="2026-W47"):
        chosen_week("week 40", now, "Asia/Shanghai")
