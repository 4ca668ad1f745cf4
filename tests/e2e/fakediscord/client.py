"""Run a real discord.py client against a :class:`~.driver.FakeDiscord` inside a test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar

import discord
import discord.http

if TYPE_CHECKING:
    from .driver import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.asynccontextmanager
async def running_client(
    client: ClientT,
    fake: FakeDiscord,
    *,
    ready_timeout: float = 30.0,  # a limit for a hung start, not a speed goal
    wait_until_ready: bool = False,
) -> AsyncIterator[ClientT]:
    """Start ``client.start(fake.token)`` as a task, wait for the gateway handshake, and
    close the client (re-raising anything ``start`` raised) on exit.

    ``patch_discord`` must already be in effect (the ``fake_discord`` fixture does it).
    With ``wait_until_ready`` it also waits for discord.py's own ``on_ready``, which
    comes ``guild_ready_timeout`` seconds (default 2) after the last GUILD_CREATE.
    """
    if discord.http.Route.BASE != fake.api_base:
        raise AssertionError(
            f"discord.http.Route.BASE is {discord.http.Route.BASE!r}, not {fake.api_base!r}: "
            "call patch_discord(fake.api_base, fake.gateway_url) first"
        )
    task = asyncio.create_task(client.start(fake.token), name="discord-client")
    ready = asyncio.create_task(fake.wait_ready(within=ready_timeout))
    try:
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            exc = task.exception()
            raise AssertionError(f"discord client stopped before the gateway was ready: {exc!r}")
        await ready
        if wait_until_ready:
            await asyncio.wait_for(client.wait_until_ready(), ready_timeout)
        yield client
    finally:
        ready.cancel()
        with contextlib.suppress(asyncio.CancelledError, AssertionError):
            await ready
        await client.close()
        done, _ = await asyncio.wait({task}, timeout=30.0)
        if not done:
            task.cancel()
            raise AssertionError("discord client did not stop within 30 s of close()")
        if task.exception() is not None:
            raise AssertionError(
                f"client.start() failed: {task.exception()!r}"
            ) from task.exception()
