"""The REST plumbing: routing under ``/api/v10``, body parsing, auth, faults and the log.

Endpoint behaviour lives in :mod:`.endpoints`; this module only turns an aiohttp
request into a :class:`Call`, picks the handler, and records what happened.
Unknown routes get Discord's 404 body and are listed in ``RestApi.unknown_routes``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .faults import FaultInjector
from .models import Json
from .responses import json_response
from .state import FakeState, RequestRecord


class ApiError(Exception):
    """Raised by handlers; becomes a Discord-style JSON error response."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"message": message, "code": code}
        if errors:
            self.body["errors"] = errors

    @classmethod
    def from_body(cls, status: int, body: Json) -> ApiError:
        err = cls(status, int(body.get("code", 0)), str(body.get("message", "")))
        err.body = body
        return err


@dataclass
class UploadedFile:
    """A ``files[n]`` part of a multipart request."""

    index: int
    filename: str
    data: bytes
    content_type: str


@dataclass
class Call:
    """A parsed REST request, as handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[UploadedFile] = field(default_factory=list)

    def json(self) -> Json:
        if not isinstance(self.body, dict):
            raise ApiError(400, 50109, "The request body contains invalid JSON.")
        return self.body

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(404, 0, "404: Not Found") from None

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    auth: bool
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        pattern = ""
        for piece in re.split(r"(\{[^}]+\})", self.template):
            if piece.startswith("{"):
                name = piece[1:-1]
                # ``{..._id}`` placeholders are snowflakes, so ``/messages/pins`` is not a message.
                segment = "[0-9]+" if name.endswith("_id") else "[^/]+"
                pattern += f"(?P<{name}>{segment})"
            else:
                pattern += re.escape(piece)
        self.regex = re.compile(pattern)

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


FILE_FIELD = re.compile(r"files\[(\d+)\]")


async def parse_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    """JSON body, or multipart ``payload_json`` + ``files[n]`` (as discord.py sends files)."""
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[UploadedFile] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                raise ApiError(400, 50035, "Nested multipart bodies are not supported")
            name = part.name or ""
            if name == "payload_json":
                payload = json.loads(await part.text())
                continue
            match = FILE_FIELD.fullmatch(name)
            if match is None:
                raise ApiError(400, 50035, f"Unexpected multipart field {name!r}")
            content = bytes(await part.read(decode=False))
            files.append(
                UploadedFile(
                    index=int(match.group(1)),
                    filename=part.filename or f"file{match.group(1)}",
                    data=content,
                    content_type=part.headers.get("Content-Type", "application/octet-stream"),
                )
            )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None


class RestApi:
    """Dispatches ``/api/v10/...`` requests to registered handlers."""

    def __init__(self, state: FakeState, faults: FaultInjector, *, token: str) -> None:
        self._state = state
        self._faults = faults
        self._token = token
        self.routes: list[Route] = []
        self.unknown_routes: list[RequestRecord] = []

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        self.routes.append(Route(method, template, handler, auth))

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        path_known = False
        for route in self.routes:
            m = route.regex.fullmatch(path)
            if m is None:
                continue
            path_known = True
            if route.method == method:
                return route, m.groupdict(), True
        return None, {}, path_known

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        path = "/" + request.match_info.get("tail", "")
        route, params, path_known = self._match(method, path)
        body: Any = None
        fault = False
        try:
            body, files = await parse_body(request)
            injected = self._faults.take(method, path)
            if injected is not None:
                fault = True
                response: web.StreamResponse = injected
            elif route is None:
                status = 405 if path_known else 404
                raise ApiError(
                    status, 0, f"{status}: {'Method Not Allowed' if path_known else 'Not Found'}"
                )
            else:
                if route.auth and request.headers.get("Authorization") != f"Bot {self._token}":
                    raise ApiError(401, 0, "401: Unauthorized")
                call = Call(method, path, params, dict(request.query), body, files)
                response = await route.handler(call)
        except ApiError as err:
            response = json_response(err.body, err.status)
        record = RequestRecord(
            method=method,
            path=path,
            route=route.name if route else None,
            query=dict(request.query),
            status=response.status,
            body=body,
            fault=fault,
        )
        self._state.requests.append(record)
        if route is None and not fault:
            self.unknown_routes.append(record)
        self._state.changed()
        return response
