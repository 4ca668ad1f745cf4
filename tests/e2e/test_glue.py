"""The Discord glue: work in flight is counted by the command tree itself (no block in each
command), so shutdown waits for a slash command that is still running."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from .fakediscord import FakeDiscord
from .harness import running_bot

pytestmark = pytest.mark.timeout(60)


async def test_shutdown_waits_for_a_slash_command_in_flight(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3") as bot:
        boards: Any = bot.services.boards
        real = boards.topics
        entered, gate = asyncio.Event(), asyncio.Event()

        async def held(*args: Any, **kwargs: Any) -> Any:  # /topics waits here for the gate
            entered.set()
            await gate.wait()
            return await real(*args, **kwargs)

        boards.topics = held
        sent = await alice.slash("topics", wait=False)
        await entered.wait()
        closing = asyncio.create_task(bot.close())
        for _ in range(50):  # plenty of turns of the loop for a close that does not wait
            await asyncio.sleep(0.01)
        assert not closing.done(), "close() did not wait for the command in flight"
        gate.set()
        await asyncio.wait_for(closing, 30)
        await sent.wait_response()  # the command finished and answered before the close
        assert sent.message is not None and sent.message.embeds, sent.data
        boards.topics = real
