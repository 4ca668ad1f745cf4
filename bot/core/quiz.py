"""Quiz rounds: a live game for a channel (issue #17). The data of a round and its pure rules.

A round (`QuizRound`) asks `settings.questions` questions (`QuizQuestion`) one at a time in
one channel; everyone there answers (`QuizAnswer`, the first answer per user per question);
each question ends with a `Reveal`, the round with standings (`StandingRow`). The service that
runs rounds is `bot.core.services.quiz`; this module knows no storage, clock or front end.

Points in a round (written for the README too):
- a correct answer earns its difficulty's points (1 easy, 2 medium, 3 hard) plus a speed
  bonus: +2 when answered in the first third of the time, +1 in the second third;
- a wrong answer earns nothing; only a user's first answer to a question counts;
- the same points count in the leaderboards under the usual once-per-window rule (a question
  answered in `REWARD_WINDOW` pays nothing there, though it still scores in the round).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.core.models import Difficulty, Kind, Lang, Localized, ServedQuestion
from bot.core.scoring import BASE_POINTS
from bot.core.topics import topic_id

QUESTIONS_MIN, QUESTIONS_MAX, QUESTIONS_DEFAULT = 3, 30, 10
SECONDS_MIN, SECONDS_MAX, SECONDS_DEFAULT = 10, 120, 20
SPEED_BONUS_MAX = 2  # points for a correct answer in the first third of the time


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QuizKind(StrEnum):
    """Which questions a round asks: never open ones (they cannot be graded in a round)."""

    CONCEPT = "concept"  # multiple choice
    NUMERIC = "numeric"
    ANY = "any"  # multiple choice and numeric

    @property
    def kinds(self) -> frozenset[Kind]:
        return {
            QuizKind.CONCEPT: frozenset({Kind.MCQ}),
            QuizKind.NUMERIC: frozenset({Kind.NUMERIC}),
            QuizKind.ANY: frozenset({Kind.MCQ, Kind.NUMERIC}),
        }[self]


class RoundStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"  # every question was asked
    STOPPED = "stopped"  # ended early (`/quiz stop`)


class QuizSettings(_Frozen):
    """What the host asked for. `solo`: a round for the host alone (the console): each
    question is revealed as soon as the host has answered it."""

    topic: str | None = None  # a topic or an area id; None: every topic
    # Asked for: QUESTIONS_MIN to QUESTIONS_MAX (the front ends check); a round has fewer when
    # fewer distinct questions match (the service caps it: a written question is never asked
    # twice in a round), down to one.
    questions: int = Field(default=QUESTIONS_DEFAULT, ge=1, le=QUESTIONS_MAX)
    seconds: int = Field(default=SECONDS_DEFAULT, ge=SECONDS_MIN, le=SECONDS_MAX)
    kind: QuizKind = QuizKind.ANY
    difficulty: Difficulty | None = None
    solo: bool = False

    @field_validator("topic")
    @classmethod
    def _topic_id(cls, topic: str | None) -> str | None:
        """`CNN`, `vanishing-gradients`: the id (see `topics.topic_id`)."""
        return topic_id(topic) if topic is not None else None


class QuizRound(_Frozen):
    """A round, as stored. `current`: index of the question asked last (-1 before the first)."""

    id: int
    platform: str  # the host's platform ('discord', 'local'): which front end runs it
    channel_id: str
    server_id: int | None
    host_id: int
    lang: Lang  # public messages are in this language
    settings: QuizSettings
    status: RoundStatus = RoundStatus.RUNNING
    current: int = -1
    created_at: datetime
    ended_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.status is RoundStatus.RUNNING


class QuizQuestion(_Frozen):
    """A question of a round: a posted question instance (its buttons carry `instance_id`),
    open from `posted_at` until `deadline` or its reveal."""

    round_id: int
    index: int  # 0-based
    instance_id: int
    ref: str
    kind: Kind
    difficulty: Difficulty
    options: int = 0  # multiple choice: how many options (letters A...); numeric: 0
    posted_at: datetime
    deadline: datetime
    message_id: str | None = None  # the message showing it, once posted
    revealed_at: datetime | None = None

    @property
    def revealed(self) -> bool:
        return self.revealed_at is not None


class QuizAnswer(_Frozen):
    """A user's answer to a question of a round (the first one; there is one per user)."""

    round_id: int
    index: int
    user_id: int
    name: str  # the user's display name when they answered
    answer: str  # the letter or the value, as typed
    choice: str | None = None  # multiple choice: the letter read from it
    correct: bool
    points: int  # points in the round (see the module docstring)
    answered_at: datetime
    elapsed_ms: int  # from the question being posted to this answer

    @property
    def seconds(self) -> float:
        return self.elapsed_ms / 1000


class Reveal(_Frozen):
    """The end of one question: what the front end shows when it is revealed."""

    round_id: int
    index: int
    total: int  # questions in the round
    question: QuizQuestion
    served: ServedQuestion  # the question as shown (text, options)
    expected: str | None  # the right letter, or the right value for display
    explanation: Localized | None  # the bank's explanation, or the worked solution
    counts: dict[str, int]  # multiple choice: letter -> how many chose it (every option)
    answers: list[QuizAnswer]  # in the order they came
    last: bool  # no question follows (the round ends, or was stopped)

    @property
    def right(self) -> list[QuizAnswer]:
        """Who was right, fastest first."""
        return [a for a in self.answers if a.correct]

    @property
    def first(self) -> QuizAnswer | None:
        """The first correct answer, if any."""
        right = self.right
        return right[0] if right else None


class StandingRow(_Frozen):
    rank: int  # 1-based; equal points and accuracy and time share nothing: ranks are distinct
    user_id: int
    name: str
    points: int
    correct: int
    answered: int
    avg_seconds: float  # mean answer time over the questions answered

    @property
    def accuracy(self) -> float:
        """Correct answers over answers given (0 to 1)."""
        return self.correct / self.answered if self.answered else 0.0


class QuizStatus(_Frozen):
    """Where a round is (`/quiz status`)."""

    round: QuizRound
    question: QuizQuestion | None  # the question being asked or asked last
    answered: int  # answers to that question so far
    standings: list[StandingRow]


def speed_bonus(elapsed: timedelta, seconds: int) -> int:
    """+2 in the first third of the time, +1 in the second, 0 after."""
    third = seconds / 3
    taken = elapsed.total_seconds()
    if taken < third:
        return SPEED_BONUS_MAX
    if taken < 2 * third:
        return SPEED_BONUS_MAX - 1
    return 0


def round_points(difficulty: Difficulty, correct: bool, elapsed: timedelta, seconds: int) -> int:
    """Points a round gives an answer: difficulty points plus the speed bonus, if correct."""
    if not correct:
        return 0
    return BASE_POINTS[difficulty] + speed_bonus(elapsed, seconds)


def standings(answers: Iterable[QuizAnswer]) -> list[StandingRow]:
    """Everyone who answered, ranked: points, then correct answers, then the lower average
    time, then who answered first."""
    by_user: dict[int, list[QuizAnswer]] = {}
    for answer in answers:
        by_user.setdefault(answer.user_id, []).append(answer)
    rows: list[tuple[tuple[int, int, float, datetime], StandingRow]] = []
    for user_id, given in by_user.items():
        given.sort(key=lambda a: (a.index, a.answered_at))
        points = sum(a.points for a in given)
        correct = sum(1 for a in given if a.correct)
        avg = sum(a.seconds for a in given) / len(given)
        row = StandingRow(
            rank=0,
            user_id=user_id,
            name=given[-1].name,
            points=points,
            correct=correct,
            answered=len(given),
            avg_seconds=round(avg, 3),
        )
        rows.append(((-points, -correct, avg, given[0].answered_at), row))
    rows.sort(key=lambda pair: pair[0])
    return [row.model_copy(update={"rank": i + 1}) for i, (_, row) in enumerate(rows)]


def participants(answers: Sequence[QuizAnswer], before: int) -> set[int]:
    """Users who answered a question before index `before`."""
    return {a.user_id for a in answers if a.index < before}


T = TypeVar("T")


class ChannelMemory:
    """What the last rounds of each channel asked (bank ids, generated families): the next round
    asks the others first, as a question answered lately pays nothing on the leaderboard. In
    memory: a restart forgets it, which only makes the next round's choice less varied."""

    def __init__(self, size: int = 200) -> None:
        self._size = size
        self._asked: dict[str, deque[str]] = {}

    def asked(self, channel: str, key: str) -> None:
        self._asked.setdefault(channel, deque(maxlen=self._size)).append(key)

    def unplayed_first(self, channel: str, choices: list[T], key: Callable[[T], str]) -> list[T]:
        """The choices the channel's last rounds did not ask; all of them if none is left."""
        lately = self._asked.get(channel, ())
        return [c for c in choices if key(c) not in lately] or choices
