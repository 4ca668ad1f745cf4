"""Quiz rounds: reveal latency, from a question's deadline to its edited message in Discord, with
1, 10 and 50 rounds running at once, beside one round, in one run.

    .venv/bin/python bench/quiz.py [--rounds 1,10,50] [--questions 30,10,6]

The production bot (engine, SQLite store, the /quiz cog) runs against the fake Discord of the
end-to-end tests, in this process (one event loop: the fake's handling of each edit counts
too). N channels each start a round (multiple choice, 120 s per question, nobody answers, so
every question ends at its deadline). The bot's clock is real time plus an offset the bench
moves: once every round shows its question, the bench moves the clock to the latest of their
deadlines, so that all N deadlines pass at the same instant (the worst case: N reveals at
once, each followed by the next question), without waiting for real. Each figure is the
time from that instant to the fake Discord receiving the edit that reveals a question
(buttons disabled, answer, counts). The scheduler is the production one (one heap, one
sleeping task); only its clock is moved.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app.wiring import (  # noqa: E402
    discord_services,
    load_content,
    make_checkers,
    open_store,
    wire_engine,
)
from bot.core.ports import SystemClock  # noqa: E402
from tests.e2e.fakediscord import (  # noqa: E402
    FakeDiscord,
    MessageRecord,
    patch_discord,
    running_client,
)
from tests.e2e.harness import E2EBot, settings_for  # noqa: E402

# The real bank: a round never repeats a written question, so 30 questions need 30 distinct
# multiple-choice questions (the tests' three-question bank caps a round at 3).
QUIZ_BANK = ROOT / "content"
SECONDS = 120  # far: only the bench moves the clock to a deadline
HANG_S = 120.0  # a limit for a hung bot, not a goal


class WarpClock:
    """Real time plus an offset the bench moves forward: the bot's clock and the deadline
    scheduler's timer (`sleep_until` wakes when the offset moves)."""

    def __init__(self) -> None:
        self._real = SystemClock()
        self._offset = timedelta(0)
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._real.now() + self._offset

    async def sleep_until(self, when: datetime) -> None:
        while True:
            left = (when - self.now()).total_seconds()
            if left <= 0:
                return
            moved = self._moved
            try:
                await asyncio.wait_for(moved.wait(), left)
            except TimeoutError:
                pass

    def move_to(self, when: datetime) -> None:
        if when > self.now():
            self._offset += when - self.now()
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()


def is_question(message: MessageRecord) -> bool:
    footer = (message.embeds[0].get("footer") or {}).get("text", "") if message.embeds else ""
    return "quiz #" in footer and bool(message.components)


def is_revealed(message: MessageRecord) -> bool:
    buttons = [c for row in message.components for c in row.get("components", [])]
    return bool(buttons) and all(c.get("disabled") for c in buttons)


@asynccontextmanager
async def bot_with_clock(fake: FakeDiscord, db: Path, clock: WarpClock) -> AsyncIterator[None]:
    """The production bot (as tests/e2e/harness.running_bot builds it) on the warp clock."""
    settings = settings_for(fake, db, QUIZ_BANK)
    checkers = await asyncio.to_thread(make_checkers)
    bank = load_content(settings, checkers)
    async with open_store(settings, clock) as store:
        engine = wire_engine(store, bank, checkers, clock, timer=clock)
        try:
            bot = E2EBot(settings, discord_services(engine), guild_ready_timeout=0.05)
            async with running_client(bot, fake):
                yield
        finally:
            await engine.aclose()


async def measure(rounds: int, questions: int) -> list[float]:
    """Reveal latencies (s) of `rounds` rounds of `questions` questions each, run at once."""
    clock = WarpClock()
    async with FakeDiscord(heartbeat_interval_ms=5000) as fake:
        undo = patch_discord(fake.api_base, fake.gateway_url)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                channels = [fake.channel, *(fake.add_channel(f"c{i}") for i in range(rounds - 1))]
                hosts = [fake.add_user(f"host{i}") for i in range(rounds)]
                revealed_at: dict[int, float] = {}

                def seen(kind: str, message: MessageRecord) -> None:
                    if kind == "update" and message.id not in revealed_at:
                        if is_question(message) and is_revealed(message):
                            revealed_at[message.id] = time.perf_counter()

                fake.state.message_listeners.append(seen)
                async with bot_with_clock(fake, Path(tmp) / "bot.sqlite3", clock):
                    await asyncio.gather(
                        *(
                            host.slash(
                                "quiz start",
                                where=channel,
                                questions=questions,
                                seconds=SECONDS,
                                kind="concept",
                                within=HANG_S,
                            )
                            for host, channel in zip(hosts, channels, strict=True)
                        )
                    )
                    latencies: list[float] = []
                    for index in range(questions):
                        shown = await fake.wait_until(
                            lambda index=index: (  # type: ignore[misc]
                                found
                                if len(
                                    found := [
                                        m
                                        for m in fake.messages
                                        if is_question(m)
                                        and not is_revealed(m)
                                        and f"Question {index + 1}/" in m.embeds[0]["title"]
                                    ]
                                )
                                == rounds
                                else None
                            ),
                            within=HANG_S,
                            describe=f"question {index + 1} of every round",
                        )
                        deadline = clock.now() + timedelta(seconds=SECONDS)
                        clock.move_to(deadline)
                        passed = time.perf_counter()
                        await fake.wait_until(
                            lambda shown=shown: (  # type: ignore[misc]
                                True if all(m.id in revealed_at for m in shown) else None
                            ),
                            within=HANG_S,
                            describe=f"the reveals of question {index + 1}",
                        )
                        latencies.extend(revealed_at[m.id] - passed for m in shown)
                    await fake.wait_until(
                        lambda: (
                            True
                            if sum(
                                "standings" in (m.embeds[0].get("title") or "")
                                for m in fake.messages
                                if m.embeds
                            )
                            >= rounds
                            else None
                        ),
                        within=HANG_S,
                    )
                    return latencies
        finally:
            undo()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", default="1,10,50", help="rounds at once, comma-separated")
    parser.add_argument(
        "--questions", default="30,10,6", help="questions per round, one per --rounds value"
    )
    args = parser.parse_args()
    counts = [int(x) for x in args.rounds.split(",")]
    questions = [int(x) for x in args.questions.split(",")]
    if len(questions) != len(counts):
        parser.error("--questions needs one value per --rounds value")
    logging.basicConfig(level=logging.WARNING)
    results: dict[int, list[float]] = {}
    for rounds, asked in zip(counts, questions, strict=True):
        results[rounds] = asyncio.run(measure(rounds, asked))
        print(f"{rounds} round(s) x {asked} questions: done", file=sys.stderr)
    base = results.get(1)
    print("reveal latency, deadline -> edited message (ms)")
    header = ("rounds at once", "reveals", "p50", "p99", "max", "p99 / 1 round")
    print(f"{header[0]:>15} " + " ".join(f"{h:>8}" for h in header[1:5]) + f" {header[5]:>14}")
    for rounds, samples in results.items():
        p50, p99 = 1000 * statistics.median(samples), 1000 * percentile(samples, 0.99)
        ratio = f"{p99 / (1000 * percentile(base, 0.99)):.1f}x" if base else "-"
        print(
            f"{rounds:>15} {len(samples):>8} {p50:>8.1f} {p99:>8.1f} "
            f"{1000 * max(samples):>8.1f} {ratio:>14}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
