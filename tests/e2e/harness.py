"""Run the production bot (settings -> engine -> InterviewBot) against the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app.settings import Settings
from bot.app.wiring import discord_services, open_engine
from bot.core.engine import Engine
from bot.demos import DemoRunner
from bot.discord import InterviewBot
from bot.discord._bot import ShardedInterviewBot, make_bot

from .fakediscord import FakeDiscord, SentInteraction, running_client

FIXTURE_BANK = Path(__file__).parent.parent / "fixtures" / "bank"


class E2EBot(InterviewBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before every re-IDENTIFY (a real rate limit); not here."""


class E2EShardedBot(E2EBot, ShardedInterviewBot):
    """The bot with BOT_SHARD_COUNT / BOT_SHARD_IDS (an AutoShardedBot), same hook."""


def settings_for(
    fake: FakeDiscord, db: Path, content: Path = FIXTURE_BANK, **extra: Any
) -> Settings:
    return Settings(
        DISCORD_TOKEN=fake.token,
        DISCORD_API_BASE=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        BOT_DB=db,
        BOT_CONTENT=content,
        **extra,
    )


@asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    db: Path,
    content: Path = FIXTURE_BANK,
    *,
    demos: DemoRunner | None = None,
    prepare: Callable[[Engine], None] | None = None,
    **extra: Any,
) -> AsyncIterator[InterviewBot]:
    """The production bot against ``fake``; ``demos``: a runner the test started (or none);
    ``prepare``: called with the engine before the bot starts (to hold a step of it, say).
    With ``BOT_SHARD_COUNT`` (and ``BOT_SHARD_IDS``) in ``extra``: the sharded bot."""
    settings = settings_for(fake, db, content, **extra)
    async with open_engine(settings) as engine:
        if prepare is not None:
            prepare(engine)
        bot = make_bot(
            settings,
            discord_services(engine),
            demos=demos,
            cls=E2EBot,
            sharded_cls=E2EShardedBot,
            guild_ready_timeout=0.05,
        )
        async with running_client(bot, fake):
            yield bot


def footer(message: Any) -> str:
    """The footer text of a question message: `Ref REF · N answered, M correct`."""
    return str(message.embeds[0]["footer"]["text"])


async def counted(fake: FakeDiscord, message: Any, counts: str, within: float = 30.0) -> None:
    """Wait until the live count in a question message's footer reads `counts` (e.g.
    "1 answered, 1 correct"): the bot edits it off the answer's path, a moment after the
    answer (`within` is a limit for a hung bot, not a speed goal)."""
    await fake.wait_until(
        lambda: footer(message).endswith(counts) or None,
        within=within,
        describe=lambda: f"footer still {footer(message)!r}, not {counts!r}",
    )


def ref_of(message: Any) -> str:
    """The question reference a question message's footer shows."""
    return footer(message).split(" · ")[0].removeprefix("Ref ").removeprefix("编号：")


def button_ids(message: Any) -> list[str]:
    return [
        component["custom_id"]
        for row in message.components
        for component in row.get("components", [])
        if "custom_id" in component
    ]


async def told(sent: SentInteraction) -> str:
    """What the user was told: the reply, or the follow-up that comes after a deferred
    response or after an update of the question message (type 7 without text)."""
    if sent.response_type == 5:
        return (await sent.wait_original()).content
    if sent.response_type == 7 and (sent.message is None or not sent.message.content):
        return (await sent.wait_followup()).content
    assert sent.message is not None, f"{sent.label} has no message"
    return sent.message.content
