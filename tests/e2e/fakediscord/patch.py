"""Point an unmodified discord.py 2.x at another Discord-compatible server."""

from __future__ import annotations

from collections.abc import Callable

import discord.gateway
import discord.http
import yarl


def patch_discord(api_base: str, gateway_url: str) -> Callable[[], None]:
    """Redirect discord.py's REST and gateway traffic; return a function that undoes it.

    It sets exactly two class attributes, both process-wide:

    ``discord.http.Route.BASE``
        ``Route.__init__`` builds every request URL as ``Route.BASE + path``. All
        REST traffic goes through ``Route``: ``HTTPClient.request`` (bot-token
        calls such as ``GET /users/@me`` at login and ``PUT .../commands`` on tree
        sync) and ``AsyncWebhookAdapter.request`` (interaction callbacks,
        follow-ups, ``@original`` edits). Example: ``"http://127.0.0.1:PORT/api/v10"``.
        (``discord.http._set_api_version`` would reset it to discord.com.)

    ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``
        ``Client.connect()`` calls ``DiscordWebSocket.from_client(gateway=None)``,
        which falls back to this URL -- a plain ``Client`` never asks
        ``GET /gateway/bot`` (only ``AutoShardedClient`` does). ``from_client``
        replaces the query with ``?v=10&encoding=json&compress=zlib-stream`` (or
        ``zstd-stream`` when ``zstandard`` is importable), keeping scheme, host and
        path. The client also falls back to it after a non-resumable
        INVALID_SESSION. RESUME goes to ``READY.resume_gateway_url`` instead, which
        the server controls. Example: ``"ws://127.0.0.1:PORT/gateway"``.
    """
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def undo() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return undo
