"""Reliability through the fake Discord: SIGKILL mid-burst, a full disk, a read-only
database, a dropped gateway, and REST 429/500s. Each guarantee is checked against the
database itself, not only against what the bot said. The tests that do not depend on how
SQLite stores its file run on both engines (`bot_db`: SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .botdb import BotDb
from .fakediscord import FakeDiscord, SentInteraction
from .harness import FIXTURE_BANK, button_ids, counted, running_bot, told
from .test_interview_e2e import answer_current, current_ref
from .test_process import ROOT, start_bot

pytestmark = pytest.mark.timeout(180)


def attempts_in(db: Path) -> set[tuple[int, str]]:
    """(question instance, Discord user id) of every recorded attempt."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT a.instance_id, u.external_id FROM attempts a JOIN users u ON u.id = a.user_id"
        ).fetchall()
    return {(int(i), str(u)) for i, u in rows}


def instance_of(custom_id: str) -> int:
    return int(custom_id.split(":")[2])


async def test_sigkill_during_a_burst_keeps_exactly_the_acknowledged_answers(
    fake_discord: FakeDiscord, tmp_path: Path, bot_db: BotDb
) -> None:
    db, log = bot_db.location, tmp_path / "bot.log"
    users = [fake_discord.add_user(f"u{i:02d}") for i in range(50)]
    process = await start_bot(fake_discord, db, log)
    try:
        await fake_discord.wait_ready(within=60)
        await fake_discord.wait_for_commands("question", within=30)
        questions = []
        for _ in range(4):
            posted = await users[0].slash("question", topic="vanishing_gradients", within=10)
            assert posted.message is not None
            questions.append(posted.message)
        # 200 answers from 50 users at once, without waiting for replies.
        clicks = [
            user.click(message, button_ids(message)[1], wait=False)
            for message in questions
            for user in users
        ]
        sent: list[SentInteraction] = list(await asyncio.gather(*clicks))
        await fake_discord.wait_until(
            lambda: True if sum(s.acknowledged for s in sent) >= 5 else None, within=60
        )
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    acknowledged = {
        (instance_of(s.payload["data"]["custom_id"]), str(s.user.id))
        for s in sent
        if s.acknowledged
    }
    attempted = {(instance_of(s.payload["data"]["custom_id"]), str(s.user.id)) for s in sent}
    # The kill lands after the first acknowledgements, usually with many answers still in flight;
    # on a loaded machine the bot may get through all of them first (no timing is asserted), and
    # the guarantees below hold either way.
    assert len(acknowledged) >= 5
    print(f"acknowledged before the kill: {len(acknowledged)} of {len(attempted)}")

    process = await start_bot(fake_discord, db, log)  # recovery on restart
    try:
        await fake_discord.wait_identified(2, within=60)
        recorded = bot_db.attempts()
        assert acknowledged <= recorded  # every acknowledged answer is there...
        assert recorded <= attempted  # ...and nothing that was never sent
        assert bot_db.sound()
        [(dupes,)] = bot_db.rows(
            "SELECT COUNT(*) FROM (SELECT 1 FROM attempts GROUP BY instance_id, user_id"
            " HAVING COUNT(*) > 1) AS repeated"
        )
        assert dupes == 0  # exactly once
        for user in users:
            [(totals,)] = bot_db.rows(
                "SELECT answered FROM score_totals WHERE server_id = 0 AND topic = '*'"
                " AND period = 'all' AND user_id = (SELECT id FROM users WHERE external_id = ?)",
                str(user.id),
            ) or [(0,)]
            mine = sum(1 for _, u in recorded if u == str(user.id))
            assert totals == mine  # the leaderboard totals moved with the attempts
        # Every board too (the global one and the server's; all time, weeks, months): on
        # SQLite the totals are applied behind the answers, those the kill left on restart.
        boards = bot_db.rows(
            "SELECT server_id, substr(period, 1, 1), SUM(answered) FROM score_totals"
            " WHERE topic = '*' GROUP BY server_id, substr(period, 1, 1)"
        )
        assert len(boards) == 6 and {int(n) for _, _, n in boards} == {len(recorded)}, boards
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert "Traceback" not in log.read_text()


# While installed, every commit that records an answer fails, at COMMIT (a deferred constraint
# trigger), as a full disk would (SQLSTATE 53100): the answers' statements all succeed first.
_FAIL_AT_COMMIT = [
    "CREATE FUNCTION test_refuse_commit() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'"
    " USING ERRCODE = 'disk_full'; END $$",
    "CREATE CONSTRAINT TRIGGER test_refuse_commit AFTER INSERT ON attempts"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_commit()",
]


async def test_a_burst_is_acknowledged_only_once_committed_and_survives_sigkill(
    fake_discord: FakeDiscord, tmp_path: Path, pg_url: str
) -> None:
    """The group commit under a burst (PostgreSQL, where a commit can be made to fail after
    every statement of the batch succeeded): while commits fail, nobody hears ✅ and nothing
    is recorded; then a burst killed by SIGKILL: every acknowledged answer recorded, once.
    A writer that replied before its commit returned fails the first half."""
    bot_db = BotDb("postgres", pg_url)
    log = tmp_path / "bot.log"
    users = [fake_discord.add_user(f"g{i:02d}") for i in range(40)]
    process = await start_bot(fake_discord, pg_url, log)
    try:
        await fake_discord.wait_ready(within=60)
        await fake_discord.wait_for_commands("question", within=30)
        questions = []
        for _ in range(4):
            posted = await users[0].slash("question", topic="vanishing_gradients", within=10)
            assert posted.message is not None
            questions.append(posted.message)
        refused_on, *burst_on = questions
        for statement in _FAIL_AT_COMMIT:
            bot_db.rows(statement)
        refused = list(
            await asyncio.gather(
                *(u.click(refused_on, button_ids(refused_on)[1], wait=False) for u in users)
            )
        )
        await fake_discord.wait_until(
            lambda: True if all(s.acknowledged for s in refused) else None, within=60
        )
        said = [await told(s) for s in refused]
        assert not [text for text in said if text.startswith("✅")]  # none before its commit
        assert all("storage is full or read-only" in text for text in said), said
        assert bot_db.attempts() == set()
        bot_db.rows("DROP TRIGGER test_refuse_commit ON attempts")

        clicks = [
            user.click(message, button_ids(message)[1], wait=False)
            for message in burst_on
            for user in users
        ]
        sent: list[SentInteraction] = list(await asyncio.gather(*clicks))
        await fake_discord.wait_until(
            lambda: True if sum(s.acknowledged for s in sent) >= 5 else None, within=60
        )
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    pairs = [(instance_of(s.payload["data"]["custom_id"]), str(s.user.id)) for s in sent]
    acknowledged = {pair for pair, s in zip(pairs, sent, strict=True) if s.acknowledged}
    print(f"acknowledged before the kill: {len(acknowledged)} of {len(pairs)}")
    recorded = bot_db.attempts()
    assert acknowledged <= recorded <= set(pairs)
    [(dupes,)] = bot_db.rows(
        "SELECT COUNT(*) FROM (SELECT 1 FROM attempts GROUP BY instance_id, user_id"
        " HAVING COUNT(*) > 1) AS repeated"
    )
    assert dupes == 0
    [(totals,)] = bot_db.rows(
        "SELECT COALESCE(SUM(answered), 0) FROM score_totals WHERE server_id = 0"
        " AND topic = '*' AND period = 'all'"
    )
    assert totals == len(recorded)  # the leaderboard totals moved with the attempts, only


async def test_a_full_disk_refuses_answers_clearly_and_recovers(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    db, log = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    process = await start_bot(fake_discord, db, log)
    limits = resource.prlimit(process.pid, resource.RLIMIT_FSIZE)
    try:
        await fake_discord.wait_ready(within=60)
        await fake_discord.wait_for_commands("question", within=30)
        posted = await alice.slash("question", topic="vanishing_gradients", within=10)
        question = posted.message
        assert question is not None
        right = button_ids(question)[1]
        before = await alice.click(question, right, within=10)
        assert (await told(before)).startswith("✅")

        # The disk is full: no file of the bot's may grow by a byte.
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (1, limits[1]))
        refused = await bob.click(question, right, within=10)
        text = await told(refused)
        assert text.startswith("⚠️") and "storage is full or read-only" in text
        assert process.returncode is None  # no crash

        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, limits)  # space again
        again = await bob.click(question, right, within=10)
        assert (await told(again)).startswith("✅")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    recorded = attempts_in(db)
    instance = instance_of(right)
    assert recorded == {(instance, str(alice.id)), (instance, str(bob.id))}
    assert "Traceback" not in log.read_text()


SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(SETPRIV is None, reason="needs util-linux setpriv")
def test_a_read_only_database_gives_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "bot.sqlite3"
    with sqlite3.connect(db) as conn:  # a real database...
        conn.execute("CREATE TABLE t (x)")
    db.chmod(0o444)
    folder.chmod(0o555)  # ...in a folder nobody may write, root included (see below)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    env.update(DISCORD_TOKEN="x" * 20, BOT_DB=str(db), BOT_CONTENT=str(FIXTURE_BANK))
    assert SETPRIV is not None
    try:
        # Without CAP_DAC_OVERRIDE file permissions bind root too, as they bind the
        # non-root user of the Docker image.
        result = subprocess.run(
            [
                SETPRIV,
                "--bounding-set=-dac_override,-dac_read_search",
                "--",
                sys.executable,
                "-m",
                "bot",
                "run",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("database:"), result.stderr
    assert "readonly" in lines[-1] or "unable to open" in lines[-1], lines[-1]
    assert "Traceback" not in result.stderr + result.stdout


async def test_gateway_drop_resumes_with_the_interview_intact(
    fake_discord: FakeDiscord, bot_db: BotDb
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, bot_db.location):  # type: ignore[arg-type]
        started = await alice.slash("interview start", questions=3, minutes=5)
        message = started.message
        assert message is not None
        await answer_current(alice, message)
        open_ref = current_ref(message)
        await fake_discord.gateway.drop(code=4000)
        await fake_discord.wait_resumed(1, within=30)
        status = await alice.slash("interview status")
        assert status.message is not None and current_ref(status.message) == open_ref
        while not any("report" in (e.get("title") or "").lower() for e in message.embeds):
            await answer_current(alice, message)
        assert "**3/3** correct" in message.embeds[-1]["description"]
        assert fake_discord.gateway.identify_count == 1  # resumed, not re-identified
        fake_discord.assert_clean()


async def test_rest_429_and_500_do_not_lose_the_answer(
    fake_discord: FakeDiscord, bot_db: BotDb
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, bot_db.location):  # type: ignore[arg-type]
        posted = await alice.slash("question", topic="vanishing_gradients")
        question = posted.message
        assert question is not None
        limited = fake_discord.fail_next(
            "POST /interactions/{id}/{token}/callback", status=429, retry_after=0.2
        )
        # the edit of the question's live count (made off the answer's path)
        broken = fake_discord.fail_next("PATCH /channels/{channel}/messages/{message}", status=500)
        answered = await alice.click(question, button_ids(question)[1], within=20)
        assert (await told(answered)).startswith("✅")  # the verdict got through on retry
        assert bot_db.attempts() == {(instance_of(button_ids(question)[1]), str(alice.id))}
        await counted(fake_discord, question, "1 answered, 1 correct")  # the edit, on retry
        assert limited.hits == 1 and broken.hits == 1
