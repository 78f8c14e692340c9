"""Looking up a person's message in their language."""

from __future__ import annotations

from bot.locales import en, zh

LANGUAGES = ("zh", "en")
_CATALOGS: dict[str, dict[str, str]] = {"zh": zh.MESSAGES, "en": en.MESSAGES}


def language_from_locale(locale: str | None, default: str) -> str:
    """Choose ``zh`` or ``en`` from a platform locale such as ``zh-hans`` or ``en-US``.

    Args:
        locale: the platform's locale string, if any.
        default: the organisation's default language, used when the locale is unknown.
    """
    if locale:
        prefix = locale.replace("_", "-").split("-")[0].lower()
        if prefix in _CATALOGS:
            return prefix
    return default if default in _CATALOGS else "zh"


def t(language: str, key: str, **values: object) -> str:
    """Return message ``key`` in ``language`` with ``values`` filled in.

    Raises:
        KeyError: when no catalog has ``key`` (a programming error, caught by the tests).
    """
    catalog = _CATALOGS.get(language, _CATALOGS["zh"])
    return catalog[key].format(**values)
