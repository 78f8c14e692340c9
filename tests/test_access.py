"""Who may use the bot, and access that follows the data — on every front door.

Each transcript runs against the console, Telegram and Slack adapters (``chat_as``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from bot.admission import admitted_people
from bot.app import TrainBot
from bot.events import Audience, ButtonPress, Command, Conversation, ConversationKind, Person
from bot.payloads import QuizAnswer
from bot.reports.metrics import build_summary
from bot.roster import import_roster
from bot.store.models import AccessRequest, AccessStatus, AskedQuestion, Role
from bot.store.models import Person as StoredPerson
from bot.users import remove, restore, set_role
from bot.weeks import week_of
from tests.drivers import ChatDriver

DriverFactory = Callable[..., ChatDriver]
HEADER = "platform,user_id,name,team,manager,role\n"

REFUSED_EN = "only for the people on your organisation's training list"
REFUSED_ZH = "只对贵公司培训名单上的同事开放"


def key(driver: ChatDriver) -> str:
    """``platform:user_id`` as the bot stores (and TRAINBOT_ADMINS lists) the person."""
    return f"{driver.platform}:{driver.user_id}"


def import_rows(bot: TrainBot, tmp_path: Path, rows: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    report = import_roster(
        bot.ctx.db,
        path,
        course=bot.ctx.library.course,
        now=bot.ctx.clock.now(),
        default_language="en",
        default_timezone="Asia/Shanghai",
    )
    assert report.problems == [], report.problems


def stored(bot: TrainBot, driver: ChatDriver) -> StoredPerson | None:
    with bot.ctx.db.session() as session:
        return session.scalars(
            select(StoredPerson).where(
                StoredPerson.platform == driver.platform,
                StoredPerson.platform_user_id == driver.user_id,
            )
        ).one_or_none()


def scope_line(report: str) -> str:
    """The report's scope: the line with its dates."""
    (line,) = [line for line in report.splitlines() if " · " in line]
    return line


def count(bot: TrainBot, model: type) -> int:
    with bot.ctx.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def weekly_people(bot: TrainBot) -> tuple[int, set[str]]:
    """Enrolled count and names in the organisation's summary of the current week."""
    week = week_of(bot.ctx.clock.now(), "Asia/Shanghai")
    summary = build_summary(
        bot.ctx.db,
        bot.ctx.library.course,
        week=week,
        timezone="Asia/Shanghai",
        admitted=admitted_people(bot.ctx.settings),  # as /report and the Monday job count
    )
    assert summary.people is not None
    return summary.total.this_week.enrolled, {person.name for person in summary.people}


async def test_without_a_roster_anyone_may_start(chat_as: DriverFactory, bot: TrainBot) -> None:
    (answer,) = await chat_as("walkin", "en").say("/start")
    assert "Welcome, Walkin!" in answer  # the console demo's open door


async def test_a_stranger_is_refused_under_the_roster_and_absent_from_every_report(
    chat_as: DriverFactory, bot: TrainBot, tmp_path: Path
) -> None:
    member = chat_as("member", "en")
    import_rows(bot, tmp_path, f"{member.platform},{member.user_id},Member,Sales,,\n")
    stranger = chat_as("stranger", "en-US")
    people_before = count(bot, StoredPerson)

    for typed in ("/start", "What is the activation stage?", "/help", "/quiz", "/report"):
        (answer,) = await stranger.say(typed)
        assert REFUSED_EN in answer, typed
        assert "Welcome" not in answer and "Sources" not in answer
    press = ButtonPress(
        Person(stranger.platform, stranger.user_id, "Stranger", "en"),
        Conversation(stranger.platform, stranger.user_id),
        QuizAnswer(1, "a").encode(),
    )
    (pressed,) = await bot.handle(press)
    assert REFUSED_EN in pressed.text
    (chinese,) = await chat_as("fremder", "zh-CN").say("你好")
    assert REFUSED_ZH in chinese

    assert stored(bot, stranger) is None and count(bot, StoredPerson) == people_before
    assert count(bot, AskedQuestion) == 0
    (welcome,) = await member.say("/start")
    assert "Welcome back, Member" in welcome or "Welcome, Member" in welcome
    enrolled, names = weekly_people(bot)
    assert (enrolled, names) == (1, {"Member"})


async def test_someone_who_enrolled_while_open_is_refused_and_uncounted_after_a_roster(
    chat_as: DriverFactory, bot: TrainBot, tmp_path: Path
) -> None:
    walkin = chat_as("walkin", "en")
    await walkin.say("/start")
    assert weekly_people(bot) == (1, {"Walkin"})
    member = chat_as("member", "en")
    import_rows(bot, tmp_path, f"{member.platform},{member.user_id},Member,,,\n")

    (answer,) = await walkin.say("/progress")
    assert REFUSED_EN in answer
    assert weekly_people(bot) == (1, {"Member"})
    assert stored(bot, walkin) is not None  # kept, not erased: listing them again lets them in
    boss = chat_as("boss", "en")
    bot.ctx.settings.admins.append(key(boss))
    (report,) = await boss.say("/report 2026-W47")
    # Member only, not Walkin; "—": nothing was sent yet this week, so no rate.
    assert "Active rate: — (0/1)" in report


async def test_admins_are_let_in_whatever_the_roster_says(
    chat_as: DriverFactory, bot: TrainBot, tmp_path: Path
) -> None:
    import_rows(bot, tmp_path, "console,someone,Someone,,,\n")
    boss = chat_as("boss", "en")
    bot.ctx.settings.admins.append(key(boss))
    (answer,) = await boss.say("/help")
    assert "your training assistant" in answer


async def test_approval_records_a_request_and_an_admin_approves_or_denies_it(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    bot.ctx.settings.enrolment = "approval"
    sam = chat_as("sam", "en")
    (first,) = await sam.say("hello")
    assert "I've asked an administrator to let you in" in first
    (second,) = await sam.say("/start")
    assert "still waiting for an administrator" in second
    assert stored(bot, sam) is None  # a request, not a person
    with bot.ctx.db.session() as session:
        (request,) = session.scalars(select(AccessRequest)).all()
        assert (request.status, request.display_name) == (AccessStatus.PENDING, "Sam")

    boss = chat_as("boss", "en")
    bot.ctx.settings.admins.append(key(boss))
    (listing,) = await boss.say("/approve")
    assert "Sam" in listing and f"({key(sam)}) asked to use the bot" in listing
    assert "✅ Approve" in listing and "❌ Deny" in listing
    (approved,) = await boss.press("Approve")
    assert f"Approved: Sam ({key(sam)})" in approved
    (welcome,) = await sam.say("/start")
    assert "Welcome, Sam!" in welcome

    (not_for_you,) = await chat_as("nosy", "en").say("/approve")
    assert "I've asked an administrator" in not_for_you  # a stranger, not an admin
    (listing,) = await boss.say("/approve")
    assert "Nosy" in listing and "Sam" not in listing
    (denied,) = await boss.press("Deny")
    assert "Denied: Nosy" in denied
    (refused,) = await chat_as("nosy", "en").say("/start")
    assert REFUSED_EN in refused
    (again,) = await boss.press("Approve")  # the old button of a decided request
    assert "was already denied" in again
    (none,) = await boss.say("/approve")
    assert "No access requests are waiting." in none


async def test_only_admins_may_approve(chat_as: DriverFactory, bot: TrainBot) -> None:
    (answer,) = await chat_as("lea", "en").say("/approve")
    assert "Only administrators can approve access requests." in answer


async def test_admin_rights_follow_the_settings_not_a_stored_role(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    erin = chat_as("erin", "en")
    bot.ctx.settings.admins.append(key(erin))
    await erin.say("/start")
    person = stored(bot, erin)
    assert person is not None and person.role is Role.LEARNER  # nothing stored as admin
    (report,) = await erin.say("/report")
    assert "Whole organisation" in report

    bot.ctx.settings.admins.remove(key(erin))  # TRAINBOT_ADMINS at the next start
    (after,) = await erin.say("/report")
    assert "The weekly report is for managers and admins" in after


async def test_a_removed_person_is_refused_and_counted_nowhere(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    rita = chat_as("rita", "en")
    await rita.say("/start")
    assert weekly_people(bot)[1] == {"Rita"}
    remove(bot.ctx.db, key(rita), now=bot.ctx.clock.now())

    (answer,) = await rita.say("/quiz")
    assert REFUSED_EN in answer
    assert weekly_people(bot) == (0, set())
    person = stored(bot, rita)
    assert person is not None and person.enrolled_at is not None  # data kept

    restore(bot.ctx.db, key(rita), now=bot.ctx.clock.now())
    (back,) = await rita.say("/start")
    assert "Welcome back, Rita" in back


async def test_a_manager_the_roster_moves_or_demotes_loses_the_old_teams_report(
    chat_as: DriverFactory, bot: TrainBot, tmp_path: Path
) -> None:
    mona, lee, kim = chat_as("mona", "en"), chat_as("lee", "en"), chat_as("kim", "en")
    boss_of = f"{mona.platform}:{mona.user_id}"
    import_rows(
        bot,
        tmp_path,
        f"{mona.platform},{mona.user_id},Mona,North,,manager\n"
        f"{lee.platform},{lee.user_id},Lee,North,{boss_of},\n"
        f"{kim.platform},{kim.user_id},Kim,South,,\n",
    )
    (report,) = await mona.say("/report")
    assert scope_line(report).startswith("North ·")

    # Moved to South, where Kim now reports to her; Lee gets a new manager (none yet).
    import_rows(
        bot,
        tmp_path,
        f"{mona.platform},{mona.user_id},Mona,South,,manager\n"
        f"{lee.platform},{lee.user_id},Lee,North,-,\n"
        f"{kim.platform},{kim.user_id},Kim,South,{boss_of},\n",
    )
    (moved,) = await mona.say("/report 2026-W47")  # this week: everyone enrolled today
    assert scope_line(moved).startswith("South ·")
    assert "Active rate: — (0/1)" in moved  # Kim: not Lee, nor Mona, who leads (no track)
    (north,) = await mona.say("/report North")
    assert "There is no team called North that you can see." in north

    import_rows(bot, tmp_path, f"{mona.platform},{mona.user_id},Mona,South,,learner\n")
    (demoted,) = await mona.say("/report")
    assert "The weekly report is for managers and admins" in demoted


async def test_a_manager_sees_their_direct_reports(
    chat_as: DriverFactory, bot: TrainBot, tmp_path: Path
) -> None:
    max_, ida = chat_as("max", "en"), chat_as("ida", "en")
    import_rows(
        bot,
        tmp_path,
        f"{max_.platform},{max_.user_id},Max,,,manager\n"
        f"{ida.platform},{ida.user_id},Ida,Far Away,{max_.platform}:{max_.user_id},\n",
    )
    (report,) = await max_.say("/report 2026-W47")  # this week: Ida was enrolled today
    assert scope_line(report).startswith("1 direct report(s) ·")
    assert "Active rate: — (0/1)" in report  # Ida, enrolled by the roster
    set_role(bot.ctx.db, key(max_), Role.LEARNER, now=bot.ctx.clock.now())
    (learner,) = await max_.say("/report")
    assert "The weekly report is for managers and admins" in learner


async def test_approve_in_a_group_lists_the_requests_privately(bot: TrainBot) -> None:
    bot.ctx.settings.admins.append("console:boss")
    bot.ctx.settings.enrolment = "approval"
    stranger = Person("console", "zoe", "Zoe Stranger", "en")
    await bot.handle(Command(stranger, Conversation("console", "zoe"), "start"))
    boss = Person("console", "boss", "Boss", "en")
    room = Conversation("console", "team-room", ConversationKind.CHANNEL)
    replies = await bot.handle(Command(boss, room, "approve"))
    # The requests name people who are not members: only the admin's private chat sees them.
    in_room = [r for r in replies if r.audience is not Audience.PRIVATE]
    assert in_room and not any("Zoe" in r.text or r.buttons for r in in_room)
    (listed,) = [r for r in replies if r.audience is Audience.PRIVATE and "Zoe" in r.text]
    assert listed.buttons
