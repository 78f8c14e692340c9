"""Privacy rights: export one person, forget them, and retention (docs/privacy.md).

Export then forget runs on SQLite and PostgreSQL: the export holds the person's data, and
afterwards their name and question texts are in no weekly report (chat, Markdown, JSON,
CSV, the Monday DM), no gap list and no export.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.memory import MemoryOutbound
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.events import ButtonPress, Command, Conversation
from bot.events import Person as EventPerson
from bot.gaps import content_gaps
from bot.learning import learner_states
from bot.library import CourseLibrary
from bot.privacy import (
    UnknownPerson,
    erase_person,
    erasure_preview,
    export_person,
    find_subject,
    purge_expired,
)
from bot.reports.metrics import WeeklySummary, build_summary
from bot.reports.render import chat_text, gap_digest, to_csv, to_json, to_markdown
from bot.reports.schedule import send_weekly_reports
from bot.scheduler import RETENTION_JOB, BotScheduler, Runtime
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import (
    AccessRequest,
    AccessStatus,
    ApplicationReport,
    AskedQuestion,
    Attempt,
    ConversationTurn,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Observer,
    Person,
    ProcessedEvent,
    ReviewState,
    SurveyResponse,
    TeamManager,
    TeamMembership,
)
from quizzes.content import Course
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT
from tests.reports.handbuilt import World, build, utc
from tests.test_cli import trainbot

NAME = "Bob Quillfeather"
QUESTION = "Where is the quillfeather archive kept?"
MONDAY_0900 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # W48, 09:00 in Shanghai


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(SAMPLE_CONTENT)


def _world(db: Database) -> World:
    """The hand-built fortnight; Bob gets a findable name, an email, a manager (Mia) and
    an unanswered question in W47 (a content gap)."""
    world = build(db)
    with db.session() as session:
        bob = session.get(Person, world.people["Bob"])
        assert bob is not None
        bob.display_name = NAME
        bob.email = "Bob.Q@example.com"
        bob.manager_id = world.people["Mia"]
        session.add(
            AskedQuestion(
                person_id=bob.id,
                team_id=world.teams["A"],
                text=QUESTION,
                language="en",
                answered=False,
                confidence=0.1,
                sources={"items": []},
                asked_at=utc("2026-11-18T05:00"),
            )
        )
        session.add(
            ConversationTurn(
                person_id=bob.id,
                conversation="console:bob",
                question=QUESTION,
                answer=None,
                asked_at=utc("2026-11-18T05:00"),
            )
        )
        session.add(
            ReviewState(
                person_id=bob.id,
                question_id="q4",
                card={"state": 2},
                due=utc("2026-11-20T00:00"),
                last_review=utc("2026-11-10T02:00"),
                reviews=1,
            )
        )
    return world


def _summary(db: Database, course: Course, team_ids: frozenset[int] | None) -> WeeklySummary:
    return build_summary(
        db,
        course,
        week="2026-W47",
        timezone="Asia/Shanghai",
        team_ids=team_ids,
        include_people=True,
        language="en",
        min_first_tries=2,
        now=MONDAY_0900,
    )


def _renderings(db: Database, course: Course, team_ids: frozenset[int] | None) -> str:
    summary = _summary(db, course, team_ids)
    return "\n".join(
        [
            chat_text(summary, "en"),
            to_markdown(summary, "en"),
            to_json(summary),
            to_csv(summary),
            gap_digest(summary, "en") or "",
        ]
    )


def _dispatcher(db: Database) -> Dispatcher:
    settings = load_settings(database_url=db.url, content_dir=SAMPLE_CONTENT, language="en")
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    return Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=FakeClock(MONDAY_0900),
        outbound={"console": MemoryOutbound(platform="console")},
    )


async def test_export_then_forget_leaves_no_trace(database: Database, course: Course) -> None:
    world = _world(database)
    team_a = frozenset({world.teams["A"], world.teams["A1"]})
    before = _summary(database, course, None)
    for scope in (None, team_a):  # the organisation, and Mia's Monday DM scope
        shown = _renderings(database, course, scope)
        assert NAME in shown and QUESTION in shown
    gaps = content_gaps(database, start=utc("2026-11-15T16:00"), end=utc("2026-11-22T16:00"))
    assert QUESTION in {group.question for group in gaps}

    with database.session() as session:
        bob = find_subject(session, "console:bob")
        exported = export_person(session, bob, now=MONDAY_0900)
    json.dumps(exported)  # the document is JSON as it is
    assert exported["person"]["display_name"] == NAME
    assert exported["person"]["team"] == "A"
    assert exported["person"]["manager"] == {
        "id": world.people["Mia"],
        "person": "console:mia",
        "name": "Mia",
    }
    assert [row["text"] for row in exported["asked_questions"]] == [QUESTION]
    assert [(row["question_id"], row["correct"]) for row in exported["attempts"]] == [("q4", True)]
    assert {row["status"] for row in exported["deliveries"]} == {"answered", "sent"}
    assert [row["question_id"] for row in exported["review_states"]] == ["q4"]
    assert [row["question"] for row in exported["conversation_turns"]] == [QUESTION]
    assert [(row["team"], row["since"][:10]) for row in exported["team_history"]] == [
        ("A", "2026-10-01")
    ]

    with database.session() as session:
        assert erasure_preview(session, world.people["Bob"]).as_dict() == {
            "deliveries": 2,
            "attempts": 1,
            "review_states": 1,
            "questions": 1,
            "conversation_turns": 1,
            "survey_responses": 0,
            "application_reports": 0,
            "observers": 0,
            "managed_teams": 0,
            "direct_reports": 0,
        }
        erased = erase_person(session, world.people["Bob"])
    assert erased is not None and erased.questions == 1 and erased.deliveries == 2
    with database.session() as session:
        left = session.scalar(
            select(func.count())
            .select_from(TeamMembership)
            .where(TeamMembership.person_id == world.people["Bob"])
        )
    assert left == 0

    for scope in (None, team_a):
        shown = _renderings(database, course, scope)
        assert NAME not in shown and QUESTION not in shown
    gaps = content_gaps(database, start=utc("2026-11-15T16:00"), end=utc("2026-11-22T16:00"))
    assert QUESTION not in {group.question for group in gaps} and "" not in {
        group.question for group in gaps
    }
    after = _summary(database, course, None)
    # The question stays an anonymous count; Bob's deliveries and answers are gone.
    assert after.questions.asked == before.questions.asked
    assert after.questions.unanswered == before.questions.unanswered
    assert after.total.this_week.enrolled == before.total.this_week.enrolled - 1
    assert after.total.this_week.quizzes_delivered == before.total.this_week.quizzes_delivered - 1

    dispatcher = _dispatcher(database)
    run = await send_weekly_reports(dispatcher)  # the Monday DM to Mia
    assert run.managers == 1
    outbound = dispatcher.outbound["console"]
    assert isinstance(outbound, MemoryOutbound)
    (to_mia,) = outbound.to("mia")
    assert "Weekly training summary — 2026-W47" in to_mia.text
    assert all(NAME not in sent.reply.text for sent in outbound.sent)

    with database.session() as session:
        with pytest.raises(UnknownPerson):
            find_subject(session, "console:bob")
        with pytest.raises(UnknownPerson):
            find_subject(session, "bob.q@example.com")
        mia = export_person(session, find_subject(session, "console:mia"), now=MONDAY_0900)
        assert NAME not in json.dumps(mia, ensure_ascii=False)
        assert mia["direct_reports"] == 0  # Bob named her; the link went with him
        left = session.scalars(select(AskedQuestion).where(AskedQuestion.text == "")).one()
        assert (left.person_id, left.answer, left.team_id) == (None, None, world.teams["A"])
        for model in (Delivery, Attempt, ReviewState, ConversationTurn):
            count = session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.person_id == world.people["Bob"])
            )
            assert count == 0, model
        assert erase_person(session, world.people["Bob"]) is None  # twice: nothing, no error


def test_forgetting_a_manager_ends_their_teams_and_their_reports_links(
    database: Database,
) -> None:
    world = _world(database)
    mia = world.people["Mia"]
    with database.session() as session:
        preview = erasure_preview(session, mia)
        assert (preview.managed_teams, preview.direct_reports) == (1, 1)
        erased = erase_person(session, mia)
        assert erased is not None and erased.managed_teams == 1
    with database.session() as session:
        assert session.scalars(select(TeamManager)).all() == []
        bob = session.get(Person, world.people["Bob"])
        assert bob is not None and bob.manager_id is None


def test_a_person_is_named_as_in_the_roster_or_by_id(sqlite_database: Database) -> None:
    world = _world(sqlite_database)
    bob = world.people["Bob"]
    with sqlite_database.session() as session:
        assert find_subject(session, "console:bob").id == bob
        assert find_subject(session, " CONSOLE:bob ").id == bob  # the platform in any case
        assert find_subject(session, "bob.q@EXAMPLE.com").id == bob
        assert find_subject(session, str(bob)).id == bob
        session.get(Person, world.people["Ann"]).email = "bob.q@example.com"  # type: ignore[union-attr]
        session.flush()
        with pytest.raises(UnknownPerson, match="2 people have the email"):
            find_subject(session, "bob.q@example.com")
        for reference, message in (
            ("console:nobody", "no person console:nobody"),
            ("999", "no person with id 999"),
            ("bob", "not a person reference"),
            ("whatsapp:1", "no person whatsapp:1"),
            (":1", "not a person reference"),
            ("²", "not a person reference"),
        ):
            with pytest.raises(UnknownPerson, match=message):
                find_subject(session, reference)


# -- retention ---------------------------------------------------------------------------

NOW = datetime(2027, 12, 1, 2, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=400)
RECENT = NOW - timedelta(days=10)


def _person(session: Session, user_id: str, *, enrolled: datetime | None) -> Person:
    person = Person(
        platform="console",
        platform_user_id=user_id,
        display_name=user_id.title(),
        language="en",
        timezone="Asia/Shanghai",
        track_id="frontline" if enrolled else None,
        enrolled_at=enrolled,
        created_at=OLD,
        updated_at=OLD,
    )
    session.add(person)
    session.flush()
    return person


def _history(db: Database) -> dict[str, int]:
    """An enrolled learner with a year-old and a recent history, and two people who only
    asked questions: one long ago, one recently."""
    ids: dict[str, int] = {}
    with db.session() as session:
        ann = _person(session, "ann", enrolled=OLD)
        asker = _person(session, "asker", enrolled=None)  # asked once, 400 days ago
        recent = _person(session, "recent", enrolled=None)  # asked 10 days ago
        ids.update(ann=ann.id, asker=asker.id, recent=recent.id)

        def deliver(kind: DeliveryKind, when: datetime, status: DeliveryStatus, item: str) -> int:
            row = Delivery(
                person_id=ann.id,
                kind=kind,
                slot=f"s-{item}",
                local_date=when.date(),
                item_id=item,
                status=status,
                claimed_at=when,
                sent_at=when,
                message_ref=f"ann:{item}",
                error="not confirmed" if kind is DeliveryKind.LESSON else None,
            )
            session.add(row)
            session.flush()
            return row.id

        old_quiz = deliver(DeliveryKind.QUIZ, OLD, DeliveryStatus.ANSWERED, "q-old")
        deliver(DeliveryKind.LESSON, OLD, DeliveryStatus.COMPLETED, "fl-01")
        deliver(DeliveryKind.LESSON, OLD, DeliveryStatus.FAILED, "fl-02")
        new_quiz = deliver(DeliveryKind.QUIZ, RECENT, DeliveryStatus.ANSWERED, "q-new")
        for delivery, when, question in ((old_quiz, OLD, "q-old"), (new_quiz, RECENT, "q-new")):
            session.add(
                Attempt(
                    person_id=ann.id,
                    question_id=question,
                    delivery_id=delivery,
                    chosen={"keys": ["a"]},
                    correct=True,
                    answered_at=when,
                )
            )
        session.add(ReviewState(person_id=ann.id, question_id="q-old", card={}, due=OLD, reviews=1))
        for who, when, text in (
            (ann, OLD, "an old question"),
            (asker, OLD, "a question long ago"),
            (recent, RECENT, "a recent question"),
        ):
            session.add(
                AskedQuestion(
                    person_id=who.id,
                    text=text,
                    language="en",
                    answered=True,
                    confidence=0.9,
                    answer="an answer",
                    sources={"items": []},
                    asked_at=when,
                )
            )
        session.add(ProcessedEvent(platform="slack", event_id="Ev-old", received_at=OLD))
        session.add(ProcessedEvent(platform="slack", event_id="Ev-new", received_at=RECENT))
        session.add(ProcessedEvent(platform="report", event_id="weekly-report:x", received_at=OLD))
    return ids


def _retention_scheduler(db: Database, days: int) -> BotScheduler:
    settings = load_settings(database_url=db.url, content_dir=SAMPLE_CONTENT, retention_days=days)
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    dispatcher = Dispatcher(
        db=db, library=library, settings=settings, clock=FakeClock(NOW), outbound={}
    )
    return BotScheduler(settings, Runtime(dispatcher=dispatcher, library=library, knowledge=None))


async def test_the_nightly_job_removes_what_is_older_than_the_retention(
    database: Database,
) -> None:
    ids = _history(database)
    scheduler = _retention_scheduler(database, 365)
    await scheduler.nightly_retention()
    with database.session() as session:
        questions = sorted(
            (row.text, row.answer, row.person_id) for row in session.scalars(select(AskedQuestion))
        )
        assert questions == [
            ("", None, None),
            ("", None, None),
            ("a recent question", "an answer", ids["recent"]),
        ]
        assert [row.question_id for row in session.scalars(select(Attempt))] == ["q-new"]
        kept = {row.item_id: row for row in session.scalars(select(Delivery))}
        # The year-old lesson stays as progress (else the track would start over), bare.
        assert set(kept) == {"fl-01", "q-new"}
        assert (kept["fl-01"].message_ref, kept["fl-01"].error) == (None, None)
        assert kept["q-new"].message_ref == "ann:q-new"
        assert [row.question_id for row in session.scalars(select(ReviewState))] == ["q-old"]
        events = {row.event_id for row in session.scalars(select(ProcessedEvent))}
        assert events == {"Ev-new", "weekly-report:x"}
        people = {row.platform_user_id for row in session.scalars(select(Person))}
        assert people == {"ann", "recent"}  # "asker" only asked, and long ago
        ann = session.get(Person, ids["ann"])
        assert ann is not None
        state = learner_states(session, [ann], NOW)[ann.id]
        assert state.delivered_lessons == ("fl-01",)

    # Run again the next night: nothing more goes.
    with database.session() as session:
        again = purge_expired(session, now=NOW, days=365)
        assert again is not None and again.total == 0


async def test_retention_zero_keeps_everything_and_registers_no_job(
    sqlite_database: Database,
) -> None:
    _history(sqlite_database)
    with sqlite_database.session() as session:
        assert purge_expired(session, now=NOW, days=0) is None
        assert len(session.scalars(select(Attempt)).all()) == 2
    off = _retention_scheduler(sqlite_database, 0)
    off.start(now=NOW)
    try:
        assert off.scheduler.get_job(RETENTION_JOB) is None
    finally:
        await off.stop()
    on = _retention_scheduler(sqlite_database, 365)
    on.start(now=NOW)
    try:
        job = on.scheduler.get_job(RETENTION_JOB)
        assert job is not None and str(job.trigger) == "cron[hour='3', minute='30']"
    finally:
        await on.stop()


def test_an_empty_retention_setting_means_forever(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINBOT_RETENTION_DAYS", "")
    assert load_settings().retention_days == 0
    monkeypatch.setenv("TRAINBOT_RETENTION_DAYS", "30")
    assert load_settings().retention_days == 30


# -- the command line --------------------------------------------------------------------


def test_users_export_forget_and_purge_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    db = Database(url)
    db.upgrade()
    _world(db)
    db.dispose()
    env = {"TRAINBOT_DATABASE_URL": url, "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT)}

    unknown = trainbot("users", "export", "slack:U0NOBODY", cwd=tmp_path, **env)
    assert unknown.returncode == 1
    assert unknown.stderr == "trainbot: no person slack:U0NOBODY in the store\n"

    out = tmp_path / "exports" / "bob.json"
    exported = trainbot(
        "users", "export", "bob.q@example.com", "--out", str(out), cwd=tmp_path, **env
    )
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600  # personal data: the owner's alone
    assert json.loads(out.read_text(encoding="utf-8"))["person"]["display_name"] == NAME

    declined = trainbot("users", "forget", "console:bob", cwd=tmp_path, stdin="n\n", **env)
    assert declined.returncode == 1 and "nothing erased" in declined.stdout
    assert "the text of 1 questions will be erased" in declined.stdout
    erased = trainbot("users", "forget", "console:bob", "--yes", cwd=tmp_path, **env)
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.endswith(f"erased console:bob ({NAME})\n")
    again = trainbot("users", "export", "console:bob", cwd=tmp_path, **env)
    assert again.returncode == 1 and again.stdout == ""

    purged = trainbot("users", "purge-expired", "--days", "1", cwd=tmp_path, **env)
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.startswith("retention 1 days: ")
    off = trainbot(
        "users", "purge-expired", cwd=tmp_path, **{**env, "TRAINBOT_RETENTION_DAYS": "0"}
    )
    assert off.stdout == "retention is off (TRAINBOT_RETENTION_DAYS=0): nothing removed\n"


# -- /forget pressed twice at once ---------------------------------------------------------


async def test_two_presses_of_yes_at_once_erase_once(database: Database, tmp_path: Path) -> None:
    settings = load_settings(
        database_url=database.url, content_dir=SAMPLE_CONTENT, index_dir=tmp_path / "index"
    )
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    bot = TrainBot(settings=settings, db=database, library=library, clock=FakeClock(NOW))
    ada = EventPerson("console", "ada", "Ada", "en")
    here = Conversation("console", "ada")
    await bot.handle(Command(ada, here, "start"))
    (confirm,) = await bot.handle(Command(ada, here, "forget"))
    yes = confirm.buttons[0][0]
    assert yes.label == "Yes, erase"
    press = ButtonPress(ada, here, yes.payload)
    try:
        replies = await asyncio.gather(*(bot.handle(press) for _ in range(4)))
    finally:
        await asyncio.to_thread(bot.close)
    texts = sorted(reply.text for (reply,) in replies)
    assert texts[0].startswith("Done: everything I stored about you has been erased.")
    assert all(text.startswith("There is nothing stored about you") for text in texts[1:])
    with database.session() as session:
        assert session.scalars(select(Person)).all() == []


def test_access_requests_are_exported_forgotten_and_expire(database: Database) -> None:
    """A request to be let in (approval mode) names its maker: it is theirs to see, goes
    with them, and does not outlive the retention window; roster people who have not
    pressed /start yet are not traces to clean up."""
    with database.session() as session:
        ann = _person(session, "ann", enrolled=OLD)
        waiting = _person(session, "waiting", enrolled=None)
        waiting.on_roster = True  # imported a year ago, never wrote to the bot
        for user_id, when, status in (
            ("ann", OLD, AccessStatus.APPROVED),
            ("stranger", OLD, AccessStatus.DENIED),
            ("newcomer", RECENT, AccessStatus.PENDING),
        ):
            session.add(
                AccessRequest(
                    platform="console",
                    platform_user_id=user_id,
                    display_name=user_id.title(),
                    language="en",
                    status=status,
                    requested_at=when,
                    decided_at=when if status is not AccessStatus.PENDING else None,
                )
            )
        session.flush()
        document = export_person(session, ann, now=NOW)
        assert [row["status"] for row in document["access_requests"]] == ["approved"]
        ann_id = ann.id
    with database.session() as session:
        purge = purge_expired(session, now=NOW, days=365)
        assert purge is not None and purge.access_requests == 2
        assert "2 access requests" in purge.summary()
    with database.session() as session:
        left = session.scalars(select(AccessRequest.platform_user_id)).all()
        assert left == ["newcomer"]
        people = set(session.scalars(select(Person.platform_user_id)).all())
        assert people == {"ann", "waiting"}
        session.add(
            AccessRequest(
                platform="console",
                platform_user_id="ann",
                display_name="Ann",
                language="en",
                status=AccessStatus.APPROVED,
                requested_at=RECENT,
                decided_at=RECENT,
            )
        )
    with database.session() as session:
        assert erase_person(session, ann_id) is not None
    with database.session() as session:
        assert session.scalars(select(AccessRequest.platform_user_id)).all() == ["newcomer"]


def test_conversation_turns_are_exported_forgotten_and_expire(database: Database) -> None:
    """The questions kept for follow-ups are personal data: in the export, gone with the
    person, and purged once past the follow-up window even when retention is longer."""
    with database.session() as session:
        ann = _person(session, "ann", enrolled=OLD)
        bea = _person(session, "bea", enrolled=OLD)
        for person, minutes_ago in ((ann, 3), (ann, 30), (bea, 3)):
            session.add(
                ConversationTurn(
                    person_id=person.id,
                    conversation=f"console:{person.platform_user_id}",
                    question=f"question {minutes_ago} minutes ago",
                    answer="an answer",
                    asked_at=NOW - timedelta(minutes=minutes_ago),
                )
            )
        session.flush()
        document = export_person(session, ann, now=NOW)
        assert [row["question"] for row in document["conversation_turns"]] == [
            "question 30 minutes ago",
            "question 3 minutes ago",
        ]
        ann_id = ann.id
    with database.session() as session:
        purge = purge_expired(session, now=NOW, days=365, followup_minutes=10)
        assert purge is not None and purge.conversation_turns == 1
        assert "1 conversation turns" in purge.summary()
        left = session.scalars(select(ConversationTurn.question)).all()
        assert sorted(left) == ["question 3 minutes ago", "question 3 minutes ago"]
    with database.session() as session:
        assert erasure_preview(session, ann_id).conversation_turns == 1
        erased = erase_person(session, ann_id)
        assert erased is not None and erased.conversation_turns == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ConversationTurn)) == 1


def test_survey_responses_are_exported_forgotten_and_expire(database: Database) -> None:
    """Ratings and comments are personal data: in the export, gone with the person, and
    purged once older than the retention window."""
    with database.session() as session:
        ann = _person(session, "ann", enrolled=OLD)
        for lesson_id, asked in (("fl-01", OLD), ("fl-02", NOW - timedelta(days=1))):
            delivery = Delivery(
                person_id=ann.id,
                kind=DeliveryKind.LESSON,
                slot="daily",
                local_date=asked.date(),
                item_id=lesson_id,
                status=DeliveryStatus.COMPLETED,
                claimed_at=asked,
            )
            session.add(delivery)
            session.flush()
            session.add(
                SurveyResponse(
                    person_id=ann.id,
                    delivery_id=delivery.id,
                    lesson_id=lesson_id,
                    track_id="frontline",
                    asked_on=asked.date(),
                    asked_at=asked,
                    rating=4,
                    rated_at=asked,
                    comment=f"comment on {lesson_id}",
                    commented_at=asked,
                )
            )
        session.flush()
        document = export_person(session, ann, now=NOW)
        assert [
            (row["lesson_id"], row["rating"], row["comment"])
            for row in document["survey_responses"]
        ] == [
            ("fl-01", 4, "comment on fl-01"),
            ("fl-02", 4, "comment on fl-02"),
        ]
        ann_id = ann.id
    with database.session() as session:
        purge = purge_expired(session, now=NOW, days=365)
        assert purge is not None and purge.survey_responses == 1
        assert "1 survey ratings" in purge.summary()
        assert session.scalars(select(SurveyResponse.lesson_id)).all() == ["fl-02"]
    with database.session() as session:
        assert erasure_preview(session, ann_id).survey_responses == 1
        erased = erase_person(session, ann_id)
        assert erased is not None and erased.survey_responses == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


def _level_two(db: Database) -> dict[str, int]:
    """Ann's check-in (with an example), her manager Mia's and her peer Pat's observations
    of her, and Pat's observation of Cat; Pat is named as Ann's and Cat's observer."""
    when = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    ids: dict[str, int] = {}
    with db.session() as session:
        for name in ("ann", "mia", "pat", "cat"):
            person = Person(
                platform="console",
                platform_user_id=name,
                display_name=name.title(),
                language="en",
                timezone="Asia/Shanghai",
                enrolled_at=when,
                created_at=when,
                updated_at=when,
            )
            session.add(person)
            session.flush()
            ids[name] = person.id
        session.get(Person, ids["ann"]).manager_id = ids["mia"]  # type: ignore[union-attr]
        for subject in ("ann", "cat"):
            session.add(Observer(subject_id=ids[subject], observer_id=ids["pat"], added_at=when))

        def push(person: str, kind: DeliveryKind, slot: str) -> int:
            delivery = Delivery(
                person_id=ids[person],
                kind=kind,
                slot=slot,
                local_date=when.date(),
                item_id="fl-01",
                status=DeliveryStatus.ANSWERED,
                claimed_at=when,
            )
            session.add(delivery)
            session.flush()
            return delivery.id

        for subject, observer, source, answer, example, kind in (
            ("ann", None, "self", "once", "I used it", DeliveryKind.CHECKIN),
            ("ann", "mia", "manager", "seen", None, DeliveryKind.OBSERVATION),
            ("ann", "pat", "peer", "unsure", "hard to tell", DeliveryKind.OBSERVATION),
            ("cat", "pat", "peer", "not_seen", None, DeliveryKind.OBSERVATION),
        ):
            who = observer or subject
            session.add(
                ApplicationReport(
                    subject_id=ids[subject],
                    observer_id=ids[observer] if observer else None,
                    source=source,
                    delivery_id=push(who, kind, f"x:{subject}:{who}"),
                    lesson_id="fl-01",
                    track_id="frontline",
                    answer=answer,
                    applied=None,
                    answered_at=when,
                    example=example,
                )
            )
    return ids


def _application_rows(db: Database) -> list[tuple[int, int]]:
    """(subject, observer) of each answer; observer 0 for the learner's own check-in."""
    with db.session() as session:
        return sorted(
            (subject, observer or 0)
            for subject, observer in session.execute(
                select(ApplicationReport.subject_id, ApplicationReport.observer_id)
            ).all()
        )


def test_level_two_is_exported_and_erased_as_subject_and_as_observer(database: Database) -> None:
    ids = _level_two(database)
    with database.session() as session:
        ann = session.get(Person, ids["ann"])
        pat = session.get(Person, ids["pat"])
        assert ann is not None and pat is not None
        mine = export_person(session, ann, now=MONDAY_0900)
        given = export_person(session, pat, now=MONDAY_0900)
    json.dumps(mine)
    about = mine["application_reports"]
    assert [(row["source"], row["answer"], row["example"]) for row in about] == [
        ("self", "once", "I used it"),
        ("manager", "seen", None),
        ("peer", "unsure", "hard to tell"),
    ]
    assert all("observer_id" not in row for row in about)  # who observed stays out
    assert (mine["observed_by_peers"], mine["observes_peers"]) == (1, 0)
    assert [row["answer"] for row in given["observations_given"]] == ["unsure", "not_seen"]
    assert all("subject_id" not in row for row in given["observations_given"])
    assert (given["observed_by_peers"], given["observes_peers"]) == (0, 2)

    with database.session() as session:
        preview = erasure_preview(session, ids["pat"])
        assert (preview.application_reports, preview.observers) == (2, 2)
        erased = erase_person(session, ids["pat"])
    assert erased is not None and erased.application_reports == 2 and erased.observers == 2
    assert _application_rows(database) == [(ids["ann"], 0), (ids["ann"], ids["mia"])]
    with database.session() as session:
        erased = erase_person(session, ids["ann"])
        assert erased is not None and erased.application_reports == 2
        assert session.scalars(select(Observer)).all() == []
    assert _application_rows(database) == []


def test_retention_removes_old_application_answers(database: Database) -> None:
    _level_two(database)
    with database.session() as session:
        purge = purge_expired(session, now=datetime(2027, 12, 1, tzinfo=UTC), days=365)
        assert purge is not None and purge.application_reports == 4
        assert "4 application answers" in purge.summary()
    assert _application_rows(database) == []
