"""Who may see which part of the weekly summary.

Access follows the data as it is now (docs/access.md):

- An admin is whoever ``TRAINBOT_ADMINS`` lists; they see the whole organisation. No
  stored flag makes anyone an admin.
- A manager (role ``manager``, from the roster or ``trainbot users set-role``) sees the
  teams they manage (``team_managers``) with every team below them, and their direct
  reports (people whose ``manager_id`` is theirs, the roster's manager column), wherever
  those sit.
- Anyone else is a learner and gets their own /progress instead.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import events
from bot.people import find_person
from bot.settings import Settings
from bot.store.models import Person, PersonStatus, Role, Team, TeamManager

logger = logging.getLogger(__name__)


class ViewerKind(StrEnum):
    """What a person asking for a report is."""

    ADMIN = "admin"
    MANAGER = "manager"
    LEARNER = "learner"


@dataclass(frozen=True)
class ReportScope:
    """Who a manager's summary covers.

    Attributes:
        team_ids: the managed teams and every team below them.
        person_ids: the manager's direct reports (in those teams or not).
    """

    team_ids: frozenset[int] = frozenset()
    person_ids: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.team_ids or self.person_ids)


@dataclass(frozen=True)
class ReportAccess:
    """What one viewer may see.

    Attributes:
        kind: admin, manager or learner.
        scope: the teams and people in scope; ``None`` means the whole organisation
            (admins).
        language: the viewer's language.
    """

    kind: ViewerKind
    scope: ReportScope | None
    language: str

    @property
    def team_ids(self) -> frozenset[int] | None:
        """The teams in scope; ``None`` for the whole organisation."""
        return None if self.scope is None else self.scope.team_ids

    @property
    def may_report(self) -> bool:
        """Whether this viewer gets a report at all."""
        return self.kind is ViewerKind.ADMIN or (
            self.kind is ViewerKind.MANAGER and bool(self.scope)
        )


def teams_below(session: Session, roots: Collection[int]) -> frozenset[int]:
    """``roots`` and every team under them, however deep (a loop in the data is harmless)."""
    children: dict[int, list[int]] = {}
    for team_id, parent_id in session.execute(select(Team.id, Team.parent_id)).all():
        if parent_id is not None:
            children.setdefault(parent_id, []).append(team_id)
    found: set[int] = set()
    stack = list(roots)
    while stack:
        team_id = stack.pop()
        if team_id in found:
            continue
        found.add(team_id)
        stack.extend(children.get(team_id, ()))
    return frozenset(found)


def managed_teams(session: Session, person_id: int) -> frozenset[int]:
    """The teams a person manages directly and the teams below them."""
    roots = session.scalars(
        select(TeamManager.team_id).where(TeamManager.person_id == person_id)
    ).all()
    return teams_below(session, roots) if roots else frozenset()


def direct_reports(session: Session, person_id: int) -> frozenset[int]:
    """The people whose manager is ``person_id`` (removed people are not reported on)."""
    return frozenset(
        session.scalars(
            select(Person.id).where(
                Person.manager_id == person_id, Person.status != PersonStatus.REMOVED
            )
        ).all()
    )


def manager_scope(session: Session, person: Person, *, role: Role | None = None) -> ReportScope:
    """What ``person`` sees as a manager; empty unless their role (or ``role``, held for
    this session only) is manager."""
    if (role or person.role) is not Role.MANAGER:
        return ReportScope()
    return ReportScope(managed_teams(session, person.id), direct_reports(session, person.id))


def access_for_person(
    session: Session, settings: Settings, person: Person, *, role: Role | None = None
) -> ReportAccess:
    """The access of a stored person; ``role`` overrides the stored one for this session."""
    if settings.is_admin(person.platform, person.platform_user_id):
        return ReportAccess(ViewerKind.ADMIN, None, person.language)
    if (role or person.role) is Role.MANAGER and person.status is not PersonStatus.REMOVED:
        scope = manager_scope(session, person, role=role)
        return ReportAccess(ViewerKind.MANAGER, scope, person.language)
    return ReportAccess(ViewerKind.LEARNER, ReportScope(), person.language)


def access_for(
    session: Session,
    settings: Settings,
    who: events.Person,
    default_language: str,
    *,
    role: Role | None = None,
) -> ReportAccess:
    """The access of someone talking to the bot (admins from settings need no row).

    Args:
        session: the store.
        settings: gives the admins.
        who: the person asking.
        default_language: the language when the person is not stored.
        role: a role held for this session only (``trainbot chat --role manager``).
    """
    person = find_person(session, who)
    if person is not None:
        return access_for_person(session, settings, person, role=role)
    if settings.is_admin(who.platform, who.user_id):
        return ReportAccess(ViewerKind.ADMIN, None, default_language)
    return ReportAccess(ViewerKind.LEARNER, ReportScope(), default_language)


def team_by_name(session: Session, name: str) -> Team | None:
    """A team by its exact name, else by a case-insensitive match."""
    team = session.scalars(select(Team).where(Team.name == name)).one_or_none()
    if team is not None:
        return team
    wanted = name.casefold()
    for candidate in session.scalars(select(Team)).all():
        if candidate.name.casefold() == wanted:
            return candidate
    return None
