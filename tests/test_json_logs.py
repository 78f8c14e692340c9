"""``TRAINBOT_LOG_FORMAT=json``: every log line one JSON object, secrets still redacted."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from bot.logsafety import REDACTED
from tests.conftest import REPO, SAMPLE_CONTENT

TOKEN = "918273645:AAH-jSoN-DiStInCt-secret-4c3b2a"
SECRET_PART = TOKEN.partition(":")[2]

# A command's start (the CLI's own logging set-up, then its settings), then lines a careless
# change might write: the token in a message, in an exception, and a person's question.
ACCIDENTS = """
import logging
from adapters import cli

cli._root(verbose=False)
settings = cli._settings()
log = logging.getLogger("bot.accident")
log.warning("calling https://api.telegram.org/bot%s/getMe", settings.telegram_token)
try:
    raise RuntimeError(f"refused: {settings.telegram_token}")
except RuntimeError:
    log.exception("the Bot API refused the token")
log.info("plain info line")
logging.getLogger("telegram.ext").debug("update: What is my salary? TEAL-MOOSE-5521")
"""


def run(code: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *code],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "HOME": str(tmp_path),
            "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
            "TRAINBOT_LOG_FORMAT": "json",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_line_is_a_json_object_with_secrets_redacted(tmp_path: Path) -> None:
    result = run(["-c", ACCIDENTS], tmp_path, TRAINBOT_TELEGRAM_TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["message"] for line in lines] == [
        f"calling https://api.telegram.org/bot918273645:{REDACTED}/getMe",
        "the Bot API refused the token",
        "plain info line",
    ]
    warning, failure, info = lines
    assert {"time", "level", "logger", "message", "process"} <= set(warning)
    assert (warning["level"], warning["logger"]) == ("WARNING", "bot.accident")
    assert warning["time"].endswith("+00:00") and "T" in warning["time"]
    assert isinstance(warning["process"], int)
    assert "exc" not in warning and "exc" not in info
    assert (
        failure["exc"].startswith("Traceback")
        and f"refused: 918273645:{REDACTED}" in failure["exc"]
    )
    assert SECRET_PART not in result.stderr
    assert "TEAL-MOOSE" not in result.stderr  # a library's DEBUG with a message text stays out


def test_an_error_that_stops_a_command_is_a_json_line_too(
    tmp_path: Path, private_index_dir: Path
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}/bot"
    result = run(
        ["-m", "adapters", "run"],
        tmp_path,
        TRAINBOT_TELEGRAM_TOKEN=TOKEN,
        TRAINBOT_TELEGRAM_API_URL=nowhere,
        TRAINBOT_INDEX_DIR=str(private_index_dir),
    )
    assert result.returncode != 0
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    (error,) = [line for line in lines if line["level"] == "ERROR"]
    assert error["message"].startswith("trainbot: TRAINBOT_TELEGRAM_API_URL: cannot reach")
    assert SECRET_PART not in result.stderr
