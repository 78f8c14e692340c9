"""Importing people from a roster CSV file, row by row and idempotently.

Admins keep the roster in a spreadsheet and run ``trainbot users import roster.csv``.
Every row is checked on its own and reported with its line in the file; a bad row is not
imported at all, good rows are. People are matched by platform and user id, teams by name,
so importing the same file again changes nothing. The format is described in
``docs/roster.md``.

The roster is the truth for the people on it: they are marked ``on_roster`` (what
``TRAINBOT_ENROLMENT=roster`` lets in), a ``-`` cell clears a value, and their team-manager
links are replaced by what the file says, so a manager the roster demotes or moves loses
the old team's reports. Each import that writes is recorded in ``roster_imports``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from bot import csvfile
from bot.errors import TrainbotError
from bot.i18n import LANGUAGES
from bot.settings import parse_hhmm
from bot.store.db import Database
from bot.store.models import (
    ManagerSource,
    Observer,
    Person,
    PersonStatus,
    Role,
    RosterImport,
    Team,
    TeamManager,
)
from quizzes.content import Course

logger = logging.getLogger(__name__)

PLATFORMS = ("telegram", "slack", "console")
REQUIRED_COLUMNS = ("platform", "user_id", "name")
OPTIONAL_COLUMNS = (
    "email",
    "language",
    "timezone",
    "track",
    "team",
    "parent_team",
    "manager",
    "role",
    "quiz_time",
    "observers",
    "region",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
CLEAR = "-"
"""A cell holding only this clears the person's value (an empty cell leaves it)."""
CLEARABLE = (
    "email",
    "track",
    "team",
    "parent_team",
    "manager",
    "quiz_time",
    "observers",
    "region",
)
OBSERVER_SEPARATOR = ";"
"""Between the people of an ``observers`` cell."""

_DIGITS = re.compile(r"[0-9]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_REGION = re.compile(r"[a-z0-9_-]{1,64}")

Key = tuple[str, str]


@dataclass(frozen=True)
class Named:
    """Someone a cell names by ``platform:user_id`` or by email (the manager, an observer)."""

    written: str
    key: Key | None = None
    email: str | None = None  # lower-cased


def _max_length(column: Any) -> int:
    """The size of a ``String`` column, so values are checked against the schema.

    SQLite stores an over-long value silently where PostgreSQL refuses it; checking first
    keeps both backends alike and turns the refusal into a line-numbered problem.
    """
    length: int = column.type.length
    return length


MAX_USER_ID = _max_length(Person.__table__.c.platform_user_id)
MAX_NAME = _max_length(Person.__table__.c.display_name)
MAX_EMAIL = _max_length(Person.__table__.c.email)
MAX_TEAM = _max_length(Team.__table__.c.name)


class RosterError(TrainbotError):
    """The file cannot be read as a roster (missing, not UTF-8, bad header); nothing is imported."""


@dataclass
class RosterReport:
    """What an import did (or, in a dry run, would do).

    Attributes:
        added: people created.
        updated: people (or their team, parent team or team managers) changed.
        unchanged: rows already matching the store.
        rejected: rows not imported because of a problem.
        problems: ``(line, message)`` pairs, by line; a row may have several.
    """

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    off_roster: int = 0
    """Enrolled people (not removed) on no roster after this import: under
    ``TRAINBOT_ENROLMENT=roster`` (``auto`` once a roster was imported) they lose access."""

    def summary(self) -> str:
        """One line such as ``3 added, 1 updated, 5 unchanged, 2 rejected``."""
        return (
            f"{self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected"
        )


@dataclass(frozen=True)
class RosterRow:
    """One valid row of the file, with values normalised; ``None`` means the cell was empty."""

    line: int
    platform: str
    user_id: str
    name: str
    email: str | None = None
    language: str | None = None
    timezone: str | None = None
    track: str | None = None
    team: str | None = None
    parent_team: str | None = None
    manager: str | None = None  # as written, for messages
    manager_key: Key | None = None
    manager_email: str | None = None  # lower-cased
    role: Role | None = None
    quiz_time: str | None = None  # HH:MM
    observers: tuple[Named, ...] | None = None  # None: keep the person's observers
    region: str | None = None  # the regional variants they get (lower case)
    cleared: frozenset[str] = frozenset()  # columns whose cell was "-"

    @property
    def key(self) -> Key:
        """How people are matched: ``(platform, user_id)``."""
        return (self.platform, self.user_id)


@dataclass
class Roster:
    """A parsed file: the valid rows, the problems of the others, and where everyone is."""

    rows: list[RosterRow]
    problems: dict[int, list[str]]
    line_of_key: dict[Key, int]
    lines_of_email: dict[str, list[int]]


# Reading and checking the file (no store involved)


def read_roster(path: Path, *, course: Course | None) -> Roster:
    """Parse and check a roster file; rows with problems are reported, not returned.

    Args:
        path: the CSV file (UTF-8, with or without a byte-order mark).
        course: the course whose track ids are valid; ``None`` rejects any track.

    Raises:
        RosterError: when the file cannot be read or its header is wrong.
    """
    columns, records = csvfile.open_table(
        path, known=COLUMNS, required=REQUIRED_COLUMNS, error=RosterError
    )
    checker = _RowChecker(course)
    for line, cells in records:
        checker.check(line, _values(columns, cells))
    return checker.roster()


def _values(columns: list[str | None], cells: list[str]) -> dict[str | int, str]:
    """Cells by column name; a cell under no named column is keyed by its 1-based position."""
    values: dict[str | int, str] = {name: "" for name in columns if name is not None}
    for position, cell in enumerate(cells):
        name = columns[position] if position < len(columns) else None
        values[name if name is not None else position + 1] = cell
    return values


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """IANA zone names by their lower-case form (to suggest the right spelling)."""
    return {zone.lower(): zone for zone in available_timezones()}


def _optional(value: str) -> str | None:
    return value or None


class _RowChecker:
    """Checks rows one by one, remembering what earlier rows said."""

    def __init__(self, course: Course | None) -> None:
        self.course = course
        self.rows: list[RosterRow] = []
        self.problems: dict[int, list[str]] = {}
        self.line_of_key: dict[Key, int] = {}
        self.lines_of_email: dict[str, list[int]] = {}
        self.team_parents: dict[str, tuple[str, int]] = {}

    def roster(self) -> Roster:
        return Roster(self.rows, self.problems, self.line_of_key, self.lines_of_email)

    def check(self, line: int, values: dict[str | int, str]) -> None:
        errors: list[str] = []
        cleared: set[str] = set()
        for column, value in values.items():
            if isinstance(column, int):
                if value:
                    errors.append(f"a value in column {column}, which has no header")
            elif "\n" in value or "\r" in value:
                errors.append(f"{column} contains a line break (an unclosed quote?)")
            elif value == CLEAR and column in CLEARABLE:
                cleared.add(column)
            elif value == CLEAR and column in OPTIONAL_COLUMNS:
                errors.append(
                    f"{column} cannot be cleared with '-' (leave the cell empty to keep it)"
                )
                values[column] = ""  # reported once, not again as an unknown value
        values = {column: "" if column in cleared else value for column, value in values.items()}

        platform = values["platform"].lower()
        user_id = values["user_id"]
        name = values["name"]
        if platform not in PLATFORMS:
            errors.append(
                f"unknown platform {values['platform']!r} (expected {', '.join(PLATFORMS)})"
                if platform
                else "platform is empty"
            )
        if not user_id:
            errors.append("user_id is empty")
        elif len(user_id) > MAX_USER_ID:
            errors.append(f"user_id is longer than {MAX_USER_ID} characters")
        elif platform == "telegram" and not _DIGITS.fullmatch(user_id):
            errors.append(
                f"telegram user_id {user_id!r} is not a number (use the numeric id, not a @username)"
            )
        if platform in PLATFORMS and user_id:
            first = self.line_of_key.setdefault((platform, user_id), line)
            if first != line:
                errors.append(f"{platform}:{user_id} is already on line {first}")
        if not name:
            errors.append("name is empty")
        elif len(name) > MAX_NAME:
            errors.append(f"name is longer than {MAX_NAME} characters")

        email = _optional(values.get("email", ""))
        if email is not None:
            if not _EMAIL.fullmatch(email):
                errors.append(f"invalid email {email!r}")
            elif len(email) > MAX_EMAIL:
                errors.append(f"email is longer than {MAX_EMAIL} characters")
            else:
                self.lines_of_email.setdefault(email.lower(), []).append(line)

        language = _optional(values.get("language", "").lower())
        if language is not None and language not in LANGUAGES:
            errors.append(
                f"unknown language {values['language']!r} (expected {' or '.join(LANGUAGES)})"
            )
        timezone = self._timezone(values.get("timezone", ""), errors)
        track = self._track(values.get("track", ""), errors)
        team = _optional(values.get("team", ""))
        parent_team = _optional(values.get("parent_team", ""))
        self._teams(team, parent_team, cleared, errors)
        manager = _optional(values.get("manager", ""))
        manager_key, manager_email = self._manager(manager, errors)
        role = self._role(values.get("role", ""), errors)
        quiz_time = self._quiz_time(values.get("quiz_time", ""), errors)
        observers = self._observers(values.get("observers", ""), (platform, user_id), errors)
        region = self._region(values.get("region", ""), errors)

        if errors:
            self.problems[line] = errors
            return
        if team is not None and (parent_team is not None or "parent_team" in cleared):
            # A file giving one team two parents could never re-import as unchanged.
            parent = parent_team if parent_team is not None else CLEAR
            first_parent, first_line = self.team_parents.setdefault(team, (parent, line))
            if first_parent != parent:
                self.problems[line] = [
                    f"team {team!r} has parent team {first_parent!r} on line {first_line}"
                ]
                return
        self.rows.append(
            RosterRow(
                line=line,
                platform=platform,
                user_id=user_id,
                name=name,
                email=email,
                language=language,
                timezone=timezone,
                track=track,
                team=team,
                parent_team=parent_team,
                manager=manager,
                manager_key=manager_key,
                manager_email=manager_email,
                role=role,
                quiz_time=quiz_time,
                observers=() if "observers" in cleared else observers,
                region=region,
                cleared=frozenset(cleared),
            )
        )

    def _timezone(self, value: str, errors: list[str]) -> str | None:
        if not value:
            return None
        known = _zones().get(value.lower())
        if known == value:
            return value
        hint = f"did you mean {known!r}?" if known else "use an IANA name such as Asia/Shanghai"
        errors.append(f"unknown time zone {value!r} ({hint})")
        return None

    def _track(self, value: str, errors: list[str]) -> str | None:
        if not value:
            return None
        if self.course is None:
            errors.append(f"track {value!r} cannot be checked: no valid course is loaded")
        elif value not in self.course.tracks:
            known = ", ".join(self.course.tracks) or "none"
            errors.append(f"unknown track {value!r} (tracks: {known})")
        return value

    def _teams(
        self, team: str | None, parent_team: str | None, cleared: set[str], errors: list[str]
    ) -> None:
        for column, name in (("team", team), ("parent_team", parent_team)):
            if name is not None and len(name) > MAX_TEAM:
                errors.append(f"{column} is longer than {MAX_TEAM} characters")
        if (parent_team is not None or "parent_team" in cleared) and team is None:
            state = "cleared" if "team" in cleared else "empty"
            errors.append(f"parent_team is given but team is {state}")
        elif parent_team is not None and parent_team == team:
            errors.append(f"team {team!r} cannot be its own parent team")

    def _manager(self, manager: str | None, errors: list[str]) -> tuple[Key | None, str | None]:
        if manager is None:
            return None, None
        platform, _, user_id = manager.partition(":")
        if platform.lower() in PLATFORMS and user_id:
            return (platform.lower(), user_id), None
        if _EMAIL.fullmatch(manager):
            return None, manager.lower()
        errors.append(f"invalid manager {manager!r} (expected platform:user_id or an email)")
        return None, None

    def _observers(self, value: str, own: Key, errors: list[str]) -> tuple[Named, ...] | None:
        if not value.strip():
            return None
        found: dict[str, Named] = {}
        for entry in (part.strip() for part in value.split(OBSERVER_SEPARATOR)):
            if not entry:
                continue
            platform, _, user_id = entry.partition(":")
            if platform.lower() in PLATFORMS and user_id:
                named = Named(entry, key=(platform.lower(), user_id))
                if named.key == own:
                    errors.append(f"observer {entry!r} is the person themselves")
                    continue
            elif _EMAIL.fullmatch(entry):
                named = Named(entry, email=entry.lower())
            else:
                errors.append(f"invalid observer {entry!r} (expected platform:user_id or an email)")
                continue
            found.setdefault(str(named.key or named.email), named)
        return tuple(found.values())

    def _role(self, value: str, errors: list[str]) -> Role | None:
        if not value:
            return None
        if value.lower() == "admin":
            errors.append(
                "role 'admin' is not stored: administrators are whoever TRAINBOT_ADMINS lists "
                "(leave the role empty or write learner)"
            )
            return None
        try:
            return Role(value.lower())
        except ValueError:
            errors.append(
                f"unknown role {value!r} (expected {', '.join(role.value for role in Role)})"
            )
            return None

    def _region(self, value: str, errors: list[str]) -> str | None:
        if not value:
            return None
        region = value.strip().lower()
        if not _REGION.fullmatch(region):
            errors.append(
                f"invalid region {value!r} (letters, digits, - and _, as in the content's "
                "region: front matter)"
            )
            return None
        return region

    def _quiz_time(self, value: str, errors: list[str]) -> str | None:
        if not value:
            return None
        try:
            return f"{parse_hhmm(value):%H:%M}"
        except ValueError:
            errors.append(f"invalid quiz_time {value!r} (expected HH:MM, 24-hour clock)")
            return None


# Writing to the store


class _RowProblem(Exception):
    """A row cannot be applied; its savepoint is rolled back."""


class _Undo(Exception):
    """Roll the whole attempt back (a dry run, or rows to take out before trying again)."""


class _Attempt:
    """One try at applying the accepted rows inside one transaction.

    Pass 1 upserts teams and people, each row in a savepoint; pass 2 links each person to
    their manager, who may be on any row of the file. A row whose manager cannot be found
    in pass 2 already has its pass-1 changes in the transaction, and a savepoint cannot
    undo them once later rows have been written, so such rows are recorded as
    ``unresolved`` and the caller rolls the attempt back and tries again without them.
    """

    def __init__(
        self,
        roster: Roster,
        rows: list[RosterRow],
        *,
        now: datetime,
        default_language: str,
        default_timezone: str,
    ) -> None:
        self.roster = roster
        self.rows = rows
        self.now = now
        self.default_language = default_language
        self.default_timezone = default_timezone
        self.added: set[int] = set()
        self.changed: set[int] = set()
        self.rejected: dict[int, str] = {}  # undone by their savepoint
        self.unresolved: dict[int, str] = {}  # need a fresh attempt without them
        self.person_of_line: dict[int, int] = {}
        self.line_of_person: dict[int, int] = {}

    def run(self, session: Session) -> None:
        for row in self.rows:
            self._in_savepoint(session, row, self._upsert, self.rejected)
        for row in self.rows:
            if row.manager is not None and row.line in self.person_of_line:
                self._in_savepoint(session, row, self._link_manager, self.unresolved)
        for row in self.rows:
            if row.observers is not None and row.line in self.person_of_line:
                self._in_savepoint(session, row, self._replace_observers, self.unresolved)
        if self.unresolved:
            return  # rolled back and tried again without them
        for row in self.rows:
            if row.line in self.person_of_line and row.line not in self.rejected:
                self._replace_managed_teams(session, row)

    def _in_savepoint(
        self,
        session: Session,
        row: RosterRow,
        step: Callable[[Session, RosterRow], None],
        failures: dict[int, str],
    ) -> None:
        try:
            with session.begin_nested():
                step(session, row)
                session.flush()
        except _RowProblem as exc:
            failures[row.line] = str(exc)
        except (IntegrityError, DataError) as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            logger.warning("roster line %d could not be stored: %s", row.line, reason)
            failures[row.line] = f"could not be stored: {reason}"

    # Pass 1

    def _upsert(self, session: Session, row: RosterRow) -> None:
        changed = False
        team_id: int | None = None
        if row.team is not None:
            team, created = self._team(session, row.team)
            changed |= created
            if row.parent_team is not None:
                parent, created = self._team(session, row.parent_team)
                changed |= created
                if team.parent_id != parent.id:
                    self._refuse_loop(session, team, parent)
                    team.parent_id = parent.id
                    changed = True
            elif "parent_team" in row.cleared and team.parent_id is not None:
                team.parent_id = None
                changed = True
            team_id = team.id
        person = session.scalars(
            select(Person).where(
                Person.platform == row.platform, Person.platform_user_id == row.user_id
            )
        ).one_or_none()
        if person is None:
            person = self._new_person(row, team_id)
            session.add(person)
            self.added.add(row.line)
        elif self._update_person(person, row, team_id):
            person.updated_at = self.now
            changed = True
        session.flush()
        self.person_of_line[row.line] = person.id
        self.line_of_person[person.id] = row.line
        if changed:
            self.changed.add(row.line)

    def _team(self, session: Session, name: str) -> tuple[Team, bool]:
        team = session.scalars(select(Team).where(Team.name == name)).one_or_none()
        if team is not None:
            return team, False
        team = Team(name=name, created_at=self.now)
        session.add(team)
        session.flush()
        return team, True

    @staticmethod
    def _refuse_loop(session: Session, team: Team, parent: Team) -> None:
        seen: set[int] = set()
        current: Team | None = parent
        while current is not None and current.id not in seen:
            if current.id == team.id:
                raise _RowProblem(
                    f"team {parent.name!r} is already inside team {team.name!r}, "
                    "so it cannot be its parent team"
                )
            seen.add(current.id)
            current = session.get(Team, current.parent_id) if current.parent_id else None

    def _new_person(self, row: RosterRow, team_id: int | None) -> Person:
        return Person(
            platform=row.platform,
            platform_user_id=row.user_id,
            display_name=row.name,
            email=row.email,
            language=row.language or self.default_language,
            timezone=row.timezone or self.default_timezone,
            quiz_time=row.quiz_time,
            region=row.region,
            track_id=row.track,
            team_id=team_id,
            role=row.role or Role.LEARNER,
            status=PersonStatus.ACTIVE,
            on_roster=True,
            enrollment_step=None,
            enrolled_at=self.now,
            created_at=self.now,
            updated_at=self.now,
        )

    def _update_person(self, person: Person, row: RosterRow, team_id: int | None) -> bool:
        """Apply the row's non-empty values and enrol; the status is left alone."""
        changed = False
        values: dict[str, object] = {
            "display_name": row.name,
            "email": row.email,
            "language": row.language,
            "timezone": row.timezone,
            "quiz_time": row.quiz_time,
            "region": row.region,
            "track_id": row.track,
            "team_id": team_id,
            "role": row.role,
        }
        for attribute, value in values.items():
            if value is not None and getattr(person, attribute) != value:
                setattr(person, attribute, value)
                changed = True
        for column in row.cleared:
            cleared = _CLEARED_ATTRIBUTE.get(column)
            if cleared is not None and getattr(person, cleared) is not None:
                setattr(person, cleared, None)
                changed = True
        if not person.on_roster:
            person.on_roster = True
            changed = True
        if person.enrolled_at is None:
            person.enrolled_at = self.now
            changed = True
        if person.enrollment_step is not None:
            person.enrollment_step = None
            changed = True
        return changed

    # Pass 2

    def _link_manager(self, session: Session, row: RosterRow) -> None:
        person = session.get(Person, self.person_of_line[row.line])
        assert person is not None  # written in pass 1 of this transaction
        manager = self._find_manager(session, row)
        if manager.id == person.id:
            raise _RowProblem("a person cannot be their own manager")
        if person.manager_id != manager.id:
            person.manager_id = manager.id
            person.updated_at = self.now
            self.changed.add(row.line)
        if (
            manager.role == Role.MANAGER
            and manager.team_id is not None
            and session.get(TeamManager, (manager.team_id, manager.id)) is None
        ):
            session.add(
                TeamManager(
                    team_id=manager.team_id, person_id=manager.id, source=ManagerSource.ROSTER
                )
            )
            self.changed.add(self.line_of_person.get(manager.id, row.line))

    def _replace_observers(self, session: Session, row: RosterRow) -> None:
        """Make the person's peer observers the ones the row names (none for ``-``)."""
        person = session.get(Person, self.person_of_line[row.line])
        assert person is not None and row.observers is not None  # written in pass 1
        wanted: set[int] = set()
        for named in row.observers:
            observer = self._find_named(session, named, "observer")
            if observer.id == person.id:
                raise _RowProblem(f"observer {named.written!r} is the person themselves")
            wanted.add(observer.id)
        current = {
            link.observer_id: link
            for link in session.scalars(select(Observer).where(Observer.subject_id == person.id))
        }
        if set(current) == wanted:
            return
        for observer_id, link in current.items():
            if observer_id not in wanted:
                session.delete(link)
        for observer_id in sorted(wanted - set(current)):
            session.add(Observer(subject_id=person.id, observer_id=observer_id, added_at=self.now))
        self.changed.add(row.line)

    def _find_named(self, session: Session, named: Named, what: str) -> Person:
        """The stored person a cell names; a row problem when none or several match."""
        query = select(Person)
        if named.key is not None:
            platform, user_id = named.key
            query = query.where(Person.platform == platform, Person.platform_user_id == user_id)
        else:
            query = query.where(func.lower(Person.email) == named.email)
        matches = session.scalars(query.order_by(Person.id)).all()
        if len(matches) > 1:
            who = ", ".join(f"{p.platform}:{p.platform_user_id}" for p in matches)
            raise _RowProblem(
                f"{what} {named.written!r} is ambiguous: {len(matches)} people have that email "
                f"({who}); use platform:user_id"
            )
        if matches:
            return matches[0]
        if named.key is not None:
            line = self.roster.line_of_key.get(named.key)
            lines = [line] if line is not None else []
        else:
            lines = self.roster.lines_of_email.get(named.email or "", [])
        lines = [line for line in lines if line not in self.person_of_line]
        if len(lines) == 1:
            raise _RowProblem(f"{what} {named.written!r} is on line {lines[0]}, which was rejected")
        if lines:
            where = ", ".join(str(line) for line in lines)
            raise _RowProblem(f"{what} {named.written!r} is on lines {where}, which were rejected")
        raise _RowProblem(f"{what} {named.written!r} not found in the store or in this file")

    # Pass 3

    def _replace_managed_teams(self, session: Session, row: RosterRow) -> None:
        """Make the person's team-manager links what the roster now says.

        A manager (role manager, with a team, named as someone's manager) manages their
        team; the links an earlier import derived for another team go. Someone whose role
        is no longer manager loses every link, also those an admin added by hand.
        """
        person = session.get(Person, self.person_of_line[row.line])
        assert person is not None  # written in pass 1 of this transaction
        wanted: set[int] = set()
        if person.role is Role.MANAGER and person.team_id is not None:
            named = session.scalars(
                select(Person.id).where(Person.manager_id == person.id).limit(1)
            ).first()
            if named is not None:
                wanted.add(person.team_id)
        links = session.scalars(select(TeamManager).where(TeamManager.person_id == person.id))
        changed = False
        for link in links.all():
            keep = link.team_id in wanted or (
                person.role is Role.MANAGER and link.source is ManagerSource.ADMIN
            )
            if keep:
                wanted.discard(link.team_id)
            else:
                session.delete(link)
                changed = True
        for team_id in wanted:
            session.add(
                TeamManager(team_id=team_id, person_id=person.id, source=ManagerSource.ROSTER)
            )
            changed = True
        if changed:
            session.flush()
            self.changed.add(row.line)

    def _find_manager(self, session: Session, row: RosterRow) -> Person:
        query = select(Person)
        if row.manager_key is not None:
            platform, user_id = row.manager_key
            query = query.where(Person.platform == platform, Person.platform_user_id == user_id)
        else:
            query = query.where(func.lower(Person.email) == row.manager_email)
        matches = session.scalars(query.order_by(Person.id)).all()
        if len(matches) > 1:
            who = ", ".join(f"{p.platform}:{p.platform_user_id}" for p in matches)
            raise _RowProblem(
                f"manager {row.manager!r} is ambiguous: {len(matches)} people have that email "
                f"({who}); use platform:user_id"
            )
        if not matches:
            raise _RowProblem(self._not_found(row))
        return matches[0]

    def _not_found(self, row: RosterRow) -> str:
        if row.manager_key is not None:
            line = self.roster.line_of_key.get(row.manager_key)
            lines = [line] if line is not None else []
        else:
            lines = self.roster.lines_of_email.get(row.manager_email or "", [])
        lines = [line for line in lines if line not in self.person_of_line]
        if len(lines) == 1:
            return f"manager {row.manager!r} is on line {lines[0]}, which was rejected"
        if lines:
            where = ", ".join(str(line) for line in lines)
            return f"manager {row.manager!r} is on lines {where}, which were rejected"
        return f"manager {row.manager!r} not found in the store or in this file"


_CLEARED_ATTRIBUTE = {
    "email": "email",
    "track": "track_id",
    "team": "team_id",
    "manager": "manager_id",
    "quiz_time": "quiz_time",
    "region": "region",
}
"""The person's attribute a ``-`` cell clears (``parent_team`` clears the team's parent)."""


def _begin_before_savepoints(session: Session) -> None:
    """Open the SQLite transaction now, before the first savepoint.

    The stdlib ``sqlite3`` driver only sends ``BEGIN`` before its first INSERT, UPDATE or
    DELETE. A ``SAVEPOINT`` sent earlier would itself open the transaction, and releasing
    it would commit everything so far, so neither a dry run nor a retry could roll back.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN")


def _with_failures(problems: dict[int, list[str]], attempt: _Attempt) -> dict[int, list[str]]:
    """``problems`` and the rows the attempt could not store, by line."""
    merged = {line: list(messages) for line, messages in problems.items()}
    for line, message in (*attempt.rejected.items(), *attempt.unresolved.items()):
        merged.setdefault(line, []).append(message)
    return merged


def _report(
    rows: list[RosterRow], problems: dict[int, list[str]], attempt: _Attempt
) -> RosterReport:
    report = RosterReport(rejected=len(problems))
    for row in rows:
        if row.line in problems:
            continue
        if row.line in attempt.added:
            report.added += 1
        elif row.line in attempt.changed:
            report.updated += 1
        else:
            report.unchanged += 1
    report.problems = [(line, message) for line in sorted(problems) for message in problems[line]]
    return report


def import_roster(
    db: Database,
    path: Path,
    *,
    course: Course | None,
    now: datetime,
    default_language: str,
    default_timezone: str,
    dry_run: bool = False,
) -> RosterReport:
    """Import or update people from a roster CSV file.

    Rows with a problem are reported with their line and not imported at all; the others
    are. People are matched by ``(platform, user_id)`` and teams by name, so importing the
    same file twice changes nothing the second time. People are enrolled (pushes may
    start) but an existing person's status (opted out, unreachable, removed) is kept. An
    empty cell leaves an existing person's value as it is, ``-`` clears it; new people get
    the organisation defaults. The people on the file are marked as on the roster and
    their team-manager links are replaced by what the file says.

    Args:
        db: the store.
        path: the CSV file (UTF-8 with or without a byte-order mark), see ``docs/roster.md``.
        course: the course whose track ids are valid; ``None`` rejects rows naming a track.
        now: the current moment (aware), used for enrolment and change timestamps.
        default_language: the language of new people whose row leaves it empty.
        default_timezone: the time zone of new people whose row leaves it empty.
        dry_run: check and count everything, then roll back instead of committing.

    Returns:
        The counts and every problem, by line.

    Raises:
        RosterError: when the file is missing, not UTF-8 or its header is wrong.
    """
    roster = read_roster(path, course=course)
    problems = {line: list(messages) for line, messages in roster.problems.items()}
    while True:
        rows = [row for row in roster.rows if row.line not in problems]
        attempt = _Attempt(
            roster,
            rows,
            now=now,
            default_language=default_language,
            default_timezone=default_timezone,
        )
        try:
            with db.session() as session:
                _begin_before_savepoints(session)
                attempt.run(session)
                off_roster = _off_roster(session)
                if attempt.unresolved or dry_run:
                    raise _Undo
                report = _report(rows, _with_failures(problems, attempt), attempt)
                if report.added + report.updated + report.unchanged:
                    # From now on TRAINBOT_ENROLMENT=auto lets in only the roster's people.
                    session.add(
                        RosterImport(
                            source=path.name[:255],
                            added=report.added,
                            updated=report.updated,
                            unchanged=report.unchanged,
                            rejected=report.rejected,
                            imported_at=now,
                        )
                    )
        except _Undo:
            pass
        problems = _with_failures(problems, attempt)
        if not attempt.unresolved:
            break
        logger.debug("retrying the roster import without %d row(s)", len(attempt.unresolved))

    report = _report(rows, problems, attempt)
    report.off_roster = off_roster
    logger.info("roster %s%s: %s", path.name, " (dry run)" if dry_run else "", report.summary())
    return report


def _off_roster(session: Session) -> int:
    """How many enrolled people, not removed, no roster lists (after the rows just run)."""
    counted = session.scalar(
        select(func.count())
        .select_from(Person)
        .where(
            Person.enrolled_at.is_not(None),
            Person.status != PersonStatus.REMOVED,
            Person.on_roster.is_(False),
        )
    )
    return int(counted or 0)
