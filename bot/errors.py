"""Errors the application raises on purpose, as one small hierarchy.

The CLI prints any :class:`TrainbotError` as one line and exits non-zero; nothing in a
library calls ``sys.exit``.
"""

from __future__ import annotations


class TrainbotError(Exception):
    """Base class of every error trainbot raises deliberately."""

    exit_code = 1


class ConfigError(TrainbotError):
    """A configuration value is missing or invalid; the message names the variable."""

    exit_code = 2
