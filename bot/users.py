"""What an administrator changes about one person from the command line.

``trainbot users set-role``, ``users remove`` / ``users restore`` and ``users manage``
call these. Each takes a person reference as an admin would type it, changes the store
in one transaction, and returns the lines to print. Access follows the change at once:
a demoted manager loses their teams' reports, a removed person gets no pushes, no reports
and is counted nowhere (docs/access.md). Nothing here erases data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import TrainbotError
from bot.privacy import find_subject
from bot.reports.access import team_by_name
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import ManagerSource, Person, PersonStatus, Role, Team, TeamManager

logger = logging.getLogger(__name__)

REMOVED_REASON = "removed by an admin"


class UserError(TrainbotError):
    """The person or team cannot be found, or the change makes no sense."""


@dataclass
class Change:
    """What a command did, as lines for the admin to read."""

    lines: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        """Add one line."""
        self.lines.append(line)


def label(person: Person) -> str:
    """``platform:user_id (name)``, as the commands print a person."""
    return f"{person.platform}:{person.platform_user_id} ({person.display_name})"


def parse_role(value: str) -> Role:
    """A role an admin may store: ``learner`` or ``manager``.

    Raises:
        UserError: for ``admin`` (configured, never stored) or an unknown role.
    """
    if value.lower() == "admin":
        raise UserError(
            "admins are not stored: list the person in TRAINBOT_ADMINS "
            "(e.g. TRAINBOT_ADMINS=telegram:512345678) and restart the bot"
        )
    try:
        return Role(value.lower())
    except ValueError:
        expected = " or ".join(role.value for role in Role)
        raise UserError(f"unknown role {value!r} (expected {expected})") from None


def _team_names(session: Session, person_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Team.name)
            .join(TeamManager, TeamManager.team_id == Team.id)
            .where(TeamManager.person_id == person_id)
            .order_by(Team.name)
        ).all()
    )


def _drop_managed_teams(session: Session, person: Person, change: Change) -> None:
    teams = _team_names(session, person.id)
    for link in session.scalars(select(TeamManager).where(TeamManager.person_id == person.id)):
        session.delete(link)
    if teams:
        change.say(f"no longer manages {', '.join(teams)}")


def set_role(
    db: Database, reference: str, role: Role, *, now: datetime, settings: Settings | None = None
) -> Change:
    """Store ``role``; a learner loses every team they managed (and with it the reports).

    Args:
        db: the store.
        reference: who (see :func:`bot.privacy.find_subject`).
        role: the new role.
        now: the moment of the change (aware).
        settings: to say when the person is an admin by configuration anyway.
    """
    change = Change()
    with db.session() as session:
        person = find_subject(session, reference)
        if person.role is role:
            change.say(f"{label(person)} is already a {role.value}")
        else:
            change.say(f"{label(person)}: {person.role.value} -> {role.value}")
            person.role = role
            person.updated_at = now
        if role is Role.LEARNER:
            _drop_managed_teams(session, person, change)
        elif (
            not _team_names(session, person.id)
            and not session.scalars(
                select(Person.id).where(Person.manager_id == person.id).limit(1)
            ).first()
        ):
            change.say(
                "they manage no team and nobody yet: add a team with "
                f"'trainbot users manage {person.platform}:{person.platform_user_id} TEAM' "
                "or name them in the roster's manager column"
            )
        if settings is not None and settings.is_admin(person.platform, person.platform_user_id):
            change.say("still listed in TRAINBOT_ADMINS, so they see everything as an admin")
    logger.info("role of person %d set to %s", person.id, role.value)
    return change


def remove(
    db: Database, reference: str, *, now: datetime, settings: Settings | None = None
) -> Change:
    """End someone's access: no pushes, no reports, not counted; their data stays.

    The bot answers them with the refusal from then on; ``restore`` undoes it. A roster
    import does not bring them back (it never changes a status).
    """
    change = Change()
    with db.session() as session:
        person = find_subject(session, reference)
        if person.status is PersonStatus.REMOVED:
            raise UserError(f"{label(person)} was already removed")
        person.status = PersonStatus.REMOVED
        person.status_reason = REMOVED_REASON
        person.updated_at = now
        change.say(
            f"removed {label(person)}: no more lessons, quizzes or reports, not counted in "
            "any report; their data is kept ('trainbot users restore' undoes this)"
        )
        if settings is not None and settings.is_admin(person.platform, person.platform_user_id):
            change.say(
                "warning: still listed in TRAINBOT_ADMINS, so the bot still lets them in "
                "as an admin; take them off that list too"
            )
    logger.info("person %d removed", person.id)
    return change


def restore(db: Database, reference: str, *, now: datetime) -> Change:
    """Give a removed person their access back (pushes resume when they /start)."""
    change = Change()
    with db.session() as session:
        person = find_subject(session, reference)
        if person.status is not PersonStatus.REMOVED:
            raise UserError(f"{label(person)} was not removed (status {person.status.value})")
        # Paused rather than active: they say /start when they want lessons again.
        person.status = PersonStatus.OPTED_OUT
        person.status_reason = "restored by an admin"
        person.updated_at = now
        change.say(f"restored {label(person)}: they may use the bot again; /start resumes pushes")
    logger.info("person %d restored", person.id)
    return change


def manage(
    db: Database, reference: str, team_name: str, *, now: datetime, stop: bool = False
) -> Change:
    """Make someone a manager of a team (and the teams below it), or stop it.

    An added link is the admin's: a roster import keeps it while the person stays a
    manager, and drops it when the roster demotes them.
    """
    change = Change()
    with db.session() as session:
        person = find_subject(session, reference)
        team = team_by_name(session, team_name)
        if team is None:
            known = ", ".join(session.scalars(select(Team.name).order_by(Team.name)).all())
            raise UserError(f"no team called {team_name!r} (teams: {known or 'none yet'})")
        link = session.get(TeamManager, (team.id, person.id))
        if stop:
            if link is None:
                raise UserError(f"{label(person)} does not manage {team.name}")
            session.delete(link)
            change.say(f"{label(person)} no longer manages {team.name}")
            if link.source is ManagerSource.ROSTER:
                change.say(
                    "the roster made this link: it comes back at the next import unless the "
                    "roster changes"
                )
            logger.info("person %d no longer manages team %d", person.id, team.id)
            return change
        if person.status is PersonStatus.REMOVED:
            raise UserError(f"{label(person)} was removed; 'trainbot users restore' first")
        if link is not None:
            change.say(f"{label(person)} already manages {team.name}")
        else:
            session.add(
                TeamManager(team_id=team.id, person_id=person.id, source=ManagerSource.ADMIN)
            )
            change.say(f"{label(person)} now manages {team.name} and the teams below it")
        if person.role is not Role.MANAGER:
            person.role = Role.MANAGER
            person.updated_at = now
            change.say("their role is now manager")
    logger.info("person %d manages team %d", person.id, team.id)
    return change
