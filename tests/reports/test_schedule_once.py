"""The Monday summaries exactly once: across restarts on any day of the week, across a
failed channel post, and across a process killed between a claim and its send.

Run on SQLite and PostgreSQL. Messages are counted where they arrive: the in-memory
front door for the managers' and trainers' DMs, the fake Telegram Bot API server for the
review channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.memory import MemoryOutbound
from bot import events_log
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.library import CourseLibrary
from bot.reports.schedule import retry_unsent_reports, send_weekly_reports
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import (
    ChannelPost,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Role,
    TeamManager,
)
from bot.store.models import Person as StoredPerson
from tests.conftest import SAMPLE_CONTENT
from tests.fake_telegram import FakeTelegram, TelegramFrontDoor, telegram_front_door
from tests.reports.handbuilt import build

MONDAY_0900 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, W48
WEDNESDAY = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
SUNDAY_LATE = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai, still W48
NEXT_MONDAY = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # W49: the summary of W48 is due
W47_MONDAY = date(2026, 11, 16)
GROUP_ID = -1001234567890
DEAD_OWNER = "bot-host-1:4242:deadbeef"


@dataclass
class Setup:
    """A store with the hand-built fortnight, the dispatcher and where messages land."""

    db: Database
    clock: FakeClock
    dms: MemoryOutbound
    dispatcher: Dispatcher
    world_people: dict[str, int]


def make_setup(db: Database, *, channel: str = "console:review") -> Setup:
    world = build(db)
    with db.session() as session:
        session.add(
            StoredPerson(
                platform="console",
                platform_user_id="tom",
                display_name="Tom",
                language="en",
                role=Role.LEARNER,  # an admin by TRAINBOT_ADMINS, below
                created_at=MONDAY_0900,
                updated_at=MONDAY_0900,
            )
        )
    clock = FakeClock(MONDAY_0900)
    settings = load_settings(
        database_url=db.url,
        content_dir=SAMPLE_CONTENT,
        report_channel=channel,
        language="en",
        admins=["console:tom"],
    )
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    dms = MemoryOutbound(platform="console")
    dispatcher = Dispatcher(
        db=db, library=library, settings=settings, clock=clock, outbound={"console": dms}
    )
    return Setup(db, clock, dms, dispatcher, world.people)


def report_rows(db: Database) -> list[Delivery]:
    with db.session() as session:
        rows = session.scalars(
            select(Delivery).where(Delivery.kind == DeliveryKind.REPORT).order_by(Delivery.id)
        ).all()
        session.expunge_all()
        return list(rows)


def add_claim(
    db: Database,
    person_id: int,
    slot: str,
    *,
    claimed_at: datetime,
    lease_owner: str | None,
    lease_expires_at: datetime | None,
    local_date: date = W47_MONDAY,
    send_started_at: datetime | None = None,
) -> None:
    """A report row left ``claimed``, as a process killed after claiming it leaves it."""
    with db.session() as session:
        session.add(
            Delivery(
                person_id=person_id,
                kind=DeliveryKind.REPORT,
                slot=slot,
                local_date=local_date,
                item_id=slot.partition(":")[2],
                language="en",
                status=DeliveryStatus.CLAIMED,
                send_attempts=0,
                claimed_at=claimed_at,
                lease_owner=lease_owner,
                lease_expires_at=lease_expires_at,
                send_started_at=send_started_at,
            )
        )


# -- 1. once per manager and ISO week, whatever day the run happens on ----------------------


async def test_restarts_on_other_days_of_the_week_send_nothing_again(database: Database) -> None:
    setup = make_setup(database)
    first = await send_weekly_reports(setup.dispatcher)
    assert (first.week, first.managers, first.admins, first.channel) == ("2026-W47", 1, 1, True)
    for restart in (WEDNESDAY, SUNDAY_LATE):  # the bot restarts: the job runs at start
        setup.clock.set(restart)
        again = await send_weekly_reports(setup.dispatcher)
        assert again.week == "2026-W47"
        assert (again.managers, again.admins, again.channel, again.already_sent) == (
            0,
            0,
            False,
            3,
        )
    assert len(setup.dms.to("mia")) == 1 and len(setup.dms.to("tom")) == 1
    assert len(setup.dms.to("review")) == 1
    # One row per person and week, dated the Monday of the reported week.
    assert [(row.slot, row.local_date, row.status) for row in report_rows(database)] == [
        ("weekly:2026-W47", W47_MONDAY, DeliveryStatus.SENT),
        ("gaps:2026-W47", W47_MONDAY, DeliveryStatus.SENT),
    ]

    setup.clock.set(NEXT_MONDAY)  # a new week: its own summary, once
    following = await send_weekly_reports(setup.dispatcher)
    assert (following.week, following.managers, following.channel) == ("2026-W48", 1, True)
    (_, w48) = setup.dms.to("mia")
    assert "Weekly training summary — 2026-W48" in w48.text


async def test_a_summary_recorded_by_an_earlier_version_counts_as_sent(
    database: Database,
) -> None:
    setup = make_setup(database)
    # Earlier versions dated the claim with the day of the run (Monday of W48) ...
    for person_id, slot in (
        (setup.world_people["Mia"], "weekly:2026-W47"),
        (tom_id(database), "gaps:2026-W47"),
    ):
        with database.session() as session:
            session.add(
                Delivery(
                    person_id=person_id,
                    kind=DeliveryKind.REPORT,
                    slot=slot,
                    local_date=date(2026, 11, 23),
                    item_id="2026-W47",
                    status=DeliveryStatus.SENT,
                    send_attempts=1,
                    claimed_at=MONDAY_0900,
                    sent_at=MONDAY_0900,
                )
            )
    # ... and recorded the channel post as a handled event.
    events_log.first_time(database, "report", "weekly-report:2026-W47:review", MONDAY_0900)
    setup.clock.set(WEDNESDAY)  # the upgraded bot starts on Wednesday
    run = await send_weekly_reports(setup.dispatcher)
    assert (run.managers, run.admins, run.channel, run.already_sent) == (0, 0, False, 3)
    assert setup.dms.sent == []
    assert len(report_rows(database)) == 2


def tom_id(db: Database) -> int:
    with db.session() as session:
        found = session.scalar(
            select(StoredPerson.id).where(StoredPerson.platform_user_id == "tom")
        )
        assert found is not None
        return found


# -- 2. the review channel: recorded only once the platform took it --------------------------


@pytest.fixture
async def telegram(database: Database) -> AsyncIterator[tuple[Setup, TelegramFrontDoor]]:
    """The setup with the review channel in a Telegram group, on the fake Bot API server."""
    setup = make_setup(database, channel=f"telegram:{GROUP_ID}")
    bot = TrainBot(
        settings=setup.dispatcher.settings,
        db=database,
        library=setup.dispatcher.library,
        clock=setup.clock,
    )
    async with telegram_front_door(bot) as door:
        door.server.add_group(GROUP_ID, "Weekly review")
        setup.dispatcher.outbound["telegram"] = door.adapter
        yield setup, door


def posted(server: FakeTelegram) -> list[str]:
    """The methods of the calls that reached the group, in order."""
    return [
        call.method
        for call in server.requests
        if call.ok and call.params.get("chat_id") == GROUP_ID
    ]


def channel_posts(db: Database) -> list[ChannelPost]:
    with db.session() as session:
        rows = session.scalars(select(ChannelPost).order_by(ChannelPost.id)).all()
        session.expunge_all()
        return list(rows)


async def test_the_channel_post_survives_a_server_error_and_is_posted_once(
    telegram: tuple[Setup, TelegramFrontDoor],
) -> None:
    setup, door = telegram
    # The organisation's summary fits a caption: one photo with the text under it.
    door.server.fail_next("sendPhoto", 500, "Internal Server Error")
    first = await send_weekly_reports(setup.dispatcher)
    assert not first.channel and first.retry_later == [f"channel telegram:{GROUP_ID}"]
    assert first.managers == 1 and len(setup.dms.to("mia")) == 1  # the DMs went on
    assert posted(door.server) == []
    (post,) = channel_posts(setup.db)
    assert (post.status, post.attempts, post.sent_at) == (DeliveryStatus.CLAIMED, 1, None)
    assert "Internal Server Error" in (post.error or "")

    setup.clock.advance(timedelta(minutes=10))  # the scheduler's retry
    retry = await retry_unsent_reports(setup.dispatcher)
    assert retry.channel and retry.managers == 0
    assert posted(door.server) == ["sendPhoto"]
    (photo,) = [
        c for c in door.server.calls("sendPhoto") if c.ok and c.params["chat_id"] == GROUP_ID
    ]
    assert "Weekly training summary — 2026-W47" in photo.params["caption"]
    assert photo.params["photo"]["content_type"] == "image/png"
    (post,) = channel_posts(setup.db)
    assert (post.status, post.attempts, post.error) == (DeliveryStatus.SENT, 2, None)
    assert post.sent_at == setup.clock.now() and post.message_ref

    # Never again: not by the retry, not by a restart later in the week.
    assert not (await retry_unsent_reports(setup.dispatcher)).channel
    setup.clock.set(WEDNESDAY)
    assert not (await send_weekly_reports(setup.dispatcher)).channel
    assert posted(door.server) == ["sendPhoto"]
    assert len(setup.dms.to("mia")) == 1


async def test_a_channel_that_keeps_failing_is_given_up_after_five_tries(
    telegram: tuple[Setup, TelegramFrontDoor], caplog: pytest.LogCaptureFixture
) -> None:
    setup, door = telegram
    for _ in range(6):
        door.server.fail_next("sendPhoto", 500, "Internal Server Error")
    await send_weekly_reports(setup.dispatcher)
    with caplog.at_level("WARNING", logger="bot.reports.schedule"):
        for _ in range(4):
            setup.clock.advance(timedelta(minutes=10))
            await retry_unsent_reports(setup.dispatcher)
    (post,) = channel_posts(setup.db)
    assert (post.status, post.attempts) == (DeliveryStatus.FAILED, 5)
    assert "Internal Server Error" in (post.error or "")
    (gave_up,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "gave up after 5 tries" in gave_up.getMessage()
    tries = len(door.server.calls("sendPhoto"))
    setup.clock.advance(timedelta(minutes=10))
    await retry_unsent_reports(setup.dispatcher)
    setup.clock.set(WEDNESDAY)
    await send_weekly_reports(setup.dispatcher)
    assert len(door.server.calls("sendPhoto")) == tries == 5  # not tried again
    assert posted(door.server) == []


# -- 3. a process killed between a claim and its send ---------------------------------------


async def test_a_claim_left_by_a_killed_process_is_sent_once_on_the_next_run(
    database: Database,
) -> None:
    setup = make_setup(database)
    mia = setup.world_people["Mia"]
    # The process claimed Mia's summary at 09:00 and was killed; its lease ran out.
    add_claim(
        database,
        mia,
        "weekly:2026-W47",
        claimed_at=MONDAY_0900,
        lease_owner=DEAD_OWNER,
        lease_expires_at=MONDAY_0900 + timedelta(seconds=90),
    )
    setup.clock.set(MONDAY_0900 + timedelta(minutes=3))  # the restarted bot runs the job
    run = await send_weekly_reports(setup.dispatcher)
    assert (run.managers, run.recovered) == (1, 1)
    (summary,) = setup.dms.to("mia")
    assert "Weekly training summary — 2026-W47" in summary.text
    rows = [row for row in report_rows(database) if row.person_id == mia]
    assert [(row.status, row.send_attempts) for row in rows] == [(DeliveryStatus.SENT, 1)]
    assert rows[0].lease_owner != DEAD_OWNER

    assert (await retry_unsent_reports(setup.dispatcher)).managers == 0
    assert (await send_weekly_reports(setup.dispatcher)).managers == 0
    assert len(setup.dms.to("mia")) == 1


async def test_the_retry_takes_over_a_killed_claim_without_waiting_for_a_restart(
    database: Database,
) -> None:
    setup = make_setup(database, channel="")
    tom = tom_id(database)
    # Killed while sending: the message may have gone out, so it is sent again, once.
    add_claim(
        database,
        tom,
        "gaps:2026-W47",
        claimed_at=MONDAY_0900,
        lease_owner=DEAD_OWNER,
        lease_expires_at=MONDAY_0900 + timedelta(seconds=90),
        send_started_at=MONDAY_0900,
    )
    setup.clock.set(MONDAY_0900 + timedelta(minutes=10))
    run = await retry_unsent_reports(setup.dispatcher)
    assert (run.admins, run.recovered) == (1, 1)
    (digest,) = setup.dms.to("tom")
    assert digest.text.startswith("**Content gaps 2026-W47**")
    assert setup.dms.to("mia") == []  # the retry sends only what was claimed
    (row,) = report_rows(database)
    assert row.status is DeliveryStatus.SENT and row.send_started_at is None


async def test_a_claim_whose_owner_still_runs_is_not_taken_over(database: Database) -> None:
    setup = make_setup(database, channel="")
    mia = setup.world_people["Mia"]
    # Another bot process claimed it a moment ago and is still building it.
    add_claim(
        database,
        mia,
        "weekly:2026-W47",
        claimed_at=MONDAY_0900,
        lease_owner="bot-host-2:77:cafe0001",
        lease_expires_at=MONDAY_0900 + timedelta(seconds=90),
    )
    setup.clock.set(MONDAY_0900 + timedelta(seconds=30))
    run = await send_weekly_reports(setup.dispatcher)
    assert (run.managers, run.in_progress, run.recovered) == (0, 1, 0)
    assert (await retry_unsent_reports(setup.dispatcher)).managers == 0
    assert setup.dms.to("mia") == []
    (row,) = [row for row in report_rows(database) if row.person_id == mia]
    assert (row.status, row.lease_owner) == (DeliveryStatus.CLAIMED, "bot-host-2:77:cafe0001")

    # Its owner died before sending: once the lease has run out, the retry sends it.
    setup.clock.advance(timedelta(minutes=2))
    assert (await retry_unsent_reports(setup.dispatcher)).managers == 1
    assert len(setup.dms.to("mia")) == 1


async def test_a_claim_by_an_earlier_version_is_taken_over_only_once_it_is_old(
    database: Database,
) -> None:
    setup = make_setup(database, channel="")
    mia = setup.world_people["Mia"]
    # Earlier versions claimed without a lease, dated with the day of the run.
    add_claim(
        database,
        mia,
        "weekly:2026-W47",
        claimed_at=MONDAY_0900,
        lease_owner=None,
        lease_expires_at=None,
        local_date=date(2026, 11, 23),
    )
    setup.clock.set(MONDAY_0900 + timedelta(minutes=1))  # it may still be sending
    assert (await send_weekly_reports(setup.dispatcher)).in_progress == 1
    assert setup.dms.to("mia") == []
    setup.clock.set(WEDNESDAY)
    assert (await send_weekly_reports(setup.dispatcher)).recovered == 1
    assert len(setup.dms.to("mia")) == 1
    assert [row.local_date for row in report_rows(database) if row.person_id == mia] == [
        date(2026, 11, 23)
    ]


async def test_a_claim_of_an_earlier_week_is_closed_not_sent(database: Database) -> None:
    setup = make_setup(database, channel="")
    mia = setup.world_people["Mia"]
    add_claim(
        database,
        mia,
        "weekly:2026-W46",
        claimed_at=MONDAY_0900 - timedelta(days=7),
        lease_owner=DEAD_OWNER,
        lease_expires_at=MONDAY_0900 - timedelta(days=7),
        local_date=date(2026, 11, 9),
    )
    run = await retry_unsent_reports(setup.dispatcher)
    assert run.managers == 0 and setup.dms.sent == []
    (row,) = report_rows(database)
    assert (row.status, row.send_attempts) == (DeliveryStatus.FAILED, 0)
    assert row.error == "not sent before the summary of 2026-W47 was due"


async def test_a_claim_for_someone_who_no_longer_manages_is_closed_not_sent(
    database: Database,
) -> None:
    setup = make_setup(database, channel="")
    mia = setup.world_people["Mia"]
    add_claim(
        database,
        mia,
        "weekly:2026-W47",
        claimed_at=MONDAY_0900,
        lease_owner=DEAD_OWNER,
        lease_expires_at=MONDAY_0900 + timedelta(seconds=90),
    )
    with database.session() as session:  # the roster changed before the restart
        session.query(TeamManager).delete()
    setup.clock.set(WEDNESDAY)
    assert (await retry_unsent_reports(setup.dispatcher)).managers == 0
    assert setup.dms.sent == []
    (row,) = report_rows(database)
    assert (row.status, row.error) == (DeliveryStatus.FAILED, "no longer manages a team or anyone")


# -- 4. one recipient's trouble never stops the others ---------------------------------------


async def test_a_failing_manager_does_not_stop_the_others(database: Database) -> None:
    setup = make_setup(database, channel="")
    setup.dms.blocked.add("mia")
    run = await send_weekly_reports(setup.dispatcher)
    assert run.failed == ["console:mia"] and run.retry_later == []
    assert run.admins == 1 and len(setup.dms.to("tom")) == 1
