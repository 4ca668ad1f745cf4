"""Response helpers shared by the REST layer, the fault injector and the CDN."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with ``Content-Type: application/json`` exactly -- discord.py's ``json_or_text``
    compares the header verbatim, so aiohttp's default ``; charset=utf-8`` would make
    it hand the raw text to the caller."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(
        body=body, status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


def ok(data: Any, status: int = 200) -> web.Response:
    return json_response(data, status)


def no_content() -> web.Response:
    return web.Response(status=204)
