"""Answer streaks: consecutive local days with an answer, for one person or many at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.learning import local_date, streak, streaks
from bot.store.db import Database
from bot.store.models import Attempt, Person, Role

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
