"""Open questions answered in writing through the fake Discord (issue #18): the Answer button's
paragraph modal, the key points ✅/⬜ with the coverage and the suggested rating, the model
answer, and the rating the user confirms or changes feeding the review schedule."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from .fakediscord import FakeDiscord
from .harness import FIXTURE_BANK, button_ids, running_bot

pytestmark = pytest.mark.timeout(60)

TWO_OF_THREE = "Every unit computes the same function, so each one gets the same gradient."


def labels(message: object) -> dict[str, str]:
    """custom_id -> label of a message's buttons."""
    return {
        component["custom_id"]: component.get("label", "")
        for row in message.components  # type: ignore[attr-defined]
        for component in row.get("components", [])
        if "custom_id" in component
    }


def card(db: Path, name: str) -> tuple[dict[str, object], str, str]:
    """The review card of a user's only reviewed item: its fsrs card, its due date, and the
    rating recorded as their answer."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT r.card, r.due, a.answer FROM review_cards r "
            "JOIN users u ON u.id = r.user_id JOIN attempts a ON a.user_id = u.id "
            "WHERE u.name = ?",
            (name,),
        ).fetchone()
    assert row is not None, name
    return json.loads(row[0]), row[1], row[2]


async def test_typed_answer_breakdown_then_the_confirmed_rating_is_scheduled(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    db = tmp_path / "bot.sqlite3"
    async with running_bot(fake_discord, db):
        posted = await alice.slash("question", topic="initialization")
        question = posted.message
        assert question is not None
        answer_id, reveal_id = button_ids(question)
        assert ":oanswer:" in answer_id and ":reveal:" in reveal_id
        assert list(labels(question).values()) == ["Answer", "Show model answer"]

        replies = {}
        for user in (alice, bob):
            opened = await user.click(question, answer_id)
            assert opened.response_type == 9 and opened.modal is not None
            (field,) = [c for row in opened.modal["components"] for c in row["components"]]
            assert field["style"] == 2 and field["max_length"] == 4000  # a paragraph
            submitted = await user.submit_modal(opened, {"answer": TWO_OF_THREE})
            reply = submitted.message
            assert reply is not None and reply.ephemeral
            replies[user] = reply

        reply = replies[alice]
        content = reply.content
        assert "✅ symmetry between units\n✅ identical gradients\n⬜ random init breaks" in content
        assert "Coverage: 2/3 key points (67%) · suggested rating: Hard" in content
        assert reply.embeds[0]["title"] == "Model answer"
        assert "Every unit would compute the same function" in reply.embeds[0]["description"]
        buttons = labels(reply)
        assert list(buttons.values()) == ["Again", "Hard (suggested)", "Good", "Easy"]
        ids = list(buttons)
        assert [i.rsplit(":", 1)[1] for i in ids] == ["again", "hard", "good", "easy"]

        # alice confirms the suggestion; bob thinks better of his answer and picks Easy
        confirmed = await alice.click(reply, ids[1])
        assert confirmed.response_type == 7
        changed = await bob.click(replies[bob], list(labels(replies[bob]))[3])
        assert changed.response_type == 7
        fake_discord.assert_clean()

    alice_card, alice_due, alice_answer = card(db, "alice")
    bob_card, bob_due, bob_answer = card(db, "bob")
    assert (alice_answer, bob_answer) == ("hard", "easy")  # the ratings they clicked
    # fsrs: a new card rated Hard stays in learning (due within the day), Easy goes to review
    assert alice_card["state"] == 1 and bob_card["state"] == 2
    assert alice_due < bob_due


async def test_chinese_answer_and_a_question_without_rubric(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        await alice.slash("language", language="zh")
        posted = await alice.slash("question", topic="initialization")
        assert posted.message is not None
        assert list(labels(posted.message).values()) == ["作答", "查看参考答案"]
        opened = await alice.click(posted.message, button_ids(posted.message)[0])
        assert opened.modal is not None and opened.modal["title"].startswith("你的答案")
        # Only spaces: nothing checked, nothing to rate; the question still takes an answer.
        blank = await alice.submit_modal(opened, {"answer": "   "})
        assert blank.message is not None and button_ids(blank.message) == []
        assert blank.message.content.startswith("⚠️ 没有可检查的内容：答案是空白的。")
        opened = await alice.click(posted.message, button_ids(posted.message)[0])
        answer = "每个单元计算的是一样的函数，梯度也都相同。所以要用随机初始化来打破对称。"
        submitted = await alice.submit_modal(opened, {"answer": answer})
        assert submitted.message is not None
        text = submitted.message.content
        assert "✅ 单元之间的对称性\n✅ 梯度完全相同\n✅ 随机初始化打破对称" in text
        assert "覆盖：3/3 个要点（100%）· 建议自评：很轻松" in text
        assert list(labels(submitted.message).values())[3] == "很轻松（建议）"
        fake_discord.assert_clean()

    bank = tmp_path / "bank"
    shutil.copytree(FIXTURE_BANK, bank)
    practice = bank / "practice.yaml"
    lines = practice.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if "match:" not in line]
    kept = [line for line in kept if not line.lstrip().startswith(("en: [", "zh: ["))]
    practice.write_text("".join(kept), encoding="utf-8")
    async with running_bot(fake_discord, tmp_path / "other.sqlite3", bank):
        await alice.slash("language", language="en")
        posted = await alice.slash("question", topic="initialization")
        assert posted.message is not None
        opened = await alice.click(posted.message, button_ids(posted.message)[0])
        submitted = await alice.submit_modal(opened, {"answer": "Symmetry."})
        assert submitted.message is not None
        assert "has no rubric yet" in submitted.message.content
        assert "symmetry between units" in submitted.message.content  # the key points
        assert "Every unit would" in submitted.message.embeds[0]["description"]
        ratings = list(labels(submitted.message).values())
        assert ratings == ["Again", "Hard", "Good", "Easy"]  # none suggested
        rated = await alice.click(submitted.message, button_ids(submitted.message)[2])
        assert rated.response_type == 7
        fake_discord.assert_clean()


async def test_interview_open_answer_is_checked_and_its_coverage_reported(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        started = await alice.slash("interview start", topics="initialization", questions=3)
        message = started.message
        assert message is not None
        ids = button_ids(message)
        open_id = next(i for i in ids if ":ivopen:" in i)
        assert any(":ivshow:" in i for i in ids)  # Show model answer is still there
        opened = await alice.click(message, open_id)
        assert opened.response_type == 9 and opened.modal is not None
        blank = await alice.submit_modal(opened, {"answer": "  \n "})
        assert blank.response_type == 7  # the question again, saying why, still open
        assert any("the answer was blank" in (e.get("description") or "") for e in message.embeds)
        assert open_id in button_ids(message)
        opened = await alice.click(message, open_id)
        submitted = await alice.submit_modal(opened, {"answer": TWO_OF_THREE})
        assert submitted.response_type == 7
        # Still the interview's question: its place, time and number, and a way to stop.
        assert message.embeds[0]["title"].startswith("Q1 of 3 · ")
        assert "interview #" in message.embeds[0]["footer"]["text"]
        assert any(":ivstop:" in i for i in button_ids(message))
        texts = [e.get("description", "") for e in message.embeds]
        assert any("⬜ random init breaks the symmetry" in d for d in texts)
        assert any("Coverage: 2/3 key points (67%)" in d for d in texts)
        assert any("Every unit would compute" in d for d in texts)  # the model answer
        hard = next(i for i in button_ids(message) if i.endswith(":hard"))
        assert labels(message)[hard] == "Hard (suggested)"
        rated = await alice.click(message, hard)
        assert rated.response_type == 7
        stop = next(i for i in button_ids(message) if ":ivstop:" in i)
        stopped = await alice.click(message, stop)
        assert stopped.response_type == 7
        report = next(e for e in message.embeds if "report" in (e.get("title") or "").lower())
        assert "Q1" in report["description"] and "(key points 67%)" in report["description"]
        fake_discord.assert_clean()


async def test_an_open_answer_typed_while_the_interview_stops_is_said_not_recorded(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        started = await alice.slash("interview start", topics="initialization", questions=3)
        message = started.message
        assert message is not None
        open_id = next(i for i in button_ids(message) if ":ivopen:" in i)
        opened = await alice.click(message, open_id)
        await alice.slash("interview stop")  # from another window, while typing
        submitted = await alice.submit_modal(opened, {"answer": TWO_OF_THREE})
        assert submitted.response_type == 7
        texts = [e.get("description", "") for e in message.embeds]
        assert any("⚠️ Not recorded: this interview has ended." in d for d in texts), texts
        fake_discord.assert_clean()
