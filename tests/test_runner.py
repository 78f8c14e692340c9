"""``trainbot run``: every configured front door plus the scheduler, and a clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
from pathlib import Path

import pytest

from adapters.runner import FrontDoor, configured_front_doors, serve
from adapters.slack import SlackAdapter
from adapters.telegram import TelegramAdapter
from bot.app import TrainBot
from bot.settings import Settings
from tests.conftest import REPO, SAMPLE_CONTENT
from tests.fake_slack import BOT_TOKEN, FakeSlack, deliver, event_envelope, json_body
from tests.fake_telegram import FakeTelegram, telegram_user_id


def test_no_token_means_no_platform_front_door(bot: TrainBot, settings: Settings) -> None:
    assert configured_front_doors(bot, settings) == []
    settings.telegram_token = "123:abc"
    settings.slack_bot_token = BOT_TOKEN
    settings.slack_signing_secret = "secret"
    doors = configured_front_doors(bot, settings)
    assert [type(door) for door in doors] == [TelegramAdapter, SlackAdapter]


async def test_both_front_doors_run_and_finish_in_flight_answers_on_stop(
    bot: TrainBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Events received just before the stop are still answered, on both platforms."""
    caplog.set_level(logging.INFO)
    async with FakeTelegram() as telegram:
        slack = FakeSlack()
        await slack.start()
        settings.telegram_token = telegram.token
        settings.telegram_api_url = telegram.api_url
        settings.slack_bot_token = BOT_TOKEN
        settings.slack_signing_secret = slack.signing_secret
        settings.slack_api_url = slack.api_url
        slack_door = SlackAdapter(bot, settings, host="127.0.0.1", port=0)
        doors: list[FrontDoor] = [TelegramAdapter(bot, settings), slack_door]
        stop = asyncio.Event()
        telegram_user = telegram_user_id("tao")
        telegram.add_user(telegram_user, "Tao", language_code="en")
        slack.add_user("USAM", "Sam", locale="en-US")

        async def events_then_stop() -> None:
            update = telegram.message_update(telegram_user, telegram_user, "/help")
            update_id = await telegram.push_update(update)
            await telegram.wait_confirmed(update_id)
            dm = {
                "type": "message",
                "channel": "DSAM",
                "channel_type": "im",
                "user": "USAM",
                "text": "How is training coverage calculated?",
                "ts": "1763340000.000100",
            }
            status, _ = await deliver(
                slack_door.url,
                json_body(event_envelope(dm)),
                content_type="application/json",
            )
            assert status == 200
            stop.set()  # before either answer is known to be out

        try:
            code = await asyncio.wait_for(
                serve(bot, settings, doors, stop=stop, on_started=events_then_stop), 120
            )
        finally:
            await slack.stop()
    assert code == 0
    helps = [call for call in telegram.calls("sendMessage") if call.ok]
    assert any("your training assistant" in call.params["text"] for call in helps)
    answers = [m for m in slack.messages if m.kind == "post" and m.channel == "DSAM"]
    assert answers and "The materials cover this only in Chinese" in str(answers[0].blocks)
    lines = [record.getMessage() for record in caplog.records if record.name == "adapters.runner"]
    assert any(line.startswith("telegram: long polling") for line in lines), lines
    assert any(line.startswith("slack: ") for line in lines), lines
    assert "123456789:" not in "\n".join(lines)  # never the token
    assert lines[-1] == "stopped"


async def test_trainbot_run_connects_telegram_and_stops_cleanly_on_sigterm(
    tmp_path: Path, private_index_dir: Path
) -> None:
    async with FakeTelegram() as telegram:
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "HOME": str(tmp_path),
            "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
            "TRAINBOT_INDEX_DIR": str(private_index_dir),
            "TRAINBOT_TELEGRAM_TOKEN": telegram.token,
            "TRAINBOT_TELEGRAM_API_URL": telegram.api_url,
            "TRAINBOT_LANGUAGE": "en",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "adapters",
            "run",
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        seen: list[str] = []

        async def connected() -> None:
            while True:
                line = (await process.stderr.readline()).decode()  # type: ignore[union-attr]
                if not line:
                    raise AssertionError(f"trainbot run ended early: {seen}")
                seen.append(line)
                if "telegram: long polling" in line:
                    return

        try:
            await asyncio.wait_for(connected(), 120)
            user = telegram_user_id("uma")
            telegram.add_user(user, "Uma", language_code="en")
            update_id = await telegram.push_update(telegram.message_update(user, user, "/start"))
            await telegram.wait_confirmed(update_id)
            process.send_signal(signal.SIGTERM)
            _, rest = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    log = "".join(seen) + rest.decode()
    assert process.returncode == 0, log
    assert "stopping: finishing in-flight work" in log and "stopped" in log
    assert telegram.token not in log and "Traceback" not in log
    welcomes = [c for c in telegram.calls("sendMessage") if c.params["chat_id"] == user]
    assert any("Welcome, Uma!" in call.params["text"] for call in welcomes)
    commands = {call.params.get("language_code") for call in telegram.calls("setMyCommands")}
    assert {"zh", "en"} <= commands


def free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("proxied", [False, True])
async def test_an_unreachable_bot_api_is_one_line_and_a_failed_exit(
    tmp_path: Path, private_index_dir: Path, proxied: bool
) -> None:
    token = "123456789:AAHnot-a-real-token-but-secret-all-the-same"
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
        "TRAINBOT_INDEX_DIR": str(private_index_dir),
        "TRAINBOT_TELEGRAM_TOKEN": token,
        "TRAINBOT_TELEGRAM_API_URL": f"{nowhere}/bot",
    }
    if proxied:
        env["TRAINBOT_HTTPS_PROXY"] = f"http://alice:proxy-password-9@127.0.0.1:{free_port()}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters",
        "run",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    log = out.decode() + err.decode()
    assert process.returncode not in (0, None), log
    assert "Traceback" not in log
    (line,) = [line for line in log.splitlines() if line.startswith("trainbot:")]
    assert f"cannot reach the Telegram Bot API at {nowhere}" in line
    assert ("TRAINBOT_HTTPS_PROXY is running" if proxied else "set TRAINBOT_HTTPS_PROXY") in line
    assert "AAHnot-a-real-token" not in log and "proxy-password-9" not in log
