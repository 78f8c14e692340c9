"""A/B tests of delivery forms: assignment, outcomes and a verdict in plain words.

An experiment (``content/experiments.yaml``, :class:`quizzes.content.Experiment`) varies
one delivery form among its population and measures one outcome (docs/experiments.md).

**Assignment** is random, stable, recorded and balanced. A unit (a person, or a whole team
when the experiment's ``unit`` is ``team``) gets its variant the first time it is
considered while the experiment runs, and keeps it (``experiment_assignments``). Units
are placed in permuted blocks: each block holds every variant twice, shuffled by a seed
made of the experiment, the stratum and the block's number, so the arms never differ by
more than a block's worth and the draw can be reproduced. People are stratified by track
(each track is balanced on its own); teams form one stratum. A unique slot per position
means two processes assigning at once cannot take the same place in a block.

**Outcomes** per unit, read from the store:

- ``first_try_accuracy`` (a mean): the person's first tries on the related questions
  answered from ``after_days`` after their assignment to the experiment's end;
- ``completion`` (a proportion): they completed every related lesson sent to them while
  the experiment ran;
- ``application`` (a proportion): of the people with an answer either way about a related
  lesson (:mod:`bot.application`), given after their assignment, those reported applying.

With teams as the unit, each team's outcome is the mean of its people's, and teams are
what is counted and compared. The first variant is the control; each other variant is
compared with it (:mod:`bot.stats`: Fisher's exact test for proportions, Welch's t-test
for means, Holm's correction for several variants), with the sample size the difference
seen so far would need.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import stats
from bot.i18n import t
from bot.store.models import (
    ApplicationReport,
    Attempt,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    ExperimentAssignment,
    Person,
    PersonStatus,
)
from quizzes.content import PLAIN, Course, Experiment, ExperimentForm, ExperimentOutcome

logger = logging.getLogger(__name__)

MAX_TRIES = 20
"""Slots tried when other processes take the next ones first."""


def block_order(experiment: Experiment, stratum: str, block: int) -> list[str]:
    """The variants of one randomisation block: each twice, in a seeded random order."""
    order = [variant.id for variant in experiment.variants] * 2
    seed = hashlib.sha256(f"{experiment.id}:{stratum}:{block}".encode()).hexdigest()
    random.Random(seed).shuffle(order)
    return order


def variant_at(experiment: Experiment, stratum: str, position: int) -> str:
    """The variant of the ``position``-th unit (0-based) of a stratum."""
    size = 2 * len(experiment.variants)
    return block_order(experiment, stratum, position // size)[position % size]


def in_population(experiment: Experiment, person: Person, team_name: str | None) -> bool:
    """Whether ``person`` (in team ``team_name``) belongs to the experiment's population."""
    population = experiment.population
    if population.tracks is not None and person.track_id not in population.tracks:
        return False
    if experiment.form is ExperimentForm.PUSH_TIME and person.quiz_time:
        return False  # they chose their own quiz time: the experiment must not move it
    if experiment.unit == "team" and team_name is None:
        return False  # a team experiment has nothing to assign to someone in no team
    return population.teams is None or team_name in population.teams


def assigned_variant(session: Session, experiment: Experiment, person: Person) -> str | None:
    """The variant already recorded for the person (or their team), if any."""
    if experiment.unit == "team":
        if person.team_id is None:
            return None
        where = ExperimentAssignment.team_id == person.team_id
    else:
        where = ExperimentAssignment.person_id == person.id
    return session.scalar(
        select(ExperimentAssignment.variant).where(
            ExperimentAssignment.experiment_id == experiment.id, where
        )
    )


def assign(
    session: Session, experiment: Experiment, person: Person, *, now: datetime, today: date
) -> str | None:
    """The person's variant: recorded before, or drawn now; ``None`` when they are not in
    the experiment (outside its population, or it does not run ``today``).

    A new draw takes the stratum's next free slot; a slot another process took first is
    skipped (its unique key refuses the second insert), so both keep a balanced block.
    """
    known = assigned_variant(session, experiment, person)
    if known is not None:
        return known
    if not experiment.active_on(today):
        return None
    team_name = person.team.name if person.team is not None else None
    if not in_population(experiment, person, team_name):
        return None
    team_unit = experiment.unit == "team"
    stratum = "teams" if team_unit else (person.track_id or "-")
    taken = session.scalar(
        select(func.count()).where(
            ExperimentAssignment.experiment_id == experiment.id,
            ExperimentAssignment.stratum == stratum,
        )
    )
    position = int(taken or 0)
    for _ in range(MAX_TRIES):
        variant = variant_at(experiment, stratum, position)
        row = ExperimentAssignment(
            experiment_id=experiment.id,
            person_id=None if team_unit else person.id,
            team_id=person.team_id if team_unit else None,
            variant=variant,
            stratum=stratum,
            position=position,
            assigned_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            known = assigned_variant(session, experiment, person)
            if known is not None:
                return known  # another process assigned this unit first
            position += 1
            continue
        logger.info(
            "experiment %s: %s %s gets %s",
            experiment.id,
            "team" if team_unit else "person",
            person.team_id if team_unit else person.id,
            variant,
        )
        return variant
    logger.warning("experiment %s: no free slot after %d tries", experiment.id, MAX_TRIES)
    return None


def assign_all(
    session: Session, experiment: Experiment, *, now: datetime, today: date
) -> dict[str, int]:
    """Assign every active enrolled person of the population now; units per variant."""
    people = session.scalars(
        select(Person)
        .where(Person.status == PersonStatus.ACTIVE, Person.enrollment_step.is_(None))
        .order_by(Person.enrolled_at, Person.id)
    ).all()
    for person in people:
        assign(session, experiment, person, now=now, today=today)
    return balance(session, experiment)


def balance(session: Session, experiment: Experiment) -> dict[str, int]:
    """How many units each variant holds (every variant listed, in the file's order)."""
    counts = dict(
        session.execute(
            select(ExperimentAssignment.variant, func.count())
            .where(ExperimentAssignment.experiment_id == experiment.id)
            .group_by(ExperimentAssignment.variant)
        ).all()
    )
    return {variant.id: int(counts.get(variant.id, 0)) for variant in experiment.variants}


@dataclass(frozen=True)
class Forms:
    """The delivery forms the experiments running today give one person."""

    push_time: str | None = None  # HH:MM of the daily quiz
    retention: float | None = None  # FSRS's target retention
    wording: str | None = None  # how questions are worded (``plain``: as written)


def quiz_selection(course: Course, question_id: str, forms: Forms | None) -> dict[str, Any] | None:
    """What a quiz delivery records of the forms: the wording it is shown in, when the
    person's variant words questions another way and this question has that wording (the
    answer shows the same wording's explanation)."""
    if forms is None or forms.wording is None or forms.wording == PLAIN:
        return None
    if not course.has_wording(question_id, forms.wording):
        return None
    return {"wording": forms.wording}


def delivered_wording(selection: dict[str, Any] | None) -> str | None:
    """The wording a quiz delivery was shown in (``None``: as written)."""
    wording = (selection or {}).get("wording")
    return wording if isinstance(wording, str) else None


def forms_for(
    session: Session, course: Course, people: list[Person], *, now: datetime, today: date
) -> dict[int, Forms]:
    """Each person's delivery forms today, assigning those not yet assigned (once).

    An experiment runs from its start to its end in the organisation's calendar
    (``today``). A person in two running experiments on one form gets the variant of the
    one that started first. People in no running experiment are not in the result.

    Args:
        session: the open session (new assignments are written in it).
        course: the course, for its experiments.
        people: the people to look at (their team loaded with them when teams matter).
        now: the moment (recorded as the assignment's time).
        today: the organisation's local date.
    """
    running = sorted(
        (e for e in course.experiments.values() if e.active_on(today)),
        key=lambda experiment: (experiment.start, experiment.id),
    )
    if not running or not people:
        return {}
    ids = [experiment.id for experiment in running]
    by_person: dict[tuple[str, int], str] = {}
    by_team: dict[tuple[str, int], str] = {}
    for experiment_id, person_id, team_id, arm in session.execute(
        select(
            ExperimentAssignment.experiment_id,
            ExperimentAssignment.person_id,
            ExperimentAssignment.team_id,
            ExperimentAssignment.variant,
        ).where(
            ExperimentAssignment.experiment_id.in_(ids),
            or_(
                ExperimentAssignment.person_id.in_([person.id for person in people]),
                ExperimentAssignment.team_id.in_(
                    sorted({person.team_id for person in people if person.team_id is not None})
                ),
            ),
        )
    ).all():
        if person_id is not None:
            by_person[(experiment_id, person_id)] = arm
        if team_id is not None:
            by_team[(experiment_id, team_id)] = arm
    found: dict[int, Forms] = {}
    for person in people:
        forms = Forms()
        for experiment in running:
            if experiment.unit == "team":
                variant_id = (
                    by_team.get((experiment.id, person.team_id))
                    if person.team_id is not None
                    else None
                )
            else:
                variant_id = by_person.get((experiment.id, person.id))
            if variant_id is None:
                variant_id = assign(session, experiment, person, now=now, today=today)
                if variant_id is not None and experiment.unit == "team":
                    by_team[(experiment.id, person.team_id or 0)] = variant_id
            chosen = next((v for v in experiment.variants if v.id == variant_id), None)
            if chosen is None:
                continue  # not in it, or a variant the file no longer has
            if chosen.push_time is not None and forms.push_time is None:
                forms = replace(forms, push_time=chosen.push_time)
            if chosen.retention is not None and forms.retention is None:
                forms = replace(forms, retention=chosen.retention)
            if chosen.wording is not None and forms.wording is None:
                forms = replace(forms, wording=chosen.wording)
        if forms != Forms():
            found[person.id] = forms
    return found


@dataclass(frozen=True)
class VariantResult:
    """One arm: its units, those with an outcome, and the outcome."""

    id: str
    assigned: int
    measured: int
    value: float | None  # the mean, or the share
    interval: stats.Interval | None
    successes: int | None = None  # for a proportion


@dataclass(frozen=True)
class ArmComparison:
    """A variant against the control, with its Holm-adjusted p-value."""

    variant: str
    comparison: stats.Comparison | None
    adjusted_p: float | None


@dataclass
class ExperimentResult:
    """An experiment's figures and verdict, as of ``as_of``."""

    experiment: Experiment
    as_of: date
    variants: list[VariantResult]
    comparisons: list[ArmComparison] = field(default_factory=list)

    @property
    def running(self) -> bool:
        """Whether the experiment has not ended yet."""
        return self.as_of <= self.experiment.end

    @property
    def kind(self) -> str:
        """``mean`` or ``proportion``."""
        if self.experiment.outcome is ExperimentOutcome.FIRST_TRY_ACCURACY:
            return "mean"
        return "mean" if self.experiment.unit == "team" else "proportion"


def _window(experiment: Experiment, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(experiment.start, time(), zone)
    end = datetime.combine(experiment.end + timedelta(days=1), time(), zone)
    return start, end


def _related_lessons(course: Course, experiment: Experiment) -> list[str]:
    if experiment.lessons is not None:
        return list(experiment.lessons)
    tracks = experiment.population.tracks or list(course.tracks)
    return [lesson_id for track in tracks for lesson_id in course.lesson_ids(track)]


def person_outcomes(
    session: Session, course: Course, experiment: Experiment, *, zone: ZoneInfo
) -> dict[int, tuple[str, float]]:
    """Each measured person's variant and outcome (1.0/0.0 for a proportion)."""
    start, end = _window(experiment, zone)
    lessons = _related_lessons(course, experiment)
    assigned_to = (
        ExperimentAssignment.team_id == Person.team_id
        if experiment.unit == "team"
        else ExperimentAssignment.person_id == Person.id
    )
    rows: list[Any] = list(
        session.execute(
            select(Person.id, ExperimentAssignment.variant, ExperimentAssignment.assigned_at)
            .join(ExperimentAssignment, assigned_to)
            .where(ExperimentAssignment.experiment_id == experiment.id)
        ).all()
    )
    if not rows:
        return {}
    since = {person_id: (variant, max(assigned, start)) for person_id, variant, assigned in rows}
    outcome = experiment.outcome
    found: dict[int, tuple[str, float]] = {}
    people = list(since)
    if outcome is ExperimentOutcome.FIRST_TRY_ACCURACY:
        questions = [qid for lesson in lessons for qid in course.question_ids(lesson)]
        tries: dict[int, list[bool]] = defaultdict(list)
        for person_id, correct, answered_at in session.execute(
            select(Attempt.person_id, Attempt.correct, Attempt.answered_at).where(
                Attempt.person_id.in_(people),
                Attempt.first_try.is_(True),
                Attempt.question_id.in_(questions),
                Attempt.answered_at < end,
            )
        ).all():
            _, assigned = since[person_id]
            if answered_at >= assigned + timedelta(days=experiment.after_days):
                tries[person_id].append(bool(correct))
        for person_id, answers in tries.items():
            found[person_id] = (since[person_id][0], sum(answers) / len(answers))
    elif outcome is ExperimentOutcome.COMPLETION:
        sent: dict[int, list[bool]] = defaultdict(list)
        for person_id, status, sent_at in session.execute(
            select(Delivery.person_id, Delivery.status, Delivery.sent_at).where(
                Delivery.person_id.in_(people),
                Delivery.kind == DeliveryKind.LESSON,
                Delivery.item_id.in_(lessons),
                Delivery.sent_at.is_not(None),
                Delivery.sent_at < end,
            )
        ).all():
            if sent_at >= since[person_id][1]:
                sent[person_id].append(status is DeliveryStatus.COMPLETED)
        for person_id, done in sent.items():
            found[person_id] = (since[person_id][0], 1.0 if all(done) else 0.0)
    else:
        reported: dict[int, list[bool]] = defaultdict(list)
        for person_id, applied, answered_at in session.execute(
            select(
                ApplicationReport.subject_id,
                ApplicationReport.applied,
                ApplicationReport.answered_at,
            ).where(
                ApplicationReport.subject_id.in_(people),
                ApplicationReport.lesson_id.in_(lessons),
                ApplicationReport.applied.is_not(None),
            )
        ).all():
            if answered_at >= since[person_id][1]:
                reported[person_id].append(bool(applied))
        for person_id, answers in reported.items():
            found[person_id] = (since[person_id][0], 1.0 if any(answers) else 0.0)
    return found


def evaluate(
    session: Session, course: Course, experiment: Experiment, *, today: date, zone: ZoneInfo
) -> ExperimentResult:
    """The experiment's per-variant outcomes, comparisons against the control, as of today."""
    outcomes = person_outcomes(session, course, experiment, zone=zone)
    assigned = balance(session, experiment)
    by_unit: dict[str, list[float]] = defaultdict(list)
    if experiment.unit == "team":
        teams = dict(
            session.execute(
                select(Person.id, Person.team_id).where(Person.id.in_(list(outcomes)))
            ).all()
        )
        per_team: dict[tuple[str, Any], list[float]] = defaultdict(list)
        for person_id, (arm, value) in outcomes.items():
            per_team[(arm, teams.get(person_id))].append(value)
        for (arm, _team), values in per_team.items():
            by_unit[arm].append(fmean(values))
    else:
        for arm, value in outcomes.values():
            by_unit[arm].append(value)
    result = ExperimentResult(experiment, today, [])
    proportion = result.kind == "proportion"
    confidence = 1 - experiment.alpha
    for variant in experiment.variants:
        values = by_unit.get(variant.id, [])
        if proportion:
            successes = int(sum(values))
            result.variants.append(
                VariantResult(
                    variant.id,
                    assigned[variant.id],
                    len(values),
                    successes / len(values) if values else None,
                    stats.wilson(successes, len(values), confidence=confidence),
                    successes,
                )
            )
        else:
            result.variants.append(
                VariantResult(
                    variant.id,
                    assigned[variant.id],
                    len(values),
                    fmean(values) if values else None,
                    stats.mean_interval(values, confidence=confidence),
                )
            )
    control = experiment.variants[0].id
    raw: list[stats.Comparison | None] = []
    for variant in experiment.variants[1:]:
        if proportion:
            first = result.variants[0]
            other = next(item for item in result.variants if item.id == variant.id)
            raw.append(
                stats.compare_proportions(
                    (first.successes or 0, first.measured),
                    (other.successes or 0, other.measured),
                    alpha=experiment.alpha,
                    power=experiment.power,
                )
            )
        else:
            raw.append(
                stats.compare_means(
                    by_unit.get(control, []),
                    by_unit.get(variant.id, []),
                    alpha=experiment.alpha,
                    power=experiment.power,
                )
            )
    tested = [comparison.p_value for comparison in raw if comparison is not None]
    adjusted = iter(stats.holm(tested))
    for variant, comparison in zip(experiment.variants[1:], raw, strict=True):
        result.comparisons.append(
            ArmComparison(variant.id, comparison, next(adjusted) if comparison else None)
        )
    return result


@dataclass(frozen=True)
class Verdict:
    """A comparison's verdict: its kind (an i18n key's last part) and the figures it names."""

    kind: str  # conclusive_better, conclusive_worse, not_yet, no_difference, no_data, unclear
    variant: str
    values: dict[str, Any]


def verdicts(result: ExperimentResult) -> list[Verdict]:
    """What each comparison says, in the terms :func:`bot.i18n.t` renders."""
    found: list[Verdict] = []
    alpha = result.experiment.alpha
    measured = {variant.id: variant.measured for variant in result.variants}
    control = result.experiment.variants[0].id
    for arm in result.comparisons:
        comparison = arm.comparison
        if comparison is None or arm.adjusted_p is None:
            found.append(Verdict("no_data", arm.variant, {}))
            continue
        have = min(measured[arm.variant], measured[control])
        values = {
            "difference": comparison.difference,
            "low": comparison.interval.low,
            "high": comparison.interval.high,
            "p": arm.adjusted_p,
            "needed": comparison.needed_per_variant,
            "have": have,
        }
        if arm.adjusted_p < alpha:
            kind = "conclusive_better" if comparison.difference > 0 else "conclusive_worse"
        elif comparison.needed_per_variant is None:
            kind = "no_difference"
        elif have < comparison.needed_per_variant:
            kind = "not_yet"
        else:
            kind = "unclear"
        found.append(Verdict(kind, arm.variant, values))
    return found


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _points(value: float) -> str:
    """A difference of shares in percentage points, signed."""
    return f"{value * 100:+.1f} pp"


def render(result: ExperimentResult, language: str, *, course: Course) -> str:
    """The experiment's report in Markdown, in ``language``."""
    experiment = result.experiment
    confidence = round((1 - experiment.alpha) * 100)
    lines = [t(language, "exp_header", id=experiment.id, title=experiment.title.get(language))]
    if result.as_of < experiment.start:
        lines.append(t(language, "exp_not_started", start=experiment.start))
    elif result.running:
        days = (experiment.end - result.as_of).days
        lines.append(
            t(language, "exp_running", start=experiment.start, end=experiment.end, days=days)
        )
    else:
        lines.append(t(language, "exp_ended", start=experiment.start, end=experiment.end))
    if experiment.hypothesis is not None:
        lines.append(experiment.hypothesis.get(language))
    unit = t(language, f"exp_unit_{experiment.unit}")
    lessons = ", ".join(_related_lessons(course, experiment))
    lines.append(
        t(
            language,
            f"exp_outcome_{experiment.outcome.value}",
            lessons=lessons,
            unit=unit,
            after=experiment.after_days,
        )
    )
    lines += ["", t(language, "exp_table", confidence=confidence), "|---|---:|---:|---:|---|"]
    control = experiment.variants[0].id
    for index, variant in enumerate(result.variants):
        name = t(language, "exp_control", variant=variant.id) if index == 0 else variant.id
        interval = (
            "—"
            if variant.interval is None
            else f"{_percent(variant.interval.low)} – {_percent(variant.interval.high)}"
        )
        lines.append(
            f"| {name} | {variant.assigned} | {variant.measured} | "
            f"{_percent(variant.value)} | {interval} |"
        )
    lines.append("")
    key = "exp_compare_mean" if result.kind == "mean" else "exp_compare_proportion"
    for arm in result.comparisons:
        if arm.comparison is None or arm.adjusted_p is None:
            continue
        lines.append(
            t(
                language,
                key,
                variant=arm.variant,
                control=control,
                difference=_points(arm.comparison.difference),
                confidence=confidence,
                low=_points(arm.comparison.interval.low),
                high=_points(arm.comparison.interval.high),
                p=f"{arm.adjusted_p:.3f}",
            )
        )
    if len(result.comparisons) > 1:
        lines.append(t(language, "exp_holm", count=len(result.comparisons)))
    for verdict in verdicts(result):
        values = verdict.values
        lines.append(
            t(
                language,
                f"exp_verdict_{verdict.kind}",
                variant=verdict.variant,
                control=control,
                unit=unit,
                alpha=experiment.alpha,
                p=f"{values['p']:.3f}" if "p" in values else "",
                difference=_points(values["difference"]) if "difference" in values else "",
                needed=values.get("needed") or "",
                have=values.get("have", 0),
            )
        )
    return "\n".join(lines)


def as_dict(result: ExperimentResult) -> dict[str, Any]:
    """The experiment's figures as JSON-ready data."""
    experiment = result.experiment

    def interval(value: stats.Interval | None) -> list[float] | None:
        return None if value is None else [value.low, value.high]

    return {
        "experiment": experiment.id,
        "as_of": result.as_of.isoformat(),
        "running": result.running,
        "unit": experiment.unit,
        "outcome": experiment.outcome.value,
        "kind": result.kind,
        "alpha": experiment.alpha,
        "control": experiment.variants[0].id,
        "variants": [
            {
                "id": variant.id,
                "assigned": variant.assigned,
                "measured": variant.measured,
                "value": variant.value,
                "interval": interval(variant.interval),
            }
            for variant in result.variants
        ],
        "comparisons": [
            {
                "variant": arm.variant,
                "difference": arm.comparison.difference if arm.comparison else None,
                "interval": interval(arm.comparison.interval) if arm.comparison else None,
                "test": arm.comparison.test if arm.comparison else None,
                "p_value": arm.comparison.p_value if arm.comparison else None,
                "adjusted_p": arm.adjusted_p,
                "needed_per_variant": (
                    arm.comparison.needed_per_variant if arm.comparison else None
                ),
            }
            for arm in result.comparisons
        ],
        "verdicts": [
            {"variant": verdict.variant, "verdict": verdict.kind} for verdict in verdicts(result)
        ],
    }
