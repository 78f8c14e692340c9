"""Finding and enrolling people in the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import events
from bot.i18n import language_from_locale
from bot.store.models import Person, PersonStatus, Role

NOT_ENROLLED = "not_enrolled"


def find_person(session: Session, who: events.Person) -> Person | None:
    """The stored person behind a platform identity, if enrolled."""
    return session.scalars(
        select(Person).where(
            Person.platform == who.platform, Person.platform_user_id == who.user_id
        )
    ).one_or_none()


def ensure_known(
    session: Session,
    who: events.Person,
    *,
    now: datetime,
    default_language: str,
    default_timezone: str,
) -> Person:
    """The stored person, created (not enrolled: no pushes) on first contact.

    Someone who only asks questions is remembered, so their questions and feedback are
    theirs; lessons and quizzes start only after /start.
    """
    person = find_person(session, who)
    if person is None:
        person = Person(
            platform=who.platform,
            platform_user_id=who.user_id,
            display_name=who.display_name or who.user_id,
            language=language_from_locale(who.locale, default_language),
            timezone=who.timezone or default_timezone,
            status=PersonStatus.ACTIVE,
            enrollment_step=NOT_ENROLLED,
            created_at=now,
            updated_at=now,
        )
        session.add(person)
        session.flush()
    return person


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
    if person is None or person.enrolled_at is None:
        person = ensure_known(
            session,
            who,
            now=now,
            default_language=default_language,
            default_timezone=default_timezone,
        )
        if role is Role.ADMIN or person.role is None:
            person.role = role  # a role given by the roster (e.g. manager) is kept
        person.enrolled_at = now
        person.enrollment_step = None
        person.updated_at = now
        return person, True
    if person.status is not PersonStatus.ACTIVE:
        # after /stop, or unreachable until now: writing to us proves they can be reached
        person.status = PersonStatus.ACTIVE
        person.status_reason = None
        person.updated_at = now
    if who.display_name and who.display_name != person.display_name:
        person.display_name = who.display_name
        person.updated_at = now
    if role is Role.ADMIN and person.role is not Role.ADMIN:
        person.role = Role.ADMIN
    return person, False


def assign_role(
    session: Session,
    who: events.Person,
    role: Role,
    *,
    now: datetime,
    default_language: str,
    default_timezone: str,
) -> Person:
    """Give someone a role before they enrol (the console's ``--role manager``)."""
    person = ensure_known(
        session, who, now=now, default_language=default_language, default_timezone=default_timezone
    )
    if person.role is not role:
        person.role = role
        person.updated_at = now
    return person
