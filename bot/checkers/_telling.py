"""`TellingFamily`: a family whose questions keep every classic mistake visible.

Real-valued answers can make a classic mistake agree with the key, or two mistakes agree with
each other, to the grading tolerance (z = 1/2 in a GRU, a StepLR epoch still in the same step,
a count of 1 raised to any power). Such a variant teaches nothing about that mistake, so these
families redraw until every named mistake is a wrong value of its own.
"""

from __future__ import annotations

from abc import abstractmethod
from random import Random
from typing import Any, TypeVar

from bot.checkers._base import Family, Params, Solved
from bot.core.models import Difficulty

P = TypeVar("P", bound=Params)

TRIES = 40


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
            solved = self.solve(self.parse(params))
            kept = distinct_mistakes(solved.expected, solved.mistakes, self.tolerance)
            if len(kept) == len(solved.mistakes):
                break
            params = self.draw_once(rng, level)
        return params

    def plausible(self, params: dict[str, Any]) -> bool:
        """A cheap first filter before the variant is worked out (default: every variant)."""
        return True

    def solve(self, p: P) -> Solved:
        key = p.model_dump_json()
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        solved = self.work(p)
        self._last = (key, solved)
        return solved
