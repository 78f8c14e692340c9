"""Hand-built stores for the evaluation: level 2 worked out by hand, and the content-to-improve
signals (organisation time zone Asia/Shanghai, UTC+8).

2026-W47 runs 2026-11-15T16:00Z .. 2026-11-22T16:00Z; 2026-W46 the seven days before.

**Level 2** (:func:`build_application`). Teams A and B, frontline learners; Mia manages A.

| person | team                     | lessons completed          | answers about applying them                       |
|--------|--------------------------|----------------------------|---------------------------------------------------|
| Ann    | A                        | fl-01 11-03, fl-02 11-04   | fl-01: self "not yet" 11-17, then Mia "seen" 11-19; fl-02: self "once" 11-11 |
| Bob    | A                        | fl-01 11-03                | self "several times" 11-10                         |
| Cat    | A, moved to B on 11-18   | fl-01 11-03                | self "not yet" 11-12                               |
| Dan    | B                        | fl-01 11-03                | self "not relevant" 11-10                          |
| Eve    | B                        | fl-01 11-18                | none                                               |

Worked out by hand (trained / reported / applying, people × lessons):

| as at the end of | A          | B          | all        | fl-01      | fl-02   |
|------------------|------------|------------|------------|------------|---------|
| W46              | 4 / 3 / 2  | 1 / 0 / 0  | 5 / 3 / 2  | 4 / 2 / 1  | 1/1/1   |
| W47              | 3 / 3 / 3  | 3 / 1 / 0  | 6 / 4 / 3  | 5 / 3 / 2  | 1/1/1   |

A: 67% → 100% (+33 pp); B: no rate ("—") → 0% (change "—": no rate before); all: 67% → 75%
(+8 pp). Cat counts under A at the end of W46 and under B at the end of W47; Dan's "not
relevant" is no evidence either way; Ann's fl-01 turns applying with Mia's "seen" after her
own "not yet".

**Content to improve** (:func:`build_improve`), weeks W44..W47: see the function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.models import (
    APPLIED,
    Application,
    ApplicationReport,
    AskedQuestion,
    Attempt,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    ObserverRole,
    Person,
    Role,
    SurveyResponse,
    Team,
    TeamManager,
)

WEEK = "2026-W47"
TIMEZONE = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TIMEZONE)
LONG_AGO = datetime(2026, 9, 1, tzinfo=UTC)


def utc(text: str) -> datetime:
    """``2026-11-16T01:30`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class EvalWorld:
    """Ids of what was built."""

    teams: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)


class _Builder:
    def __init__(self, session: Session, world: EvalWorld) -> None:
        self.session = session
        self.world = world
        self.slots = count(1)

    def team(self, name: str) -> int:
        team = Team(name=name, created_at=LONG_AGO)
        self.session.add(team)
        self.session.flush()
        self.world.teams[name] = team.id
        return team.id

    def person(
        self, name: str, team: str | None, *, role: Role = Role.LEARNER, track: str = "frontline"
    ) -> Person:
        row = Person(
            platform="console",
            platform_user_id=name.lower(),
            display_name=name,
            language="en",
            timezone=TIMEZONE,
            track_id=track,
            team_id=self.world.teams[team] if team else None,
            role=role,
            enrolled_at=LONG_AGO,
            created_at=LONG_AGO,
            updated_at=LONG_AGO,
        )
        self.session.add(row)
        self.session.flush()
        self.world.people[name] = row.id
        return row

    def delivery(
        self,
        who: str,
        kind: DeliveryKind,
        at: datetime,
        item: str | None,
        status: DeliveryStatus,
    ) -> Delivery:
        person = self.session.get(Person, self.world.people[who])
        assert person is not None
        row = Delivery(
            person_id=person.id,
            kind=kind,
            slot=f"t{next(self.slots)}",
            local_date=at.astimezone(SHANGHAI).date(),
            item_id=item,
            language="en",
            track_id=person.track_id,
            team_id=person.team_id,
            status=status,
            send_attempts=1,
            claimed_at=at,
            sent_at=at,
            completed_at=at if status is DeliveryStatus.COMPLETED else None,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def completed(self, who: str, lesson: str, at: str) -> Delivery:
        return self.delivery(who, DeliveryKind.LESSON, utc(at), lesson, DeliveryStatus.COMPLETED)

    def applied(
        self, who: str, lesson: str, answer: Application, at: str, *, observer: str | None = None
    ) -> None:
        asker = observer or who
        kind = DeliveryKind.OBSERVATION if observer else DeliveryKind.CHECKIN
        push = self.delivery(asker, kind, utc(at), lesson, DeliveryStatus.ANSWERED)
        subject = self.session.get(Person, self.world.people[who])
        assert subject is not None
        self.session.add(
            ApplicationReport(
                subject_id=subject.id,
                observer_id=self.world.people[observer] if observer else None,
                source=ObserverRole.MANAGER if observer else ObserverRole.SELF,
                delivery_id=push.id,
                lesson_id=lesson,
                track_id=subject.track_id,
                team_id=subject.team_id,
                answer=answer,
                applied=APPLIED[answer],
                answered_at=utc(at),
            )
        )

    def rating(
        self, who: str, lesson: str, rating: int, at: datetime, comment: str | None = None
    ) -> None:
        push = self.delivery(who, DeliveryKind.LESSON, at, lesson, DeliveryStatus.COMPLETED)
        person = self.session.get(Person, self.world.people[who])
        assert person is not None
        self.session.add(
            SurveyResponse(
                person_id=person.id,
                delivery_id=push.id,
                lesson_id=lesson,
                track_id=person.track_id,
                team_id=person.team_id,
                asked_on=at.astimezone(SHANGHAI).date(),
                asked_at=at,
                rating=rating,
                rated_at=at,
                comment=comment,
                commented_at=at if comment else None,
            )
        )

    def first_try(self, who: str, question: str, correct: bool, at: datetime) -> None:
        push = self.delivery(who, DeliveryKind.QUIZ, at, question, DeliveryStatus.ANSWERED)
        self.session.add(
            Attempt(
                person_id=self.world.people[who],
                question_id=question,
                delivery_id=push.id,
                chosen={"keys": ["a"]},
                correct=correct,
                first_try=True,
                answered_at=at,
                team_id=push.team_id,
            )
        )

    def gap(self, text: str, at: datetime, path: str | None, *, language: str = "en") -> None:
        self.session.add(
            AskedQuestion(
                text=text,
                language=language,
                answered=False,
                confidence=0.1,
                sources={"items": [{"title": "t", "path": path, "section": "s", "score": 0.2}]}
                if path
                else {"items": []},
                asked_at=at,
            )
        )


def build_application(db: Database) -> EvalWorld:
    """The level 2 world of the table above."""
    world = EvalWorld()
    with db.session() as session:
        build = _Builder(session, world)
        build.team("A")
        build.team("B")
        for name, team in (("Ann", "A"), ("Bob", "A"), ("Cat", "A"), ("Dan", "B"), ("Eve", "B")):
            build.person(name, team)
        mia = build.person("Mia", None, role=Role.MANAGER, track="managers")
        mia.enrolled_at = None  # she manages, she does not learn
        session.add(TeamManager(team_id=world.teams["A"], person_id=mia.id))
        for name in ("Ann", "Bob", "Cat", "Dan"):
            build.completed(name, "fl-01", "2026-11-03T02:00")
        build.completed("Ann", "fl-02", "2026-11-04T02:00")
        build.completed("Eve", "fl-01", "2026-11-18T02:00")
        build.applied("Ann", "fl-01", Application.NOT_YET, "2026-11-17T02:00")
        build.applied("Ann", "fl-01", Application.SEEN, "2026-11-19T02:00", observer="Mia")
        build.applied("Ann", "fl-02", Application.ONCE, "2026-11-11T02:00")
        build.applied("Bob", "fl-01", Application.SEVERAL, "2026-11-10T02:00")
        build.applied("Cat", "fl-01", Application.NOT_YET, "2026-11-12T02:00")
        build.applied("Dan", "fl-01", Application.NOT_RELEVANT, "2026-11-10T02:00")
        cat = session.get(Person, world.people["Cat"])
        assert cat is not None
        cat.team_id = world.teams["B"]  # as a roster import moves people
        cat.updated_at = utc("2026-11-18T02:00")
    return world


IMPROVE_START = utc("2026-10-25T16:00")  # Monday of 2026-W44, local midnight


def _day(number: int) -> datetime:
    """Noon (local) of the ``number``-th day of the four weeks W44..W47."""
    return IMPROVE_START + timedelta(days=number, hours=4)


def build_improve(db: Database) -> EvalWorld:
    """Four weeks (W44..W47) with one weak lesson per signal, and enough data elsewhere.

    - fl-01: **one rating of 1** (too few to judge), 10 first tries all right.
    - fl-02: **8 ratings averaging 2.5** (four 2s, four 3s) — weak rating.
    - fl-03: 6 ratings of 5, and **6 comments, 4 of them complaints** that the examples
      are outdated — weak comments.
    - mg-01: 6 ratings of 5 and **10 first tries, 2 right** — weak accuracy.
    - fl-06: 6 ratings of 4 with 6 comments of praise, and **3 questions declined** whose nearest passage is in
      data-privacy.md, the material of fl-06 only — content gaps.
    - fl-01..mg-01 otherwise: 10 first tries, 9 right (fl-02, fl-03).
    - Unattached gaps: one with no passage, one nearest onboarding-faq.html (no lesson),
      one nearest retention-playbook.txt (fl-04 and fl-05) sharing no word with either.
    """
    world = EvalWorld()
    with db.session() as session:
        build = _Builder(session, world)
        build.team("Support")
        raters = [build.person(f"P{number}", "Support").display_name for number in range(10)]
        day = count(0)

        def when() -> datetime:
            # One survey per person and local day: spread them over the 28 days.
            return _day(next(day) % 28)

        def rate(lesson: str, ratings: list[int], comments: list[str] | None = None) -> None:
            for index, value in enumerate(ratings):
                comment = comments[index] if comments and index < len(comments) else None
                build.rating(raters[index], lesson, value, _day(index + _OFFSET[lesson]), comment)

        rate("fl-01", [1])
        rate("fl-02", [2, 2, 2, 2, 3, 3, 3, 3])
        rate(
            "fl-03",
            [5, 5, 5, 5, 5, 5],
            [
                "The examples are outdated and no longer match our app",
                "Examples are outdated, the screenshots show the old app",
                "The examples are so outdated it is confusing",
                "Outdated examples again, please update them",
                "Clear and useful, thanks",
                "Useful lesson, I liked the checklist",
            ],
        )
        rate("mg-01", [5, 5, 5, 5, 5, 5])
        rate(
            "fl-06",
            [4, 4, 4, 4, 4, 4],
            [
                "Clear rules, very useful for my daily work",
                "Useful and practical, thanks",
                "Great lesson, easy to follow",
                "Very helpful examples",
                "Clear and useful",
                "I liked it, well explained",
            ],
        )
        for lesson, right in (("fl-01", 10), ("fl-02", 9), ("fl-03", 9), ("mg-01", 2)):
            for index in range(10):
                build.first_try(raters[index], f"{lesson}-q{index % 5 + 1}", index < right, when())
        build.gap(
            "How long do we keep deleted accounts' phone numbers?", _day(3), "data-privacy.md"
        )
        build.gap("Can I export a customer's address list to Excel?", _day(9), "data-privacy.md")
        build.gap("Who approves sharing user data with a partner?", _day(20), "data-privacy.md")
        build.gap("Where is the canteen?", _day(5), None)
        build.gap("How do I reset my laptop password?", _day(6), "onboarding-faq.html")
        build.gap("What is the parking fee?", _day(7), "retention-playbook.txt")
    return world


# Each lesson's ratings start on a day of their own, so nobody is asked twice a day.
_OFFSET = {"fl-01": 0, "fl-02": 1, "fl-03": 10, "mg-01": 17, "fl-06": 22}


def monday(week_start: datetime) -> date:
    """The local Monday of a UTC week start."""
    return (week_start + timedelta(hours=8)).date()
