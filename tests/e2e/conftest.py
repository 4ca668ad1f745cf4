"""Fixtures for the fake Discord server (see ``fakediscord``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .botdb import bot_db  # noqa: F401 (SQLite and PostgreSQL, for the tests that ask)
from .fakediscord import FakeDiscord, patch_discord


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A running FakeDiscord (default world, 200 ms heartbeats) with discord.py pointed at it.

    The patch is undone and the server stopped after the test.
    """
    async with FakeDiscord(heartbeat_interval_ms=200) as fake:
        undo = patch_discord(fake.api_base, fake.gateway_url)
        try:
            yield fake
        finally:
            undo()
