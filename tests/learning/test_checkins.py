"""Which lesson a check-in asks about, on SQLite and PostgreSQL, and two dispatchers racing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from adapters.memory import MemoryOutbound
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.library import CourseLibrary
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryKind, DeliveryStatus, Person
from tests.conftest import SAMPLE_CONTENT

PLATFORM = "memory"
CHECKIN_DAY = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # Tuesday 09:30 in Shanghai


def learner(db: Database, user_id: str) -> int:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    with db.session() as session:
        person = Person(
            platform=PLATFORM,
            platform_user_id=user_id,
            display_name=user_id,
            language="en",
            timezone="Asia/Shanghai",
            track_id="frontline",
            enrolled_at=start,
            created_at=start,
            updated_at=start,
        )
        session.add(person)
        session.flush()
        return person.id


def completed(db: Database, person_id: int, lesson_id: str, when: datetime, track: str) -> None:
    with db.session() as session:
        session.add(
            Delivery(
                person_id=person_id,
                kind=DeliveryKind.LESSON,
                slot=f"test:{lesson_id}:{when.isoformat()}",
                local_date=when.date(),
                item_id=lesson_id,
                language="en",
                track_id=track,
                status=DeliveryStatus.COMPLETED,
                claimed_at=when,
                sent_at=when,
                completed_at=when,
            )
        )


def dispatcher(db: Database, outbound: MemoryOutbound) -> Dispatcher:
    settings = load_settings(database_url=db.url, content_dir=SAMPLE_CONTENT, reminder_hours=0)
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    course = library.course
    # Managers' lessons are asked about after 7 days.
    course.tracks["managers"] = course.tracks["managers"].model_copy(
        update={"checkin": course.tracks["managers"].checkin.model_copy(update={"after_days": 7})}
    )
    return Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=FakeClock(CHECKIN_DAY),
        outbound={PLATFORM: outbound},
    )


def asked(db: Database) -> dict[str, str | None]:
    with db.session() as session:
        return {
            user: lesson
            for user, lesson in session.execute(
                select(Person.platform_user_id, Delivery.item_id)
                .join(Person, Person.id == Delivery.person_id)
                .where(Delivery.kind == DeliveryKind.CHECKIN)
            ).all()
        }


async def test_the_lesson_each_learner_is_asked_about(database: Database) -> None:
    day = timedelta(days=1)
    due = CHECKIN_DAY - 14 * day
    ann, ben, cat, dov, eve = (
        learner(database, name) for name in ("ann", "ben", "cat", "dov", "eve")
    )
    # ann: two due lessons: the older one first.
    completed(database, ann, "fl-02", due - 2 * day, "frontline")
    completed(database, ann, "fl-03", due, "frontline")
    # ben: 13 days ago is not yet due; 29 days ago is too long ago.
    completed(database, ben, "fl-01", due + day, "frontline")
    completed(database, ben, "fl-02", due - 15 * day, "frontline")
    # cat: completed long ago and again 14 days ago: an old lesson, not asked.
    completed(database, cat, "fl-01", due - 40 * day, "frontline")
    completed(database, cat, "fl-01", due, "frontline")
    # dov: a managers' lesson (7 days), 8 days ago.
    completed(database, dov, "mg-01", CHECKIN_DAY - 8 * day, "managers")
    # eve: asked about fl-01 already; fl-02 next.
    completed(database, eve, "fl-01", due - day, "frontline")
    completed(database, eve, "fl-02", due, "frontline")
    with database.session() as session:
        session.add(
            Delivery(
                person_id=eve,
                kind=DeliveryKind.CHECKIN,
                slot="daily",
                local_date=(due - day).date() + 14 * day,
                item_id="fl-01",
                status=DeliveryStatus.ANSWERED,
                claimed_at=due,
            )
        )
    outbound = MemoryOutbound()
    await dispatcher(database, outbound).tick()
    assert asked(database) == {"ann": "fl-02", "dov": "mg-01", "eve": "fl-02"}
    texts = [sent.reply.text for sent in outbound.sent if "applied it" in sent.reply.text]
    assert sorted(texts) == sorted(
        [
            "16 days ago you completed “Activation: first value, fast”. "
            "Have you applied it at work?",
            "8 days ago you completed “" + title(database, "mg-01") + "”. "
            "Have you applied it at work?",
            "14 days ago you completed “Activation: first value, fast”. "
            "Have you applied it at work?",
        ]
    )


def title(db: Database, lesson_id: str) -> str:
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    lesson = library.course.lesson(lesson_id, "en")
    assert lesson is not None
    return lesson.title


async def test_two_dispatchers_at_once_push_one_checkin(database: Database) -> None:
    person = learner(database, "fay")
    completed(database, person, "fl-01", CHECKIN_DAY - timedelta(days=14), "frontline")
    outbound = MemoryOutbound()
    first, second = dispatcher(database, outbound), dispatcher(database, outbound)
    await asyncio.gather(first.tick(), second.tick())
    checkins = [sent for sent in outbound.sent if "applied it" in sent.reply.text]
    assert len(checkins) == 1
    assert asked(database) == {"fay": "fl-01"}
