"""`db copy` never changes its SOURCE and refuses what is not a bot database at this schema, an
empty argument, and says so in one line; a source without data is copied with a warning; the
counts read as English (one row, two rows)."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from bot.cli.db import copy_command, summary
from bot.storage.copy import CopyRefused, CopyResult, _refuse_data
from bot.storage.db import Database, migrations


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    said = capsys.readouterr()
    out = (said.out + said.err).strip()
    assert len(out.splitlines()) == 1 and "Traceback" not in out, out
    return out


@pytest.mark.parametrize(("source", "target"), [("SRC", ""), ("", "TGT"), ("SRC", "  ")])
def test_an_empty_argument_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    source: str,
    target: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    named = {"SRC": str(tmp_path / "a.sqlite3"), "TGT": str(tmp_path / "b.sqlite3")}
    assert copy_command(named.get(source, source), named.get(target, target)) == 1
    out = one_line(capsys)
    assert "is empty" in out
    assert not (tmp_path / "data").exists()  # BOT_DB's default file was not used


def not_a_bot_database(tmp_path: Path) -> list[Path]:
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 20)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (x)")
        conn.execute("INSERT INTO things VALUES (1)")
    conn.close()
    return [empty, text, other]


def test_a_source_that_is_not_a_bot_database_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for source in not_a_bot_database(tmp_path):
        before = digest(source)
        target = tmp_path / f"{source.stem}-copy.sqlite3"
        assert copy_command(str(source), str(target)) == 1
        out = one_line(capsys)
        assert "not a bot database" in out or "not an SQLite database" in out, out
        assert digest(source) == before


def test_an_older_source_is_refused_and_not_migrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "old.sqlite3"
    older = migrations()[:-1]
    with sqlite3.connect(source) as conn:
        for version, _, sql in older:
            conn.executescript(f"{sql}\nPRAGMA user_version = {version};")
    conn.close()
    before = digest(source)
    assert copy_command(str(source), str(tmp_path / "new.sqlite3")) == 1
    out = one_line(capsys)
    assert f"schema version {older[-1][0]}, older than" in out and "start the bot on it" in out
    assert digest(source) == before


async def test_a_source_without_data_is_copied_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "fresh.sqlite3"
    db = await Database.open(source)  # this version's schema, no data
    await db.close()
    before = digest(source)
    # (copy_command runs its own event loop: in a thread)
    code = await asyncio.to_thread(copy_command, str(source), str(tmp_path / "to.sqlite3"))
    assert code == 0
    said = capsys.readouterr()
    assert said.out.startswith("copied ") and len(said.out.strip().splitlines()) == 1
    assert (
        said.err.strip() == f"db copy: warning: {source} holds no data: only the schema was copied"
    )
    assert digest(source) == before


def test_the_counts_read_as_english() -> None:
    one = CopyResult(counts={"users": 1}, board_users=1, board_points=1, seconds=0.1)
    line = summary(one, "a.sqlite3", "b.sqlite3")
    assert line.startswith("copied 1 row in 1 table from a.sqlite3 to b.sqlite3 in 0.1 s")
    assert line.endswith("(1 user, 1 point)")
    two = CopyResult(counts={"users": 2, "attempts": 0}, board_users=2, board_points=5, seconds=1)
    assert summary(two, "a", "b").startswith("copied 2 rows in 2 tables")

    class Target:
        shown = "b.sqlite3"

    with pytest.raises(CopyRefused) as refused:
        _refuse_data({f"t{i}": i + 1 for i in range(5)}, Target())  # type: ignore[arg-type]
    assert "(t0 1 row, t1 2 rows, t2 3 rows, t3 4 rows and 1 more table)" in str(refused.value)


async def test_an_empty_postgres_source_is_refused_and_gets_no_tables(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(copy_command, pg_url, str(tmp_path / "to.sqlite3"))
    assert code == 1
    out = one_line(capsys)
    assert "not a bot database" in out, out
    conn = await asyncpg.connect(pg_url)
    try:
        tables = await conn.fetchval(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await conn.close()
    assert tables == 0
