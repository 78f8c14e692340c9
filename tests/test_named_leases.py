"""Named leases: one process at a time runs a job (re-ingest, Telegram long polling)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from bot.leases import NamedLeaseKeeper, acquire_named, named_holder, release_named
from bot.store.db import Database

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def take(database: Database, owner: str, now: datetime) -> bool:
    with database.session() as session:
        return acquire_named(session, "ingest", owner=owner, now=now, lease=LEASE)


def test_one_owner_at_a_time_until_the_lease_runs_out(database: Database) -> None:
    assert take(database, "a", T0)
    assert not take(database, "b", T0 + timedelta(seconds=59))
    assert take(database, "a", T0 + timedelta(seconds=30)), "the holder renews"
    assert not take(database, "b", T0 + timedelta(seconds=89)), "renewed until 90 s"
    assert take(database, "b", T0 + timedelta(seconds=90)), "taken over once it ran out"
    with database.session() as session:
        held = named_holder(session, "ingest", now=T0 + timedelta(seconds=91))
        assert held is not None and held.owner == "b"
        assert held.acquired_at == T0 + timedelta(seconds=90)


def test_release_frees_it_at_once_and_only_for_its_owner(database: Database) -> None:
    assert take(database, "a", T0)
    with database.session() as session:
        assert not release_named(session, "ingest", owner="b", now=T0)
    assert not take(database, "b", T0 + timedelta(seconds=1))
    with database.session() as session:
        assert release_named(session, "ingest", owner="a", now=T0 + timedelta(seconds=2))
        assert named_holder(session, "ingest", now=T0 + timedelta(seconds=2)) is None
    assert take(database, "b", T0 + timedelta(seconds=2))


def test_many_threads_at_once_one_wins(database: Database) -> None:
    wins: list[str] = []
    barrier = threading.Barrier(8)

    def contend(owner: str) -> None:
        barrier.wait()
        if take(database, owner, T0):
            wins.append(owner)

    threads = [threading.Thread(target=contend, args=(f"p{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1


def test_the_keeper_renews_and_notices_a_takeover(database: Database) -> None:
    clock = [T0]

    async def scenario() -> None:
        keeper = NamedLeaseKeeper(
            database, "ingest", owner="a", now=lambda: clock[0], lease=timedelta(seconds=0.3)
        )
        assert await keeper.acquire()
        other = NamedLeaseKeeper(
            database, "ingest", owner="b", now=lambda: clock[0], lease=timedelta(seconds=0.3)
        )
        assert not await other.acquire()
        clock[0] = T0 + timedelta(seconds=0.2)
        await asyncio.sleep(0.25)  # a renewal ran: still a's at 0.45 s
        clock[0] = T0 + timedelta(seconds=0.35)
        assert not await other.acquire()
        # a stalls past its lease; b takes over; a's next renewal notices
        clock[0] = T0 + timedelta(seconds=5)
        assert await other.acquire()
        await asyncio.wait_for(keeper.lost.wait(), timeout=2)
        await keeper.release()  # does not free b's lease
        assert not await NamedLeaseKeeper(
            database, "ingest", owner="c", now=lambda: clock[0]
        ).acquire()
        await other.release()

    asyncio.run(scenario())
