"""Campaigns: a lesson or quiz pushed now to a track or team, through the same claims.

The CLI has no connection to Slack or Telegram; it writes the claims, dated so that the
running bot's next dispatch tick takes them over as ready to send (the same path as a
claim left by a crash). Re-running the same campaign claims nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from bot.learning import claim_many, learner_states, local_date
from bot.store.db import Database
from bot.store.models import DeliveryKind, DeliveryStatus, Person, PersonStatus, Team
from quizzes.content import Course
from quizzes.selection import next_quiz


@dataclass
class CampaignReport:
    """What a campaign claimed."""

    campaign: str
    people: int
    claimed: int
    nothing_to_send: int


def push_campaign(
    db: Database,
    course: Course,
    *,
    now: datetime,
    name: str,
    track: str | None = None,
    team: str | None = None,
    lesson: str | None = None,
    admitted: ColumnElement[bool] | None = None,
) -> CampaignReport:
    """Claim a campaign for everyone active and enrolled in ``track`` or ``team``.

    Args:
        name: the campaign's id; the same name never sends twice to one person per day.
        lesson: a lesson id to push; ``None`` pushes each person's next quiz item.
        admitted: who may get it, ``bot.admission.admitted_people(settings)``;
            ``None``: everyone active.

    Raises:
        ValueError: for an unknown track, team or lesson.
    """
    if (track is None) == (team is None):
        raise ValueError("choose exactly one of --track and --team")
    if track is not None and track not in course.tracks:
        raise ValueError(f"unknown track {track!r}")
    if lesson is not None and course.lesson(lesson, "zh") is None:
        raise ValueError(f"unknown lesson {lesson!r}")
    slot = f"campaign:{name}"
    with db.session() as session:
        query = select(Person).where(
            Person.status == PersonStatus.ACTIVE,
            Person.enrolled_at.is_not(None),
            Person.enrollment_step.is_(None),
        )
        if admitted is not None:
            query = query.where(admitted)
        if track is not None:
            query = query.where(Person.track_id == track)
        else:
            found = session.scalars(select(Team).where(Team.name == team)).one_or_none()
            if found is None:
                raise ValueError(f"unknown team {team!r}")
            query = query.where(Person.team_id == found.id)
        people = list(session.scalars(query).all())
        states = learner_states(session, people, now) if lesson is None else {}
        rows = []
        empty = 0
        for person in people:
            item = lesson
            if item is None:
                pick = next_quiz(course, states[person.id], now)
                item = pick.item_id if pick is not None and pick.kind == "quiz" else None
            if item is None:
                empty += 1
                continue
            rows.append(
                {
                    "person_id": person.id,
                    "kind": DeliveryKind.LESSON if lesson else DeliveryKind.QUIZ,
                    "slot": slot,
                    "local_date": local_date(person, now),
                    "item_id": item,
                    "language": person.language,
                    "track_id": person.track_id,
                    "team_id": person.team_id,
                    "status": DeliveryStatus.CLAIMED,
                    "send_attempts": 0,
                    "claimed_at": now,
                    # A claim nobody holds, its lease already over: the next dispatch
                    # pass of any bot process takes it over and sends it.
                    "lease_owner": None,
                    "lease_expires_at": now,
                }
            )
        claimed = claim_many(session, rows)
    return CampaignReport(slot, len(people), len(claimed), empty)
