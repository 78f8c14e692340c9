"""Who may use the bot: the gate every event passes before any use case runs.

``TRAINBOT_ENROLMENT`` chooses the rule (docs/access.md):

- ``open``: anyone who writes to the bot may use it.
- ``roster``: only the people an imported roster lists (``people.on_roster``).
- ``approval``: the roster's people, and strangers an admin approved in chat; a
  stranger's first message records an :class:`~bot.store.models.AccessRequest`.
- ``auto`` (the default): ``roster`` once a roster has been imported, else ``open``, so
  the console demo works out of the box and a real deployment closes as soon as it
  imports its people.

Whatever the rule, the admins listed in ``TRAINBOT_ADMINS`` are always let in, and people
an admin removed (``trainbot users remove``) never are. Someone refused is not stored:
no person row, no question, nothing that reaches a report. Someone stored earlier whom
the rule now refuses (they enrolled themselves while the bot was open) gets no pushes
and is in no report either: :func:`admitted_people` is the same rule in SQL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot import events
from bot.people import find_person, spoken_language
from bot.settings import Settings
from bot.store.models import AccessRequest, AccessStatus, Person, PersonStatus, RosterImport

logger = logging.getLogger(__name__)

MAX_NAME = 200
"""Longest display name an access request keeps (the column's size)."""


class Enrolment(StrEnum):
    """The rule in force (``auto`` already resolved)."""

    OPEN = "open"
    ROSTER = "roster"
    APPROVAL = "approval"


class Verdict(StrEnum):
    """What the gate decided for one event."""

    ADMITTED = "admitted"
    REFUSED = "refused"  # not on the roster, removed by an admin, or a denied request
    REQUESTED = "requested"  # approval: this message recorded a request for an admin
    PENDING = "pending"  # approval: the request still waits for an admin


@dataclass(frozen=True)
class Admission:
    """The gate's decision and the language to explain it in."""

    verdict: Verdict
    language: str

    @property
    def admitted(self) -> bool:
        """Whether the event may go on to its use case."""
        return self.verdict is Verdict.ADMITTED


def roster_imported(session: Session) -> bool:
    """Whether any roster import has written to this store."""
    return session.scalars(select(RosterImport.id).limit(1)).first() is not None


def enrolment_in_force(session: Session, settings: Settings) -> Enrolment:
    """``TRAINBOT_ENROLMENT``, with ``auto`` resolved against the store."""
    if settings.enrolment != "auto":
        return Enrolment(settings.enrolment)
    return Enrolment.ROSTER if roster_imported(session) else Enrolment.OPEN


def admit(session: Session, settings: Settings, who: events.Person, *, now: datetime) -> Admission:
    """Decide whether ``who`` may use the bot now; under ``approval``, a stranger's first
    contact records their request (in this transaction).

    Args:
        session: the store, in the event's transaction.
        settings: the configuration (enrolment rule, admins, default language).
        who: the person behind the event, as their platform knows them.
        now: the current moment (aware), for a new request.
    """
    person = find_person(session, who)
    language = spoken_language(person, who, settings.language)
    if settings.is_admin(who.platform, who.user_id):
        return Admission(Verdict.ADMITTED, language)
    if person is not None and person.status is PersonStatus.REMOVED:
        return Admission(Verdict.REFUSED, language)
    rule = enrolment_in_force(session, settings)
    if rule is Enrolment.OPEN or (person is not None and person.on_roster):
        return Admission(Verdict.ADMITTED, language)
    if rule is Enrolment.ROSTER:
        return Admission(Verdict.REFUSED, language)
    request = _request_of(session, who)
    if request is None:
        return Admission(_new_request(session, who, language, now), language)
    verdicts = {
        AccessStatus.APPROVED: Verdict.ADMITTED,
        AccessStatus.DENIED: Verdict.REFUSED,
        AccessStatus.PENDING: Verdict.PENDING,
    }
    return Admission(verdicts[request.status], language)


def admitted_people(settings: Settings) -> ColumnElement[bool]:
    """:func:`admit`'s rule for stored people, as a condition on ``people`` rows.

    The dispatcher pushes, and the weekly summary counts, only the people it selects, so
    someone the gate would refuse is neither pushed to nor reported on. ``auto`` is
    resolved by the database itself (whether ``roster_imports`` has a row).
    """
    admins = [
        and_(Person.platform == platform, Person.platform_user_id == user_id)
        for platform, _, user_id in (item.partition(":") for item in settings.admins)
    ]
    not_removed = Person.status != PersonStatus.REMOVED
    if settings.enrolment == "open":
        return or_(not_removed, *admins)
    allowed: list[ColumnElement[bool]] = [Person.on_roster.is_(True)]
    if settings.enrolment == "approval":
        allowed.append(
            exists().where(
                AccessRequest.platform == Person.platform,
                AccessRequest.platform_user_id == Person.platform_user_id,
                AccessRequest.status == AccessStatus.APPROVED,
            )
        )
    if settings.enrolment == "auto":
        allowed.append(~exists().where(RosterImport.id.is_not(None)))  # still open
    return or_(and_(not_removed, or_(*allowed)), *admins)


def _request_of(session: Session, who: events.Person) -> AccessRequest | None:
    return session.scalars(
        select(AccessRequest).where(
            AccessRequest.platform == who.platform, AccessRequest.platform_user_id == who.user_id
        )
    ).one_or_none()


def _new_request(session: Session, who: events.Person, language: str, now: datetime) -> Verdict:
    """Record a pending request; two first messages at once record one."""
    try:
        with session.begin_nested():
            session.add(
                AccessRequest(
                    platform=who.platform,
                    platform_user_id=who.user_id,
                    display_name=(who.display_name or who.user_id)[:MAX_NAME],
                    language=language,
                    status=AccessStatus.PENDING,
                    requested_at=now,
                )
            )
    except IntegrityError:  # the other message recorded it first
        return Verdict.PENDING
    logger.info("access request from %s:%s waits for an admin", who.platform, who.user_id)
    return Verdict.REQUESTED


def pending_requests(session: Session, *, limit: int) -> list[AccessRequest]:
    """The oldest requests still waiting for an admin."""
    return list(
        session.scalars(
            select(AccessRequest)
            .where(AccessRequest.status == AccessStatus.PENDING)
            .order_by(AccessRequest.requested_at, AccessRequest.id)
            .limit(limit)
        ).all()
    )
