"""Point rules. They are written for the README too: keep them simple to state.

- A correct answer earns 1 point (easy), 2 (medium) or 3 (hard); a wrong one earns 0.
- Only a user's first readable answer to a posted question counts (double clicks, repeats: 0).
- The same question earns points at most once per user in `REWARD_WINDOW`: posting it again to
  farm points gives nothing. A question is what it asks (`models.question_key`): a written one
  is its bank id; a generated one is its family and parameters, whatever seed drew them.
  Answered wrong in `REWARD_WINDOW` (its solution shown), it pays nothing either.
- Open questions are self-rated: they count for accuracy and review, never for points.
- A hint in a mock interview costs `HINT_COST` points of that question (never below 0).
- In a quiz round a correct answer also earns a speed bonus (+2 in the first third of the time,
  +1 in the second: bot/core/quiz.py); the leaderboards take it under the same rules.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.models import Difficulty, Kind

BASE_POINTS: dict[Difficulty, int] = {
    Difficulty.EASY: 1,
    Difficulty.MEDIUM: 2,
    Difficulty.HARD: 3,
}
REWARD_WINDOW = timedelta(days=30)
HINT_COST = 1


def points_for(
    kind: Kind,
    difficulty: Difficulty,
    correct: bool,
    rewarded_recently: bool,
    hints: int = 0,
) -> int:
    if not correct or kind is Kind.OPEN or rewarded_recently:
        return 0
    return max(0, BASE_POINTS[difficulty] - HINT_COST * hints)
