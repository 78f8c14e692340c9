"""Log lines as JSON objects, one per line, for a log collector (``TRAINBOT_LOG_FORMAT=json``).

Each line has ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message`` and
``process`` (the process id, which tells replicas on one machine apart), plus ``exc``
when the record carries a traceback and ``stack`` when it carries a stack.

Only the formatter changes: the filters of :mod:`bot.logsafety` sit on the handlers and
run before any formatter, so secrets are redacted and people's messages kept out exactly
as in text lines. The formatter uses the traceback text the redactor left on the record
(``exc_text``) rather than formatting the exception again, which would bring the secret
back.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

_active = False


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line (newlines inside values are escaped)."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def use(log_format: str) -> None:
    """Give every handler of the root logger the formatter for ``log_format``.

    ``json`` also routes :mod:`warnings` through logging, so a library's warning is a JSON
    line too rather than free text among the objects. ``text`` leaves the handlers as
    they are.
    """
    global _active
    if log_format != "json":
        return
    formatter = JsonFormatter()
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    logging.captureWarnings(True)
    _active = True


def active() -> bool:
    """Whether log lines are JSON (then messages meant for stderr go through logging)."""
    return _active
