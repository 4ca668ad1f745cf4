"""Scripted REST failures: make the next N matching requests return 429 or 5xx.

A 429 carries everything discord.py looks at before it retries: the JSON body with
``retry_after`` and ``global``, ``Retry-After`` and ``X-RateLimit-*`` headers, and a
``Via`` header -- without ``Via`` discord.py assumes a Cloudflare ban and raises
instead of retrying (``HTTPClient.request`` and ``AsyncWebhookAdapter.request``).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

from aiohttp import web

from .responses import json_response


@dataclass
class Fault:
    """One scripted failure rule; ``hits`` counts the requests it answered."""

    method: str | None
    pattern: re.Pattern[str]
    status: int
    times: int
    retry_after: float
    is_global: bool
    hits: int = 0
    description: str = field(default="")

    @property
    def remaining(self) -> int:
        return self.times - self.hits

    def matches(self, method: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.pattern.fullmatch(path) is not None

    def response(self) -> web.Response:
        self.hits += 1
        if self.status == 429:
            body = {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, math.ceil(self.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
                "X-RateLimit-Bucket": "fake-bucket-" + str(abs(hash(self.pattern.pattern)) % 10**8),
                "X-RateLimit-Scope": "shared" if not self.is_global else "global",
            }
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
            return json_response(body, 429, headers)
        body = {"message": f"{self.status}: Injected server error", "code": 0}
        return json_response(body, self.status)


def _compile(route: str) -> tuple[str | None, re.Pattern[str]]:
    """``"POST /channels/{channel_id}/messages"`` -> ("POST", regex over the API path)."""
    method: str | None = None
    parts = route.strip().split(maxsplit=1)
    if len(parts) == 2 and parts[0].isupper():
        method, route = parts[0], parts[1]
    if not route.startswith("/"):
        route = "/" + route
    regex = ""
    for piece in re.split(r"(\{[^}]+\})", route):
        regex += "[^/]+" if piece.startswith("{") else re.escape(piece)
    return method, re.compile(regex)


class FaultInjector:
    """Holds fault rules; the REST layer asks :meth:`take` before handling a request."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def fail_next(
        self,
        route: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: float = 0.1,
        is_global: bool = False,
    ) -> Fault:
        """Make the next ``times`` requests to ``route`` fail with ``status``.

        ``route`` is ``"[METHOD] /path"`` relative to ``/api/v10``, with ``{placeholders}``
        matching one path segment, e.g. ``"POST /interactions/{id}/{token}/callback"``.
        """
        method, pattern = _compile(route)
        fault = Fault(
            method=method,
            pattern=pattern,
            status=status,
            times=times,
            retry_after=retry_after,
            is_global=is_global,
            description=route,
        )
        self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> web.Response | None:
        for fault in self.faults:
            if fault.matches(method, path):
                return fault.response()
        return None

    def clear(self) -> None:
        self.faults.clear()
