"""Point discord.py at another REST base and gateway (`DISCORD_API_BASE`, `DISCORD_GATEWAY_URL`).

discord.py has no constructor option for either, so this sets the two class attributes it reads:
`discord.http.Route.BASE` (every REST URL is built from it) and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` (what `Client.connect()` opens; it does not
ask `GET /gateway` first). Resuming uses `resume_gateway_url` from READY, which the server sends.
"""

from __future__ import annotations

import discord.gateway
import discord.http
import yarl


def apply_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
