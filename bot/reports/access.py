"""Who may see which part of the weekly summary.

An admin (``TRAINBOT_ADMINS`` or the admin role) sees the whole organisation. A manager
sees the teams they manage (``team_managers``) and every team below them. Anyone else is
a learner and gets their own /progress instead.
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
from bot.store.models import Person, Role, Team, TeamManager

logger = logging.getLogger(__name__)


class ViewerKind(StrEnum):
    """What a person asking for a report is."""

    ADMIN = "admin"
    MANAGER = "manager"
    LEARNER = "learner"


@dataclass(frozen=True)
class ReportAccess:
    """What one viewer may see.

    Attributes:
        kind: admin, manager or learner.
        team_ids: the teams in scope, the managed teams and those below them; ``None``
            means the whole organisation (admins).
        language: the viewer's language.
    """

    kind: ViewerKind
    team_ids: frozenset[int] | None
    language: str

    @property
    def may_report(self) -> bool:
        """Whether this viewer gets a report at all."""
        return self.kind is ViewerKind.ADMIN or (
            self.kind is ViewerKind.MANAGER and bool(self.team_ids)
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


def access_for_person(session: Session, settings: Settings, person: Person) -> ReportAccess:
    """The access of a stored person."""
    if person.role is Role.ADMIN or settings.is_admin(person.platform, person.platform_user_id):
        return ReportAccess(ViewerKind.ADMIN, None, person.language)
    teams = managed_teams(session, person.id)
    if person.role is Role.MANAGER or teams:
        return ReportAccess(ViewerKind.MANAGER, teams, person.language)
    return ReportAccess(ViewerKind.LEARNER, frozenset(), person.language)


def access_for(
    session: Session, settings: Settings, who: events.Person, default_language: str
) -> ReportAccess:
    """The access of someone talking to the bot (admins from settings need no row)."""
    person = find_person(session, who)
    if person is not None:
        return access_for_person(session, settings, person)
    if settings.is_admin(who.platform, who.user_id):
        return ReportAccess(ViewerKind.ADMIN, None, default_language)
    return ReportAccess(ViewerKind.LEARNER, frozenset(), default_language)


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
