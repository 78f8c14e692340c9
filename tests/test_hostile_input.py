"""Hostile input through every output: what learners and rosters typed comes out harmless.

Display names, team names and questions are chosen by people, so the weekly report's CSV
must hold no live formula, its Markdown and HTML no raw HTML or link, its chart must not
crash on mathtext, Slack must expand no mention and Telegram must show tags as text. The
store is the hand-built fortnight of the report tests (tests/reports/handbuilt.py) with its
people and teams renamed as an attacker would, and the outputs are the real ones: the CSV
file ``trainbot report`` writes, the Markdown and HTML it renders, the chart PNG, and
``/report`` through every front door. The small crashes of the same issue are here too:
weeks out of range, undecodable ``ask -`` input, and digits that are not ASCII.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from PIL import Image

from adapters.cli import main as cli_main
from adapters.console import parse_line
from adapters.slack import render_message
from adapters.telegram import render_html
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Button, ButtonPress, Conversation, Person, Reply, Text
from bot.library import CourseLibrary
from bot.payloads import decode
from bot.reports.chart import team_chart
from bot.reports.export import render_file, summary_for
from bot.reports.metrics import WeeklySummary
from bot.reports.render import FORMULA_TRIGGERS, markdown_text, spreadsheet_cell
from bot.settings import load_settings, parse_hhmm
from bot.store.db import Database
from bot.store.models import AskedQuestion, Team
from bot.store.models import Person as StoredPerson
from bot.weeks import FIRST_YEAR, LAST_YEAR, chosen_week, parse_week
from quizzes.loader import load_course
from tests.conftest import REPO, SAMPLE_CONTENT
from tests.drivers import FRONT_DOORS, front_door
from tests.fake_slack import slack_user_id
from tests.fake_telegram import telegram_user_id
from tests.reports.handbuilt import WEEK, build, utc

MONDAY_AFTER = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, W48

NAMES = {
    "Ann": '=HYPERLINK("http://evil","x")',
    "Bob": "+cmd|' /C calc'!A0",
    "Cid": "@SUM(1+1)",
    "Dee": "-2+3",
    "Eve": "\t=1",
    "Gus": "<!channel> @here <@U123> <#C1>",
}
TEAMS = {"A": "$x^2$", "A1": r"$\frac{1}{0}$", "B": "$$", "Empty": r"$\foo$ lone $"}
QUESTIONS = (
    "<script>alert(1)</script> [link](http://evil.example)",
    "![img](http://evil.example/x.png) <http://evil.example>",
    "# www.evil.example *big* `code` ~~gone~~ | cell <b>bold</b>",
)
ADMIN = "root"


def hostile_fortnight(db: Database) -> None:
    """The hand-built fortnight, renamed by an attacker, with hostile unanswered questions."""
    world = build(db)
    with db.session() as session:
        for name, hostile in NAMES.items():
            person = session.get(StoredPerson, world.people[name])
            assert person is not None
            person.display_name = hostile
        for name, hostile in TEAMS.items():
            team = session.get(Team, world.teams[name])
            assert team is not None
            team.name = hostile
        for text in QUESTIONS:
            for asked in ("2026-11-18T05:00", "2026-11-19T05:00"):
                session.add(
                    AskedQuestion(
                        team_id=world.teams["A"],
                        text=text,
                        language="en",
                        answered=False,
                        confidence=0.05,
                        answer=None,
                        sources={"items": []},
                        feedback=None,
                        asked_at=utc(asked),
                    )
                )


@pytest.fixture
def hostile_db(sqlite_database: Database) -> Database:
    hostile_fortnight(sqlite_database)
    return sqlite_database


@pytest.fixture
def summary(hostile_db: Database) -> WeeklySummary:
    return summary_for(
        hostile_db,
        load_course(SAMPLE_CONTENT),
        week=WEEK,
        team=None,
        timezone="Asia/Shanghai",
        now=MONDAY_AFTER,
        language="en",
        include_people=True,
    )


def trainbot(
    tmp_path: Path, *args: str, stdin: bytes = b"", **env: str
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "adapters", *args],
        cwd=tmp_path,
        input=stdin,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "HOME": str(tmp_path),
            "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
            "TRAINBOT_LANGUAGE": "en",
            **env,
        },
        capture_output=True,
        timeout=300,
    )


def collapsed(text: str) -> str:
    return " ".join(text.split())


# -- CSV ------------------------------------------------------------------------------------


def test_the_csv_export_file_holds_no_live_formula(tmp_path: Path, database: Database) -> None:
    hostile_fortnight(database)
    out = tmp_path / "week.csv"
    result = trainbot(
        tmp_path,
        "report",
        "--db",
        database.url,
        "--week",
        WEEK,
        "--format",
        "csv",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr.decode()
    # Read the file as a spreadsheet does: csv cells, quotes and all.
    with out.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    names = {row["name"] for row in rows}
    assert names == {
        "'" + NAMES["Ann"],
        "'" + NAMES["Bob"],
        "'" + NAMES["Cid"],
        "'" + NAMES["Dee"],
        "'" + NAMES["Eve"],
        NAMES["Gus"],  # starts with "<": nothing to neutralise
    }
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
    assert {row["team"] for row in rows} == {TEAMS["A"], TEAMS["A1"], TEAMS["B"], "—"}
    ann = next(row for row in rows if row["name"] == "'" + NAMES["Ann"])
    assert (ann["attempts"], ann["correct"], ann["accuracy"]) == ("3", "2", "0.6667")


def test_only_text_cells_are_neutralised_and_numbers_stay_numbers() -> None:
    for text in ("=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", " =1", "\n=1", "＝1+1"):
        assert spreadsheet_cell(text) == "'" + text
    for text in ("Ann", "王芳", "1-2", "<b>", "a=b", "$x^2$"):
        assert spreadsheet_cell(text) == text
    assert spreadsheet_cell(-3) == -3 and spreadsheet_cell(-0.25) == -0.25
    assert spreadsheet_cell(None) == ""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([spreadsheet_cell(-3), spreadsheet_cell("-3")])
    assert buffer.getvalue().strip() == "-3,'-3"  # the delta is a number, the name is text


# -- Markdown and HTML ----------------------------------------------------------------------


def rendered_markdown(text: str) -> str:
    """The document as a CommonMark renderer with raw HTML allowed shows it (GitHub adds
    tables and strikethrough)."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


def test_the_markdown_report_shows_names_and_questions_as_typed(summary: WeeklySummary) -> None:
    document = render_file(summary, "md", "en")
    page = rendered_markdown(document)
    for tag in ("<script", "<a ", "<img", "<b>", "<em>", "<strong>", "<code>", "<s>", "<del>"):
        assert tag not in page, tag
    # Our headings (the business-impact one says no KPIs are imported yet; the level 1/2/3
    # section has three of its own), our two lists (follow-up, gaps) and our tables (the
    # level section's two among them); nothing a name made.
    assert page.count("<h1>") == 1 and page.count("<h2>") == 9 and page.count("<h3>") == 3
    assert page.count("<ul>") == 2 and "<ol>" not in page and "<blockquote>" not in page
    assert page.count("<table>") == 6 and "<hr" not in page
    for name in [*NAMES.values(), *TEAMS.values(), *QUESTIONS]:
        assert escapeHtml(collapsed(name)) in page, name
    # Each people row keeps its seven cells, whatever "|" a name holds.
    people = page[page.rindex("<h2>People") :]  # the people table, after "People to follow up"
    rows = re.findall(r"<tr>(.*?)</tr>", people, re.DOTALL)
    assert len(rows) == 1 + 6 and all(row.count("<td>") == 7 for row in rows[1:])
    # Bare addresses, which GitHub links by itself, are broken up in the source.
    assert "http://" not in document and "www.evil" not in document
    assert "http\\://evil.example" in document and "www\\.evil.example" in document


def test_markdown_text_leaves_plain_text_alone_and_escapes_structure() -> None:
    assert markdown_text("Wang Fang") == "Wang Fang"
    assert markdown_text("王芳 (销售一组)") == "王芳 (销售一组)"
    assert markdown_text("# Head") == "\\# Head"
    assert markdown_text("- item") == "\\- item"
    assert markdown_text("1. first") == "1\\. first"
    assert markdown_text("a | b") == "a \\| b"
    assert markdown_text("line\nbreak\tand tab") == "line break and tab"
    assert markdown_text("\\*") == "\\\\\\*"  # a backslash cannot undo an escape
    assert rendered_markdown(markdown_text("[x](http://e) \\[y](z)")).count("<a ") == 0


def test_the_html_report_escapes_names_and_questions(summary: WeeklySummary) -> None:
    page = render_file(summary, "html", "en")
    assert "<script" not in page and "<a " not in page and "<b>" not in page
    assert page.count("<img") == 1  # the chart
    for name in [*NAMES.values(), *TEAMS.values()]:
        assert escapeHtml(name).replace('"', "&quot;") in page.replace("&#x27;", "'"), name


# -- the chart ------------------------------------------------------------------------------


def test_the_chart_draws_mathtext_like_team_names_without_crashing(summary: WeeklySummary) -> None:
    assert set(TEAMS.values()) <= {row.name for row in summary.teams}
    image = Image.open(io.BytesIO(team_chart(summary, "en")))
    assert image.format == "PNG" and image.size == (1000, 420)
    for names in (("$",), ("$$",), ("$x^$", "a $ b"), ("$\\sqrt$", "$}$", "$_$")):
        teams = [replace(row, name=name) for row, name in zip(summary.teams, names, strict=False)]
        Image.open(io.BytesIO(team_chart(replace(summary, teams=teams), "zh"))).verify()


# -- /report through every front door -------------------------------------------------------


@pytest.fixture
def report_bot(hostile_db: Database) -> TrainBot:
    admins = f"console:{ADMIN},telegram:{telegram_user_id(ADMIN)},slack:{slack_user_id(ADMIN)}"
    settings = load_settings(database_url=hostile_db.url, content_dir=SAMPLE_CONTENT, admins=admins)
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    return TrainBot(
        settings=settings, db=hostile_db, library=library, clock=FakeClock(MONDAY_AFTER)
    )


_TAG = re.compile(r"</?([a-zA-Z][^\s>/]*)[^>]*>")


@pytest.mark.parametrize("platform", FRONT_DOORS)
async def test_report_in_chat_shows_hostile_names_as_text_on_every_front_door(
    platform: str, report_bot: TrainBot
) -> None:
    async with front_door(platform, report_bot) as driver_for:
        admin = driver_for(Person(platform, ADMIN, "Root", "en-US"))
        (said,) = await admin.say(f"/report {WEEK}")
        assert "Weekly training summary — 2026-W47" in said
        for text in (NAMES["Ann"], NAMES["Bob"], NAMES["Gus"], TEAMS["A"], QUESTIONS[0]):
            assert text in said, text
        assert "(attachment: report-2026-W47.png" in said or platform == "telegram"
        if platform == "telegram":
            server = admin.server  # type: ignore[attr-defined]
            calls = [c for c in server.requests if c.method in ("sendMessage", "sendPhoto")]
            assert any(c.method == "sendPhoto" for c in calls)
            for call in calls:
                markup = call.params.get("text") or call.params.get("caption") or ""
                assert {tag for tag in _TAG.findall(markup)} <= {"b", "i"}, markup
                assert "&lt;script&gt;" in markup or "script" not in markup
                if call.method == "sendMessage":
                    assert call.params["link_preview_options"] == {"is_disabled": True}
        if platform == "slack":
            fake = admin.fake  # type: ignore[attr-defined]
            posts = fake.calls_of("chat.postMessage")
            assert posts
            for post in posts:
                blocks = post["blocks"]
                blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
                sections = [block for block in blocks if block["type"] == "section"]
                assert all(section["text"]["verbatim"] is True for section in sections)
                assert post["parse"] == "none" and post["link_names"] is False
                raw = [post["text"], *(section["text"]["text"] for section in sections)]
                for text in raw:
                    for control in ("<!", "<@", "<#", "<http"):
                        assert control not in text, text
            assert any("&lt;!channel&gt; @here &lt;@U123&gt;" in str(post) for post in posts)


def test_slack_blocks_carry_hostile_text_verbatim_and_escaped() -> None:
    reply = Reply(f"**Follow up**\n- {NAMES['Gus']}\n- {QUESTIONS[0]} & more")
    message = render_message(reply)
    (section,) = message["blocks"]
    assert section["text"] == {
        "type": "mrkdwn",
        "text": "*Follow up*\n- &lt;!channel&gt; @here &lt;@U123&gt; &lt;#C1&gt;\n"
        "- &lt;script&gt;alert(1)&lt;/script&gt; [link](http://evil.example) &amp; more",
        "verbatim": True,
    }
    assert message["text"] == section["text"]["text"]
    assert (message["parse"], message["link_names"]) == ("none", False)


def test_telegram_html_shows_hostile_text_as_text() -> None:
    text = f'**{NAMES["Ann"]}**: {QUESTIONS[0]} <a href="http://evil">x</a> &amp;'
    assert render_html(text) == (
        '<b>=HYPERLINK("http://evil","x")</b>: &lt;script&gt;alert(1)&lt;/script&gt; '
        '[link](http://evil.example) &lt;a href="http://evil"&gt;x&lt;/a&gt; &amp;amp;'
    )


@pytest.mark.parametrize("platform", FRONT_DOORS)
async def test_weeks_out_of_range_are_not_understood_in_chat(
    platform: str, report_bot: TrainBot
) -> None:
    async with front_door(platform, report_bot) as driver_for:
        admin = driver_for(Person(platform, ADMIN, "Root", "en-US"))
        for week in ("0001-W01", "9999-W52", "1999-W52"):
            (said,) = await admin.say(f"/report {week}")
            assert f"I couldn't read the week {week}" in said, said
        (lower,) = await admin.say("/report 2026-w47")
        assert "Weekly training summary — 2026-W47" in lower


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["trainbot", *args])
    with pytest.raises(SystemExit) as exited:
        cli_main()
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_weeks_out_of_range_are_one_line_errors_in_the_cli(
    hostile_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRAINBOT_CONTENT_DIR", str(SAMPLE_CONTENT))
    for command in ("report", "gaps"):
        for week in ("0001-W01", "9999-W52"):
            code, out, err = run_cli(
                monkeypatch, capsys, command, "--db", hostile_db.url, "--week", week
            )
            assert code == 1 and out == ""
            assert err == (
                f"trainbot: invalid week '{week}': the year must be between "
                f"{FIRST_YEAR} and {LAST_YEAR} (expected an ISO week such as 2026-W47)\n"
            )


def test_the_accepted_weeks_and_their_one_spelling() -> None:
    now = MONDAY_AFTER
    assert parse_week(f"{FIRST_YEAR}-W01") == (FIRST_YEAR, 1)
    assert parse_week(f"{LAST_YEAR}-W52") == (LAST_YEAR, 52)
    assert chosen_week("2026-w47", now, "Asia/Shanghai") == "2026-W47"
    assert chosen_week(" 2026-W47 ", now, "Asia/Shanghai") == "2026-W47"
    for week in (f"{FIRST_YEAR - 1}-W52", f"{LAST_YEAR + 1}-W01", "２０２６-W47", "2026-W４７"):
        with pytest.raises(ValueError, match="invalid week"):
            chosen_week(week, now, "Asia/Shanghai")


# -- ask - ----------------------------------------------------------------------------------


def test_ask_from_stdin_answers_every_line_around_an_undecodable_one(
    tmp_path: Path, private_index_dir: Path
) -> None:
    lines = b"What is the activation stage?\n\xff\xfe broken \xc3\n\xe5\x85\xb3\xe4\xba\x8e?\n"
    result = trainbot(tmp_path, "ask", "-", stdin=lines, TRAINBOT_INDEX_DIR=str(private_index_dir))
    assert result.returncode == 0, result.stderr.decode()
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [row["question"] for row in rows] == [
        "What is the activation stage?",
        "\ufffd\ufffd broken \ufffd",
        "关于?",
    ]
    assert rows[0]["answered"] is True


# -- ASCII digits only ----------------------------------------------------------------------


def test_payloads_take_ascii_digits_only() -> None:
    assert decode("qa:3:A") is not None and decode("fb:12:up") is not None
    for forged in ("qa:²:A", "qa:٣:A", "qa:３:A", "qs:¹", "lg:-1", "fb:²:up", "qt: 3:A"):
        assert decode(forged) is None, forged


async def test_a_forged_superscript_payload_is_a_stale_button(report_bot: TrainBot) -> None:
    person = Person("console", ADMIN, "Root", "en-US")
    conversation = Conversation("console", ADMIN)
    for payload in ("qa:²:A", "lg:²", "fb:²:up"):
        (reply,) = await report_bot.handle(ButtonPress(person, conversation, payload))
        assert reply.text == "That button is no longer active.", payload


async def test_typing_a_superscript_in_the_console_is_text_not_a_crash(
    report_bot: TrainBot,
) -> None:
    person = Person("console", ADMIN, "Root", "en-US")
    conversation = Conversation("console", ADMIN)
    buttons = [Button("A", "qa:1:A"), Button("B", "qa:1:B")]
    assert parse_line("²", person=person, conversation=conversation, buttons=buttons) == Text(
        person, conversation, "²"
    )
    assert isinstance(
        parse_line("2", person=person, conversation=conversation, buttons=buttons), ButtonPress
    )
    async with front_door("console", report_bot) as driver_for:
        (said,) = await driver_for(person).say("²")
        assert "Sorry, something went wrong" not in said


def test_times_take_ascii_digits_only() -> None:
    assert parse_hhmm("08:30").hour == 8
    for text in ("０８:３０", "٠٨:٣٠"):
        with pytest.raises(ValueError):
            parse_hhmm(text)
