"""A hand-built fortnight (2026-W46 and 2026-W47, org time zone Asia/Shanghai, UTC+8).

W47 runs 2026-11-15T16:00Z .. 2026-11-22T16:00Z; W46 the seven days before.

Teams: A, A1 (below A), B, Empty (nobody). The manager Mia manages A.

| person | team now | track     | enrolled          | story                                                |
|--------|----------|-----------|-------------------|------------------------------------------------------|
| Ann    | A        | frontline | long ago          | W47: 1 lesson (read), 4 quizzes, 3 answers in W47 (2 right), the 4th answered Monday 00:00 of W48; W46: a quiz sent Sunday 23:59 local, right |
| Bob    | A        | frontline | long ago          | W46: 1 answer (right); W47: 1 quiz, never answered     |
| Cid    | A1       | managers  | long ago          | W47: 1 lesson (unread), 4 quizzes, 3/4 right = 75% = the managers' pass mark |
| Dee    | B        | frontline | long ago          | moved A -> B on Wednesday of W47: Tue quiz with team A, Thu quiz with team B, both right; W46 (team A): 1 wrong |
| Eve    | B        | frontline | Wed of W47        | joined mid-week: 1 quiz, not answered                  |
| Fay    | A        | frontline | after W47         | not counted in W47                                     |
| Gus    | (none)   | frontline | long ago          | nothing ever                                           |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.store.db import Database
from bot.store.models import (
    AskedQuestion,
    Attempt,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    Role,
    Team,
    TeamManager,
)

WEEK = "2026-W47"
LONG_AGO = datetime(2026, 10, 1, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def utc(text: str) -> datetime:
    """``2026-11-16T01:30`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class World:
    """Ids of what was built."""

    teams: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)


def build(db: Database) -> World:
    """Insert the fortnight described above."""
    world = World()
    slot = iter(range(1, 1000))
    with db.session() as session:
        for name in ("A", "A1", "B", "Empty"):
            team = Team(name=name, created_at=LONG_AGO)
            session.add(team)
            session.flush()
            world.teams[name] = team.id
        session.get(Team, world.teams["A1"]).parent_id = world.teams["A"]  # type: ignore[union-attr]

        def person(name: str, team: str | None, track: str, enrolled: datetime, role: Role) -> int:
            row = Person(
                platform="console",
                platform_user_id=name.lower(),
                display_name=name,
                language="en",
                timezone="Asia/Shanghai",
                track_id=track,
                team_id=world.teams[team] if team else None,
                role=role,
                enrolled_at=enrolled,
                created_at=enrolled,
                updated_at=enrolled,
            )
            session.add(row)
            session.flush()
            world.people[name] = row.id
            return row.id

        for name, team, track, enrolled in (
            ("Ann", "A", "frontline", LONG_AGO),
            ("Bob", "A", "frontline", LONG_AGO),
            ("Cid", "A1", "managers", LONG_AGO),
            ("Dee", "A", "frontline", LONG_AGO),
            ("Eve", "B", "frontline", utc("2026-11-18T03:00")),
            ("Fay", "A", "frontline", utc("2026-11-23T03:00")),
            ("Gus", None, "frontline", LONG_AGO),
        ):
            person(name, team, track, enrolled, Role.LEARNER)
        mia = person("Mia", None, "managers", LONG_AGO, Role.MANAGER)
        # Mia manages but does not learn: enrolled_at is what counts people, so clear it.
        session.get(Person, mia).enrolled_at = None  # type: ignore[union-attr]
        session.add(TeamManager(team_id=world.teams["A"], person_id=mia))

        def deliver(
            who: str,
            kind: DeliveryKind,
            sent: str,
            team: str | None,
            status: DeliveryStatus,
        ) -> int:
            sent_at = utc(sent)
            person = session.get(Person, world.people[who])
            assert person is not None
            row = Delivery(
                person_id=world.people[who],
                kind=kind,
                slot=f"t{next(slot)}",
                local_date=sent_at.astimezone(SHANGHAI).date(),
                item_id="lesson-x" if kind is DeliveryKind.LESSON else "q",
                language="en",
                track_id=person.track_id,  # stamped at claim, as the dispatcher does
                team_id=world.teams[team] if team else None,
                status=status,
                send_attempts=1,
                claimed_at=sent_at,
                sent_at=sent_at,
            )
            session.add(row)
            session.flush()
            return row.id

        def answer(
            who: str,
            sent: str,
            answered: str,
            question: str,
            correct: bool,
            team: str,
            first_try: bool = True,
        ) -> None:
            delivery = deliver(who, DeliveryKind.QUIZ, sent, team, DeliveryStatus.ANSWERED)
            session.add(
                Attempt(
                    person_id=world.people[who],
                    question_id=question,
                    delivery_id=delivery,
                    chosen={"keys": ["a"]},
                    correct=correct,
                    first_try=first_try,
                    answered_at=utc(answered),
                    team_id=world.teams[team],
                )
            )

        lesson, quiz = DeliveryKind.LESSON, DeliveryKind.QUIZ
        # Ann, team A.
        deliver("Ann", lesson, "2026-11-16T01:00", "A", DeliveryStatus.COMPLETED)
        answer("Ann", "2026-11-16T01:30", "2026-11-16T02:00", "q1", True, "A")
        answer("Ann", "2026-11-17T01:30", "2026-11-17T02:00", "q2", False, "A")
        # Sunday 23:59 in Shanghai: still W47.
        answer("Ann", "2026-11-22T15:00", "2026-11-22T15:59", "q3", True, "A")
        # Sent in W47, answered at Monday 00:00 of W48: delivered and answered in W47,
        # but the answer itself belongs to W48.
        answer("Ann", "2026-11-22T15:30", "2026-11-22T16:00", "q1", True, "A", first_try=False)
        # Sent Sunday 23:59 local of W46.
        answer("Ann", "2026-11-15T15:59", "2026-11-15T15:59:30", "q4", True, "A")
        # Bob, team A.
        answer("Bob", "2026-11-10T01:30", "2026-11-10T02:00", "q4", True, "A")
        deliver("Bob", quiz, "2026-11-16T01:30", "A", DeliveryStatus.SENT)
        # Cid, team A1.
        deliver("Cid", lesson, "2026-11-18T01:00", "A1", DeliveryStatus.SENT)
        answer("Cid", "2026-11-18T01:30", "2026-11-18T01:40", "q1", True, "A1")
        answer("Cid", "2026-11-19T01:30", "2026-11-19T01:40", "q2", True, "A1")
        answer("Cid", "2026-11-20T01:30", "2026-11-20T01:40", "q3", False, "A1")
        answer("Cid", "2026-11-21T01:30", "2026-11-21T01:40", "q5", True, "A1")
        # Dee: team A until Wednesday of W47, then B (as a roster import moves people).
        dee = session.get(Person, world.people["Dee"])
        assert dee is not None
        dee.team_id = world.teams["B"]
        dee.updated_at = utc("2026-11-18T02:00")
        answer("Dee", "2026-11-12T01:30", "2026-11-12T02:00", "q3", False, "A")
        answer("Dee", "2026-11-17T01:30", "2026-11-17T02:00", "q1", True, "A")
        answer("Dee", "2026-11-19T01:30", "2026-11-19T02:00", "q2", True, "B")
        # Eve joined on Wednesday.
        deliver("Eve", quiz, "2026-11-19T01:30", "B", DeliveryStatus.SENT)

        def asked(team: str, at: str, answered: bool, feedback: int | None) -> None:
            session.add(
                AskedQuestion(
                    team_id=world.teams[team],
                    text="How do we win back churned users?",
                    language="en",
                    answered=answered,
                    confidence=0.9 if answered else 0.1,
                    answer="..." if answered else None,
                    sources={"items": []},
                    feedback=feedback,
                    asked_at=utc(at),
                )
            )

        asked("A", "2026-11-17T03:00", True, 1)
        asked("A", "2026-11-18T03:00", True, -1)
        asked("B", "2026-11-19T03:00", False, None)
        asked("A", "2026-11-22T16:00", True, 1)  # W48
        asked("A", "2026-11-10T03:00", True, -1)  # W46
    return world


VARIANT = "how do we win back churned users pls"
"""A near-identical phrasing of the built world's gap question (one gap with it)."""


def ask_variant(db: Database) -> None:
    """The gap question asked once more in W47 as :data:`VARIANT`, unanswered."""
    with db.session() as session:
        session.add(
            AskedQuestion(
                text=VARIANT,
                language="en",
                answered=False,
                confidence=0.1,
                sources={"items": []},
                asked_at=utc("2026-11-20T03:00"),
            )
        )


def monday(week_start: datetime) -> date:
    """The local Monday of a UTC week start (for readable assertions)."""
    return (week_start + timedelta(hours=8)).date()
