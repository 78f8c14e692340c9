"""Transcripts in groups: personal answers go to the private chat, on every door with groups.

A manager's ``/report``, someone's ``/progress`` or ``/quiz`` typed in a Telegram group or
in a Slack channel (a mention) are answered in the person's private chat; the group only
reads a short note, or how to open the private chat when the platform refuses it. What
the fake platform recorded for the group is checked whole, so nothing personal (names,
percentages, questions, charts) can slip through. Questions about the course stay in the
group.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Button, Person
from bot.handlers.learning import deliver_quiz_now
from bot.i18n import t
from bot.store.models import AskedQuestion, PersonStatus
from bot.store.models import Person as StoredPerson
from tests.drivers import GroupChatDriver, GroupFactory
from tests.reports.handbuilt import build

MONDAY_AFTER_W47 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SENT_EN = t("en", "group_dm_sent")
SENT_ZH = t("zh", "group_dm_sent")


def stored(bot: TrainBot, driver: GroupChatDriver) -> StoredPerson | None:
    with bot.ctx.db.session() as session:
        person = session.scalars(
            select(StoredPerson).where(
                StoredPerson.platform == driver.platform,
                StoredPerson.platform_user_id == driver.user_id,
            )
        ).one_or_none()
        if person is not None:
            session.expunge(person)
        return person


async def enrol(driver: GroupChatDriver, track: str) -> None:
    """Enrol in the private chat, as people do before using the bot in a group."""
    await driver.say("/start")
    (asked,) = await driver.press(track)
    if "Asia/Shanghai" in asked:  # Telegram does not tell the time zone
        await driver.press("Asia/Shanghai")


async def test_a_managers_report_in_a_group_goes_to_their_private_chat(
    in_group: GroupFactory, bot: TrainBot, clock: FakeClock
) -> None:
    build(bot.ctx.db)  # Mia manages team A; Bob and Ann are to follow up
    clock.set(MONDAY_AFTER_W47)
    mia = in_group("mia", "en-US")
    with bot.ctx.db.session() as session:
        session.execute(
            update(StoredPerson)
            .where(StoredPerson.display_name == "Mia")
            .values(platform=mia.platform, platform_user_id=mia.user_id)
        )
    await mia.say("/help")  # she has opened her private chat with the bot before

    group, private = await mia.say_in_group("/report")

    assert group == SENT_EN
    assert "Weekly training summary — 2026-W47" in private
    assert "Active rate: 67% (2/3)" in private
    assert "- Bob (A): no answer for 7+ days" in private
    assert "- Ann (A): accuracy 67%, below the pass mark of 80%" in private
    assert "(attachment: report-2026-W47.png" in private
    assert mia.group_log() == SENT_EN  # nothing else was ever shown in the group


async def test_progress_and_quiz_in_a_group_answer_privately_in_the_persons_language(
    in_group: GroupFactory, bot: TrainBot
) -> None:
    lan = in_group("lan", "zh-CN")
    await enrol(lan, "一线运营")

    group, private = await lan.say_in_group("/progress")
    assert group == SENT_ZH
    assert "你的学习进度" in private and "一线运营" in private

    group, private = await lan.say_in_group("/quiz")
    assert group == SENT_ZH
    assert private  # the next lesson or question, with its buttons
    quiz_buttons = [line for line in private.splitlines() if line.startswith("[")]
    assert quiz_buttons

    assert lan.group_log().splitlines() == [SENT_ZH, SENT_ZH]


async def test_someone_the_bot_cannot_write_to_privately_is_told_how_to_start(
    in_group: GroupFactory, bot: TrainBot
) -> None:
    newcomer = in_group("nina", "en-US")
    newcomer.refuse_private_chat()  # on Telegram: never pressed Start in a private chat

    group, private = await newcomer.say_in_group("/start")

    assert private == ""
    if newcomer.platform == "telegram":
        assert group == (
            "I can't message you privately yet: open https://t.me/trainbot_test_bot "
            "(@trainbot_test_bot) and press Start, then try again. Personal answers don't "
            "go to the group."
        )
    else:
        assert group.startswith(
            "I can't message you privately yet: open trainbot under Apps in the sidebar, "
            "go to its Messages tab"
        )
    assert "Welcome" not in newcomer.group_log() and "track" not in newcomer.group_log()
    person = stored(bot, newcomer)
    # A refused private chat is not the dispatcher's "unreachable": pushes will still try.
    assert person is not None and person.status is PersonStatus.ACTIVE

    group, private = await newcomer.say_in_group("/progress")
    assert group.startswith("I can't message you privately yet")
    assert private == "" and "%" not in newcomer.group_log()


async def test_a_quiz_button_pressed_in_a_group_is_answered_privately(
    in_group: GroupFactory, bot: TrainBot
) -> None:
    tom = in_group("tom", "en-US")
    await enrol(tom, "Frontline")
    who = Person(tom.platform, tom.user_id, "Tom", "en-US")
    # A version before private answers posted a quiz (or a lesson) in the group.
    old_posts = deliver_quiz_now(bot.ctx, who, "en")
    for reply in old_posts:
        await tom.posted_in_group(reply)
    buttons: list[Button] = [
        button for reply in old_posts for row in reply.buttons for button in row
    ]
    before = tom.group_log()

    group, private = await tom.press_in_group(buttons[0].label)

    assert group == SENT_EN
    assert private and private != SENT_EN
    assert tom.group_log() == f"{before}\n{SENT_EN}"  # the old post was not edited


async def test_questions_and_help_in_a_group_stay_in_the_group(
    in_group: GroupFactory, bot: TrainBot
) -> None:
    ada = in_group("ada", "en-US")
    await ada.say("/help")

    group, private = await ada.say_in_group("How is training coverage calculated?")
    assert group.startswith("The materials cover this only in Chinese:")
    assert "[👍 Helpful]" in group
    assert private == ""

    group, private = await ada.say_in_group("/help")
    assert "your training assistant" in group and private == ""

    # A question that begins with a command word is still a question.
    group, private = await ada.say_in_group("report templates: how often are materials reviewed?")
    assert private == "" and SENT_EN not in group
    with bot.ctx.db.session() as session:
        asked = session.scalars(select(AskedQuestion.text).order_by(AskedQuestion.id)).all()
    assert asked == [
        "How is training coverage calculated?",
        "report templates: how often are materials reviewed?",
    ]


async def test_forget_in_a_group_asks_for_confirmation_privately(
    in_group: GroupFactory, bot: TrainBot
) -> None:
    li = in_group("li", "en-US")
    await enrol(li, "Frontline")
    await li.say("What is the activation stage?")

    group, private = await li.say_in_group("/forget")
    assert group == SENT_EN
    assert "Yes, erase" in private and "question" in private
    (done,) = await li.press("Yes, erase")
    assert "erased" in done
    assert stored(bot, li) is None
    assert li.group_log().splitlines() == [SENT_EN]
