"""Slash command to reply through the fake Discord: `/question` beside a bare "pong" bot.

    .venv/bin/python bench/roundtrip.py [--runs 300] [--one-loop]

The figure is the time from the INTERACTION_CREATE leaving the fake Discord
(tests/e2e/fakediscord, in this process) to the interaction callback reaching it, over real
sockets, one command at a time. Goal: the `/question` p50 at most 1.5x the bare bot's.

By default each bot is its own process, as in production (Discord is not in the bot's
process): the real `python -m bot run` with the content bank and a new SQLite file, and a
bare discord.py client with one `/ping` that answers "pong" (this file with --pong), each
with its own fake Discord. Both are up at once and measured in alternating blocks of 20
commands, so that a shared machine whose speed drifts tilts neither side.

--one-loop: as in the end-to-end tests, the fake, both clients and this driver share one
event loop, so everything any of them does for a request (the fake building the message, the
bot storing the question after its reply) counts; that shows the whole CPU cost of a request
rather than its latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from discord import app_commands  # noqa: E402

from tests.e2e.fakediscord import FakeDiscord, patch_discord, running_client  # noqa: E402
from tests.e2e.harness import running_bot  # noqa: E402

STARTUP_S = 120.0  # the bot imports torch and generates numeric questions ahead
BLOCK = 20  # commands in a row to one bot before switching to the other


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
    for _ in range(3):  # warm-up
        await alice.slash(command, **options)
    for _ in range(runs):
        started = time.perf_counter()
        await alice.slash(command, **options)
        samples.append(time.perf_counter() - started)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


# each bot in its own process


def run_pong() -> int:
    """The bare bot, as a process (--pong): the fake's URLs and token from the environment."""
    patch_discord(os.environ["DISCORD_API_BASE"], os.environ["DISCORD_GATEWAY_URL"])
    PongBot().run(os.environ["DISCORD_TOKEN"], log_handler=None)
    return 0


@asynccontextmanager
async def bot_process(
    fake: FakeDiscord, command: str, argv: list[str], env: dict[str, str], log: Path
) -> AsyncIterator[None]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    environment.update(
        env,
        DISCORD_TOKEN=fake.token,
        DISCORD_API_BASE=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
    )
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, cwd=ROOT, env=environment, stdout=sink, stderr=sink
        )
    try:
        await fake.wait_for_commands(command, within=STARTUP_S)
        await fake.wait_ready(within=STARTUP_S)
        await settled(process.pid)
        yield
    except Exception:
        print((await asyncio.to_thread(log.read_text))[-3000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def tree_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += ticks.get(current, 0)
        todo.extend(child for child, parent in parents.items() if parent == current)
    return total / os.sysconf("SC_CLK_TCK")


async def settled(pid: int, within: float = STARTUP_S) -> None:
    """Wait until the bot and its workers (the demo runner starts its own process in the
    background) are idle: under 5% of a core for half a second."""
    deadline = time.monotonic() + within
    used = tree_cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = tree_cpu_seconds(pid)
        if now - used < 0.025:
            return
        used = now
    raise TimeoutError(f"the bot process {pid} stayed busy for {within:.0f} s")


async def separate_processes(runs: int, content: Path) -> dict[str, list[float]]:
    """Both bots up at once, each with its own fake Discord; measured in alternating blocks so
    that both see the same machine (it is shared, and its speed drifts)."""
    samples: dict[str, list[float]] = {"ping": [], "concept": [], "numeric": []}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env = {
            "BOT_DB": str(folder / "bot.sqlite3"),
            "BOT_CONTENT": str(content),
            "BOT_LOG_LEVEL": "WARNING",
        }
        async with (
            FakeDiscord() as pong_fake,
            FakeDiscord() as bot_fake,
            bot_process(pong_fake, "ping", [__file__, "--pong"], {}, folder / "pong.log"),
            bot_process(bot_fake, "question", ["-m", "bot", "run"], env, folder / "bot.log"),
        ):
            for _ in range(max(1, runs // BLOCK)):
                samples["ping"] += await timed(pong_fake, "ping", BLOCK)
                samples["concept"] += await timed(bot_fake, "question", BLOCK, kind="concept")
                samples["numeric"] += await timed(bot_fake, "question", BLOCK, kind="numeric")
    return samples


# everything in one event loop


async def one_loop(runs: int, content: Path) -> dict[str, list[float]]:
    async with FakeDiscord() as fake:
        undo = patch_discord(fake.api_base, fake.gateway_url)
        try:
            async with running_client(PongBot(), fake):
                before = await timed(fake, "ping", runs)
            with tempfile.TemporaryDirectory() as folder:
                async with running_bot(fake, Path(folder) / "bot.sqlite3", content):
                    concept = await timed(fake, "question", runs, kind="concept")
                    numeric = await timed(fake, "question", runs, kind="numeric")
            async with running_client(PongBot(), fake):
                after = await timed(fake, "ping", runs)
        finally:
            undo()
    return {"ping": before + after, "concept": concept, "numeric": numeric}


def report(samples: dict[str, list[float]], how: str) -> None:
    base, base99 = summary(samples["ping"])
    print(f"round trip through the fake Discord ({how})")
    print(f"load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print(f"{'command':<26} {'runs':>5} {'p50':>8} {'p99':>8} {'ratio':>6}")
    print(f"{'bare bot /ping':<26} {len(samples['ping']):>5} {base:>6.2f}ms {base99:>6.2f}ms")
    for name, key in (("/question kind=concept", "concept"), ("/question kind=numeric", "numeric")):
        p50, p99 = summary(samples[key])
        print(
            f"{name:<26} {len(samples[key]):>5} {p50:>6.2f}ms {p99:>6.2f}ms {p50 / base:>6.2f}"
            "  (goal <= 1.5)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--one-loop", action="store_true", help="fake and bots in one loop")
    parser.add_argument("--pong", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pong:
        return run_pong()
    if args.one_loop:
        report(asyncio.run(one_loop(args.runs, args.content)), "one event loop")
    else:
        samples = asyncio.run(separate_processes(args.runs, args.content))
        report(samples, f"each bot its own process, blocks of {BLOCK} in turn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
