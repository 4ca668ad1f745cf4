"""`python -m bot run` on PostgreSQL with a password in BOT_DB: it serves, its DEBUG logs name
the database with the password hidden, and the password appears nowhere in them."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from .fakediscord import FakeDiscord
from .harness import button_ids, told
from .test_process import start_bot

pytestmark = pytest.mark.timeout(120)

PASSWORD = "pw-7Hq2"  # shorter than the log filter's 8-character minimum for plain secrets


async def test_run_on_postgres_never_logs_the_password(
    fake_discord: FakeDiscord, tmp_path: Path, pg_url: str
) -> None:
    # The test server trusts local connections: any password gets in, as a real one would.
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@", 1)
    log = tmp_path / "bot.log"
    process = await start_bot(fake_discord, url, log)  # BOT_LOG_LEVEL=DEBUG
    try:
        await fake_discord.wait_ready(within=60)
        await fake_discord.wait_for_commands("question", within=30)
        alice = fake_discord.user("alice")
        posted = await alice.slash("question", topic="vanishing_gradients", within=10)
        assert posted.message is not None
        answered = await alice.click(posted.message, button_ids(posted.message)[1], within=10)
        assert (await told(answered)).startswith("✅")
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text()
    assert code == 0, output
    assert "Traceback" not in output
    assert "database: PostgreSQL postgresql://postgres:***@127.0.0.1:" in output
    assert PASSWORD not in output
