"""Reading numbers that people type or that come back on buttons: ASCII digits only.

``str.isdigit()`` is true for superscripts (``²``) and other digits ``int()`` refuses, and
``int()`` itself takes any script's decimal digits (``٣``, ``３``); a number that is part of
an id, a payload or a week must be written the one way the bot writes it.
"""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")

MAX_DIGITS = 18
"""Longest number accepted: it still fits a signed 64-bit column."""


def ascii_int(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """The value of ``text`` when it is nothing but ASCII digits (at most ``max_digits``).

    Returns:
        The number, or ``None`` for anything else: an empty text, a sign, spaces,
        superscripts, other scripts' digits, or too many digits.
    """
    if len(text) > max_digits or _ASCII_DIGITS.fullmatch(text) is None:
        return None
    return int(text)
