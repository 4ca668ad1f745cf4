"""`TellingFamily`: a family whose questions keep every classic mistake visible.

Real-valued answers can make a classic mistake agree with the key, or two mistakes agree with
each other, to the grading tolerance (z = 1/2 in a GRU, a StepLR epoch still in the same step,
a count of 1 raised to any power). Such a variant teaches nothing about that mistake, so these
families redraw until every named mistake is a wrong value of its own.

Working a variant out with torch costs about a millisecond, so a family may also give `quick`:
the key and the mistakes' values by the closed forms in plain floats. A variant whose quick
values blur a mistake, with a margin far above their rounding errors, is redrawn without the
torch work; any other is worked out with torch as before, whose values decide. The variants
drawn are therefore the same with or without `quick` (tests/checkers/test_telling_quick.py).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping
from random import Random
from typing import Any, TypeVar

from bot.checkers._base import Family, Params, Solved
from bot.core.answers import Tolerance
from bot.core.models import Difficulty

P = TypeVar("P", bound=Params)

TRIES = 40
Value = float | list[float]
MARGIN = 0.999
"""`quick` values this close (times the tolerance) blur a mistake whatever their rounding."""


class TellingFamily(Family[P]):
    """Subclasses implement `draw_once` and `work` instead of `draw` and `solve`."""

    def __init__(self) -> None:
        # The variant just drawn is solved again right away by the registry: remember it.
        self._last: tuple[str, Solved] | None = None

    @abstractmethod
    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        """One candidate variant of that difficulty."""

    @abstractmethod
    def work(self, p: P) -> Solved:
        """The answer key, solution and mistakes (what `solve` returns)."""

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        from bot.checkers._registry import distinct_mistakes  # the registry imports us

        params = self.draw_once(rng, level)
        for _ in range(TRIES):
            if not self.plausible(params):
                params = self.draw_once(rng, level)
                continue
            validated = self.parse(params)
            if self.quickly_blurred(validated):
                params = self.draw_once(rng, level)
                continue
            solved = self.solve(validated)
            kept = distinct_mistakes(solved.expected, solved.mistakes, self.tolerance)
            if len(kept) == len(solved.mistakes):
                break
            params = self.draw_once(rng, level)
        return params

    def plausible(self, params: dict[str, Any]) -> bool:
        """A cheap first filter before the variant is worked out (default: every variant)."""
        return True

    def quick(self, p: P) -> tuple[Value, Mapping[str, Value]] | None:
        """The key and each named mistake's value (by id) in plain floats, without torch; None
        where the family has no such shortcut for `p` (default). A mistake may be left out, but
        every value given must be that of a mistake `work` names for `p`."""
        del p
        return None

    def quickly_blurred(self, p: P) -> bool:
        """Whether the quick values show a mistake hidden: equal to the key, or to another
        mistake's value, within `MARGIN` times the grading tolerance. Torch's values differ from
        the quick ones by rounding (~1e-15, a millionth of that margin), so they hide the mistake
        too, and the variant can be redrawn without being worked out."""
        try:
            quick = self.quick(p)
        except (ArithmeticError, ValueError):
            return False
        if quick is None:
            return False
        key, values = quick
        return blurred(key, values.values(), self.tolerance)

    def solve(self, p: P) -> Solved:
        key = p.model_dump_json()
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        solved = self.work(p)
        self._last = (key, solved)
        return solved


def blurred(key: Value, values: Iterable[Value], tolerance: Tolerance) -> bool:
    """Whether a value is within `MARGIN` times `tolerance` of the key or of an earlier value
    (the grader's comparison, `bot.core.answers.matches`, with the narrower tolerance: lists
    element by element)."""
    narrower = Tolerance(rel=tolerance.rel * MARGIN, abs=tolerance.abs * MARGIN)
    seen = [key]
    for value in values:
        if any(_near(value, other, narrower) for other in seen):
            return True
        seen.append(value)
    return False


def _near(value: Value, other: Value, tolerance: Tolerance) -> bool:
    if isinstance(value, list) or isinstance(other, list):
        if not isinstance(value, list) or not isinstance(other, list) or len(value) != len(other):
            return False  # (a malformed mistake: left to the torch check)
        return all(_near(v, o, tolerance) for v, o in zip(value, other, strict=True))
    return abs(value - other) <= max(tolerance.rel * abs(other), tolerance.abs)
