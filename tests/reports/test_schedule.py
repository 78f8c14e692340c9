"""The Monday summaries: each manager by DM, the review channel, each sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.memory import MemoryOutbound
from bot import events_log
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.errors import ConfigError
from bot.library import CourseLibrary
from bot.reports.schedule import (
    parse_channel,
    retry_unsent_reports,
    run_is_due,
    send_weekly_reports,
)
from bot.roster import import_roster
from bot.scheduler import WEEKLY_REPORT_JOB, BotScheduler, Runtime
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryKind, DeliveryStatus, Role
from bot.store.models import Person as StoredPerson
from tests.conftest import SAMPLE_CONTENT
from tests.reports.handbuilt import ask_variant, build

MONDAY_0900 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, W48


def dispatcher_for(
    db: Database, outbound: MemoryOutbound, channel: str, admins: list[str] | None = None
) -> Dispatcher:
    settings = load_settings(
        database_url=db.url,
        content_dir=SAMPLE_CONTENT,
        report_channel=channel,
        language="en",
        admins=admins or [],
    )
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    return Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=FakeClock(MONDAY_0900),
        outbound={"console": outbound},
    )


def test_the_report_channel_format() -> None:
    channel = parse_channel("slack:C0123ABCD")
    assert channel is not None and (channel.platform, channel.chat_id) == ("slack", "C0123ABCD")
    assert parse_channel("  ") is None
    with pytest.raises(ValueError, match="platform:channel_id"):
        parse_channel("#general")


def test_the_run_is_due_from_the_scheduled_time_in_the_org_zone() -> None:
    zone = "Asia/Shanghai"
    assert not run_is_due(datetime(2026, 11, 23, 0, 59, tzinfo=UTC), "mon 09:00", zone)
    assert run_is_due(datetime(2026, 11, 23, 1, 0, tzinfo=UTC), "mon 09:00", zone)
    assert run_is_due(datetime(2026, 11, 29, 15, 59, tzinfo=UTC), "mon 09:00", zone)  # Sunday
    assert not run_is_due(datetime(2026, 11, 25, 0, 0, tzinfo=UTC), "fri 17:00", zone)


async def test_managers_and_the_channel_get_it_once(sqlite_database: Database) -> None:
    world = build(sqlite_database)
    outbound = MemoryOutbound(platform="console")
    dispatcher = dispatcher_for(sqlite_database, outbound, "console:review")
    first = await send_weekly_reports(dispatcher)
    assert (first.week, first.managers, first.channel) == ("2026-W47", 1, True)
    (to_mia,) = outbound.to("mia")
    assert "Weekly training summary — 2026-W47" in to_mia.text
    assert "Active rate: 67% (2/3)" in to_mia.text  # A and A1 only
    assert to_mia.attachment is not None and to_mia.attachment.mime_type == "image/png"
    (to_channel,) = outbound.to("review")
    assert "Active rate: 50% (3/6)" in to_channel.text  # the whole organisation
    # Everyone in the channel reads it: how many to follow up, never who.
    assert "People to follow up" in to_channel.text and "Bob" in to_mia.text
    assert not {"Ann", "Bob", "Mia"} & set(to_channel.text.replace("(", " ").split())
    assert "not to this channel" in to_channel.text
    with sqlite_database.session() as session:
        claimed = session.scalars(
            select(Delivery).where(Delivery.kind == DeliveryKind.REPORT)
        ).all()
        assert [(row.person_id, row.slot, row.status) for row in claimed] == [
            (world.people["Mia"], "weekly:2026-W47", DeliveryStatus.SENT)
        ]

    again = await send_weekly_reports(dispatcher)  # e.g. the run after a restart
    assert (again.managers, again.channel, again.already_sent) == (0, False, 2)
    assert len(outbound.sent) == 2


async def test_the_channel_post_outlives_the_adapters_event_pruning(
    sqlite_database: Database,
) -> None:
    build(sqlite_database)
    outbound = MemoryOutbound(platform="console")
    dispatcher = dispatcher_for(sqlite_database, outbound, "console:review")
    assert (await send_weekly_reports(dispatcher)).channel
    # The front door forgets its own handled events after a day; a restart later in the
    # week must still not post the summary again.
    events_log.prune(sqlite_database, "console", MONDAY_0900 + timedelta(days=3))
    assert not (await send_weekly_reports(dispatcher)).channel
    assert len(outbound.to("review")) == 1


async def test_a_post_recorded_by_an_earlier_version_is_not_repeated(
    sqlite_database: Database,
) -> None:
    build(sqlite_database)
    events_log.first_time(sqlite_database, "console", "weekly-report:2026-W47:review", MONDAY_0900)
    outbound = MemoryOutbound(platform="console")
    run = await send_weekly_reports(dispatcher_for(sqlite_database, outbound, "console:review"))
    assert not run.channel and outbound.to("review") == []


async def test_a_failed_send_is_recorded(sqlite_database: Database) -> None:
    world = build(sqlite_database)
    outbound = MemoryOutbound(platform="console", blocked={"mia"})
    run = await send_weekly_reports(dispatcher_for(sqlite_database, outbound, ""))
    assert run.managers == 0 and run.failed == ["console:mia"]
    assert outbound.calls == 1  # a blocked bot is not tried again
    with sqlite_database.session() as session:
        row = session.scalars(select(Delivery).where(Delivery.kind == DeliveryKind.REPORT)).one()
        assert row.status is DeliveryStatus.FAILED and "blocked" in (row.error or "")
        mia = session.get(StoredPerson, world.people["Mia"])
        assert mia is not None and mia.status.value == "unreachable"  # as after a lesson push


async def test_a_timeout_or_rate_limit_is_retried_before_giving_up(
    sqlite_database: Database,
) -> None:
    build(sqlite_database)
    outbound = MemoryOutbound(platform="console", fail_next=1, rate_limit_next=1, retry_after=0.01)
    run = await send_weekly_reports(dispatcher_for(sqlite_database, outbound, ""))
    assert run.managers == 1 and run.failed == []
    assert outbound.calls == 3 and len(outbound.to("mia")) == 1
    with sqlite_database.session() as session:
        row = session.scalars(select(Delivery).where(Delivery.kind == DeliveryKind.REPORT)).one()
        assert row.status is DeliveryStatus.SENT

    # Three server errors in a row: this try failed, with the reason; the run goes on,
    # and a later run (the scheduler's retry) tries again, five tries in all.
    flaky = MemoryOutbound(platform="console", fail_next=3)
    dispatcher = dispatcher_for(sqlite_database, flaky, "")
    with sqlite_database.session() as session:
        session.query(Delivery).delete()
    failed = await send_weekly_reports(dispatcher)
    assert failed.failed == failed.retry_later == ["console:mia"] and flaky.calls == 3
    with sqlite_database.session() as session:
        row = session.scalars(select(Delivery).where(Delivery.kind == DeliveryKind.REPORT)).one()
        assert row.status is DeliveryStatus.CLAIMED and "500" in (row.error or "")
        assert (row.send_attempts, row.lease_owner) == (1, None)  # released
    for tries in range(2, 6):
        flaky.fail_next = 3
        again = await retry_unsent_reports(dispatcher)
        assert again.failed == ["console:mia"]
        assert again.retry_later == ([] if tries == 5 else ["console:mia"])
    with sqlite_database.session() as session:
        row = session.scalars(select(Delivery).where(Delivery.kind == DeliveryKind.REPORT)).one()
        assert row.status is DeliveryStatus.FAILED and "500" in (row.error or "")
        assert row.send_attempts == 5
    calls = flaky.calls
    assert (await retry_unsent_reports(dispatcher)).failed == []
    assert (await send_weekly_reports(dispatcher)).already_sent == 1
    assert flaky.calls == calls and flaky.sent == []  # given up: not tried again


async def test_a_summary_the_platform_did_not_confirm_is_not_sent_again(
    sqlite_database: Database,
) -> None:
    """A timeout may well have been delivered: the summary is recorded, never repeated."""
    build(sqlite_database)
    outbound = MemoryOutbound(platform="console", timeout_next=1)
    dispatcher = dispatcher_for(sqlite_database, outbound, "")
    run = await send_weekly_reports(dispatcher)
    assert run.managers == 1 and run.failed == [] and len(outbound.to("mia")) == 1
    await retry_unsent_reports(dispatcher)
    assert (await send_weekly_reports(dispatcher)).already_sent == 1
    assert len(outbound.to("mia")) == 1 and outbound.calls == 1
    with sqlite_database.session() as session:
        row = session.scalars(select(Delivery).where(Delivery.kind == DeliveryKind.REPORT)).one()
        assert row.status is DeliveryStatus.SENT
        assert "not confirmed" in (row.error or "")


def test_a_bad_report_channel_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="TRAINBOT_REPORT_CHANNEL: invalid report channel"):
        load_settings(report_channel="#review")
    assert load_settings(report_channel=" slack:C0123 ").report_channel == "slack:C0123"


async def test_the_scheduler_runs_the_weekly_job_at_the_configured_time(
    sqlite_database: Database,
) -> None:
    outbound = MemoryOutbound(platform="console")
    dispatcher = dispatcher_for(sqlite_database, outbound, "")
    settings = dispatcher.settings.model_copy(update={"report_schedule": "tue 08:30"})
    scheduler = BotScheduler(
        settings,
        Runtime(dispatcher=dispatcher, library=dispatcher.library, knowledge=None),
    )
    before = datetime.now(UTC)
    scheduler.start()
    try:
        job = scheduler.scheduler.get_job(WEEKLY_REPORT_JOB)
        assert job is not None
        assert "day_of_week='tue', hour='8', minute='30'" in str(job.trigger)
        assert str(job.trigger.timezone) == "Asia/Shanghai"
        if run_is_due(before, "tue 08:30", "Asia/Shanghai"):
            # This week's time has passed: the job runs at once (catch-up after a restart).
            assert job.next_run_time <= datetime.now(UTC)
        else:
            assert job.next_run_time == job.trigger.get_next_fire_time(None, before)
    finally:
        await scheduler.stop()


def add_person(db: Database, name: str, role: Role) -> None:
    """A person the bot has heard from on the console, in English."""
    with db.session() as session:
        session.add(
            StoredPerson(
                platform="console",
                platform_user_id=name.lower(),
                display_name=name,
                language="en",
                role=role,
                created_at=MONDAY_0900,
                updated_at=MONDAY_0900,
            )
        )


async def test_trainers_get_the_content_gaps_once(sqlite_database: Database) -> None:
    build(sqlite_database)
    add_person(sqlite_database, "Tom", Role.LEARNER)
    outbound = MemoryOutbound(platform="console")
    dispatcher = dispatcher_for(sqlite_database, outbound, "", admins=["console:tom"])
    first = await send_weekly_reports(dispatcher)
    assert first.admins == 1
    (digest,) = outbound.to("tom")
    assert digest.text.startswith("**Content gaps 2026-W47**")
    assert "- How do we win back churned users? — asked 2×, unanswered 1, 👎 1" in digest.text
    again = await send_weekly_reports(dispatcher)
    assert again.admins == 0 and len(outbound.to("tom")) == 1


async def test_a_configured_admin_the_bot_never_heard_from_is_reported_not_lost(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    build(sqlite_database)
    outbound = MemoryOutbound(platform="console")
    dispatcher = dispatcher_for(sqlite_database, outbound, "", admins=["console:zoe"])
    with caplog.at_level("WARNING", logger="bot.reports.schedule"):
        run = await send_weekly_reports(dispatcher)
    assert run.unreached_admins == ["console:zoe"]
    assert run.admins == 0 and outbound.to("zoe") == []
    assert any("console:zoe" in record.getMessage() for record in caplog.records)
    # Once Zoe has written to the bot she has a chat, and the digest reaches her.
    add_person(sqlite_database, "Zoe", Role.LEARNER)
    again = await send_weekly_reports(dispatcher)
    assert again.unreached_admins == [] and again.admins == 1
    (digest,) = outbound.to("zoe")
    assert digest.text.startswith("**Content gaps 2026-W47**")


async def test_the_digest_shows_the_phrasings_grouped_into_a_gap(
    sqlite_database: Database,
) -> None:
    build(sqlite_database)
    add_person(sqlite_database, "Tom", Role.LEARNER)
    ask_variant(sqlite_database)
    outbound = MemoryOutbound(platform="console")
    await send_weekly_reports(dispatcher_for(sqlite_database, outbound, "", admins=["console:tom"]))
    (digest,) = outbound.to("tom")
    assert (
        "- How do we win back churned users? — asked 3×, unanswered 2, 👎 1\n"
        "  also asked as: how do we win back churned users pls"
    ) in digest.text


def reimport(db: Database, tmp_path: Path, rows: str) -> None:
    """A roster re-import (the roster is the truth for the people on it)."""
    path = tmp_path / "roster.csv"
    path.write_text("platform,user_id,name,team,manager,role\n" + rows, encoding="utf-8")
    report = import_roster(
        db,
        path,
        course=None,
        now=MONDAY_0900,
        default_language="en",
        default_timezone="Asia/Shanghai",
    )
    assert report.problems == []


async def test_a_manager_the_roster_moves_gets_the_new_teams_summary_not_the_old(
    sqlite_database: Database, tmp_path: Path
) -> None:
    build(sqlite_database)  # Mia manages A
    # From this import on only the roster's people count (TRAINBOT_ENROLMENT=auto).
    reimport(
        sqlite_database,
        tmp_path,
        "console,mia,Mia,B,,manager\nconsole,dee,Dee,B,console:mia,\nconsole,eve,Eve,B,,\n",
    )
    outbound = MemoryOutbound(platform="console")
    run = await send_weekly_reports(dispatcher_for(sqlite_database, outbound, ""))
    assert run.managers == 1
    (to_mia,) = outbound.to("mia")
    assert "\nB · " in to_mia.text
    assert "Active rate: 50% (1/2)" in to_mia.text  # Dee and Eve in B; not A's Ann, Bob, Cid
    assert "Bob" not in to_mia.text and "Ann" not in to_mia.text


async def test_a_manager_the_roster_demotes_gets_no_summary(
    sqlite_database: Database, tmp_path: Path
) -> None:
    build(sqlite_database)
    reimport(sqlite_database, tmp_path, "console,mia,Mia,,,learner\n")
    outbound = MemoryOutbound(platform="console")
    run = await send_weekly_reports(dispatcher_for(sqlite_database, outbound, ""))
    assert run.managers == 0 and outbound.to("mia") == []


async def test_a_managers_summary_includes_their_direct_reports(
    sqlite_database: Database,
) -> None:
    world = build(sqlite_database)
    with sqlite_database.session() as session:
        gus = session.get(StoredPerson, world.people["Gus"])  # no team, never active
        assert gus is not None
        gus.manager_id = world.people["Mia"]
    outbound = MemoryOutbound(platform="console")
    await send_weekly_reports(dispatcher_for(sqlite_database, outbound, ""))
    (to_mia,) = outbound.to("mia")
    assert "\nA, A1, 1 direct report(s) · " in to_mia.text
    assert "Active rate: 50% (2/4)" in to_mia.text
    assert "- Gus (—): no answer for 7+ days" in to_mia.text


async def test_an_admin_taken_off_the_list_gets_no_digest(sqlite_database: Database) -> None:
    build(sqlite_database)
    add_person(sqlite_database, "Tom", Role.LEARNER)
    outbound = MemoryOutbound(platform="console")
    run = await send_weekly_reports(dispatcher_for(sqlite_database, outbound, "", admins=[]))
    assert run.admins == 0 and outbound.to("tom") == []
