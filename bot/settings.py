"""Configuration, read from the environment and an optional ``.env`` file.

Every variable is prefixed ``TRAINBOT_`` and listed in ``.env.example``. :func:`load_settings`
turns pydantic's validation report into one :class:`~bot.errors.ConfigError` that names each
bad variable, so the CLI can print it without a traceback.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from knowledge.calibration import DEFAULT_STRICTNESS, MAX_STRICTNESS

ENV_PREFIX = "TRAINBOT_"
Language = Literal["zh", "en"]
EnrolmentSetting = Literal["auto", "open", "roster", "approval"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# [0-9], not \d: \d also matches other scripts' digits, and times are written in ASCII.
_TIME_RE = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


def parse_hhmm(value: str) -> time:
    """Parse ``HH:MM`` (24-hour clock) into a :class:`datetime.time`.

    Raises:
        ValueError: when the text is not a valid time of day.
    """
    match = _TIME_RE.match(value.strip())
    if not match:
        raise ValueError(f"invalid time {value!r} (expected HH:MM, 24-hour clock)")
    return time(int(match.group(1)), int(match.group(2)))


class QuietHours:
    """A daily window, possibly across midnight, in which nothing is pushed."""

    def __init__(self, start: time, end: time) -> None:
        self.start = start
        self.end = end

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """Parse ``HH:MM-HH:MM``; an empty string means no quiet hours."""
        text = text.strip()
        if not text:
            return None
        parts = text.split("-")
        if len(parts) != 2:
            raise ValueError(f"invalid quiet hours {text!r} (expected HH:MM-HH:MM)")
        start, end = parse_hhmm(parts[0]), parse_hhmm(parts[1])
        if start == end:
            raise ValueError(f"invalid quiet hours {text!r}: start equals end")
        return cls(start, end)

    def contains(self, moment: time) -> bool:
        """Whether a local time of day falls inside the window (end excluded)."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """All of trainbot's configuration. Field names map to ``TRAINBOT_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # Storage and content
    database_url: str = "sqlite:///var/trainbot.db"
    content_dir: Path = Path("content")
    index_dir: Path = Path("var/index")
    chroma_url: str = ""
    embeddings: str = "local"
    llm: str = ""
    llm_base_url: str = ""
    llm_api_key: str = ""
    # Where a direct connection to the Bot API or the LLM is blocked (mainland China).
    https_proxy: str = ""
    qa_strictness: float = Field(default=DEFAULT_STRICTNESS, ge=0, le=MAX_STRICTNESS)

    # Organisation defaults
    timezone: str = "Asia/Shanghai"
    language: Language = "zh"
    quiz_time: str = "09:30"
    lesson_time: str = "09:00"
    quiet_hours: str = "21:00-08:00"
    working_days: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )
    reminder_hours: float = Field(default=4.0, ge=0)
    observation_months: int = Field(default=1, ge=0, le=12)
    report_schedule: str = "mon 09:00"
    report_channel: str = ""
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    enrolment: EnrolmentSetting = "auto"
    log_level: str = "INFO"
    log_content: bool = False
    followup_minutes: int = Field(default=10, ge=0)
    kpi_weeks: int = Field(default=12, ge=3, le=104)
    kpi_trained_coverage: float = Field(default=0.8, gt=0, le=1)
    improve_weeks: int = Field(default=4, ge=1, le=52)
    review_months: int = Field(default=6, ge=0, le=60)

    # Privacy
    retention_days: int = Field(default=365, ge=0)

    # Runtime
    dispatch_interval: float = Field(default=60.0, ge=1)
    claim_lease: float = Field(default=90.0, ge=3)
    send_timeout: float = Field(default=10.0, gt=0)
    stop_grace: float = Field(default=20.0, ge=0)
    index_poll: float = Field(default=30.0, ge=1)
    ops_port: int = Field(default=0, ge=0, le=65535)
    ops_listen: str = "0.0.0.0"
    log_format: Literal["text", "json"] = "text"

    # Telegram
    telegram_token: str = ""
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_rate: float = Field(default=30.0, ge=1, le=30)

    # Slack
    slack_bot_token: str = ""
    slack_app_token: str = ""
    slack_signing_secret: str = ""
    slack_api_url: str = "https://slack.com/api/"
    slack_port: int = Field(default=3000, ge=1, le=65535)

    @field_validator("working_days", "admins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("retention_days", mode="before")
    @classmethod
    def _empty_keeps_forever(cls, value: Any) -> Any:
        # TRAINBOT_RETENTION_DAYS= (empty) reads as "keep forever", like 0.
        return 0 if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "America" is a directory
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)"
            ) from exc
        return value

    @field_validator("quiz_time", "lesson_time")
    @classmethod
    def _valid_time(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _valid_quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value)
        return value

    @field_validator("working_days")
    @classmethod
    def _valid_days(cls, value: list[str]) -> list[str]:
        days = [day.lower()[:3] for day in value]
        bad = [day for day in days if day not in WEEKDAYS]
        if bad or not days:
            raise ValueError(f"expected weekdays from {', '.join(WEEKDAYS)}, got {value!r}")
        return days

    @field_validator("report_schedule")
    @classmethod
    def _valid_report_schedule(cls, value: str) -> str:
        parts = value.split()
        if len(parts) != 2 or parts[0].lower()[:3] not in WEEKDAYS:
            raise ValueError(f"invalid report schedule {value!r} (expected e.g. 'mon 09:00')")
        parse_hhmm(parts[1])
        return value

    @field_validator("report_channel")
    @classmethod
    def _valid_report_channel(cls, value: str) -> str:
        platform, _, channel_id = value.strip().partition(":")
        if value.strip() and (platform not in ("telegram", "slack", "console") or not channel_id):
            raise ValueError(
                f"invalid report channel {value!r} "
                "(expected platform:channel_id, e.g. slack:C0123ABCD or telegram:-1001234567890)"
            )
        return value.strip()

    @field_validator("admins")
    @classmethod
    def _valid_admins(cls, value: list[str]) -> list[str]:
        for item in value:
            platform, _, user_id = item.partition(":")
            if platform not in ("telegram", "slack", "console") or not user_id:
                raise ValueError(
                    f"invalid admin {item!r} (expected platform:user_id, e.g. slack:U0123)"
                )
        return value

    @field_validator("llm", "embeddings")
    @classmethod
    def _valid_model_spec(cls, value: str, info: Any) -> str:
        if value and value != "local" and ":" not in value:
            raise ValueError(
                f"invalid model spec {value!r} (expected provider:model, e.g. openai:gpt-4o-mini)"
            )
        if info.field_name == "embeddings" and not value:
            raise ValueError("must not be empty (use 'local' for the bundled model)")
        return value

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            shown = re.sub(r"(://[^/@\s]*?:)[^/\s]*@", r"\1***@", value)  # never the password
            raise ValueError(
                f"unsupported database URL {shown!r} (expected sqlite:///path or postgresql://...)"
            )
        return value

    # Derived values, parsed once the strings are known to be valid.
    @property
    def zone(self) -> ZoneInfo:
        """The organisation's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def quiet(self) -> QuietHours | None:
        """The quiet-hours window, or ``None`` when unset."""
        return QuietHours.parse(self.quiet_hours)

    def is_admin(self, platform: str, user_id: str) -> bool:
        """Whether ``platform:user_id`` is listed in ``TRAINBOT_ADMINS``."""
        return f"{platform}:{user_id}" in self.admins


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, raising one :class:`ConfigError` that names every bad variable.

    Args:
        **overrides: values that take precedence over the environment (used by the CLI's
            options such as ``--db``).
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{ENV_PREFIX}{field.upper()}: {message}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
