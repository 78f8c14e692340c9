"""Finding and enrolling people in the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import events
from bot.i18n import language_from_locale
from bot.store.models import Person, PersonStatus, Role


def find_person(session: Session, who: events.Person) -> Person | None:
    """The stored person behind a platform identity, if enrolled."""
    return session.scalars(
        select(Person).where(
            Person.platform == who.platform, Person.platform_user_id == who.user_id
        )
    ).one_or_none()


def enrol(
    session: Session,
    who: events.Person,
    *,
    now: datetime,
    default_language: str,
    default_timezone: str,
    role: Role = Role.LEARNER,
) -> tuple[Person, bool]:
    """Create the person if new, or re-activate them if they had stopped.

    Returns:
        The person and whether they were created now.
    """
    person = find_person(session, who)
    if person is None:
        person = Person(
            platform=who.platform,
            platform_user_id=who.user_id,
            display_name=who.display_name or who.user_id,
            language=language_from_locale(who.locale, default_language),
            timezone=who.timezone or default_timezone,
            role=role,
            status=PersonStatus.ACTIVE,
            enrolled_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(person)
        session.flush()
        return person, True
    if person.status is PersonStatus.OPTED_OUT:
        person.status = PersonStatus.ACTIVE
        person.status_reason = None
        person.updated_at = now
    if who.display_name and who.display_name != person.display_name:
        person.display_name = who.display_name
        person.updated_at = now
    if role is Role.ADMIN and person.role is not Role.ADMIN:
        person.role = Role.ADMIN
    return person, False
