"""Hostile or large uploads and forged buttons, through the fake Discord: nothing stalls the bot,
every refusal says what and where, and nothing is written for what is refused."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.core.bank import MAX_DEPTH, MAX_PACK_BYTES

from .fakediscord import FakeDiscord, FakeUser, MessageRecord, SentInteraction, Upload
from .fakediscord.interactions import MESSAGE_COMPONENT, MODAL_SUBMIT, envelope
from .harness import FIXTURE_BANK, button_ids, running_bot, told

pytestmark = pytest.mark.timeout(120)

# A YAML "billion laughs": 7 levels of 9 aliases, 324 bytes that stand for 9**7 strings (as
# reported: before aliases were refused, it held the event loop for seconds and took 1.1 GB).
ALIAS_BOMB = "questions: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{level}: &{chr(97 + level)} [{', '.join([f'*{chr(96 + level)}'] * 9)}]\n"
    for level in range(1, 7)
)

QUESTION = """\
  - id: club-q{i:04d}
    topic: optimizers
    kind: mcq
    difficulty: easy
    text: {{en: "Q{i}: which optimiser?", zh: "第 {i} 题：哪种优化器？"}}
    choices:
      - {{en: "SGD", zh: "SGD"}}
      - {{en: "Adam", zh: "Adam"}}
    answer: A
    explanation: {{en: "Plain SGD.", zh: "普通 SGD。"}}
"""


def pack(first: int, count: int) -> str:
    return "questions:\n" + "".join(QUESTION.format(i=i) for i in range(first, first + count))


BIG_PACK = pack(0, 1696)  # the size of the pack of the report: 1,696 questions, ~500 KiB


class LoopLag:
    """The longest the event loop (the bot's and the test's: one loop) went without running a
    task that asks to wake every 5 ms."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last)
            last = now

    @asynccontextmanager
    async def measuring(self) -> AsyncIterator[LoopLag]:
        self.longest = 0.0
        self._task = asyncio.create_task(self._tick())
        try:
            yield self
        finally:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def lag_bound() -> float:
    """10x the loop's idle lag here and now, and at least 2 s: a bound that load cannot reach
    unless the loop really is blocked (parsing the big pack on the loop blocked it ~6 s)."""
    async with LoopLag().measuring() as idle:
        await asyncio.sleep(0.5)
    return max(2.0, 10 * idle.longest)


def db_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_an_alias_bomb_is_refused_at_once_with_its_line(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    assert len(ALIAS_BOMB) < 420
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        bound = await lag_bound()
        async with LoopLag().measuring() as lag:
            refused = await alice.slash(
                "admin import", file=Upload("bomb.yaml", ALIAS_BOMB.encode())
            )
            report = await told(refused)
        assert lag.longest < bound, f"the loop was blocked {lag.longest:.2f} s"
        assert report.startswith("⚠️ bomb.yaml was not imported: 1 problem(s)")
        assert "bomb.yaml:1: -: -: anchors and aliases (&name, *name) are not allowed" in report

        zh = await alice.slash(
            "admin import", file=Upload("bomb.yaml", ALIAS_BOMB.encode()), locale="zh-CN"
        )
        assert "bomb.yaml:1: -: -: 题目文件中不允许使用锚点和别名（&name、*name）" in await told(zh)
        fake_discord.assert_clean()


async def test_a_pack_nested_5000_levels_deep_is_a_located_problem(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    deep = "questions:\n  - id: club-deep\n    text: " + "[" * 5000 + "]" * 5000 + "\n"
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        refused = await alice.slash("admin import", file=Upload("deep.yaml", deep.encode()))
        report = await told(refused)
        assert report.startswith("⚠️ deep.yaml was not imported: 1 problem(s)"), report
        assert f"deep.yaml:3: -: -: nested more than {MAX_DEPTH} levels deep" in report
        fake_discord.assert_clean()


async def test_a_large_pack_over_the_limit_is_refused_with_the_limit(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    data = pack(0, 2000).encode()
    assert len(data) > MAX_PACK_BYTES
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        refused = await alice.slash("admin import", file=Upload("huge.yaml", data))
        report = await told(refused)
        assert report.startswith(f"⚠️ huge.yaml is too large ({-(-len(data) // 1024)} KiB, limit ")
        assert f"limit {MAX_PACK_BYTES // 1024} KiB" in report and "Nothing was added" in report
        fake_discord.assert_clean()


async def test_a_large_valid_pack_never_blocks_the_loop_nor_start_up(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """1,696 questions: parsed and validated in a worker thread after the reply is deferred;
    kept in their validated form, so a restart does not parse the YAML again."""
    assert len(BIG_PACK.encode()) <= MAX_PACK_BYTES
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        bound = await lag_bound()
        async with LoopLag().measuring() as lag:
            imported = await alice.slash("admin import", file=Upload("big.yaml", BIG_PACK.encode()))
            assert imported.response_type == 5  # deferred before any parsing
            done = await imported.wait_original(within=60)  # a busy box: seconds, not minutes
            assert done.content == "✅ Imported 1696 question(s) from big.yaml for this server."
        assert lag.longest < bound, f"the loop was blocked {lag.longest:.2f} s"

    # What start-up reads is the validated form: the YAML as uploaded is not parsed again
    # (here it could not be).
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE question_packs SET content = 'questions: [unparsable'")
    bound = await lag_bound()
    async with LoopLag().measuring() as lag, running_bot(fake_discord, db):
        posted = await bob.slash("question", topic="optimizers")
        assert posted.message is not None
        assert "which optimiser?" in posted.message.embeds[0]["description"]
        answered = await bob.click(posted.message, button_ids(posted.message)[0])
        assert (await told(answered)).startswith("✅")
        fake_discord.assert_clean()
    assert lag.longest < bound, f"the loop was blocked {lag.longest:.2f} s"


async def test_a_pack_stored_before_the_validated_form_still_loads_and_gets_it(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        imported = await alice.slash("admin import", file=Upload("club.yaml", pack(0, 3).encode()))
        assert (await told(imported)).startswith("✅ Imported 3 question(s)")
    with sqlite3.connect(db) as conn:  # as a pack imported by an older version has it
        conn.execute("DELETE FROM pack_questions")
    async with running_bot(fake_discord, db):
        posted = await bob.slash("question", topic="optimizers")
        assert posted.message is not None and "Q" in posted.message.embeds[0]["description"]
        fake_discord.assert_clean()
    assert db_rows(db, "SELECT question_id FROM pack_questions ORDER BY position") == [
        ("club-q0000",),
        ("club-q0001",),
        ("club-q0002",),
    ]


async def test_two_imports_at_once_with_a_shared_id_keep_one_and_name_the_id(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, owner = fake_discord.user("alice"), fake_discord.user("owner")
    db = tmp_path / "bot.sqlite3"
    first, second = pack(0, 40), pack(39, 40)  # club-q0039 is in both
    async with running_bot(fake_discord, db):
        sent = [
            await alice.slash("admin import", file=Upload("one.yaml", first.encode()), wait=False),
            await owner.slash("admin import", file=Upload("two.yaml", second.encode()), wait=False),
        ]
        replies = [await told(await s.wait_response()) for s in sent]
        kept = [i for i, reply in enumerate(replies) if reply.startswith("✅ Imported 40")]
        assert len(kept) == 1, replies
        refused = replies[1 - kept[0]]
        assert refused.startswith("⚠️"), replies
        assert "club-q0039: id: duplicate id" in refused
        fake_discord.assert_clean()
    kept_ids = {f"club-q{i:04d}" for i in range(39 * kept[0], 39 * kept[0] + 40)}
    async with running_bot(fake_discord, db):  # after a restart: the kept pack, all of it
        names = [name for (name,) in db_rows(db, "SELECT name FROM question_packs")]
        assert names == ["one.yaml" if kept[0] == 0 else "two.yaml"]
        bob = fake_discord.user("bob")
        seen: set[str] = set()
        for _ in range(5):
            posted = await bob.slash("question", topic="optimizers")
            assert posted.message is not None
            seen.add(posted.message.embeds[0]["description"].split(":")[0])
        assert {f"Q{int(qid[-4:])}" for qid in kept_ids} >= seen
    assert {q for (q,) in db_rows(db, "SELECT question_id FROM pack_questions")} == kept_ids


def forge(
    fake: FakeDiscord,
    user: FakeUser,
    message: MessageRecord,
    custom_id: str,
    modal: bool = False,
    locale: str = "en-US",
) -> SentInteraction:
    """A click (or a form) whose custom_id a modified client made up, on a real message: what
    Discord sends then (the message as it is stored, with the made-up custom_id)."""
    channel = fake.state.channel(message.channel_id)
    guild = fake.state.guilds[channel.guild_id or 0]
    data = (
        {"custom_id": custom_id, "components": []}
        if modal
        else {"custom_id": custom_id, "component_type": 2}
    )
    payload = envelope(
        fake.state,
        type=MODAL_SUBMIT if modal else MESSAGE_COMPONENT,
        data=data,
        guild=guild,
        channel=channel,
        member=user.member(guild),
        locale=locale,
        message=message.payload(),
    )
    return fake.deliver(payload, label=f"{user.name}: forged {custom_id!r}", user=user.record)


def ephemeral_reply(sent: SentInteraction) -> str:
    message = sent.message
    if sent.response_type != 4 or message is None or not message.ephemeral:
        return f"not a private reply: callback type {sent.response_type}"
    return message.content


async def test_forged_custom_ids_create_no_rows(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    alice = fake_discord.user("alice")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        mcq = (await alice.slash("question", topic="vanishing_gradients", kind="concept")).message
        assert mcq is not None
        real = button_ids(mcq)[0].split(":")[2]
    with sqlite3.connect(db) as conn:  # the row of a posted question lost (see Postings.post)
        conn.execute("DELETE FROM question_instances")
    forged = [
        ("dlq:pick:999999999:A", False),
        ("dlq:answer:-1", False),
        ("dlq:answer:abc", False),
        (f"dlq:pick:{real}:Z", False),  # a letter the question does not have
        (f"dlq:answer:{real}", False),  # the modal of a numeric question, on an MCQ
        (f"dlq:reveal:{real}", False),
        (f"dlq:rate:{real}:good", False),
        (f"dlq:submit:{real}", True),
        ("dlq:reset:0:1", False),
    ]
    replies: dict[str, str] = {}
    async with running_bot(fake_discord, db):
        for custom_id, modal in forged:
            sent = await forge(fake_discord, alice, mcq, custom_id, modal).wait_response()
            replies[custom_id] = ephemeral_reply(sent)
        zh = await forge(fake_discord, alice, mcq, "dlq:pick:7:A", locale="zh-CN").wait_response()
        replies["zh"] = ephemeral_reply(zh)
        fake_discord.assert_clean()
    # Nothing written: no question row (the lost one is not restored either), no answer.
    assert db_rows(db, "SELECT id, ref FROM question_instances") == []
    assert db_rows(db, "SELECT COUNT(*) FROM attempts") == [(0,)]
    refused = "⚠️ That button is not one of this message's buttons; nothing was done."
    assert replies == {custom_id: refused for custom_id, _ in forged} | {
        "zh": "⚠️ 这个按钮不属于这条消息，未做任何操作。"
    }

    async with running_bot(fake_discord, db):  # the real button still restores and answers
        picked = await alice.click(mcq, button_ids(mcq)[1])
        assert (await told(picked)).startswith("✅")
        fake_discord.assert_clean()
    assert db_rows(db, "SELECT id FROM question_instances") == [(int(real),)]


async def test_a_lost_question_is_not_restored_for_a_letter_it_no_longer_has(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """A real button, but the bank changed since (an option removed): the question of a lost
    row is restored only when the click fits it as the bank has it now."""
    alice = fake_discord.user("alice")
    db, bank = tmp_path / "bot.sqlite3", tmp_path / "bank"
    bank.mkdir()
    async with running_bot(fake_discord, db):
        mcq = (await alice.slash("question", topic="vanishing_gradients", kind="concept")).message
        assert mcq is not None and len(button_ids(mcq)) == 4
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM question_instances")
    practice = (FIXTURE_BANK / "practice.yaml").read_text(encoding="utf-8")
    removed = '      - {en: "It has no maximum", zh: "没有最大值"}\n'
    assert removed in practice
    (bank / "practice.yaml").write_text(practice.replace(removed, ""), encoding="utf-8")
    async with running_bot(fake_discord, db, bank):
        picked = await alice.click(mcq, button_ids(mcq)[3])  # D
        assert await told(picked) == "⚠️ That action does not apply to this question."
        fake_discord.assert_clean()
    assert db_rows(db, "SELECT id FROM question_instances") == []
    async with running_bot(fake_discord, db, bank):
        picked = await alice.click(mcq, button_ids(mcq)[1])  # B: still there, still right
        assert (await told(picked)).startswith("✅")
        fake_discord.assert_clean()
    assert len(db_rows(db, "SELECT id FROM question_instances")) == 1


async def test_forged_interview_custom_ids_are_refused(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """An interview's buttons carry its id and the question's place: made-up ones (another
    interview, a place or letter of the wrong form, a button the message does not have) are
    refused before anything is looked up; the real buttons still work."""
    alice = fake_discord.user("alice")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        started = await alice.slash("interview start", topics="vanishing_gradients", questions=3)
        message = started.message
        assert message is not None
        real = button_ids(message)[0].split(":")[2]
        forged = [
            ("dlq:ivpick:abc:0:A", False),
            (f"dlq:ivpick:{real}:-1:A", False),
            (f"dlq:ivpick:{real}:0:Z", False),
            (f"dlq:ivstop:{int(real) + 1}", False),
            (f"dlq:ivhint:{real}:7", False),
            (f"dlq:ivrate:{real}:0:superb", False),
            (f"dlq:ivsub:{real}:5", True),
        ]
        replies = {}
        for custom_id, modal in forged:
            sent = await forge(fake_discord, alice, message, custom_id, modal).wait_response()
            replies[custom_id] = ephemeral_reply(sent)
        fake_discord.assert_clean()
        refused = "⚠️ That button is not one of this message's buttons; nothing was done."
        assert replies == {custom_id: refused for custom_id, _ in forged}
        assert db_rows(db, "SELECT COUNT(*) FROM attempts") == [(0,)]
        stop = next(i for i in button_ids(message) if i.startswith("dlq:ivstop:"))
        stopped = await alice.click(message, stop)
        assert stopped.message is not None
