"""Slash command to reply through the fake Discord: `/question` beside a bare "pong" bot.

    .venv/bin/python bench/roundtrip.py [--runs 300] [--one-loop]
    .venv/bin/python bench/roundtrip.py --burst 100 [--rounds 10] [--profile OUT]

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

--burst N: N users click an answer button of one posted multiple-choice question at the same
moment (a quiz night), beside N users sending `/ping` to the bare bot at the same moment, in
alternating rounds against the same two processes. Each figure is the time from the start of
the burst (before the first INTERACTION_CREATE leaves the fake) to that interaction's callback
reaching the fake; for the answers also to the ✅/❌ (the callback itself, or a follow-up).
The ratio is p99 (and p50) of the answers over the pings. --profile OUT samples the bot process with
py-spy (if installed in the venv) during the answer bursts and writes the collapsed stacks to
OUT (and a breakdown by layer to stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from discord import app_commands  # noqa: E402

from tests.e2e.fakediscord import (  # noqa: E402
    FakeDiscord,
    FakeUser,
    SentInteraction,
    patch_discord,
    running_client,
)
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


async def timed(fake: FakeDiscord, command: str, runs: int, **options: Any) -> list[float]:
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
) -> AsyncIterator[int]:
    """The bot running as its own process, settled; yields its pid."""
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
        yield process.pid
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


# bursts: N users at the same moment

BURST_WITHIN = 120.0  # a limit for a hung bot, not a speed goal
BURST_PAUSE_S = 0.5  # between rounds, so that one round's tail does not start the next
PROFILED_BURSTS = 3
PROFILE_RATE = 500  # py-spy samples per second (it pauses the bot for each: keep it modest)


def burst_users(fake: FakeDiscord, count: int) -> list[FakeUser]:
    return [fake.add_user(f"burst{i}") for i in range(count)]


async def all_answered(fake: FakeDiscord, sent: list[SentInteraction], followups: bool) -> None:
    """One waiter for the whole burst (a waiter per interaction would load the fake's loop)."""

    def done() -> bool | None:
        if followups:  # the ✅/❌: a follow-up, or the callback itself (one REST call)
            return all(s.followup_ids or s.response_type == 4 for s in sent) or None
        return all(s.acknowledged for s in sent) or None

    await fake.state.wait_until(
        done,
        within=BURST_WITHIN,
        describe=lambda: f"{sum(s.acknowledged for s in sent)}/{len(sent)} answered in time",
    )


def since(start: float, sent: list[SentInteraction]) -> list[float]:
    """Seconds from the burst's start to each interaction's first accepted callback."""
    out = []
    for s in sent:
        response = s.response
        assert response is not None
        out.append(response.at - start)
    return out


def followups_since(start: float, start_wall: float, sent: list[SentInteraction]) -> list[float]:
    """Seconds from the burst's start to each interaction's ✅/❌: its first follow-up
    message, or its callback when that is the verdict itself (type 4, no follow-up)."""
    out = []
    for s in sent:
        if s.followups:
            at = datetime.datetime.fromisoformat(s.followups[0].timestamp).timestamp()
            out.append(at - start_wall)
        else:
            assert s.response is not None
            out.append(s.response.at - start)
    return out


async def ping_burst(fake: FakeDiscord, users: list[FakeUser]) -> list[float]:
    start = time.monotonic()
    sent = [await user.slash("ping", wait=False) for user in users]
    await all_answered(fake, sent, followups=False)
    return since(start, sent)


async def post_choice_question(fake: FakeDiscord, poster: FakeUser) -> tuple[int, str]:
    """(message id, custom id of the first answer button) of a new multiple-choice question."""
    for _ in range(50):
        posted = await poster.slash("question", kind="concept", within=BURST_WITHIN)
        message = posted.message
        if message is None:
            continue
        ids = [
            c["custom_id"]
            for row in message.components
            for c in row.get("components", [])
            if str(c.get("custom_id", "")).endswith(":A")
        ]
        if ids:
            return message.id, ids[0]
    raise SystemExit("no multiple-choice question in 50 tries: is the content bank loaded?")


async def answer_burst(
    fake: FakeDiscord, users: list[FakeUser], poster: FakeUser, pid: int
) -> tuple[list[float], list[float], list[float]]:
    message_id, button = await post_choice_question(fake, poster)
    await settled(pid)  # the posted question's write-behind is done: measure the answers only
    start, start_wall = time.monotonic(), time.time()
    sent = [await user.click(message_id, button, wait=False) for user in users]
    await all_answered(fake, sent, followups=True)
    answers, told = since(start, sent), followups_since(start, start_wall, sent)
    await count_shown(fake, message_id, len(users))
    return answers, told, [time.monotonic() - start]


async def count_shown(fake: FakeDiscord, message_id: int, count: int) -> None:
    """Wait until the question's footer shows all `count` answers (the bot edits the live
    count off the answer's path, coalesced: the last edit comes after the last answer)."""
    want = f"· {count} answered,"

    def footer() -> str:
        embeds = fake.state.messages[message_id].embeds
        return str(embeds[0].get("footer", {}).get("text", "")) if embeds else ""

    await fake.state.wait_until(
        lambda: want in footer() or None,
        within=BURST_WITHIN,
        describe=lambda: f"the count never reached {count}: {footer()!r}",
    )


class Sampler:
    """py-spy recording the bot process while the answer bursts run (if py-spy is there)."""

    def __init__(self, pid: int, out: Path | None) -> None:
        self.pid, self.out = pid, out
        found = shutil.which("py-spy") or shutil.which(
            "py-spy", path=str(Path(sys.executable).parent)
        )
        self.exe = found
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Sampler:
        if self.out is not None:
            if self.exe is None:
                raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
            self.process = await asyncio.create_subprocess_exec(
                self.exe,
                "record",
                "--pid",
                str(self.pid),
                "--rate",
                str(PROFILE_RATE),
                "--format",
                "raw",
                "--threads",
                "--idle",
                "--output",
                str(self.out),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await asyncio.sleep(0.5)  # py-spy attaches
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.send_signal(2)  # SIGINT: py-spy writes its output and exits
            await self.process.wait()


async def bursts(
    count: int, rounds: int, content: Path, profile: Path | None
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"ping": [], "answer": [], "followup": [], "count": []}
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
            bot_process(
                bot_fake, "question", ["-m", "bot", "run"], env, folder / "bot.log"
            ) as bot_pid,
        ):
            pingers, answerers = burst_users(pong_fake, count), burst_users(bot_fake, count)
            poster = bot_fake.user("alice")
            # warm-up round on each side, not counted
            await ping_burst(pong_fake, pingers[: max(1, count // 10)])
            await answer_burst(bot_fake, answerers[: max(1, count // 10)], poster, bot_pid)
            for _ in range(rounds):
                await asyncio.sleep(BURST_PAUSE_S)
                samples["ping"] += await ping_burst(pong_fake, pingers)
                await asyncio.sleep(BURST_PAUSE_S)
                answers, followups, shown = await answer_burst(bot_fake, answerers, poster, bot_pid)
                samples["answer"] += answers
                samples["followup"] += followups
                samples["count"] += shown
            if profile is not None:  # extra bursts, sampled; not in the figures above
                for _ in range(PROFILED_BURSTS):
                    message_id, button = await post_choice_question(bot_fake, poster)
                    await settled(bot_pid)
                    async with Sampler(bot_pid, profile.with_suffix(f".{_}.txt")):
                        sent = [await u.click(message_id, button, wait=False) for u in answerers]
                        await all_answered(bot_fake, sent, followups=True)
    return samples


_LAYERS = (
    ("database: handing work to aiosqlite and back", ("aiosqlite/", "sqlite3", "bot/storage/")),
    (
        "REST: callback + follow-up (discord.py http, aiohttp)",
        ("discord/http.py", "discord/webhook/", "aiohttp/", "InteractionResponse.", "Webhook"),
    ),
    (
        "our handler (bot/discord, bot/core, bot/shared)",
        ("bot/discord/", "bot/core/", "bot/shared/"),
    ),
    (
        "discord.py: gateway parsing + dispatch",
        ("discord/gateway.py", "discord/state.py", "discord/", "json/", "zlib"),
    ),
)


def layer_of(frames: list[str]) -> str:
    """The layer a main-thread sample belongs to: the innermost frame that names one."""
    leaf = frames[-1] if frames else ""
    if "selectors.py" in leaf or "select (" in leaf or "epoll" in leaf:
        return "idle: waiting on sockets (epoll)"
    for frame in reversed(frames):
        for name, marks in _LAYERS:
            if any(mark in frame for mark in marks):
                return name
    return "asyncio and sockets"


def profile_breakdown(paths: list[Path], answers: int) -> None:
    """The py-spy samples per thread and layer, as milliseconds per answer."""
    main: dict[str, int] = {}
    worker: dict[str, int] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            if "MainThread" in frames[0]:
                key = layer_of(frames[1:])
                main[key] = main.get(key, 0) + int(count)
            elif "aiosqlite" in stack:
                busy = "core.py:59)" not in frames[-1]  # line 59 waits on the queue
                key = "running SQL (sqlite3 calls, commits)" if busy else "idle: waiting for work"
                worker[key] = worker.get(key, 0) + int(count)
    per_answer = 1000 / PROFILE_RATE / answers
    print("(idle includes the half second before each burst and its tail; busy shares exclude it)")
    for title, table in (("bot main thread (event loop)", main), ("aiosqlite thread", worker)):
        total = sum(table.values()) or 1
        busy_n = sum(n for key, n in table.items() if not key.startswith("idle")) or 1
        print(f"{title}: {total} samples, {busy_n * per_answer:.2f} ms busy per answer")
        for key, samples in sorted(table.items(), key=lambda kv: -kv[1]):
            share = "" if key.startswith("idle") else f"{samples / busy_n:6.1%} of busy"
            print(f"  {samples * per_answer:7.2f} ms/answer {share:>13}  {key}")


def burst_report(samples: dict[str, list[float]], count: int, rounds: int) -> None:
    print(f"bursts of {count} at once, {rounds} rounds each, alternating; each bot its own process")
    load = open("/proc/loadavg").read().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"load average {' '.join(load)}, {os.cpu_count()} cores")
    base50, base99 = summary(samples["ping"])
    print(
        f"{'from the burst start to':<40} {'n':>5} {'p50':>9} {'p99':>9} {'p50 x':>6} {'p99 x':>6}"
    )
    ping = "/ping callback (bare bot)"
    print(f"{ping:<40} {len(samples['ping']):>5} {base50:>7.1f}ms {base99:>7.1f}ms")
    for label, key in (
        ("answer click callback (the bot)", "answer"),
        ("answer ✅/❌ (callback or follow-up)", "followup"),
    ):
        p50, p99 = summary(samples[key])
        print(
            f"{label:<40} {len(samples[key]):>5} {p50:>7.1f}ms {p99:>7.1f}ms"
            f" {p50 / base50:>6.2f} {p99 / base99:>6.2f}"
        )
    shown = samples["count"]
    print(
        f"the question's footer showing all {count} answers (one per burst): "
        f"median {statistics.median(shown) * 1000:.0f} ms, max {max(shown) * 1000:.0f} ms"
    )
    print("goal (issue 16): answer callback p99 <= 2x the /ping p99")


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
    parser.add_argument("--burst", type=int, default=0, help="N users at the same moment")
    parser.add_argument("--rounds", type=int, default=10, help="bursts per side (--burst)")
    parser.add_argument("--profile", type=Path, help="py-spy the bot in extra bursts (--burst)")
    parser.add_argument("--pong", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pong:
        return run_pong()
    if args.burst:
        samples = asyncio.run(bursts(args.burst, args.rounds, args.content, args.profile))
        burst_report(samples, args.burst, args.rounds)
        if args.profile is not None:
            paths = [args.profile.with_suffix(f".{i}.txt") for i in range(PROFILED_BURSTS)]
            print(
                f"\npy-spy, {PROFILED_BURSTS} more bursts of {args.burst} answers"
                f" ({PROFILE_RATE} Hz):"
            )
            profile_breakdown(paths, PROFILED_BURSTS * args.burst)
        return 0
    if args.one_loop:
        report(asyncio.run(one_loop(args.runs, args.content)), "one event loop")
    else:
        samples = asyncio.run(separate_processes(args.runs, args.content))
        report(samples, f"each bot its own process, blocks of {BLOCK} in turn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
