"""The command line: help lists every command; unfinished ones say so; chat is scriptable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE_CONTENT

COMMANDS = ["validate", "db", "ingest", "ask", "chat", "run", "report", "users", "simulate"]


def trainbot(
    *args: str, cwd: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters", *args],
        cwd=cwd,
        input=stdin,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_every_command_with_its_help(tmp_path: Path) -> None:
    result = trainbot("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in COMMANDS:
        assert f" {command} " in result.stdout, command
    assert "Check course content" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["ingest"],
        ["ask", "如何提高用户留存?"],
        ["report", "--week", "2026-W47"],
        ["simulate"],
        ["users", "import", "roster.csv"],
    ],
)
def test_unfinished_commands_say_so_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = trainbot(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "not available yet" in result.stderr
    assert result.stdout == ""


def test_piped_chat_prints_help_in_the_configured_language_and_exits_0(tmp_path: Path) -> None:
    env = {"TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT), "TRAINBOT_LANGUAGE": "en"}
    result = trainbot("run", cwd=tmp_path, stdin="/help\n", **env)
    assert result.returncode == 0, result.stderr
    assert "your training assistant" in result.stdout
    assert (tmp_path / "var" / "trainbot.db").exists()  # the store was created and migrated
    chinese = trainbot(
        "chat",
        "--as",
        "li",
        cwd=tmp_path,
        stdin="/start\n/help\n",
        TRAINBOT_CONTENT_DIR=str(SAMPLE_CONTENT),
    )
    assert chinese.returncode == 0, chinese.stderr
    assert "欢迎你，li" in chinese.stdout and "你的培训助手" in chinese.stdout


def test_run_refuses_to_start_on_broken_content(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "tracks.yaml").write_text("tracks:\n  - id: [unclosed\n", encoding="utf-8")
    result = trainbot("run", cwd=tmp_path, stdin="/help\n")
    assert result.returncode == 1
    assert "tracks.yaml:2: malformed YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    result = trainbot("db", "upgrade", "--db", "nested/x.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "nested" / "x.db").exists()
    listed = trainbot("users", "list", "--db", "nested/x.db", cwd=tmp_path)
    assert listed.returncode == 0 and "0 people" in listed.stderr
