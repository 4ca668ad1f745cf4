"""Mock interviews through the fake Discord: buttons, the modal, the report, a SIGKILL."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.checkers import TorchCheckers

from .fakediscord import FakeDiscord, FakeUser, SentInteraction
from .harness import button_ids, running_bot, told
from .test_process import start_bot

pytestmark = pytest.mark.timeout(120)

CHECKERS = TorchCheckers()
PNG = b"\x89PNG\r\n\x1a\n"


def current_ref(message: Any) -> str:
    """The reference in the footer of the question an interview message shows."""
    for embed in message.embeds:
        footer = (embed.get("footer") or {}).get("text", "")
        if "interview #" in footer:
            return str(footer.split(" · ")[0]).removeprefix("Ref ")
    raise AssertionError(f"no question in {message.embeds}")


def finished(message: Any) -> bool:
    return any("report" in (e.get("title") or "").lower() for e in message.embeds)


async def answer_current(user: FakeUser, message: Any) -> SentInteraction:
    """Answer the question the interview message shows, correctly, with its own controls."""
    ids = button_ids(message)
    ref = current_ref(message)
    picks = [i for i in ids if i.startswith("dlq:ivpick:")]
    if picks:
        assert ref == "fx-sigmoid-max"
        return await user.click(message, next(i for i in picks if i.endswith(":B")))
    answer = next((i for i in ids if i.startswith("dlq:ivans:")), None)
    if answer is not None:
        family, seed = ref.split(":")
        expected = CHECKERS.generate(family, int(seed)).expected
        opened = await user.click(message, answer)
        assert opened.response_type == 9
        return await user.submit_modal(opened, {"answer": str(expected)})
    show = next(i for i in ids if i.startswith("dlq:ivshow:"))
    shown = await user.click(message, show)
    assert shown.response_type == 7
    good = next(i for i in button_ids(message) if i.endswith(":good"))
    return await user.click(message, good)


async def test_three_question_interview_ends_with_a_report_and_png(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        started = await alice.slash("interview start", questions=3, minutes=5)
        message = started.message
        assert message is not None and message.ephemeral
        assert any(i.startswith("dlq:ivhint:") for i in button_ids(message))
        # A hint first: it is shown and costs nothing until the answer.
        hint = await alice.click(message, next(i for i in button_ids(message) if "ivhint" in i))
        assert hint.response_type == 7 and "💡" in message.embeds[0]["description"]

        status = await alice.slash("interview status")
        assert status.message is not None
        assert current_ref(status.message) == current_ref(message)

        for _ in range(3):
            step = await answer_current(alice, message)
            assert step.response_type == 7
            assert "✅" in message.embeds[0]["description"]
        assert finished(message)
        report = next(e for e in message.embeds if "report" in (e.get("title") or "").lower())
        assert "**3/3** correct" in report["description"]
        assert "Scheduled for review" in report["description"]
        assert report["image"]["url"] == "attachment://report.png"
        (attachment,) = message.attachments
        assert attachment.filename == "report.png" and attachment.data.startswith(PNG)
        over = await alice.slash("interview status")
        assert over.message is not None and "no interview running" in over.message.content
        fake_discord.assert_clean()


async def test_start_topics_complete_and_unknown_ones_are_refused(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """`/interview start topics` is a comma-separated list: autocomplete completes the entry
    being typed and keeps the ones before it; unknown entries are refused, all named in one
    message in the user's language, and nothing starts."""
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        first = await alice.autocomplete("interview start", "topics", "grad")
        values = [c["value"] for c in first]
        assert "vanishing_gradients" in values and "gradient_clipping" in values
        listed = await alice.autocomplete("interview start", "topics", "initialization, grad")
        values = [c["value"] for c in listed]
        assert "initialization, vanishing_gradients" in values, values
        assert all(value.startswith("initialization, ") for value in values)
        assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in listed)
        chinese = await alice.autocomplete(
            "interview start", "topics", "initialization, 梯度", locale="zh-CN"
        )
        assert "initialization, 梯度裁剪 (gradient_clipping)" in [c["name"] for c in chinese]

        bad = await alice.slash(
            "interview start", topics="vanishing_gradients, quantum_chemistry, cnn, astrology"
        )
        assert (await told(bad)).startswith(
            "⚠️ Unknown topic: quantum_chemistry, astrology. Known: "
        )
        assert "vanishing_gradients" in (await told(bad))  # the topics it could have been
        bad_zh = await alice.slash("interview start", topics="quantum_chemistry", locale="zh-CN")
        assert (await told(bad_zh)).startswith("⚠️ 未知主题：quantum_chemistry。可选：")
        none = await alice.slash("interview status")
        assert none.message is not None and "no interview running" in none.message.content

        started = await alice.slash("interview start", topics=values[0], questions=3)
        assert started.message is not None and current_ref(started.message)
        fake_discord.assert_clean()


async def test_stop_early_and_refusals(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        started = await alice.slash("interview start", topics="vanishing_gradients", questions=3)
        message = started.message
        assert message is not None
        twice = await alice.slash("interview start")
        assert twice.message is not None and "already have an interview" in twice.message.content
        assert "`status` command shows its question again" in twice.message.content  # a way on
        bad = await bob.slash("interview start", topics="quantum_chemistry")
        assert bad.message is not None and "Unknown topic: quantum_chemistry" in bad.message.content
        # bob presses alice's button (a forwarded message): refused, her interview unchanged.
        stolen = await bob.click(message, button_ids(message)[0])
        assert stolen.message is not None and "someone else's interview" in stolen.message.content
        await answer_current(alice, message)
        stopped = await alice.slash("interview stop")
        assert stopped.message is not None
        assert stopped.message.content.startswith("🛑 Interview stopped: its report is in")
        # The interview's message became the report: no question's buttons left to press.
        shown = fake_discord.state.messages[message.id]
        assert finished(shown) and button_ids(shown) == []
        report = shown.embeds[-1]["description"]
        assert "**1/1** correct" in report
        assert len(shown.attachments) == 1  # the report's chart, shown in it
        assert shown.embeds[-1]["image"]["url"] == "attachment://report.png"
        # Stopped before any answer: a report, but no empty chart.
        bobs = await bob.slash("interview start", topics="vanishing_gradients", questions=3)
        assert bobs.message is not None
        await bob.slash("interview stop")
        at_once = fake_discord.state.messages[bobs.message.id]
        assert finished(at_once) and button_ids(at_once) == []
        assert at_once.attachments == []
        assert "image" not in at_once.embeds[-1]  # no picture that is not there
        fake_discord.assert_clean()


async def test_sigkill_mid_interview_loses_nothing(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    db = tmp_path / "bot.sqlite3"
    log = tmp_path / "bot.log"
    alice = fake_discord.user("alice")
    process = await start_bot(fake_discord, db, log)
    try:
        await fake_discord.wait_ready(within=60)
        await fake_discord.wait_for_commands("interview", within=30)
        started = await alice.slash("interview start", questions=3, minutes=5, within=10)
        message = started.message
        assert message is not None
        await answer_current(alice, message)
        before = current_ref(message)
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 10)

        identified = fake_discord.gateway.identify_count
        process = await start_bot(fake_discord, db, log)
        await fake_discord.wait_identified(identified + 1, within=60)
        await fake_discord.wait_for_commands("interview", within=30)
        status = await alice.slash("interview status", within=10)
        assert status.message is not None and current_ref(status.message) == before
        # The old message's buttons still work after the restart.
        while not finished(message):
            await answer_current(alice, message)
        report = next(e for e in message.embeds if "report" in (e.get("title") or "").lower())
        assert "**3/3** correct" in report["description"]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    with sqlite3.connect(db) as conn:
        attempts = conn.execute("SELECT COUNT(*), SUM(correct) FROM attempts").fetchone()
    assert attempts == (3, 3)
    fake_discord.assert_clean()


class AheadClock:
    """The system clock moved forward by hand: the interview's deadlines pass at once."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def question_title(message: Any) -> str:
    return str(next(e for e in message.embeds if "interview #" in footer_of(e))["title"])


def footer_of(embed: dict[str, Any]) -> str:
    return str((embed.get("footer") or {}).get("text", ""))


def labels(message: Any) -> dict[str, str]:
    return {
        component["custom_id"].split(":")[1]: component.get("label", "")
        for row in message.components
        for component in row.get("components", [])
        if "custom_id" in component
    }


async def test_late_answer_shows_the_solution_and_the_report_agrees_with_stats(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3") as bot:
        cog: Any = bot.get_cog("MockInterview")  # loaded as an extension: its own module object
        assert cog is not None and hasattr(cog, "interviews")
        cog.sweeper.cancel()  # this test moves the clock; it settles the timeout itself
        clock = AheadClock()
        cog.interviews.clock = clock
        started = await alice.slash(
            "interview start", topics="vanishing_gradients", questions=3, minutes=1
        )
        message = started.message
        assert message is not None
        assert question_title(message).startswith("Q1 of 3 · ")
        assert "  " not in question_title(message)
        assert labels(message)["ivhint"] == "Hint (−1 pt)"  # a scored question

        clock.offset = timedelta(minutes=2)  # Q1's deadline passes before the click
        late = await alice.click(message, next(i for i in button_ids(message) if i.endswith(":C")))
        assert late.response_type == 7
        header = message.embeds[0]["description"]
        assert "Time had run out on Q1: this answer came late and does not count." in header
        assert "❌ C is not right" in header  # how it would have been graded
        assert "The answer is B." in header and "peaks at x = 0" in header  # the solution
        # The miss brings a follow-up, numbered after the question it follows.
        assert question_title(message).startswith("Q1 follow-up · ")
        while not finished(message):
            await answer_current(alice, message)
        report = next(e for e in message.embeds if "report" in (e.get("title") or "").lower())
        text = report["description"]
        assert "**3/3** correct · 1 timed out · 3 questions + 1 follow-up" in text
        assert "Q1 60s timed out, Q1 follow-up" in text
        assert "family:" not in text and "fx-sigmoid-max" not in text
        assert "Vanishing and exploding gradients · “What is the largest value" in text
        stats = await alice.slash("stats")
        assert stats.message is not None
        assert "3/3 correct" in stats.message.embeds[0]["description"]
        fake_discord.assert_clean()


async def test_open_questions_offer_a_free_hint(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        started = await alice.slash("interview start", topics="initialization", questions=3)
        message = started.message
        assert message is not None and any("ivshow" in i for i in button_ids(message))
        assert labels(message)["ivhint"] == "Hint"  # open questions earn no points
        fake_discord.assert_clean()


async def test_the_footer_shows_the_reference_in_the_users_language(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, li = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        en = await alice.slash("interview start", topics="vanishing_gradients", questions=3)
        zh = await li.slash(
            "interview start", topics="vanishing_gradients", questions=3, locale="zh-CN"
        )
        assert en.message is not None and zh.message is not None
        en_footer = en.message.embeds[-1]["footer"]["text"]
        zh_footer = zh.message.embeds[-1]["footer"]["text"]
        assert en_footer.startswith("Ref ") and en_footer.endswith(" · interview #1")
        assert zh_footer.startswith("编号：") and zh_footer.endswith(" · 面试 #2")
        fake_discord.assert_clean()
