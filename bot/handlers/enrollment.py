"""Enrolment and personal settings: /start with track and time-zone choice, /settings."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, available_timezones

from bot.dispatcher import effective_time
from bot.events import Button, ButtonPress, Command, Event, Reply
from bot.handlers.basics import language_for
from bot.i18n import t
from bot.payloads import EnrolChoice, SettingChoice
from bot.people import enrol, find_person, is_timezone
from bot.settings import parse_hhmm
from bot.store.models import Person, PersonStatus

if TYPE_CHECKING:
    from bot.context import BotContext

STEP_TRACK = "track"
STEP_TIMEZONE = "timezone"
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Kuala_Lumpur",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
)
QUIZ_TIMES = ("08:30", "09:30", "12:30", "17:30")


def _zone_label(zone: str, now: datetime) -> str:
    offset = now.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{zone} (UTC{sign}{hours}{f':{rest:02d}' if rest else ''})"


def zone_buttons(
    choice: type[EnrolChoice] | type[SettingChoice], default: str, now: datetime
) -> tuple[tuple[Button, ...], ...]:
    """Time-zone choices, the organisation's default first."""
    zones = [default, *(zone for zone in COMMON_ZONES if zone != default)]
    return tuple((Button(_zone_label(zone, now), choice("tz", zone).encode()),) for zone in zones)


def _track_buttons(ctx: BotContext, language: str) -> tuple[tuple[Button, ...], ...]:
    tracks = sorted(ctx.library.course.tracks.values(), key=lambda track: (track.level, track.id))
    return tuple(
        (Button(track.title.get(language), EnrolChoice("track", track.id).encode()),)
        for track in tracks
    )


def _summary(ctx: BotContext, person: Person) -> Reply:
    track = ctx.library.course.tracks.get(person.track_id or "")
    return Reply(
        t(
            person.language,
            "enrolled_summary",
            track=track.title.get(person.language) if track else person.track_id,
            time=person.quiz_time or ctx.settings.quiz_time,
            timezone=person.timezone,
        )
    )


def _next_step(ctx: BotContext, person: Person) -> list[Reply]:
    """Ask for what enrolment still lacks, or confirm it is complete."""
    if person.enrollment_step == STEP_TRACK:
        return [
            Reply(t(person.language, "choose_track"), buttons=_track_buttons(ctx, person.language))
        ]
    if person.enrollment_step == STEP_TIMEZONE:
        buttons = zone_buttons(EnrolChoice, ctx.settings.timezone, ctx.clock.now())
        return [Reply(t(person.language, "choose_timezone"), buttons=buttons)]
    return [_summary(ctx, person)]


def start(ctx: BotContext, event: Command) -> list[Reply]:
    """Enrol a new person (then ask track and time zone), or resume pushes after /stop."""
    who = event.person
    # No role is stored here: admins are whoever TRAINBOT_ADMINS lists when they write.
    with ctx.db.session() as session:
        before = find_person(session, who)
        paused = before is not None and before.status is not PersonStatus.ACTIVE
        person, created = enrol(
            session,
            who,
            now=ctx.clock.now(),
            default_language=ctx.settings.language,
            default_timezone=ctx.settings.timezone,
        )
        if created:
            # Slack tells us the time zone; Telegram does not, so we ask.
            person.enrollment_step = (
                STEP_TRACK if not person.track_id else None if who.timezone else STEP_TIMEZONE
            )
            if not person.track_id and len(ctx.library.course.tracks) == 1:
                person.track_id = next(iter(ctx.library.course.tracks))
                person.enrollment_step = None if who.timezone else STEP_TIMEZONE
        # The welcome promises exactly the questions _next_step is about to ask.
        step = person.enrollment_step
        questions = (step == STEP_TRACK) + (
            step in (STEP_TRACK, STEP_TIMEZONE) and not who.timezone
        )
        if created:
            key = f"welcome_new_{questions}"
        elif step in (STEP_TRACK, STEP_TIMEZONE):
            key = "welcome_unfinished"  # left /start before answering: pick up from there
        else:
            # Only someone who had stopped (or was unreachable) has pushes to resume.
            key = "welcome_back" if paused else "welcome_again"
        greeting = Reply(t(person.language, key, name=person.display_name))
        return [greeting, *_next_step(ctx, person)]


def enrol_button(ctx: BotContext, event: ButtonPress, payload: EnrolChoice) -> list[Reply]:
    """A choice made during enrolment (track, then time zone)."""
    language = language_for(ctx, event)
    what, value = payload.what, payload.value
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        if person is None or person.enrolled_at is None:
            return [Reply(t(language, "not_enrolled"))]
        now = ctx.clock.now()
        if what == "track" and value in ctx.library.course.tracks:
            if person.enrollment_step != STEP_TRACK and value != person.track_id:
                # An enrolment button pressed after enrolment (the /start message stays
                # in the chat) moves only where /settings track would: a learner must
                # not put themselves on a track the course keeps for the roster.
                reply = _change_track(ctx, person, value, platform_zone=event.person.timezone)
                person.updated_at = now
                return [reply]
            person.track_id = value
            if person.enrollment_step == STEP_TRACK:
                person.enrollment_step = None if event.person.timezone else STEP_TIMEZONE
        elif what == "tz" and _valid_zone(value):
            person.timezone = value
            if person.enrollment_step == STEP_TIMEZONE:
                person.enrollment_step = None
        else:
            return [Reply(t(person.language, "stale_button"))]
        person.updated_at = now
        return _next_step(ctx, person)


def _valid_zone(zone: str) -> bool:
    return is_timezone(zone) and ("/" in zone or zone == "UTC")


@cache
def _zones_by_place() -> dict[str, tuple[str, ...]]:
    """Area/City zone keys by their last part, lower case, spaces as underscores."""
    places: dict[str, list[str]] = {}
    for zone in available_timezones():
        if _valid_zone(zone) and not zone.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            places.setdefault(zone.rsplit("/", 1)[-1].lower(), []).append(zone)
    return {place: tuple(sorted(zones)) for place, zones in places.items()}


_SHANGHAI = "Asia/Shanghai"
# Places people type that are not the last part of a zone key: China has one zone, named
# after Shanghai, and Chinese speakers type cities in Chinese.
_PLACES = {
    **dict.fromkeys(
        (
            "中国",
            "北京",
            "北京时间",
            "上海",
            "广州",
            "深圳",
            "杭州",
            "成都",
            "重庆",
            "武汉",
            "南京",
            "西安",
            "天津",
            "苏州",
            "长沙",
            "郑州",
            "青岛",
            "厦门",
            "沈阳",
            "昆明",
            "china",
            "beijing",
            "peking",
            "guangzhou",
            "shenzhen",
            "hangzhou",
            "chengdu",
            "wuhan",
            "nanjing",
            "xian",
            "xi'an",
            "tianjin",
            "suzhou",
        ),
        _SHANGHAI,
    ),
    "香港": "Asia/Hong_Kong",
    "澳门": "Asia/Macau",
    "台北": "Asia/Taipei",
    "新加坡": "Asia/Singapore",
    "东京": "Asia/Tokyo",
    "首尔": "Asia/Seoul",
    "曼谷": "Asia/Bangkok",
    "吉隆坡": "Asia/Kuala_Lumpur",
    "雅加达": "Asia/Jakarta",
    "马尼拉": "Asia/Manila",
    "胡志明市": "Asia/Ho_Chi_Minh",
    "迪拜": "Asia/Dubai",
    "孟买": "Asia/Kolkata",
    "新德里": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "伦敦": "Europe/London",
    "巴黎": "Europe/Paris",
    "柏林": "Europe/Berlin",
    "莫斯科": "Europe/Moscow",
    "纽约": "America/New_York",
    "洛杉矶": "America/Los_Angeles",
    "旧金山": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "硅谷": "America/Los_Angeles",
    "西雅图": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "温哥华": "America/Vancouver",
    "多伦多": "America/Toronto",
    "悉尼": "Australia/Sydney",
    "墨尔本": "Australia/Melbourne",
}
_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?00)?", re.IGNORECASE)


def matching_zones(name: str) -> tuple[str, ...]:
    """The IANA zones ``name`` can mean: itself when it is one (``Asia/Shanghai``), else
    those whose last part is the name (``vancouver`` or ``new york``), case-insensitive;
    a city people type that is no zone's name (北京, Shenzhen, 温哥华); or a whole-hour
    offset (``UTC+8``, ``GMT-5``: a fixed offset, without daylight saving time).

    People type a city, not a zone key; more than one match is for the person to choose.
    """
    name = name.strip()
    if _valid_zone(name):
        return (name,)
    place = _PLACES.get(name.lower().strip().removesuffix("市"))
    if place is not None:
        return (place,)
    offset = _OFFSET.fullmatch(name)
    if offset is not None and int(offset.group(2)) <= 14:
        hours = int(offset.group(2))
        if hours == 0:
            return ("UTC",)
        # The Etc zones count the other way round: UTC+8 is Etc/GMT-8.
        return (f"Etc/GMT{'-' if offset.group(1) == '+' else '+'}{hours}",)
    return _zones_by_place().get(name.lower().replace(" ", "_"), ())


def _switchable_tracks(ctx: BotContext, person: Person) -> list[str]:
    """Tracks this person may move to themselves (``switchable`` in tracks.yaml)."""
    tracks = ctx.library.course.tracks
    return sorted(
        track_id
        for track_id, track in tracks.items()
        if track.switchable and track_id != person.track_id
    )


def _settings_reply(ctx: BotContext, person: Person) -> Reply:
    language = person.language
    track = ctx.library.course.tracks.get(person.track_id or "")
    text = t(
        language,
        "settings_current",
        lang_name=t(language, f"language_name_{language}"),
        timezone=person.timezone,
        time=person.quiz_time or ctx.settings.quiz_time,
        track=track.title.get(language) if track else "—",
    )
    switchable = _switchable_tracks(ctx, person)
    if switchable:
        text += "\n" + t(language, "settings_track_hint", tracks=", ".join(switchable))
    buttons: list[tuple[Button, ...]] = [
        (
            Button(t(language, "language_name_zh"), SettingChoice("lang", "zh").encode()),
            Button(t(language, "language_name_en"), SettingChoice("lang", "en").encode()),
        ),
        tuple(Button(value, SettingChoice("time", value).encode()) for value in QUIZ_TIMES),
        *zone_buttons(SettingChoice, ctx.settings.timezone, ctx.clock.now()),
    ]
    return Reply(text, buttons=tuple(buttons))


def _apply(
    ctx: BotContext, person: Person, what: str, value: str, *, platform_zone: str | None
) -> Reply:
    """Change one setting; the reply confirms it in the (possibly new) language."""
    if what in ("lang", "language") and value in ("zh", "en"):
        person.language = value
        return Reply(t(value, "settings_saved", what=t(value, "settings_language")))
    language = person.language
    if what in ("tz", "timezone"):
        zones = matching_zones(value)
        if len(zones) > 1:
            return Reply(
                t(language, "settings_timezone_choose", name=value, zones=", ".join(zones))
            )
        if not zones:
            return Reply(t(language, "settings_timezone_unknown", name=value))
        person.timezone = zones[0]
        return Reply(
            t(
                language,
                "settings_saved",
                what=t(language, "settings_timezone", timezone=zones[0]),
            )
        )
    if what == "time":
        try:
            moment = parse_hhmm(value)
        except ValueError as exc:
            return Reply(t(language, "settings_invalid", problem=str(exc)))
        person.quiz_time = f"{moment:%H:%M}"
        moved = effective_time(moment, ctx.settings.quiet)
        # Said now, so nobody waits at 22:30 for a quiz the dispatcher holds until morning.
        what_saved = (
            t(language, "settings_time", time=person.quiz_time)
            if moved == moment
            else t(
                language,
                "settings_time_quiet",
                time=person.quiz_time,
                quiet=str(ctx.settings.quiet),
                moved=f"{moved:%H:%M}",
            )
        )
        return Reply(t(language, "settings_saved", what=what_saved))
    if what == "track":
        return _change_track(ctx, person, value, platform_zone=platform_zone)
    return Reply(t(person.language, "settings_invalid", problem=f"{what} {value}".strip()))


def _change_track(
    ctx: BotContext, person: Person, value: str, *, platform_zone: str | None
) -> Reply:
    """Move to another track when that track lets learners choose it themselves."""
    language = person.language
    track = ctx.library.course.tracks.get(value.lower())
    if track is None or not track.switchable:
        switchable = _switchable_tracks(ctx, person)
        return Reply(
            t(
                language,
                "settings_track_refused",
                track=value,
                tracks=", ".join(switchable) or t(language, "settings_track_none"),
            )
        )
    person.track_id = track.id
    if person.enrollment_step == STEP_TRACK:
        # Chosen by command rather than button: enrolment moves on all the same.
        person.enrollment_step = None if platform_zone else STEP_TIMEZONE
    return Reply(
        t(
            language,
            "settings_saved",
            what=t(language, "settings_track_current", track=track.title.get(language)),
        )
    )


def settings_command(ctx: BotContext, event: Command) -> list[Reply]:
    """/settings shows the choices; ``/settings tz Europe/Berlin`` changes one directly."""
    language = language_for(ctx, event)
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        if person is None or person.enrolled_at is None:
            return [Reply(t(language, "not_enrolled"))]
        what, _, value = event.args.strip().partition(" ")
        if what and value.strip():
            # The rest of the line is the value: a city may be two words (New York).
            reply = _apply(
                ctx, person, what.lower(), value.strip(), platform_zone=event.person.timezone
            )
            person.updated_at = ctx.clock.now()
            return [reply]
        return [_settings_reply(ctx, person)]


def settings_button(ctx: BotContext, event: ButtonPress, payload: SettingChoice) -> list[Reply]:
    """A press on one of /settings' buttons."""
    language = language_for(ctx, event)
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        if person is None or person.enrolled_at is None:
            return [Reply(t(language, "not_enrolled"))]
        reply = _apply(
            ctx, person, payload.what, payload.value, platform_zone=event.person.timezone
        )
        person.updated_at = ctx.clock.now()
        return [reply]


def is_enrolled(person: Person | None) -> bool:
    """Enrolled and done with enrolment questions: eligible for pushes."""
    return bool(
        person and person.enrolled_at and person.enrollment_step is None and person.track_id
    )


__all__ = ["Event", "enrol_button", "is_enrolled", "settings_button", "settings_command", "start"]
