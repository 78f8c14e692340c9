"""Practice rules: a weak lesson fires at the boundary, once a cycle, for the people below
the mark, whose next quizzes drill it first; the effect afterwards is counted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.learning import learner_states
from bot.library import check_course
from bot.practice import cycle_start, effects, run_rules
from bot.store.db import Database
from bot.store.models import Attempt, Person, PracticeFiring, PracticeTarget
from quizzes.content import Course
from quizzes.selection import next_quiz
from tests.conftest import SAMPLE_CONTENT

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


@pytest.fixture(scope="module")
def course() -> Course:
    found, problems = check_course(SAMPLE_CONTENT)
    assert found is not None, problems
    rule = found.tracks["frontline"].practice[0]
    assert (rule.id, rule.below, rule.window_days, rule.min_answers, rule.cycle_days) == (
        "weak-lesson",
        0.7,
        91,
        20,
        28,
    )
    return found


def people(session, count: int) -> list[Person]:  # type: ignore[no-untyped-def]
    made = [
        Person(
            platform="console",
            platform_user_id=f"p{index}",
            display_name=f"P{index}",
            track_id="frontline",
            enrolled_at=NOW - timedelta(days=100),
            created_at=NOW - timedelta(days=100),
            updated_at=NOW - timedelta(days=100),
        )
        for index in range(count)
    ]
    session.add_all(made)
    session.flush()
    return made


def first_tries(
    session, person: Person, lesson: str, right: int, wrong: int, when: datetime
) -> None:  # type: ignore[no-untyped-def]
    """First answers to the lesson's questions q1, q2, … : ``right`` correct, then wrong."""
    for index in range(right + wrong):
        session.add(
            Attempt(
                person_id=person.id,
                question_id=f"{lesson}-q{index + 1}",
                chosen={"keys": ["A"]},
                correct=index < right,
                first_try=True,
                answered_at=when,
                track_id="frontline",
            )
        )


def weak_lesson(session, *, right_total: int, answers: int = 20) -> list[Person]:  # type: ignore[no-untyped-def]
    """Four people with five first tries each on fl-03 (20 answers), ``right_total`` right."""
    group = people(session, answers // 5)
    left = right_total
    for person in group:
        right = min(5, left)
        left -= right
        first_tries(session, person, "fl-03", right, 5 - right, NOW - timedelta(days=10))
    return group


@pytest.mark.parametrize(("right", "fires"), [(14, False), (13, True)])
def test_a_rule_fires_below_the_mark_and_not_at_it(
    course: Course, database: Database, right: int, fires: bool
) -> None:
    """14 of 20 is 70%, at the mark: no firing. 13 of 20 (65%) fires."""
    with database.session() as session:
        weak_lesson(session, right_total=right)
        fired = run_rules(session, course, now=NOW, zone=SHANGHAI)
    assert [(f.lesson_id, f.answers) for f in fired] == ([("fl-03", 20)] if fires else [])


def test_too_few_answers_fire_nothing(course: Course, sqlite_database: Database) -> None:
    with sqlite_database.session() as session:
        weak_lesson(session, right_total=0, answers=15)  # 0% but on 15 answers (< 20)
        assert run_rules(session, course, now=NOW, zone=SHANGHAI) == []


def test_answers_outside_the_window_do_not_count(course: Course, sqlite_database: Database) -> None:
    with sqlite_database.session() as session:
        for person in people(session, 4):
            first_tries(session, person, "fl-03", 0, 5, NOW - timedelta(days=92))
        assert run_rules(session, course, now=NOW, zone=SHANGHAI) == []


def test_a_rule_fires_once_a_cycle_for_the_people_below_the_mark(
    course: Course, database: Database
) -> None:
    """Answers: P0 5/5, P1 5/5, P2 2/5, P3 0/5 = 12/20 (60%). Targets: P2 and P3."""
    with database.session() as session:
        group = weak_lesson(session, right_total=12)
        (fired,) = run_rules(session, course, now=NOW, zone=SHANGHAI)
        assert (fired.rule_id, fired.accuracy, fired.people) == ("weak-lesson", 0.6, 2)
        targets = session.execute(
            select(PracticeTarget.person_id, PracticeTarget.correct_before).order_by(
                PracticeTarget.person_id
            )
        ).all()
        assert targets == [(group[2].id, 2), (group[3].id, 0)]
        # The same day, a day later, and by a second process: no second firing this cycle.
        assert run_rules(session, course, now=NOW + timedelta(hours=1), zone=SHANGHAI) == []
    with database.session() as other:
        later = NOW + timedelta(days=1)
        assert run_rules(other, course, now=later, zone=SHANGHAI) == []
        assert other.scalar(select(func.count()).select_from(PracticeFiring)) == 1
    cycle = cycle_start(date(2026, 12, 7), 28)
    next_cycle = datetime.combine(cycle + timedelta(days=28), datetime.min.time(), SHANGHAI)
    with database.session() as session:
        again = run_rules(session, course, now=next_cycle + timedelta(hours=10), zone=SHANGHAI)
        assert [f.lesson_id for f in again] == ["fl-03"]


def test_the_drill_comes_first_for_the_targets_only_while_the_cycle_lasts(
    course: Course, sqlite_database: Database
) -> None:
    with sqlite_database.session() as session:
        group = weak_lesson(session, right_total=12)
        run_rules(session, course, now=NOW, zone=SHANGHAI)
        later = NOW + timedelta(days=1)
        states = learner_states(session, group, later, fallback_timezone="Asia/Shanghai")
        for person in group[:2]:  # at or above the mark: their usual next quiz
            pick = next_quiz(course, states[person.id], later)
            assert pick is None or pick.reason != "drill"
        target = group[3]
        pick = next_quiz(course, states[target.id], later)
        assert pick is not None and (pick.reason, pick.item_id) == ("drill", "fl-03-q1")
        # Answered since the rule fired: the next drill question comes.
        session.add(
            Attempt(
                person_id=target.id,
                question_id="fl-03-q1",
                chosen={"keys": ["A"]},
                correct=True,
                first_try=False,
                answered_at=later,
                track_id="frontline",
            )
        )
        session.flush()
        state = learner_states(session, [target], later, fallback_timezone="Asia/Shanghai")
        pick = next_quiz(course, state[target.id], later)
        assert pick is not None and (pick.reason, pick.item_id) == ("drill", "fl-03-q2")
        # After the cycle, no more drill.
        ended = NOW + timedelta(days=29)
        state = learner_states(session, [target], ended, fallback_timezone="Asia/Shanghai")
        pick = next_quiz(course, state[target.id], ended)
        assert pick is None or pick.reason != "drill"


def test_the_effect_compares_the_targets_before_and_after(
    course: Course, sqlite_database: Database
) -> None:
    """Targets P2 (2/5) and P3 (0/5): 2 of 10 before. After: 4 of 5 answers right."""
    with sqlite_database.session() as session:
        group = weak_lesson(session, right_total=12)
        run_rules(session, course, now=NOW, zone=SHANGHAI)
        for index, correct in enumerate([True, True, False, True, True]):
            session.add(
                Attempt(
                    person_id=group[2 + index % 2].id,
                    question_id=f"fl-03-q{index + 1}",
                    chosen={"keys": ["A"]},
                    correct=correct,
                    first_try=False,
                    answered_at=NOW + timedelta(days=2),
                    track_id="frontline",
                )
            )
        # Someone else's answers and another lesson's do not count.
        first_tries(session, group[0], "fl-04", 0, 3, NOW + timedelta(days=2))
        (effect,) = effects(
            session, course, since=NOW - timedelta(days=7), now=NOW + timedelta(days=3)
        )
    assert (effect.correct_before, effect.answers_before) == (2, 10)
    assert (effect.correct_after, effect.answers_after) == (4, 5)
    assert (effect.before, effect.after) == (0.2, 0.8)


def test_a_persons_variants_and_drill_are_exported_and_erased_with_them(
    course: Course, database: Database
) -> None:
    """Personal data of issue 17's features: which A/B variant someone got and the drill a
    practice rule gave them go with their export and their erasure."""
    from bot.privacy import erase_person, export_person
    from bot.store.models import ExperimentAssignment

    with database.session() as session:
        group = weak_lesson(session, right_total=12)
        run_rules(session, course, now=NOW, zone=SHANGHAI)
        target = group[3]
        session.add(
            ExperimentAssignment(
                experiment_id="quiz-time",
                person_id=target.id,
                variant="afternoon",
                stratum="frontline",
                position=0,
                assigned_at=NOW,
            )
        )
        session.flush()
        target_id = target.id
        exported = export_person(session, target, now=NOW)
        assert [row["variant"] for row in exported["experiment_assignments"]] == ["afternoon"]
        assert [row["answers_before"] for row in exported["practice_targets"]] == [5]
        erase_person(session, target_id)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ExperimentAssignment)) == 0
        left = session.scalars(select(PracticeTarget.person_id)).all()
        assert target_id not in left and len(left) == 1  # the other target stays


async def test_the_trainers_digest_shows_rules_fired_and_content_due_for_review(
    course: Course, tmp_path: Path
) -> None:
    """Monday's digest to a trainer: the rule that fired in the week with its evidence and
    the targets' accuracy since, and the lesson whose review is older than six months."""
    import shutil

    from adapters.memory import MemoryOutbound
    from bot.clock import FakeClock
    from bot.dispatcher import Dispatcher
    from bot.library import CourseLibrary
    from bot.reports.schedule import send_weekly_reports
    from bot.settings import load_settings
    from bot.store.models import Role
    from tests.conftest import SAMPLE_CONTENT

    content = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, content)
    lesson_file = content / "lessons" / "mg-02.en.md"
    lesson_file.write_text(
        lesson_file.read_text(encoding="utf-8").replace(
            "reviewed: 2026-11-16", "reviewed: 2026-05-01"
        ),
        encoding="utf-8",
    )
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.upgrade()
    with db.session() as session:
        weak_lesson(session, right_total=12)
        session.add(
            Person(
                platform="console",
                platform_user_id="tom",
                display_name="Tom",
                language="en",
                role=Role.LEARNER,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        run_rules(session, course, now=NOW, zone=SHANGHAI)  # Monday 2026-12-07, 10:00
    monday = NOW + timedelta(days=7)  # the next Monday: 2026-W50's digest
    settings = load_settings(
        database_url=db.url,
        content_dir=content,
        language="en",
        timezone="Asia/Shanghai",
        embeddings="none:lexicon",
        admins=["console:tom"],
    )
    library = CourseLibrary(content)
    assert library.reload() == []
    outbound = MemoryOutbound(platform="console")
    dispatcher = Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=FakeClock(monday),
        outbound={"console": outbound},
    )
    await send_weekly_reports(dispatcher)
    (digest,) = outbound.to("tom")
    assert "**Practice rules fired**" in digest.text
    assert (
        "- Six ways to improve retention: fired 2026-12-07, first-try accuracy 60% on 20 answers "
        "(mark 70%); drill for 2 people — their accuracy before 20%, since — (0 answers) "
        "(new this week)"
    ) in digest.text
    assert "**Due for review: 1** (reviewed more than 6 months ago" in digest.text
    assert "- lessons/mg-02.en.md: lesson mg-02 (en) — last reviewed 2026-05-01" in digest.text
    assert "trainbot content reviewed ID" in digest.text
    db.dispose()
    # The weekly report (the trainers' file) has the same section: a rule fired in a past
    # week (the command refuses weeks to come).
    from tests.test_cli import trainbot

    past = Database(f"sqlite:///{tmp_path / 'past.db'}")
    past.upgrade()
    fired_at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday of 2026-W48
    with past.session() as session:
        for person in people(session, 4):
            first_tries(session, person, "fl-03", 2, 3, fired_at - timedelta(days=3))
        run_rules(session, course, now=fired_at, zone=SHANGHAI)
    past.dispose()
    report = trainbot(
        "report",
        "--db",
        str(tmp_path / "past.db"),
        "--week",
        "2026-W48",
        "--format",
        "md",
        cwd=tmp_path,
        TRAINBOT_CONTENT_DIR=str(content),
        TRAINBOT_LANGUAGE="en",
        TRAINBOT_EMBEDDINGS="none:lexicon",
    )
    assert report.returncode == 0, report.stderr
    assert "## Keeping the course up" in report.stdout
    assert "Six ways to improve retention: fired 2026" in report.stdout
    assert "(new this week)" in report.stdout


async def test_the_trainers_hear_at_once_when_a_rule_fires_once_each_in_their_language(
    database: Database,
) -> None:
    """The nightly practice job fires the rule and tells each trainer (TRAINBOT_ADMINS) with
    the evidence, in their language; a second run, a second process, or the next night
    sends nothing more; a failed send is tried again by the retry job."""
    from adapters.memory import MemoryOutbound
    from bot.clock import FakeClock
    from bot.dispatcher import Dispatcher
    from bot.library import CourseLibrary
    from bot.reports.schedule import retry_unsent_reports
    from bot.scheduler import BotScheduler, Runtime
    from bot.settings import load_settings
    from bot.store.models import Delivery, DeliveryKind, DeliveryStatus

    with database.session() as session:
        weak_lesson(session, right_total=12)  # 60% on 20 answers; P2 and P3 below the mark
        for user_id, language in (("tom", "en"), ("lan", "zh")):
            session.add(
                Person(
                    platform="console",
                    platform_user_id=user_id,
                    display_name=user_id.title(),
                    language=language,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    settings = load_settings(
        database_url=database.url,
        content_dir=SAMPLE_CONTENT,
        timezone="Asia/Shanghai",
        embeddings="none:lexicon",
        admins=["console:tom", "console:lan"],
    )
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    clock = FakeClock(NOW - timedelta(hours=6, minutes=15))  # 03:45 in Shanghai
    outbound = MemoryOutbound(platform="console", fail_next=3)  # a try (3 sends) fails

    def scheduler() -> BotScheduler:
        dispatcher = Dispatcher(
            db=database,
            library=library,
            settings=settings,
            clock=clock,
            outbound={"console": outbound},
        )
        return BotScheduler(
            settings, Runtime(dispatcher=dispatcher, library=library, knowledge=None)
        )

    first, second = scheduler(), scheduler()  # two processes on one store
    await first.practice_rules()
    outbound.fail_next = 3  # and the second process's try of it fails too
    await second.practice_rules()
    sent = {chat: [reply.text for reply in outbound.to(chat)] for chat in ("tom", "lan")}
    # One trainer's notice failed twice (the second process took over the released try).
    assert sorted(len(texts) for texts in sent.values()) == [0, 1]
    clock.advance(timedelta(minutes=10))  # the failed try's lease has run out
    await retry_unsent_reports(first.runtime.dispatcher)
    clock.advance(timedelta(days=1))
    await first.practice_rules()  # the next night: the same cycle, nothing new
    (english,) = outbound.to("tom")
    (chinese,) = outbound.to("lan")
    assert english.text == (
        "📉 **A practice rule fired** (weak-lesson, track Frontline operations): «Six ways to "
        "improve retention» had a first-try accuracy of 60% on 20 answers over the last 91 "
        "days, below the mark of 70%.\nUntil 2027-01-04, the 2 people below the mark get its "
        "questions first in their daily quizzes (same number of quizzes a day). The weekly "
        "digest shows how they do on it afterwards."
    )
    assert chinese.text.startswith("📉 **练习规则已触发**（weak-lesson，轨道 ")
    assert "首答正确率为 60%（20 次作答），低于合格线 70%" in chinese.text
    assert "低于合格线的 2 人" in chinese.text
    with database.session() as session:
        rows = session.execute(
            select(Delivery.status, Delivery.send_attempts, Delivery.slot, Delivery.item_id).where(
                Delivery.kind == DeliveryKind.REPORT
            )
        ).all()
        firing_id = session.scalars(select(PracticeFiring.id)).one()
    assert sorted((status, tries) for status, tries, _, _ in rows) == [
        (DeliveryStatus.SENT, 1),
        (DeliveryStatus.SENT, 3),
    ]
    assert {(slot, item) for _, _, slot, item in rows} == {(f"practice:{firing_id}", "fl-03")}
