"""`/daily set|off` and the daily question through the fake Discord, with its streak."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from bot.checkers import TorchCheckers

from .fakediscord import FakeDiscord
from .harness import button_ids, ref_of, running_bot, told

pytestmark = pytest.mark.timeout(60)


async def test_daily_question_is_posted_once_and_builds_a_streak(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    bot_role = fake_discord.guild.role(fake_discord.bot.username)
    locked = fake_discord.add_channel(  # the bot may not send messages there
        "locked",
        overwrites=[{"id": str(bot_role.id), "type": 0, "allow": "0", "deny": str(1 << 11)}],
    )
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3") as bot:
        daily = bot.get_cog("Daily")
        assert daily is not None
        # The test posts by hand: the background poster (every 30 s) is stopped before any daily
        # is set, so on a slow machine it cannot post first and leave post_due() nothing to do.
        poster = daily.poster.get_task()  # type: ignore[attr-defined]
        daily.poster.cancel()  # type: ignore[attr-defined]
        if poster is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await poster
        refused = await bob.slash(
            "daily set", channel=fake_discord.channel, time="00:00", check_permissions=False
        )
        assert (await told(refused)).startswith("⚠️")
        bad = await alice.slash("daily set", channel=fake_discord.channel, time="25:99")
        assert "is not a time" in (await told(bad))
        # A channel the bot may not post in: refused at once, not a question lost every day.
        shut = await alice.slash("daily set", channel=locked, time="00:00")
        assert "I need the Send Messages, Embed Links permissions there" in (await told(shut))
        assert await daily.post_due() == 0  # type: ignore[attr-defined]  # nothing was set
        done = await alice.slash("daily set", channel=fake_discord.channel, time="0:00")
        assert "at 00:00 UTC" in (await told(done))
        # 00:00 has passed today and nothing was posted yet: it says the first comes now.
        assert "That time has passed today: today's question goes out now." in (await told(done))

        assert await daily.post_due() == 1  # type: ignore[attr-defined]
        assert await daily.post_due() == 0  # type: ignore[attr-defined]  # once a day
        message = await fake_discord.wait_for_message(
            lambda m: bool(m.embeds) and "Daily question" in (m.embeds[0].get("title") or "")
        )
        ref = ref_of(message)
        ids = button_ids(message)
        if ref == "fx-sigmoid-max":
            answered = await bob.click(message, ids[1])
        else:
            family, seed = ref.split(":")
            expected = TorchCheckers().generate(family, int(seed)).expected
            opened = await bob.click(message, ids[0])
            answered = await bob.submit_modal(opened, {"answer": str(expected)})
        assert (await told(answered)).startswith("✅")
        stats = await bob.slash("stats")
        assert stats.message is not None
        assert "streak 1 (best 1)" in stats.message.embeds[0]["description"]

        off = await alice.slash("daily off")
        assert "off" in (await told(off))
        again = await alice.slash("daily off")
        assert "no daily question" in (await told(again))

        # Set by an admin who chose Chinese: posted in Chinese (the server's locale is English).
        await alice.slash("language", language="zh")
        chinese = await alice.slash("daily set", channel=fake_discord.channel, time="00:00")
        assert "每天 UTC 00:00" in (await told(chinese))
        assert await daily.post_due() == 1  # type: ignore[attr-defined]
        posted = await fake_discord.wait_for_message(
            lambda m: bool(m.embeds) and "每日一题" in (m.embeds[0].get("title") or "")
        )
        assert posted.embeds[0]["title"].startswith("📅 每日一题 · ")
        fake_discord.assert_clean()
