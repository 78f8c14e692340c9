"""Who may do what, from the command line: ``trainbot users ...`` and ``chat --role``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import SAMPLE_CONTENT
from tests.test_cli import trainbot

ROSTER = """platform,user_id,name,email,team,parent_team,manager,role
slack,U100,Wang Fang,wang@example.com,East,Sales,,manager
telegram,2001,Li Ming,li@example.com,East,,slack:U100,
slack,U200,Anna,,Berlin,Sales,,
"""


def env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
        "TRAINBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        **more,
    }


def rows(tmp_path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "store.db") as connection:
        return connection.execute(query).fetchall()


def links(tmp_path: Path) -> set[tuple[str, str, str]]:
    return {
        (str(team), str(user), str(source))
        for team, user, source in rows(
            tmp_path,
            "SELECT teams.name, people.platform_user_id, team_managers.source FROM team_managers"
            " JOIN teams ON teams.id = team_managers.team_id"
            " JOIN people ON people.id = team_managers.person_id",
        )
    }


def test_users_set_role_remove_restore_and_manage(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    imported = trainbot("users", "import", "roster.csv", cwd=tmp_path, **env(tmp_path))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert links(tmp_path) == {("East", "U100", "roster")}

    made = trainbot("users", "manage", "wang@example.com", "sales", cwd=tmp_path, **env(tmp_path))
    assert made.returncode == 0, made.stderr
    assert "slack:U100 (Wang Fang) now manages Sales and the teams below it" in made.stdout
    assert links(tmp_path) == {("East", "U100", "roster"), ("Sales", "U100", "admin")}

    demoted = trainbot("users", "set-role", "slack:U100", "learner", cwd=tmp_path, **env(tmp_path))
    assert demoted.returncode == 0, demoted.stderr
    assert "slack:U100 (Wang Fang): manager -> learner" in demoted.stdout
    assert "no longer manages East, Sales" in demoted.stdout
    assert links(tmp_path) == set()

    admin = trainbot("users", "set-role", "slack:U100", "admin", cwd=tmp_path, **env(tmp_path))
    assert admin.returncode == 1 and "admins are not stored" in admin.stderr

    person_id = rows(tmp_path, "SELECT id FROM people WHERE platform_user_id = '2001'")[0][0]
    removed = trainbot("users", "remove", str(person_id), cwd=tmp_path, **env(tmp_path))
    assert removed.returncode == 0, removed.stderr
    assert "removed telegram:2001 (Li Ming)" in removed.stdout and "data is kept" in removed.stdout
    assert rows(tmp_path, f"SELECT status, display_name FROM people WHERE id = {person_id}") == [
        ("removed", "Li Ming")
    ]
    twice = trainbot("users", "remove", "telegram:2001", cwd=tmp_path, **env(tmp_path))
    assert twice.returncode == 1 and "already removed" in twice.stderr
    restored = trainbot("users", "restore", "telegram:2001", cwd=tmp_path, **env(tmp_path))
    assert restored.returncode == 0 and "restored telegram:2001" in restored.stdout
    assert rows(tmp_path, f"SELECT status FROM people WHERE id = {person_id}") == [("opted_out",)]

    unknown = trainbot("users", "manage", "slack:U200", "Nowhere", cwd=tmp_path, **env(tmp_path))
    assert unknown.returncode == 1
    assert "no team called 'Nowhere' (teams: Berlin, East, Sales)" in unknown.stderr
    nobody = trainbot("users", "remove", "slack:U999", cwd=tmp_path, **env(tmp_path))
    assert nobody.returncode == 1 and "no person slack:U999" in nobody.stderr
    stop = trainbot(
        "users", "manage", "slack:U200", "Berlin", "--remove", cwd=tmp_path, **env(tmp_path)
    )
    assert stop.returncode == 1 and "does not manage Berlin" in stop.stderr


def test_chat_role_admin_lasts_one_session_and_is_never_stored(
    tmp_path: Path, private_index_dir: Path
) -> None:
    settings = env(tmp_path, TRAINBOT_INDEX_DIR=str(private_index_dir), TRAINBOT_LANGUAGE="en")
    first = trainbot(
        "chat",
        "--as",
        "boss",
        "--role",
        "admin",
        cwd=tmp_path,
        stdin="/start\n/report\n",
        **settings,
    )
    assert first.returncode == 0, first.stderr
    assert "Whole organisation" in first.stdout

    # The next session, as a manager for that session only: no admin left over.
    second = trainbot(
        "chat", "--as", "boss", "--role", "manager", cwd=tmp_path, stdin="/report\n", **settings
    )
    assert second.returncode == 0, second.stderr
    assert "Whole organisation" not in second.stdout
    assert "You don't manage a team yet" in second.stdout
    assert rows(tmp_path, "SELECT platform_user_id, role FROM people") == [("boss", "learner")]


def test_chat_store_role_writes_a_manager_but_never_an_admin(
    tmp_path: Path, private_index_dir: Path
) -> None:
    settings = env(tmp_path, TRAINBOT_INDEX_DIR=str(private_index_dir))
    stored = trainbot(
        "chat",
        "--as",
        "lin",
        "--role",
        "manager",
        "--store-role",
        cwd=tmp_path,
        stdin="/start\n",
        **settings,
    )
    assert stored.returncode == 0, stored.stderr
    assert rows(tmp_path, "SELECT platform_user_id, role, enrolled_at IS NOT NULL FROM people") == [
        ("lin", "manager", 1)
    ]
    admin = trainbot(
        "chat", "--as", "lin", "--role", "admin", "--store-role", cwd=tmp_path, stdin="", **settings
    )
    assert admin.returncode == 1
    assert "admins are not stored: add console:lin to TRAINBOT_ADMINS" in admin.stderr
