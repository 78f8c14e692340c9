"""Settings: defaults, environment parsing, and one clear error naming each bad variable."""

from __future__ import annotations

import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import QuietHours, Settings, load_settings

REPO = Path(__file__).resolve().parent.parent


def test_defaults_run_fully_offline_on_embedded_parts() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/trainbot.db"
    assert settings.chroma_url == "" and settings.llm == "" and settings.embeddings == "local"
    assert settings.content_dir == Path("content")
    assert settings.language == "zh" and settings.timezone == "Asia/Shanghai"
    assert settings.working_days == ["mon", "tue", "wed", "thu", "fri"]
    assert settings.telegram_token == "" and settings.slack_bot_token == ""


def test_environment_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINBOT_LANGUAGE", "en")
    monkeypatch.setenv("TRAINBOT_TIMEZONE", "America/New_York")
    monkeypatch.setenv("TRAINBOT_WORKING_DAYS", "Mon, Tue,sat")
    monkeypatch.setenv("TRAINBOT_ADMINS", "slack:U01,telegram:42")
    monkeypatch.setenv("TRAINBOT_QUIET_HOURS", "22:00-07:30")
    settings = load_settings()
    assert settings.language == "en"
    assert settings.zone.key == "America/New_York"
    assert settings.working_days == ["mon", "tue", "sat"]
    assert settings.is_admin("telegram", "42") and not settings.is_admin("slack", "42")
    quiet = settings.quiet
    assert quiet is not None
    assert quiet.contains(time(23, 0)) and quiet.contains(time(7, 0))
    assert not quiet.contains(time(7, 30)) and not quiet.contains(time(12, 0))


def test_dot_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TRAINBOT_QUIZ_TIME=10:15\nTRAINBOT_LANGUAGE=en\n")
    settings = Settings()
    assert (settings.quiz_time, settings.language) == ("10:15", "en")


def test_quiet_hours_within_one_day() -> None:
    quiet = QuietHours.parse("12:00-13:00")
    assert quiet is not None
    assert quiet.contains(time(12, 30)) and not quiet.contains(time(13, 0))
    assert QuietHours.parse("") is None


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("TRAINBOT_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("TRAINBOT_QUIZ_TIME", "25:00", "invalid time"),
        ("TRAINBOT_QUIET_HOURS", "22:00", "expected HH:MM-HH:MM"),
        ("TRAINBOT_LANGUAGE", "fr", "'zh' or 'en'"),
        ("TRAINBOT_WORKING_DAYS", "mon,funday", "expected weekdays"),
        ("TRAINBOT_DATABASE_URL", "mysql://x/y", "unsupported database URL"),
        ("TRAINBOT_LLM", "gpt-4o", "provider:model"),
        ("TRAINBOT_ADMINS", "bob", "platform:user_id"),
        ("TRAINBOT_REPORT_SCHEDULE", "someday 9", "invalid report schedule"),
        ("TRAINBOT_SLACK_PORT", "99999", "less than or equal"),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message
    assert fragment in message


def test_cli_prints_configuration_error_without_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TRAINBOT_QUIZ_TIME": "9am", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "adapters", "db", "upgrade"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "TRAINBOT_QUIZ_TIME" in result.stderr and "invalid time '9am'" in result.stderr
    assert "Traceback" not in result.stderr
