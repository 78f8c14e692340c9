"""The command line: help lists every command; chat is scriptable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, SAMPLE_CONTENT

COMMANDS = [
    "validate",
    "db",
    "ingest",
    "ask",
    "chat",
    "run",
    "report",
    "gaps",
    "quizzes",
    "users",
    "simulate",
    "content",
]


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


def test_piped_chat_prints_help_in_the_configured_language_and_exits_0(
    tmp_path: Path, private_index_dir: Path
) -> None:
    env = {
        "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
        "TRAINBOT_LANGUAGE": "en",
        "TRAINBOT_INDEX_DIR": str(private_index_dir),
    }
    result = trainbot("run", cwd=tmp_path, stdin="/help\n", **env)
    assert result.returncode == 0, result.stderr
    assert "your training assistant" in result.stdout
    assert (tmp_path / "var" / "trainbot.db").exists()  # the store was created and migrated
    chinese = trainbot(
        "chat",
        "--as",
        "li",
        cwd=tmp_path,
        stdin="/start\n/help\n如何提高用户留存?\n",
        **{**env, "TRAINBOT_LANGUAGE": "zh"},
    )
    assert chinese.returncode == 0, chinese.stderr
    assert "欢迎你，li" in chinese.stdout and "你的培训助手" in chinese.stdout
    assert "根据课程资料：" in chinese.stdout
    # The answer is the lead-in with its list, from one source; the buttons are numbered
    # after it, never as [1] again.
    assert "[1] 用户生命周期基础" in chinese.stdout
    assert "[2] 👍 有帮助  [3] 👎 没帮助" in chinese.stdout


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


def test_ingest_reports_files_and_is_incremental(tmp_path: Path) -> None:
    materials = tmp_path / "materials"
    materials.mkdir()
    (materials / "recall.md").write_text(
        "# 召回\n\n连续三十天没有下单的用户会收到一次回归优惠。\n", encoding="utf-8"
    )
    (materials / "broken.docx").write_bytes(b"not a zip file")
    first = trainbot("ingest", str(materials), cwd=tmp_path)
    assert first.returncode == 1  # one file could not be read
    assert "added    recall.md" in first.stdout
    assert "error    broken.docx:" in first.stderr
    assert "1 added, 0 updated, 0 removed, 0 unchanged, 1 unreadable" in first.stdout
    (materials / "broken.docx").unlink()
    second = trainbot("ingest", str(materials), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert (
        "0 added, 0 updated, 0 removed, 1 unchanged, 0 unreadable; 0 chunks written"
        in second.stdout
    )
    assert (tmp_path / "var" / "index" / "manifest.json").exists()


def test_ask_prints_the_documented_json(tmp_path: Path, private_index_dir: Path) -> None:
    import json

    env = {
        "TRAINBOT_INDEX_DIR": str(private_index_dir),
        "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
    }
    result = trainbot("ask", "如何提高用户留存?", "--json", cwd=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"question", "answered", "answer", "confidence", "language", "sources"}
    assert (
        data["question"] == "如何提高用户留存?"
        and data["answered"] is True
        and data["language"] == "zh"
    )
    assert isinstance(data["confidence"], float) and "[1]" in data["answer"]
    source = data["sources"][0]
    assert set(source) == {"title", "path", "section", "text", "score"}
    assert (
        source["path"] == "lifecycle-basics.md"
        and source["text"] in (source["text"],)
        and len(source["text"]) > 50
    )

    lines = trainbot(
        "ask",
        "-",
        cwd=tmp_path,
        stdin="What is the activation stage?\n\n食堂今天中午吃什么？\n",
        **env,
    )
    assert lines.returncode == 0, lines.stderr
    rows = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [row["answered"] for row in rows] == [True, False]
    assert rows[1]["answer"] == "" and rows[0]["language"] == "en"


def test_ask_before_ingest_says_what_to_do(tmp_path: Path) -> None:
    result = trainbot("ask", "anything", cwd=tmp_path)
    assert result.returncode == 1
    assert "run 'trainbot ingest' first" in result.stderr
