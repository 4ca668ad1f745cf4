"""Shared helpers for the demo tests."""

from __future__ import annotations

import json
import re

from bot.demos.base import DemoResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_WALL_EN = re.compile(r"\d+(\.\d+)? s\b")
_WALL_ZH = re.compile(r"用时 \d+(\.\d+)? 秒")


def assert_png(data: bytes, min_bytes: int = 1000) -> None:
    assert data.startswith(PNG_SIGNATURE), data[:16]
    assert len(data) >= min_bytes


def assert_plain_figures(result: DemoResult) -> None:
    """Figures are plain JSON-able Python data (never numpy or torch scalars)."""
    for key, value in result.figures.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            assert type(v) in (int, float, str), (key, type(v))
    json.dumps(result.figures)


def caption_without_wall_time(result: DemoResult) -> dict[str, str]:
    """The captions with the (varying) wall time blanked out."""
    return {
        "en": _WALL_EN.sub("<t> s", result.caption["en"]),
        "zh": _WALL_ZH.sub("用时 <t> 秒", result.caption["zh"]),
    }


def assert_same_result(a: DemoResult, b: DemoResult) -> None:
    assert a.figures == b.figures
    assert a.png == b.png  # byte-identical
    assert caption_without_wall_time(a) == caption_without_wall_time(b)


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
