"""A hand-built set for the business-impact section: 4 teams × 8 weeks (2026-W40..W47).

Organisation time zone Asia/Shanghai. Every team has two frontline learners (pass mark
80%). Each week each learner is sent one lesson (Monday 10:00 local) and one quiz, which
they answer right exactly when they read the lesson, so a team's pass rate equals its
coverage.

| team  | who reads the week's lesson               | coverage          | trained from |
|-------|-------------------------------------------|-------------------|--------------|
| North | one of two in W40-W42, both from W43      | 50%, then 100%    | 2026-W43     |
| South | one of two in W40-W42, both from W43      | 50%, then 100%    | 2026-W43     |
| East  | one of two every week                     | 50%               | not yet      |
| West  | one of two every week                     | 50%               | not yet      |

KPI ``retention_30d`` (unit %, higher is better), by week W40..W47 (W43 is the
training week, on neither side):

| team  | W40 | W41 | W42 | W43 | W44  | W45  | W46 | W47 | before | after | change |
|-------|-----|-----|-----|-----|------|------|-----|-----|--------|-------|--------|
| North | 60  | 62  | 61  | 63  | 66   | 67   | 68  | 67  | 61     | 67    | +6     |
| South | 50  | 52  | 51  | 55  | 56   | 55   | 57  | 56  | 51     | 56    | +5     |
| East  | 70  | 71  | 72  | 71  | 72   | 73   | 72  | 73  | 71     | 72.5  | +1.5   |
| West  | 40  | 40  | 40  | 41  | 40.5 | 41.5 | 40  | 42  | 40     | 41    | +1     |

Worked out by hand: trained teams changed by (6 + 5) / 2 = 5.5; over the same weeks
(W40-W42 and W44-W47) the not-yet-trained teams changed by (1.5 + 1) / 2 = 1.25 for each
trained team; the difference in differences is 5.5 − 1.25 = **4.25** points, from 2
trained teams (6 team-weeks before, 8 after) and 2 not-yet-trained teams (14 team-weeks).

KPI ``complaint_rate`` (lower is better) has values for North and East only: one trained
team, so there is too little data for a comparison.

The manager Mia manages North only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store.db import Database
from bot.store.models import (
    Attempt,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    KpiValue,
    Person,
    Role,
    Team,
    TeamManager,
)
from bot.weeks import iso_week_window

WEEKS = [f"2026-W{number}" for number in range(40, 48)]
REPORT_WEEK = WEEKS[-1]
TRAINING_WEEK = "2026-W43"
TIMEZONE = "Asia/Shanghai"
LONG_AGO = datetime(2026, 9, 1, tzinfo=UTC)
IMPORTED = datetime(2026, 11, 25, tzinfo=UTC)
TRAINED = ("North", "South")
NOT_YET = ("East", "West")

RETENTION = {
    "North": [60, 62, 61, 63, 66, 67, 68, 67],
    "South": [50, 52, 51, 55, 56, 55, 57, 56],
    "East": [70, 71, 72, 71, 72, 73, 72, 73],
    "West": [40, 40, 40, 41, 40.5, 41.5, 40, 42],
}
COMPLAINTS = {"North": [5, 5, 4, 4, 3, 3, 3, 2], "East": [6, 6, 6, 6, 6, 5, 6, 6]}
DID = 4.25
TRAINED_CHANGE = 5.5
CONTROL_CHANGE = 1.25


@dataclass
class KpiWorld:
    """Ids of what was built."""

    teams: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)


def build(db: Database, *, kpis: bool = True) -> KpiWorld:
    """Insert the 4 teams × 8 weeks described above (``kpis``: with the KPI values)."""
    world = KpiWorld()
    with db.session() as session:
        for name in (*TRAINED, *NOT_YET):
            team = Team(name=name, created_at=LONG_AGO)
            session.add(team)
            session.flush()
            world.teams[name] = team.id
            for number in (1, 2):
                person = Person(
                    platform="console",
                    platform_user_id=f"{name.lower()}{number}",
                    display_name=f"{name} {number}",
                    language="en",
                    timezone=TIMEZONE,
                    track_id="frontline",
                    team_id=team.id,
                    role=Role.LEARNER,
                    enrolled_at=LONG_AGO,
                    created_at=LONG_AGO,
                    updated_at=LONG_AGO,
                )
                session.add(person)
                session.flush()
                world.people[person.display_name] = person.id
        mia = Person(
            platform="console",
            platform_user_id="mia",
            display_name="Mia",
            language="en",
            timezone=TIMEZONE,
            role=Role.MANAGER,
            created_at=LONG_AGO,
            updated_at=LONG_AGO,
        )
        session.add(mia)
        session.flush()
        world.people["Mia"] = mia.id
        session.add(TeamManager(team_id=world.teams["North"], person_id=mia.id))

        for index, week in enumerate(WEEKS):
            start, _ = iso_week_window(week, TIMEZONE)
            sent = start + timedelta(hours=10)
            for name in (*TRAINED, *NOT_YET):
                for number in (1, 2):
                    person_id = world.people[f"{name} {number}"]
                    reads = number == 1 or (name in TRAINED and week >= TRAINING_WEEK)
                    session.add(
                        Delivery(
                            person_id=person_id,
                            kind=DeliveryKind.LESSON,
                            slot="daily",
                            local_date=(sent + timedelta(hours=8)).date(),
                            item_id=f"lesson-{index}",
                            language="en",
                            track_id="frontline",
                            team_id=world.teams[name],
                            status=DeliveryStatus.COMPLETED if reads else DeliveryStatus.SENT,
                            send_attempts=1,
                            claimed_at=sent,
                            sent_at=sent,
                        )
                    )
                    quiz = Delivery(
                        person_id=person_id,
                        kind=DeliveryKind.QUIZ,
                        slot="daily",
                        local_date=(sent + timedelta(hours=8)).date(),
                        item_id="q1",
                        language="en",
                        track_id="frontline",
                        team_id=world.teams[name],
                        status=DeliveryStatus.ANSWERED,
                        send_attempts=1,
                        claimed_at=sent,
                        sent_at=sent + timedelta(minutes=30),
                    )
                    session.add(quiz)
                    session.flush()
                    session.add(
                        Attempt(
                            person_id=person_id,
                            question_id="q1",
                            delivery_id=quiz.id,
                            chosen={"keys": ["a"]},
                            correct=reads,
                            first_try=True,
                            answered_at=sent + timedelta(hours=1),
                            team_id=world.teams[name],
                        )
                    )
        if kpis:
            for metric, series, unit, direction in (
                ("retention_30d", RETENTION, "%", "higher"),
                ("complaint_rate", COMPLAINTS, None, "lower"),
            ):
                for name, values in series.items():
                    for week, value in zip(WEEKS, values, strict=True):
                        session.add(
                            KpiValue(
                                team_id=world.teams[name],
                                week=week,
                                metric=metric,
                                value=float(value),
                                unit=unit,
                                direction=direction,
                                source="handbuilt.csv",
                                imported_at=IMPORTED,
                            )
                        )
    return world


def retention_csv(path: Path) -> Path:
    """The retention series as a KPI file, as an analyst would export it."""
    lines = ["team,week,metric,value,unit,direction"]
    for name, values in RETENTION.items():
        for week, value in zip(WEEKS, values, strict=True):
            lines.append(f"{name},{week},retention_30d,{value},%,higher")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
