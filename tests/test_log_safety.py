"""Secrets and what people write stay out of the log (bot.logsafety).

The acceptance test runs the real ``trainbot -v run`` at DEBUG against the fake Telegram
(webhook mode) and Slack (Socket Mode) servers and a fake OpenAI-compatible model, with
every secret set to a distinctive value; a person on each platform asks a question that is
answered; then the captured output is searched. A second run with
``TRAINBOT_LOG_CONTENT=true`` shows the texts and names do reach the log then (and the
secrets, which the libraries now log, are redacted), so the first run's silence is the
filter's doing.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from adapters.telegram import TelegramAdapter
from bot import logsafety
from bot.app import TrainBot
from bot.logsafety import REDACTED, ContentGate, SecretRedactor
from bot.settings import load_settings
from bot.store.db import Database
from tests.conftest import REPO, SAMPLE_CONTENT, postgres_admin_url
from tests.fake_openai import FakeOpenAI
from tests.fake_slack import FakeSlack, event_envelope
from tests.fake_telegram import FakeTelegram, telegram_user_id

TELEGRAM_TOKEN = "918273645:AAH-dIsTiNcT_tgSeCrEt-9f8e7d6c"
WEBHOOK_SECRET = "whsec-DiStInCt-webhook-7a6b5c4d"
SLACK_BOT_TOKEN = "xoxb-DiStInCt-slack-bot-1122"
SLACK_APP_TOKEN = "xapp-DiStInCt-slack-app-3344"
SLACK_SIGNING_SECRET = "DiStInCt-signing-secret-5566"
LLM_API_KEY = "sk-DiStInCt-llm-key-7788"
OPENAI_API_KEY = "sk-DiStInCt-openai-env-9900"
DB_PASSWORD = "pg-DiStInCt-password-1357"

TELEGRAM_NAME = "Zebulon Quixote-Marchetti"
TELEGRAM_TEXT = "How is training coverage calculated? PURPLE-WOMBAT-4417"
SLACK_NAME = "Xanthippe Oyelaran-Frost"
SLACK_TEXT = "How is training coverage calculated? ORANGE-OTTER-2291"
ANSWER = "Coverage is completions divided by the people required [1]. SAFFRON-HERON-8830"


# -- the filters ------------------------------------------------------------------------


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    """A record as a library would make it."""
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("telegram.Bot", logging.DEBUG, __file__, 1, message, args, exc_info)


def formatted(rec: logging.LogRecord) -> str:
    return logging.Formatter("%(message)s").format(rec)


def test_every_configured_secret_is_redacted_in_every_form() -> None:
    settings = load_settings(
        telegram_token=TELEGRAM_TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET,
        slack_bot_token=SLACK_BOT_TOKEN,
        slack_app_token=SLACK_APP_TOKEN,
        slack_signing_secret=SLACK_SIGNING_SECRET,
        llm_api_key=LLM_API_KEY,
        database_url=f"postgresql+psycopg://trainbot:{quote('p@ss/w0rd:42', safe='')}@db/x",
        chroma_url="http://chroma:chroma-DiStInCt@vectors:8000",
    )
    redactor = SecretRedactor(logsafety.configured_secrets(settings))
    bot_id, _, token_secret = TELEGRAM_TOKEN.partition(":")
    lines = {
        "url": f"Set Bot API URL: https://api.telegram.org/bot{TELEGRAM_TOKEN}",
        "encoded": f"POST /bot{quote(TELEGRAM_TOKEN, safe='')}/getMe",
        "split": f"bot id {bot_id}, secret {token_secret}",
        "webhook": f"setWebhook {{'secret_token': '{WEBHOOK_SECRET}'}}",
        "slack": f"Authorization: Bearer {SLACK_BOT_TOKEN}; {SLACK_APP_TOKEN}",
        "signing": f"signing with {SLACK_SIGNING_SECRET}",
        "llm": f"api_key={LLM_API_KEY}",
        "database": "connecting to postgresql://trainbot:p%40ss%2Fw0rd%3A42@db/x",
        "database_raw": "password p@ss/w0rd:42 refused",
        "chroma": "Chroma at http://chroma:chroma-DiStInCt@vectors:8000",
    }
    for name, line in lines.items():
        rec = record("%s", line)
        redactor.filter(rec)
        shown = formatted(rec)
        assert REDACTED in shown, name
        for secret in (
            TELEGRAM_TOKEN,
            token_secret,
            WEBHOOK_SECRET,
            SLACK_BOT_TOKEN,
            SLACK_APP_TOKEN,
            SLACK_SIGNING_SECRET,
            LLM_API_KEY,
            "p@ss/w0rd:42",
            "p%40ss%2Fw0rd%3A42",
            "chroma-DiStInCt",
        ):
            assert secret not in shown, (name, shown)
    rec = record("Set Bot API URL: %s", f"https://api.telegram.org/bot{TELEGRAM_TOKEN}")
    redactor.filter(rec)
    assert formatted(rec) == f"Set Bot API URL: https://api.telegram.org/bot{bot_id}:{REDACTED}"


def test_secrets_in_exceptions_and_stacks_are_redacted() -> None:
    redactor = SecretRedactor(logsafety.variants(TELEGRAM_TOKEN))
    try:
        raise RuntimeError(f"could not reach https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe")
    except RuntimeError as exc:
        rec = record("polling failed", exc=exc)
    rec.stack_info = f"Stack (most recent call last):\n  token={TELEGRAM_TOKEN}"
    redactor.filter(rec)
    shown = formatted(rec)
    assert "RuntimeError: could not reach" in shown and "Traceback" in shown
    assert TELEGRAM_TOKEN not in shown and REDACTED in shown
    assert TELEGRAM_TOKEN not in str(rec.stack_info)


def test_a_broken_format_string_is_redacted_before_the_handler_reports_it() -> None:
    redactor = SecretRedactor([LLM_API_KEY])
    rec = record(f"key {LLM_API_KEY} %d", "not a number")
    assert redactor.filter(rec)
    assert LLM_API_KEY not in str(rec.msg) and LLM_API_KEY not in str(rec.args)


def test_llm_keys_from_the_environment_and_passwords_in_urls_are_found() -> None:
    found = logsafety.environment_secrets(
        {
            "OPENAI_API_KEY": OPENAI_API_KEY,
            "DASHSCOPE_API_KEY": "sk-dashscope-0123",
            "HF_TOKEN": "hf_DiStInCt0123",
            "HTTPS_PROXY": "http://proxyuser:proxy-pass-0123@proxy:3128",
            "PGPASSWORD": "short",  # too short to redact everywhere
            "LANG": "en_US.UTF-8",
        }
    )
    assert {OPENAI_API_KEY, "sk-dashscope-0123", "hf_DiStInCt0123", "proxy-pass-0123"} <= found
    assert "short" not in found and "en_US.UTF-8" not in found


def test_the_content_gate_keeps_library_debug_out_unless_content_logging_is_on() -> None:
    gate = ContentGate()
    update = logging.LogRecord(
        "telegram.ext.Application", logging.DEBUG, __file__, 1, "Processing update %s", ("x",), None
    )
    ours = logging.LogRecord("knowledge.answer", logging.DEBUG, __file__, 1, "signals", (), None)
    started = logging.LogRecord(
        "telegram.ext.Application", logging.INFO, __file__, 1, "Application started", (), None
    )
    assert not gate.filter(update) and gate.filter(ours) and gate.filter(started)
    gate.enabled = True
    assert gate.filter(update)


@pytest.fixture
def root_handler() -> Iterator[logging.StreamHandler[io.StringIO]]:
    """A handler on the root logger at DEBUG, removed afterwards."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_install_guards_every_root_handler_for_records_of_every_logger(
    root_handler: logging.StreamHandler[io.StringIO], tmp_path: Path
) -> None:
    """A library's child logger propagates to the root handler, which redacts and gates."""
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", telegram_token=TELEGRAM_TOKEN
    )
    logsafety.install(settings)
    assert root_handler.filters[-2:] == [logsafety._GATE, logsafety._REDACTOR]
    logsafety.install(settings)  # idempotent
    assert len(root_handler.filters) == 2
    logging.getLogger("telegram.ext.ExtBot").info("Set Bot API URL: %s", TELEGRAM_TOKEN)
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", TELEGRAM_TEXT)
    logging.getLogger("bot.something").debug("our own debugging")
    shown = root_handler.stream.getvalue()
    assert f"Set Bot API URL: 918273645:{REDACTED}" in shown and TELEGRAM_TOKEN not in shown
    assert TELEGRAM_TEXT not in shown and "our own debugging" in shown
    settings.log_content = True
    logsafety.install(settings)
    try:
        logging.getLogger("telegram.ext.Application").debug("Processing update %s", TELEGRAM_TEXT)
        assert TELEGRAM_TEXT in root_handler.stream.getvalue()
    finally:
        settings.log_content = False
        logsafety.install(settings)


def test_a_handler_added_after_install_is_guarded_too() -> None:
    """As when ``basicConfig`` runs after the filters were installed."""
    logsafety.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)  # what basicConfig does
    try:
        assert logsafety._GATE in handler.filters and logsafety._REDACTOR in handler.filters
        logsafety.redact(SLACK_APP_TOKEN)
        logging.getLogger("slack_sdk.socket_mode").warning("connecting with %s", SLACK_APP_TOKEN)
        assert f"connecting with {REDACTED}" in stream.getvalue()
    finally:
        logging.getLogger().removeHandler(handler)


async def test_a_generated_webhook_secret_is_redacted_too(
    bot: TrainBot, root_handler: logging.StreamHandler[io.StringIO]
) -> None:
    """Without TRAINBOT_TELEGRAM_WEBHOOK_SECRET the adapter makes one, which PTB logs."""
    settings = bot.ctx.settings
    settings.log_content = True  # the libraries' DEBUG lines, setWebhook's parameters among them
    logsafety.install(settings)
    try:
        async with FakeTelegram() as server:
            settings.telegram_token = server.token
            settings.telegram_api_url = server.api_url
            settings.telegram_webhook_url = "https://bot.example.test/telegram/hook"
            settings.telegram_webhook_port = free_port()
            settings.telegram_webhook_listen = "127.0.0.1"
            adapter = TelegramAdapter(bot, settings)
            await adapter.start()
            await adapter.stop()
    finally:
        settings.log_content = False
        logsafety.install(settings)
    generated = server.calls("setWebhook")[0].params["secret_token"]
    assert len(generated) > 20
    shown = root_handler.stream.getvalue()
    assert "setWebhook" in shown and f"'secret_token': '{REDACTED}'" in shown
    assert generated not in shown and server.token not in shown


def test_database_errors_leave_out_what_people_wrote(tmp_path: Path) -> None:
    from sqlalchemy import text

    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(Exception) as caught, db.session() as session:
        session.execute(text("SELECT * FROM no_such_table WHERE q = :q"), {"q": TELEGRAM_TEXT})
    assert TELEGRAM_TEXT not in str(caught.value)
    shown = Database(f"sqlite:///{tmp_path / 'x.db'}", hide_parameters=False)
    with pytest.raises(Exception) as caught, shown.session() as session:
        session.execute(text("SELECT * FROM no_such_table WHERE q = :q"), {"q": TELEGRAM_TEXT})
    assert TELEGRAM_TEXT in str(caught.value)


def test_an_invalid_database_url_is_reported_without_its_password() -> None:
    with pytest.raises(Exception) as caught:
        load_settings(database_url=f"mysql://root:{DB_PASSWORD}@db/trainbot")
    assert DB_PASSWORD not in str(caught.value) and "mysql://root:***@db" in str(caught.value)


# -- a DEBUG run of the real process --------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_with_password(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """PostgreSQL with a password in the URL when a server is given, else SQLite."""
    if postgres_admin_url() is None:
        return f"sqlite:///{tmp_path / 'trainbot.db'}", ""
    url = make_url(str(request.getfixturevalue("postgres_url")))
    if url.password:  # a server that checks passwords: its own is the secret
        return url.render_as_string(hide_password=False), str(url.password)
    # The test server trusts local connections, so any password is accepted.
    return url.set(password=DB_PASSWORD).render_as_string(hide_password=False), DB_PASSWORD


async def debug_run(
    tmp_path: Path, index_dir: Path, database_url: str, *, log_content: bool
) -> str:
    """Everything ``trainbot -v run`` printed while two people each got an answer."""
    port = free_port()
    with FakeOpenAI([ANSWER, ANSWER]) as model:
        async with FakeTelegram(token=TELEGRAM_TOKEN) as telegram:
            slack = FakeSlack(
                signing_secret=SLACK_SIGNING_SECRET,
                bot_token=SLACK_BOT_TOKEN,
                app_token=SLACK_APP_TOKEN,
            )
            await slack.start()
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "PYTHONPATH": str(REPO),
                "HOME": str(tmp_path),
                "OPENAI_API_KEY": OPENAI_API_KEY,
                "TRAINBOT_LOG_LEVEL": "DEBUG",
                "TRAINBOT_LOG_CONTENT": "true" if log_content else "false",
                "TRAINBOT_LANGUAGE": "en",
                "TRAINBOT_DATABASE_URL": database_url,
                "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
                "TRAINBOT_INDEX_DIR": str(index_dir),
                "TRAINBOT_LLM": "openai:gpt-4o-mini",
                "TRAINBOT_LLM_BASE_URL": model.base_url,
                "TRAINBOT_LLM_API_KEY": LLM_API_KEY,
                "TRAINBOT_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
                "TRAINBOT_TELEGRAM_API_URL": telegram.api_url,
                "TRAINBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.test/telegram/hook",
                "TRAINBOT_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "TRAINBOT_TELEGRAM_WEBHOOK_PORT": str(port),
                "TRAINBOT_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
                "TRAINBOT_SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
                "TRAINBOT_SLACK_APP_TOKEN": SLACK_APP_TOKEN,
                "TRAINBOT_SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
                "TRAINBOT_SLACK_API_URL": slack.api_url,
            }
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "adapters",
                "-v",
                "run",
                cwd=tmp_path,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            assert process.stdout is not None and process.stderr is not None
            lines: list[str] = []

            async def collect(stream: asyncio.StreamReader) -> None:
                while line := await stream.readline():
                    lines.append(line.decode(errors="replace"))

            readers = [
                asyncio.create_task(collect(process.stdout)),
                asyncio.create_task(collect(process.stderr)),
            ]

            async def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
                for _ in range(int(seconds / 0.1)):
                    if condition():
                        return
                    if process.returncode is not None:
                        break
                    await asyncio.sleep(0.1)
                raise AssertionError(f"no {what}:\n" + "".join(lines))

            def logged(text: str) -> Callable[[], bool]:
                return lambda: text in "".join(lines)

            try:
                await until(logged("slack: Socket Mode"), 180, "Slack connection")
                await until(logged("telegram: webhook"), 30, "Telegram webhook")
                user = telegram_user_id("zebulon")
                telegram.add_user(user, TELEGRAM_NAME, language_code="en")
                update = {"update_id": 7001, **telegram.message_update(user, user, TELEGRAM_TEXT)}
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(
                        f"http://127.0.0.1:{port}/telegram/hook",
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                    ) as response,
                ):
                    assert response.status == 200
                slack.add_user("UXANTH", SLACK_NAME, locale="en-US")
                dm = {
                    "type": "message",
                    "channel": "DXANTH",
                    "channel_type": "im",
                    "user": "UXANTH",
                    "text": SLACK_TEXT,
                    "ts": "1763340000.000100",
                }
                await slack.push_envelope("events_api", event_envelope(dm))

                await until(
                    lambda: (
                        any(ANSWER in c.params["text"] for c in telegram.calls("sendMessage"))
                        and any(m.channel == "DXANTH" for m in slack.messages)
                    ),
                    120,
                    "answer on both platforms",
                )
                process.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(process.wait(), 60)
                await asyncio.wait_for(asyncio.gather(*readers), 10)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
                await slack.stop()
    log = "".join(lines)
    assert code == 0, log
    assert "stopped" in log
    (answer,) = [message for message in slack.messages if message.channel == "DXANTH"]
    assert "SAFFRON-HERON" in str(answer.blocks)  # the answer reached both people
    return log


@pytest.mark.parametrize("log_content", [False, True], ids=["content-off", "content-on"])
async def test_a_debug_run_logs_no_secret_and_no_message_text(
    log_content: bool, request: pytest.FixtureRequest, tmp_path: Path, private_index_dir: Path
) -> None:
    database_url, db_password = database_with_password(request, tmp_path)
    log = await debug_run(tmp_path, private_index_dir, database_url, log_content=log_content)

    secrets = [
        TELEGRAM_TOKEN,
        TELEGRAM_TOKEN.partition(":")[2],
        quote(TELEGRAM_TOKEN, safe=""),
        WEBHOOK_SECRET,
        SLACK_BOT_TOKEN,
        SLACK_APP_TOKEN,
        SLACK_SIGNING_SECRET,
        LLM_API_KEY,
        OPENAI_API_KEY,
    ] + ([db_password] if db_password else [])
    for secret in secrets:
        assert secret not in log, secret
    assert "DEBUG knowledge.answer: question signals" in log  # our own debugging is there

    content = [
        TELEGRAM_NAME,
        "Zebulon",
        "PURPLE-WOMBAT",
        SLACK_NAME,
        "Xanthippe",
        "ORANGE-OTTER",
        "SAFFRON-HERON",
    ]
    if log_content:
        # The libraries' DEBUG lines carry the updates, bodies and Bot API calls, secrets
        # included: they are in the log now, with every secret redacted. (The Slack name is
        # only in slack_sdk's users.info response, and the runner holds slack_sdk at WARNING.)
        shown = [text for text in content if "Xanthippe" not in text]
        assert [text for text in shown if text not in log] == [], log
        assert f"918273645:{REDACTED}" in log and f"'secret_token': '{REDACTED}'" in log
    else:
        leaked = [text for text in content if text in log]
        assert leaked == [], log
