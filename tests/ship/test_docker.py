"""Dockerfile, .dockerignore and docker-compose.yml, checked statically (no Docker engine here);
the Makefile's torch install, run with a stand-in for Python; `run` with a configuration error
as the image runs it.

Each guarantee is a check that returns the problems it finds; the real files must have none,
and each check is shown to catch its problem on a mutated copy of the real file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "docker-compose.yml"

SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY", re.IGNORECASE)
TORCH_CPU = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
TORCH_RUN = "RUN pip install torch==2.13.0 --index-url ${TORCH_INDEX}\n"


# Dockerfile


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            name, _, args = full.partition(" ")
            result.append((name.upper(), args.strip()))
    return result


def env_names(args: str) -> list[str]:
    """Names set by `ENV A=1 B=2`, `ENV A 1` or `ARG A[=1]`."""
    if "=" not in args.split(" ", 1)[0]:
        return [args.split(" ", 1)[0]]
    return [m.group(1) for m in re.finditer(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", args)]


def env_values(args: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"([A-Za-z_]\w*)=(\S+)", args)}


def expand_args(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """RUN lines with `${NAME}` / `$NAME` replaced by the default of an earlier `ARG NAME=...`
    (what a build without --build-arg runs)."""
    defaults: dict[str, str] = {}
    result = []
    for name, args in steps:
        if name == "ARG" and "=" in args:
            key, _, value = args.partition("=")
            defaults[key.strip()] = value.strip()
        if name == "RUN":
            for key, value in defaults.items():
                args = args.replace("${" + key + "}", value)
                args = re.sub(rf"\${key}\b", value, args)
        result.append((name, args))
    return result


def dockerfile_problems(text: str) -> list[str]:
    problems: list[str] = []
    steps = expand_args(instructions(text))
    names = [name for name, _ in steps]
    stages: set[str] = set()
    for name, args in steps:
        if name != "FROM":
            continue
        parts = args.split()
        image = parts[0]
        if len(parts) >= 3 and parts[1].upper() == "AS":
            stages.add(parts[2])
        if image in stages or image == "scratch":
            continue
        tag = image.split("@")[0].rpartition(":")[2] if ":" in image.split("@")[0] else ""
        if not tag or tag == "latest" or not re.match(r"\d+\.\d+\.\d+", tag):
            problems.append(f"base image not pinned to a full version: {image}")
    if "CMD" not in names:
        problems.append("no CMD")
    else:
        cmd_at = len(names) - 1 - names[::-1].index("CMD")
        users = [args for name, args in steps[:cmd_at] if name == "USER"]
        if not users:
            problems.append("no USER before CMD: runs as root")
        elif users[-1].split(":")[0] in ("root", "0"):
            problems.append(f"USER before CMD is root: {users[-1]}")
        if json.loads(steps[cmd_at][1]) != ["python", "-m", "bot", "run"]:
            problems.append(f"CMD is not the bot: {steps[cmd_at][1]}")
    for name, args in steps:
        if name in ("ENV", "ARG"):
            for var in env_names(args):
                if SECRET_NAME.search(var):
                    problems.append(f"secret-like {name} {var} baked into the image")
        if name in ("COPY", "ADD"):
            sources = [a for a in args.split() if not a.startswith("--")][:-1]
            for source in sources:
                if Path(source).name.startswith(".env"):
                    problems.append(f"{name} copies {source} into the image")
                elif not (ROOT / source).exists() and source != ".":
                    problems.append(f"{name} source {source} does not exist")
    runs = [(i, args) for i, (name, args) in enumerate(steps) if name == "RUN"]
    torch = [i for i, args in runs if TORCH_CPU in " ".join(args.split())]
    project = [i for i, args in runs if re.search(r"pip install (--no-deps )?\.(\s|$)", args)]
    if not torch:
        problems.append("torch is not installed as torch==2.13.0 from the CPU index")
    elif not project or torch[0] > project[0]:
        problems.append("torch must be installed before the project")
    for name, args in steps:
        if name == "RUN" and re.search(r"pip install[^&;]*\btorch\b(?!==2\.13\.0)", args):
            problems.append(f"an unpinned torch install: {args[:80]}")
    health = [args for name, args in steps if name == "HEALTHCHECK"]
    if not health or "python" not in health[-1] or '"bot", "health"' not in health[-1]:
        problems.append("no HEALTHCHECK through python -m bot health")
    env = {k: v for name, args in steps if name == "ENV" for k, v in env_values(args).items()}
    if env.get("BOT_DB") != "/data/bot.sqlite3":
        problems.append(f"BOT_DB is not /data/bot.sqlite3: {env.get('BOT_DB')}")
    if env.get("BOT_ON_CONFIG_ERROR") != "wait":
        problems.append("BOT_ON_CONFIG_ERROR is not wait: a bad .env restarts in a loop")
    fonts = [args for name, args in steps if name == "RUN" and "fonts-noto-cjk" in args]
    if not fonts or "apt-get install" not in fonts[0]:
        problems.append("no CJK font (fonts-noto-cjk): charts lose their Chinese labels")
    elif "--no-install-recommends" not in fonts[0] or "rm -rf /var/lib/apt/lists" not in fonts[0]:
        problems.append("the font install keeps recommends or apt lists in its layer")
    return problems


# .dockerignore (Docker's rules: `*` stays within a folder, `**` crosses folders, a folder
# pattern excludes what is inside, the last matching line wins, `!` re-includes)


def _regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignored(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for line in patterns:
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        regex = _regex(pattern.strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            verdict = not negate
    return verdict


MUST_IGNORE = [
    ".env",
    ".venv/bin/python",
    "data/bot.sqlite3",
    "data/bot.sqlite3-wal",
    "data/backups/bot.tar.gz",
    "bench/.data/leaderboard.sqlite3",
    "bot/__pycache__/app.cpython-311.pyc",
    ".git/config",
    ".mypy_cache/3.11/x.json",
    "somewhere/else/bot.sqlite3",
]
MUST_KEEP = [
    "pyproject.toml",
    "README.md",
    "bot/app/wiring.py",
    "bot/storage/migrations/0001_initial.sql",
]


def dockerignore_problems(text: str) -> list[str]:
    patterns = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    problems = [f"{p} is sent to the builder" for p in MUST_IGNORE if not ignored(p, patterns)]
    problems += [f"{p} is excluded, the image needs it" for p in MUST_KEEP if ignored(p, patterns)]
    return problems


# docker-compose.yml


def seconds(duration: str | int) -> float:
    if isinstance(duration, int):
        return float(duration)
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", duration):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def compose_problems(doc: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    service = (doc.get("services") or {}).get("bot")
    if not isinstance(service, dict):
        return ["no `bot` service"]
    build = service.get("build")
    if build not in (".", "./") and not (isinstance(build, dict) and build.get("context") == "."):
        problems.append(f"the service is not built from this folder: {build}")
    env_file = service.get("env_file")
    files = env_file if isinstance(env_file, list) else [env_file]
    if not any(f == ".env" or (isinstance(f, dict) and f.get("path") == ".env") for f in files):
        problems.append(f"env_file is not .env: {env_file}")
    named = set((doc.get("volumes") or {}).keys())
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, _, target = volume.partition(":")
            mounts.append((source, target.split(":")[0]))
        else:
            mounts.append((volume.get("source"), volume.get("target")))
    data = [source for source, target in mounts if target == "/data"]
    if not data:
        problems.append("nothing is mounted on /data")
    elif data[0] not in named:
        problems.append(f"/data is not a named volume: {data[0]}")
    env = environment(service)
    if not default_of(env.get("BOT_DB", "")).startswith("/data/"):
        problems.append(f"BOT_DB is not inside the /data volume: {env.get('BOT_DB')}")
    for name, value in env.items():
        if SECRET_NAME.search(name) and value and not value.startswith("${"):
            problems.append(f"a secret written into the compose file: {name}")
    test = (service.get("healthcheck") or {}).get("test")
    command = " ".join(test[1:]) if isinstance(test, list) else str(test)
    if not re.search(r"\bpython -m bot health\b", command):
        problems.append(f"the healthcheck is not python -m bot health: {test}")
    if service.get("restart") != "unless-stopped":
        problems.append(f"restart is not unless-stopped: {service.get('restart')}")
    grace = seconds(service.get("stop_grace_period", "10s"))
    if grace < 15:
        problems.append(f"stop_grace_period {grace:g} s is under 15 s")
    return problems


def default_of(value: str) -> str:
    """What `${NAME:-default}` is when NAME is not set (a plain value is itself)."""
    match = re.fullmatch(r"\$\{[A-Za-z_]\w*:?-(.*)\}", value)
    return match.group(1) if match else value


POSTGRES_PROFILE = "postgres"


def postgres_problems(doc: dict[str, Any]) -> list[str]:
    """The `postgres` profile: a pinned official server with a named volume and a health check,
    absent without the profile; the bot waits for it only when it is there."""
    problems: list[str] = []
    services = doc.get("services") or {}
    server = services.get("postgres")
    if not isinstance(server, dict):
        return ["no `postgres` service"]
    image = str(server.get("image", ""))
    name, _, tag = image.partition(":")
    if name not in ("postgres", "library/postgres", "docker.io/library/postgres"):
        problems.append(f"the database is not the official postgres image: {image}")
    if not re.fullmatch(r"15\.\d+(-bookworm|-alpine\d\.\d+)?", tag):
        problems.append(f"the postgres image is not pinned to a 15.x version: {image}")
    if POSTGRES_PROFILE not in (server.get("profiles") or []):
        problems.append("the postgres service is not under the `postgres` profile")
    named = set((doc.get("volumes") or {}).keys())
    mounts = [str(v).partition(":") for v in server.get("volumes") or []]
    data = [source for source, _, target in mounts if target == "/var/lib/postgresql/data"]
    if not data or data[0] not in named:
        problems.append("the postgres data is not in a named volume")
    test = (server.get("healthcheck") or {}).get("test")
    if "pg_isready" not in " ".join(test if isinstance(test, list) else [str(test)]):
        problems.append(f"the postgres healthcheck is not pg_isready: {test}")
    for key, value in environment(server).items():
        if SECRET_NAME.search(key) and value and not value.startswith("${"):
            problems.append(f"a secret written into the compose file: {key}")
    bot = services.get("bot") or {}
    if bot.get("profiles"):
        problems.append("the bot is under a profile: `docker compose up` would not start it")
    depends = bot.get("depends_on")
    wait = depends.get("postgres") if isinstance(depends, dict) else None
    if not isinstance(wait, dict) or wait.get("condition") != "service_healthy":
        problems.append("the bot does not wait for a healthy postgres")
    elif wait.get("required") is not False:
        problems.append("the bot requires postgres: `docker compose up` without the profile fails")
    return problems


# the real files


def test_the_dockerfile_is_pinned_non_root_secret_free_and_healthchecked() -> None:
    assert dockerfile_problems(DOCKERFILE.read_text()) == []


def test_the_dockerignore_keeps_secrets_and_local_state_out() -> None:
    assert dockerignore_problems(DOCKERIGNORE.read_text()) == []


def test_the_compose_file_has_the_service_volume_env_file_and_healthcheck() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert compose_problems(doc) == []
    assert doc["services"]["bot"]["volumes"] == ["bot-data:/data"]


def test_the_postgres_profile_adds_a_pinned_healthchecked_server() -> None:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert postgres_problems(doc) == []
    # Without the profile the bot is on SQLite in its volume; with BOT_COMPOSE_DB, PostgreSQL.
    bot_db = doc["services"]["bot"]["environment"]["BOT_DB"]
    assert default_of(bot_db) == "/data/bot.sqlite3"
    assert bot_db.startswith("${BOT_COMPOSE_DB:-")


def test_the_compose_comment_says_how_to_reach_the_postgres_service() -> None:
    """The URL the header tells people to put in .env is the service's user, database and
    host, and a valid BOT_DB."""
    from bot.storage.location import parse_location

    doc = yaml.safe_load(COMPOSE.read_text())
    server = environment(doc["services"]["postgres"])
    line = next(x for x in COMPOSE.read_text().splitlines() if "BOT_COMPOSE_DB=" in x)
    url = line.split("BOT_COMPOSE_DB=", 1)[1].strip().replace("${POSTGRES_PASSWORD}", "pw")
    found = parse_location(url)
    assert found.is_postgres
    assert url == (
        f"postgresql://{server['POSTGRES_USER']}:pw@postgres:5432/{server['POSTGRES_DB']}"
    )


def test_the_healthcheck_and_settings_agree() -> None:
    """The compose healthcheck runs the same command as the image's, and the heartbeat the
    bot writes by default is fresh well within the health threshold."""
    from bot.app.settings import Settings

    defaults = Settings.model_fields
    every = defaults["heartbeat_every_s"].default
    max_age = defaults["health_max_age_s"].default
    assert every * 3 <= max_age
    doc = yaml.safe_load(COMPOSE.read_text())
    assert doc["services"]["bot"]["healthcheck"]["test"] == ["CMD", "python", "-m", "bot", "health"]


# each check catches what it is for: mutated copies of the real files

DOCKERFILE_MUTATIONS = [
    ("FROM python:3.11.7-slim-bookworm", "FROM python:latest", "not pinned"),
    ("FROM python:3.11.7-slim-bookworm", "FROM python:3.11-slim", "not pinned"),
    ("FROM python:3.11.7-slim-bookworm", "FROM python", "not pinned"),
    ("USER bot\n", "", "no USER before CMD"),
    ("USER bot\n", "USER root\n", "USER before CMD is root"),
    ("USER bot\n", "USER 0:0\n", "USER before CMD is root"),
    ("ENV PYTHONDONTWRITEBYTECODE=1", "ENV DISCORD_TOKEN=abc PYTHONDONTWRITEBYTECODE=1", "secret"),
    ("WORKDIR /app\n", "WORKDIR /app\nARG BOT_PASSWORD\n", "secret-like ARG BOT_PASSWORD"),
    ("WORKDIR /app\n", "WORKDIR /app\nENV API_SECRET hunter2\n", "secret-like ENV API_SECRET"),
    ("COPY bot ./bot\n", "COPY bot ./bot\nCOPY .env ./\n", "copies .env"),
    ("torch==2.13.0 --index-url", "torch --index-url", "torch is not installed"),
    ("/whl/cpu", "/whl/cu121", "torch is not installed"),
    (TORCH_RUN, "", "torch is not installed"),
    ("${TORCH_INDEX}", "https://pypi.org/simple", "torch is not installed"),
    ("    BOT_ON_CONFIG_ERROR=wait \\\n", "", "BOT_ON_CONFIG_ERROR is not wait"),
    (" fonts-noto-cjk ", " fonts-dejavu-core ", "no CJK font"),
    ("--no-install-recommends fonts", "fonts", "keeps recommends"),
    ("\\\n    && rm -rf /var/lib/apt/lists/*", "", "keeps recommends or apt lists"),
    ('CMD ["python", "-m", "bot", "run"]', 'CMD ["python", "-m", "bot", "console"]', "CMD is not"),
    ('CMD ["python", "-m", "bot", "health"]', 'CMD ["true"]', "no HEALTHCHECK"),
    ("BOT_DB=/data/bot.sqlite3", "BOT_DB=data/bot.sqlite3", "BOT_DB is not /data"),
    ("COPY content ./content", "COPY questions ./content", "does not exist"),
]


@pytest.mark.parametrize(("old", "new", "problem"), DOCKERFILE_MUTATIONS)
def test_each_dockerfile_check_catches_its_problem(old: str, new: str, problem: str) -> None:
    text = DOCKERFILE.read_text()
    assert old in text
    problems = dockerfile_problems(text.replace(old, new, 1))
    assert any(problem in p for p in problems), problems


def test_torch_after_the_project_is_caught() -> None:
    text = DOCKERFILE.read_text()
    assert TORCH_RUN in text
    moved = text.replace(TORCH_RUN, "", 1) + TORCH_RUN
    assert any("before the project" in p for p in dockerfile_problems(moved))


@pytest.mark.parametrize(
    ("line", "leak"),
    [(".env", ".env"), (".venv", ".venv/bin/python"), ("data/", "data/backups/bot.tar.gz")],
)
def test_each_dockerignore_line_matters(line: str, leak: str) -> None:
    lines = DOCKERIGNORE.read_text().splitlines()
    assert line in lines
    problems = dockerignore_problems("\n".join(x for x in lines if x != line))
    assert f"{leak} is sent to the builder" in problems


def test_the_dockerignore_matcher_follows_docker_rules() -> None:
    assert ignored("a.sqlite3", ["*.sqlite3"]) and not ignored("d/a.sqlite3", ["*.sqlite3"])
    assert ignored("d/e/a.sqlite3", ["**/*.sqlite3"]) and ignored("a.sqlite3", ["**/*.sqlite3"])
    assert ignored("data/x/y", ["data/"]) and not ignored("database.py", ["data/"])
    assert not ignored(".env.example", [".env.*", "!.env.example"])
    assert dockerignore_problems("") != []  # an empty .dockerignore sends everything


COMPOSE_MUTATIONS = [
    ("  bot:\n", "  app:\n", "no `bot` service"),
    ("    env_file: .env\n", "", "env_file is not .env"),
    ("    env_file: .env\n", "    env_file: prod.env\n", "env_file is not .env"),
    ("      - bot-data:/data\n", "      - ./data:/data\n", "not a named volume"),
    ("      - bot-data:/data\n", "      - bot-data:/srv\n", "nothing is mounted on /data"),
    ("      BOT_DB: ${BOT_COMPOSE_DB:-/data/bot.sqlite3}\n", "", "BOT_DB is not inside"),
    ("${BOT_COMPOSE_DB:-/data/bot.sqlite3}", "${BOT_DB:-data/bot.sqlite3}", "BOT_DB is not inside"),
    (
        "      BOT_DB: ${BOT_COMPOSE_DB:-/data/bot.sqlite3}\n",
        "      BOT_DB: ${BOT_COMPOSE_DB:-/data/bot.sqlite3}\n      DISCORD_TOKEN: abc.def\n",
        "a secret written",
    ),
    ('"bot", "health"]', '"bot", "topics"]', "healthcheck is not"),
    ("    restart: unless-stopped\n", '    restart: "no"\n', "restart is not"),
    ("    restart: unless-stopped\n", "", "restart is not"),
    ("    stop_grace_period: 30s\n", "    stop_grace_period: 5s\n", "under 15 s"),
    ("    stop_grace_period: 30s\n", "", "under 15 s"),
]


POSTGRES_MUTATIONS = [
    ("\n  postgres:\n", "\n  database:\n", "no `postgres` service"),
    ("image: postgres:15.18-bookworm", "image: postgres:latest", "not pinned"),
    ("image: postgres:15.18-bookworm", "image: postgres:15", "not pinned"),
    ("image: postgres:15.18-bookworm", "image: bitnami/postgresql:15.18.0", "not the official"),
    ('    profiles: ["postgres"]\n', "", "not under the `postgres` profile"),
    ("      - pg-data:/var/lib/postgresql/data\n", "", "not in a named volume"),
    (
        "      - pg-data:/var/lib/postgresql/data\n",
        "      - ./pg:/var/lib/postgresql/data\n",
        "not in a named volume",
    ),
    ('"pg_isready -U bot -d bot -h 127.0.0.1"', '"true"', "healthcheck is not pg_isready"),
    ("${POSTGRES_PASSWORD:-}", "hunter2hunter2", "a secret written"),
    ("        condition: service_healthy\n", "", "does not wait for a healthy postgres"),
    ("        required: false\n", "", "the bot requires postgres"),
    (
        "    image: dl-interview-bot:0.1.0\n",
        '    image: dl-interview-bot:0.1.0\n    profiles: ["x"]\n',
        "the bot is under a profile",
    ),
]


@pytest.mark.parametrize(("old", "new", "problem"), POSTGRES_MUTATIONS)
def test_each_postgres_check_catches_its_problem(old: str, new: str, problem: str) -> None:
    text = COMPOSE.read_text()
    assert old in text
    problems = postgres_problems(yaml.safe_load(text.replace(old, new, 1)))
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(("old", "new", "problem"), COMPOSE_MUTATIONS)
def test_each_compose_check_catches_its_problem(old: str, new: str, problem: str) -> None:
    text = COMPOSE.read_text()
    assert old in text
    problems = compose_problems(yaml.safe_load(text.replace(old, new, 1)))
    assert any(problem in p for p in problems), problems


def test_a_token_reference_in_compose_is_not_a_secret() -> None:
    text = COMPOSE.read_text().replace(
        "      BOT_DB: ${BOT_COMPOSE_DB:-/data/bot.sqlite3}\n",
        "      BOT_DB: ${BOT_COMPOSE_DB:-/data/bot.sqlite3}\n"
        "      DISCORD_TOKEN: ${DISCORD_TOKEN}\n",
    )
    assert compose_problems(yaml.safe_load(text)) == []
    assert seconds("1m30s") == 90 and seconds(20) == 20


# Makefile: CPU torch, from a wheel on the machine when there is one, else PyTorch's CPU index

FAKE_PYTHON = r"""#!/bin/sh
# Stands in for python3 and the venv's python: logs its arguments; `-m venv DIR` makes
# DIR/bin/python (this script); pip with --no-index fails unless FAKE_LOCAL_WHEEL=1.
echo "$*" >> "$FAKE_LOG"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
case " $* " in
    *" --no-index "*)
        [ "$FAKE_LOCAL_WHEEL" = 1 ] || { echo "ERROR: No matching distribution" >&2; exit 1; } ;;
esac
exit 0
"""


def make_torch(tmp_path: Path, *, local_wheel: bool, args: tuple[str, ...] = ()) -> list[str]:
    """Run the Makefile's torch step into a new venv with the stand-in; its calls, in order
    (the program's own path left out)."""
    fake = tmp_path / "python3"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    log, venv = tmp_path / "calls.log", tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    env |= {"FAKE_LOG": str(log), "FAKE_LOCAL_WHEEL": "1" if local_wheel else "0"}
    done = subprocess.run(
        ["make", "-C", str(ROOT), f"VENV={venv}", f"PYTHON={fake}", *args, f"{venv}/.torch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (venv / ".torch").exists()
    return [line.replace(str(venv), "VENV") for line in log.read_text().splitlines()]


TORCH_STEPS_START = [
    "-m venv VENV",
    "-m pip install --quiet --upgrade pip",
    "-m pip install --quiet --no-index --no-deps torch==2.13.0",
]
TORCH_DEPENDENCIES = "-m pip install --quiet torch==2.13.0"


def test_make_takes_torch_from_a_local_wheel_without_asking_any_index(tmp_path: Path) -> None:
    calls = make_torch(tmp_path, local_wheel=True)
    # The wheel on this machine (pip's find-links), with no index at all; then its own
    # dependencies, torch being installed by then.
    assert calls == [*TORCH_STEPS_START, TORCH_DEPENDENCIES]


@pytest.mark.parametrize(
    ("args", "index"),
    [
        ((), "https://download.pytorch.org/whl/cpu"),
        (("TORCH_INDEX=https://mirror.example/whl/cpu",), "https://mirror.example/whl/cpu"),
    ],
)
def test_make_asks_the_cpu_index_when_no_local_wheel_fits(
    tmp_path: Path, args: tuple[str, ...], index: str
) -> None:
    """On an ordinary machine: the CPU build from PyTorch's CPU index (or TORCH_INDEX), never
    torch from PyPI, which is the multi-GB CUDA build."""
    calls = make_torch(tmp_path, local_wheel=False, args=args)
    assert calls == [
        *TORCH_STEPS_START,
        f"-m pip install --quiet --no-deps --index-url {index} torch==2.13.0",
        TORCH_DEPENDENCIES,
    ]


# `run` with a configuration error, as the image runs it (BOT_ON_CONFIG_ERROR=wait)


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This environment without the bot's settings, with an empty DISCORD_TOKEN (run in
    tmp_path: no .env is read)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    return env | {
        "DISCORD_TOKEN": "",
        "BOT_DB": str(tmp_path / "bot.sqlite3"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def test_run_without_a_token_exits_2_with_one_line(tmp_path: Path) -> None:
    from bot.cli.main import HOLD_MESSAGE

    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=bot_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("DISCORD_TOKEN is not set") and HOLD_MESSAGE not in done.stderr


def test_run_in_the_image_says_a_configuration_error_once_then_waits_to_be_stopped(
    tmp_path: Path,
) -> None:
    """Under `restart: unless-stopped` an exit would be restarted into the same error every
    time; the image's `run` says it once and waits for `docker compose stop` (SIGTERM)."""
    from bot.cli.main import HOLD_MESSAGE

    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=bot_env(tmp_path, BOT_ON_CONFIG_ERROR="wait"),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while not lines or lines[-1].strip() != HOLD_MESSAGE:
            line = process.stderr.readline()
            assert line, f"it exited ({process.wait()}) after: {lines}"
            lines.append(line)
        # A process that meant to exit after the message would be gone after a second (this
        # cannot fail a correct one, however busy the machine).
        time.sleep(1.0)
        assert process.poll() is None, "it exited instead of waiting"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    assert lines[0].startswith("DISCORD_TOKEN is not set") and len(lines) == 2, lines


# .gitignore: what the console and the backups write in the folder they run in

CONSOLE_OUTPUT = [
    "demo-gan.png",
    "stats.png",
    "stats-2.png",
    "interview-12.png",
    "backups/bot-20261127-030000.sqlite3",
    ".bot.sqlite3.4242.tmp",
]


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_git_ignores_what_the_console_writes_and_keeps_the_docs_pictures() -> None:
    def ignored_by_git(path: str) -> bool:
        done = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, timeout=60
        )
        assert done.returncode in (0, 1)
        return done.returncode == 0

    assert [p for p in CONSOLE_OUTPUT if not ignored_by_git(p)] == []
    assert not ignored_by_git("docs/question-mcq.png")


# What `docker compose` makes of the file with the .env lines its header documents: which
# services run, and with which BOT_DB (compose's rules: a service without `profiles` always
# runs, one with them only when a profile of theirs is on; ${NAME}, ${NAME:-default}).


def interpolate(value: str, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        found = env.get(name, "")
        return found if found or default is None else default

    return re.sub(r"\$\{([A-Za-z_]\w*)(:?-([^}]*))?\}", one, value)


def dotenv(lines: list[str]) -> dict[str, str]:
    """A .env as compose reads it: later lines may use the earlier ones."""
    env: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition("=")
        env[key.strip()] = interpolate(value.split("  #")[0].strip(), env)
    return env


def running(doc: dict[str, Any], env: dict[str, str]) -> dict[str, dict[str, str]]:
    """The services `docker compose up` starts, with their interpolated environment."""
    profiles = {p for p in env.get("COMPOSE_PROFILES", "").split(",") if p}
    return {
        name: {k: interpolate(v, env) for k, v in environment(service).items()}
        for name, service in doc["services"].items()
        if not service.get("profiles") or profiles & set(service["profiles"])
    }


def test_up_without_the_profile_is_one_bot_on_sqlite() -> None:
    from bot.storage.location import parse_location

    services = running(yaml.safe_load(COMPOSE.read_text()), {})
    assert set(services) == {"bot"}
    assert parse_location(services["bot"]["BOT_DB"]).path == Path("/data/bot.sqlite3")


def test_up_with_the_documented_env_lines_runs_the_bot_on_the_postgres_service() -> None:
    from bot.storage.location import parse_location

    header = [
        line.removeprefix("#").strip()
        for line in COMPOSE.read_text().splitlines()
        if re.match(r"#\s+(COMPOSE_PROFILES|POSTGRES_PASSWORD|BOT_COMPOSE_DB)=", line)
    ]
    assert len(header) == 3, header
    readme = (ROOT / "README.md").read_text().splitlines()
    assert [line for line in header if line not in readme] == []  # the README says the same
    env = dotenv([line.replace("<a long random password>", "s3cret-s3cret") for line in header])
    doc = yaml.safe_load(COMPOSE.read_text())
    services = running(doc, env)
    assert set(services) == {"bot", "postgres"}
    found = parse_location(services["bot"]["BOT_DB"])
    assert found.is_postgres and found.password == "s3cret-s3cret"
    assert services["postgres"]["POSTGRES_PASSWORD"] == "s3cret-s3cret"
    assert found.url is not None and "@postgres:5432/" in found.url
    assert doc["services"]["bot"]["depends_on"]["postgres"]["condition"] == "service_healthy"
