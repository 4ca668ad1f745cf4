"""Columns that line up in a terminal in English and Chinese: a Chinese character takes two
cells (East Asian Wide or Fullwidth), so padding counts cells, not characters."""

from __future__ import annotations

import unicodedata


def cells(text: str) -> int:
    """The terminal cells `text` takes."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, size: int) -> str:
    """`text` followed by spaces up to `size` cells (as is if it is wider)."""
    return text + " " * max(0, size - cells(text))


def right(text: str, size: int) -> str:
    """`text` after spaces up to `size` cells (as is if it is wider)."""
    return " " * max(0, size - cells(text)) + text


def column(texts: list[str], least: int = 0) -> int:
    """The width (cells) of a column holding `texts`, at least `least`."""
    return max([least, *(cells(text) for text in texts)])
