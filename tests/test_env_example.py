"""`.env.example` lists every setting, each with a comment, and its values are valid."""

from __future__ import annotations

from bot.settings import ENV_PREFIX, Settings
from tests.conftest import REPO


def _entries() -> dict[str, tuple[str, str]]:
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    entries: dict[str, tuple[str, str]] = {}
    for index, line in enumerate(lines):
        if line.startswith(ENV_PREFIX):
            name, _, value = line.partition("=")
            entries[name] = (value, lines[index - 1])
    return entries


def test_every_setting_is_listed_with_a_comment() -> None:
    entries = _entries()
    expected = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert set(entries) == expected
    for name, (_, comment) in entries.items():
        assert comment.startswith("# ") and len(comment) > 10, name


def test_the_example_values_are_the_defaults() -> None:
    defaults = Settings()
    for name, (value, _) in _entries().items():
        field = name.removeprefix(ENV_PREFIX).lower()
        current = getattr(defaults, field)
        shown = ",".join(current) if isinstance(current, list) else str(current)
        if field in {"reminder_hours"}:
            assert float(value) == current
        else:
            assert value == shown, name
