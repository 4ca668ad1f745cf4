"""Numeric question families: generators and answer keys computed with torch and NumPy.

The public API is `TorchCheckers` (the core `Checkers` protocol plus what the `check` command
needs), its errors, and `grade_numeric` for grading a typed answer against any expected value.
See docs/families.md for the families and their parameters, docs/numeric-checker.md for the
command line and the grading rules.
"""

from bot.checkers._base import CheckRequestError, UnknownFamilyError
from bot.checkers._registry import FamilyInfo, Problem, TorchCheckers
from bot.core.answers import Expected, KnownMistake, Tolerance, grade_numeric

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
]
