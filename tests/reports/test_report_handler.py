"""/report in chat: managers get their teams, admins everything, learners their progress."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import text

from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Command, Conversation, Person, Reply
from bot.library import CourseLibrary
from bot.settings import load_settings
from bot.store.db import Database
from tests.conftest import SAMPLE_CONTENT
from tests.reports.handbuilt import build

MONDAY_AFTER = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, W48


@pytest.fixture
def bot(sqlite_database: Database) -> TrainBot:
    build(sqlite_database)
    settings = load_settings(
        database_url=sqlite_database.url,
        content_dir=SAMPLE_CONTENT,
        admins="console:root",
    )
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    return TrainBot(
        settings=settings, db=sqlite_database, library=library, clock=FakeClock(MONDAY_AFTER)
    )


async def ask(bot: TrainBot, user_id: str, args: str = "") -> list[Reply]:
    person = Person("console", user_id, user_id.title(), "en-US")
    return await bot.handle(Command(person, Conversation("console", user_id), "report", args))


async def test_a_manager_gets_last_weeks_summary_of_their_teams_with_a_chart(
    bot: TrainBot,
) -> None:
    (reply,) = await ask(bot, "mia")
    assert "Weekly training summary — 2026-W47" in reply.text
    # A and A1 (below A): 3 enrolled, 2 active; 8 of 9 quizzes answered; 5/7 right.
    assert "Active rate: 67% (2/3)" in reply.text
    assert "Quiz completion: 89% (8/9)" in reply.text
    assert "Accuracy: 71% (5/7)" in reply.text
    assert "- Bob (A): no answer for 7+ days (last answer 2026-11-10)" in reply.text
    assert "- Ann (A): accuracy 67%, below the pass mark of 80%" in reply.text
    assert "Dee" not in reply.text and "Gus" not in reply.text  # not Mia's people this week
    assert reply.attachment is not None and reply.attachment.mime_type == "image/png"
    image = Image.open(io.BytesIO(reply.attachment.content))
    assert image.size == (1000, 420)


async def test_a_manager_cannot_see_another_team(bot: TrainBot) -> None:
    (reply,) = await ask(bot, "mia", "B")
    assert reply.text == "There is no team called B that you can see."
    (below,) = await ask(bot, "mia", "A1 2026-W47")
    assert "Active rate: 100% (1/1)" in below.text  # Cid alone


async def test_an_admin_sees_everything_and_may_pick_a_team_and_week(bot: TrainBot) -> None:
    (everyone,) = await ask(bot, "root")
    assert "Active rate: 50% (3/6)" in everyone.text
    assert "- Gus (—): no answer for 7+ days (never answered)" in everyone.text
    assert "- How do we win back churned users? — asked 2×, unanswered 1, 👎 1" in everyone.text
    (team_b,) = await ask(bot, "root", "2026-w46 B")
    assert "2026-W46" in team_b.text and "Active rate: — (0/0)" in team_b.text
    (bad,) = await ask(bot, "root", "2026-W60")
    assert "use an ISO week such as 2026-W47" in bad.text


async def test_a_learner_is_refused_politely_and_gets_their_progress(bot: TrainBot) -> None:
    refusal, progress = await ask(bot, "ann")
    assert refusal.text.startswith("The weekly report is for managers and admins")
    assert refusal.text.startswith("The weekly report is for managers and admins")
    assert "**Your progress**" in progress.text
    assert refusal.attachment is None


async def test_someone_stored_with_an_unknown_time_zone_breaks_no_report(bot: TrainBot) -> None:
    """A row from before time zones were checked: the others' summaries and the person's own
    progress still come."""
    with bot.ctx.db.session() as session:
        session.execute(
            text("UPDATE people SET timezone = 'Mars/Olympus' WHERE platform_user_id = 'ann'")
        )
    (reply,) = await ask(bot, "mia")
    assert "Active rate: 67% (2/3)" in reply.text and "Accuracy: 71% (5/7)" in reply.text
    assert "- Ann (A): accuracy 67%, below the pass mark of 80%" in reply.text
    (everyone,) = await ask(bot, "root")
    assert "Active rate: 50% (3/6)" in everyone.text
    refusal, progress = await ask(bot, "ann")
    assert refusal.text.startswith("The weekly report is for managers and admins")
    assert "**Your progress**" in progress.text


async def test_a_week_in_the_future_is_refused(bot: TrainBot) -> None:
    (reply,) = await ask(bot, "mia", "2026-W49")
    assert reply.text == (
        "2026-W49 has not started yet, so there is nothing to report: "
        "ask for this week or an earlier one."
    )
    assert reply.attachment is None


async def test_this_week_is_marked_in_progress(bot: TrainBot) -> None:
    (reply,) = await ask(bot, "mia", "2026-W48")
    assert "Weekly training summary — 2026-W48 (in progress)" in reply.text
    assert "the figures count up to 2026-11-23 10:00 (Asia/Shanghai, UTC+08:00)." in reply.text
