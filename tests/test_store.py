"""The store: migrations on empty SQLite and PostgreSQL databases, and model round-trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from bot.store import (
    AskedQuestion,
    Attempt,
    Base,
    Database,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    PersonStatus,
    ProcessedEvent,
    ReviewState,
    Role,
    Team,
    TeamManager,
)
from bot.store.db import alembic_config
from tests.conftest import REPO

NOW = datetime(2026, 11, 16, 1, 30, tzinfo=UTC)
TABLES = {
    "people",
    "teams",
    "team_managers",
    "deliveries",
    "attempts",
    "review_states",
    "asked_questions",
    "processed_events",
    "channel_posts",
    "team_memberships",
    "alembic_version",
}


def _person(user_id: str, **fields: object) -> Person:
    values: dict[str, object] = {
        "platform": "telegram",
        "platform_user_id": user_id,
        "display_name": user_id,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Person(**values)


def test_migrations_create_every_table(database: Database) -> None:
    assert set(inspect(database.engine).get_table_names()) >= TABLES


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(database: Database) -> None:
    config = alembic_config(database.url)
    command.downgrade(config, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert set(inspect(database.engine).get_table_names()) >= TABLES


def test_the_membership_migration_rebuilds_history_from_delivery_stamps(
    database: Database,
) -> None:
    """Migration 0006 on a store of 0005: each person's team history starts when they were
    created, changes where their deliveries' team stamps change, and ends in their
    current team, from their last update, when it differs from the last stamp."""
    config = alembic_config(database.url)
    command.downgrade(config, "0005")

    def at(day: int) -> datetime:
        moment = datetime(2026, 11, day, 1, 0, tzinfo=UTC)
        # Raw SQL on SQLite stores what it is given: naive UTC, as the models write it.
        return moment if database.dialect == "postgresql" else moment.replace(tzinfo=None)

    with database.engine.begin() as connection:
        for team_id, name in ((1, "A"), (2, "B"), (3, "Night")):
            connection.execute(
                text("INSERT INTO teams (id, name, created_at) VALUES (:id, :name, :at)"),
                {"id": team_id, "name": name, "at": at(1)},
            )
        people = (
            (1, "moved", 2, at(1), at(3)),  # stamps A then B, now B
            (2, "imported", 3, at(1), at(20)),  # stamps A, now Night since the import
            (3, "quiet", None, at(2), at(2)),  # no delivery, no team
        )
        for person_id, user_id, team_id, created, updated in people:
            connection.execute(
                text(
                    "INSERT INTO people (id, platform, platform_user_id, display_name, "
                    "language, timezone, team_id, role, status, on_roster, created_at, "
                    "updated_at) VALUES (:id, 'console', :user, :user, 'en', 'UTC', :team, "
                    "'learner', 'active', false, :created, :updated)"
                ),
                {
                    "id": person_id,
                    "user": user_id,
                    "team": team_id,
                    "created": created,
                    "updated": updated,
                },
            )
        for delivery_id, (person_id, team_id, day) in enumerate(
            ((1, 1, 5), (1, 1, 6), (1, 2, 9), (2, 1, 5), (2, 1, 12)), start=1
        ):
            connection.execute(
                text(
                    "INSERT INTO deliveries (id, person_id, kind, slot, local_date, team_id, "
                    "status, send_attempts, claimed_at, sent_at) VALUES (:id, :person, "
                    "'quiz', 'daily', :day, :team, 'sent', 1, :at, :at)"
                ),
                {
                    "id": delivery_id,
                    "person": person_id,
                    "day": at(day).date(),
                    "team": team_id,
                    "at": at(day),
                },
            )
    command.upgrade(config, "head")
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT person_id, team_id, since FROM team_memberships ORDER BY person_id, since")
        ).all()
    history = [
        (person, team, (datetime.fromisoformat(since) if isinstance(since, str) else since).day)
        for person, team, since in rows
    ]
    assert history == [(1, 1, 1), (1, 2, 9), (2, 1, 1), (2, 3, 20), (3, None, 2)]


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'store.db'}")
    db.upgrade()
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_models_round_trip(database: Database) -> None:
    with database.session() as session:
        team = Team(name="华东一线", created_at=NOW)
        sub = Team(name="华东一线·上海", parent=team, created_at=NOW)
        boss = _person("100", role=Role.MANAGER, team=team, language="zh")
        session.add_all([team, sub, boss])
        session.flush()
        session.add(TeamManager(team_id=team.id, person_id=boss.id))
        alice = _person(
            "101",
            display_name="Alice 李",
            language="en",
            timezone="Europe/Berlin",
            quiz_time="08:45",
            track_id="frontline",
            team=sub,
            manager=boss,
            status=PersonStatus.OPTED_OUT,
            enrolled_at=NOW,
        )
        session.add(alice)
        session.flush()
        delivery = Delivery(
            person_id=alice.id,
            kind=DeliveryKind.QUIZ,
            local_date=date(2026, 11, 16),
            item_id="fl-01-q1",
            language="en",
            track_id="frontline",
            team_id=sub.id,
            status=DeliveryStatus.SENT,
            selection={"keys": ["A", "C"]},
            message_ref="12345:678",
            claimed_at=NOW,
            sent_at=NOW + timedelta(seconds=2),
        )
        session.add(delivery)
        session.flush()
        session.add_all(
            [
                Attempt(
                    person_id=alice.id,
                    question_id="fl-01-q1",
                    delivery_id=delivery.id,
                    chosen={"keys": ["A", "C"]},
                    correct=True,
                    answered_at=NOW + timedelta(minutes=3),
                    latency_ms=180_000,
                    track_id="frontline",
                    team_id=sub.id,
                ),
                ReviewState(
                    person_id=alice.id,
                    question_id="fl-01-q1",
                    card={"card_id": 1, "state": 1, "stability": 3.2},
                    due=NOW + timedelta(days=3),
                    last_review=NOW,
                    reviews=1,
                ),
                AskedQuestion(
                    person_id=alice.id,
                    team_id=sub.id,
                    text="如何提高用户留存?",
                    language="zh",
                    answered=False,
                    confidence=0.21,
                    sources={"items": [{"title": "留存", "path": "a.md", "score": 0.5}]},
                    feedback=-1,
                    feedback_at=NOW,
                    asked_at=NOW,
                ),
                ProcessedEvent(platform="slack", event_id="Ev01", received_at=NOW),
            ]
        )

    with database.session() as session:
        alice = session.scalars(select(Person).where(Person.platform_user_id == "101")).one()
        assert alice.display_name == "Alice 李"
        assert alice.status is PersonStatus.OPTED_OUT and alice.role is Role.LEARNER
        assert alice.team is not None and alice.team.name == "华东一线·上海"
        assert alice.team.parent is not None and alice.team.parent.name == "华东一线"
        assert alice.manager is not None and alice.manager.platform_user_id == "100"
        assert alice.enrolled_at == NOW and alice.enrolled_at.tzinfo is not None
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.kind is DeliveryKind.QUIZ and delivery.slot == "daily"
        assert delivery.local_date == date(2026, 11, 16)
        assert delivery.selection == {"keys": ["A", "C"]}
        assert delivery.sent_at == NOW + timedelta(seconds=2)
        attempt = session.scalars(select(Attempt)).one()
        assert attempt.chosen == {"keys": ["A", "C"]} and attempt.correct and attempt.first_try
        assert attempt.answered_at == NOW + timedelta(minutes=3)
        state = session.get(ReviewState, (alice.id, "fl-01-q1"))
        assert state is not None and state.card["stability"] == 3.2
        assert state.due == NOW + timedelta(days=3)
        asked = session.scalars(select(AskedQuestion)).one()
        assert asked.text == "如何提高用户留存?" and asked.feedback == -1
        assert asked.sources["items"][0]["title"] == "留存"
        managers = session.scalars(select(TeamManager)).all()
        assert [(m.team_id, m.person_id) for m in managers] == [
            (alice.team.parent.id, alice.manager.id)
        ]


def test_a_delivery_is_unique_per_person_kind_local_date_and_slot(database: Database) -> None:
    with database.session() as session:
        person = _person("200")
        session.add(person)
        session.flush()
        person_id = person.id

    def claim(slot: str = "daily", kind: DeliveryKind = DeliveryKind.QUIZ) -> Delivery:
        return Delivery(
            person_id=person_id, kind=kind, slot=slot, local_date=date(2026, 11, 16), claimed_at=NOW
        )

    with database.session() as session:
        session.add_all([claim(), claim(kind=DeliveryKind.LESSON), claim("on-demand:1")])
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(claim())
    with database.session() as session:
        assert len(session.scalars(select(Delivery)).all()) == 3


def test_one_attempt_per_delivery(database: Database) -> None:
    with database.session() as session:
        person = _person("300")
        session.add(person)
        session.flush()
        delivery = Delivery(
            person_id=person.id,
            kind=DeliveryKind.QUIZ,
            local_date=date(2026, 11, 16),
            claimed_at=NOW,
        )
        session.add(delivery)
        session.flush()
        ids = (person.id, delivery.id)

    def attempt() -> Attempt:
        return Attempt(
            person_id=ids[0],
            question_id="q",
            delivery_id=ids[1],
            chosen={},
            correct=False,
            answered_at=NOW,
        )

    with database.session() as session:
        session.add(attempt())
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(attempt())


def test_a_platform_identity_is_enrolled_once(database: Database) -> None:
    with database.session() as session:
        session.add(_person("400"))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(_person("400"))
    with database.session() as session:
        session.add(_person("400", platform="slack"))


def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), database.session() as session:
        session.add(_person("500", created_at=datetime(2026, 1, 1)))


@pytest.mark.postgres
def test_replicas_starting_together_on_an_empty_store_migrate_it_once(
    tmp_path: Path, postgres_url: str
) -> None:
    """Every ``trainbot run`` migrates at start; the replicas of a fresh deployment do so at
    the same moment on PostgreSQL, and none may fail."""
    import subprocess
    import sys

    url = postgres_url
    script = "import sys; from bot.store.db import Database; Database(sys.argv[1]).upgrade()"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", script, url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    errors = [replica.communicate(timeout=120)[1].decode() for replica in replicas]
    assert [replica.returncode for replica in replicas] == [0, 0, 0], [e[-800:] for e in errors]
    db = Database(url)
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    db.dispose()
