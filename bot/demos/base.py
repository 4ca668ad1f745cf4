"""Shared, light-weight types for the mini demos.

This module must stay cheap to import: the bot process (which runs the asyncio
event loop) imports it, and it must never pull in torch or matplotlib. Those are
imported only by the demo modules themselves, which run inside the worker
processes of :class:`bot.demos.runner.DemoRunner` (or directly, in tests and
benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = [
    "DemoError",
    "DemoParams",
    "DemoParamsError",
    "DemoResult",
    "FigureValue",
    "ProgressFn",
    "parse_params",
]

#: A value in :attr:`DemoResult.figures`: plain Python data only (picklable and
#: JSON-friendly; never numpy or torch scalars).
FigureValue = float | int | str | list[float] | list[int] | list[str]

#: Progress callback used inside a demo: called with a fraction in ``[0, 1]``.
ProgressFn = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What every demo returns: one PNG, the numbers it shows, and a caption.

    ``png`` and ``figures`` are deterministic for a given seed (same bytes on the
    same machine). ``wall_s`` is the measured wall time of the run and is the one
    part that varies between runs, which is why it is kept out of ``figures`` and
    out of equality; the captions mention it.
    """

    png: bytes
    figures: dict[str, FigureValue]
    caption: dict[str, str]
    wall_s: float = field(default=0.0, compare=False)


class DemoParams(BaseModel):
    """Base class of the demos' parameter models: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DemoError(Exception):
    """Base class of every error a demo request can end in."""


class DemoParamsError(DemoError, ValueError):
    """Unknown demo or invalid parameters; ``str(err)`` is a readable message, ``zh`` the same
    in Chinese where one was written (validation ``errors`` are translated where shown)."""

    def __init__(
        self, message: str, errors: list[dict[str, Any]] | None = None, *, zh: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors: list[dict[str, Any]] = errors or []
        self.zh = zh


P = TypeVar("P", bound=DemoParams)


def _describe(err: Mapping[str, Any]) -> str:
    loc = ".".join(str(part) for part in err.get("loc", ()))
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    if not loc:  # a check across several fields
        return msg
    if err.get("type") == "extra_forbidden":
        return f"{loc}: unknown parameter"
    if "input" in err and err.get("type") != "missing":
        return f"{loc}: {msg} (got {err['input']!r})"
    return f"{loc}: {msg}"


def parse_params(model: type[P], raw: Mapping[str, Any] | P | None, demo: str = "") -> P:
    """Validate ``raw`` against ``model``; raise :class:`DemoParamsError` if invalid.

    The message lists every problem, e.g.
    ``"invalid parameters for gan: steps: Input should be less than or equal to 5000 (got 9000)"``.
    """
    if isinstance(raw, model):
        return raw
    if raw is not None and not isinstance(raw, Mapping):
        raise DemoParamsError(f"parameters must be a mapping, got {type(raw).__name__}")
    try:
        return model.model_validate(dict(raw or {}))
    except ValidationError as exc:
        errors = [dict(e) for e in exc.errors(include_url=False)]
        what = f" for {demo}" if demo else ""
        detail = "; ".join(_describe(e) for e in errors)
        raise DemoParamsError(f"invalid parameters{what}: {detail}", errors) from exc
