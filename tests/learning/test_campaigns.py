"""``trainbot push`` campaigns: each person's next allowed moment, unique ids, tracks.

Each campaign is pushed as the CLI does (claims in the store) and then sent by a real
dispatcher ticking on a fake clock, so what is checked is when a person gets it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.campaigns import (
    NOTHING_TO_SEND,
    OTHER_TRACK,
    QUIET_HOURS,
    CampaignError,
    PushWindow,
    push_campaign,
)
from bot.clock import FakeClock
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryStatus, Person, Team
from tests.conftest import SAMPLE_CONTENT
from tests.learning.test_dispatcher import Harness, add_person, make_settings
from tests.test_cli import trainbot

# Monday 2026-11-16 15:55 UTC: 23:55 in Shanghai, 07:55 in Vancouver (both quiet hours).
LATE = datetime(2026, 11, 16, 15, 55, tzinfo=UTC)
# Monday 2026-11-16 03:00 UTC: 11:00 in Shanghai, a working morning.
MORNING = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)


def window(harness: Harness) -> PushWindow:
    return PushWindow.of(harness.settings)


def make_harness(db: Database, now: datetime) -> Harness:
    return Harness(db, make_settings(db.url), FakeClock(now))


def campaign_sends(harness: Harness) -> dict[str, list[str]]:
    """Per person, the campaign pushes sent, as local 'weekday HH:MM item'."""
    with harness.db.session() as session:
        people = {p.id: p for p in session.scalars(select(Person)).all()}
    sent: dict[str, list[str]] = {}
    for row in harness.deliveries():
        if row.slot.startswith("campaign:") and row.status is DeliveryStatus.SENT:
            person = people[row.person_id]
            assert row.sent_at is not None
            local = row.sent_at.astimezone(ZoneInfo(person.timezone))
            sent.setdefault(person.platform_user_id, []).append(f"{local:%a %H:%M} {row.item_id}")
    return sent


def add_team(db: Database, name: str, *person_ids: int) -> None:
    with db.session() as session:
        team = Team(name=name, created_at=MORNING)
        session.add(team)
        session.flush()
        for person_id in person_ids:
            person = session.get(Person, person_id)
            assert person is not None
            person.team_id = team.id


async def test_a_quiet_hour_push_waits_for_each_persons_next_allowed_moment(
    database: Database,
) -> None:
    harness = make_harness(database, LATE)
    add_person(database, "shanghai", "Asia/Shanghai")
    add_person(database, "vancouver", "America/Vancouver")
    report = push_campaign(
        database, harness.library.course, now=LATE, window=window(harness),
        track="frontline", lesson="fl-03",
    )  # fmt: skip
    assert (report.queued, report.deferred_count, report.skipped_count) == (0, 2, 0)
    assert report.deferred == {
        (QUIET_HOURS, "2026-11-16 08:00 America/Vancouver"): 1,
        (QUIET_HOURS, "2026-11-17 08:00 Asia/Shanghai"): 1,
    }
    await harness.run(datetime(2026, 11, 17, 1, 0, tzinfo=UTC), timedelta(minutes=5))
    assert campaign_sends(harness) == {
        "vancouver": ["Mon 08:00 fl-03"],
        "shanghai": ["Tue 08:00 fl-03"],
    }


async def test_now_sends_at_once_even_in_quiet_hours(sqlite_database: Database) -> None:
    harness = make_harness(sqlite_database, LATE)
    add_person(sqlite_database, "shanghai", "Asia/Shanghai")
    report = push_campaign(
        sqlite_database, harness.library.course, now=LATE, window=window(harness),
        track="frontline", lesson="fl-03", at_once=True,
    )  # fmt: skip
    assert (report.queued, report.deferred_count) == (1, 0)
    await harness.run(LATE + timedelta(minutes=1))
    assert campaign_sends(harness) == {"shanghai": ["Mon 23:55 fl-03"]}


async def test_a_blackout_defers_to_the_first_day_after_it(sqlite_database: Database) -> None:
    # Tuesday 2026-11-10 03:00 UTC, 11:00 in Shanghai: inside singles-day (11-09..11-12).
    start = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
    harness = make_harness(sqlite_database, start)
    add_person(sqlite_database, "shanghai", "Asia/Shanghai")
    report = push_campaign(
        sqlite_database, harness.library.course, now=start, window=window(harness),
        track="frontline", lesson="fl-03",
    )  # fmt: skip
    assert report.deferred == {("blackout singles-day", "2026-11-13 08:00 Asia/Shanghai"): 1}


async def test_a_weekend_before_a_blackout_names_both(sqlite_database: Database) -> None:
    # Saturday 2026-11-07 03:00 UTC: the weekend, then singles-day (Mon 11-09..Thu 11-12).
    start = datetime(2026, 11, 7, 3, 0, tzinfo=UTC)
    harness = make_harness(sqlite_database, start)
    add_person(sqlite_database, "shanghai", "Asia/Shanghai")
    report = push_campaign(
        sqlite_database, harness.library.course, now=start, window=window(harness),
        track="frontline", lesson="fl-03",
    )  # fmt: skip
    assert report.deferred == {
        ("not a working day, then blackout singles-day", "2026-11-13 08:00 Asia/Shanghai"): 1
    }


async def test_two_campaigns_in_one_minute_both_deliver(sqlite_database: Database) -> None:
    harness = make_harness(sqlite_database, MORNING)
    add_person(sqlite_database, "shanghai", "Asia/Shanghai")
    first = push_campaign(
        sqlite_database, harness.library.course, now=MORNING, window=window(harness),
        track="frontline", lesson="fl-03",
    )  # fmt: skip
    second = push_campaign(
        sqlite_database, harness.library.course, now=MORNING, window=window(harness),
        track="frontline", lesson="fl-04",
    )  # fmt: skip
    assert first.campaign != second.campaign
    assert (first.queued, second.queued) == (1, 1)
    await harness.run(MORNING + timedelta(minutes=1))
    assert campaign_sends(harness) == {"shanghai": ["Mon 11:00 fl-03", "Mon 11:00 fl-04"]}


def test_a_reused_name_is_refused(sqlite_database: Database) -> None:
    harness = make_harness(sqlite_database, MORNING)
    add_person(sqlite_database, "shanghai", "Asia/Shanghai")
    course = harness.library.course
    push_campaign(
        sqlite_database, course, now=MORNING, window=window(harness),
        track="frontline", lesson="fl-03", name="kickoff",
    )  # fmt: skip
    with pytest.raises(CampaignError, match="'kickoff' was already pushed"):
        push_campaign(
            sqlite_database, course, now=MORNING + timedelta(days=1), window=window(harness),
            track="frontline", lesson="fl-04", name="kickoff",
        )  # fmt: skip


def test_a_teams_manager_track_people_never_get_a_frontline_lesson(
    sqlite_database: Database,
) -> None:
    harness = make_harness(sqlite_database, MORNING)
    agent = add_person(sqlite_database, "agent", "Asia/Shanghai")
    lead = add_person(sqlite_database, "lead", "Asia/Shanghai", track="managers")
    add_team(sqlite_database, "East", agent, lead)
    course = harness.library.course
    report = push_campaign(
        sqlite_database, course, now=MORNING, window=window(harness),
        team="East", lesson="fl-03",
    )  # fmt: skip
    assert (report.people, report.queued, report.skipped) == (2, 1, {OTHER_TRACK: 1})
    only_managers = push_campaign(
        sqlite_database, course, now=MORNING, window=window(harness),
        team="East", track="managers",
    )  # fmt: skip
    assert only_managers.people == 1
    assert only_managers.queued + only_managers.skipped[NOTHING_TO_SEND] == 1
    with pytest.raises(CampaignError, match="on track 'frontline', not 'managers'"):
        push_campaign(
            sqlite_database, course, now=MORNING, window=window(harness),
            team="East", track="managers", lesson="fl-03",
        )  # fmt: skip
    with sqlite_database.session() as session:
        lessons = session.scalars(
            select(Delivery.person_id).where(Delivery.item_id == "fl-03")
        ).all()
    assert lessons == [agent]


def test_the_cli_says_what_it_queued_and_refuses_a_reused_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    database = Database(url)
    database.upgrade()
    add_person(database, "shanghai", "Asia/Shanghai")
    lead = add_person(database, "lead", "Asia/Shanghai", track="managers")
    add_team(database, "East", lead)
    database.dispose()
    env = {"TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT), "TRAINBOT_DATABASE_URL": url}
    first = trainbot(
        "push", "--track", "frontline", "--lesson", "fl-03", "--name", "kickoff", "--now",
        cwd=tmp_path, **env,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "campaign kickoff: 1 people; 1 queued" in first.stdout
    again = trainbot(
        "push", "--track", "frontline", "--lesson", "fl-04", "--name", "kickoff",
        cwd=tmp_path, **env,
    )  # fmt: skip
    assert again.returncode != 0
    assert "campaign 'kickoff' was already pushed: choose another --name" in (
        again.stdout + again.stderr
    )
    team = trainbot("push", "--team", "East", "--lesson", "fl-03", cwd=tmp_path, **env)
    assert team.returncode == 0, team.stderr
    assert "1 skipped" in team.stdout and f"skipped 1: {OTHER_TRACK}" in team.stdout


async def test_two_bot_processes_send_a_deferred_campaign_once_each(database: Database) -> None:
    """Deferred claims wait in the store; when their moment comes, two dispatchers on one
    store (two bot processes) take them over and each person gets the push once."""
    first = make_harness(database, LATE)
    for index in range(30):
        add_person(database, f"p{index}", "Asia/Shanghai")
    report = push_campaign(
        database, first.library.course, now=LATE, window=window(first),
        track="frontline", lesson="fl-03",
    )  # fmt: skip
    assert report.deferred_count == 30
    await first.dispatcher().tick()  # still quiet hours in Shanghai: nothing goes out
    assert campaign_sends(first) == {}
    second_db = Database(database.url)
    second = Harness(second_db, first.settings, first.clock)
    second.outbound = first.outbound  # one platform, two bot processes
    first.clock.advance(datetime(2026, 11, 17, 0, 0, tzinfo=UTC) - LATE)  # 08:00 Shanghai
    await asyncio.gather(first.dispatcher().tick(), second.dispatcher().tick())
    sends = campaign_sends(first)
    assert sends == {f"p{index}": ["Tue 08:00 fl-03"] for index in range(30)}
    # At the platform: 30 messages, one per person (no daily push is due at 08:00).
    per_chat = Counter(sent.conversation.chat_id for sent in first.outbound.sent)
    assert per_chat == Counter({f"p{index}": 1 for index in range(30)})
    second_db.dispose()


async def test_a_bot_started_in_quiet_hours_holds_a_deferred_push_again(
    sqlite_database: Database,
) -> None:
    """No bot ran at 08:00 Tuesday in Shanghai; one starts at 23:00: it does not send the
    campaign then, but at 08:00 on Wednesday. A --now campaign is not held."""
    harness = make_harness(sqlite_database, LATE)
    add_person(sqlite_database, "shanghai", "Asia/Shanghai")
    course = harness.library.course
    push_campaign(
        sqlite_database, course, now=LATE, window=window(harness),
        track="frontline", lesson="fl-03",
    )  # fmt: skip
    start = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # Tuesday 23:00 in Shanghai
    harness.clock.advance(start - LATE)
    push_campaign(
        sqlite_database, course, now=start, window=window(harness),
        track="frontline", lesson="fl-04", at_once=True,
    )  # fmt: skip
    await harness.run(datetime(2026, 11, 18, 0, 30, tzinfo=UTC), timedelta(minutes=5))
    # In claim order: the deferred one was claimed first and sent last.
    assert campaign_sends(harness) == {"shanghai": ["Wed 08:00 fl-03", "Tue 23:00 fl-04"]}
