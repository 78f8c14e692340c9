"""A/B tests: the file checked by line, assignment stable and balanced, outcomes by hand,
the tests against published reference results, and the report in both languages."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import stats
from bot.experiments import (
    assign,
    assign_all,
    balance,
    block_order,
    evaluate,
    render,
    verdicts,
)
from bot.library import check_course
from bot.store.db import Database
from bot.store.models import (
    Application,
    ApplicationReport,
    Attempt,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    ObserverRole,
    Person,
    Team,
)
from quizzes.content import Course, Experiment
from tests.conftest import SAMPLE_CONTENT
from tests.test_cli import trainbot

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)

EXPERIMENTS = """\
experiments:
  - id: quiz-time
    title: {zh: 上午还是下午测验, en: Morning or afternoon quiz}
    hypothesis: {zh: 下午不忙时答题更用心。, en: People answer with more care after the morning rush.}
    population: {tracks: [frontline]}
    form: push_time
    variants:
      - id: morning
        push_time: "09:30"
      - id: afternoon
        push_time: "15:00"
    outcome: first_try_accuracy
    lessons: [fl-03, fl-04]
    after_days: 7
    start: 2026-12-07
    end: 2027-01-31
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, root)
    (root / "experiments.yaml").write_text(EXPERIMENTS, encoding="utf-8")
    return root


def course_of(root: Path) -> Course:
    course, problems = check_course(root)
    assert course is not None, problems
    return course


def experiment_of(root: Path, name: str = "quiz-time") -> Experiment:
    return course_of(root).experiments[name]


def problems_of(root: Path, text: str) -> list[str]:
    (root / "experiments.yaml").write_text(text, encoding="utf-8")
    course, problems = check_course(root)
    assert course is None
    return [f"{problem.path}:{problem.line}: {problem.message}" for problem in problems]


def test_a_malformed_experiment_is_named_by_file_and_line(content: Path) -> None:
    assert problems_of(content, EXPERIMENTS.replace("end: 2027-01-31", "end: 2026-11-30")) == [
        "experiments.yaml:2: end 2026-11-30 is before start 2026-12-07"
    ]
    assert problems_of(
        content, EXPERIMENTS.replace('        push_time: "15:00"', "        retention: 0.8")
    ) == [
        "experiments.yaml:7: variants: variant afternoon: the variants of an experiment on "
        "push_time set push_time and nothing else"
    ]
    assert problems_of(
        content, EXPERIMENTS.replace('push_time: "15:00"', 'push_time: "09:30"')
    ) == ["experiments.yaml:7: variants: two variants set the same push_time: nothing would differ"]
    assert problems_of(content, EXPERIMENTS.replace("tracks: [frontline]", "tracks: [sales]")) == [
        "experiments.yaml:5: unknown track 'sales'"
    ]
    assert problems_of(content, EXPERIMENTS.replace("fl-04]", "fl-99]")) == [
        "experiments.yaml:13: unknown lesson 'fl-99'"
    ]
    twice = EXPERIMENTS + EXPERIMENTS.split("experiments:\n", 1)[1]
    assert problems_of(content, twice) == [
        "experiments.yaml:17: duplicate experiment id 'quiz-time' (first defined at "
        "experiments.yaml:2)"
    ]


def make_people(session, count: int, *, track: str = "frontline", team: Team | None = None):  # type: ignore[no-untyped-def]
    people = []
    for index in range(count):
        person = Person(
            platform="console",
            platform_user_id=f"{track}-{team.name if team else 'x'}-{index}",
            display_name=f"P{index}",
            track_id=track,
            team=team,
            enrolled_at=NOW - timedelta(days=30, minutes=index),
            created_at=NOW - timedelta(days=30),
            updated_at=NOW - timedelta(days=30),
        )
        session.add(person)
        people.append(person)
    session.flush()
    return people


def test_assignment_is_stable_balanced_and_reproducible(content: Path, database: Database) -> None:
    experiment = experiment_of(content)
    with database.session() as session:
        people = make_people(session, 21)
        managers = make_people(session, 3, track="managers")
        first = [assign(session, experiment, p, now=NOW, today=NOW.date()) for p in people]
        assert [assign(session, experiment, p, now=NOW, today=NOW.date()) for p in managers] == [
            None
        ] * 3  # not in the population: no assignment
    with database.session() as session:
        again = [
            assign(session, experiment, session.get(Person, p.id), now=NOW, today=NOW.date())
            for p in people
        ]
    assert again == first  # recorded: the same variant every time
    counts = Counter(first)
    assert set(counts) == {"morning", "afternoon"}
    assert abs(counts["morning"] - counts["afternoon"]) <= 1
    # Each block of four holds each variant twice, in the order its seed gives.
    expected = [block_order(experiment, "frontline", block) for block in range(6)]
    assert first == [variant for block in expected for variant in block][:21]
    with database.session() as session:
        assert balance(session, experiment) == {
            "morning": counts["morning"],
            "afternoon": counts["afternoon"],
        }


def test_nobody_is_assigned_outside_the_dates(content: Path, sqlite_database: Database) -> None:
    experiment = experiment_of(content)
    with sqlite_database.session() as session:
        (person,) = make_people(session, 1)
        assert assign(session, experiment, person, now=NOW, today=date(2026, 12, 6)) is None
        assert assign(session, experiment, person, now=NOW, today=date(2027, 2, 1)) is None
        assert assign(session, experiment, person, now=NOW, today=date(2027, 1, 31)) is not None


def test_a_team_experiment_assigns_whole_teams(content: Path, sqlite_database: Database) -> None:
    (content / "experiments.yaml").write_text(
        EXPERIMENTS.replace("    form: push_time", "    unit: team\n    form: push_time"),
        encoding="utf-8",
    )
    experiment = experiment_of(content)
    with sqlite_database.session() as session:
        teams = [Team(name=f"T{index}", created_at=NOW) for index in range(4)]
        session.add_all(teams)
        session.flush()
        people = [person for team in teams for person in make_people(session, 3, team=team)]
        loner = make_people(session, 1)[0]
        variants = {
            person.id: assign(session, experiment, person, now=NOW, today=NOW.date())
            for person in people
        }
        assert assign(session, experiment, loner, now=NOW, today=NOW.date()) is None
        for team in teams:
            assert len({variants[p.id] for p in people if p.team_id == team.id}) == 1
        assert balance(session, experiment) == {"morning": 2, "afternoon": 2}


def answer(session, person: Person, question: str, correct: bool, when: datetime) -> None:  # type: ignore[no-untyped-def]
    session.add(
        Attempt(
            person_id=person.id,
            question_id=question,
            chosen={"keys": ["A"]},
            correct=correct,
            first_try=True,
            answered_at=when,
            track_id=person.track_id,
        )
    )


def test_first_try_accuracy_per_variant_worked_out_by_hand(
    content: Path, database: Database
) -> None:
    """Four people per arm. Counted: first tries on fl-03/fl-04 questions from 7 days after
    assignment to the end. Not counted: a try on day 6, a question of fl-01, a second try.

    morning: 1/2, 2/2, 0/1, 1/1 -> mean (0.5 + 1 + 0 + 1) / 4 = 0.625
    afternoon:   2/2, 1/1, 1/1, 2/2 -> mean 1.0
    Welch: control values [0.5, 1, 0, 1], variant [1, 1, 1, 1] (no spread on one side).
    """
    experiment = experiment_of(content)
    start = NOW + timedelta(days=7)
    with database.session() as session:
        people = make_people(session, 8)
        arms: dict[str, list[Person]] = {"morning": [], "afternoon": []}
        for person in people:
            variant = assign(session, experiment, person, now=NOW, today=NOW.date())
            assert variant is not None
            arms[variant].append(person)
        assert [len(arms["morning"]), len(arms["afternoon"])] == [4, 4]
        plan = {
            "morning": [(True, False), (True, True), (False,), (True,)],
            "afternoon": [(True, True), (True,), (True,), (True, True)],
        }
        for variant, people_of in arms.items():
            for person, answers in zip(people_of, plan[variant], strict=True):
                for index, correct in enumerate(answers):
                    answer(
                        session, person, f"fl-0{3 + index}-q1", correct, start + timedelta(hours=1)
                    )
                # Not counted: before day 7, another lesson's question, a second try.
                answer(session, person, "fl-03-q2", False, start - timedelta(hours=1))
                answer(session, person, "fl-01-q1", False, start + timedelta(hours=2))
                session.add(
                    Attempt(
                        person_id=person.id,
                        question_id="fl-03-q3",
                        chosen={"keys": ["B"]},
                        correct=False,
                        first_try=False,
                        answered_at=start + timedelta(hours=3),
                        track_id="frontline",
                    )
                )
    with database.session() as session:
        result = evaluate(
            session, course_of(content), experiment, today=date(2026, 12, 20), zone=SHANGHAI
        )
    control, variant = result.variants
    assert (control.id, control.assigned, control.measured) == ("morning", 4, 4)
    assert control.value == pytest.approx(0.625)
    assert (variant.measured, variant.value) == (4, pytest.approx(1.0))
    (arm,) = result.comparisons
    assert arm.comparison is not None
    assert arm.comparison.difference == pytest.approx(0.375)
    reference = stats.compare_means([0.5, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0])
    assert reference is not None
    assert arm.comparison.p_value == pytest.approx(reference.p_value)
    assert arm.adjusted_p == pytest.approx(reference.p_value)  # one comparison: unadjusted
    (verdict,) = verdicts(result)
    assert verdict.kind == "not_yet"
    assert verdict.values["have"] == 4 and verdict.values["needed"] > 4


def test_an_application_experiment_counts_people_with_an_answer_either_way(
    content: Path, sqlite_database: Database
) -> None:
    """applying / answered: a 'not relevant' answer is no evidence and is left out."""
    (content / "experiments.yaml").write_text(
        EXPERIMENTS.replace("outcome: first_try_accuracy", "outcome: application"),
        encoding="utf-8",
    )
    experiment = experiment_of(content)
    with sqlite_database.session() as session:
        people = make_people(session, 8)
        arms: dict[str, list[Person]] = {"morning": [], "afternoon": []}
        for person in people:
            arms[str(assign(session, experiment, person, now=NOW, today=NOW.date()))].append(person)
        answers = {
            "morning": [Application.ONCE, Application.NOT_YET, Application.NOT_RELEVANT, None],
            "afternoon": [Application.SEVERAL, Application.ONCE, Application.NOT_YET, None],
        }
        for variant, people_of in arms.items():
            for person, given in zip(people_of, answers[variant], strict=True):
                if given is None:
                    continue
                delivery = Delivery(
                    person_id=person.id,
                    kind=DeliveryKind.CHECKIN,
                    local_date=date(2026, 12, 21),
                    item_id="fl-03",
                    status=DeliveryStatus.ANSWERED,
                    claimed_at=NOW,
                )
                session.add(delivery)
                session.flush()
                from bot.store.models import APPLIED

                session.add(
                    ApplicationReport(
                        subject_id=person.id,
                        source=ObserverRole.SELF,
                        delivery_id=delivery.id,
                        lesson_id="fl-03",
                        answer=given,
                        applied=APPLIED[given],
                        answered_at=NOW + timedelta(days=14),
                    )
                )
    with sqlite_database.session() as session:
        result = evaluate(
            session, course_of(content), experiment, today=date(2026, 12, 22), zone=SHANGHAI
        )
    control, variant = result.variants
    assert (control.measured, control.successes) == (2, 1)  # once / not yet
    assert (variant.measured, variant.successes) == (3, 2)  # several, once / not yet
    (arm,) = result.comparisons
    assert arm.comparison is not None and arm.comparison.test == "fisher"
    assert arm.comparison.difference == pytest.approx(2 / 3 - 1 / 2)


def test_the_tests_match_published_reference_results() -> None:
    """Welch's t-test on R's sleep data (t.test(extra ~ group, data = sleep)): p = 0.07939,
    95% interval -3.3654832 to 0.2054832. Fisher's tea tasting: two-sided p = 0.4857.
    Newcombe (1998), 56/70 vs 48/80: interval 0.0524 to 0.3339. Wilson, 81/263:
    0.2553 to 0.3662. Two proportions 0.5 vs 0.6 at alpha 0.05 and power 0.8: 388 each."""
    group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    welch = stats.compare_means(group2, group1)
    assert welch is not None
    assert welch.p_value == pytest.approx(0.07939, abs=5e-6)
    assert (welch.interval.low, welch.interval.high) == (
        pytest.approx(-3.3654832, abs=1e-6),
        pytest.approx(0.2054832, abs=1e-6),
    )
    tea = stats.compare_proportions((3, 4), (1, 4))
    assert tea is not None and tea.p_value == pytest.approx(0.4857, abs=1e-4)
    newcombe = stats.compare_proportions((48, 80), (56, 70))
    assert newcombe is not None
    assert (newcombe.interval.low, newcombe.interval.high) == (
        pytest.approx(0.0524, abs=1e-4),
        pytest.approx(0.3339, abs=1e-4),
    )
    wilson = stats.wilson(81, 263)
    assert wilson is not None
    assert (wilson.low, wilson.high) == (
        pytest.approx(0.2553, abs=1e-4),
        pytest.approx(0.3662, abs=1e-4),
    )
    assert stats.sample_size_proportions(0.5, 0.6) == 388
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_the_report_reads_in_both_languages(content: Path, sqlite_database: Database) -> None:
    experiment = experiment_of(content)
    course = course_of(content)
    with sqlite_database.session() as session:
        assign_all(session, experiment, now=NOW, today=NOW.date())
        for person in make_people(session, 8):
            assign(session, experiment, person, now=NOW, today=NOW.date())
        result = evaluate(session, course, experiment, today=date(2026, 12, 20), zone=SHANGHAI)
    english = render(result, "en", course=course)
    chinese = render(result, "zh", course=course)
    assert "**Experiment quiz-time: Morning or afternoon quiz**" in english
    assert "Running 2026-12-07 to 2027-01-31 (ends in 42 days)" in english
    assert "| morning (control) | 4 | 0 | — | — |" in english  # two full blocks: 4 and 4
    assert "| afternoon | 4 | 0 | — | — |" in english
    assert "Verdict: no data yet for afternoon or morning" in english
    assert "**实验 quiz-time：上午还是下午测验**" in chinese
    assert "结论：afternoon 或 morning 还没有数据" in chinese


def test_the_cli_reports_an_experiment_and_refuses_an_unknown_one(
    content: Path, tmp_path: Path
) -> None:
    env = {
        "TRAINBOT_CONTENT_DIR": str(content),
        "TRAINBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
    }
    listed = trainbot("experiments", "list", "--lang", "en", cwd=tmp_path, **env)
    assert listed.returncode == 0, listed.stderr
    assert "quiz-time\t2026-12-07 – 2027-01-31\tpush_time\tfirst_try_accuracy" in listed.stdout
    reported = trainbot("experiments", "report", "quiz-time", "--lang", "en", cwd=tmp_path, **env)
    assert reported.returncode == 0, reported.stderr
    assert "Experiment quiz-time" in reported.stdout and "Verdict:" in reported.stdout
    unknown = trainbot("experiments", "report", "nope", "--lang", "zh", cwd=tmp_path, **env)
    assert unknown.returncode != 0
    assert "没有实验 nope；已定义：quiz-time" in unknown.stderr
