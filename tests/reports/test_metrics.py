"""Every metric of the hand-built fortnight (tests/reports/handbuilt.py), worked out by hand.

Runs on SQLite and PostgreSQL (the ``database`` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.reports.access import teams_below
from bot.reports.metrics import Counts, WeeklySummary, build_summary
from bot.roster import import_roster
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryKind, DeliveryStatus, Person, PersonStatus
from quizzes.content import Course
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT
from tests.reports.handbuilt import WEEK, World, build

ZONE = "Asia/Shanghai"


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(SAMPLE_CONTENT)


@pytest.fixture
def world(database: Database) -> World:
    return build(database)


def summary(
    database: Database,
    course: Course,
    *,
    week: str = WEEK,
    team_ids: frozenset[int] | None = None,
    person_ids: frozenset[int] = frozenset(),
) -> WeeklySummary:
    return build_summary(
        database,
        course,
        week=week,
        timezone=ZONE,
        team_ids=team_ids,
        person_ids=person_ids,
        min_first_tries=2,
        now=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
    )


def test_the_window_is_monday_to_monday_in_the_org_zone(
    database: Database, course: Course, world: World
) -> None:
    made = summary(database, course)
    assert made.start == datetime(2026, 11, 15, 16, 0, tzinfo=UTC)
    assert made.end == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert made.previous_week == "2026-W46"


def test_organisation_totals(database: Database, course: Course, world: World) -> None:
    total = summary(database, course).total
    # Enrolled by the end of W47: Ann Bob Cid Dee Eve Gus = 6 (Fay joins after, Mia is not
    # enrolled). Active (an answer inside W47): Ann Cid Dee = 3.
    # Lessons: Ann's (read) + Cid's (unread) = 2 delivered, 1 completed.
    # Quizzes sent in W47: Ann 4 + Bob 1 + Cid 4 + Dee 2 + Eve 1 = 12; answered: 4+0+4+2+0 = 10
    # (Ann's 4th counts: sent Sunday 23:30 local, answered Monday 00:00 of W48).
    # Answers in W47: Ann 3 (2 right; her 4th is in W48), Cid 4 (3 right), Dee 2 (2 right) = 9, 7.
    # Pass: Ann 2/3 < 80% no; Cid 3/4 = 75% >= 75% yes; Dee 2/2 yes -> 2 of 3 assessed.
    assert total.this_week == Counts(
        enrolled=6,
        active=3,
        lessons_delivered=2,
        lessons_completed=1,
        quizzes_delivered=12,
        quizzes_answered=10,
        attempts=9,
        correct=7,
        assessed=3,
        passing=2,
        # Due: enrolled before W47 in a track that had lessons in W47 (frontline: Ann's;
        # managers: Cid's): Ann Bob Cid Dee Gus = 5 (Eve joined mid-week). Covered: Ann,
        # who read hers; Bob, Dee and Gus were sent none, Cid did not read his.
        due=5,
        covered=1,
    )
    # W46: enrolled Ann Bob Cid Dee Gus = 5. Quizzes: Ann (Sunday 23:59 local) + Bob + Dee
    # = 3 sent, 3 answered, 3 answers of which 2 right (Dee's wrong). Pass: Ann, Bob.
    assert total.last_week == Counts(
        enrolled=5,
        active=3,
        quizzes_delivered=3,
        quizzes_answered=3,
        attempts=3,
        correct=2,
        assessed=3,
        passing=2,
    )
    rates = total.this_week.rates()
    # Training coverage as the evaluation guide defines it: people who completed all the
    # week's required lessons / people due to attend: Ann of the 5 due.
    assert rates["coverage"] == pytest.approx(1 / 5)
    assert total.changes()["coverage"] is None  # no lesson in W46: nobody was due
    # Active rate, its own figure: people who answered / enrolled.
    assert rates["active_rate"] == pytest.approx(3 / 6)
    assert rates["completion"] == pytest.approx(10 / 12)
    assert rates["lesson_completion"] == pytest.approx(1 / 2)
    assert rates["accuracy"] == pytest.approx(7 / 9)
    assert rates["pass_rate"] == pytest.approx(2 / 3)
    changes = total.changes()
    assert changes["active_rate"] == pytest.approx(3 / 6 - 3 / 5)  # -10 pp
    assert changes["completion"] == pytest.approx(10 / 12 - 3 / 3)
    assert changes["accuracy"] == pytest.approx(7 / 9 - 2 / 3)
    assert changes["pass_rate"] == pytest.approx(0.0)
    assert changes["lesson_completion"] is None  # no lesson in W46: no rate to compare with


def test_teams_including_a_moved_person_and_an_empty_team(
    database: Database, course: Course, world: World
) -> None:
    made = summary(database, course)
    rows = {row.name: row for row in made.teams}
    assert set(rows) == {"A", "A1", "B", "Empty", "—"}
    # A: Ann + Bob. Quizzes 4 + 1 = 5 sent, 4 answered; answers 3, 2 right; Ann fails.
    assert rows["A"].this_week == Counts(
        enrolled=2,
        active=1,
        lessons_delivered=1,
        lessons_completed=1,
        quizzes_delivered=5,
        quizzes_answered=4,
        attempts=3,
        correct=2,
        assessed=1,
        passing=0,
        due=2,  # Ann and Bob (frontline had lessons); Ann read hers
        covered=1,
    )
    # Dee moved to B on Wednesday: her last W47 delivery was B's, so all her W47 work
    # (including Tuesday's, claimed while in A) is B's. In W46 she was in A.
    assert rows["B"].this_week == Counts(
        enrolled=2,
        active=1,
        quizzes_delivered=3,
        quizzes_answered=2,
        attempts=2,
        correct=2,
        assessed=1,
        passing=1,
        due=1,  # Dee (Eve joined mid-week)
    )
    assert rows["B"].last_week == Counts()  # Eve not yet enrolled, Dee counted in A
    assert rows["A"].last_week == Counts(
        enrolled=3,
        active=3,
        quizzes_delivered=3,
        quizzes_answered=3,
        attempts=3,
        correct=2,
        assessed=3,
        passing=2,
    )
    assert rows["A1"].this_week == Counts(
        enrolled=1,
        active=1,
        lessons_delivered=1,
        quizzes_delivered=4,
        quizzes_answered=4,
        attempts=4,
        correct=3,
        assessed=1,
        passing=1,
        due=1,
        covered=0,
    )
    assert rows["Empty"].this_week == Counts()
    assert rows["Empty"].this_week.rates() == dict.fromkeys(rows["Empty"].this_week.rates())
    assert rows["—"].this_week == Counts(enrolled=1, due=1)  # Gus
    assert rows["—"].this_week.active_rate == 0.0
    # Every person is counted in exactly one team.
    assert sum((row.this_week for row in made.teams), Counts()) == made.total.this_week


def test_tracks(database: Database, course: Course, world: World) -> None:
    rows = {row.key: row.this_week for row in summary(database, course).tracks}
    # frontline: Ann Bob Dee Eve Gus; answers Ann 3 (2) + Dee 2 (2); passing Dee only.
    assert rows["frontline"] == Counts(
        enrolled=5,
        active=2,
        lessons_delivered=1,
        lessons_completed=1,
        quizzes_delivered=8,
        quizzes_answered=6,
        attempts=5,
        correct=4,
        assessed=2,
        passing=1,
        due=4,  # Ann Bob Dee Gus (Eve joined mid-week)
        covered=1,
    )
    assert rows["managers"].passing == 1 and rows["managers"].enrolled == 1


def test_hardest_questions_by_first_try_accuracy(
    database: Database, course: Course, world: World
) -> None:
    made = summary(database, course)
    # First tries in W47: q1 Ann+Cid+Dee 3/3; q2 Ann(x)+Cid+Dee 2/3; q3 Ann+Cid(x) 1/2;
    # q5 Cid only (1 < 2 first tries: not ranked). Ann's W48 answer is not a first try.
    assert [(q.question_id, q.first_tries, q.first_try_correct) for q in made.hardest] == [
        ("q3", 2, 1),
        ("q2", 3, 2),
        ("q1", 3, 3),
    ]


def test_follow_up_and_people(database: Database, course: Course, world: World) -> None:
    made = summary(database, course)
    # Gus and Bob: no answer for 7+ days (Gus never); Eve joined mid-week, so not yet.
    # Ann: 2/3 below 80%. Worst accuracy first, then the silent, longest first.
    assert [(item.name, item.reason) for item in made.follow_up] == [
        ("Ann", "low_accuracy"),
        ("Gus", "inactive"),
        ("Bob", "inactive"),
    ]
    bob = next(item for item in made.follow_up if item.name == "Bob")
    assert bob.last_answer == datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    assert made.people is not None
    people = {person.name: person for person in made.people}
    assert set(people) == {"Ann", "Bob", "Cid", "Dee", "Eve", "Gus"}
    # Streaks at Sunday 23:59:59 local, over push days (working days the track is quizzed
    # on): Ann (frontline, Monday to Friday) answered that Sunday only, not a push day (0);
    # Cid (managers, quizzed Tuesday to Thursday) Wed..Sat: Wednesday and Thursday count,
    # Friday and Saturday are no push days, Tuesday was missed (2); Dee Tue and Thu, not
    # Friday (0).
    assert (people["Ann"].streak, people["Cid"].streak, people["Dee"].streak) == (0, 2, 0)
    assert people["Cid"].passed is True and people["Ann"].passed is False
    assert people["Eve"].passed is None and people["Eve"].quizzes_delivered == 1
    assert people["Dee"].team == "B"


def stored_with_unknown_zone(database: Database, person_id: int, zone: str) -> None:
    """As a store written before time zones were checked could hold it."""
    with database.session() as session:
        session.execute(
            text("UPDATE people SET timezone = :zone WHERE id = :id"),
            {"zone": zone, "id": person_id},
        )


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "America"])
def test_a_person_stored_with_an_unknown_time_zone_does_not_stop_the_report(
    database: Database,
    course: Course,
    world: World,
    zone: str,
) -> None:
    before = summary(database, course)
    stored_with_unknown_zone(database, world.people["Ann"], zone)
    made = summary(database, course)
    assert made.total == before.total and made.follow_up == before.follow_up
    assert made.people is not None
    people = {person.name: person for person in made.people}
    # Ann's days fall back to the organisation's zone, which was hers: the same streaks.
    assert before.people is not None
    assert {person.name: person.streak for person in before.people} == {
        name: person.streak for name, person in people.items()
    }
    assert (people["Ann"].streak, people["Cid"].streak, people["Dee"].streak) == (0, 2, 0)
    # (the warning is logged once per process: tests/reports/test_cli_report.py reads it)


def test_questions_and_helpfulness(database: Database, course: Course, world: World) -> None:
    made = summary(database, course)
    # W47: 3 asked (the 4th is Monday 00:00 of W48), 1 unanswered, 2 rated, 1 helpful.
    assert (made.questions.asked, made.questions.unanswered) == (3, 1)
    assert made.questions.helpfulness == pytest.approx(1 / 2)
    assert made.questions_last_week.helpfulness == 0.0  # one 👎 in W46


def test_a_manager_sees_their_team_and_the_teams_below(
    database: Database, course: Course, world: World
) -> None:
    with database.session() as session:
        scope = teams_below(session, [world.teams["A"]])
    assert scope == {world.teams["A"], world.teams["A1"]}
    made = summary(database, course, team_ids=scope)
    assert [row.name for row in made.teams] == ["A", "A1"]
    # Ann Bob (A) + Cid (A1): 3 enrolled, 2 active; answers 3 + 4 = 7, right 2 + 3 = 5.
    assert made.total.this_week == Counts(
        enrolled=3,
        active=2,
        lessons_delivered=2,
        lessons_completed=1,
        quizzes_delivered=9,
        quizzes_answered=8,
        attempts=7,
        correct=5,
        assessed=2,
        passing=1,
        due=3,  # Ann Bob Cid
        covered=1,
    )
    # W46: Ann Bob Dee (then in A) + Cid = 4 enrolled, 3 active.
    assert made.total.last_week.enrolled == 4 and made.total.last_week.active == 3
    assert made.people is not None
    assert {person.name for person in made.people} == {"Ann", "Bob", "Cid"}
    assert [(item.name, item.reason) for item in made.follow_up] == [
        ("Ann", "low_accuracy"),
        ("Bob", "inactive"),
    ]
    # Within A and A1: q2 Ann(x)+Cid 1/2 and q3 Ann+Cid(x) 1/2 tie (by id), q1 2/2.
    assert [q.question_id for q in made.hardest] == ["q2", "q3", "q1"]
    assert made.questions.asked == 2  # A's questions only


def test_a_manager_also_sees_direct_reports_in_other_teams(
    database: Database, course: Course, world: World
) -> None:
    with database.session() as session:
        teams = teams_below(session, [world.teams["A"]])
    dee, ann = world.people["Dee"], world.people["Ann"]
    # Dee (in B this week) reports to the manager; Ann is in A anyway: counted once.
    made = summary(database, course, team_ids=teams, person_ids=frozenset({dee, ann}))

    assert made.scope == "A, A1, 1 direct report(s)"
    assert [row.name for row in made.teams] == ["A", "A1", "B"]
    (team_b,) = [row for row in made.teams if row.name == "B"]
    assert (team_b.this_week.enrolled, team_b.this_week.attempts) == (1, 2)  # Dee, not Eve
    # A and A1 as above plus Dee: 4 enrolled, 3 active, 9 + 2 answers, 5 + 2 right.
    total = made.total.this_week
    assert (total.enrolled, total.active, total.attempts, total.correct) == (4, 3, 9, 7)
    assert (total.quizzes_delivered, total.quizzes_answered) == (11, 10)
    # W46: Dee was in A then, so she is in the team count already; nobody twice.
    assert made.total.last_week.enrolled == 4
    assert made.people is not None
    assert sorted(person.name for person in made.people) == ["Ann", "Bob", "Cid", "Dee"]


def test_a_manager_with_direct_reports_only(
    database: Database, course: Course, world: World
) -> None:
    made = summary(
        database, course, team_ids=frozenset(), person_ids=frozenset({world.people["Dee"]})
    )
    assert made.scope == "1 direct report(s)"
    assert made.total.this_week.enrolled == 1 and made.total.this_week.attempts == 2
    assert made.people is not None and [person.name for person in made.people] == ["Dee"]
    assert made.questions.asked == 0  # B's question was not hers
    assert made.gaps == []


def test_a_removed_person_is_in_no_report(database: Database, course: Course, world: World) -> None:
    with database.session() as session:
        ann = session.get(Person, world.people["Ann"])
        assert ann is not None
        ann.status = PersonStatus.REMOVED
    made = summary(database, course)
    assert made.total.this_week.enrolled == 5 and made.total.last_week.enrolled == 4
    assert made.total.this_week.active == 2  # Cid and Dee
    assert "Ann" not in {item.name for item in made.follow_up}
    with database.session() as session:
        teams = teams_below(session, [world.teams["A"]])
    mine = summary(database, course, team_ids=teams)
    assert mine.people is not None and "Ann" not in {person.name for person in mine.people}


def test_an_empty_team_alone_has_no_rates(database: Database, course: Course, world: World) -> None:
    made = summary(database, course, team_ids=frozenset({world.teams["Empty"]}))
    assert made.total.this_week == Counts()
    assert all(value is None for value in made.total.this_week.rates().values())
    assert made.follow_up == [] and made.hardest == []


def test_a_week_with_no_activity(database: Database, course: Course, world: World) -> None:
    made = summary(database, course, week="2026-W50")
    now = made.total.this_week
    # Everyone enrolled by then (Fay too) = 7, nobody active.
    assert (now.enrolled, now.active, now.attempts) == (7, 0, 0)
    # Nothing sent and nobody due (no lesson that week): no rate, not 0% (a blackout week
    # read as everyone having skipped).
    assert now.active_rate is None and now.coverage is None
    assert now.completion is None and now.accuracy is None and now.pass_rate is None
    assert made.hardest == []
    assert len(made.follow_up) == 7 and {item.reason for item in made.follow_up} == {"inactive"}


def test_an_empty_store(database: Database, course: Course) -> None:
    made = summary(database, course)
    assert made.total.this_week == Counts() and made.teams == []
    assert made.total.this_week.coverage is None


def test_questions_the_bot_could_not_answer(
    database: Database, course: Course, world: World
) -> None:
    made = summary(database, course)
    # W47: the same question unanswered once (team B) and answered but 👎 once (team A);
    # the 👍 one is no gap, the W46 and W48 ones are outside the week.
    assert made.gaps is not None
    assert [(gap.question, gap.count, gap.unanswered, gap.thumbs_down) for gap in made.gaps] == [
        ("How do we win back churned users?", 2, 1, 1)
    ]
    with database.session() as session:
        only_b = teams_below(session, [world.teams["B"]])
    scoped = summary(database, course, team_ids=only_b)
    assert scoped.gaps is not None
    assert [(gap.count, gap.unanswered, gap.thumbs_down) for gap in scoped.gaps] == [(1, 1, 0)]


def test_coverage_counts_only_people_who_read_every_lesson_sent_to_them(
    database: Database, course: Course, world: World
) -> None:
    """The evaluation guide's 培训覆盖率: all required lessons completed / due to attend."""
    with database.session() as session:
        for day, status in (("2026-11-16T01:00", "completed"), ("2026-11-18T01:00", "sent")):
            # Dee: two lessons in W47, the second never read: due, not covered.
            session.add(
                Delivery(
                    person_id=world.people["Dee"],
                    kind=DeliveryKind.LESSON,
                    slot=f"extra-{day}",
                    local_date=datetime.fromisoformat(day).date(),
                    item_id="lesson-x",
                    language="en",
                    track_id="frontline",
                    team_id=world.teams["B"],
                    status=DeliveryStatus(status),
                    send_attempts=1,
                    claimed_at=datetime.fromisoformat(day).replace(tzinfo=UTC),
                    sent_at=datetime.fromisoformat(day).replace(tzinfo=UTC),
                )
            )
    now = summary(database, course).total.this_week
    # Due: in a track with lessons in W47 since before it: Ann Bob Cid Dee Gus (Eve joined
    # on Wednesday). Covered: Ann only (Dee left one unread; Bob and Gus were sent none,
    # as when they paused with /stop).
    assert (now.due, now.covered) == (5, 1)
    assert now.coverage == pytest.approx(1 / 5)
    # The active rate is its own figure: Ann, Cid, Dee answered, of 6 enrolled.
    assert now.active_rate == pytest.approx(3 / 6)


def test_a_team_formed_mid_week_by_a_roster_import_shows_its_peoples_whole_week(
    database: Database, course: Course, world: World, tmp_path: Path
) -> None:
    """Gus (no team, nothing done) and Bob (team A) are put into a new team "Night" by a
    roster import on Thursday of W47. Bob's W47 quiz was sent Monday, stamped with team A;
    the week is Night's all the same, and W46 (Bob's answer) stays with A."""
    with database.session() as session:
        bob = session.get(Person, world.people["Bob"])
        assert bob is not None
        session.add(
            Delivery(
                person_id=world.people["Gus"],
                kind=DeliveryKind.QUIZ,
                slot="daily",
                local_date=datetime(2026, 11, 17).date(),
                item_id="q1",
                team_id=None,
                status=DeliveryStatus.SENT,
                claimed_at=datetime(2026, 11, 17, 1, 0, tzinfo=UTC),
                sent_at=datetime(2026, 11, 17, 1, 0, tzinfo=UTC),
            )
        )
    roster = tmp_path / "roster.csv"
    roster.write_text("platform,user_id,name,team\nconsole,gus,Gus,Night\nconsole,bob,Bob,Night\n")
    report = import_roster(
        database,
        roster,
        course=course,
        now=datetime(2026, 11, 19, 2, 0, tzinfo=UTC),
        default_language="en",
        default_timezone=ZONE,
    )
    assert (report.updated, report.problems) == (2, [])
    made = summary(database, course)
    rows = {row.name: row for row in made.teams}
    assert rows["Night"].this_week.enrolled == 2
    assert rows["Night"].this_week.quizzes_delivered == 2  # Bob's Monday quiz, Gus's Tuesday
    assert rows["A"].this_week.enrolled == 1  # Ann only
    assert rows["—"].this_week.enrolled == 0  # Gus is no longer teamless this week
    before = {row.name: row for row in summary(database, course, week="2026-W46").teams}
    assert before["A"].this_week.enrolled == 3  # Ann, Bob and Dee (Fay was not yet in)
    assert before["Night"].this_week.enrolled == 0
    # A's manager no longer sees Bob this week; the team's new manager scope would.
    scoped = summary(database, course, team_ids=frozenset({world.teams["A"]}))
    assert {row.name for row in scoped.teams} == {"A"}
    assert scoped.teams[0].this_week.enrolled == 1


def test_in_a_week_in_progress_silence_is_counted_back_from_now(
    database: Database, course: Course, world: World
) -> None:
    """Bob last answered on Tuesday 10 November (W46) at 10:00 Shanghai and nothing in W47.
    On Monday evening of W47 that is under 7 days: not on the list; by Wednesday it is.
    Gus never answered: listed both times."""

    def listed(now: datetime) -> set[str]:
        made = build_summary(database, course, week=WEEK, timezone=ZONE, min_first_tries=2, now=now)
        assert made.in_progress
        return {item.name for item in made.follow_up if item.reason == "inactive"}

    assert listed(datetime(2026, 11, 16, 12, 0, tzinfo=UTC)) == {"Gus"}
    assert listed(datetime(2026, 11, 18, 3, 0, tzinfo=UTC)) == {"Bob", "Gus"}


def test_the_report_cut_by_region_counts_the_regions_people_alone(
    database: Database, course: Course, world: World
) -> None:
    """Ann (team A) and Cid (team A1) work in Kuala Lumpur: the cut counts them alone, lists
    only their teams, and names the region in the scope."""
    from bot.errors import TrainbotError
    from bot.reports.export import summary_for

    with database.session() as session:
        for name in ("Ann", "Cid"):
            session.get(Person, world.people[name]).region = "kuala-lumpur"  # type: ignore[union-attr]
    made = build_summary(
        database,
        course,
        week=WEEK,
        timezone=ZONE,
        min_first_tries=2,
        now=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        region="kuala-lumpur",
    )
    # Ann: 1 lesson (read), 4 quizzes all answered (the 4th in W48), 3 answers, 2 right,
    # fails (2/3 < 80%). Cid: 1 lesson (unread), 4 quizzes, 4 answers, 3 right, passes.
    assert made.total.this_week == Counts(
        enrolled=2,
        active=2,
        lessons_delivered=2,
        lessons_completed=1,
        quizzes_delivered=8,
        quizzes_answered=8,
        attempts=7,
        correct=5,
        assessed=2,
        passing=1,
        due=2,
        covered=1,
    )
    # W46: Ann's one right answer (Bob and Dee are not in the region).
    assert made.total.last_week == Counts(
        enrolled=2, active=1, quizzes_delivered=1, quizzes_answered=1, attempts=1, correct=1,
        assessed=1, passing=1,
    )  # fmt: skip
    assert [row.name for row in made.teams] == ["A", "A1"]  # not B, Empty or no team
    assert made.scope == "Whole organisation, region kuala-lumpur"
    assert made.questions.asked == 0  # the region's people asked nothing
    with pytest.raises(TrainbotError, match=r"nobody is in region 'penang' \(regions: kuala"):
        summary_for(
            database,
            course,
            week=WEEK,
            team=None,
            timezone=ZONE,
            now=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
            language="en",
            include_people=False,
            region="penang",
        )
