"""`/history` through the fake Discord: the caller's last answers, only to the caller."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.checkers import TorchCheckers

from .fakediscord import FakeDiscord
from .harness import button_ids, ref_of, running_bot, told

pytestmark = pytest.mark.timeout(60)


async def test_history_lists_the_callers_answers_newest_first(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        empty = await alice.slash("history")
        assert empty.message is not None and empty.message.ephemeral
        assert "No answers yet" in empty.message.embeds[0]["description"]

        mcq = (await alice.slash("question", topic="vanishing_gradients", kind="concept")).message
        assert mcq is not None
        mcq_ref = ref_of(mcq)
        assert (await told(await alice.click(mcq, button_ids(mcq)[1]))).startswith("✅")

        numeric = (await alice.slash("question", topic="conv_output", kind="numeric")).message
        assert numeric is not None
        numeric_ref = ref_of(numeric)
        family, seed = numeric_ref.split(":")
        expected = TorchCheckers().generate(family, int(seed)).expected
        opened = await alice.click(numeric, button_ids(numeric)[0])
        wrong = await alice.submit_modal(opened, {"answer": f"{int(expected) + 1}"})
        assert (await told(wrong)).startswith("❌")

        shown = await alice.slash("history")
        assert shown.message is not None and shown.message.ephemeral  # the caller's only
        embed = shown.message.embeds[0]
        assert embed["title"] == "Your last answers"
        lines = embed["description"].split("\n\n")[0].splitlines()
        assert len(lines) == 2, lines
        assert "names the exact question" in embed["description"]
        assert "python -m bot" not in embed["description"]  # no shell command in Discord
        newest, oldest = lines
        assert f"`{numeric_ref}`" in newest and "❌" in newest and "**0 pts**" in newest
        assert f"`{int(expected) + 1}`" in newest  # the answer as typed
        assert f"`{mcq_ref}`" in oldest and "✅" in oldest and "**1 pt**" in oldest
        assert re.match(r"<t:\d+:f> ", oldest)  # when, in the reader's time zone

        one = await alice.slash("history", count=1)
        assert one.message is not None
        assert one.message.embeds[0]["description"].split("\n\n")[0].splitlines() == [newest]

        others = await bob.slash("history")  # bob has answered nothing
        assert others.message is not None and others.message.ephemeral
        assert "No answers yet" in others.message.embeds[0]["description"]

        await alice.slash("language", language="zh")
        zh = await alice.slash("history", count=2)
        assert zh.message is not None
        zh_embed = zh.message.embeds[0]
        assert zh_embed["title"] == "你最近的作答"
        assert "**1 分**" in zh_embed["description"] and "**0 分**" in zh_embed["description"]
        fake_discord.assert_clean()
