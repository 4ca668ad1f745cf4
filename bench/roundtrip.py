"""Slash command to reply through the fake Discord: `/question` beside a bare "pong" bot.

    .venv/bin/python bench/roundtrip.py [--runs 200]

Both bots are real discord.py clients talking to the fake Discord (tests/e2e/fakediscord)
over real sockets, in the same process and run; the figure is the time from the
INTERACTION_CREATE leaving the fake to the interaction callback reaching it. Goal: the
`/question` p50 at most 1.5x the bare bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from discord import app_commands  # noqa: E402

from tests.e2e.fakediscord import FakeDiscord, patch_discord, running_client  # noqa: E402
from tests.e2e.harness import running_bot  # noqa: E402


class PongBot(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="ping", description="pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

    async def setup_hook(self) -> None:
        await self.tree.sync()


async def timed(fake: FakeDiscord, command: str, runs: int, **options: object) -> list[float]:
    alice = fake.user("alice")
    samples = []
    for _ in range(10):  # warm-up
        await alice.slash(command, **options)
    for _ in range(runs):
        started = time.perf_counter()
        await alice.slash(command, **options)
        samples.append(time.perf_counter() - started)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


async def main_async(runs: int, content: Path) -> None:
    async with FakeDiscord() as fake:
        undo = patch_discord(fake.api_base, fake.gateway_url)
        try:
            async with running_client(PongBot(), fake):
                pong = await timed(fake, "ping", runs)
            with tempfile.TemporaryDirectory() as folder:
                async with running_bot(fake, Path(folder) / "bot.sqlite3", content):
                    mcq = await timed(fake, "question", runs, kind="concept")
                    numeric = await timed(fake, "question", runs, kind="numeric")
        finally:
            undo()
    base, base99 = summary(pong)
    print(f"round trip through the fake Discord, {runs} runs each; load {os.getloadavg()[0]:.2f}")
    print(f"{'command':<28} {'p50':>8} {'p99':>8} {'ratio':>6}")
    print(f"{'bare bot /ping':<28} {base:>6.2f}ms {base99:>6.2f}ms {1:>6.2f}")
    for name, samples in (("/question kind=concept", mcq), ("/question kind=numeric", numeric)):
        p50, p99 = summary(samples)
        print(f"{name:<28} {p50:>6.2f}ms {p99:>6.2f}ms {p50 / base:>6.2f}  (goal <= 1.5)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    args = parser.parse_args()
    asyncio.run(main_async(args.runs, args.content))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
