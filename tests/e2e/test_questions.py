"""The production bot through the fake Discord: questions, answers, scores, languages."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest

from bot.checkers import TorchCheckers
from bot.discord import _live_counts as live_counts

from .fakediscord import FakeDiscord
from .harness import button_ids, counted, footer, ref_of, running_bot, told

pytestmark = pytest.mark.timeout(60)

# The contract of docs/discord.md: command -> option names, or subcommand -> option names.
SPEC_COMMANDS: dict[str, set[str] | dict[str, set[str]]] = {
    "question": {"topic", "kind", "difficulty", "private"},
    "interview": {"start": {"topics", "questions", "minutes"}, "stop": set(), "status": set()},
    "review": {"count"},
    "stats": {"member"},
    "leaderboard": {"scope", "period", "topic"},
    "demo": {
        "gan": {"loss", "steps", "seed"},
        "rnn": {"cell", "steps", "seed"},
        "vanishing": {"activation", "layers", "seed"},
    },
    "check": {"family", "params", "answer"},
    "topics": set(),
    "language": {"language"},
    "daily": {"set": {"channel", "time"}, "off": set()},
    "admin": {"reset": {"member"}, "import": {"file"}},
    "help": set(),
    "history": {"count"},
    "quiz": {
        "start": {"topic", "questions", "seconds", "kind", "difficulty"},
        "stop": set(),
        "status": set(),
    },
}


def option_names(command: dict[str, object]) -> set[str]:
    options = command.get("options") or []
    assert isinstance(options, list)
    return {str(option["name"]) for option in options}


async def test_synced_tree_matches_the_spec(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        commands = {c["name"]: c for c in fake_discord.global_commands}
        assert set(commands) == set(SPEC_COMMANDS)
        for name, spec in SPEC_COMMANDS.items():
            if isinstance(spec, dict):
                subcommands = {o["name"]: o for o in commands[name]["options"]}
                assert set(subcommands) == set(spec), name
                for sub, options in spec.items():
                    assert option_names(subcommands[sub]) >= options, f"{name} {sub}"
            else:
                assert option_names(commands[name]) == spec, name
        kinds = {c["value"] for c in commands["question"]["options"][1]["choices"]}
        assert kinds == {"concept", "numeric", "any"}
        # Chinese descriptions through the Translator; names stay as the contract spells them.
        assert commands["question"]["description_localizations"]["zh-CN"] == "来一道深度学习面试题"
        assert (
            "name_localizations" not in commands["question"]
            or not commands["question"]["name_localizations"]
        )
        fake_discord.assert_clean()


async def test_multiple_choice_answered_by_two_users_each_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        posted = await alice.slash("question", topic="vanishing_gradients", kind="concept")
        question = posted.message
        assert question is not None and not question.ephemeral
        assert "sigmoid" in question.embeds[0]["description"]
        ids = button_ids(question)
        assert [i.rsplit(":", 1)[1] for i in ids] == ["A", "B", "C", "D"]
        assert footer(question).startswith("Ref fx-sigmoid-max · 0 answered, 0 correct")

        right = await alice.click(question, ids[1])
        # One REST call on the answer's path: the callback is the ephemeral verdict ...
        assert right.response_type == 4 and right.message is not None and right.message.ephemeral
        assert right.message.content.startswith("✅") and "0.25" in right.message.content
        assert not right.followups
        # ... and the question's live count is edited a moment later, off that path.
        await counted(fake_discord, question, "1 answered, 1 correct")

        # A second click (another option), and the same click delivered twice: no new score.
        again = await alice.click(question, ids[0])
        assert (await told(again)).startswith("❌") and "already answered" in (await told(again))
        wrong = await bob.click(question, ids[0])
        assert (await told(wrong)).startswith("❌") and "The answer is B." in (await told(wrong))
        wrong.redeliver()
        # Nothing observable should happen; give a second handling time to show itself.
        await asyncio.sleep(0.3)
        await counted(fake_discord, question, "2 answered, 1 correct")

        stats = await alice.slash("stats")
        assert stats.message is not None and stats.message.ephemeral
        assert "**1** point · 1/1 correct" in stats.message.embeds[0]["description"]
        board = await bob.slash("leaderboard", scope="server", period="all")
        text = board.message.embeds[0]["description"] if board.message else ""
        assert re.search(r"1\.` \*\*alice\*\* — 1 point · 100%", text), text
        assert re.search(r"2\.` \*\*bob\*\* — 0 points · 0%", text), text
        assert "You: #2 with 0 points" in text
        fake_discord.assert_clean()


async def test_numeric_question_through_the_modal(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        posted = await alice.slash("question", topic="conv_output", kind="numeric")
        question = posted.message
        assert question is not None
        ref = ref_of(question)
        family, seed = ref.split(":")
        expected = TorchCheckers().generate(family, int(seed)).expected
        (answer_button,) = button_ids(question)

        opened = await alice.click(question, answer_button)
        assert opened.response_type == 9 and opened.modal is not None
        unreadable = await alice.submit_modal(opened, {"answer": "about twelve"})
        assert (await told(unreadable)).startswith("⚠️")
        assert footer(question).endswith("0 answered, 0 correct")  # it cost nothing

        retry = await alice.click(question, answer_button)
        correct = await alice.submit_modal(retry, {"answer": str(expected)})
        assert correct.response_type == 4 and (await told(correct)).startswith("✅")
        await counted(fake_discord, question, "1 answered, 1 correct")

        bob_opened = await bob.click(question, answer_button)
        bob_wrong = await bob.submit_modal(bob_opened, {"answer": str(int(expected) + 1)})
        assert (await told(bob_wrong)).startswith("❌")
        bob_wrong.redeliver()
        await asyncio.sleep(0.3)  # as above: a second handling would answer again
        await counted(fake_discord, question, "2 answered, 1 correct")

        # Pressing Answer again after answering: told so, no modal.
        late = await alice.click(question, answer_button)
        assert late.response_type == 4 and "already answered" in (await told(late))
        fake_discord.assert_clean()


async def test_open_question_model_answer_and_self_rating(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        posted = await alice.slash("question", topic="initialization")
        question = posted.message
        assert question is not None
        answer, reveal = button_ids(question)  # Answer (typed, checked) and Show model answer
        assert ":oanswer:" in answer
        shown = await alice.click(question, reveal)
        assert shown.message is not None and shown.message.ephemeral
        assert "symmetry" in shown.message.content
        ratings = button_ids(shown.message)
        assert [r.rsplit(":", 1)[1] for r in ratings] == ["again", "hard", "good", "easy"]
        rated = await alice.click(shown.message, ratings[2])
        assert rated.response_type == 7
        await counted(fake_discord, question, "1 answered, 1 correct")
        fake_discord.assert_clean()


async def test_language_switches_replies(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        english = await alice.slash("help")
        assert english.message is not None
        assert english.message.embeds[0]["title"] == "Deep-learning interview practice"
        switched = await alice.slash("language", language="zh")
        assert await told(switched) == "语言已设为中文。"  # the language's name, not its code
        chinese = await alice.slash("help")
        assert (
            chinese.message is not None and chinese.message.embeds[0]["title"] == "深度学习面试练习"
        )
        posted = await alice.slash("question", topic="vanishing_gradients", kind="concept")
        assert posted.message is not None
        assert "sigmoid 函数导数的最大值" in posted.message.embeds[0]["description"]
        # auto follows the Discord client's locale
        await alice.slash("language", language="auto")
        by_locale = await alice.slash("help", locale="zh-CN")
        assert (
            by_locale.message is not None
            and by_locale.message.embeds[0]["title"] == "深度学习面试练习"
        )
        fake_discord.assert_clean()


async def test_topic_autocomplete(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        choices = await alice.autocomplete("question", "topic", "grad")
        values = [c["value"] for c in choices]
        assert "vanishing_gradients" in values and "gradient_clipping" in values
        assert all(len(c["name"]) <= 100 for c in choices)


async def test_question_and_leaderboard_share_one_topic_option(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Both offer the areas and topics as the user types, and refuse a topic that does not
    exist, in the user's language."""
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        for command in ("question", "leaderboard"):
            values = [c["value"] for c in await alice.autocomplete(command, "topic", "grad")]
            assert "vanishing_gradients" in values and "gradient_clipping" in values, command
            english = await told(await alice.slash(command, topic="quantum_chemistry"))
            assert english.startswith("⚠️ Unknown topic `quantum_chemistry`."), english
            chinese = await told(
                await alice.slash(command, topic="quantum_chemistry", locale="zh-CN")
            )
            assert chinese.startswith("⚠️ 没有这个主题：`quantum_chemistry`。"), chinese
            area = await alice.slash(command, topic="cnn")  # an area is a topic option too
            assert "Unknown topic" not in await told(area)
            typed = await alice.slash(command, topic="CNN")  # typed, not picked: any case
            assert "Unknown topic" not in await told(typed)
        fake_discord.assert_clean()


async def test_restart_between_posting_and_answering(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        posted = await alice.slash("question", topic="vanishing_gradients", kind="concept")
    question = posted.message
    assert question is not None
    async with running_bot(fake_discord, db):  # a new process would see the same
        answered = await alice.click(question, button_ids(question)[1])
        assert (await told(answered)).startswith("✅")
        await counted(fake_discord, question, "1 answered, 1 correct")
        fake_discord.assert_clean()


async def test_questions_whose_rows_were_lost_still_take_answers(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """The bot replies first and stores the question a moment later (Postings.post). If it
    dies in between, the row is lost but not the question: the first press of one of its
    buttons stores it again from the message it is on (its footer's reference)."""
    alice = fake_discord.user("alice")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        mcq = (await alice.slash("question", topic="vanishing_gradients", kind="concept")).message
        numeric = (await alice.slash("question", topic="conv_output", kind="numeric")).message
        private = await alice.slash("question", topic="initialization", private=True)
    assert mcq is not None and numeric is not None and private.message is not None
    with sqlite3.connect(db) as conn:  # what a crash between reply and write would leave
        conn.execute("DELETE FROM question_instances")
        conn.execute("DELETE FROM served")
    async with running_bot(fake_discord, db):
        picked = await alice.click(mcq, button_ids(mcq)[1])
        assert (await told(picked)).startswith("✅")
        await counted(fake_discord, mcq, "1 answered, 1 correct")

        family, seed = ref_of(numeric).split(":")
        expected = TorchCheckers().generate(family, int(seed)).expected
        opened = await alice.click(numeric, button_ids(numeric)[0])
        assert opened.modal is not None
        submitted = await alice.submit_modal(opened, {"answer": str(expected)})
        assert (await told(submitted)).startswith("✅")

        shown = await alice.click(private.message, button_ids(private.message)[1])  # reveal
        assert shown.message is not None and "symmetry" in shown.message.content
        fake_discord.assert_clean()
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "SELECT ref, channel_id, message_id FROM question_instances ORDER BY id"
        ).fetchall()
    assert stored == [
        ("fx-sigmoid-max", str(fake_discord.channel.id), str(mcq.id)),
        (f"{family}:{seed}", str(fake_discord.channel.id), str(numeric.id)),
        ("fx-zero-init", None, None),  # private: no channel message to keep a count on
    ]


async def test_an_old_message_never_answers_a_question_numbered_again(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """After a restore from an older backup, new questions get ids that old messages carry:
    a click on an old message is told its question is gone, and the new one is untouched."""
    alice = fake_discord.user("alice")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        old = (await alice.slash("question", topic="vanishing_gradients", kind="concept")).message
    assert old is not None
    with sqlite3.connect(db) as conn:  # the backup was taken before that question
        conn.execute("DELETE FROM question_instances")
        conn.execute("UPDATE id_counters SET next_id = 1")
    async with running_bot(fake_discord, db):
        new = (await alice.slash("question", topic="initialization")).message
        assert new is not None
        assert button_ids(new)[0].split(":")[2] == button_ids(old)[0].split(":")[2]
        clicked = await alice.click(old, button_ids(old)[1])
        assert "no longer available" in await told(clicked)
        assert footer(new).endswith("0 answered, 0 correct")
        fake_discord.assert_clean()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM attempts").fetchone() == (0,)


async def test_check_calculator(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        families = await alice.autocomplete("check", "family", "conv")
        assert {c["value"] for c in families} >= {"conv_output", "conv_params", "conv_macs"}
        right = await alice.slash(
            "check", family="conv_output", params="n=224 k=11 s=4 p=2", answer="55"
        )
        text = await told(right)
        assert right.message is not None and right.message.ephemeral
        assert "Expected: **55**" in text and "✅" in text
        wrong = await alice.slash(
            "check", family="conv_output", params="n=224 k=11 s=4 p=2", answer="54"
        )
        assert "❌" in (await told(wrong)) and "+ 1" in (await told(wrong))  # the named mistake
        seeded = await alice.slash("check", family="rnn_params", params="seed=7")
        assert "rnn_params" in (await told(seeded)) and "Expected:" in (await told(seeded))
        bad = await alice.slash("check", family="conv_output", params="n=3 k=5")
        assert (await told(bad)).startswith("⚠️") and "impossible" in (await told(bad))
        unknown = await alice.slash("check", family="attention", params="")
        assert (await told(unknown)).startswith("⚠️") and "unknown family" in (await told(unknown))
        fake_discord.assert_clean()


async def test_review_serves_a_missed_question_when_it_is_due(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        nothing = await alice.slash("review")
        assert "Nothing is due" in (await told(nothing))
        posted = await alice.slash("question", topic="vanishing_gradients", kind="concept")
        assert posted.message is not None
        await alice.click(posted.message, button_ids(posted.message)[0])  # wrong: A
        still = await alice.slash("review")
        assert "Nothing is due" in (await told(still))  # due in hours, not now
        with sqlite3.connect(db) as conn:  # four hours later (the first learning step)
            conn.execute("UPDATE review_cards SET due = '2000-01-01T00:00:00.000000+00:00'")
        due = await alice.slash("review", count=3)
        card = await due.wait_followup()
        assert card.ephemeral and "sigmoid" in card.embeds[0]["description"]
        answered = await alice.click(card, button_ids(card)[1])
        assert (await told(answered)).startswith("✅")
        # Nothing is due any more: /review applies the card of the answer (SQLite applies the
        # cards behind the answers, bot/storage/cards.py), which is pushed out again.
        assert "Nothing is due" in (await told(await alice.slash("review")))
        with sqlite3.connect(db) as conn:
            (due_at,) = conn.execute("SELECT due FROM review_cards").fetchone()
        assert due_at > "2026"
        fake_discord.assert_clean()


async def test_live_count_pending_at_shutdown_is_still_shown(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count is edited off the answer's path, at most once per interval per message; an
    answer inside the interval waits for it. Closing the bot sends what is still waiting."""
    monkeypatch.setattr(live_counts, "EDIT_INTERVAL_S", 600.0)  # nothing waits out on its own
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        posted = await alice.slash("question", topic="vanishing_gradients", kind="concept")
        question = posted.message
        assert question is not None
        ids = button_ids(question)
        assert (await told(await alice.click(question, ids[1]))).startswith("✅")
        await counted(fake_discord, question, "1 answered, 1 correct")  # the first edit: at once
        assert (await told(await bob.click(question, ids[0]))).startswith("❌")
        assert footer(question).endswith("1 answered, 1 correct")  # bob's count waits
    assert footer(question).endswith("2 answered, 1 correct")  # sent on close
    fake_discord.assert_clean()


async def test_a_burst_of_answers_costs_one_call_each_and_few_edits(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twelve users answer at once: each hears ✅ through the interaction callback alone (no
    follow-up), and the question's count is edited once while they answer (the edits after it
    wait for the interval, coalesced) and brought to the last count on close."""
    monkeypatch.setattr(live_counts, "EDIT_INTERVAL_S", 600.0)
    poster = fake_discord.user("alice")
    users = [fake_discord.add_user(f"user{i}") for i in range(12)]
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        question = (
            await poster.slash("question", topic="vanishing_gradients", kind="concept")
        ).message
        assert question is not None
        right = button_ids(question)[1]
        sent = [await user.click(question, right, wait=False) for user in users]
        await fake_discord.wait_until(lambda: all(s.acknowledged for s in sent) or None)
        for s in sent:
            assert s.response_type == 4 and s.message is not None and s.message.ephemeral
            assert s.message.content.startswith("✅")

        def edits() -> list[object]:
            return [
                r
                for r in fake_discord.requests
                if r.method == "PATCH" and r.path.endswith(f"/messages/{question.id}")
            ]

        await fake_discord.wait_until(lambda: edits() or None)
        assert len(edits()) == 1
    assert footer(question).endswith("12 answered, 12 correct")
    assert len(edits()) <= 2
    assert not any(s.followup_ids for s in sent)
    assert not [r for r in fake_discord.requests if r.method == "POST" and "/webhooks/" in r.path]
    fake_discord.assert_clean()
