"""Satisfaction surveys (level 1 of docs/evaluation.md): a one-tap rating after a lesson.

When a learner completes a lesson (presses "Got it" or "Quiz me" under it), the bot may
ask how useful it was, 1 to 5, and after the track's last lesson how useful the track was.
The track's ``survey`` rule in tracks.yaml says after which lessons (:class:`SurveyRule`).
Two rules hold whatever the track says:

- **One prompt a day.** A person gets at most one survey prompt per local day: the store's
  survey rows are unique per person and local date, so two lessons completed on one day
  (or two processes racing) give one prompt. A day the person got an application
  check-in (:mod:`bot.checkins`) is a day without a survey prompt, and the other way
  round: one feedback question a day in all.
- **Never in quiet hours.** A lesson completed inside the person's quiet hours is not
  followed by a prompt, and the prompt is **skipped**, not deferred: a rating asked hours
  later, in a push of its own, is about a lesson the person has moved on from.

A rating is recorded once (a second tap changes nothing and says so). After rating, a
free-text reply to the survey message is its comment (a later reply replaces it).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import checkins
from bot.events import Button, Reply
from bot.i18n import t
from bot.payloads import RATINGS, SurveyRating
from bot.people import zone_of
from bot.settings import QuietHours
from bot.store.models import Delivery, DeliveryKind, DeliveryStatus, Person, SurveyResponse
from quizzes.content import Course

logger = logging.getLogger(__name__)

COMMENT_CHARS = 2000
"""The longest comment kept (longer replies are cut, not refused)."""


def stars(rating: int) -> str:
    """A rating as the person saw it on its button (``⭐4``)."""
    return f"⭐{rating}"


def offer(
    session: Session,
    course: Course,
    person: Person,
    delivery: Delivery,
    *,
    now: datetime,
    quiet: QuietHours | None,
    fallback_timezone: str,
) -> Reply | None:
    """The survey prompt after ``delivery`` (a lesson just completed), or ``None``.

    ``None`` when the track does not ask after this lesson, when it is the person's quiet
    hours, or when they already had a survey prompt today (their local day). The survey
    row is inserted here, so the prompt's buttons name it.

    Args:
        session: the open session (the caller's transaction, which completed the lesson).
        course: the course, for the track's rule and the lesson's title.
        person: the learner.
        delivery: the lesson delivery, already marked completed.
        now: the moment.
        quiet: the quiet-hours window, if any.
        fallback_timezone: the organisation's zone, for a person whose own is unknown.
    """
    if delivery.kind is not DeliveryKind.LESSON or not delivery.item_id:
        return None
    track_id = delivery.track_id or person.track_id
    track = course.tracks.get(track_id or "")
    if track is None:
        return None
    lesson_ids = course.lesson_ids(track.id)
    last = bool(lesson_ids) and lesson_ids[-1] == delivery.item_id
    completed = _lessons_completed(session, person.id, lesson_ids)
    if not track.survey.asks_after(completed, last=last):
        return None
    local = now.astimezone(zone_of(person.timezone, fallback_timezone, owner=f"person {person.id}"))
    if quiet is not None and quiet.contains(local.time()):
        logger.debug("survey for person %s skipped: quiet hours", person.id)
        return None
    if checkins.checked_in_on(session, person.id, local.date()):
        # One feedback prompt a day: today's was the application check-in.
        return None
    survey_id = _claim(
        session,
        {
            "person_id": person.id,
            "delivery_id": delivery.id,
            "lesson_id": delivery.item_id,
            "track_id": track.id,
            "team_id": person.team_id,
            "end_of_track": last and track.survey.end_of_track,
            "asked_on": local.date(),
            "asked_at": now,
        },
    )
    if survey_id is None:  # a prompt already went out today, or for this delivery
        return None
    language = person.language
    if last and track.survey.end_of_track:
        text = t(language, "survey_ask_track", track=track.title.get(language))
    else:
        lesson = course.lesson(delivery.item_id, delivery.language or language, person.region)
        title = lesson.title if lesson is not None else delivery.item_id
        text = t(language, "survey_ask_lesson", lesson=title)
    buttons = tuple(
        Button(stars(rating), SurveyRating(survey_id, rating).encode()) for rating in RATINGS
    )
    return Reply(text, buttons=(buttons,))


def _lessons_completed(session: Session, person_id: int, lesson_ids: list[str]) -> int:
    """How many different lessons of the track the person has completed (this one too)."""
    if not lesson_ids:
        return 0
    return int(
        session.scalar(
            select(func.count(func.distinct(Delivery.item_id))).where(
                Delivery.person_id == person_id,
                Delivery.kind == DeliveryKind.LESSON,
                Delivery.status == DeliveryStatus.COMPLETED,
                Delivery.item_id.in_(lesson_ids),
            )
        )
        or 0
    )


def _claim(session: Session, row: dict[str, object]) -> int | None:
    """Insert a survey row unless one exists for the person's day or the delivery."""
    session.flush()  # the lesson's completion first, so a failure here cannot lose it
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # No conflict target: either unique key (person and day, or delivery) means no prompt.
    statement = insert(SurveyResponse).values(row).on_conflict_do_nothing()
    inserted = session.execute(statement.returning(SurveyResponse.id)).scalar()
    return None if inserted is None else int(inserted)


class Rated(StrEnum):
    """What a tap on a rating did."""

    RECORDED = "recorded"
    ALREADY = "already"
    NOT_YOURS = "not_yours"
    STALE = "stale"


@dataclass(frozen=True)
class RatingOutcome:
    """The outcome of a tap, and the rating stored (the first tap's, on a double tap)."""

    outcome: Rated
    rating: int | None = None


def rate(
    session: Session,
    person: Person | None,
    payload: SurveyRating,
    *,
    now: datetime,
    message_ref: str | None,
) -> RatingOutcome:
    """Record a rating once.

    The update only sets a rating that is still empty, in one statement, so two taps
    racing each other (two processes, a double click) store exactly the first one.

    Args:
        session: the open session.
        person: who tapped (``None`` when not stored).
        payload: the survey and the rating tapped.
        now: the moment.
        message_ref: the platform reference of the survey message, so a reply to it can
            be read as the comment.
    """
    survey = session.get(SurveyResponse, payload.survey_id)
    if survey is None or person is None:
        return RatingOutcome(Rated.STALE)
    if survey.person_id != person.id:
        return RatingOutcome(Rated.NOT_YOURS)
    changed = session.execute(  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
        update(SurveyResponse)
        .where(SurveyResponse.id == survey.id, SurveyResponse.rating.is_(None))
        .values(rating=payload.rating, rated_at=now, message_ref=message_ref)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(survey)
    if changed == 1:
        return RatingOutcome(Rated.RECORDED, payload.rating)
    return RatingOutcome(Rated.ALREADY, survey.rating)


def comment(
    session: Session, person: Person, *, reply_to: str, text: str, now: datetime
) -> SurveyResponse | None:
    """Store ``text`` as the comment of the person's rated survey whose message is ``reply_to``.

    Returns:
        The survey commented on, or ``None`` when ``reply_to`` is no survey message of
        theirs (then the text is an ordinary message).
    """
    survey = session.scalars(
        select(SurveyResponse)
        .where(
            SurveyResponse.person_id == person.id,
            SurveyResponse.message_ref == reply_to,
            SurveyResponse.rating.is_not(None),
        )
        .order_by(SurveyResponse.id.desc())
        .limit(1)
    ).first()
    if survey is None:
        return None
    survey.comment = text.strip()[:COMMENT_CHARS]
    survey.commented_at = now
    return survey


def comments_by_lesson(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    team_ids: Collection[int] | None = None,
) -> dict[str, list[str]]:
    """The survey comments by lesson id, oldest first: what
    :func:`bot.evaluation.words.analyse_lessons` reads.

    A comment on an end-of-track survey is about the whole track; it is still filed under
    the last lesson, whose survey asked it.

    Args:
        session: an open session.
        since: only comments written at or after this moment.
        until: only comments written before this moment.
        team_ids: only comments of people asked while in these teams (``None``: all).
    """
    query = select(SurveyResponse.lesson_id, SurveyResponse.comment).where(
        SurveyResponse.comment.is_not(None)
    )
    if since is not None:
        query = query.where(SurveyResponse.commented_at >= since)
    if until is not None:
        query = query.where(SurveyResponse.commented_at < until)
    if team_ids is not None:
        query = query.where(SurveyResponse.team_id.in_(sorted(team_ids)))
    found: dict[str, list[str]] = {}
    for lesson_id, text in session.execute(
        query.order_by(SurveyResponse.commented_at, SurveyResponse.id)
    ).all():
        if text and text.strip():
            found.setdefault(lesson_id, []).append(text)
    return found
