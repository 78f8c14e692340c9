"""Keeping secrets and what people write out of the log.

Two filters sit on every handler of the root logger. A filter on a logger sees only the
records made by that very logger, not those its children propagate; a handler filter sees
every record that reaches the handler, whichever logger (ours or a library's) made it.

- :class:`SecretRedactor` replaces every configured secret (tokens, signing and webhook
  secrets, API keys, passwords in URLs) with ``[redacted]``, in the message, the exception
  text and the stack, whatever the level.
- :class:`ContentGate` drops the libraries' DEBUG records: python-telegram-bot logs whole
  updates and every Bot API call with its parameters, Slack's SDK every Socket Mode
  message, HTTP clients every URL. Our own DEBUG lines (which never carry message texts or
  names) pass. ``TRAINBOT_LOG_CONTENT=true`` lets the libraries' DEBUG lines through too.

:func:`install` puts both on the root logger's handlers, those there and those added
later; it is idempotent, and is called wherever logging is configured.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, unquote, urlsplit

if TYPE_CHECKING:
    from bot.settings import Settings

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
OWN_LOGGERS = frozenset({"adapters", "bot", "knowledge", "quizzes", "trainbot"})
"""Top-level logger names whose DEBUG records pass the :class:`ContentGate`."""

SECRET_SETTINGS = (
    "telegram_token",
    "telegram_webhook_secret",
    "slack_bot_token",
    "slack_app_token",
    "slack_signing_secret",
    "llm_api_key",
)
URL_SETTINGS = (
    "database_url",
    "chroma_url",
    "llm_base_url",
    "telegram_api_url",
    "slack_api_url",
    "https_proxy",
)

# Shorter values are not worth garbling every log line that happens to contain them.
MIN_CONFIGURED_LENGTH = 6
MIN_ENVIRONMENT_LENGTH = 8
# The variables LangChain providers, Chroma and the usual tools read credentials from
# (OPENAI_API_KEY, DASHSCOPE_API_KEY, HF_TOKEN, CHROMA_CLIENT_AUTH_CREDENTIALS, PGPASSWORD...).
_SECRET_VARIABLE = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.IGNORECASE)
_URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:[^/@\s]*@", re.IGNORECASE)
_EXCEPTIONS = logging.Formatter()


def variants(secret: str) -> set[str]:
    """The forms in which ``secret`` may appear in a log line: as written and percent-encoded.

    Of a Telegram bot token (``<bot id>:<secret>``) only the secret part is kept: it is in
    the token however the token is printed (whole, with the colon encoded, or split), and
    the bot id, which is public, still tells which bot a line is about.
    """
    bot_id, colon, rest = secret.partition(":")
    if colon and bot_id.isascii() and bot_id.isdigit() and len(rest) >= MIN_CONFIGURED_LENGTH:
        secret = rest
    return {secret, quote(secret, safe=""), quote_plus(secret, safe="")}


def url_password(url: str) -> str:
    """The password in a URL such as ``postgresql://user:password@host/db`` ('' if none)."""
    if not _URL_WITH_PASSWORD.match(url.strip()):
        return ""
    try:
        password = urlsplit(url.strip()).password
    except ValueError:  # a malformed port: the password is still what the user wrote
        password = url.strip().split("://", 1)[1].rpartition("@")[0].partition(":")[2]
    return unquote(password or "")


def configured_secrets(settings: Settings) -> set[str]:
    """Every secret in the settings, in every form it may be logged in."""
    found: set[str] = set()
    values = [str(getattr(settings, name)) for name in SECRET_SETTINGS]
    values += [url_password(str(getattr(settings, name))) for name in URL_SETTINGS]
    for value in values:
        if len(value) >= MIN_CONFIGURED_LENGTH:
            found |= variants(value)
    return {form for form in found if len(form) >= MIN_CONFIGURED_LENGTH}


def environment_secrets(environ: Mapping[str, str] | None = None) -> set[str]:
    """Credentials in environment variables that libraries read on their own.

    The values of variables named like ``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``,
    ``*_PASSWORD`` or ``*_CREDENTIALS``, and passwords inside URL values (a proxy, a
    database), so a key LangChain picks up from ``OPENAI_API_KEY`` is redacted too.
    """
    environ = os.environ if environ is None else environ
    found: set[str] = set()
    for name, value in environ.items():
        secret = value if _SECRET_VARIABLE.search(name) else url_password(value)
        if len(secret) >= MIN_ENVIRONMENT_LENGTH:
            found |= variants(secret)
    return {form for form in found if len(form) >= MIN_ENVIRONMENT_LENGTH}


class SecretRedactor(logging.Filter):
    """Replaces known secrets in a record's message, exception text and stack.

    The record is changed in place (the message is formatted once and its arguments
    dropped), so every handler after this one, and every formatter, sees it redacted.

    Args:
        secrets: the values to redact (more can be added with :meth:`add`).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Redact these values from now on (empty ones are ignored)."""
        with self._lock:
            new = {secret for secret in secrets if secret} - self._secrets
            if not new:
                return
            self._secrets |= new
            # Longest first, so a whole token goes before the secret part inside it.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(secret) for secret in ordered))

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by ``[redacted]``."""
        pattern = self._pattern
        return text if pattern is None else pattern.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; never drops it."""
        pattern = self._pattern
        if pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:
            # A broken format string: the handler reports the record with its arguments.
            record.msg = pattern.sub(REDACTED, str(record.msg))
            record.args = (pattern.sub(REDACTED, repr(record.args)),)
            return True
        redacted = pattern.sub(REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatters use exc_text when it is set, so the traceback is rendered only once.
            record.exc_text = _EXCEPTIONS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = pattern.sub(REDACTED, record.exc_text)
        if record.stack_info:
            record.stack_info = pattern.sub(REDACTED, record.stack_info)
        return True


class ContentGate(logging.Filter):
    """Drops the libraries' DEBUG records, which carry message texts, names and payloads.

    A filter rather than logger levels: Slack Bolt gives its loggers a level of their own
    (copied from the root logger when they are made), which a parent's level cannot
    override.

    Args:
        enabled: let them through (``TRAINBOT_LOG_CONTENT=true``).
    """

    def __init__(self, *, enabled: bool = False) -> None:
        super().__init__()
        self.enabled = enabled

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether the record may be written."""
        if self.enabled or record.levelno >= logging.INFO:
            return True
        return record.name.partition(".")[0] in OWN_LOGGERS


_REDACTOR = SecretRedactor()
_GATE = ContentGate()
_hooked: list[logging.Logger] = []  # the root logger whose addHandler guards new handlers


def _guard(handler: logging.Handler) -> None:
    for guard in (_GATE, _REDACTOR):  # the gate first: a dropped record is never formatted
        if guard not in handler.filters:
            handler.addFilter(guard)


def _guard_later_handlers(root: logging.Logger) -> None:
    """Make the root logger guard each handler added to it from now on.

    A handler added after :func:`install` (a ``basicConfig`` that runs later, a test
    framework's capture handler, an embedding application's own) would otherwise write
    records unfiltered, and the standard library has no hook for it.
    """
    if root in _hooked:
        return
    add_handler = root.addHandler

    def add_guarded_handler(handler: logging.Handler) -> None:
        add_handler(handler)
        _guard(handler)

    root.addHandler = add_guarded_handler  # type: ignore[method-assign,assignment]
    _hooked.append(root)


def install(settings: Settings | None = None) -> None:
    """Put the content gate and the secret redactor on every root handler, now and later.

    Args:
        settings: the configuration whose secrets to redact and whose
            ``TRAINBOT_LOG_CONTENT`` to follow; without it (before the settings are read)
            only the environment's credentials are known and content stays out.
    """
    _REDACTOR.add(*environment_secrets())
    if settings is not None:
        _REDACTOR.add(*configured_secrets(settings))
        _GATE.enabled = settings.log_content
    root = logging.getLogger()
    _guard_later_handlers(root)
    for handler in root.handlers:
        _guard(handler)
    if logging.lastResort is not None:  # used while the root logger has no handler
        _guard(logging.lastResort)


def redact(*secrets: str) -> None:
    """Redact these values too (e.g. a webhook secret generated at start), from now on."""
    found: set[str] = set()
    for secret in secrets:
        if len(secret) >= MIN_CONFIGURED_LENGTH:
            found |= variants(secret)
    _REDACTOR.add(*(form for form in found if len(form) >= MIN_CONFIGURED_LENGTH))
    install()


def scrub(text: str) -> str:
    """``text`` with every secret known so far replaced (for text shown outside the log,
    such as the readiness endpoint's details)."""
    return _REDACTOR.redact(text)
