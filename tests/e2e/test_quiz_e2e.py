"""Quiz rounds (issue #17) through the fake Discord: the production bot posts each question in
the channel, takes answers privately, reveals each question by editing its message, and ends
with the standings; every figure shown is checked against the database.

No test races the clock: the first question of a round ends at its deadline (10 s, the least
the contract allows) and the test waits for the reveal with a generous limit; later questions
are revealed as soon as everyone who took part earlier has answered (issue #17).
"""

from __future__ import annotations

import asyncio
import copy
import re
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.checkers import TorchCheckers
from bot.core.answers import format_expected
from bot.core.engine import Engine
from bot.core.models import LETTERS, QuestionInstance, ServedQuestion

from .fakediscord import ChannelRecord, FakeDiscord, FakeUser, MessageRecord, SentInteraction
from .harness import running_bot
from .test_process import ROOT, bot_env

pytestmark = pytest.mark.timeout(180)

QUIZ_BANK = Path(__file__).parent.parent / "fixtures" / "quiz_bank"
KEYS = {"qz-chain-rule": "B", "qz-relu-grad": "C", "qz-sigmoid-grad": "A"}  # quiz.yaml
OPTIONS = 3  # every multiple-choice question of that bank has three
CHECKERS = TorchCheckers()
REVEAL_WITHIN = 150.0  # a limit for a hung bot (deadlines are 10-90 s), not a speed goal


# -- reading the channel ------------------------------------------------------------------------


def embed(message: MessageRecord) -> dict[str, Any]:
    return message.embeds[0] if message.embeds else {}


def quiz_footer(message: MessageRecord) -> str:
    return str((embed(message).get("footer") or {}).get("text", ""))


def is_quiz_question(message: MessageRecord) -> bool:
    """A question (or reveal) message of a round: `Ref REF · quiz #N` and buttons."""
    return "quiz #" in quiz_footer(message) and bool(message.components)


def ref_of(message: MessageRecord) -> str:
    return quiz_footer(message).split(" · ")[0].removeprefix("Ref ").removeprefix("编号：")


def index_of(message: MessageRecord) -> int:
    found = re.match(r"Question (\d+)/\d+", str(embed(message).get("title", "")))
    assert found, embed(message)
    return int(found.group(1)) - 1


def is_revealed(message: MessageRecord) -> bool:
    buttons = [c for row in message.components for c in row.get("components", [])]
    return bool(buttons) and all(c.get("disabled") for c in buttons)


def field(message: MessageRecord, prefix: str) -> str:
    for item in embed(message).get("fields", []):
        if str(item.get("name", "")).startswith(prefix):
            return str(item.get("value", ""))
    raise AssertionError(f"no field {prefix!r} in {embed(message)}")


def has_field(message: MessageRecord, prefix: str) -> bool:
    return any(str(f.get("name", "")).startswith(prefix) for f in embed(message).get("fields", []))


def is_standings(message: MessageRecord) -> bool:
    return "standings" in str(embed(message).get("title", ""))


async def question(
    fake: FakeDiscord, index: int, channel: ChannelRecord | None = None
) -> MessageRecord:
    """The message of question `index` (0-based) of the channel's round, once posted."""
    return await fake.wait_for_message(
        lambda m: is_quiz_question(m) and index_of(m) == index,
        channel=channel,
        within=REVEAL_WITHIN,
    )


async def reveal_of(fake: FakeDiscord, message: MessageRecord) -> MessageRecord:
    return await fake.wait_until(
        lambda: message if is_revealed(message) else None,
        within=REVEAL_WITHIN,
        describe=lambda: f"question never revealed: {message!r}",
    )


async def standings_in(fake: FakeDiscord, channel: ChannelRecord | None = None) -> MessageRecord:
    return await fake.wait_for_message(is_standings, channel=channel, within=REVEAL_WITHIN)


# -- answering ----------------------------------------------------------------------------------


def numeric(message: MessageRecord) -> bool:
    return any(i.startswith("dlq:qzans:") for i in message.custom_ids)


def right_answer(message: MessageRecord) -> str:
    ref = ref_of(message)
    if not numeric(message):
        return KEYS[ref]
    family, seed = ref.split(":")
    return str(CHECKERS.generate(family, int(seed)).expected)


def wrong_answer(message: MessageRecord, shift: int = 1) -> str:
    right = right_answer(message)
    if not numeric(message):
        return LETTERS[(LETTERS.index(right) + shift) % OPTIONS]
    return str(int(right) + shift)


async def answer(user: FakeUser, message: MessageRecord, value: str) -> SentInteraction:
    """Answer as a person would: a letter button, or Answer and the modal's one text input."""
    if not numeric(message):
        [pick] = [
            i for i in message.custom_ids if i.startswith("dlq:qzpick:") and i.endswith(f":{value}")
        ]
        return await user.click(message, pick)
    [button] = [i for i in message.custom_ids if i.startswith("dlq:qzans:")]
    opened = await user.click(message, button)
    assert opened.modal is not None, opened.data
    [text_input] = [
        c["custom_id"]
        for row in opened.modal["components"]
        for c in [row, *row.get("components", []), row.get("component") or {}]
        if c.get("type") == 4
    ]
    return await user.submit_modal(opened, {text_input: value})


def reply(sent: SentInteraction) -> str:
    assert sent.message is not None, f"{sent.label}: no reply"
    assert sent.message.ephemeral, f"{sent.label}: the reply is public"
    return sent.message.content


LOCKED = "🔒 Locked in"
ALREADY = "only your first answer counts"
TOO_LATE = "Too late"


# -- the database -------------------------------------------------------------------------------


def db_rows(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def db_answers(db: Path, round_id: int) -> list[tuple[int, str, str | None, int, int, str]]:
    """(index, user's Discord id, choice, correct, points, answered_at) of a round."""
    return [
        (int(i), str(u), c, int(ok), int(p), str(at))
        for i, u, c, ok, p, at in db_rows(
            db,
            "SELECT a.idx, u.external_id, a.choice, a.correct, a.points, a.answered_at"
            " FROM quiz_answers a JOIN users u ON u.id = a.user_id WHERE a.round_id = ?"
            " ORDER BY a.idx, a.answered_at, a.user_id",  # as the reveal orders them
            round_id,
        )
    ]


def round_id_of(message: MessageRecord) -> int:
    found = re.search(r"quiz #(\d+)", quiz_footer(message))
    assert found
    return int(found.group(1))


def names(users: Iterable[FakeUser]) -> dict[str, str]:
    return {str(u.id): u.name for u in users}


# -- tests --------------------------------------------------------------------------------------


async def test_stop_is_for_the_host_or_a_manager_and_a_second_start_points_to_the_round(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")  # alice: Manage Server
    carol = fake_discord.add_user("carol")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3", QUIZ_BANK):
        started = await carol.slash("quiz start", questions=3, seconds=120, kind="concept")
        assert "Quiz #1" in (await started.wait_original()).content
        first = await question(fake_discord, 0)
        assert "<t:" in field(first, "Time")

        again = await bob.slash("quiz start")
        link = f"https://discord.com/channels/{fake_discord.guild.id}/{first.channel_id}/{first.id}"
        assert f"already running in this channel: quiz #1 ([Question 1/3]({link}))" in reply(again)
        status = await bob.slash("quiz status")
        assert "Question 1/3" in reply(status) and "0 answered" in reply(status)

        refused = await bob.slash("quiz stop")
        assert "Only the host of this quiz or someone with Manage Server" in reply(refused)
        assert not is_revealed(first)
        assert (await bob.slash("quiz status")).message is not None  # still running

        # A manager who is not the host may stop it: the open question is revealed, and the
        # standings so far are posted.
        stopped = await alice.slash("quiz stop")
        assert "stopped" in (await stopped.wait_original()).content
        await reveal_of(fake_discord, first)
        standings = await standings_in(fake_discord)
        assert "stopped" in embed(standings)["title"]
        assert "No quiz is running" in reply(await bob.slash("quiz status"))
        fake_discord.assert_clean()


def shown_answer(message: MessageRecord) -> str:
    """The right answer as the reveal shows it."""
    if not numeric(message):
        return right_answer(message)
    family, seed = ref_of(message).split(":")
    return format_expected(CHECKERS.generate(family, int(seed)).expected)


def counts_lines(message: MessageRecord) -> dict[str, int]:
    """Option letter -> the count its bar shows (`A ████░░` 3 ✅)."""
    found = re.findall(r"`([A-Z]) [█░]+` (\d+)", field(message, "Answers"))
    return {letter: int(count) for letter, count in found}


def first_correct(rows: list[tuple[int, str, str | None, int, int, str]], index: int) -> str:
    right = [r for r in rows if r[0] == index and r[3]]
    return min(right, key=lambda r: r[5])[1]


async def test_a_round_of_five_with_six_players_reveals_and_ranks_as_the_database_says(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    carol, dave, frank = (fake_discord.add_user(n) for n in ("carol", "dave", "frank"))
    erin = fake_discord.add_user("erin", locale="zh-CN")  # her replies are in Chinese
    players = [alice, bob, carol, dave, erin, frank]
    right_users = {alice, carol, erin}  # and frank, from the second question on
    async with running_bot(fake_discord, db, QUIZ_BANK):
        # 20 s for the first question: its answers take well under a second.
        started = await alice.slash("quiz start", questions=5, seconds=20)
        await started.wait_original()
        kinds = []
        for index in range(5):
            message = await question(fake_discord, index)
            assert not is_revealed(message)
            kinds.append("numeric" if numeric(message) else "mcq")
            right, wrong, wrong2 = (
                right_answer(message),
                wrong_answer(message),
                wrong_answer(message, 2),
            )
            stale = copy.deepcopy(message)  # as a client that never saw the reveal shows it
            if index > 0:  # frank, late for the first question, answers first from then on
                assert reply(await answer(frank, message, right)).startswith(LOCKED)

            async def twice(
                user: FakeUser,
                message: MessageRecord,
                shown: MessageRecord,
                first: str,
                second: str,
            ) -> tuple[str, str]:
                one = reply(await answer(user, message, first))
                # A double click: the second comes from the message as the client showed it
                # (the early reveal may have disabled its buttons meanwhile).
                return one, reply(await answer(user, shown, second))

            results = await asyncio.gather(
                answer(alice, message, right),
                answer(bob, message, wrong),
                twice(
                    carol, message, copy.deepcopy(stale), right, wrong
                ),  # the first answer counts: right
                twice(
                    dave, message, copy.deepcopy(stale), wrong2, right
                ),  # the first answer counts: wrong
                answer(erin, message, right),
            )
            alice_said, bob_said, carol_said, dave_said, erin_said = results
            assert (
                reply(alice_said)
                == f"🔒 Locked in: **{right}**. The answer is revealed when the time is up."
            )
            assert reply(bob_said).startswith(LOCKED)
            assert reply(erin_said) == f"🔒 已锁定：**{right}**。时间到后揭晓答案。"
            for said in (carol_said, dave_said):
                assert said[0].startswith(LOCKED)
                # The second click: refused, as a repeat, or as late when it came after the
                # early reveal (everyone had answered).
                assert ALREADY in said[1] or TOO_LATE in said[1], said[1]

            revealed = await reveal_of(fake_discord, message)
            if index == 0:  # frank answers from a client that still shows the question
                assert TOO_LATE in reply(await answer(frank, stale, right))
            rows = db_answers(db, round_id_of(revealed))
            mine = [r for r in rows if r[0] == index]
            winners = right_users | ({frank} if index > 0 else set())
            expected = {str(u.id): u in winners for u in players if index > 0 or u is not frank}
            assert {r[1]: bool(r[3]) for r in mine} == expected  # one answer each, as judged

            description = str(embed(revealed)["description"])
            assert f"✅ **Answer: {shown_answer(message)}" in description
            assert f"Answers ({len(expected)})" in str(embed(revealed)["fields"])
            if not numeric(message):
                counts = Counter(r[2] for r in mine)
                assert counts_lines(revealed) == {x: counts.get(x, 0) for x in "ABC"}
                assert counts[right] == len(winners) and counts[wrong] == counts[wrong2] == 1
            else:
                assert re.search(
                    rf"`✅ [█░]+` {len(winners)}\n`❌ [█░]+` 2", field(revealed, "Answers")
                )
            shown_right = field(revealed, "Right")
            assert all(f"**{u.name}**" in shown_right for u in winners)
            assert not any(f"**{u.name}**" in shown_right for u in (bob, dave))
            first = names(players)[first_correct(rows, index)]
            assert field(revealed, "First").startswith(f"⚡ **{first}** in ")

        standings = await standings_in(fake_discord)
        assert "numeric" in kinds and "mcq" in kinds  # both ways of answering were played
    rows = db_answers(db, 1)
    by_user = {str(u.id): u for u in players}
    text = str(embed(standings)["description"])
    lines = [line for line in text.splitlines() if "**" in line and " — " in line]
    assert len(lines) == 6
    points = {u: sum(r[4] for r in rows if r[1] == uid) for uid, u in by_user.items()}
    for user in players:
        answered = 4 if user is frank else 5
        correct = answered if user in right_users | {frank} else 0
        line = next(line for line in lines if f"**{user.name}**" in line)
        assert f"— {points[user]} points · {correct}/{answered} (" in line, line
    order = [next(u for u in players if f"**{u.name}**" in line) for line in lines]
    assert [points[u] for u in order] == sorted(points.values(), reverse=True)
    assert [line[:1] for line in lines[:3]] == ["🥇", "🥈", "🥉"]
    assert points[bob] == points[dave] == 0 and points[alice] > 0
    assert standings.attachment("standings.png").data.startswith(b"\x89PNG")
    # The round's points are not what /leaderboard adds (a question pays once in 30 days).
    assert "These are the round's points; `/leaderboard` counts a question once in 30 days" in text
    # The answers count as attempts (leaderboards, review) once each: 29 = 5 x 5 + 4.
    (attempts,) = db_rows(db, "SELECT COUNT(*) FROM attempts")[0]
    assert attempts == 29
    (misses,) = db_rows(
        db,
        "SELECT COUNT(*) FROM review_cards WHERE user_id ="
        " (SELECT id FROM users WHERE external_id = ?)",
        str(bob.id),
    )[0]
    assert misses >= 1  # bob's misses are scheduled for review
    fake_discord.assert_clean()


async def test_two_channels_run_their_rounds_at_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    carol, dave = fake_discord.add_user("carol"), fake_discord.add_user("dave")
    general = fake_discord.channel
    trivia = fake_discord.add_channel("trivia")
    async with running_bot(fake_discord, db, QUIZ_BANK):
        await asyncio.gather(
            alice.slash("quiz start", where=general, questions=3, seconds=10, kind="concept"),
            bob.slash("quiz start", where=trivia, questions=3, seconds=10, kind="concept"),
        )
        tables = {general.id: (alice, carol), trivia.id: (bob, dave)}
        for index in range(3):
            shown = {
                channel.id: await question(fake_discord, index, channel)
                for channel in (general, trivia)
            }
            await asyncio.gather(
                *(
                    answer(user, shown[channel_id], value)
                    for channel_id, (host, guest) in tables.items()
                    for user, value in (
                        (host, right_answer(shown[channel_id])),
                        (guest, wrong_answer(shown[channel_id])),
                    )
                )
            )
            for channel_id, (host, _) in tables.items():
                revealed = await reveal_of(fake_discord, shown[channel_id])
                assert field(revealed, "Right") == f"**{host.name}**"
                assert "Answers (2)" in str(embed(revealed)["fields"])
        for channel in (general, trivia):
            standings = await standings_in(fake_discord, channel)
            host, guest = tables[channel.id]
            text = str(embed(standings)["description"])
            assert f"🥇 **{host.name}**" in text and f"🥈 **{guest.name}**" in text
            assert "3/3 (100%)" in text and "0/3 (0%)" in text
    rounds = db_rows(db, "SELECT id, channel_id, status FROM quiz_rounds ORDER BY id")
    assert {(c, s) for _, c, s in rounds} == {
        (str(general.id), "finished"),
        (str(trivia.id), "finished"),
    }
    for round_id, channel_id, _ in rounds:
        host, guest = tables[int(channel_id)]
        rows = db_answers(db, round_id)
        assert {(r[1], r[3]) for r in rows} == {(str(host.id), 1), (str(guest.id), 0)}
        assert len(rows) == 6
    fake_discord.assert_clean()


async def test_a_burst_of_a_hundred_answers_is_all_recorded_and_revealed(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    alice = fake_discord.user("alice")
    crowd = [fake_discord.add_user(f"p{i:03d}") for i in range(100)]
    async with running_bot(fake_discord, db, QUIZ_BANK):
        # 120 s: the burst never races the deadline; the host's stop reveals the question.
        await alice.slash("quiz start", questions=3, seconds=120, kind="concept")
        message = await question(fake_discord, 0)
        picks = {user: LETTERS[i % OPTIONS] for i, user in enumerate(crowd)}
        sent = await asyncio.gather(
            *(
                user.click(
                    message,
                    f"{next(i for i in message.custom_ids if i.endswith(':' + letter))}",
                    wait=False,
                )
                for user, letter in picks.items()
            )
        )
        for one in sent:  # every one answered (a limit for a hung bot, not a speed goal)
            await one.wait_response(within=REVEAL_WITHIN)
        assert all(reply(one).startswith(LOCKED) for one in sent)
        stopped = await alice.slash("quiz stop")
        await stopped.wait_original()
        revealed = await reveal_of(fake_discord, message)
        right = right_answer(message)
        wanted = Counter(picks.values())
        assert counts_lines(revealed) == {x: wanted[x] for x in "ABC"}
        rows = db_answers(db, round_id_of(revealed))
        assert len(rows) == 100
        assert {r[1]: r[2] for r in rows} == {str(u.id): x for u, x in picks.items()}
        assert field(revealed, "Right").endswith(f" and {wanted[right] - 15} more")
        first = names(crowd)[first_correct(rows, 0)]
        assert field(revealed, "First").startswith(f"⚡ **{first}** in ")
        standings = await standings_in(fake_discord)
        assert "… and 80 more" in str(embed(standings)["description"])
    fake_discord.assert_clean()


async def spawn_bot(fake: FakeDiscord, db: Path, log: Path) -> asyncio.subprocess.Process:
    """`python -m bot run` on the quiz bank (as tests/e2e/test_process.py starts it)."""
    env = {**bot_env(fake, db), "BOT_CONTENT": str(QUIZ_BANK)}
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=sink, stderr=sink
        )


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


def pick_id(message: MessageRecord, letter: str) -> str:
    return next(i for i in message.custom_ids if i.startswith("dlq:qzpick:") and i.endswith(letter))


@pytest.mark.timeout(300)
async def test_sigkill_mid_question_then_restart_finishes_the_round_counting_answers_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """The bot is killed while the first question takes answers. Restarted, it carries on:
    the old message's buttons still work until the reveal (the question has 90 s; a restart
    takes about ten), the question is revealed at its deadline, and the round finishes with every
    answer that was acknowledged counted once."""
    db, log = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    players = [fake_discord.add_user(f"k{i}") for i in range(6)]
    host, latecomer = players[0], players[5]
    process = await spawn_bot(fake_discord, db, log)
    try:
        await fake_discord.wait_ready(within=60)
        await fake_discord.wait_for_commands("quiz", within=30)
        started = await host.slash("quiz start", questions=3, seconds=90, kind="concept", within=30)
        await started.wait_original()
        first = await question(fake_discord, 0)
        right = right_answer(first)
        choices = {
            user: right if i % 2 == 0 else wrong_answer(first) for i, user in enumerate(players[:5])
        }
        sent = list(
            await asyncio.gather(
                *(user.click(first, pick_id(first, x), wait=False) for user, x in choices.items())
            )
        )
        await fake_discord.wait_until(
            lambda: True if sum(s.acknowledged for s in sent) >= 2 else None, within=60
        )
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 10)
    finally:
        await stop_process(process)
    acknowledged = {str(s.user.id) for s in sent if s.acknowledged}
    assert all(reply(s).startswith(LOCKED) for s in sent if s.acknowledged)
    assert not is_revealed(first)

    process = await spawn_bot(fake_discord, db, log)
    try:
        await fake_discord.wait_identified(2, within=60)
        await fake_discord.wait_ready(within=60)
        # The question posted before the kill still takes answers, once each.
        late = await latecomer.click(first, pick_id(first, right), within=30)
        assert reply(late).startswith(LOCKED), reply(late)
        again = await host.click(first, pick_id(first, wrong_answer(first)), within=30)
        if str(host.id) in acknowledged:  # else its first answer may have been lost unseen
            assert ALREADY in reply(again), reply(again)
        revealed = await reveal_of(fake_discord, first)
        for index in (1, 2):  # everyone answers: each is revealed early
            message = await question(fake_discord, index)
            await asyncio.gather(
                *(answer(u, message, right_answer(message)) for u in players),
                return_exceptions=False,
            )
            await reveal_of(fake_discord, message)
        standings = await standings_in(fake_discord)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        await stop_process(process)

    rows = db_answers(db, 1)
    first_answers = {r[1]: r for r in rows if r[0] == 0}
    attempted = {str(u.id) for u in players}
    assert acknowledged | {str(latecomer.id)} <= set(first_answers) <= attempted
    assert {uid: bool(r[3]) for uid, r in first_answers.items()} == {
        uid: (choices.get(next(u for u in players if str(u.id) == uid), right) == right)
        for uid in first_answers
    }
    assert f"Answers ({len(first_answers)})" in str(embed(revealed)["fields"])
    assert len([r for r in rows if r[0] > 0]) == 12
    # Each answer of the round is one attempt (leaderboards), never two.
    (dupes,) = db_rows(
        db,
        "SELECT COUNT(*) FROM (SELECT 1 FROM attempts GROUP BY instance_id, user_id"
        " HAVING COUNT(*) > 1)",
    )[0]
    assert dupes == 0
    quiz_attempts = db_rows(
        db,
        "SELECT q.idx, u.external_id FROM attempts a JOIN quiz_questions q"
        " ON q.instance_id = a.instance_id JOIN users u ON u.id = a.user_id",
    )
    assert {(int(i), str(u)) for i, u in quiz_attempts} >= {(r[0], r[1]) for r in rows}
    text = str(embed(standings)["description"])
    assert text.count(" — ") == len({r[1] for r in rows})
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert "Traceback" not in log.read_text()


async def test_a_start_that_cannot_run_says_why_and_starts_nothing(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    alice = fake_discord.user("alice")
    bot_role = fake_discord.guild.role(fake_discord.bot.username)
    quiet = fake_discord.add_channel(
        "quiet",
        overwrites=[{"id": str(bot_role.id), "type": 0, "allow": "0", "deny": str(1 << 11)}],
    )
    async with running_bot(fake_discord, db, QUIZ_BANK):
        refused = await alice.slash("quiz start", where=quiet)
        assert "I need the Send Messages permission here" in reply(refused)
        chinese = await alice.slash("quiz start", where=quiet, locale="zh-CN")
        assert "需要这里的“发送消息”权限" in reply(chinese)
        # No question of that kind in the bank: told so, in the user's language.
        nothing = await alice.slash("quiz start", topic="conv_output", kind="concept")
        assert reply(nothing).startswith("⚠️ No question matches"), reply(nothing)
    assert db_rows(db, "SELECT COUNT(*) FROM quiz_rounds") == [(0,)]
    fake_discord.assert_clean()


async def test_sharded_processes_each_resume_the_rounds_of_their_own_shards(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Two processes (shard 0 and shard 1 of 2) on one database, a round running in a server
    of each. Both stop and start again: each process takes back its own shard's round only
    (one deadline each, not two), and the old messages still take answers."""
    db = tmp_path / "bot.sqlite3"
    alice = fake_discord.user("alice")
    zero_guild = fake_discord.add_guild("Zero", owner=alice, shard=(0, 2))
    one_guild = fake_discord.add_guild("One", owner=alice, shard=(1, 2))
    carol = fake_discord.add_user("carol")
    where = {0: zero_guild.text_channels[0], 1: one_guild.text_channels[0]}
    async with (
        running_bot(fake_discord, db, QUIZ_BANK, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="0"),
        running_bot(fake_discord, db, QUIZ_BANK, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="1"),
    ):
        await fake_discord.wait_shards_ready([0, 1], 2)
        for shard, channel in where.items():
            started = await alice.slash(
                "quiz start", where=channel, questions=3, seconds=120, kind="concept"
            )
            assert f"Quiz #{shard + 1}" in (await started.wait_original()).content
        shown = {s: await question(fake_discord, 0, c) for s, c in where.items()}
    # Both processes stopped; the rounds are still running in the database.
    async with (
        running_bot(fake_discord, db, QUIZ_BANK, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="0") as zero,
        running_bot(fake_discord, db, QUIZ_BANK, BOT_SHARD_COUNT="2", BOT_SHARD_IDS="1") as one,
    ):
        await fake_discord.wait_shards_ready([0, 1], 2)
        for shard in (0, 1):  # each old message takes an answer, from the process holding it
            said = await carol.click(
                shown[shard], pick_id(shown[shard], right_answer(shown[shard]))
            )
            # Deferred if it came before the process resumed its round (it waits for it).
            locked = await said.wait_original()
            assert locked.ephemeral and locked.content.startswith(LOCKED), locked.content
        for bot in (zero, one):
            quiz = bot.services.quiz
            assert quiz is not None and len(quiz.deadlines) == 1  # its own round's question
        for shard, channel in where.items():
            stopped = await alice.slash("quiz stop", where=channel)
            assert "stopped" in (await stopped.wait_original()).content
            await reveal_of(fake_discord, shown[shard])
            standings = await standings_in(fake_discord, channel)
            assert "**carol**" in str(embed(standings)["description"])
        assert [
            len(fake_discord.channel_messages(c, include_ephemeral=False)) for c in where.values()
        ] == [4, 4]
    fake_discord.assert_clean()


async def test_a_click_before_a_sharded_bot_resumed_its_round_waits_for_it(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """A sharded bot resumes its rounds once its shards are connected, so a click on an old
    question can come first. It is deferred ("thinking...") while the resume goes on, however
    long that takes on a loaded machine, then locked in: not "too late", not "no round"."""
    db = tmp_path / "bot.sqlite3"
    alice = fake_discord.user("alice")
    guild = fake_discord.add_guild("Zero", owner=alice, shard=(0, 1))
    carol = fake_discord.add_user("carol")
    channel = guild.text_channels[0]
    sharded = {"BOT_SHARD_COUNT": "1", "BOT_SHARD_IDS": "0"}
    async with running_bot(fake_discord, db, QUIZ_BANK, **sharded):
        await fake_discord.wait_shards_ready([0], 1)
        started = await alice.slash(
            "quiz start", where=channel, questions=3, seconds=120, kind="concept"
        )
        assert "Quiz #1" in (await started.wait_original()).content
        shown = await question(fake_discord, 0, channel)

    resuming, go_on = asyncio.Event(), asyncio.Event()

    def hold_the_resume(engine: Engine) -> None:  # the round's resume stops half way
        reshow = engine.making.reshow

        async def held(instance: QuestionInstance) -> ServedQuestion:
            resuming.set()
            await go_on.wait()
            return await reshow(instance)

        engine.making.reshow = held  # type: ignore[method-assign]

    try:
        async with running_bot(fake_discord, db, QUIZ_BANK, prepare=hold_the_resume, **sharded):
            await fake_discord.wait_shards_ready([0], 1)
            await asyncio.wait_for(resuming.wait(), 30)
            said = await carol.click(shown, pick_id(shown, right_answer(shown)))
            assert said.message is not None and said.message.loading, said.message
            go_on.set()
            locked = await said.wait_original()
            assert locked.ephemeral and locked.content.startswith(LOCKED), locked.content
            stopped = await alice.slash("quiz stop", where=channel)
            assert "stopped" in (await stopped.wait_original()).content
            await reveal_of(fake_discord, shown)
            standings = await standings_in(fake_discord, channel)
            assert "**carol**" in str(embed(standings)["description"])
    finally:
        go_on.set()
    fake_discord.assert_clean()


async def test_public_messages_in_the_servers_language_replies_in_each_users(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """A server whose preferred locale is Chinese, a host whose client is English and who chose
    no language: the round speaks Chinese in public; each player is answered in their own."""
    owner = fake_discord.user("owner")
    guild = fake_discord.add_guild("学习小组", owner=owner, locale="zh-CN")
    room = guild.text_channels[0]
    ann = fake_discord.add_user("ann", guilds=[guild])  # en-US
    li = fake_discord.add_user("li", guilds=[guild], locale="zh-CN")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3", QUIZ_BANK):
        started = await ann.slash("quiz start", where=room, questions=3, seconds=120)
        assert "开始了 **抢答 #1**" in (await started.wait_original()).content
        first = await fake_discord.wait_for_message(
            lambda m: "抢答 #1" in quiz_footer(m) and bool(m.components), channel=room
        )
        assert str(embed(first)["title"]).startswith("第 1/3 题")
        value = right_answer(first)
        mine = await answer(ann, first, value)
        theirs = await answer(li, first, value)
        assert reply(mine).startswith(LOCKED) and reply(theirs).startswith("🔒 已锁定")
        stopped = await ann.slash("quiz stop", where=room)
        assert "已结束" in (await stopped.wait_original()).content
        standings = await fake_discord.wait_for_message(
            lambda m: "目前排名" in str(embed(m).get("title", "")), channel=room
        )
        assert "🥇" in str(embed(standings)["description"])
    fake_discord.assert_clean()


async def test_a_question_whose_time_passed_while_the_bot_was_down_is_revealed_at_start(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, db, QUIZ_BANK):
        await alice.slash("quiz start", questions=3, seconds=10, kind="concept")
        first = await question(fake_discord, 0)
        said = await bob.click(first, pick_id(first, right_answer(first)))
        assert reply(said).startswith(LOCKED)
    # The bot is down past the question's deadline (the round stays running in the database).
    [(deadline,)] = db_rows(db, "SELECT deadline FROM quiz_questions WHERE idx = 0")
    left = (datetime.fromisoformat(deadline) - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(0.0, left) + 0.5)
    assert not is_revealed(first)
    async with running_bot(fake_discord, db, QUIZ_BANK):
        revealed = await reveal_of(fake_discord, first)  # at start, without a click
        assert field(revealed, "Right") == "**bob**"
        second = await question(fake_discord, 1)  # and the round goes on
        said = await bob.click(second, pick_id(second, right_answer(second)))
        assert reply(said).startswith(LOCKED)
        stopped = await alice.slash("quiz stop")
        await stopped.wait_original()
        standings = await standings_in(fake_discord)
        assert "🥇 **bob** — " in str(embed(standings)["description"])
    assert [r[1] for r in db_answers(db, 1)] == [str(bob.id)] * 2
    fake_discord.assert_clean()
