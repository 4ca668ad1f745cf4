"""Mock interviews' state: `Interview` (pydantic, saved as JSON after every event) with its pure
transitions, and what an event produces for the front end (`Step`, `Expired`, `Report`).
`bot.core.interview.Interviews` runs them against the store; see its docstring for the rules.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from bot.core.errors import DomainError
from bot.core.models import (
    AnswerOutcome,
    Difficulty,
    Grade,
    Kind,
    Lang,
    Localized,
    ServedQuestion,
)

MIN_QUESTIONS, MAX_QUESTIONS = 3, 20
MIN_MINUTES, MAX_MINUTES = 1, 10
Status = Literal["active", "finished", "stopped"]


class Outcome(StrEnum):
    CORRECT = "correct"
    INCORRECT = "incorrect"
    TIMEOUT = "timeout"
    UNANSWERED = "unanswered"  # the interview was stopped while it was open


class Item(BaseModel):
    """One question of the interview."""

    index: int
    instance_id: int
    ref: str
    topic: str
    kind: Kind
    difficulty: Difficulty
    follow_up: bool = False
    shown_at: datetime
    deadline: datetime
    answered_at: datetime | None = None
    outcome: Outcome | None = None
    hints: int = 0
    points: int = 0
    coverage: float | None = None  # an open question answered in writing: key points covered

    @property
    def open(self) -> bool:
        return self.outcome is None

    def seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.shown_at).total_seconds()


class Interview(BaseModel):
    """The whole state of one mock interview."""

    id: int = 0
    user_id: int
    server_id: int | None = None
    lang: Lang = "en"
    topics: list[str] = Field(default_factory=list)  # topic or area ids; empty: everything
    planned: int
    minutes: int
    status: Status = "active"
    started_at: datetime
    finished_at: datetime | None = None
    items: list[Item] = Field(default_factory=list)
    plan: list[tuple[Kind, Difficulty]] = Field(default_factory=list)  # main questions to come
    follow_ups: int = 0
    pending_follow_up: str | None = None  # the topic of a follow-up owed after a miss

    @property
    def current(self) -> Item | None:
        if self.status != "active" or not self.items or not self.items[-1].open:
            return None
        return self.items[-1]

    @property
    def asked(self) -> int:
        return sum(1 for item in self.items if not item.follow_up)

    @property
    def follow_up_cap(self) -> int:
        return self.planned // 2

    def number(self, item: Item) -> int:
        """The question's number: a follow-up has the number of the question it follows."""
        return sum(1 for i in self.items[: item.index + 1] if not i.follow_up)

    def expire(self, now: datetime) -> Item | None:
        """Time out the open question if its deadline has passed; returns it if so."""
        item = self.current
        if item is None or now < item.deadline:
            return None
        item.outcome = Outcome.TIMEOUT
        item.answered_at = item.deadline
        self._after_miss(item)
        return item

    def settle(self, item: Item, correct: bool, points: int, now: datetime) -> None:
        item.outcome = Outcome.CORRECT if correct else Outcome.INCORRECT
        item.answered_at = now
        item.points = points
        if not correct:
            self._after_miss(item)

    def _after_miss(self, item: Item) -> None:
        if not item.follow_up and self.follow_ups < self.follow_up_cap:
            self.pending_follow_up = item.topic

    def wants_next(self) -> bool:
        return (
            self.status == "active"
            and self.current is None
            and (self.pending_follow_up is not None or self.asked < self.planned)
        )

    def finish(self, now: datetime, stopped: bool) -> None:
        for item in self.items:
            if item.open:
                item.outcome = Outcome.UNANSWERED
        self.status = "stopped" if stopped else "finished"
        self.finished_at = now
        self.pending_follow_up = None


def make_plan(count: int, rng: random.Random) -> list[tuple[Kind, Difficulty]]:
    """A mix of kinds (roughly a third each) with difficulty rising through the interview."""
    kinds = [(Kind.MCQ, Kind.NUMERIC, Kind.OPEN)[i % 3] for i in range(count)]
    rng.shuffle(kinds)
    levels = list(Difficulty)
    return [(kind, levels[min(2, i * 3 // count)]) for i, kind in enumerate(kinds)]


class TopicScore(BaseModel):
    topic: str
    answered: int  # with a recorded answer, as `stats` counts them
    correct: int
    points: int
    timed_out: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


class Timing(BaseModel):
    """One question of the report: its label, how long it took and how it ended."""

    index: int
    number: int  # the question's number (a follow-up has the number of the one it follows)
    follow_up: bool
    ref: str
    seconds: float | None
    outcome: Outcome
    coverage: float | None = None  # an open question answered in writing: key points covered


class ReviewEntry(BaseModel):
    """What the interview scheduled for review, with what its readable title is made of (not
    the item's id): the topic, and the question's text (None for a numeric family, or a
    question no longer in the bank)."""

    item: str
    topic: str
    numeric: bool
    text: Localized | None = None
    due: datetime


class Report(BaseModel):
    interview_id: int
    status: Status
    questions: int  # main questions shown
    follow_ups: int  # follow-up questions shown
    answered: int  # with a recorded answer (right or wrong): what `stats` counts
    correct: int
    timed_out: int
    unanswered: int  # still open when the interview was stopped
    points: int
    hints: int
    by_topic: list[TopicScore]
    times: list[Timing]
    weakest: list[str]  # topics, weakest first (only those with a miss)
    review: list[ReviewEntry]  # what is now scheduled for review, soonest first


class Solution(BaseModel):
    """The answer to a question and how to get it, as the question has them: a numeric
    question's worked solution; an open question's model answer and key points; a multiple
    choice question's right letter and why."""

    kind: Kind
    worked: Localized | None = None
    model_answer: Localized | None = None
    key_points: list[Localized] = Field(default_factory=list)
    answer: str | None = None
    why: Localized | None = None


class Hint(BaseModel):
    """A hint for an open question: for a numeric one, the method to start from, without the
    answer (`NumericQuestion.hint`); for an open one, its first key point (`text`); for a
    multiple choice one, a wrong option ruled out (`ruled_out`, its letter) and why it is
    wrong (`text`)."""

    kind: Kind
    text: Localized | None = None
    ruled_out: str | None = None
    repeated: bool = False  # nothing new left to give: shown again, at no cost


class Expired(BaseModel):
    """A question whose time ran out (its `number`, whether it is a follow-up), with its
    solution; `late`: the answer that came after the deadline (not counted), and `grade` how it
    would have been graded if readable."""

    index: int
    number: int
    follow_up: bool = False
    solution: Solution | None = None
    late: bool = False
    grade: Grade | None = None


class Step(BaseModel):
    """What an interview event produced, for the front end to show."""

    interview: Interview
    outcome: AnswerOutcome | None = None  # the grade of the answer just given
    expired: list[Expired] = Field(default_factory=list)  # questions that ran out of time
    question: ServedQuestion | None = None  # the next question, if one was served
    item: Item | None = None  # its item (deadline, index)
    report: Report | None = None  # when the interview ended


class InterviewError(DomainError):
    """Something about the interview the user should be told (and nothing changed); `code`
    says what (the front ends word it: bot/shared/texts.py `interview_error`), `topics` which
    topics are unknown (`topic`)."""

    def __init__(self, code: str, *, topics: Sequence[str] = ()) -> None:
        super().__init__(code)
        self.code = code
        self.topics = list(topics)


class StaleSave(DomainError):
    """The interview was changed by another event at the same time; retry on fresh state."""
