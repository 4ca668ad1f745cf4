"""Helpers for the tests that recompute what written questions state (`test_*_facts.py`)."""

from __future__ import annotations

from pathlib import Path

from bot.core.bank import Bank, load_bank
from bot.core.models import LETTERS, Localized, Question

CONTENT = Path(__file__).resolve().parents[2] / "content"


def load(*names: str) -> Bank:
    """The questions of these content files, which must load without a problem."""
    loaded = load_bank([CONTENT / name for name in names])
    assert not loaded.problems, "\n".join(str(p) for p in loaded.problems)
    return loaded


def right_option(question: Question) -> str:
    assert question.answer is not None
    return question.choices[LETTERS.index(question.answer)].en


def texts(value: Localized | None) -> str:
    """Both languages of a text, to search for a figure either one states."""
    assert value is not None
    return value.en + "\n" + value.zh


def option_why(question: Question, en: str) -> str:
    choice = next(c for c in question.choices if c.en == en)
    return texts(choice.why)
