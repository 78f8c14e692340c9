"""Business KPIs (level 3): the import, the comparison worked out by hand, the scope rule,
and the report's section in both languages."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Person
from bot.i18n import t
from bot.kpis import KpiError, import_kpis, stored_kpis
from bot.library import CourseLibrary
from bot.reports.access import manager_scope
from bot.reports.impact import business_impact
from bot.reports.metrics import build_summary
from bot.reports.render import chat_text, to_html, to_json, to_markdown
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import KpiValue
from bot.store.models import Person as StoredPerson
from quizzes.content import Course
from quizzes.loader import load_course
from tests.conftest import REPO, SAMPLE_CONTENT
from tests.drivers import FRONT_DOORS, front_door
from tests.reports.kpi_world import (
    CONTROL_CHANGE,
    DID,
    REPORT_WEEK,
    TIMEZONE,
    TRAINED_CHANGE,
    TRAINING_WEEK,
    WEEKS,
    build,
    retention_csv,
)

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # Wednesday of W48


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(SAMPLE_CONTENT)


def _count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(KpiValue)) or 0)


# -- the import -------------------------------------------------------------------------


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(
    database: Database, tmp_path: Path
) -> None:
    build(database, kpis=False)
    path = tmp_path / "kpis.csv"
    path.write_text(
        "team,week,metric,value,unit,direction\n"
        "North,2026-W40,retention_30d,60,%,higher\n"  # good
        "Nowhere,2026-W40,retention_30d,60,%,higher\n"
        "north,2026-W41,retention_30d,61,%,higher\n"
        "North,2026-W4,retention_30d,61,%,higher\n"
        "North,2025-W53,retention_30d,61,%,higher\n"
        "North,2026-W42,retention_30d,sixty,%,higher\n"
        "North,2026-W42,retention_30d,61%,%,higher\n"
        'North,2026-W43,retention_30d,"1,5",%,higher\n'
        "North,2026-W40,retention_30d,62,%,higher\n"  # duplicate of line 2
        "North,2026-W44,retention_30d,63,%,better\n"
        "North,2026-W45,retention_30d,63,pp,higher\n"
        "North,2027-W10,retention_30d,63,%,higher\n"
        "South,2026-W40,retention_30d,50,%,higher\n",  # good
        encoding="utf-8",
    )
    report = import_kpis(database, path, now=NOW, timezone=TIMEZONE)
    assert report.problems == [
        (3, "unknown team 'Nowhere' (import the roster first)"),
        (4, "unknown team 'north' (did you mean 'North'?)"),
        (5, "invalid week '2026-W4' (expected an ISO week such as 2026-W47)"),
        (
            6,
            "invalid week '2025-W53': 2025 has no week 53 (expected an ISO week such as 2026-W47)",
        ),
        (7, "value 'sixty' is not a number"),
        (8, "value '61%' is not a number: write '61' and put % in the unit column"),
        (
            9,
            "value '1,5' is not a number (use a dot for decimals and no thousands separator)",
        ),
        (10, "North 2026-W40 retention_30d is already on line 2"),
        (11, "unknown direction 'better' (expected higher or lower)"),
        (12, "metric 'retention_30d' has unit '%' and direction 'higher' on line 2"),
        (13, "week 2027-W10 has not started yet"),
    ]
    assert report.summary() == "11 row(s) with problems: nothing imported"
    assert _count(database) == 0  # the good rows 2 and 14 were not imported either


def test_an_import_adds_a_reimport_replaces_and_a_dry_run_writes_nothing(
    database: Database, tmp_path: Path
) -> None:
    build(database, kpis=False)
    path = retention_csv(tmp_path / "retention.csv")
    dry = import_kpis(database, path, now=NOW, timezone=TIMEZONE, dry_run=True)
    assert (dry.added, dry.replaced, dry.unchanged) == (32, 0, 0)
    assert _count(database) == 0
    first = import_kpis(database, path, now=NOW, timezone=TIMEZONE)
    assert first.summary() == (
        "32 value(s) (1 metric(s), 4 team(s), 2026-W40 to 2026-W47): "
        "32 added, 0 replaced, 0 unchanged"
    )
    again = import_kpis(database, path, now=NOW, timezone=TIMEZONE)
    assert (again.added, again.replaced, again.unchanged) == (0, 0, 32)
    # A corrected value for one team and week replaces the stored one; lower-case w is fine.
    fixed = tmp_path / "fix.csv"
    fixed.write_text(
        "team,week,metric,value,unit,direction\nWest,2026-w45,retention_30d,41.25,%,higher\n",
        encoding="utf-8",
    )
    replaced = import_kpis(database, fixed, now=NOW, timezone=TIMEZONE)
    assert (replaced.added, replaced.replaced, replaced.unchanged) == (0, 1, 0)
    assert _count(database) == 32
    west = {value.week: value for _, value in stored_kpis(database, team="West")}
    assert west["2026-W45"].value == 41.25 and west["2026-W45"].source == "fix.csv"
    assert west["2026-W44"].value == 40.5 and west["2026-W44"].source == "retention.csv"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("team,week,value\nNorth,2026-W40,1\n", "missing required column(s) 'metric'"),
        ("team;week;metric;value\n", "the columns must be separated by commas"),
    ],
)
def test_a_file_that_is_not_a_kpi_file_is_refused_whole(
    sqlite_database: Database, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "kpis.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KpiError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_kpis(sqlite_database, path, now=NOW, timezone=TIMEZONE)


def test_the_command_line_reports_lines_exits_non_zero_and_lists(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.upgrade()
    build(db, kpis=False)
    db.dispose()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "team,week,metric,value\nNorth,2026-W40,=HYPERLINK(1),1\nEast,2026-W40,x,nan\n",
        encoding="utf-8",
    )
    good = retention_csv(tmp_path / "retention.csv")

    def trainbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "adapters", *args, "--db", str(tmp_path / "store.db")],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = trainbot("kpis", "import", str(bad))
    assert refused.returncode == 1
    assert refused.stdout.splitlines() == [
        f"{bad}:3: value 'nan' is not a finite number",
        "1 row(s) with problems: nothing imported",
    ]
    dry = trainbot("kpis", "import", str(good), "--dry-run")
    assert dry.returncode == 0
    assert dry.stdout.strip().endswith(
        "32 added, 0 replaced, 0 unchanged (dry run: nothing written)"
    )
    assert trainbot("kpis", "import", str(good)).returncode == 0
    listed = trainbot("kpis", "list", "--team", "West")
    lines = listed.stdout.splitlines()
    assert lines[0] == "team\tweek\tmetric\tvalue\tunit\tdirection\tsource\timported_at"
    assert lines[5].split("\t")[:7] == [
        "West",
        "2026-W44",
        "retention_30d",
        "40.5",
        "%",
        "higher",
        "retention.csv",
    ]
    assert listed.stderr.strip().endswith("8 value(s)")


# -- the comparison, worked out by hand --------------------------------------------------


def test_the_difference_in_differences_is_the_one_worked_out_by_hand(
    database: Database, course: Course
) -> None:
    build(database)
    impact = business_impact(
        database, course, week=REPORT_WEEK, timezone=TIMEZONE, team_ids=None, weeks=8
    )
    assert impact.weeks == WEEKS
    retention = {metric.metric: metric for metric in impact.metrics}["retention_30d"]
    assert (retention.unit, retention.direction) == ("%", "higher")
    trained = {series.team: series.trained_week for series in retention.teams}
    assert trained == {"East": None, "North": TRAINING_WEEK, "South": TRAINING_WEEK, "West": None}
    north = next(series for series in retention.teams if series.team == "North")
    assert [week.coverage for week in north.weeks] == [0.5, 0.5, 0.5, 1, 1, 1, 1, 1]
    assert [week.pass_rate for week in north.weeks] == [0.5, 0.5, 0.5, 1, 1, 1, 1, 1]
    assert [north.phase(week) for week in WEEKS[2:5]] == ["before", "training", "after"]
    found = retention.comparison
    assert found is not None and retention.shortfall is None
    assert found.trained_change == pytest.approx(TRAINED_CHANGE)
    assert found.control_change == pytest.approx(CONTROL_CHANGE)
    assert found.difference == pytest.approx(DID)
    assert (found.trained_teams, found.control_teams) == (2, 2)
    assert (found.trained_weeks_before, found.trained_weeks_after) == (6, 8)
    assert found.control_team_weeks == 14


def test_more_weeks_without_values_change_nothing(database: Database, course: Course) -> None:
    """The default 12 weeks reach back to W36, which has no value and no lesson: the
    section starts with the first week that has a value."""
    build(database)
    impact = business_impact(database, course, week=REPORT_WEEK, timezone=TIMEZONE, team_ids=None)
    assert impact.weeks == WEEKS
    retention = {metric.metric: metric for metric in impact.metrics}["retention_30d"]
    assert retention.comparison is not None
    assert retention.comparison.difference == pytest.approx(DID)


def test_a_team_trained_before_its_kpis_begin_keeps_its_training_week(
    sqlite_database: Database, course: Course
) -> None:
    """KPIs from W44 on: the columns start there, North and South were still trained in
    W43, so they have no week before it and there is nothing to compare."""
    build(sqlite_database)
    with sqlite_database.session() as session:
        session.execute(KpiValue.__table__.delete().where(KpiValue.week <= TRAINING_WEEK))
    impact = business_impact(
        sqlite_database, course, week=REPORT_WEEK, timezone=TIMEZONE, team_ids=None, weeks=8
    )
    assert impact.weeks == WEEKS[4:]
    retention = {metric.metric: metric for metric in impact.metrics}["retention_30d"]
    assert {series.team: series.trained_week for series in retention.teams}["North"] == (
        TRAINING_WEEK
    )
    assert retention.comparison is None and retention.shortfall is not None
    assert (retention.shortfall.reason, retention.shortfall.found) == ("trained", 0)


def test_with_too_little_data_the_report_says_so_instead_of_a_number(
    database: Database, course: Course
) -> None:
    build(database)
    impact = business_impact(
        database, course, week=REPORT_WEEK, timezone=TIMEZONE, team_ids=None, weeks=8
    )
    complaints = {metric.metric: metric for metric in impact.metrics}["complaint_rate"]
    assert complaints.comparison is None
    assert complaints.shortfall is not None
    assert (complaints.shortfall.reason, complaints.shortfall.found) == ("trained", 1)
    # A higher training mark: nobody is trained, so no trained team at all.
    strict = business_impact(
        database,
        course,
        week=REPORT_WEEK,
        timezone=TIMEZONE,
        team_ids=None,
        weeks=8,
        trained_coverage=1.0 + 1e-9,
    )
    for metric in strict.metrics:
        assert metric.comparison is None and metric.shortfall is not None
        assert metric.shortfall.found == 0


def test_without_enough_untrained_teams_there_is_no_number(
    sqlite_database: Database, course: Course
) -> None:
    build(sqlite_database)
    with sqlite_database.session() as session:
        session.execute(
            KpiValue.__table__.delete().where(
                KpiValue.metric == "retention_30d",
                KpiValue.week.in_(["2026-W44", "2026-W45", "2026-W46"]),
                KpiValue.team_id.in_(
                    select(KpiValue.team_id)
                    .where(KpiValue.value >= 70)  # East's values
                    .scalar_subquery()
                ),
            )
        )
    impact = business_impact(
        sqlite_database, course, week=REPORT_WEEK, timezone=TIMEZONE, team_ids=None, weeks=8
    )
    retention = {metric.metric: metric for metric in impact.metrics}["retention_30d"]
    assert retention.comparison is None and retention.shortfall is not None
    assert (retention.shortfall.reason, retention.shortfall.found) == ("control", 1)
    text = to_markdown(
        build_summary(
            sqlite_database, course, week=REPORT_WEEK, timezone=TIMEZONE, language="en", kpi_weeks=8
        ),
        "en",
    )
    assert (
        "Too little data for a comparison: at most 1 team(s) not yet trained have at least 2 "
        "weeks of values on each side of a trained team's training week, and at least 2 are "
        "needed."
    ) in text


# -- the report ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_output_carries_the_section_and_the_caveat(
    sqlite_database: Database, course: Course, language: str
) -> None:
    build(sqlite_database)
    summary = build_summary(
        sqlite_database,
        course,
        week=REPORT_WEEK,
        timezone=TIMEZONE,
        language=language,
        kpi_weeks=8,
        now=NOW,
    )
    caveat = t(language, "impact_caveat")
    title = t(language, "impact_title")
    markdown = to_markdown(summary, language)
    assert f"## {title}" in markdown and caveat in markdown
    assert t(language, "impact_too_few_trained", found=1, weeks=2, teams=2) in markdown
    page = to_html(summary, language, b"png")
    assert title in page and caveat in page
    chat = chat_text(summary, language)
    assert title in chat and caveat in chat
    data = json.loads(to_json(summary, language=language))["business_impact"]
    assert data["caveat"] == caveat
    retention = {metric["metric"]: metric for metric in data["metrics"]}["retention_30d"]
    assert retention["comparison"]["difference"] == pytest.approx(DID)
    assert retention["too_little_data"] is None
    north = {team["team"]: team for team in retention["teams"]}["North"]
    assert north["trained_week"] == TRAINING_WEEK
    assert north["weeks"][3] == {
        "week": TRAINING_WEEK,
        "phase": "training",
        "value": 63.0,
        "coverage": 1.0,
        "pass_rate": 1.0,
        "due": 2,
        "covered": 2,
        "assessed": 2,
        "passing": 2,
    }
    if language == "en":
        assert "Difference in differences: +4.25 pp." in markdown
        assert "- retention_30d: difference in differences +4.25 pp (2 trained vs 2" in chat
    else:
        assert "双重差分：+4.25 pp。" in markdown


def test_no_kpi_says_how_to_import_one(sqlite_database: Database, course: Course) -> None:
    build(sqlite_database, kpis=False)
    summary = build_summary(
        sqlite_database, course, week=REPORT_WEEK, timezone=TIMEZONE, language="en", kpi_weeks=8
    )
    assert (
        "No business KPI has been imported for these teams in weeks 2026-W40 to 2026-W47 "
        "(trainbot kpis import)."
    ) in to_markdown(summary, "en")
    assert "Business impact" not in chat_text(summary, "en")  # chat stays one screen
    assert json.loads(to_json(summary))["business_impact"]["metrics"] == []


def test_what_a_kpi_file_said_stays_text(sqlite_database: Database, course: Course) -> None:
    build(sqlite_database)
    with sqlite_database.session() as session:
        session.execute(
            KpiValue.__table__.update()
            .where(KpiValue.metric == "complaint_rate")
            .values(metric="<script>alert(1)</script> [x](http://evil)", unit="<b>")
        )
    summary = build_summary(
        sqlite_database, course, week=REPORT_WEEK, timezone=TIMEZONE, language="en", kpi_weeks=8
    )
    page = to_html(summary, "en", b"png")
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    markdown = to_markdown(summary, "en")
    assert "<script>" not in markdown and "<b>" not in markdown
    assert (
        "### &lt;script&gt;alert(1)&lt;/script&gt; \\[x\\](http\\://evil) (&lt;b&gt;;" in markdown
    )


# -- who sees what --------------------------------------------------------------------------


@pytest.fixture
def bot(sqlite_database: Database) -> TrainBot:
    build(sqlite_database)
    settings = load_settings(
        database_url=sqlite_database.url,
        content_dir=SAMPLE_CONTENT,
        admins="console:root",
        kpi_weeks=8,
    )
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    return TrainBot(settings=settings, db=sqlite_database, library=library, clock=FakeClock(NOW))


def bot_person_id(bot: TrainBot, user_id: str) -> int:
    with bot.ctx.db.session() as session:
        return int(
            session.scalars(
                select(StoredPerson.id).where(StoredPerson.platform_user_id == user_id)
            ).one()
        )


async def _report(bot: TrainBot, platform: str, user_id: str, locale: str) -> str:
    """What ``user_id`` reads after typing /report through ``platform``'s real adapter;
    the stored person with that console id becomes the person chatting there."""
    async with front_door(platform, bot) as driver_for:
        driver = driver_for(Person(platform, user_id, user_id.title(), locale, None))
        with bot.ctx.db.session() as session:
            stored = session.scalars(
                select(StoredPerson).where(StoredPerson.platform_user_id == user_id)
            ).one_or_none()
            if stored is not None:
                stored.platform, stored.platform_user_id = platform, driver.user_id
        if user_id == "root":  # the admin, as TRAINBOT_ADMINS names them on that platform
            bot.ctx.settings.admins.append(f"{platform}:{driver.user_id}")
        (answer,) = await driver.say("/report")
    return answer


@pytest.mark.parametrize("platform", FRONT_DOORS)
async def test_a_manager_sees_only_their_teams_kpis(
    bot: TrainBot, course: Course, platform: str
) -> None:
    """Mia manages North: no other team's KPI reaches her, in chat or in any file, and a
    comparison needs more teams than she may see."""
    mia_id = bot_person_id(bot, "mia")
    answer = await _report(bot, platform, "mia", "en")
    assert "Business impact (level 3)" in answer
    assert "retention_30d: too little data for a comparison yet" in answer
    assert t("en", "impact_caveat") in answer
    for other in ("East", "South", "West"):
        assert other not in answer
    with bot.ctx.db.session() as session:
        mia = session.get(StoredPerson, mia_id)
        assert mia is not None
        scope = manager_scope(session, mia)
    summary = build_summary(
        bot.ctx.db,
        course,
        week=REPORT_WEEK,
        timezone=TIMEZONE,
        team_ids=scope.team_ids,
        person_ids=scope.person_ids,
        language="en",
        kpi_weeks=8,
    )
    assert summary.impact is not None
    assert {series.team for metric in summary.impact.metrics for series in metric.teams} == {
        "North"
    }
    for text in (
        to_markdown(summary, "en"),
        to_html(summary, "en", b"png"),
        to_json(summary),
    ):
        for other in ("East", "South", "West"):
            assert other not in text


@pytest.mark.parametrize("platform", FRONT_DOORS)
async def test_an_admin_gets_the_comparison_in_their_language(bot: TrainBot, platform: str) -> None:
    answer = await _report(bot, platform, "root", "zh-CN")
    assert "业务影响（第三层）" in answer
    assert "retention_30d：双重差分 +4.25 pp（已培训 2 个团队，对照尚未培训 2 个团队）" in answer
    assert t("zh", "impact_caveat") in answer
