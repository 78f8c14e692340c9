"""Every message exists in Chinese and English with the same placeholders."""

from __future__ import annotations

import string

import pytest

from bot.i18n import language_from_locale, t
from bot.locales import en, zh


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogs_have_the_same_keys() -> None:
    assert set(zh.MESSAGES) == set(en.MESSAGES)


@pytest.mark.parametrize("key", sorted(zh.MESSAGES))
def test_placeholders_match(key: str) -> None:
    assert _fields(zh.MESSAGES[key]) == _fields(en.MESSAGES[key])


# The same in both languages on purpose: a bare title, and each language's own name.
LANGUAGE_NEUTRAL = {"lesson_header", "language_name_zh", "language_name_en"}


def test_chinese_messages_are_chinese_and_english_ones_are_not() -> None:
    for key in set(zh.MESSAGES) - LANGUAGE_NEUTRAL:
        assert any("\u4e00" <= char <= "\u9fff" for char in zh.MESSAGES[key]), key
        assert not any("\u4e00" <= char <= "\u9fff" for char in en.MESSAGES[key]), key


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh-CN", "zh"),
        ("zh_Hant_TW", "zh"),
        ("en-US", "en"),
        ("EN", "en"),
        ("ja", "zh"),
        (None, "zh"),
    ],
)
def test_language_from_locale(locale: str | None, expected: str) -> None:
    assert language_from_locale(locale, "zh") == expected


def test_unknown_locale_falls_back_to_the_org_default() -> None:
    assert language_from_locale("fr-FR", "en") == "en"


def test_values_are_filled_in() -> None:
    assert t("en", "welcome_new_2", name="Ann").startswith("Welcome, Ann!")
    assert "Ann" in t("zh", "welcome_new_2", name="Ann")
