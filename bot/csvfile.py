"""Reading the CSV files admins import (the roster, business KPIs): text, records, header.

Every problem names ``file:line`` and raises the importer's own error type, so the CLI
prints one line whichever file it was.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.errors import TrainbotError


def read_text(path: Path, error: type[TrainbotError]) -> str:
    """The file as text: UTF-8, with or without a byte-order mark (Excel's 'CSV UTF-8')."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"{path}:{line}: not UTF-8 text; save the sheet as 'CSV UTF-8' "
            "(Excel's plain 'CSV' uses the system's legacy encoding)"
        ) from None


def records(path: Path, text: str, error: type[TrainbotError]) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the physical line each starts on (quoted cells may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                yield start, [cell.strip() for cell in cells]
    except csv.Error as exc:
        raise error(f"{path}:{end + 1}: {exc}") from None


def columns(
    path: Path,
    line: int,
    header: list[str],
    *,
    known: Sequence[str],
    required: Sequence[str],
    error: type[TrainbotError],
) -> list[str | None]:
    """Column names by position (``None`` for a position without a name), or every problem
    of the header in one error: unknown, missing or repeated columns."""
    names = [cell.lower() or None for cell in header]
    problems = []
    unknown = [name for name in names if name is not None and name not in known]
    if unknown:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in ";\t"):
            hint = "; the columns must be separated by commas"
        problems.append(f"unknown column(s) {quoted(unknown)} (known: {', '.join(known)}){hint}")
    missing = [name for name in required if name not in names]
    if missing:
        problems.append(f"missing required column(s) {quoted(missing)}")
    repeated = sorted({name for name in names if name is not None and names.count(name) > 1})
    if repeated:
        problems.append(f"column(s) {quoted(repeated)} appear more than once")
    if problems:
        raise error(f"{path}:{line}: " + "; ".join(problems))
    return names


def open_table(
    path: Path,
    *,
    known: Sequence[str],
    required: Sequence[str],
    error: type[TrainbotError],
) -> tuple[list[str | None], Iterator[tuple[int, list[str]]]]:
    """The file's checked header (see :func:`columns`) and its remaining records.

    Raises:
        error: when the file cannot be read, is empty or its header is wrong.
    """
    rows = records(path, read_text(path, error), error)
    header_line, header = next(rows, (1, []))
    if not header:
        raise error(f"{path}: the file is empty (expected a header row)")
    names = columns(path, header_line, header, known=known, required=required, error=error)
    return names, rows


def quoted(names: Sequence[str]) -> str:
    """``'a', 'b'``: names as a message lists them."""
    return ", ".join(repr(name) for name in names)
