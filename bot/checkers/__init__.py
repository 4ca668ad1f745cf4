"""Numeric question families: generators and answer keys computed with torch and NumPy.

The public API is `TorchCheckers` (the core `Checkers` protocol plus what the `check` command
needs), its errors, and `grade_numeric` for grading a typed answer against any expected value.
See docs/families.md for the families and their parameters, docs/numeric-checker.md for the
command line and the grading rules.
"""

from bot.checkers._base import UnknownFamilyError
from bot.checkers._registry import FamilyInfo, Problem, TorchCheckers
from bot.core.answers import Expected, KnownMistake, Tolerance, grade_numeric
from bot.core.errors import CheckRequestError

__all__ = [
    "CheckRequestError",
    "Expected",
    "FamilyInfo",
    "KnownMistake",
    "Problem",
    "Tolerance",
    "TorchCheckers",
    "UnknownFamilyError",
    "grade_numeric",
    "make_checkers",
]


def make_checkers(cache_size: int = 1024) -> TorchCheckers:
    """The checkers as the bot and the console run them, torch on one thread: their tensors are
    tiny, and torch's default (a thread per core, which spin a while after each call) would take
    the cores the event loop needs to reply."""
    import torch

    torch.set_num_threads(1)
    return TorchCheckers(cache_size=cache_size)
