"""The gate (bot.admission.admit) and its SQL form (admitted_people) decide alike.

Runs on SQLite and PostgreSQL: the dispatcher and the weekly summary use the SQL form,
the chat uses the gate, so someone the gate refuses is neither pushed to nor counted.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import events
from bot.admission import Verdict, admit, admitted_people
from bot.errors import ConfigError
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import (
    AccessRequest,
    AccessStatus,
    Person,
    PersonStatus,
    RosterImport,
)

NOW = datetime(2026, 11, 16, 1, 30, tzinfo=UTC)
PEOPLE = {
    # user id: (on the roster, status, access request)
    "listed": (True, PersonStatus.ACTIVE, None),
    "walkin": (False, PersonStatus.ACTIVE, None),
    "approved": (False, PersonStatus.ACTIVE, AccessStatus.APPROVED),
    "denied": (False, PersonStatus.OPTED_OUT, AccessStatus.DENIED),
    "waiting": (False, PersonStatus.ACTIVE, AccessStatus.PENDING),
    "removed": (True, PersonStatus.REMOVED, None),
    "boss": (False, PersonStatus.ACTIVE, None),
}


def populate(db: Database, *, roster_imported: bool) -> None:
    with db.session() as session:
        for user_id, (on_roster, status, request) in PEOPLE.items():
            session.add(
                Person(
                    platform="telegram",
                    platform_user_id=user_id,
                    display_name=user_id,
                    on_roster=on_roster,
                    status=status,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            if request is not None:
                session.add(
                    AccessRequest(
                        platform="telegram",
                        platform_user_id=user_id,
                        display_name=user_id,
                        language="en",
                        status=request,
                        requested_at=NOW,
                    )
                )
        if roster_imported:
            session.add(RosterImport(source="roster.csv", imported_at=NOW))


@pytest.mark.parametrize("roster_imported", [False, True])
@pytest.mark.parametrize("rule", ["auto", "open", "roster", "approval"])
def test_the_gate_and_the_sql_rule_agree(
    database: Database, rule: str, roster_imported: bool
) -> None:
    populate(database, roster_imported=roster_imported)
    settings = load_settings(
        database_url=database.url, enrolment=rule, admins="telegram:boss,telegram:nobody"
    )
    with Session(database.engine) as session:
        by_gate = {
            user_id
            for user_id in PEOPLE
            if admit(session, settings, events.Person("telegram", user_id), now=NOW).admitted
        }
        by_sql = set(
            session.scalars(select(Person.platform_user_id).where(admitted_people(settings))).all()
        )
        session.rollback()  # a gate may have recorded a request
    assert by_gate == by_sql
    closed = rule in ("roster", "approval") or (rule == "auto" and roster_imported)
    expected = (
        {"listed", "boss"}
        if closed
        else {"listed", "walkin", "approved", "denied", "waiting", "boss"}
    )
    if rule == "approval":
        expected |= {"approved"}
    assert by_sql == expected


def test_a_stranger_under_approval_records_one_request(database: Database) -> None:
    settings = load_settings(database_url=database.url, enrolment="approval")
    stranger = events.Person("slack", "U9", "Nina", "en-US")
    with database.session() as session:
        assert admit(session, settings, stranger, now=NOW).verdict is Verdict.REQUESTED
    with database.session() as session:
        assert admit(session, settings, stranger, now=NOW).verdict is Verdict.PENDING
        (request,) = session.scalars(select(AccessRequest)).all()
        assert (request.display_name, request.language, request.status) == (
            "Nina",
            "en",
            AccessStatus.PENDING,
        )
        assert session.scalars(select(Person)).all() == []


def test_an_unknown_enrolment_rule_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="TRAINBOT_ENROLMENT"):
        load_settings(enrolment="closed")
    assert load_settings().enrolment == "auto"
