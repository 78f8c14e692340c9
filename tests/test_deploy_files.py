"""The deploy files agree with the code: no Docker needed, nothing started.

Where Docker can run, building the image and starting deploy/compose.yaml is the real test
(docs/deploy.md); this machine and CI have no Docker engine, so these checks read the
files: the Dockerfile, deploy/compose.yaml and its Caddyfile, the systemd units with their
per-replica environment files and their Caddyfile, and docs/deploy.md. Each check is a
function returning its problems, so a test can feed it a broken copy and see it refused.
"""

from __future__ import annotations

import configparser
import copy
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer
import yaml

from adapters.cli import app
from adapters.slack import EVENTS_PATH
from bot.settings import ENV_PREFIX, Settings
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
SYSTEMD = DEPLOY / "systemd"
REPLICA_ENV_FILES = sorted(SYSTEMD.glob("[0-9]*.env"))
DEFAULT_STOP_GRACE = float(Settings.model_fields["stop_grace"].default)
TRAINBOT_IMAGE = "trainbot:"
VARIABLE = re.compile(r"\bTRAINBOT_[A-Z0-9_]*[A-Z0-9]\b")


# -- what the code offers ----------------------------------------------------------------


def documented_variables() -> set[str]:
    """The variables .env.example lists (tests/test_env_example.py: every setting, no more)."""
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    return {line.partition("=")[0] for line in lines if line.startswith(ENV_PREFIX)}


def undocumented(text: str, documented: set[str]) -> list[str]:
    """``TRAINBOT_*`` names in ``text`` that .env.example does not list."""
    return sorted(set(VARIABLE.findall(text)) - documented)


def command_problem(argv: list[str]) -> str | None:
    """Why ``trainbot ARGV`` is not a command line the CLI accepts, or ``None``.

    The arguments are parsed by the real command (Typer's click), not run: an unknown
    command, a group without its subcommand, an unknown option or a missing argument is
    a problem.
    """
    command: Any = typer.main.get_command(app)
    context = command.context_class(command, info_name="trainbot")
    args = list(argv)
    while hasattr(command, "list_commands"):  # a group (Typer may vendor its own click)
        if not args or args[0].startswith("-"):
            return f"trainbot {shlex.join(argv)}: no command given"
        found = command.get_command(context, args[0])
        if found is None:
            return f"trainbot {shlex.join(argv)}: {args[0]!r} is not a trainbot command"
        context = found.context_class(found, info_name=args[0], parent=context)
        command, args = found, args[1:]
    try:
        command.make_context(context.info_name, args, parent=context.parent)
    except Exception as exc:  # click's UsageError, BadParameter ...
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return f"trainbot {shlex.join(argv)}: {message}"
    return None


def stop_seconds(value: str) -> float:
    """``40``, ``40s``, ``1m30s``, ``1min`` as seconds (Compose and systemd spellings)."""
    units = {"h": 3600, "m": 60, "min": 60, "s": 1, "sec": 1, "ms": 0.001, "": 1}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|min|sec|h|m|s)?", value.strip())
    if not parts or "".join(a + b for a, b in parts) != re.sub(r"\s", "", value):
        raise ValueError(f"cannot read a duration from {value!r}")
    return sum(float(amount) * units[unit] for amount, unit in parts)


# -- Caddyfile ---------------------------------------------------------------------------


def caddy_routes(text: str) -> dict[str, dict[str, Any]]:
    """Each ``handle PATH`` block's upstreams and options, snippets imported.

    Enough of the Caddyfile grammar for the files in deploy/: global options, snippets
    ``(name) {...}``, site blocks with ``handle`` blocks holding one ``reverse_proxy``.
    """
    snippets: dict[str, list[str]] = {}
    routes: dict[str, dict[str, Any]] = {}
    stack: list[str] = []
    snippet: str | None = None
    handle: str | None = None
    proxy: dict[str, Any] | None = None

    def options(line: str, into: dict[str, Any]) -> None:
        name, _, rest = line.partition(" ")
        if name == "import":
            for imported in snippets.get(rest.strip(), []):
                options(imported, into)
        else:
            into[name] = rest.strip()

    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line == "}":
            closed = stack.pop()
            if closed == "snippet":
                snippet = None
            elif closed == "handle":
                handle = None
            elif closed == "proxy":
                proxy = None
            continue
        opens = line.endswith("{")
        head = line.removesuffix("{").strip()
        if snippet is not None and not opens:
            snippets[snippet].append(head)
        elif proxy is not None and not opens:
            options(head, proxy)
        elif opens and re.fullmatch(r"\(\w[\w-]*\)", head) and not stack:
            snippet = head[1:-1]
            snippets[snippet] = []
            stack.append("snippet")
            continue
        elif opens and head.startswith("handle ") and handle is None:
            handle = head.split()[1]
            stack.append("handle")
            continue
        elif head.startswith("reverse_proxy") and handle is not None:
            proxy = {"upstreams": head.split()[1:]}
            routes[handle] = proxy
            if not opens:
                proxy = None
            else:
                stack.append("proxy")
            continue
        if opens:
            stack.append("block")
    assert not stack, "unbalanced braces"
    return routes


def route_for(routes: Mapping[str, dict[str, Any]], path: str) -> dict[str, Any] | None:
    """The route whose ``handle`` matcher takes ``path`` (exact, or a ``/prefix/*``)."""
    for matcher, route in routes.items():
        if matcher == path or (matcher.endswith("/*") and path.startswith(matcher[:-1])):
            return route
    return None


def documented_webhook_path() -> str:
    """The path of the Telegram webhook URL docs/deploy.md tells operators to set."""
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    found = re.search(r"TRAINBOT_TELEGRAM_WEBHOOK_URL=(https://\S+)", text)
    assert found, "docs/deploy.md sets no TRAINBOT_TELEGRAM_WEBHOOK_URL"
    return urlsplit(found.group(1)).path


def check_proxy(
    caddyfile: str,
    *,
    slack: set[str],
    telegram: set[str],
    health_port: str,
    telegram_path: str,
) -> list[str]:
    """The proxy sends Slack's events and Telegram's webhook to every replica, health-checked.

    Args:
        caddyfile: the proxy configuration.
        slack: ``host:port`` of each replica's Slack HTTP server.
        telegram: ``host:port`` of each replica's webhook server.
        health_port: the replicas' operations port (where /readyz answers).
        telegram_path: the path of the webhook URL the operator sets.
    """
    problems: list[str] = []
    routes = caddy_routes(caddyfile)
    for name, path, expected in (
        ("Slack events", EVENTS_PATH, slack),
        ("Telegram webhook", telegram_path, telegram),
    ):
        route = route_for(routes, path)
        if route is None:
            problems.append(f"no route for the {name} path {path}")
            continue
        if set(route["upstreams"]) != expected:
            problems.append(
                f"{name}: upstreams {sorted(route['upstreams'])}, the replicas listen on "
                f"{sorted(expected)}"
            )
        if route.get("health_uri") != "/readyz" or route.get("health_port") != health_port:
            problems.append(
                f"{name}: health check {route.get('health_uri')} on port "
                f"{route.get('health_port')}, expected /readyz on {health_port}"
            )
    return problems


# -- compose -----------------------------------------------------------------------------


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(key): str(value) for key, value in env.items()}


def _argv(value: Any) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(item) for item in value]


def trainbot_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Services that run the trainbot image with its entrypoint (``trainbot``)."""
    return {
        name: service
        for name, service in compose.get("services", {}).items()
        if str(service.get("image", "")).startswith(TRAINBOT_IMAGE) and "entrypoint" not in service
    }


def bot_services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The replicas: trainbot services whose command is ``run``."""
    return {
        name: service
        for name, service in trainbot_services(compose).items()
        if _argv(service.get("command"))[:1] == ["run"]
    }


def chroma_problems(service: Mapping[str, Any], environment: Mapping[str, str]) -> list[str]:
    """The Chroma server is the client's version and listens where the bots look for it."""
    problems = []
    image = str(service.get("image", ""))
    installed = ".".join(version("chromadb").split(".")[:2])
    argv = _argv(service.get("entrypoint")) + _argv(service.get("command"))
    if image.startswith(TRAINBOT_IMAGE):
        # The chromadb package of the bots' own image: the same version by construction.
        if argv[:2] != ["chroma", "run"]:
            problems.append(f"chroma runs {argv}, not `chroma run`")
        port = argv[argv.index("--port") + 1] if "--port" in argv else "8000"
    elif image.startswith("chromadb/chroma:"):
        tag = image.partition(":")[2]
        if not tag.startswith(installed + "."):
            problems.append(f"chroma image {image} is not chromadb {installed}.x")
        port = "8000"
    else:
        return [f"chroma image {image!r} is neither the trainbot image nor chromadb/chroma"]
    url = environment.get(f"{ENV_PREFIX}CHROMA_URL", "")
    if urlsplit(url).hostname != "chroma" or str(urlsplit(url).port or 80) != port:
        problems.append(f"{ENV_PREFIX}CHROMA_URL={url!r}, the server listens on chroma:{port}")
    return problems


def check_compose(compose: Mapping[str, Any]) -> list[str]:
    """The topology of docs/deploy.md, with real commands and consistent names."""
    problems: list[str] = []
    services: dict[str, dict[str, Any]] = compose.get("services", {})
    if not str(services.get("postgres", {}).get("image", "")).startswith("postgres:"):
        problems.append("no postgres service")
    elif "healthcheck" not in services["postgres"]:
        problems.append("postgres has no healthcheck (the bots wait for it)")
    if not any(
        str(service.get("image", "")).split(":")[0] in ("caddy", "nginx")
        for service in services.values()
    ):
        problems.append("no reverse proxy service (caddy or nginx)")
    for name, service in trainbot_services(compose).items():
        problem = command_problem(_argv(service.get("command")))
        if problem:
            problems.append(f"{name}: {problem}")
    bots = bot_services(compose)
    if len(bots) < 2:
        problems.append(f"{len(bots)} bot replica(s), expected at least 2")
    for name, service in bots.items():
        environment = _environment(service)
        if not environment.get(f"{ENV_PREFIX}DATABASE_URL", "").startswith("postgresql://"):
            problems.append(f"{name}: {ENV_PREFIX}DATABASE_URL is not a PostgreSQL URL")
        if "chroma" not in services:
            problems.append("no chroma service")
        else:
            problems += [f"{name}: {p}" for p in chroma_problems(services["chroma"], environment)]
        if not service.get("env_file"):
            problems.append(f"{name}: no env_file (the operator's settings)")
        grace = stop_seconds(str(service.get("stop_grace_period", "10s")))  # Compose's default
        if grace <= DEFAULT_STOP_GRACE:
            problems.append(
                f"{name}: stop_grace_period {grace:g}s is not longer than "
                f"{ENV_PREFIX}STOP_GRACE ({DEFAULT_STOP_GRACE:g}s)"
            )
        if "healthcheck" in service and service["healthcheck"].get("disable"):
            problems.append(f"{name}: its healthcheck is disabled")
    courses = {
        name: [str(v).rsplit(":", 2)[0] for v in service.get("volumes", []) if "/app/content" in v]
        for name, service in services.items()
        if name in bots or name == "ingest"
    }
    if len({tuple(mounts) for mounts in courses.values()}) != 1 or not all(courses.values()):
        problems.append(f"the replicas and the ingest job do not mount one course: {courses}")
    for name, service in services.items():
        depends = service.get("depends_on") or []
        for other in depends if isinstance(depends, list) else depends.keys():
            if other not in services:
                problems.append(f"{name} depends on {other!r}, which is not a service")
    return problems


def compose_upstreams(compose: Mapping[str, Any]) -> dict[str, Any]:
    """Where the compose replicas listen, as the proxy must reach them."""
    bots = bot_services(compose)
    slack, telegram, health = set(), set(), set()
    for name, service in bots.items():
        env = _environment(service)
        slack.add(f"{name}:{env.get(f'{ENV_PREFIX}SLACK_PORT', '3000')}")
        telegram.add(f"{name}:{env.get(f'{ENV_PREFIX}TELEGRAM_WEBHOOK_PORT', '8443')}")
        health.add(env.get(f"{ENV_PREFIX}OPS_PORT", "0"))
    assert len(health) == 1, f"the replicas' operations ports differ: {health}"
    return {"slack": slack, "telegram": telegram, "health_port": health.pop()}


# -- Dockerfile --------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` in order, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _exec_form(arguments: str) -> list[str]:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return shlex.split(arguments)
    return [str(item) for item in value]


def check_dockerfile(text: str) -> list[str]:
    """Slim, non-root, runs trainbot, health-checked, nothing fetched at start."""
    problems: list[str] = []
    instructions = dockerfile_instructions(text)
    keywords = [keyword for keyword, _ in instructions]
    stages = [i for i, keyword in enumerate(keywords) if keyword == "FROM"]
    if not stages:
        return ["no FROM"]
    final = instructions[stages[-1] :]
    base = final[0][1].split()[0]
    if not re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", base):
        problems.append(f"the final stage is {base}, not a slim Python 3.11 image")
    users = [(i, arguments) for i, (keyword, arguments) in enumerate(final) if keyword == "USER"]
    starts = [i for i, (keyword, _) in enumerate(final) if keyword in ("CMD", "ENTRYPOINT")]
    if not users:
        problems.append("no USER: the bot would run as root")
    else:
        last, user = users[-1]
        if user.split(":")[0] in ("root", "0"):
            problems.append(f"USER {user} is root")
        if starts and last > min(starts):
            problems.append("USER comes after CMD/ENTRYPOINT")
    entrypoint = [_exec_form(a) for k, a in final if k == "ENTRYPOINT"]
    command = [_exec_form(a) for k, a in final if k == "CMD"]
    if not entrypoint or entrypoint[-1] != ["trainbot"]:
        problems.append(f"ENTRYPOINT is {entrypoint[-1] if entrypoint else None}, not trainbot")
    if not command:
        problems.append("no CMD")
    else:
        problem = command_problem(command[-1])
        if problem:
            problems.append(f"CMD: {problem}")
    for keyword, arguments in final:
        if keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK") and re.search(
            r"\b(curl|wget|pip|hf_hub_download|snapshot_download)\b", arguments
        ):
            problems.append(f"{keyword} fetches something at run time: {arguments}")
    healthchecks = [arguments for keyword, arguments in final if keyword == "HEALTHCHECK"]
    if not healthchecks or "/healthz" not in healthchecks[-1]:
        problems.append("no HEALTHCHECK against /healthz")
    if ("STOPSIGNAL", "SIGTERM") not in final:
        problems.append("no STOPSIGNAL SIGTERM")
    for keyword, arguments in instructions:
        if keyword == "RUN" and "pip install" in arguments and re.search(r"\[[^\]]*dev", arguments):
            problems.append(f"installs the dev extras: {arguments}")
    environment = " ".join(arguments for keyword, arguments in final if keyword == "ENV")
    for variable in ("HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1"):
        if variable not in environment:
            problems.append(f"ENV {variable} missing")
    if not any(k == "COPY" and a.split()[:1] == ["content"] for k, a in final):
        problems.append("the sample course (content/) is not copied in")
    if not any(k == "EXPOSE" for k, _ in final):
        problems.append("no EXPOSE")
    return problems


# -- systemd -----------------------------------------------------------------------------


def read_unit(text: str) -> configparser.ConfigParser:
    """A unit file as INI (systemd repeats keys such as EnvironmentFile: the last is kept)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(text)
    return parser


def unit_values(text: str, key: str) -> list[str]:
    """Every value of ``key`` in a unit, repeated keys included."""
    return [
        line.partition("=")[2].strip()
        for line in text.splitlines()
        if line.partition("=")[0].strip() == key
    ]


def check_unit(text: str, *, replica: bool) -> list[str]:
    """A trainbot unit runs a real command as its own user; a replica stops gracefully."""
    problems: list[str] = []
    unit = read_unit(text)
    if not unit.has_section("Service"):
        return ["no [Service] section"]
    service = unit["Service"]
    argv = shlex.split(service.get("ExecStart", ""))
    if not argv or Path(argv[0]).name != "trainbot":
        problems.append(f"ExecStart {argv} does not run trainbot")
    else:
        problem = command_problem(argv[1:])
        if problem:
            problems.append(f"ExecStart: {problem}")
    if service.get("User", "root") in ("root", "0", ""):
        problems.append("no dedicated User=")
    if not unit_values(text, "EnvironmentFile"):
        problems.append("no EnvironmentFile=")
    if service.get("NoNewPrivileges") != "yes":
        problems.append("NoNewPrivileges=yes missing")
    if service.get("ProtectSystem") != "strict":
        problems.append("ProtectSystem=strict missing")
    if not replica:
        return problems
    if argv[1:] != ["run"]:
        problems.append(f"a replica runs `trainbot {shlex.join(argv[1:])}`, not `trainbot run`")
    if service.get("KillSignal") != "SIGTERM":
        problems.append("KillSignal=SIGTERM missing")
    timeout = stop_seconds(service.get("TimeoutStopSec", "90s"))  # systemd's default
    if timeout <= DEFAULT_STOP_GRACE:
        problems.append(
            f"TimeoutStopSec {timeout:g}s is not longer than {ENV_PREFIX}STOP_GRACE "
            f"({DEFAULT_STOP_GRACE:g}s)"
        )
    if service.get("Restart") != "on-failure":
        problems.append("Restart=on-failure missing")
    if not any("%i" in value for value in unit_values(text, "EnvironmentFile")):
        problems.append("no per-replica EnvironmentFile (…/%i.env)")
    if not (service.get("ReadWritePaths") or service.get("StateDirectory")):
        problems.append("no ReadWritePaths/StateDirectory for the state under ProtectSystem")
    return problems


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of an environment file."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def replica_upstreams(env_files: Iterable[Path]) -> dict[str, Any]:
    """Where the systemd replicas listen, from their per-replica environment files.

    Slack's HTTP server binds every interface, so a replica is reached at its own listen
    address (the one its webhook and operations endpoints use) on its own Slack port.
    """
    default = Settings.model_fields
    slack, telegram, health, own = set(), set(), set(), set()
    for path in env_files:
        env = read_env_file(path)

        def value(name: str, env: dict[str, str] = env) -> str:
            return env.get(ENV_PREFIX + name.upper(), str(default[name].default))

        address = value("ops_listen")
        own.add((address, value("slack_port")))
        slack.add(f"{address}:{value('slack_port')}")
        telegram.add(f"{value('telegram_webhook_listen')}:{value('telegram_webhook_port')}")
        health.add(value("ops_port"))
    assert len(health) == 1, f"the replicas' operations ports differ: {health}"
    assert len({port for _, port in own}) == len(own), "two replicas share a Slack port"
    return {"slack": slack, "telegram": telegram, "health_port": health.pop()}


# -- the tests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def deploy_texts() -> dict[str, str]:
    """Every file that may name a setting, by its path in the repository."""
    paths = [
        REPO / "Dockerfile",
        DEPLOY / "compose.yaml",
        DEPLOY / "Caddyfile",
        REPO / "docs" / "deploy.md",
        *sorted(SYSTEMD.iterdir()),
    ]
    return {str(path.relative_to(REPO)): path.read_text(encoding="utf-8") for path in paths}


def test_every_setting_named_in_the_deploy_files_is_in_env_example() -> None:
    documented = documented_variables()
    for name, text in deploy_texts().items():
        assert undocumented(text, documented) == [], name
    assert undocumented("TRAINBOT_OPS_PORTS=1 TRAINBOT_SLACK_PORT=2", documented) == [
        "TRAINBOT_OPS_PORTS"
    ]


def test_command_lines_are_checked_by_the_real_cli() -> None:
    for good in (["run"], ["db", "upgrade"], ["ingest", "--rebuild"], ["ask", "x", "--json"]):
        assert command_problem(good) is None, good
    for bad in (["serve"], ["db"], ["db", "migrate"], ["ingest", "--rebiuld"], ["ask"], []):
        assert command_problem(bad) is not None, bad


def test_compose_has_the_topology_with_real_commands(compose: dict[str, Any]) -> None:
    assert check_compose(compose) == []
    bots = bot_services(compose)
    assert len(bots) >= 2 and {"postgres", "chroma", "proxy", "migrate"} <= set(compose["services"])
    tools = compose["services"]["ingest"]
    assert tools["profiles"] == ["tools"] and _argv(tools["command"]) == ["ingest"]


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda c: c["services"]["bot-2"].update(command=["serve"]), "'serve' is not a trainbot"),
        (lambda c: c["services"]["migrate"].update(command=["db"]), "no command given"),
        (lambda c: c["services"].pop("bot-2"), "1 bot replica(s)"),
        (lambda c: c["services"].pop("postgres"), "no postgres service"),
        (lambda c: c["services"]["ingest"].pop("volumes"), "do not mount one course"),
        (lambda c: c["services"].pop("proxy"), "no reverse proxy"),
        (lambda c: c["services"]["bot-1"].update(stop_grace_period="15s"), "stop_grace_period"),
        (lambda c: c["services"]["bot-1"].pop("stop_grace_period"), "stop_grace_period 10s"),
        (
            lambda c: c["services"]["bot-1"].update(depends_on={"postgress": {}}),
            "'postgress', which is not a service",
        ),
        (
            lambda c: c["services"]["chroma"].update(image="chromadb/chroma:0.4.24", command=[]),
            "is not chromadb",
        ),
        (
            lambda c: c["services"]["bot-1"]["environment"].update(
                TRAINBOT_CHROMA_URL="http://chroma:9000"
            ),
            "TRAINBOT_CHROMA_URL",
        ),
        (
            lambda c: c["services"]["bot-2"]["environment"].update(
                TRAINBOT_DATABASE_URL="sqlite:///var/trainbot.db"
            ),
            "not a PostgreSQL URL",
        ),
    ],
)
def test_a_broken_compose_file_is_refused(
    compose: dict[str, Any], breakage: Any, expected: str
) -> None:
    broken = copy.deepcopy(compose)
    breakage(broken)
    assert any(expected in problem for problem in check_compose(broken)), check_compose(broken)


def test_the_compose_proxy_reaches_every_replica_on_its_ports(compose: dict[str, Any]) -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    upstreams = compose_upstreams(compose)
    assert upstreams["slack"] == {"bot-1:3000", "bot-2:3000"}  # the parser read the env
    webhook = documented_webhook_path()
    assert check_proxy(caddyfile, telegram_path=webhook, **upstreams) == []
    # ... and what the proxy expects really is what the replicas are told.
    moved = copy.deepcopy(compose)
    moved["services"]["bot-2"]["environment"]["TRAINBOT_SLACK_PORT"] = "3001"
    assert any(
        "Slack events: upstreams" in problem
        for problem in check_proxy(caddyfile, telegram_path=webhook, **compose_upstreams(moved))
    )
    assert any(
        "no route for the Telegram webhook" in problem
        for problem in check_proxy(caddyfile, telegram_path="/tg/hook", **upstreams)
    )
    unchecked = caddyfile.replace("health_uri /readyz", "health_uri /healthz")
    assert any(
        "health check" in problem
        for problem in check_proxy(unchecked, telegram_path=webhook, **upstreams)
    )


def test_the_dockerfile_runs_trainbot_as_a_user_with_a_health_check() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert check_dockerfile(text) == []
    dockerignore = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "var", ".env"} <= set(dockerignore)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("USER trainbot\n", "", "no USER"),
        ("USER trainbot\n", "USER root\n", "is root"),
        ('CMD ["run"]', 'CMD ["serve"]', "'serve' is not a trainbot command"),
        ('ENTRYPOINT ["trainbot"]', 'ENTRYPOINT ["python"]', "not trainbot"),
        ("/healthz", "/", "no HEALTHCHECK against /healthz"),
        ("pip install . ", 'pip install ".[dev]" ', "dev extras"),
        ('CMD ["run"]', 'CMD ["sh", "-c", "curl x && trainbot run"]', "fetches something"),
        ("STOPSIGNAL SIGTERM\n", "", "STOPSIGNAL"),
        ("HF_HUB_OFFLINE=1", "HF_HUB_OFFLINE=0", "HF_HUB_OFFLINE=1 missing"),
        ("FROM python:3.11-slim-bookworm\n", "FROM python:3.11\n", "not a slim Python"),
    ],
)
def test_a_broken_dockerfile_is_refused(old: str, new: str, expected: str) -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert old in text
    if old == "USER trainbot\n" and new == "":
        broken = text.replace(old, new)
    elif old.startswith("FROM"):
        broken = text[::-1].replace(old[::-1], new[::-1], 1)[::-1]  # the final stage
    else:
        broken = text.replace(old, new)
    assert any(expected in problem for problem in check_dockerfile(broken)), check_dockerfile(
        broken
    )
    late_user = text.replace("USER trainbot\n", "").replace('CMD ["run"]', 'CMD ["run"]\nUSER x')
    assert "USER comes after CMD/ENTRYPOINT" in check_dockerfile(late_user)


def test_the_systemd_units_run_real_commands_and_stop_gracefully() -> None:
    assert (
        check_unit((SYSTEMD / "trainbot@.service").read_text(encoding="utf-8"), replica=True) == []
    )
    for name in ("trainbot-migrate.service", "trainbot-ingest.service"):
        assert check_unit((SYSTEMD / name).read_text(encoding="utf-8"), replica=False) == [], name


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("trainbot run", "trainbot start", "'start' is not a trainbot command"),
        ("trainbot run", "trainbot ingest", "not `trainbot run`"),
        ("KillSignal=SIGTERM", "KillSignal=SIGKILL", "KillSignal=SIGTERM"),
        ("TimeoutStopSec=40", "TimeoutStopSec=15s", "TimeoutStopSec 15s"),
        ("User=trainbot\n", "", "no dedicated User="),
        ("Restart=on-failure", "Restart=no", "Restart=on-failure"),
        ("EnvironmentFile=/etc/trainbot/%i.env\n", "", "per-replica EnvironmentFile"),
        ("ProtectSystem=strict", "ProtectSystem=full", "ProtectSystem=strict"),
        ("NoNewPrivileges=yes", "NoNewPrivileges=no", "NoNewPrivileges"),
    ],
)
def test_a_broken_unit_is_refused(old: str, new: str, expected: str) -> None:
    text = (SYSTEMD / "trainbot@.service").read_text(encoding="utf-8")
    assert old in text
    problems = check_unit(text.replace(old, new), replica=True)
    assert any(expected in problem for problem in problems), problems


def test_the_vm_proxy_reaches_every_replica_on_its_ports() -> None:
    assert len(REPLICA_ENV_FILES) >= 2
    caddyfile = (SYSTEMD / "Caddyfile").read_text(encoding="utf-8")
    upstreams = replica_upstreams(REPLICA_ENV_FILES)
    assert upstreams["slack"] == {"127.0.0.1:3001", "127.0.0.2:3002"}
    webhook = documented_webhook_path()
    assert check_proxy(caddyfile, telegram_path=webhook, **upstreams) == []
    assert check_proxy(
        caddyfile.replace("127.0.0.2:8443", "127.0.0.2:8444"), telegram_path=webhook, **upstreams
    )


SHELL_OPERATORS = {"&&", "||", "|", ";", ">", ">>", "2>&1"}


def guide_command_lines(text: str, compose: Mapping[str, Any]) -> list[list[str]]:
    """The trainbot argument lists in a guide's shell blocks.

    ``trainbot ...`` or ``.../bin/trainbot ...`` at the start of a line or after
    ``exec SERVICE``, and ``docker compose ... run --rm SERVICE ARGS`` for a service of the
    trainbot image (its arguments replace the service's command; none keeps it).
    """
    blocks = re.findall(r"```(?:sh|console)\n(.*?)```", text, flags=re.DOTALL)
    found: list[list[str]] = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            for index, word in enumerate(words):
                argv: list[str] | None = None
                starts = index == 0 or words[index - 2 : index - 1] == ["exec"]
                if (word == "trainbot" and starts) or word.endswith("bin/trainbot"):
                    argv = words[index + 1 :]
                elif words[index - 2 : index] == ["run", "--rm"] and "compose" in words:
                    service = compose["services"].get(word, {})
                    if not str(service.get("image", "")).startswith(TRAINBOT_IMAGE):
                        continue
                    argv = words[index + 1 :] or _argv(service.get("command"))
                if argv is not None:
                    for position, arg in enumerate(argv):
                        if arg in SHELL_OPERATORS:
                            argv = argv[:position]
                            break
                    found.append(argv)
    return found


def test_the_commands_in_the_deploy_guide_exist(compose: dict[str, Any]) -> None:
    """Every trainbot command line docs/deploy.md tells an operator to type parses."""
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    commands = guide_command_lines(text, compose)
    assert ["ingest", "--rebuild"] in commands and ["db", "upgrade"] in commands
    assert len(commands) >= 6
    for argv in commands:
        assert command_problem(argv) is None, argv
    broken = "```sh\ndocker compose -f deploy/compose.yaml exec bot-1 trainbot user list\n```\n"
    assert [command_problem(argv) for argv in guide_command_lines(broken, compose)] != [None]


def test_the_chroma_unit_serves_where_the_replicas_look() -> None:
    text = (SYSTEMD / "chroma.service").read_text(encoding="utf-8")
    argv = shlex.split(read_unit(text)["Service"]["ExecStart"])
    assert Path(argv[0]).name == "chroma" and argv[1] == "run"
    address = f"http://{argv[argv.index('--host') + 1]}:{argv[argv.index('--port') + 1]}"
    guide = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert f"TRAINBOT_CHROMA_URL={address}" in guide


def undeclared_data_files(pyproject: Mapping[str, Any], root: Path) -> list[str]:
    """Files in the packages that ``pip install .`` (the image) would leave out.

    A development checkout (``pip install -e .``) reads every file from the source tree;
    an installed wheel has only the Python modules and the declared package data.
    """
    declared: dict[str, list[str]] = pyproject["tool"]["setuptools"]["package-data"]
    missing = []
    for package in ("adapters", "bot", "knowledge", "quizzes"):
        for path in sorted((root / package).rglob("*")):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(root / package)
            if not any(relative.match(pattern) for pattern in declared.get(package, [])):
                missing.append(str(path.relative_to(root)))
    return missing


def test_the_installed_package_carries_every_data_file(tmp_path: Path) -> None:
    """The image installs trainbot with ``pip install .``: no data file may stay behind."""
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert undeclared_data_files(pyproject, REPO) == []
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "knowledge" / "new-list.yaml").write_text("[]\n", encoding="utf-8")
    assert undeclared_data_files(pyproject, tmp_path) == ["knowledge/new-list.yaml"]
