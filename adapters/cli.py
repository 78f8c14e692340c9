"""The ``trainbot`` command line, and the composition root that builds the bot.

This is the only place that reads settings and wires the rooms together: store, course,
bot core, front doors and (in later releases) the scheduler.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Iterator
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import click
import typer

from bot import jsonlog, logsafety
from bot.errors import TrainbotError
from bot.settings import Settings, load_settings
from quizzes.loader import ContentError

if TYPE_CHECKING:
    from bot.campaigns import CampaignReport

logger = logging.getLogger("trainbot")
_VERBOSE = False

app = typer.Typer(
    name="trainbot",
    help="Chat-based training assistant: grounded Q&A, micro-lessons, daily quizzes, weekly summaries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
users_app = typer.Typer(
    help="Manage people: roster import, listing, roles, removal, team managers, export, forget, retention.",
    no_args_is_help=True,
)
kpis_app = typer.Typer(
    help="Business KPIs per team and week (level 3): import a CSV, list what is stored.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(kpis_app, name="kpis")
content_app = typer.Typer(help="Course content: mark reviews.", no_args_is_help=True)
app.add_typer(content_app, name="content")
experiments_app = typer.Typer(
    help="A/B tests of delivery forms (content/experiments.yaml).", no_args_is_help=True
)
app.add_typer(experiments_app, name="experiments")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite file path (default: TRAINBOT_DATABASE_URL)."),
]


def _database_url(value: str | None) -> str | None:
    """Accept a URL or a plain SQLite file path such as ``var/sim.db``."""
    if value is None:
        return None
    return value if "://" in value else f"sqlite:///{value}"


def _existing_store(url: str) -> None:
    """Refuse a SQLite file that does not exist: opening it would create an empty store,
    and a read command would print an empty answer instead of saying the path is wrong.

    Raises:
        TrainbotError: naming the missing file.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database or "")
    if not path.is_file():
        raise TrainbotError(
            f"no database at {path}: check the --db path (this command reads a store and "
            "never creates one)"
        )


def _settings(db: str | None = None, *, read_only: bool = False) -> Settings:
    """The settings, with ``--db`` (a URL or a SQLite path) in place of the configured store.

    Args:
        db: the ``--db`` option.
        read_only: the command only reads the store, so a ``--db`` SQLite file that does
            not exist is an error, not a new empty store.
    """
    overrides: dict[str, Any] = {}
    url = _database_url(db)
    if url:
        if read_only:
            _existing_store(url)
        overrides["database_url"] = url
    settings = load_settings(**overrides)
    if not _VERBOSE:
        logging.getLogger().setLevel(settings.log_level.upper())
    logsafety.install(settings)  # now the configured secrets and TRAINBOT_LOG_CONTENT are known
    jsonlog.use(settings.log_format)
    return settings


def _tell_operator(text: str, *, level: int = logging.WARNING) -> None:
    """A line for whoever runs the command: on stderr, or a log line when logs are JSON
    (a log collector reading stderr expects nothing but JSON objects there)."""
    if jsonlog.active():
        logger.log(level, "%s", text)
    else:
        typer.echo(text, err=True)


def _quiet_logs_for_console() -> None:
    """In a terminal chat (or a command printing its own result), log lines are noise."""
    if not _VERBOSE:
        logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    global _VERBOSE
    _VERBOSE = verbose
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logsafety.install()  # after basicConfig: it guards the handlers that exist


@app.command()
def validate(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Content directory (default: TRAINBOT_CONTENT_DIR)."),
    ] = None,
) -> None:
    """Check course content; print every problem as file:line, or the counts when valid."""
    from bot.library import check_course

    root = directory if directory is not None else _settings().content_dir
    course, problems = check_course(root)
    if course is None:
        for problem in problems:
            typer.echo(
                f"{root / problem.path if not Path(problem.path).is_absolute() else problem.path}:{problem.line}: {problem.message}"
            )
        typer.echo(f"{len(problems)} problem(s) found in {root}", err=True)
        raise typer.Exit(1)
    counts = course.counts()
    typer.echo(
        f"{root}: OK — {counts['tracks']} tracks, {counts['lessons']} lessons "
        f"({counts['lesson_files']} files), {counts['questions']} questions "
        f"({counts['question_entries']} entries, {counts['drafts']} drafts), "
        f"{counts['blackouts']} blackout windows, {counts['materials']} materials, "
        f"{_count(counts['regional_variants'], 'regional variant')}, "
        + (
            f"{_count(counts['wording_variants'], 'wording variant')}, "
            if counts["wording_variants"]
            else ""
        )
        + f"{_count(counts['experiments'], 'experiment')}"
    )
    if counts["drafts"]:
        typer.echo(f"{counts['drafts']} draft questions (not served) — see docs/gaps.md")
    _print_reviews_due(course, root)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _print_reviews_due(course: Any, root: Path) -> None:
    """Warn about content due for review (a warning: the course is still served)."""
    from quizzes.freshness import review_due

    settings = _settings()
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    due, problems = review_due(course, root, today=today, months=settings.review_months)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    if not due:
        return
    typer.echo(
        f"{len(due)} item(s) due for review (reviewed more than {settings.review_months} "
        "months ago, never, or changed since) — check each, then "
        "`trainbot content reviewed ID`:"
    )
    for entry in due:
        if entry.changed:
            why = f"changed since its review on {entry.reviewed}"
        elif entry.reviewed is None:
            why = "never reviewed"
        else:
            why = f"last reviewed {entry.reviewed}, due {entry.due}"
        typer.echo(f"{root / entry.path}:{entry.line}: {entry.label}: {why}")


@content_app.command("reviewed")
def content_reviewed(
    items: Annotated[
        list[str],
        typer.Argument(help="Lesson ids, question ids or material file names."),
    ],
    on: Annotated[
        str | None,
        typer.Option("--date", help="The review's date, YYYY-MM-DD (default: today)."),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Content directory (default: TRAINBOT_CONTENT_DIR)."),
    ] = None,
) -> None:
    """Mark content as reviewed today: writes reviewed: into its files (and a material's hash)."""
    from bot.library import check_course
    from quizzes.freshness import UnknownItem, mark_reviewed

    settings = _settings()
    root = directory if directory is not None else settings.content_dir
    course, problems = check_course(root)
    if course is None:
        raise TrainbotError(
            f"{root} has {len(problems)} problem(s); fix them first (trainbot validate)"
        )
    if on is None:
        day = datetime.now(ZoneInfo(settings.timezone)).date()
    else:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise TrainbotError(f"--date {on!r} is not a date like 2026-06-01") from None
    unknown = [
        item
        for item in items
        if item not in course.materials
        and not any(lesson.id == item for lesson in course.lessons.values())
        and not any(question.id == item for question in course.questions.values())
    ]
    if unknown:
        raise TrainbotError(
            f"no lesson, question or material named {', '.join(unknown)} in {root} "
            "(ids as in the files; materials by their file name)"
        )
    for item in items:
        try:
            written = mark_reviewed(course, root, item, day)
        except UnknownItem:  # checked above; kept for a course changed meanwhile
            raise TrainbotError(f"no lesson, question or material named {item}") from None
        for path in written:
            typer.echo(f"{item}: reviewed {day} — {path}")
    _, after = check_course(root)
    if after:
        raise TrainbotError(f"the files no longer validate: {after[0]}")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply database migrations (the bot also does this when it starts)."""
    from bot.store.db import upgrade

    settings = _settings(db)
    upgrade(settings.database_url)
    typer.echo("database is up to date")


@app.command()
def ingest(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Materials directory (default: the content dir's materials/)."),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop the index and embed everything again.")
    ] = False,
) -> None:
    """Build or update the Q&A index: unchanged files are skipped, deleted ones removed."""
    from bot.qa import KnowledgeService

    settings = _settings()
    _quiet_logs_for_console()  # the command prints its own summary
    service = KnowledgeService(settings, db=_shared_index_store(settings))
    materials = directory if directory is not None else service.materials_dir
    if not materials.is_dir():
        raise TrainbotError(f"materials directory not found: {materials}")
    report = service.ingest(materials, rebuild=rebuild)
    for name in report.added:
        typer.echo(f"added    {name}")
    for name in report.updated:
        typer.echo(f"updated  {name}")
    for name in report.removed:
        typer.echo(f"removed  {name}")
    for error in report.errors:
        typer.echo(f"error    {error.path}: {error.reason}", err=True)
    typer.echo(report.summary())
    if report.errors:
        raise typer.Exit(1)


def _answer_json(answer: Any) -> dict[str, Any]:
    """The stable JSON shape of an answer (documented in docs/qa.md)."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "answer": answer.text,
        "confidence": round(answer.confidence, 4),
        "language": answer.language,
        "sources": [
            {
                "title": hit.chunk.title,
                "path": hit.chunk.path,
                "section": hit.chunk.section,
                "text": hit.chunk.text,
                "score": round(hit.score, 6),
            }
            for hit in answer.sources
        ],
    }


def _stdin_lines() -> Iterator[str]:
    """Standard input line by line, each decoded on its own.

    A byte that is not valid in the input's encoding becomes U+FFFD in its own line, so
    one damaged line in a batch neither stops the batch nor reaches the answer as a lone
    surrogate (what Python's UTF-8 mode would otherwise hand over).
    """
    encoding = sys.stdin.encoding or "utf-8"
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # a text-only stream (an embedding host): already decoded
        yield from sys.stdin
        return
    for line in raw:
        yield line.decode(encoding, errors="replace")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, or '-' to read one per line.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Ask the course materials a question (offline; extractive unless TRAINBOT_LLM is set)."""
    import json

    from bot.i18n import t
    from bot.qa import NOT_BUILT, KnowledgeService

    settings = _settings()
    _quiet_logs_for_console()
    service = KnowledgeService(settings, db=_shared_index_store(settings))
    if service.problem == NOT_BUILT:
        raise TrainbotError("the Q&A index has not been built yet: run 'trainbot ingest' first")
    if question == "-":
        for line in _stdin_lines():
            if line.strip():
                answer = service.ask(line.strip())
                typer.echo(json.dumps(_answer_json(answer), ensure_ascii=False))
        return
    answer = service.ask(question)
    if json_output:
        typer.echo(json.dumps(_answer_json(answer), ensure_ascii=False, indent=2))
        return
    from bot.views import answer_language, render_answer

    language = answer_language(answer.question, settings.language)
    if not answer.answered:
        typer.echo(t(language, "not_covered"))
        typer.echo(f"(confidence {answer.confidence:.2f})", err=True)
        raise typer.Exit(3)
    typer.echo(render_answer(answer, language))
    typer.echo(f"(confidence {answer.confidence:.2f})", err=True)


def _shared_index_store(settings: Settings) -> Any:
    """The store, when the Q&A index is the one published there (a Chroma server is set).

    With ``TRAINBOT_CHROMA_URL`` every bot process reads the index versions published in
    the store (:mod:`bot.shared_index`); without it the index is this machine's own.
    """
    if not settings.chroma_url:
        return None
    from bot.store.db import Database

    db = Database(settings.database_url, hide_parameters=not settings.log_content)
    db.upgrade()
    return db


def _build_bot(settings: Settings) -> Any:
    """Compose the bot core: store (migrated), course library, clock."""
    from bot.app import TrainBot
    from bot.library import CourseLibrary
    from bot.qa import NOT_BUILT, IngestBusy, KnowledgeService
    from bot.store.db import Database

    db = Database(settings.database_url, hide_parameters=not settings.log_content)
    db.upgrade()
    library = CourseLibrary(settings.content_dir)
    problems = library.reload()
    if problems:
        raise ContentError(problems)
    knowledge = KnowledgeService(settings, db=db if settings.chroma_url else None)
    busy = False
    # A damaged index is logged (with the command that repairs it) and the bot starts
    # without Q&A; only a missing one is built here.
    if knowledge.problem == NOT_BUILT:
        building = f"building the Q&A index from {knowledge.materials_dir} (first start only)..."
        try:
            _tell_operator(knowledge.ingest(on_start=lambda: _tell_operator(building)).summary())
        except IngestBusy as exc:  # another replica builds it; this one follows when published
            _tell_operator(f"not building the Q&A index here: {exc}")
            busy = True
    if not busy:
        knowledge.warm_up()
    bot = TrainBot(settings=settings, db=db, library=library, knowledge=knowledge)
    freeze_startup_objects()
    return bot


def freeze_startup_objects() -> None:
    """Keep what start-up loaded (model, indexes, course) out of full garbage collections.

    It lives as long as the process. A full collection walks every object while holding
    the GIL, and with the model and indexes loaded that held the event loop (and so Slack's
    acknowledgements) for 150-200 ms at a time during a dispatch pass.
    """
    gc.collect()
    gc.freeze()


def _console_person(name: str, role: str, settings: Settings, language: str | None) -> Any:
    from bot.events import Person

    return Person(
        platform="console",
        user_id=name,
        display_name=name,
        locale=language or settings.language,
        timezone=settings.timezone,
    )


async def _chat(
    settings: Settings,
    name: str,
    role: str,
    language: str | None,
    *,
    schedule: bool = False,
    store_role: bool = False,
) -> int:
    """The console chat (with the scheduler pushing into it for ``run``) until end of input,
    SIGTERM or Ctrl-C; a stop by signal is logged as ``stopped``.

    ``role`` holds for this session only (nothing is written to the store) unless
    ``store_role``; admins are never stored, they come from ``TRAINBOT_ADMINS``.
    """
    from adapters.console import ConsoleChat
    from adapters.runner import install_stop_signals, stop_scheduler
    from bot.store.models import Role

    if store_role and role == "admin":
        raise TrainbotError(
            f"admins are not stored: add console:{name} to TRAINBOT_ADMINS to make it lasting"
        )
    _quiet_logs_for_console()
    if role == "admin" and not settings.is_admin("console", name):
        settings.admins.append(f"console:{name}")  # this process's settings only
    bot = _build_bot(settings)
    person = _console_person(name, role, settings, language)
    if store_role:
        from bot.people import assign_role

        with bot.ctx.db.session() as session:
            assign_role(
                session,
                person,
                Role(role),
                now=bot.ctx.clock.now(),
                default_language=settings.language,
                default_timezone=settings.timezone,
            )
    elif role == "manager":
        bot.ctx.session_roles[(person.platform, person.user_id)] = Role.MANAGER
    chat = ConsoleChat(bot, person)
    scheduler = _start_scheduler(settings, bot, {"console": chat}) if schedule else None
    stop = asyncio.Event()
    remove_signals = install_stop_signals(stop)
    if not _VERBOSE:  # the chat's own start and stop lines, not the libraries' chatter
        logger.setLevel(settings.log_level.upper())
    try:
        code = await chat.run(stop)
        if stop.is_set():
            logger.info("stopping: finishing in-flight work")
    finally:
        if scheduler is not None:
            await stop_scheduler(scheduler, settings)
        remove_signals()
        await asyncio.to_thread(bot.close)
    if stop.is_set():
        logger.info("stopped")
    return code


def _start_scheduler(settings: Settings, bot: Any, outbound: dict[str, Any]) -> Any:
    """The dispatcher and scheduler, pushing through the given front doors."""
    from adapters.runner import start_scheduler

    return start_scheduler(settings, bot, outbound)


AsOption = Annotated[str, typer.Option("--as", help="Who you are in the console chat.")]


class RoleChoice(StrEnum):
    """Roles selectable for the console user."""

    learner = "learner"
    manager = "manager"
    admin = "admin"


class LanguageChoice(StrEnum):
    """Languages of the console user."""

    zh = "zh"
    en = "en"


RoleOption = Annotated[
    RoleChoice,
    typer.Option(
        "--role", help="Your role in this console session (not stored unless --store-role)."
    ),
]
StoreRoleOption = Annotated[
    bool,
    typer.Option(
        "--store-role",
        help="Write the --role (learner or manager) to the database; admins come from TRAINBOT_ADMINS.",
    ),
]
LangOption = Annotated[
    LanguageChoice | None,
    typer.Option("--lang", help="Your language; default TRAINBOT_LANGUAGE."),
]


@app.command()
def chat(
    name: AsOption = "learner",
    role: RoleOption = RoleChoice.learner,
    language: LangOption = None,
    db: DbOption = None,
    store_role: StoreRoleOption = False,
) -> None:
    """Chat with the bot in this terminal (reads piped stdin line by line)."""
    settings = _settings(db)
    raise typer.Exit(asyncio.run(_chat(settings, name, role, language, store_role=store_role)))


@app.command()
def run(
    name: AsOption = "learner",
    role: RoleOption = RoleChoice.learner,
    language: LangOption = None,
    db: DbOption = None,
    store_role: StoreRoleOption = False,
) -> None:
    """Start the bot: every configured front door (console when no token is set)."""
    settings = _settings(db)
    if not (settings.telegram_token or settings.slack_bot_token):
        logger.info("no Slack or Telegram token configured: starting the console chat")
        raise typer.Exit(
            asyncio.run(_chat(settings, name, role, language, schedule=True, store_role=store_role))
        )
    raise typer.Exit(asyncio.run(_serve(settings)))


async def _serve(settings: Settings) -> int:
    from adapters.runner import configured_front_doors, quiet_http_client_logs, serve

    quiet_http_client_logs()  # a first ingest against a Chroma server is many HTTP requests
    bot = _build_bot(settings)
    return await serve(bot, settings, configured_front_doors(bot, settings))


@app.command()
def push(
    track: Annotated[
        str | None, typer.Option(help="Only people on this track (within --team if given).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only people in this team.")] = None,
    lesson: Annotated[
        str | None, typer.Option(help="The lesson to push (only to its own track).")
    ] = None,
    quiz: Annotated[
        bool, typer.Option("--quiz", help="Push each person's next quiz item.")
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(help="Campaign id; one used before is refused (default: a fresh one)."),
    ] = None,
    now: Annotated[
        bool,
        typer.Option("--now", help="Send at once, even in quiet hours, blackouts or on a day off."),
    ] = False,
    db: DbOption = None,
) -> None:
    """Push a lesson or a quiz to a team or track, at each person's next allowed moment."""
    from datetime import UTC, datetime

    from bot.admission import admitted_people
    from bot.campaigns import CampaignError, PushWindow, push_campaign
    from bot.library import CourseLibrary
    from bot.store.db import Database

    if (lesson is None) == (not quiz):
        raise TrainbotError("choose exactly one of --lesson ID and --quiz")
    settings = _settings(db)
    library = CourseLibrary(settings.content_dir)
    problems = library.reload()
    if problems:
        raise ContentError(problems)
    database = Database(settings.database_url)
    database.upgrade()
    window = PushWindow.of(settings)
    try:
        result = push_campaign(
            database,
            library.course,
            now=datetime.now(UTC),
            window=window,
            name=name,
            track=track,
            team=team,
            lesson=lesson,
            at_once=now,
            admitted=admitted_people(settings),
        )
    except CampaignError as exc:
        raise TrainbotError(str(exc)) from None
    typer.echo(_campaign_summary(result))


def _campaign_summary(result: CampaignReport, *, shown: int = 12) -> str:
    """What ``trainbot push`` did: queued, deferred (until when) and skipped (why)."""
    lines = [
        f"campaign {result.campaign.removeprefix('campaign:')}: {result.people} people; "
        f"{result.queued} queued (the running bot sends them within a minute), "
        f"{result.deferred_count} deferred, {result.skipped_count} skipped"
    ]
    groups = result.deferred.most_common()
    for (reason, until), count in groups[:shown]:
        lines.append(f"  deferred {count}: {reason}, until {until}")
    if len(groups) > shown:
        rest = sum(count for _, count in groups[shown:])
        lines.append(f"  deferred {rest} more, to {len(groups) - shown} other local times")
    for reason, count in result.skipped.most_common():
        lines.append(f"  skipped {count}: {reason}")
    return "\n".join(lines)


class ReportFormat(StrEnum):
    """Output formats of ``trainbot report``."""

    md = "md"
    csv = "csv"
    html = "html"
    json = "json"


@app.command()
def report(
    week: Annotated[
        str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: the last complete one).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only this team and the teams below it.")] = None,
    region: Annotated[
        str | None,
        typer.Option(help="Only the people of this region (the roster's region column)."),
    ] = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="md, csv (one row per person), html or json.")
    ] = ReportFormat.md,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Weekly completion summary (docs/reports.md): coverage, completion, accuracy, follow-ups."""
    from datetime import UTC, datetime

    from bot.admission import admitted_people
    from bot.evaluation.improve import for_week, sentiment_model
    from bot.library import CourseLibrary
    from bot.reports.export import render_file, summary_for
    from bot.reports.metrics import in_region
    from bot.reports.upkeep import upkeep
    from bot.store.db import Database
    from bot.weeks import iso_week_window

    fmt = output_format.value
    settings = _settings(db, read_only=True)
    _quiet_logs_for_console()
    library = CourseLibrary(settings.content_dir)
    problems = library.reload()
    if problems:
        raise ContentError(problems)
    database = Database(settings.database_url)
    try:
        database.upgrade()
        summary = summary_for(
            database,
            library.course,
            week=week,
            team=team,
            region=region,
            timezone=settings.timezone,
            now=datetime.now(UTC),
            language=settings.language,
            include_people=fmt == "csv" or team is not None,
            admitted=admitted_people(settings),
            working_days=settings.working_days,
            kpi_weeks=settings.kpi_weeks,
            trained_coverage=settings.kpi_trained_coverage,
        )
        if fmt != "csv":  # the CSV is one row per person
            summary.improve = for_week(
                database,
                library.course,
                week=summary.week,
                weeks=settings.improve_weeks,
                timezone=settings.timezone,
                language=settings.language,
                team_ids=_team_ids(database, team),
                admitted=in_region(admitted_people(settings), region),
                embeddings=sentiment_model(settings.embeddings),
            )
            # Content due for review and the practice rules fired: the trainers' part.
            start, end = iso_week_window(summary.week, settings.timezone)
            with database.session() as session:
                summary.upkeep = upkeep(
                    session,
                    library.course,
                    library.root,
                    today=datetime.now(ZoneInfo(settings.timezone)).date(),
                    review_months=settings.review_months,
                    week_start=start,
                    week_end=end,
                )
        text = render_file(summary, fmt, settings.language)
    finally:
        database.dispose()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out} ({summary.week}, {summary.scope})", err=True)


class EvaluateFormat(StrEnum):
    """Output formats of ``trainbot evaluate``."""

    md = "md"
    json = "json"


class EvaluateLanguage(StrEnum):
    """Languages ``trainbot evaluate`` writes in."""

    zh = "zh"
    en = "en"


@app.command()
def evaluate(
    week: Annotated[
        str | None,
        typer.Option(help="Last ISO week read, e.g. 2026-W47 (default: the last complete one)."),
    ] = None,
    output_format: Annotated[
        EvaluateFormat, typer.Option("--format", help="md or json.")
    ] = EvaluateFormat.md,
    lang: Annotated[
        EvaluateLanguage | None,
        typer.Option("--lang", help="zh or en (default: TRAINBOT_LANGUAGE)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Content to improve (docs/evaluation.md): lessons ranked by ratings, negative
    comments, first-try accuracy, application and content gaps, with the evidence."""
    import json
    from datetime import UTC, datetime

    from bot.admission import admitted_people
    from bot.evaluation.improve import for_week, sentiment_model
    from bot.library import CourseLibrary
    from bot.reports.to_improve import improve_document, improve_json
    from bot.store.db import Database
    from bot.weeks import chosen_week

    settings = _settings(db, read_only=True)
    _quiet_logs_for_console()
    language = lang.value if lang is not None else settings.language
    try:
        label = chosen_week(week or None, datetime.now(UTC), settings.timezone)
    except ValueError as exc:
        raise TrainbotError(str(exc)) from None
    library = CourseLibrary(settings.content_dir)
    problems = library.reload()
    if problems:
        raise ContentError(problems)
    database = Database(settings.database_url)
    try:
        database.upgrade()
        found = for_week(
            database,
            library.course,
            week=label,
            weeks=settings.improve_weeks,
            timezone=settings.timezone,
            language=language,
            admitted=admitted_people(settings),
            embeddings=sentiment_model(settings.embeddings),
            theme_source=settings,  # a theme summary per lesson when TRAINBOT_LLM is set
        )
    finally:
        database.dispose()
    if output_format is EvaluateFormat.json:
        typer.echo(json.dumps(improve_json(found, language), ensure_ascii=False, indent=2))
        return
    typer.echo(improve_document(found, language), nl=False)


@users_app.command("import")
def users_import(
    roster: Annotated[Path, typer.Argument(help="Roster CSV file (format: docs/roster.md).")],
    db: DbOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count, but write nothing.")
    ] = False,
) -> None:
    """Import or update people from a roster CSV; every bad row is reported as file:line."""
    from bot.clock import SystemClock
    from bot.library import check_course
    from bot.roster import RosterError, import_roster
    from bot.store.db import Database

    if not roster.is_file():
        raise RosterError(f"{roster}: no such file")
    settings = _settings(db)
    course, problems = check_course(settings.content_dir)
    if course is None:
        typer.echo(
            f"trainbot: the course in {settings.content_dir} has {len(problems)} problem(s) "
            "(see 'trainbot validate'); rows naming a track will be rejected",
            err=True,
        )
    database = Database(settings.database_url)
    try:
        database.upgrade()
        report = import_roster(
            database,
            roster,
            course=course,
            now=SystemClock().now(),
            default_language=settings.language,
            default_timezone=settings.timezone,
            dry_run=dry_run,
        )
    finally:
        database.dispose()
    for line, message in report.problems:
        typer.echo(f"{roster}:{line}: {message}")
    typer.echo(report.summary() + (" (dry run: nothing written)" if dry_run else ""))
    if report.off_roster and settings.enrolment in ("auto", "roster"):
        # Under auto the first import closes the bot to everyone it does not list.
        typer.echo(
            f"warning: {report.off_roster} enrolled people are on no roster: with "
            f"TRAINBOT_ENROLMENT={settings.enrolment} they can no longer use the bot, get no "
            "pushes and leave the reports. Add them to the roster, or set "
            "TRAINBOT_ENROLMENT=open (docs/access.md); 'trainbot users list' marks who is "
            "on it.",
            err=True,
        )
    if report.rejected:
        raise typer.Exit(1)


@kpis_app.command("import")
def kpis_import(
    file: Annotated[
        Path, typer.Argument(help="CSV: team, week, metric, value[, unit, direction].")
    ],
    db: DbOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count, but write nothing.")
    ] = False,
) -> None:
    """Import KPI values per team and ISO week; any bad row (file:line) means nothing is imported."""
    from bot.clock import SystemClock
    from bot.kpis import import_kpis
    from bot.store.db import Database

    settings = _settings(db)
    _quiet_logs_for_console()
    database = Database(settings.database_url)
    try:
        database.upgrade()
        report = import_kpis(
            database,
            file,
            now=SystemClock().now(),
            timezone=settings.timezone,
            dry_run=dry_run,
        )
    finally:
        database.dispose()
    for line, message in report.problems:
        typer.echo(f"{file}:{line}: {message}")
    typer.echo(report.summary() + (" (dry run: nothing written)" if dry_run else ""))
    if report.problems:
        raise typer.Exit(1)


@kpis_app.command("list")
def kpis_list(
    metric: Annotated[str | None, typer.Option(help="Only this metric.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team (its exact name).")] = None,
    db: DbOption = None,
) -> None:
    """List the stored KPI values: team, week, metric, value, unit, direction, source, imported."""
    from bot.kpis import stored_kpis
    from bot.reports.render import spreadsheet_cell
    from bot.store.db import Database

    settings = _settings(db, read_only=True)
    _quiet_logs_for_console()
    database = Database(settings.database_url)
    try:
        database.upgrade()
        found = stored_kpis(database, metric=metric, team=team)
    finally:
        database.dispose()
    typer.echo("team\tweek\tmetric\tvalue\tunit\tdirection\tsource\timported_at")
    for name, value in found:
        # Tab-separated text is often pasted into a spreadsheet: no cell may run as a formula.
        text = [name, value.week, value.metric]
        more = [value.unit or "", value.direction or "", value.source]
        typer.echo(
            "\t".join(
                [
                    *(str(spreadsheet_cell(cell)) for cell in text),
                    f"{value.value:.10g}",  # a number, written by us: never escaped
                    *(str(spreadsheet_cell(cell)) for cell in more),
                    value.imported_at.isoformat(timespec="seconds"),
                ]
            )
        )
    typer.echo(f"{len(found)} value(s)", err=True)


def _experiment_context(
    name: str | None, db: str | None, language: LanguageChoice | None, *, read_only: bool = False
) -> tuple[Settings, Any, str]:
    """Settings, the valid course and the language of an experiments command."""
    from bot.i18n import t
    from bot.library import check_course

    settings = _settings(db, read_only=read_only)
    _quiet_logs_for_console()
    chosen = language.value if language is not None else settings.language
    course, problems = check_course(settings.content_dir)
    if course is None:
        raise TrainbotError(
            f"{settings.content_dir} has {len(problems)} problem(s); run trainbot validate"
        )
    if not course.experiments:
        raise TrainbotError(t(chosen, "exp_none"))
    if name is not None and name not in course.experiments:
        raise TrainbotError(
            t(chosen, "exp_unknown", id=name, ids=", ".join(sorted(course.experiments)))
        )
    return settings, course, chosen


@experiments_app.command("list")
def experiments_list(db: DbOption = None, language: LangOption = None) -> None:
    """List the experiments: dates, form, outcome and units assigned per variant."""
    from bot.experiments import balance
    from bot.store.db import Database

    settings, course, chosen = _experiment_context(None, db, language)
    database = Database(settings.database_url)
    try:
        database.upgrade()
        with database.session() as session:
            for experiment in course.experiments.values():
                counts = balance(session, experiment)
                typer.echo(
                    f"{experiment.id}\t{experiment.start} – {experiment.end}\t"
                    f"{experiment.form.value}\t{experiment.outcome.value}\t"
                    + ", ".join(f"{variant}: {count}" for variant, count in counts.items())
                    + f"\t{experiment.title.get(chosen)}"
                )
    finally:
        database.dispose()


@experiments_app.command("assign")
def experiments_assign(
    name: Annotated[str, typer.Argument(help="The experiment's id.")],
    db: DbOption = None,
    language: LangOption = None,
) -> None:
    """Assign everyone in the experiment's population now (the bot also assigns people as
    it pushes to them); prints the units per variant."""
    from bot.experiments import assign_all
    from bot.i18n import t
    from bot.store.db import Database

    settings, course, chosen = _experiment_context(name, db, language)
    experiment = course.experiments[name]
    now = datetime.now(ZoneInfo(settings.timezone))
    if not experiment.active_on(now.date()):
        raise TrainbotError(
            t(chosen, "exp_outside", id=name, start=experiment.start, end=experiment.end)
        )
    database = Database(settings.database_url)
    try:
        database.upgrade()
        with database.session() as session:
            counts = assign_all(session, experiment, now=now, today=now.date())
    finally:
        database.dispose()
    text = ", ".join(f"{variant} {count}" for variant, count in counts.items())
    typer.echo(t(chosen, "exp_assigned", counts=text))


class ExperimentFormat(StrEnum):
    """Output formats of ``trainbot experiments report``."""

    md = "md"
    json = "json"


@experiments_app.command("report")
def experiments_report(
    name: Annotated[str, typer.Argument(help="The experiment's id.")],
    output_format: Annotated[
        ExperimentFormat, typer.Option("--format", help="md (default) or json.")
    ] = ExperimentFormat.md,
    db: DbOption = None,
    language: LangOption = None,
) -> None:
    """Per-variant outcomes with intervals, the test against the control, the sample size
    the difference seen would need, and a verdict in plain words."""
    import json

    from bot.experiments import as_dict, evaluate, render
    from bot.store.db import Database

    settings, course, chosen = _experiment_context(name, db, language, read_only=True)
    experiment = course.experiments[name]
    zone = ZoneInfo(settings.timezone)
    today = datetime.now(zone).date()
    database = Database(settings.database_url)
    try:
        database.upgrade()
        with database.session() as session:
            result = evaluate(session, course, experiment, today=today, zone=zone)
    finally:
        database.dispose()
    if output_format is ExperimentFormat.json:
        typer.echo(json.dumps(as_dict(result), ensure_ascii=False, indent=2))
    else:
        typer.echo(render(result, chosen, course=course))


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """List the people the bot knows; the last column marks those on the roster."""
    from sqlalchemy import select

    from bot.store.db import Database
    from bot.store.models import Person

    settings = _settings(db, read_only=True)
    database = Database(settings.database_url)
    database.upgrade()
    with database.session() as session:
        people = session.scalars(select(Person).order_by(Person.id)).all()
        for person in people:
            typer.echo(
                f"{person.id}\t{person.platform}:{person.platform_user_id}\t{person.display_name}"
                f"\t{person.role.value}\t{person.status.value}\t{person.language}\t{person.timezone}"
                f"\t{person.track_id or '-'}\t{'roster' if person.on_roster else '-'}"
            )
        typer.echo(f"{len(people)} people", err=True)


# --- who may do what: roles, removal, team managers (docs/access.md) ---

PersonArgument = Annotated[
    str,
    typer.Argument(
        metavar="PERSON",
        help="Who: platform:user_id (telegram:512345678), the id from 'users list', or an email.",
        show_default=False,
    ),
]


def _users_database(db: str | None, *, read_only: bool = False) -> tuple[Settings, Any]:
    from bot.store.db import Database

    settings = _settings(db, read_only=read_only)
    _quiet_logs_for_console()  # the command prints what it changed
    database = Database(settings.database_url)
    database.upgrade()
    return settings, database


def _print_change(change: Any) -> None:
    for line in change.lines:
        typer.echo(line)


@users_app.command("set-role")
def users_set_role(
    person: PersonArgument,
    role: Annotated[str, typer.Argument(help="learner or manager.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Store someone's role; a learner loses the teams they managed and their reports."""
    from datetime import UTC, datetime

    from bot.users import parse_role, set_role

    wanted = parse_role(role)
    settings, database = _users_database(db)
    try:
        _print_change(set_role(database, person, wanted, now=datetime.now(UTC), settings=settings))
    finally:
        database.dispose()


@users_app.command("remove")
def users_remove(person: PersonArgument, db: DbOption = None) -> None:
    """End someone's access (no pushes, no reports, not counted); their data is kept."""
    from datetime import UTC, datetime

    from bot.users import remove

    settings, database = _users_database(db)
    try:
        _print_change(remove(database, person, now=datetime.now(UTC), settings=settings))
    finally:
        database.dispose()


@users_app.command("restore")
def users_restore(person: PersonArgument, db: DbOption = None) -> None:
    """Give a removed person access again (their pushes resume when they /start)."""
    from datetime import UTC, datetime

    from bot.users import restore

    _, database = _users_database(db)
    try:
        _print_change(restore(database, person, now=datetime.now(UTC)))
    finally:
        database.dispose()


@users_app.command("manage")
def users_manage(
    person: PersonArgument,
    team: Annotated[str, typer.Argument(help="The team's name.", show_default=False)],
    stop: Annotated[bool, typer.Option("--remove", help="Stop managing the team instead.")] = False,
    db: DbOption = None,
) -> None:
    """Make someone a manager of a team and the teams below it (or stop it with --remove)."""
    from datetime import UTC, datetime

    from bot.users import manage

    _, database = _users_database(db)
    try:
        _print_change(manage(database, person, team, now=datetime.now(UTC), stop=stop))
    finally:
        database.dispose()


# --- privacy rights: users export, users forget, users purge-expired (docs/privacy.md) ---
# "forget" erases a person's data; "remove" above only ends their access.


@users_app.command("export")
def users_export(
    person: PersonArgument,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the JSON to this file (readable by you only)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Print everything stored about one person as JSON (their right of access)."""
    import json
    import os
    from datetime import UTC, datetime

    from bot.privacy import export_person, find_subject

    _, database = _users_database(db, read_only=True)
    try:
        with database.session() as session:
            document = export_person(session, find_subject(session, person), now=datetime.now(UTC))
    finally:
        database.dispose()
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    # Personal data: the file is created for its owner alone, not with the usual umask.
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    typer.echo(
        f"wrote {out}: {document['person']['platform']}:{document['person']['platform_user_id']}, "
        f"{len(document['deliveries'])} deliveries, {len(document['attempts'])} answers, "
        f"{len(document['review_states'])} review states, "
        f"{len(document['asked_questions'])} questions",
        err=True,
    )


@users_app.command("forget")
def users_forget(
    person: PersonArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Erase one person and their data (right to erasure); their questions stay as anonymous counts."""
    from bot.privacy import erase_person, erasure_preview, find_subject, reference_of

    _, database = _users_database(db)
    try:
        with database.session() as session:
            found = find_subject(session, person)
            person_id, who = found.id, f"{reference_of(found)} ({found.display_name})"
            preview = erasure_preview(session, person_id)
        typer.echo(
            f"{who}: {preview.deliveries} deliveries, {preview.attempts} answers, "
            f"{preview.survey_responses} survey ratings, "
            f"{preview.application_reports} application answers, "
            f"{preview.observers} observer links, "
            f"{preview.review_states} review states and the text of {preview.questions} "
            f"questions will be erased; manager of {preview.managed_teams} team(s), "
            f"named as manager by {preview.direct_reports} people"
        )
        if not yes and not typer.confirm(f"Erase {who} for good?", default=False):
            typer.echo("nothing erased")
            raise typer.Exit(1)
        with database.session() as session:
            erased = erase_person(session, person_id)
    finally:
        database.dispose()
    if erased is None:
        typer.echo(f"{who} was already erased")
        return
    typer.echo(f"erased {who}")


@users_app.command("purge-expired")
def users_purge_expired(
    days: Annotated[
        int | None,
        typer.Option(min=0, help="Retention in days (default: TRAINBOT_RETENTION_DAYS)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Apply the retention window now (the running bot does it nightly at 03:30)."""
    from datetime import UTC, datetime

    from bot.privacy import purge_expired

    settings, database = _users_database(db)
    keep = days if days is not None else settings.retention_days
    try:
        with database.session() as session:
            purge = purge_expired(
                session,
                now=datetime.now(UTC),
                days=keep,
                followup_minutes=settings.followup_minutes,
            )
    finally:
        database.dispose()
    if purge is None:
        typer.echo("retention is off (TRAINBOT_RETENTION_DAYS=0): nothing removed")
        return
    typer.echo(f"retention {keep} days: {purge.summary()}")


@app.command()
def simulate(
    learners: Annotated[int, typer.Option(help="Number of simulated learners.")] = 50,
    days: Annotated[int, typer.Option(help="Days to simulate (ending today).")] = 14,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 1,
    until: Annotated[
        str | None,
        typer.Option(
            help="End the simulation at the start of this day, YYYY-MM-DD (default: today)."
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON (keys in docs/learning.md).")
    ] = False,
    true_effect: Annotated[
        float,
        typer.Option(
            help="A known effect for the course's experiments: added to the chance to recall "
            "of learners in a variant other than the control (0.1 = 10 points).",
            min=-1.0,
            max=1.0,
        ),
    ] = 0.0,
    weak_lesson: Annotated[
        list[str] | None,
        typer.Option(
            help="A lesson that gets its point across poorly, for the practice rules to find "
            "(repeatable)."
        ),
    ] = None,
    no_practice: Annotated[
        bool,
        typer.Option(
            "--no-practice", help="Leave the tracks' practice rules off (to compare with)."
        ),
    ] = False,
    language: LangOption = None,
    db: DbOption = None,
) -> None:
    """Simulate learners over weeks with a virtual clock, through the real bot code.

    Learners differ in ability and habit (diligent, steady, lapsing), forget on FSRS's
    forgetting curve and guess among the options when they do not recall. Without --db the
    store is temporary; with --db the rows stay (for trainbot report).
    """
    import json
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    from bot.library import CourseLibrary
    from bot.simulation import render_summary
    from bot.simulation import simulate as run_simulation

    settings = _settings()
    _quiet_logs_for_console()  # the command prints its own summary
    today = None
    if until is not None:
        try:
            day = datetime.strptime(until, "%Y-%m-%d").date()
        except ValueError:
            raise TrainbotError(f"--until {until!r} is not a date such as 2026-12-07") from None
        today = datetime.combine(day, time(12), tzinfo=ZoneInfo(settings.timezone)).astimezone(UTC)
    url = _database_url(db)
    result = asyncio.run(
        run_simulation(
            settings,
            learners=learners,
            days=days,
            seed=seed,
            db_url=url,
            today=today,
            true_effect=true_effect,
            weak_lessons=weak_lesson or (),
            practice=not no_practice,
        )
    )
    if json_output:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    library = CourseLibrary(settings.content_dir)
    library.reload()  # the simulation loaded it already, so it holds no problems here
    chosen = language.value if language is not None else settings.language
    typer.echo(render_summary(result, library.course, chosen, db), nl=False)


# --- content gaps and question drafts (trainbot gaps, trainbot quizzes draft) ---

quizzes_app = typer.Typer(help="Question banks: draft questions for review.", no_args_is_help=True)
app.add_typer(quizzes_app, name="quizzes")


def _week_window(week: str | None, settings: Settings) -> tuple[str, Any, Any]:
    """The ISO week (default: the last complete one) and its UTC window."""
    from datetime import UTC, datetime

    from bot.weeks import chosen_week, iso_week_window

    try:
        label = chosen_week(week or None, datetime.now(UTC), settings.timezone)
        start, end = iso_week_window(label, settings.timezone)
    except ValueError as exc:
        raise TrainbotError(str(exc)) from None
    return label.upper(), start, end


def _team_ids(database: Any, team: str | None) -> list[int] | None:
    from bot.gaps import team_ids_under

    if team is None:
        return None
    try:
        return team_ids_under(database, team)
    except LookupError as exc:
        raise TrainbotError(str(exc.args[0])) from None


@app.command()
def gaps(
    week: Annotated[
        str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: the last complete week).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only this team (and teams below it).")] = None,
    limit: Annotated[int | None, typer.Option(help="Show at most this many gaps.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    db: DbOption = None,
) -> None:
    """Content gaps: questions the bot could not answer or whose answer got 👎, grouped."""
    import json

    from bot.gaps import content_gaps
    from bot.store.db import Database

    settings = _settings(db, read_only=True)
    label, start, end = _week_window(week, settings)
    database = Database(settings.database_url)
    database.upgrade()
    groups = content_gaps(
        database, start=start, end=end, team_ids=_team_ids(database, team), limit=limit
    )
    if json_output:
        document = {
            "week": label,
            "timezone": settings.timezone,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "team": team,
            "gaps": [
                {
                    "question": group.question,
                    "variants": list(group.variants),
                    "count": group.count,
                    "unanswered": group.unanswered,
                    "thumbs_down": group.thumbs_down,
                    "language": group.language,
                    "last_asked": group.last_asked.isoformat(),
                }
                for group in groups
            ],
        }
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    where = f" in team {team}" if team else ""
    typer.echo(f"Content gaps {label}{where} ({settings.timezone}): {len(groups)}")
    if not groups:
        return
    typer.echo(f"{'asked':>5} {'unans.':>6} {'👎':>3}  lang  last asked  question")
    zone = settings.zone
    for group in groups:
        last = group.last_asked.astimezone(zone).strftime("%m-%d %H:%M")
        typer.echo(
            f"{group.count:>5} {group.unanswered:>6} {group.thumbs_down:>3}  "
            f"{group.language:<4}  {last:<11} {group.question}"
        )
        for variant in group.variants:
            typer.echo(f"{'':>36}≈ {variant}")


class DraftLanguage(StrEnum):
    """Languages drafts can be written in."""

    zh = "zh"
    en = "en"


@quizzes_app.command("draft")
def quizzes_draft(
    from_gaps: Annotated[
        bool, typer.Option("--from-gaps", help="Draft from the week's content gaps.")
    ] = False,
    lesson: Annotated[str | None, typer.Option(help="Draft for this lesson id.")] = None,
    week: Annotated[
        str | None, typer.Option(help="With --from-gaps: ISO week (default: last complete).")
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(help="With --from-gaps: only this team's gaps (and teams below it)."),
    ] = None,
    count: Annotated[int, typer.Option(min=1, max=50, help="How many questions at most.")] = 5,
    language: Annotated[
        DraftLanguage | None,
        typer.Option("--language", help="Write in this language (default: the gap's / lesson's)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Draft questions into quizzes/drafts/ for a trainer to review (never served as is)."""
    from bot.drafts import Drafter
    from bot.qa import KnowledgeService
    from bot.store.db import Database

    if from_gaps == (lesson is not None):
        raise TrainbotError("choose exactly one of --from-gaps and --lesson ID")
    if (week is not None or team is not None) and not from_gaps:
        raise TrainbotError("--week and --team go with --from-gaps")
    settings = _settings(db, read_only=True)
    _quiet_logs_for_console()
    drafter = Drafter(settings, KnowledgeService(settings, db=_shared_index_store(settings)))
    wanted = language.value if language else None
    if from_gaps:
        label, start, end = _week_window(week, settings)
        database = Database(settings.database_url)
        database.upgrade()
        batch = drafter.from_gaps(
            database,
            start=start,
            end=end,
            label=label,
            count=count,
            language=wanted,
            team_ids=_team_ids(database, team),
        )
        where = f" in team {team}" if team else ""
        if not batch.gaps:
            typer.echo(f"no content gaps in {label}{where}: nothing to draft")
            return
        typer.echo(f"{len(batch.gaps)} content gap(s) in {label}{where}")
        if batch.uncovered:
            typer.echo(
                f"{len(batch.uncovered)} not covered by the materials, nothing drafted for them; "
                "add material on:"
            )
            for gap in batch.uncovered:
                typer.echo(f"  - {gap.question} (asked {gap.count}x)")
            if len(batch.uncovered) == len(batch.gaps):
                return
    else:
        batch = drafter.for_lesson(lesson or "", count=count, language=wanted)
    if batch.path is None:
        typer.echo(f"no new draft questions ({batch.already_drafted} already drafted or published)")
        return
    for entry in batch.entries:
        typer.echo(
            f"  {entry.id} [{entry.question.language}, {entry.question.type}] "
            f"{entry.question.prompt}"
        )
    typer.echo(
        f"wrote {len(batch.entries)} draft question(s) to {batch.path}"
        + (f" ({batch.already_drafted} already drafted)" if batch.already_drafted else "")
        + "; review them, remove 'draft: true' and move them into quizzes/ to publish"
    )


def main() -> None:
    """Entry point: run the CLI, printing trainbot's own errors without a traceback."""
    command = typer.main.get_command(app)
    try:
        result = command.main(prog_name="trainbot", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        # Typer 0.2x raises its own Abort (a declined or unanswered confirmation).
        typer.echo("aborted", err=True)
        sys.exit(130)
    except typer.TyperException as exc:
        # ... and its own usage errors (a missing argument, an unknown option).
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except ContentError as exc:
        _tell_operator(f"trainbot: {exc}", level=logging.ERROR)
        sys.exit(1)
    except TrainbotError as exc:
        _tell_operator(f"trainbot: {exc}", level=logging.ERROR)
        sys.exit(exc.exit_code)
    except Exception:
        # Through the log handler rather than Python's own hook, so the traceback passes
        # the secret redactor (an HTTP client's error may quote a Bot API URL, token and all).
        logger.critical("trainbot stopped on an unexpected error", exc_info=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
