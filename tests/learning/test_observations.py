"""Observation checklists in the store, on SQLite and PostgreSQL: who gets one about whom,
which lessons, once per period even with two dispatchers, and the periods themselves."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.memory import MemoryOutbound
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.library import CourseLibrary
from bot.observations import period_start
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryKind, Observer, Person, PersonStatus
from tests.conftest import SAMPLE_CONTENT
from tests.learning.test_checkins import PLATFORM, completed, learner

MONDAY = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


@pytest.mark.parametrize(
    ("day", "months", "start"),
    [
        (date(2026, 12, 7), 1, date(2026, 12, 1)),
        (date(2026, 12, 7), 3, date(2026, 10, 1)),
        (date(2027, 2, 28), 3, date(2027, 1, 1)),
        (date(2026, 12, 31), 12, date(2026, 1, 1)),
        (date(2026, 5, 1), 2, date(2026, 5, 1)),
    ],
)
def test_periods_are_calendar_months(day: date, months: int, start: date) -> None:
    assert period_start(day, months) == start


def dispatcher(db: Database, outbound: MemoryOutbound, months: int = 1) -> Dispatcher:
    settings = load_settings(
        database_url=db.url,
        content_dir=SAMPLE_CONTENT,
        reminder_hours=0,
        observation_months=months,
    )
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    return Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=FakeClock(MONDAY),
        outbound={PLATFORM: outbound},
    )


def world(db: Database) -> dict[str, int]:
    """Mia manages Ann and Ben (removed); Pat is named Ann's observer; Ann did six lessons."""
    ids = {name: learner(db, name) for name in ("mia", "ann", "ben", "pat", "sam")}
    with db.session() as session:
        for name in ("ann", "ben"):
            person = session.get(Person, ids[name])
            assert person is not None
            person.manager_id = ids["mia"]
        ben = session.get(Person, ids["ben"])
        assert ben is not None
        ben.status = PersonStatus.REMOVED
        session.add(Observer(subject_id=ids["ann"], observer_id=ids["pat"], added_at=MONDAY))
    for days, lesson in ((30, "fl-01"), (25, "fl-02"), (20, "fl-03"), (15, "fl-04"), (10, "fl-05")):
        completed(db, ids["ann"], lesson, MONDAY - timedelta(days=days), "frontline")
    completed(db, ids["ann"], "fl-06", MONDAY - timedelta(days=3), "frontline")  # too fresh
    completed(db, ids["ben"], "fl-01", MONDAY - timedelta(days=30), "frontline")
    return ids


def claimed(db: Database) -> list[tuple[int, str | None, date, object]]:
    with db.session() as session:
        return [
            (row.person_id, row.item_id, row.local_date, row.selection)
            for row in session.scalars(
                select(Delivery)
                .where(Delivery.kind == DeliveryKind.OBSERVATION)
                .order_by(Delivery.person_id)
            )
        ]


async def test_checklists_go_to_the_manager_and_the_named_peer_only(database: Database) -> None:
    ids = world(database)
    outbound = MemoryOutbound()
    await asyncio.gather(
        dispatcher(database, outbound).tick(), dispatcher(database, outbound).tick()
    )
    lessons = ["fl-05", "fl-04", "fl-03", "fl-02", "fl-01"]  # 5 at most, the latest first
    selection = {"subject": ids["ann"], "lessons": lessons, "tracks": ["frontline"] * 5}
    assert claimed(database) == [
        (ids["mia"], str(ids["ann"]), date(2026, 12, 1), selection),
        (ids["pat"], str(ids["ann"]), date(2026, 12, 1), selection),
    ]
    texts = [
        sent.reply.text for sent in outbound.sent if "Observation checklist" in sent.reply.text
    ]
    assert len(texts) == 2  # two dispatchers at once: each checklist sent once
    assert all(text.startswith("👀 Observation checklist for ann:") for text in texts)


async def test_observations_off(database: Database) -> None:
    world(database)
    outbound = MemoryOutbound()
    await dispatcher(database, outbound, months=0).tick()
    assert claimed(database) == []


def test_the_longest_button_fits_telegrams_64_bytes() -> None:
    from bot.digits import MAX_DIGITS
    from bot.payloads import OBSERVATION_ANSWERS, ObservationAnswer, decode

    for answer in OBSERVATION_ANSWERS:  # the largest delivery id a payload can carry
        payload = ObservationAnswer(10**MAX_DIGITS - 1, 4, answer)
        assert len(payload.encode().encode()) <= 64
        assert decode(payload.encode()) == payload
