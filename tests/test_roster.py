"""Roster import: idempotent upserts, per-row problems with their line, dry runs, the CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.library import check_course
from bot.roster import RosterError, RosterReport, import_roster, read_roster
from bot.store import Database, Person, PersonStatus, Role, Team, TeamManager
from bot.store.models import Observer
from quizzes.content import Course
from tests.conftest import REPO, SAMPLE_CONTENT

HEADER = (
    "platform,user_id,name,email,language,timezone,track,team,parent_team,manager,role,quiz_time"
)

GOOD = f"""{HEADER}
slack,U100,Wang Fang,wang.fang@example.com,zh,Asia/Shanghai,managers,华东,Sales,,manager,09:00
telegram,2001,李明,li.ming@example.com,,,frontline,华东,,slack:U100,,9:15
slack,U200,Anna Schmidt,,en,Europe/Berlin,frontline,Berlin,Sales,WANG.FANG@example.com,learner,
console,admin,Admin,,,,,,,,,
"""


@pytest.fixture(scope="module")
def course() -> Course:
    loaded, problems = check_course(SAMPLE_CONTENT)
    assert loaded is not None, problems
    return loaded


def write(tmp_path: Path, text: str, *, name: str = "roster.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def run(
    database: Database,
    path: Path,
    clock: FakeClock,
    course: Course | None,
    *,
    dry_run: bool = False,
) -> RosterReport:
    return import_roster(
        database,
        path,
        course=course,
        now=clock.now(),
        default_language="zh",
        default_timezone="Asia/Shanghai",
        dry_run=dry_run,
    )


def trainbot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def counts(report: RosterReport) -> tuple[int, int, int, int]:
    return report.added, report.updated, report.unchanged, report.rejected


def people(database: Database) -> dict[str, Person]:
    with database.session() as session:
        return {
            f"{p.platform}:{p.platform_user_id}": p for p in session.scalars(select(Person)).all()
        }


def teams(database: Database) -> dict[str, str | None]:
    """Team names and their parent's name."""
    with database.session() as session:
        found = session.scalars(select(Team)).all()
        names = {team.id: team.name for team in found}
        return {team.name: names.get(team.parent_id or 0) for team in found}


def team_managers(database: Database) -> set[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(
            select(Team.name, Person.platform_user_id)
            .join(TeamManager, TeamManager.team_id == Team.id)
            .join(Person, Person.id == TeamManager.person_id)
        ).all()
        return {(team, user) for team, user in rows}


def table_sizes(database: Database) -> tuple[int, int, int]:
    with database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Person)) or 0,
            session.scalar(select(func.count()).select_from(Team)) or 0,
            session.scalar(select(func.count()).select_from(TeamManager)) or 0,
        )


def test_a_good_file_imports_people_teams_and_managers(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    report = run(database, write(tmp_path, GOOD), clock, course)

    assert counts(report) == (4, 0, 0, 0) and report.problems == []
    assert report.summary() == "4 added, 0 updated, 0 unchanged, 0 rejected"
    found = people(database)
    wang, li, anna, admin = (
        found["slack:U100"],
        found["telegram:2001"],
        found["slack:U200"],
        found["console:admin"],
    )
    assert (wang.display_name, wang.email, wang.role, wang.quiz_time) == (
        "Wang Fang",
        "wang.fang@example.com",
        Role.MANAGER,
        "09:00",
    )
    # empty cells take the organisation defaults; times are normalised to HH:MM
    assert (li.language, li.timezone, li.role, li.quiz_time) == (
        "zh",
        "Asia/Shanghai",
        Role.LEARNER,
        "09:15",
    )
    assert (anna.language, anna.timezone, anna.track_id) == ("en", "Europe/Berlin", "frontline")
    assert admin.role is Role.LEARNER and admin.team_id is None and admin.track_id is None
    # by platform:user_id, and by email whatever its case
    assert li.manager_id == wang.id and anna.manager_id == wang.id
    assert admin.manager_id is None
    for person in found.values():
        assert person.status is PersonStatus.ACTIVE
        assert person.enrolled_at == clock.now() and person.enrollment_step is None
        assert person.on_roster  # what TRAINBOT_ENROLMENT=roster lets in
    assert teams(database) == {"华东": "Sales", "Berlin": "Sales", "Sales": None}
    assert li.team_id == wang.team_id
    # Wang is a manager with a team and somebody's manager: she manages her team
    assert team_managers(database) == {("华东", "U100")}


def test_importing_again_changes_nothing_and_duplicates_nothing(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    path = write(tmp_path, GOOD)
    run(database, path, clock, course)
    sizes = table_sizes(database)
    before = {key: person.updated_at for key, person in people(database).items()}
    clock.advance(timedelta(days=1))

    again = run(database, path, clock, course)

    assert counts(again) == (0, 0, 4, 0) and again.problems == []
    assert table_sizes(database) == sizes == (4, 3, 1)
    assert {key: person.updated_at for key, person in people(database).items()} == before


def test_a_changed_row_updates_that_person_only(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    run(database, write(tmp_path, GOOD), clock, course)
    clock.advance(timedelta(hours=2))
    changed = GOOD.replace("telegram,2001,李明,", "telegram,2001,李明明,").replace(
        "Europe/Berlin,frontline,Berlin", "Europe/Berlin,managers,Berlin"
    )

    report = run(database, write(tmp_path, changed), clock, course)

    assert counts(report) == (0, 2, 2, 0)
    found = people(database)
    assert found["telegram:2001"].display_name == "李明明"
    assert found["telegram:2001"].updated_at == clock.now()
    assert found["slack:U200"].track_id == "managers"
    assert found["slack:U100"].updated_at == clock.now() - timedelta(hours=2)
    assert table_sizes(database) == (4, 3, 1)


BAD = f"""{HEADER}
slack,U1,Good One,one@example.com,,,,Team A,,,,
whatsapp,U2,Bad Platform,,,,,Bad team 1,,,,
slack,,No Id,,,,,,,,,
slack,U3,,,,,,,,,,
slack,U4,Bad Language,,fr,,,,,,,
slack,U5,Bad Zone,,,Asia/Shangai,,,,,,

slack,U6,Bad Track,,,,sales,,,,,
slack,U7,Bad Role,,,,,,,,boss,
slack,U8,Bad Time,,,,,,,,,25:00
slack,U9,Lost Manager,,,,,Ghost team,Ghost parent,slack:NOBODY,,
slack,U1,Duplicate,,,,,,,,,
slack,U10,"Two
Lines",,,,,,,,,
telegram,@li,Handle,,,,,,,,,
slack,U11,Bad Email,not-an-email,,,,,,,,
slack,U12,Orphan Parent,,,,,,Sales,,,
slack,U13,Two Faults,,xx,,,,,,chief,
slack,U14,Good Two,,,,,Team A,,one@example.com,,
"""


def test_bad_rows_are_reported_by_line_and_not_imported(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    report = run(database, write(tmp_path, BAD), clock, course)

    assert report.problems == [
        (3, "unknown platform 'whatsapp' (expected telegram, slack, console)"),
        (4, "user_id is empty"),
        (5, "name is empty"),
        (6, "unknown language 'fr' (expected zh or en)"),
        (7, "unknown time zone 'Asia/Shangai' (use an IANA name such as Asia/Shanghai)"),
        (9, "unknown track 'sales' (tracks: frontline, managers)"),
        (10, "unknown role 'boss' (expected learner, manager)"),
        (11, "invalid quiz_time '25:00' (expected HH:MM, 24-hour clock)"),
        (12, "manager 'slack:NOBODY' not found in the store or in this file"),
        (13, "slack:U1 is already on line 2"),
        (14, "name contains a line break (an unclosed quote?)"),
        (16, "telegram user_id '@li' is not a number (use the numeric id, not a @username)"),
        (17, "invalid email 'not-an-email'"),
        (18, "parent_team is given but team is empty"),
        (19, "unknown language 'xx' (expected zh or en)"),
        (19, "unknown role 'chief' (expected learner, manager)"),
    ]
    assert counts(report) == (2, 0, 0, 15)
    found = people(database)
    assert set(found) == {"slack:U1", "slack:U14"}
    assert found["slack:U1"].display_name == "Good One"  # the duplicate did not overwrite it
    assert found["slack:U14"].manager_id == found["slack:U1"].id
    # the row whose manager was missing left nothing behind, not even its teams
    assert teams(database) == {"Team A": None}


def test_a_manager_later_in_the_file_is_found(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    text = (
        "user_id,platform,name,manager,team,role,email\n"
        "1,telegram,Learner,slack:UBOSS,Ops,,\n"
        "2,telegram,Colleague,boss@example.com,Ops,,\n"
        "UBOSS,slack,Boss,,Ops,manager,boss@example.com\n"
    )
    path = write(tmp_path, text)

    report = run(database, path, clock, course)

    assert counts(report) == (3, 0, 0, 0), report.problems
    found = people(database)
    boss = found["slack:UBOSS"]
    assert found["telegram:1"].manager_id == boss.id
    assert found["telegram:2"].manager_id == boss.id
    assert team_managers(database) == {("Ops", "UBOSS")}
    assert counts(run(database, path, clock, course)) == (0, 0, 3, 0)


def test_rows_naming_a_rejected_manager_are_rejected_too(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    text = (
        "platform,user_id,name,email,manager,language\n"
        "slack,UA,Report,,slack:UB,\n"
        "slack,UB,Middle,,head@example.com,\n"
        "slack,UC,Head,HEAD@example.com,,fr\n"  # rejected, so UB and then UA fail
        "slack,UD,Fine,,,\n"
    )

    report = run(database, write(tmp_path, text), clock, course)

    assert report.problems == [
        (2, "manager 'slack:UB' is on line 3, which was rejected"),
        (3, "manager 'head@example.com' is on line 4, which was rejected"),
        (4, "unknown language 'fr' (expected zh or en)"),
    ]
    assert counts(report) == (1, 0, 0, 3)
    assert set(people(database)) == {"slack:UD"}


def test_a_manager_already_in_the_store_is_found(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    run(database, write(tmp_path, GOOD), clock, course)
    text = "platform,user_id,name,manager\ntelegram,3001,New Hire,wang.fang@example.com\n"

    report = run(database, write(tmp_path, text, name="new.csv"), clock, course)

    assert counts(report) == (1, 0, 0, 0)
    found = people(database)
    assert found["telegram:3001"].manager_id == found["slack:U100"].id


def test_an_email_shared_by_two_people_is_ambiguous_as_a_manager(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    text = (
        "platform,user_id,name,email,manager\n"
        "slack,UW,Wang,wang@example.com,\n"
        "telegram,77,Wang,wang@example.com,\n"
        "slack,UX,Report,,wang@example.com\n"
    )

    report = run(database, write(tmp_path, text), clock, course)

    assert report.problems == [
        (
            4,
            "manager 'wang@example.com' is ambiguous: 2 people have that email "
            "(slack:UW, telegram:77); use platform:user_id",
        )
    ]
    assert counts(report) == (2, 0, 0, 1)


def test_team_parents_must_not_conflict_or_loop(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    text = (
        "platform,user_id,name,team,parent_team\n"
        "slack,U1,A,North,Sales\n"
        "slack,U2,B,North,Support\n"
        "slack,U3,C,Sales,North\n"
        "slack,U4,D,Sales,Sales\n"
    )

    report = run(database, write(tmp_path, text), clock, course)

    assert report.problems == [
        (3, "team 'North' has parent team 'Sales' on line 2"),
        (4, "team 'North' is already inside team 'Sales', so it cannot be its parent team"),
        (5, "team 'Sales' cannot be its own parent team"),
    ]
    assert teams(database) == {"North": "Sales", "Sales": None}


def test_a_byte_order_mark_and_windows_line_ends_are_read(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    text = "Platform,User_ID,Name,Language\r\nslack,U1,张伟,en\r\nslack,U2,,\r\n"

    report = run(database, write(tmp_path, text, bom=True), clock, course)

    assert counts(report) == (1, 0, 0, 1)
    assert report.problems == [(3, "name is empty")]
    assert people(database)["slack:U1"].display_name == "张伟"


def test_a_dry_run_reports_but_writes_nothing(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    path = write(tmp_path, GOOD)
    dry = run(database, path, clock, course, dry_run=True)
    assert counts(dry) == (4, 0, 0, 0)
    assert table_sizes(database) == (0, 0, 0)

    run(database, path, clock, course)
    changed = write(
        tmp_path, GOOD.replace("Wang Fang", "Wang F.") + "slack,U9,X,,,,,,,slack:NO,,\n"
    )
    dry = run(database, changed, clock, course, dry_run=True)
    assert counts(dry) == (0, 1, 3, 1)
    assert people(database)["slack:U100"].display_name == "Wang Fang"
    assert table_sizes(database) == (4, 3, 1)


def test_existing_people_keep_their_status_and_unset_values(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    with database.session() as session:
        for user_id, status, step in (
            ("U1", PersonStatus.OPTED_OUT, None),
            ("U2", PersonStatus.UNREACHABLE, None),
            ("U3", PersonStatus.ACTIVE, "not_enrolled"),
            ("U4", PersonStatus.REMOVED, None),
        ):
            session.add(
                Person(
                    platform="slack",
                    platform_user_id=user_id,
                    display_name=user_id,
                    language="en",
                    timezone="Europe/London",
                    status=status,
                    enrollment_step=step,
                    enrolled_at=None if step else clock.now() - timedelta(days=30),
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
    text = (
        "platform,user_id,name,language,timezone\n"
        "slack,U1,U1,,\nslack,U2,U2,,\nslack,U3,U3,,\nslack,U4,U4,,\n"
    )

    report = run(database, write(tmp_path, text), clock, course)

    # All three are on the roster now (that is a change); U3 is also enrolled now.
    assert counts(report) == (0, 4, 0, 0)
    found = people(database)
    assert found["slack:U1"].status is PersonStatus.OPTED_OUT
    assert found["slack:U2"].status is PersonStatus.UNREACHABLE
    assert found["slack:U4"].status is PersonStatus.REMOVED  # removal is an admin's call
    assert found["slack:U3"].enrolled_at == clock.now()
    assert found["slack:U3"].enrollment_step is None
    for person in found.values():  # empty cells do not reset what people chose
        assert (person.language, person.timezone) == ("en", "Europe/London")


def test_without_a_course_a_track_cannot_be_checked(
    sqlite_database: Database, tmp_path: Path, clock: FakeClock
) -> None:
    text = "platform,user_id,name,track\nslack,U1,A,frontline\nslack,U2,B,\n"

    report = run(sqlite_database, write(tmp_path, text), clock, None)

    assert report.problems == [
        (2, "track 'frontline' cannot be checked: no valid course is loaded")
    ]
    assert counts(report) == (1, 0, 0, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "platform,user_id,name,nickname,dept\n",
            "roster.csv:1: unknown column(s) 'nickname', 'dept' (known: platform, user_id, name, "
            "email, language, timezone, track, team, parent_team, manager, role, quiz_time, observers, region)",
        ),
        ("platform,name\n", "roster.csv:1: missing required column(s) 'user_id'"),
        (
            "platform,user_id,name,team,Team\n",
            "roster.csv:1: column(s) 'team' appear more than once",
        ),
        (
            "platform;user_id;name\n",
            "; the columns must be separated by commas",
        ),
        ("\n\n", "roster.csv: the file is empty (expected a header row)"),
    ],
)
def test_a_bad_header_rejects_the_whole_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RosterError) as raised:
        read_roster(write(tmp_path, text), course=None)
    assert message in str(raised.value)


def test_a_file_that_is_not_utf8_is_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes("platform,user_id,name\nslack,U1,王芳\n".encode("gbk"))
    with pytest.raises(
        RosterError, match=r"roster.csv:2: not UTF-8 text; save the sheet as 'CSV UTF-8'"
    ):
        read_roster(path, course=None)
    with pytest.raises(RosterError, match="no such file"):
        read_roster(tmp_path / "missing.csv", course=None)


def test_unnamed_columns_may_only_be_empty(tmp_path: Path) -> None:
    text = "platform,user_id,name,,\nslack,U1,A,,\nslack,U2,B,x,\nslack,U3,C,,,y\n"

    roster = read_roster(write(tmp_path, text), course=None)

    assert [row.user_id for row in roster.rows] == ["U1"]
    assert roster.problems == {
        3: ["a value in column 4, which has no header"],
        4: ["a value in column 6, which has no header"],
    }


def test_the_cli_prints_each_problem_and_a_summary(tmp_path: Path) -> None:
    env = {"TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT)}
    write(tmp_path, GOOD.replace("Anna Schmidt,,en", "Anna Schmidt,,de"))

    dry = trainbot(
        "users", "import", "roster.csv", "--db", "x.db", "--dry-run", cwd=tmp_path, **env
    )
    assert dry.returncode == 1, dry.stderr
    assert dry.stdout.splitlines() == [
        "roster.csv:4: unknown language 'de' (expected zh or en)",
        "3 added, 0 updated, 0 unchanged, 1 rejected (dry run: nothing written)",
    ]

    first = trainbot("users", "import", "roster.csv", "--db", "x.db", cwd=tmp_path, **env)
    assert first.returncode == 1, first.stderr
    assert first.stdout.splitlines()[-1] == "3 added, 0 updated, 0 unchanged, 1 rejected"

    write(tmp_path, GOOD)
    second = trainbot("users", "import", "roster.csv", "--db", "x.db", cwd=tmp_path, **env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == "1 added, 0 updated, 3 unchanged, 0 rejected\n"
    listed = trainbot("users", "list", "--db", "x.db", cwd=tmp_path, **env)
    assert "4 people" in listed.stderr and "slack:U200\tAnna Schmidt" in listed.stdout

    write(tmp_path, "platform,user_id,nom\n")
    bad_header = trainbot("users", "import", "roster.csv", "--db", "x.db", cwd=tmp_path, **env)
    assert bad_header.returncode == 1
    assert bad_header.stderr.startswith("trainbot: roster.csv:1: unknown column(s) 'nom'")
    assert "Traceback" not in bad_header.stderr

    missing = trainbot("users", "import", "missing.csv", cwd=tmp_path, **env)
    assert (missing.returncode, missing.stderr) == (1, "trainbot: missing.csv: no such file\n")
    assert not (tmp_path / "var").exists()  # refused before the store was created


def manager_links(database: Database) -> set[tuple[str, str, str]]:
    """``(team, user id, source)`` of every team-manager link."""
    with database.session() as session:
        rows = session.execute(
            select(Team.name, Person.platform_user_id, TeamManager.source)
            .join(TeamManager, TeamManager.team_id == Team.id)
            .join(Person, Person.id == TeamManager.person_id)
        ).all()
        return {(team, user, source.value) for team, user, source in rows}


def test_a_re_import_demoting_or_moving_a_manager_replaces_their_team_links(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    run(database, write(tmp_path, GOOD), clock, course)
    assert team_managers(database) == {("华东", "U100")}

    moved = GOOD.replace("managers,华东,Sales,,manager", "managers,Berlin,Sales,,manager")
    report = run(database, write(tmp_path, moved), clock, course)
    assert report.problems == [] and report.updated == 1
    # Li and Anna still name Wang as their manager, now in Berlin: Berlin only, not 华东
    assert team_managers(database) == {("Berlin", "U100")}

    demoted = moved.replace("managers,Berlin,Sales,,manager", "managers,Berlin,Sales,,learner")
    run(database, write(tmp_path, demoted), clock, course)
    assert team_managers(database) == set()
    assert people(database)["slack:U100"].role is Role.LEARNER


def test_links_an_admin_added_survive_a_move_but_not_a_demotion(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    run(database, write(tmp_path, GOOD), clock, course)
    from bot.users import manage

    manage(database, "slack:U100", "Sales", now=clock.now())
    moved = GOOD.replace("managers,华东,Sales,,manager", "managers,Berlin,Sales,,manager")
    run(database, write(tmp_path, moved), clock, course)
    assert manager_links(database) == {("Berlin", "U100", "roster"), ("Sales", "U100", "admin")}

    demoted = moved.replace("managers,Berlin,Sales,,manager", "managers,Berlin,Sales,,learner")
    run(database, write(tmp_path, demoted), clock, course)
    assert manager_links(database) == set()


def test_a_dash_clears_a_value_and_an_empty_cell_keeps_it(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    run(database, write(tmp_path, GOOD), clock, course)
    cleared = f"""{HEADER}
slack,U100,Wang Fang,,,,,华东,-,,manager,-
telegram,2001,李明,-,,,-,-,,-,,
slack,U200,Anna Schmidt,,,,,,,,,
"""
    report = run(database, write(tmp_path, cleared), clock, course)

    assert report.problems == [] and counts(report) == (0, 2, 1, 0)
    found = people(database)
    li, wang, anna = found["telegram:2001"], found["slack:U100"], found["slack:U200"]
    assert (li.email, li.track_id, li.team_id, li.manager_id) == (None, None, None, None)
    assert wang.quiz_time is None and wang.email == "wang.fang@example.com"  # empty: kept
    assert anna.team_id is not None and anna.manager_id == wang.id  # empty row: all kept
    assert teams(database)["华东"] is None  # its parent team was cleared
    # Wang is still Anna's manager and in 华东: the link stays
    assert team_managers(database) == {("华东", "U100")}
    again = run(database, write(tmp_path, cleared), clock, course)
    assert counts(again) == (0, 0, 3, 0)


def test_a_dash_where_it_cannot_clear_and_an_admin_role_are_refused(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    text = f"""{HEADER}
slack,U1,One,,-,,,,,,,
slack,U2,Two,,,,,-,Sales,,,
slack,U3,Three,,,,,,,,admin,
slack,U4,Four,,,,,,-,,,
slack,U5,Five,,,,,,,,-,
"""
    report = run(database, write(tmp_path, text), clock, course)

    assert report.problems == [
        (2, "language cannot be cleared with '-' (leave the cell empty to keep it)"),
        (3, "parent_team is given but team is cleared"),
        (
            4,
            "role 'admin' is not stored: administrators are whoever TRAINBOT_ADMINS lists "
            "(leave the role empty or write learner)",
        ),
        (5, "parent_team is given but team is empty"),
        (6, "role cannot be cleared with '-' (leave the cell empty to keep it)"),
    ]
    assert table_sizes(database) == (0, 0, 0)


def roster_imports(database: Database) -> list[tuple[str, int, int, int, int]]:
    from bot.store import RosterImport

    with database.session() as session:
        return [
            (row.source, row.added, row.updated, row.unchanged, row.rejected)
            for row in session.scalars(select(RosterImport).order_by(RosterImport.id)).all()
        ]


def test_an_import_that_writes_is_recorded_a_dry_run_or_a_refused_file_is_not(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    run(database, write(tmp_path, GOOD), clock, course, dry_run=True)
    run(database, write(tmp_path, f"{HEADER}\nwhatsapp,1,X,,,,,,,,,\n"), clock, course)
    assert roster_imports(database) == []

    run(database, write(tmp_path, GOOD + "slack,U9,X,,,,,,,slack:NO,,\n"), clock, course)
    assert roster_imports(database) == [("roster.csv", 4, 0, 0, 1)]


def test_an_import_that_closes_the_bot_to_people_it_does_not_list_says_so(
    tmp_path: Path,
) -> None:
    """Two people enrolled themselves in chat while the bot was open; the first roster lists
    neither. Under ``auto`` (the default) they lose access from now on: the import counts
    them in a warning, in a dry run too. Under ``open`` nobody loses anything: no warning."""
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    database.upgrade()
    now = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
    with database.session() as session:
        for user_id in ("U900", "U901"):
            session.add(
                Person(
                    platform="slack",
                    platform_user_id=user_id,
                    display_name=user_id,
                    track_id="frontline",
                    enrolled_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    database.dispose()
    env = {"TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT)}
    write(tmp_path, GOOD)
    dry = trainbot(
        "users", "import", "roster.csv", "--db", "x.db", "--dry-run", cwd=tmp_path, **env
    )
    assert dry.returncode == 0, dry.stderr
    assert "warning: 2 enrolled people are on no roster" in dry.stderr
    assert "TRAINBOT_ENROLMENT=auto they can no longer use the bot" in dry.stderr
    opened = trainbot(
        "users",
        "import",
        "roster.csv",
        "--db",
        "x.db",
        cwd=tmp_path,
        TRAINBOT_ENROLMENT="open",
        **env,
    )
    assert opened.returncode == 0, opened.stderr
    assert "warning" not in opened.stderr


def observers(database: Database) -> dict[str, set[str]]:
    """Each observed person's observers, by ``platform:user_id``."""
    with database.session() as session:
        found: dict[str, set[str]] = {}
        for link in session.scalars(select(Observer)).all():
            subject = session.get(Person, link.subject_id)
            observer = session.get(Person, link.observer_id)
            assert subject is not None and observer is not None
            found.setdefault(f"{subject.platform}:{subject.platform_user_id}", set()).add(
                f"{observer.platform}:{observer.platform_user_id}"
            )
        return found


def test_the_observers_column_replaces_clears_and_reports_by_line(
    database: Database, tmp_path: Path, clock: FakeClock, course: Course
) -> None:
    header = "platform,user_id,name,email,observers"
    first = write(
        tmp_path,
        f"""{header}
slack,U1,Ann,ann@example.com,slack:U2; ben@example.com
slack,U2,Ben,ben@example.com,
slack,U3,Cat,,ann@example.com
slack,U4,Dov,,slack:U4
slack,U5,Eve,,not-a-person
slack,U6,Fay,,slack:NOBODY
""",
    )
    report = run(database, first, clock, course)
    assert report.problems == [
        (5, "observer 'slack:U4' is the person themselves"),
        (6, "invalid observer 'not-a-person' (expected platform:user_id or an email)"),
        (7, "observer 'slack:NOBODY' not found in the store or in this file"),
    ]
    assert observers(database) == {"slack:U1": {"slack:U2"}, "slack:U3": {"slack:U1"}}
    assert counts(run(database, first, clock, course)) == (0, 0, 3, 3)  # idempotent

    second = write(
        tmp_path,
        f"""{header}
slack,U1,Ann,,slack:U3
slack,U3,Cat,,-
slack,U2,Ben,,
""",
        name="second.csv",
    )
    assert counts(run(database, second, clock, course)) == (0, 2, 1, 0)
    assert observers(database) == {"slack:U1": {"slack:U3"}}
