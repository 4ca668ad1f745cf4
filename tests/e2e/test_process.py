"""The real `python -m bot run` process against the fake Discord: start, answer, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from .fakediscord import FakeDiscord
from .harness import FIXTURE_BANK, button_ids, told

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]


def bot_env(fake: FakeDiscord, db: Path | str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    env.update(
        DISCORD_TOKEN=fake.token,
        DISCORD_API_BASE=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        BOT_DB=str(db),
        BOT_CONTENT=str(FIXTURE_BANK),
        BOT_LOG_LEVEL="DEBUG",
    )
    return env


async def start_bot(fake: FakeDiscord, db: Path | str, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=bot_env(fake, db),
            stdout=sink,
            stderr=sink,
        )


async def test_run_serves_and_stops_cleanly_on_sigterm(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    process = await start_bot(fake_discord, tmp_path / "bot.sqlite3", log)
    try:
        await fake_discord.wait_ready(within=60)
        await fake_discord.wait_for_commands("question", within=30)
        alice = fake_discord.user("alice")
        # The first interaction after start is answered well within Discord's 3 s.
        posted = await alice.slash("question", topic="vanishing_gradients", within=3)
        assert posted.message is not None
        answered = await alice.click(posted.message, button_ids(posted.message)[1], within=3)
        assert (await told(answered)).startswith("✅")
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text()
    assert code == 0, output
    assert "Traceback" not in output
    assert fake_discord.token not in output  # the token is never logged, even at DEBUG
    fake_discord.assert_clean()


async def test_run_without_token_says_how_to_set_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,  # no .env here
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0], lines
    assert out == b""
