"""Keeping the course up: content due for review and the practice rules' firings.

Two things a trainer acts on that are not about one week's learners:

- **content due for review** (:mod:`quizzes.freshness`): lessons, questions and materials
  reviewed longer ago than ``TRAINBOT_REVIEW_MONTHS``, or changed since their review;
- **practice rules** (:mod:`bot.practice`): the rules that fired on weak lessons, with the
  evidence, and for earlier firings how their targets have done on the lesson since.

The trainers' Monday digest ends with both, and the weekly report has a section for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from bot.i18n import t
from bot.practice import Effect, effects
from bot.reports.render import percent
from bot.store.models import PracticeFiring
from quizzes.content import Course
from quizzes.freshness import ReviewDue, review_due

logger = logging.getLogger(__name__)

SHOWN = 5
"""Items due for review the digest names (the rest are counted)."""
EFFECT_WEEKS = 13
"""How far back the practice rules' firings are shown (a quarter)."""


@dataclass
class Upkeep:
    """What the trainers should look after, as of a day."""

    due: list[ReviewDue] = field(default_factory=list)
    review_months: int = 6
    firings: list[Effect] = field(default_factory=list)
    week_start: datetime | None = None
    course: Course | None = None  # for the lessons' titles

    @property
    def empty(self) -> bool:
        """Whether there is nothing to say."""
        return not self.due and not self.firings


def upkeep(
    session: Session,
    course: Course,
    root: Path,
    *,
    today: date,
    review_months: int,
    week_start: datetime,
    week_end: datetime,
) -> Upkeep:
    """Content due for review on ``today``, and the practice rules fired in the last
    quarter up to the week's end (the week's own firings marked as new)."""
    due, problems = review_due(course, root, today=today, months=review_months)
    for problem in problems:
        logger.warning("review dates: %s", problem)
    firings = effects(session, course, since=week_end - timedelta(weeks=EFFECT_WEEKS), now=week_end)
    return Upkeep(due, review_months, firings, week_start, course)


def practice_notice(firing: PracticeFiring, course: Course, language: str, timezone: str) -> str:
    """The trainers' notice that a practice rule fired, with its evidence, in ``language``."""
    from zoneinfo import ZoneInfo

    track = course.tracks.get(firing.track_id)
    lesson = course.lesson(firing.lesson_id, language)
    rule = (
        next((rule for rule in track.practice if rule.id == firing.rule_id), None)
        if track
        else None
    )
    days = rule.window_days if rule is not None else "?"
    until = firing.until.astimezone(ZoneInfo(timezone))
    return t(
        language,
        "practice_notice",
        rule=firing.rule_id,
        track=track.title.get(language) if track is not None else firing.track_id,
        lesson=lesson.title if lesson is not None else firing.lesson_id,
        accuracy=percent(firing.accuracy),
        answers=firing.answers,
        days=days,
        mark=percent(firing.mark),
        until=f"{until:%Y-%m-%d}",
        people=firing.people,
    )


def upkeep_lines(found: Upkeep, language: str) -> list[str]:
    """The upkeep as chat lines (the digest) in ``language``; empty when nothing is due."""
    lines: list[str] = []
    if found.firings:
        lines.append(t(language, "upkeep_practice_title"))
        for effect in found.firings:
            firing = effect.firing
            lesson = found.course.lesson(firing.lesson_id, language) if found.course else None
            title = lesson.title if lesson is not None else firing.lesson_id
            new = found.week_start is not None and firing.fired_at >= found.week_start
            lines.append(
                "- "
                + t(
                    language,
                    "upkeep_practice_line",
                    lesson=title,
                    day=f"{firing.fired_at:%Y-%m-%d}",
                    accuracy=percent(firing.accuracy),
                    answers=firing.answers,
                    mark=percent(firing.mark),
                    people=firing.people,
                    before=percent(effect.before),
                    after=percent(effect.after),
                    after_n=effect.answers_after,
                )
                + (t(language, "upkeep_new") if new else "")
            )
    if found.due:
        if lines:
            lines.append("")
        lines.append(
            t(language, "upkeep_review_title", count=len(found.due), months=found.review_months)
        )
        for entry in found.due[:SHOWN]:
            if entry.changed:
                why = t(language, "upkeep_review_changed", day=entry.reviewed)
            elif entry.reviewed is None:
                why = t(language, "upkeep_review_never")
            else:
                why = t(language, "upkeep_review_old", day=entry.reviewed)
            lines.append(f"- {entry.path}: {entry.label} — {why}")
        if len(found.due) > SHOWN:
            lines.append(t(language, "upkeep_review_more", count=len(found.due) - SHOWN))
        lines.append(t(language, "upkeep_review_how"))
    return lines


__all__ = ["EFFECT_WEEKS", "SHOWN", "Upkeep", "upkeep", "upkeep_lines"]
