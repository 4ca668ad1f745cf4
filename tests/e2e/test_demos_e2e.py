"""`/demo` through the fake Discord: the production bot with a real DemoRunner (worker
processes, torch) built with small timeouts and cooldowns for the test."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import statistics
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.demos import DemoParams, DemoResult, DemoRunner, GanParams, RnnParams, VanishingParams
from bot.demos.runner import ProgressCallback
from bot.discord import InterviewBot

from .fakediscord import FakeDiscord, MessageRecord, SentInteraction, patch_discord
from .harness import running_bot
from .test_process import start_bot

pytestmark = pytest.mark.timeout(900)  # a limit for a hung test: a busy machine is slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COOLDOWN_S = 30.0
WAIT = re.compile(r"<t:(\d+):R> \(about (\d+) s\)")
# Limits for a hung bot, not speed goals: a busy 2-core machine made a 2 s demo take 30 s,
# and demos queue behind each other. (Speed goals: bench/demos.py.)
DEMO_WITHIN = 600.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Like the shared `fake_discord`, but with Discord's 3 s limit on the first callback."""
    async with FakeDiscord(heartbeat_interval_ms=200, interaction_deadline=3.0) as server:
        undo = patch_discord(server.api_base, server.gateway_url)
        try:
            yield server
        finally:
            undo()


@asynccontextmanager
async def bot_with_demos(
    fake: FakeDiscord, tmp_path: Path, runner: DemoRunner | None = None, **options: Any
) -> AsyncIterator[InterviewBot]:
    """The bot with a demo runner; the runner's workers start while the bot connects.

    Without the workers' warm-up (a tiny run of every demo): it would add about 1.5 s to
    every pool start, and these tests start five pools.
    """
    settings: dict[str, Any] = {
        "workers": 1,
        "timeout_s": DEMO_WITHIN,
        "queue_cap": 3,
        "cooldown_s": COOLDOWN_S,
        "warmup": False,
        **options,
    }
    runner = runner or DemoRunner(**settings)
    starting = asyncio.create_task(runner.start())
    try:
        async with running_bot(fake, tmp_path / "bot.sqlite3", demos=runner) as bot:
            await starting
            yield bot
    finally:
        starting.cancel()
        await runner.close()


async def finished(sent: SentInteraction, within: float = DEMO_WITHIN) -> MessageRecord:
    """The demo's reply once it carries its PNG (or says it failed)."""
    return await sent.wait_original(
        lambda m: bool(m.attachments) or m.content.startswith(("⚠️", "⏱️", "💥")),
        within=within,
    )


def progress_lines(message: MessageRecord) -> list[str]:
    """The contents the reply went through before its current one (edits, oldest first)."""
    return [str(version["content"]) for version in message.history if version["content"]]


def bounds(model: type[DemoParams], name: str) -> tuple[int, int]:
    schema = model.model_json_schema()["properties"][name]
    return int(schema["minimum"]), int(schema["maximum"])


async def test_demo_gan_defers_shows_progress_and_ends_with_png_and_caption(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    alice = fake.user("alice")
    li = fake.add_user("li", locale="zh-CN")
    async with bot_with_demos(fake, tmp_path):
        # The command tree: the spec's names, numeric bounds from the demos' own models.
        (demo,) = [c for c in fake.global_commands if c["name"] == "demo"]
        subs = {s["name"]: {o["name"]: o for o in s.get("options", [])} for s in demo["options"]}
        assert {name: set(options) for name, options in subs.items()} == {
            "gan": {"loss", "steps", "seed"},
            "rnn": {"cell", "steps", "seed"},
            "vanishing": {"activation", "layers", "seed"},
        }
        numeric: list[tuple[str, str, type[DemoParams], str]] = [
            ("gan", "steps", GanParams, "steps"),
            ("gan", "seed", GanParams, "seed"),
            ("rnn", "steps", RnnParams, "T"),
            ("rnn", "seed", RnnParams, "seed"),
            ("vanishing", "layers", VanishingParams, "layers"),
        ]
        for sub, option, model, field in numeric:
            got = (subs[sub][option]["min_value"], subs[sub][option]["max_value"])
            assert got == bounds(model, field), (sub, option)
        assert [c["value"] for c in subs["gan"]["loss"]["choices"]] == [
            "minimax",
            "nonsaturating",
            "wgan",
        ]
        assert {c["value"] for c in subs["vanishing"]["activation"]["choices"]} == {
            "sigmoid",
            "tanh",
            "relu",
            "all",
        }
        assert demo["description_localizations"]["zh-CN"].startswith("小演示")

        started = time.monotonic()
        sent = await alice.slash("demo gan", steps=300, seed=1)
        assert sent.response_type == 5  # deferred first: "InterviewBot is thinking…"
        assert sent.message is not None and not sent.message.ephemeral  # in the channel
        reply = await finished(sent)
        took = time.monotonic() - started

        png = reply.attachment("gan.png").data
        assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
        assert reply.content.startswith("GAN on ring (8 Gaussians), non-saturating loss: 300 steps")
        assert "modes" in reply.content and "D(G(z))" in reply.content
        assert not reply.ephemeral
        # Progress: the reply was edited about every quarter, in order, before the result.
        progress = progress_lines(reply)
        assert [line.split("  ")[0] for line in progress] == [
            f"⏳ Training the GAN… {pct}%" for pct in (25, 50, 75)
        ], progress

        # Another user, another language: the caption follows the user's Discord locale.
        chinese = await li.slash("demo vanishing", activation="sigmoid", layers=8, locale="zh-CN")
        zh_reply = await finished(chinese)
        assert zh_reply.attachment("vanishing.png").data.startswith(PNG_SIGNATURE)
        assert zh_reply.content.startswith("8 层 MLP")
        assert "sigmoid 的导数最大只有 1/4" in zh_reply.content
        fake.assert_clean()
    print(f"\n/demo gan steps=300: {took:.2f} s from the command to the PNG")


async def test_cooldown_and_bad_parameters_are_refused_ephemerally(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    alice, bob = fake.user("alice"), fake.user("bob")
    async with bot_with_demos(fake, tmp_path):
        first = await bob.slash("demo vanishing", layers=4)
        assert (await finished(first)).attachment("vanishing.png")

        asked = time.time()
        again = await bob.slash("demo rnn", steps=10)
        answered = time.time()
        assert again.response_type == 4  # answered at once, not deferred
        assert again.message is not None and again.message.ephemeral
        text = again.message.content
        match = WAIT.search(text)
        assert text.startswith("⏳ You ran a demo a moment ago") and match, text
        wait_s = int(match[2])
        assert 0 < wait_s <= COOLDOWN_S
        # The timestamp says the same, from a moment between the request and its answer.
        assert asked + wait_s - 1 <= int(match[1]) <= answered + wait_s + 1

        # Work over the GAN's cap (wgan = 6 passes a step): told what is wrong, at once...
        too_much = await alice.slash("demo gan", loss="wgan", steps=5000)
        assert too_much.response_type == 4 and too_much.message is not None
        assert too_much.message.ephemeral
        assert too_much.message.content.startswith("⚠️ invalid parameters for gan: too many steps")
        assert "use fewer steps" in too_much.message.content
        assert "with loss wgan and batch 128, at most 1,250 steps" in too_much.message.content
        # ... and a refused request costs no cooldown.
        ok = await alice.slash("demo rnn", cell="lstm", steps=10)
        assert ok.response_type == 5
        assert (await finished(ok)).attachment("rnn.png").data.startswith(PNG_SIGNATURE)

        public = [m for m in fake.channel_messages(include_ephemeral=False) if m.author.bot]
        assert len(public) == 2  # bob's first demo and alice's rnn; refusals stayed private
        fake.assert_clean()


class SeedsRunTestDemos(DemoRunner):
    """The real runner, except that some seeds run a test-only demo instead: 13 one that kills
    its worker, 14 one that would sleep for a minute, 15 one that only draws a tiny PNG."""

    async def run(
        self,
        user_key: str,
        demo: str,
        params: Mapping[str, Any] | DemoParams | None = None,
        progress: ProgressCallback | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> DemoResult:
        seed = params.get("seed") if isinstance(params, Mapping) else None
        if seed == 13:
            demo, params = "crash", {}
        elif seed == 14:
            demo, params = "sleep", {"seconds": 60}
        elif seed == 15:
            demo, params = "sleep", {}
        return await super().run(user_key, demo, params, progress, on_wait)


async def test_timeout_and_crash_end_in_an_edited_reply(fake: FakeDiscord, tmp_path: Path) -> None:
    alice, bob = fake.user("alice"), fake.user("bob")
    # The limit is 100x what the last request takes on an idle machine (40 ms, on a fresh
    # worker); the slow request would take a minute.
    runner = SeedsRunTestDemos(
        workers=1,
        timeout_s=4.0,
        queue_cap=2,
        cooldown_s=0.0,
        warmup=False,
        allow_test_demos=True,
    )
    async with bot_with_demos(fake, tmp_path, runner):
        slow = await alice.slash("demo gan", seed=14)
        assert slow.response_type == 5
        reply = await finished(slow)
        assert reply.content.startswith("⏱️ The demo took longer than 4 s and was stopped")
        assert not reply.attachments and not reply.ephemeral

        crash = await bob.slash("demo rnn", steps=10, seed=13)
        assert crash.response_type == 5
        reply = await finished(crash)
        assert reply.content.startswith("💥 The demo failed"), reply.content
        assert runner.restarts == 2  # the pool was replaced after each

        # The replacement pool serves the next request.
        after = await bob.slash("demo rnn", steps=10, seed=15)
        assert (await finished(after)).attachment("rnn.png").data.startswith(PNG_SIGNATURE)
        assert fake.unanswered_interactions() == []
        fake.assert_clean()


async def question_latencies(user: Any, seconds: float, every: float = 0.05) -> list[float]:
    """Ask /question at planned times, one after another; each latency runs from the planned
    time to the answer. The test shares the bot's event loop, so a blocked loop delays the
    asking as much as the answering: timing from the plan (as a user's clock would) counts
    both, where timing from the send would miss a block that falls between two samples."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    latencies: list[float] = []
    while (planned := start + len(latencies) * every) < start + seconds:
        await asyncio.sleep(max(0.0, planned - loop.time()))
        sent = await user.slash("question", topic="vanishing_gradients", kind="concept")
        assert sent.response_type == 4 and sent.message is not None
        latencies.append(loop.time() - planned)
    return latencies


async def test_ten_at_once_are_queued_or_refused_while_question_stays_fast(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    users = [fake.add_user(f"user{i}") for i in range(10)]
    alice = fake.user("alice")
    async with bot_with_demos(fake, tmp_path, workers=1, queue_cap=3):
        await question_latencies(alice, 0.2)  # first use: warm the path
        idle = await question_latencies(alice, 1.0)

        burst = time.monotonic()
        sent = await asyncio.gather(
            *(u.slash("demo gan", steps=600, seed=i, wait=False) for i, u in enumerate(users))
        )
        for interaction in sent:
            await interaction.wait_response(within=3.0)
        burst = time.monotonic() - burst
        assert fake.unanswered_interactions() == []
        refused = [s for s in sent if s.response_type == 4]
        accepted = [s for s in sent if s.response_type == 5]
        # While the accepted demos run (about 1 s each, one after another):
        busy = await question_latencies(alice, 2.0)
        assert any(s.message is not None and not s.message.attachments for s in accepted)
        assert len(refused) + len(accepted) == 10
        # One worker and three places in the queue: four run, six are told to come back.
        assert len(accepted) == 4, [s.response_type for s in sent]
        for interaction in refused:
            assert interaction.message is not None and interaction.message.ephemeral
            text = interaction.message.content
            assert text.startswith("🚦 The demo queue is full") and WAIT.search(text), text
        replies = [await finished(s) for s in accepted]
        for reply in replies:
            assert reply.attachment("gan.png").data.startswith(PNG_SIGNATURE)
        queued = [r for r in replies if any("In the queue" in c for c in progress_lines(r))]
        assert len(queued) == 3  # the ones that waited were told so
        assert fake.unanswered_interactions() == []
        fake.assert_clean()

    before, during = statistics.mean(idle), statistics.mean(busy)
    print(
        f"\nten /demo requests answered in {1000 * burst:.0f} ms; /question latency: idle mean "
        f"{1000 * before:.1f} ms (n={len(idle)}), while demos run {1000 * during:.1f} ms "
        f"(n={len(busy)}, max {1000 * max(busy):.1f} ms); ratio {during / before:.2f}"
    )
    # Generous, for a busy 2-core machine: the demos run in other processes, so the loop
    # hardly notices them. A demo run on the loop would hold /question for up to a second.
    # (The floor: the idle mean is a few ms, and the load on a shared machine can change
    # between the two measurements.)
    assert during < max(10 * before, 0.25)


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state, ppid, ...); None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def multiprocessing_children(pid: int) -> list[int]:
    """The demo workers (and multiprocessing's helper) that process ``pid`` started."""
    found = []
    for entry in Path("/proc").iterdir():
        stat = _proc_stat(int(entry.name)) if entry.name.isdigit() else None
        if stat is None or int(stat[1]) != pid:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing" in cmdline:
            found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"  # an unreaped zombie has finished


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
async def test_the_real_process_serves_demo_and_its_workers_die_with_it(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    """`python -m bot run` (the composition root's runner, default settings): a /demo sent
    right after start is deferred within 3 s and answered once the workers are warm; a bot
    killed with SIGKILL leaves no demo worker behind."""
    log = tmp_path / "bot.log"
    process = await start_bot(fake, tmp_path / "bot.sqlite3", log)
    workers: list[int] = []
    try:
        await fake.wait_ready(within=60)
        await fake.wait_for_commands("demo", within=30)
        sent = await fake.user("alice").slash("demo vanishing", layers=6, within=3)
        assert sent.response_type == 5
        reply = await finished(sent)
        assert reply.attachment("vanishing.png").data.startswith(PNG_SIGNATURE), reply.content
        workers = multiprocessing_children(process.pid)
        assert workers, "no demo worker process found"
        process.send_signal(signal.SIGKILL)
        await process.wait()
        for _ in range(300):  # the workers check on the bot twice a second
            if not any(running(pid) for pid in workers):
                break
            await asyncio.sleep(0.1)
        assert not any(running(pid) for pid in workers), "demo workers outlived the bot"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for pid in workers:  # never leave one behind, even when the test fails
            if running(pid):
                os.kill(pid, signal.SIGKILL)
    fake.assert_clean()
