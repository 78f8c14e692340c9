"""Answer streaks: consecutive local days with an answer, for one person or many at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.learning import PushDays, local_date, streak, streaks
from bot.store.db import Database
from bot.store.models import Attempt, Person, Role
from quizzes.content import Blackout, Calendar, LocalizedText
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai, 19:00 (21st) in Vancouver


def person(session, name: str, zone: str) -> Person:  # type: ignore[no-untyped-def]
    row = Person(
        platform="console",
        platform_user_id=name,
        display_name=name,
        language="en",
        timezone=zone,
        track_id="frontline",
        role=Role.LEARNER,
        enrolled_at=NOW - timedelta(days=500),
        created_at=NOW - timedelta(days=500),
        updated_at=NOW - timedelta(days=500),
    )
    session.add(row)
    session.flush()
    return row


def answered(session, who: Person, *moments: datetime) -> None:  # type: ignore[no-untyped-def]
    for moment in moments:
        session.add(
            Attempt(
                person_id=who.id,
                question_id="q",
                chosen={"keys": ["a"]},
                correct=True,
                answered_at=moment,
            )
        )


def test_streaks_short_long_broken_and_by_local_day(sqlite_database: Database) -> None:
    with sqlite_database.session() as session:
        # 50 days in a row up to today (Shanghai): longer than the 8- and 35-day reads.
        marathon = person(session, "marathon", "Asia/Shanghai")
        answered(session, marathon, *(NOW - timedelta(days=day) for day in range(50)))
        # Three days ending yesterday, then a gap: today's answer is still to come.
        recent = person(session, "recent", "Asia/Shanghai")
        answered(session, recent, *(NOW - timedelta(days=day) for day in (1, 2, 3, 5, 6)))
        # Broken two days ago: nothing yesterday or today.
        lapsed = person(session, "lapsed", "Asia/Shanghai")
        answered(session, lapsed, NOW - timedelta(days=2), NOW - timedelta(days=3))
        # 02:00Z and 20:00Z on the 21st are one day in Vancouver (the 20th/21st local
        # evening and noon), two in Shanghai; plus the 20th local in Vancouver.
        vancouver = person(session, "vancouver", "America/Vancouver")
        answered(
            session,
            vancouver,
            datetime(2026, 11, 21, 20, 0, tzinfo=UTC),  # 12:00 on the 21st local
            datetime(2026, 11, 21, 2, 0, tzinfo=UTC),  # 18:00 on the 20th local
        )
        # An answer after "now" does not count (a report for an earlier week).
        future = person(session, "future", "Asia/Shanghai")
        answered(session, future, NOW + timedelta(hours=1))
        nobody = person(session, "nobody", "Asia/Shanghai")
        # Around the first, 8-day read: 6, 7 and 10 days up to today.
        six, seven, ten = (person(session, f"run{n}", "Asia/Shanghai") for n in (6, 7, 10))
        for who, length in ((six, 6), (seven, 7), (ten, 10)):
            answered(session, who, *(NOW - timedelta(days=day) for day in range(length)))
        session.flush()

        people = [marathon, recent, lapsed, vancouver, future, nobody, six, seven, ten]
        expected = {
            six.id: 6,
            seven.id: 7,
            ten.id: 10,
            marathon.id: 50,
            recent.id: 3,
            lapsed.id: 0,
            vancouver.id: 2,
            future.id: 0,
            nobody.id: 0,
        }
        assert streaks(session, people, NOW) == expected
        assert {who.id: streak(session, who, NOW) for who in people} == expected


def test_an_unknown_stored_time_zone_counts_days_in_the_fallback_zone(
    sqlite_database: Database,
) -> None:
    with sqlite_database.session() as session:
        # 20:00Z on the 20th and 02:00Z on the 21st: the 21st twice in Shanghai, the 20th
        # and 21st in UTC.
        legacy = person(session, "legacy", "Mars/Olympus")
        answered(
            session,
            legacy,
            datetime(2026, 11, 20, 20, 0, tzinfo=UTC),
            datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        )
        session.flush()
        assert local_date(legacy, NOW, fallback_timezone="Asia/Shanghai") == date(2026, 11, 22)
        assert local_date(legacy, datetime(2026, 11, 21, 20, 0, tzinfo=UTC)) == date(2026, 11, 21)
        assert streak(session, legacy, NOW, fallback_timezone="Asia/Shanghai") == 1
        assert streak(session, legacy, NOW) == 2  # no zone given: UTC


# 2026-W47 in Shanghai: Monday 16 November to Sunday 22 November.
def at_shanghai(day: int, hour: int = 10) -> datetime:
    """``hour`` o'clock local on 2026-11-``day`` in Shanghai, as UTC."""
    return datetime(2026, 11, day, hour, tzinfo=UTC) - timedelta(hours=8)


MONDAY_TO_FRIDAY = PushDays(frozenset({"mon", "tue", "wed", "thu", "fri"}))


def test_a_monday_to_friday_learner_keeps_the_streak_over_the_weekend(
    database: Database,
) -> None:
    with database.session() as session:
        learner = person(session, "weekdays", "Asia/Shanghai")
        answered(session, learner, *(at_shanghai(day) for day in range(16, 21)))
        session.flush()

        def on(moment: datetime) -> int:
            return streak(session, learner, moment, push_days=MONDAY_TO_FRIDAY)

        assert on(at_shanghai(20, 18)) == 5  # Friday evening
        assert on(at_shanghai(21, 12)) == 5  # Saturday
        assert on(at_shanghai(22, 23)) == 5  # Sunday night
        assert on(at_shanghai(23, 8)) == 5  # Monday before the day's quiz
        assert on(at_shanghai(24, 8)) == 0  # Tuesday: Monday was missed
        # Counted as calendar days the weekend broke it (the old rule).
        assert streak(session, learner, at_shanghai(22, 23)) == 0


def test_a_track_quizzed_tuesday_to_thursday_keeps_the_streak_over_monday_and_friday(
    sqlite_database: Database,
) -> None:
    """The sample course quizzes its managers' track Tuesday to Thursday (tracks.yaml):
    a manager who answered every quiz for two weeks has a 6-day streak on Friday, and
    still on Monday; counted over every working day it would be 0 by Saturday."""
    push_days = PushDays.of(("mon", "tue", "wed", "thu", "fri"), load_course(SAMPLE_CONTENT))
    with sqlite_database.session() as session:
        manager = person(session, "planner", "Asia/Shanghai")
        manager.track_id = "managers"
        days = (17, 18, 19, 24, 25, 26)  # Tue-Thu of W47 and W48 (no blackout)
        answered(session, manager, *(at_shanghai(day) for day in days))
        session.flush()

        def on(moment: datetime, rule: PushDays = push_days) -> int:
            return streak(session, manager, moment, push_days=rule)

        assert on(at_shanghai(27, 18)) == 6  # Friday
        assert on(at_shanghai(30, 20)) == 6  # Monday evening
        assert on(at_shanghai(30, 8) + timedelta(days=1)) == 6  # Tuesday before the quiz
        assert on(at_shanghai(30, 8) + timedelta(days=2)) == 0  # Wednesday: Tuesday missed
        assert on(at_shanghai(28, 12), MONDAY_TO_FRIDAY) == 0  # Friday (no quiz) "missed"


def test_late_evening_answers_count_on_their_local_day_across_a_clock_change(
    database: Database,
) -> None:
    """Vancouver leaves daylight saving time on 1 November 2026 (UTC-7 to UTC-8): answers
    at 23:30 local, which are the next day in UTC, count on their own local day on both
    sides of the change; in Shanghai (no change) late answers count the same way."""
    vancouver = ZoneInfo("America/Vancouver")
    weekdays = [date(2026, 10, 26) + timedelta(days=n) for n in range(12)]
    weekdays = [day for day in weekdays if day.weekday() < 5]  # Oct 26-30, Nov 2-6
    with database.session() as session:
        late = person(session, "late", "America/Vancouver")
        answered(
            session,
            late,
            *(datetime.combine(day, time(23, 30), vancouver) for day in weekdays),
        )
        owl = person(session, "owl", "Asia/Shanghai")
        answered(session, owl, *(at_shanghai(day, 23) for day in range(16, 21)))
        session.flush()
        friday_night = datetime(2026, 11, 6, 23, 45, tzinfo=vancouver)
        assert streak(session, late, friday_night, push_days=MONDAY_TO_FRIDAY) == 10
        assert streak(session, owl, at_shanghai(22, 12), push_days=MONDAY_TO_FRIDAY) == 5
        both = streaks(session, [late, owl], friday_night, push_days=MONDAY_TO_FRIDAY)
        assert both == {late.id: 10, owl.id: 0}  # Shanghai's Saturday 7 Nov: a week silent


def test_blackout_days_neither_count_nor_break_a_streak(sqlite_database: Database) -> None:
    calendar = Calendar(
        blackouts=[
            Blackout(
                id="peak",
                title=LocalizedText(zh="大促", en="Peak"),
                start=date(2026, 11, 18),
                end=date(2026, 11, 19),
                tracks=["frontline"],
            )
        ]
    )
    push_days = PushDays(frozenset({"mon", "tue", "wed", "thu", "fri"}), calendar)
    with sqlite_database.session() as session:
        learner = person(session, "peak", "Asia/Shanghai")  # track frontline
        answered(session, learner, *(at_shanghai(day) for day in (16, 17, 20)))
        session.flush()
        assert streak(session, learner, at_shanghai(22, 12), push_days=push_days) == 3
        # For another track the Wednesday and Thursday were push days, and were missed.
        learner.track_id = "managers"
        session.flush()
        assert streak(session, learner, at_shanghai(22, 12), push_days=push_days) == 1


def test_a_long_weekday_streak_is_read_past_the_first_window(sqlite_database: Database) -> None:
    with sqlite_database.session() as session:
        learner = person(session, "long", "Asia/Shanghai")
        days = [at_shanghai(20) - timedelta(days=back) for back in range(60)]
        answered(session, learner, *(day for day in days if day.weekday() < 5))
        session.flush()
        # 60 days back from Friday 20 November: 12 full weeks of 5 push days less 2 days.
        expected = sum(1 for day in days if day.weekday() < 5)
        assert streak(session, learner, at_shanghai(22, 12), push_days=MONDAY_TO_FRIDAY) == (
            expected
        )
