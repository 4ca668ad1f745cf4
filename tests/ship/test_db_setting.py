"""BOT_DB: an SQLite path or a PostgreSQL URL; a bad one is one line at start-up; the URL's
password is never printed or logged."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.app.logs import setup_logging
from bot.app.settings import Settings
from bot.storage.location import BadLocation, parse_location, redact
from tests.ship.test_health import ROOT, clean_env

PASSWORD = "pw-Zq81x"  # short enough that the token filter (8+ characters) alone would miss "pw"


def settings(**env: object) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


def test_a_path_is_sqlite_and_empty_is_the_default() -> None:
    assert settings().database.path == Path("data/bot.sqlite3")
    assert settings(BOT_DB="").database.path == Path("data/bot.sqlite3")
    found = settings(BOT_DB="/srv/bot/scores.sqlite3").database
    assert not found.is_postgres
    assert found.path == Path("/srv/bot/scores.sqlite3")
    assert settings(BOT_DB=Path("x/y.db")).database.path == Path("x/y.db")


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://bot:{PASSWORD}@db:5432/bot",
        f"postgres://bot:{PASSWORD}@db/bot",
        "postgresql://bot@127.0.0.1:6543/scores",
        f"postgresql:///bot?host=/var/run/postgresql&password={PASSWORD}",
    ],
)
def test_a_postgres_url_is_postgres_and_shown_without_its_password(url: str) -> None:
    made = settings(BOT_DB=url)
    found = made.database
    assert found.is_postgres
    assert found.url == url  # kept whole to connect
    assert PASSWORD not in found.shown
    assert PASSWORD not in str(found) and PASSWORD not in repr(found)
    assert PASSWORD not in repr(made) and PASSWORD not in str(made)
    if PASSWORD in url:
        assert "***" in found.shown
        assert PASSWORD in made.secrets  # so the log filter blanks it too


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (f"postgresql://bot:{PASSWORD}@db:54x2/bot", "port must be a number"),
        (f"postgresql://bot:{PASSWORD}@db:99999/bot", "port must be a number"),
        (f"postgresql://bot:{PASSWORD}@/bot", "no host"),
        (f"postgresql://bot:{PASSWORD}@db:5432", "names no database"),
        (f"postgresql://bot:{PASSWORD}@db:5432/", "names no database"),
        (f"mysql://bot:{PASSWORD}@db/bot", "mysql:// is not supported"),
        (f"postgresql:/bot:{PASSWORD}@db/bot", "is not one"),
        (f"postgresql://bot:{PASSWORD}@db /bot", "contains a space"),
    ],
)
def test_a_malformed_url_is_refused_in_one_line_without_the_password(value: str, says: str) -> None:
    with pytest.raises(BadLocation) as refused:
        parse_location(value)
    message = str(refused.value)
    assert says in message
    assert PASSWORD not in message
    assert "\n" not in message
    with pytest.raises(ValidationError) as invalid:
        settings(BOT_DB=value)
    (error,) = invalid.value.errors()
    assert error["loc"] == ("BOT_DB",)
    assert says in error["msg"] and PASSWORD not in error["msg"]
    assert PASSWORD not in str(invalid.value)  # a traceback would not show it either


def test_pool_size_has_a_default_and_bounds() -> None:
    assert settings().db_pool_size == 10
    assert settings(BOT_DB_POOL_SIZE="3").db_pool_size == 3
    for bad in ("0", "-1", "1000", "many"):
        with pytest.raises(ValidationError):
            settings(BOT_DB_POOL_SIZE=bad)


def test_redact_hides_every_password_in_a_text() -> None:
    text = (
        f"could not connect to postgresql://bot:{PASSWORD}@db:5432/bot; also tried"
        f" postgres://u:{PASSWORD}@h/d and postgresql://h/d?user=u&password={PASSWORD}&x=1"
    )
    scrubbed = redact(text)
    assert PASSWORD not in scrubbed
    assert "postgresql://bot:***@db:5432/bot;" in scrubbed
    assert "password=***&x=1" in scrubbed
    assert redact("/srv/data/bot.sqlite3") == "/srv/data/bot.sqlite3"
    assert redact("postgresql://bot@db/bot") == "postgresql://bot@db/bot"


def test_the_logs_never_show_the_database_password() -> None:
    stream = io.StringIO()
    made = settings(BOT_DB=f"postgresql://bot:{PASSWORD}@db:5432/bot")
    setup_logging("INFO", made.secrets, stream=stream)
    try:
        logging.getLogger("bot.test").error(
            "lost the database at %s", made.database.url, exc_info=ValueError(made.database.url)
        )
        # The password on its own, and a URL that is not BOT_DB's (short password).
        logging.getLogger("bot.test").warning("pw %s; postgres://a:pw@b/c", PASSWORD)
    finally:
        logging.getLogger().handlers.clear()
    written = stream.getvalue()
    assert "lost the database" in written
    assert PASSWORD not in written
    assert ":pw@" not in written


def run_command(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["run", "console", "health", "backup", "content validate"])
def test_a_malformed_url_stops_every_command_with_one_line(command: str) -> None:
    args = [command, "/tmp/x.sqlite3"] if command == "backup" else command.split()
    done = run_command(
        *args,
        BOT_DB=f"postgresql://bot:{PASSWORD}@db:54x2/bot",
        DISCORD_TOKEN="t" * 30,
    )
    out = (done.stdout + done.stderr).strip()
    assert done.returncode in (1, 2), out
    assert "Traceback" not in out
    assert len(out.splitlines()) == 1, out
    assert "BOT_DB" in out and "port must be a number" in out
    assert PASSWORD not in out


# On a real PostgreSQL server (tests/_postgres.py): what the commands print never holds the
# password. The test server trusts local connections, so any password is let in: the URL
# carries one all the same, as a deployment's does.


def with_password(url: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@", 1)


async def test_health_on_postgres_names_the_database_without_its_password(pg_url: str) -> None:
    from bot.core.ports import SystemClock
    from bot.storage.postgres import open_postgres

    url = with_password(pg_url)
    store = await open_postgres(url, SystemClock(), pool_size=1)
    try:
        done = run_command("health", BOT_DB=url)
        out = (done.stdout + done.stderr).strip()
        assert done.returncode == 1 and len(out.splitlines()) == 1, out
        assert out.startswith("unhealthy: database postgresql://postgres:***@127.0.0.1:")
        assert "no gateway heartbeat yet" in out
        await store.record_heartbeat('{"latency_ms": 12, "guilds": 3}', datetime.now(UTC))
        done = run_command("health", BOT_DB=url)
        out = (done.stdout + done.stderr).strip()
        assert done.returncode == 0 and out.startswith("ok: database postgresql://"), out
        assert "latency 12 ms, 3 guild(s)" in out and PASSWORD not in out
    finally:
        await store.close()


def test_backup_on_postgres_says_to_use_pg_dump(pg_url: str, tmp_path: Path) -> None:
    done = run_command("backup", str(tmp_path / "b.sqlite3"), BOT_DB=with_password(pg_url))
    out = (done.stdout + done.stderr).strip()
    assert done.returncode == 1 and len(out.splitlines()) == 1, out
    assert "pg_dump" in out and "db copy" in out and PASSWORD not in out
    assert not (tmp_path / "b.sqlite3").exists()


def test_the_console_on_postgres_shows_where_scores_are_kept_without_the_password(
    pg_url: str,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "ann"],
        cwd=ROOT,
        env=clean_env(BOT_DB=with_password(pg_url), LANG="en_US.UTF-8"),
        input="stats\nquit\n",
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "postgresql://postgres:***@127.0.0.1:" in out
    assert PASSWORD not in out and "Traceback" not in out


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1:1/bot"  # nothing listens on port 1
    for args in (["console"], ["health"], ["db", "copy", url, str(tmp_path / "x.sqlite3")]):
        done = run_command(*args, BOT_DB=url)
        out = (done.stdout + done.stderr).strip()
        assert done.returncode == 1, out
        assert len(out.splitlines()) == 1 and "Traceback" not in out, out
        assert "postgresql://bot:***@127.0.0.1:1/bot" in out and PASSWORD not in out
