"""Time zones people come with: checked before they are stored, tolerated when read."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot import events
from bot.people import ensure_known, find_person, valid_timezone, zone_of
from bot.store.db import Database

NOW = datetime(2026, 11, 16, 1, 30, tzinfo=UTC)
ORG = "Asia/Shanghai"
UNKNOWN = ["Mars/Olympus", "America/Bogus", "", "America", "../etc/passwd", "x" * 300, "utc"]


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires"])
def test_a_known_zone_is_kept(name: str) -> None:
    assert valid_timezone(name, ORG) == name
    assert zone_of(name, ORG) == ZoneInfo(name)


@pytest.mark.parametrize("name", [*UNKNOWN, None])
def test_an_unknown_zone_gives_the_fallback_and_reading_never_raises(name: str | None) -> None:
    assert valid_timezone(name, ORG) == ORG
    assert zone_of(name, ORG) == ZoneInfo(ORG)
    assert zone_of(name, "Mars/Olympus") == ZoneInfo("UTC")


def test_reading_an_unknown_zone_warns_once_per_owner(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        zone_of("Venus/Maxwell", ORG, owner="person 7")
    zone_of("Venus/Maxwell", ORG, owner="person 8")
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2 and "person 7" in lines[0] and "person 8" in lines[1]


def test_first_contact_with_an_unknown_zone_stores_the_organisations(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    who = events.Person("slack", "U1", "Una", "en-US", "Mars/Olympus")
    with sqlite_database.session() as session:
        person = ensure_known(session, who, now=NOW, default_language="zh", default_timezone=ORG)
        assert person.timezone == ORG
    (line,) = [record.getMessage() for record in caplog.records]
    assert "slack:U1" in line and "Una" not in line


def test_a_row_stored_with_an_unknown_zone_is_repaired_on_contact(
    sqlite_database: Database,
) -> None:
    who = events.Person("slack", "U2", "Ode", "en-US", "Europe/Berlin")
    with sqlite_database.session() as session:
        ensure_known(session, who, now=NOW, default_language="zh", default_timezone=ORG)
        session.execute(text("UPDATE people SET timezone = 'Mars/Olympus'"))
    with sqlite_database.session() as session:
        ensure_known(session, who, now=NOW, default_language="zh", default_timezone=ORG)
    with sqlite_database.session() as session:
        person = find_person(session, who)
        assert person is not None and person.timezone == "Europe/Berlin"
