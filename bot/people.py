"""Finding and enrolling people in the store, and checking the time zones they come with."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import events
from bot.i18n import language_from_locale
from bot.store.models import Person, PersonStatus, Role

logger = logging.getLogger(__name__)

NOT_ENROLLED = "not_enrolled"
MAX_ZONE_NAME = 64
"""Longest zone name the store keeps (IANA names are far shorter)."""

_reported_zones: set[tuple[str, str]] = set()
_MAX_REPORTED = 10_000


def is_timezone(name: str | None) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows (``Asia/Shanghai``, ``UTC``)."""
    if not name or len(name) > MAX_ZONE_NAME:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a directory
        return False
    return True


def valid_timezone(name: str | None, fallback: str) -> str:
    """``name`` when it is a known time zone, otherwise ``fallback``.

    For time zones a platform, a person or an import hands us before they are stored.

    Args:
        name: the zone name given (may be empty or unknown, e.g. ``Mars/Olympus``).
        fallback: the organisation's time zone (``settings.timezone``).
    """
    return name if name is not None and is_timezone(name) else fallback


def zone_of(name: str | None, fallback: str, *, owner: str = "") -> ZoneInfo:
    """The time zone ``name`` for reading stored rows; never raises.

    An unknown name (a row stored before zones were checked) gives ``fallback``, and a
    warning once per owner and name; an unknown fallback gives UTC.

    Args:
        name: the stored zone name.
        fallback: the organisation's time zone.
        owner: whose zone it is, for the warning (e.g. ``person 12``; never a name).
    """
    if name is not None and is_timezone(name):
        return ZoneInfo(name)
    if (owner, str(name)) not in _reported_zones:
        if len(_reported_zones) >= _MAX_REPORTED:
            _reported_zones.clear()
        _reported_zones.add((owner, str(name)))
        logger.warning(  # not the name itself: it may still say where someone lives
            "unknown time zone stored%s; using %s", f" for {owner}" if owner else "", fallback
        )
    return ZoneInfo(fallback) if is_timezone(fallback) else ZoneInfo("UTC")


def spoken_language(person: Person | None, who: events.Person, default: str) -> str:
    """The language to speak to ``who``: their stored choice, else their platform locale's."""
    if person is not None:
        return person.language
    return language_from_locale(who.locale, default)


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
            timezone=_checked_timezone(who, who.timezone, default_timezone),
            status=PersonStatus.ACTIVE,
            enrollment_step=NOT_ENROLLED,
            created_at=now,
            updated_at=now,
        )
        session.add(person)
        session.flush()
    elif not is_timezone(person.timezone):  # stored before zones were checked
        person.timezone = valid_timezone(who.timezone, default_timezone)
        person.updated_at = now
        logger.warning(
            "%s:%s had an unknown time zone stored; now %s",
            who.platform,
            who.user_id,
            person.timezone,
        )
    return person


def _checked_timezone(who: events.Person, name: str | None, default_timezone: str) -> str:
    """``name`` if known, else the organisation's zone (with a warning naming only the id)."""
    zone = valid_timezone(name, default_timezone)
    if name and zone != name:
        logger.warning(
            "%s:%s has an unknown time zone; using the organisation's (%s)",
            who.platform,
            who.user_id,
            default_timezone,
        )
    return zone


def enrol(
    session: Session,
    who: events.Person,
    *,
    now: datetime,
    default_language: str,
    default_timezone: str,
) -> tuple[Person, bool]:
    """Create the person if new, or re-activate them if they had stopped.

    The role is left as it is (a new person is a learner; the roster or ``trainbot users
    set-role`` makes managers); admins are never stored, they come from the settings.

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
    """Store someone's role, before they enrol if need be (``trainbot chat --store-role``)."""
    person = ensure_known(
        session, who, now=now, default_language=default_language, default_timezone=default_timezone
    )
    if person.role is not role:
        person.role = role
        person.updated_at = now
    return person
