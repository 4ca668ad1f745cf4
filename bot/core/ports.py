"""What the core needs from the outside world, as Protocols.

Storage (`bot/storage`), the numeric checkers (`bot/checkers`) and clocks implement these; the
composition root (`bot/app/wiring.py`) plugs them in. The core never imports those packages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, runtime_checkable

from bot.core.models import (
    AttemptRecord,
    DailySetting,
    Difficulty,
    Grade,
    HistoryEntry,
    InstanceCounts,
    Lang,
    LanguagePref,
    Leaderboard,
    NewInstance,
    NumericQuestion,
    Period,
    QuestionInstance,
    QuestionPack,
    ReviewCard,
    Scope,
    ServedQuestion,
    Server,
    TopicStats,
    User,
)
from bot.core.quiz import QuizAnswer, QuizQuestion, QuizRound, QuizSettings, RoundStatus


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Checkers(Protocol):
    """The numeric question families (see `docs/numeric-checker.md`).

    Seeds encode difficulty: `seed % 3` is the index of the difficulty (0 easy, 1 medium,
    2 hard), so `FAMILY:SEED` alone reproduces a question exactly. Calls may take a few
    milliseconds (torch); the engine runs them off the event loop.
    """

    def family_names(self) -> Sequence[str]: ...

    def generate(self, family: str, seed: int) -> NumericQuestion:
        """The question that (family, seed) generates. KeyError for an unknown family."""
        ...

    def grade(self, family: str, seed: int, answer: str) -> Grade:
        """Grade a free-text answer to the question (family, seed); never raises on bad text."""
        ...

    def check(
        self,
        family: str,
        params: Mapping[str, Any] | None = None,
        answer: str | None = None,
        *,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """The JSON result of `python -m bot check` (`docs/numeric-checker.md`), from `params`
        or from `seed`; `CheckRequestError` (bot.core.errors) for a request it cannot answer."""
        ...


def seed_for(difficulty: Difficulty, draw: int) -> int:
    """A seed of that difficulty from any non-negative number `draw`."""
    return draw * 3 + difficulty.level


def difficulty_of_seed(seed: int) -> Difficulty:
    return list(Difficulty)[seed % 3]


class UserStore(Protocol):
    """Users and servers (guilds), by platform and external id."""

    async def get_or_create_user(self, platform: str, external_id: str, name: str) -> User:
        """The user, created on first sight; a non-empty `name` that differs is stored."""
        ...

    async def get_user(self, user_id: int) -> User | None: ...

    async def find_user(self, platform: str, external_id: str) -> User | None: ...

    async def set_language(self, user_id: int, language: LanguagePref) -> User:
        """KeyError for an unknown user."""
        ...

    async def get_or_create_server(self, platform: str, external_id: str, name: str) -> Server: ...


class QuestionStore(Protocol):
    """Posted questions (instances) and what was served to whom."""

    async def create_instance(
        self,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        at: datetime,
        daily_day: date | None = None,
        served_to: int | None = None,
        *,
        instance_id: int | None = None,
        message_id: str | None = None,
    ) -> QuestionInstance:
        """Store a posted question; with `served_to`, also note it as served to that user
        (by `served.question_id`), in the same transaction. `instance_id`: one taken from
        `reserve_instance_ids` (else the next one is taken); if that row exists already it is
        returned unchanged."""
        ...

    async def create_instances(self, new: Sequence[NewInstance]) -> None:
        """Store posted questions numbered by `reserve_instance_ids`, with their served notes,
        in one transaction; rows already stored are left as they are."""
        ...

    async def reserve_instance_ids(self, count: int) -> int:
        """Reserve `count` consecutive question instance ids for this process; the first."""
        ...

    async def set_instance_message(self, instance_id: int, message_id: str) -> None: ...

    async def get_instance(self, instance_id: int) -> QuestionInstance | None: ...

    async def recent_refs(self, user_id: int, limit: int) -> list[str]:
        """Refs of the questions this user was served or answered most recently, newest first."""
        ...


@dataclass(frozen=True, slots=True)
class AnswerDraft:
    """An answer to record (`AttemptStore.record_answer`): who answered which posted
    question, and what the store reads for it before its points and review card are decided:
    the question keys whose reward window (from `since`) counts, and the review card's item."""

    instance_id: int
    user_id: int
    keys: tuple[str, ...]
    since: datetime
    item: str


@dataclass(frozen=True, slots=True)
class AnswerContext:
    """What the store read for an answer in its transaction: `answered`, as
    `keys_answered_since`; `card`, the user's review card of the item (None: a new one).
    `reviews_behind`: the store computes the review card itself, later (SQLite, with its
    leaderboard totals: bot/storage/totals.py), from the attempt's `review_rating`; `card`
    is not read then, and `decide` leaves `review` None."""

    answered: Mapping[str, bool]
    card: ReviewCard | None
    reviews_behind: bool = False


@dataclass(frozen=True, slots=True)
class RecordedAnswer:
    """What `record_answer` did. `attempt`: the attempt written (None: the user had answered
    already, `previous` says how; or another delivery of it won); `context`: what `decide`
    was given (None if it was not called); `counts`: the instance's, with this answer."""

    attempt: AttemptRecord | None
    previous: bool | None
    context: AnswerContext | None
    counts: InstanceCounts


# Decides the attempt to write from what the store read: quick, pure (no I/O, no await), as it
# may run on the database's thread inside the write transaction.
Decide = Callable[[AnswerContext], AttemptRecord]


class AttemptStore(Protocol):
    """Answers (attempts), the question keys they earned points for, and the review cards
    an answer schedules (written with the attempt, in its transaction)."""

    async def record_answer(self, draft: AnswerDraft, decide: Decide) -> RecordedAnswer:
        """Record a user's first answer to a posted question, durably, exactly once: read the
        previous answer (if there is one, write nothing), the reward window and the review
        card, call `decide` with them, and write its attempt with the leaderboard totals,
        review card and streak (as `record_attempt`, atomically); then the counts. Answers
        arriving together share their round trips and their commit (group commit): it returns
        only once its commit is on disk, and an answer that fails (its `decide`, its writes)
        fails alone, its neighbours are recorded. The exception of `decide` is raised to its
        caller. (A user's answers in one batch are decided one after the other, each on what
        the previous wrote.)"""
        ...

    async def record_attempt(self, attempt: AttemptRecord) -> bool:
        """Record the attempt, with its leaderboard totals, review card and streak; False (and
        nothing written) if this user already answered."""
        ...

    async def get_attempt_correct(self, instance_id: int, user_id: int) -> bool | None:
        """Whether this user's counted attempt on that instance was correct; None: none yet."""
        ...

    async def instance_counts(self, instance_id: int) -> InstanceCounts: ...

    async def recent_keys(self, user_id: int, since: datetime, limit: int) -> list[str]:
        """Keys (`AttemptRecord.question_key`) of the generated questions (those whose key is
        not their ref) this user answered since `since`, most recently answered first."""
        ...

    async def unkeyed_refs(self) -> list[str]:
        """The FAMILY:SEED refs of attempts stored before question keys existed (their key is
        still their ref)."""
        ...

    async def set_question_keys(self, keys: Mapping[str, str]) -> None:
        """Give those attempts their key: ref -> key."""
        ...

    async def keys_answered_since(
        self, user_id: int, keys: Sequence[str], since: datetime
    ) -> dict[str, bool]:
        """Which of these question keys this user answered (right or wrong) since `since`:
        key -> whether one of those answers earned points (an attempt stored before keys existed
        has its ref as key)."""
        ...

    async def topic_stats(self, user_id: int, server_id: int | None) -> list[TopicStats]: ...

    async def recent_attempts(self, user_id: int, limit: int) -> list[HistoryEntry]:
        """This user's last `limit` counted answers, everywhere, newest first."""
        ...

    async def get_card(self, user_id: int, item: str) -> ReviewCard | None: ...

    async def due_cards(self, user_id: int, now: datetime, limit: int) -> list[ReviewCard]:
        """Cards due by `now`, most overdue first."""
        ...

    async def count_due(self, user_id: int, now: datetime) -> int: ...


class BoardStore(Protocol):
    """Leaderboards (the totals `record_attempt` keeps), streaks, and resetting scores."""

    async def leaderboard(
        self,
        scope: Scope,
        period: Period,
        server_id: int | None,
        topic: str | None,
        user_id: int | None,
        limit: int,
        now: datetime,
    ) -> Leaderboard:
        """Top `limit` of a board (topic: a topic id, an area id or None for all) and the
        caller's own row; the period (week, month) is the one that contains `now`."""
        ...

    async def streak(self, user_id: int, server_id: int | None) -> tuple[int, int]:
        """(current, best) daily streak."""
        ...

    async def reset_scores(self, server_id: int, user_id: int | None) -> int:
        """Delete this server's attempts (of one user, or everyone's) and streaks, and
        recompute the totals; returns how many attempts."""
        ...


class InterviewStore(Protocol):
    """Mock interviews: a JSON state saved with optimistic versioning."""

    async def create_interview(
        self, user_id: int, server_id: int | None, state: str, at: datetime
    ) -> int: ...

    async def save_interview(
        self, interview_id: int, status: str, state: str, version: int, at: datetime
    ) -> bool:
        """Save unless someone saved since `version`; False (nothing written) then."""
        ...

    async def get_interview(self, interview_id: int) -> tuple[str, int] | None:
        """(state JSON, version)."""
        ...

    async def active_interview_id(self, user_id: int) -> int | None: ...

    async def active_interview_ids(self) -> list[int]: ...

    async def active_interviews(self) -> list[tuple[int, str | None]]:
        """Every interview still running, oldest first, with its server's external id (None
        outside servers): a process of a sharded bot sweeps only those of its shards."""
        ...


class DailyStore(Protocol):
    """Daily question settings per server and the question of each scope and day."""

    async def set_daily(
        self,
        server_id: int,
        channel_id: str,
        time_utc: str,
        user_id: int | None,
        lang: Lang | None = None,
    ) -> None: ...

    async def disable_daily(self, server_id: int) -> bool: ...

    async def daily_settings(self) -> list[DailySetting]: ...

    async def daily_instance(self, scope: str, day: date) -> QuestionInstance | None:
        """The question of that scope and day (see `create_daily`), if there is one yet."""
        ...

    async def create_daily(
        self,
        scope: str,
        day: date,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        at: datetime,
    ) -> QuestionInstance:
        """Store `served` as the question of that scope ('server:ID', 'user:ID') and day; if
        the day has one already (another process was first), that one, unchanged."""
        ...

    async def claim_daily(self, server_id: int, day: date) -> bool:
        """Mark the day's daily question as posted; False if it already was."""
        ...


class PackStore(Protocol):
    """Question packs imported by servers, with their validated questions."""

    async def add_pack(
        self,
        server_id: int,
        name: str,
        content: str,
        questions: int,
        user_id: int | None,
        at: datetime,
        bodies: Sequence[tuple[str, str]] = (),
        replaces: int | None = None,
    ) -> QuestionPack:
        """Store a pack and its validated questions (id and JSON of each, in order);
        DuplicatePackQuestion, and nothing stored, if another pack of the server has one of
        those ids. `replaces`: a pack of the server removed in the same transaction (a
        corrected file imported again), whose ids the new pack may reuse."""
        ...

    async def packs(self, server_id: int | None = None) -> list[QuestionPack]:
        """The imported packs of one server, or of every server (None)."""
        ...

    async def pack_bodies(self) -> dict[int, list[str]]:
        """The validated questions (JSON) of every pack that has them, by pack id, in order."""
        ...

    async def set_pack_bodies(
        self, pack_id: int, server_id: int, bodies: Sequence[tuple[str, str]]
    ) -> None:
        """Store the validated questions of a pack stored before they were kept;
        DuplicatePackQuestion, and nothing stored, on an id another pack has."""
        ...


@runtime_checkable
class HeartbeatStore(Protocol):
    """Where the bot records that its gateway connection is alive (`python -m bot health`)."""

    async def record_heartbeat(self, value: str, at: datetime, process: str = "") -> None:
        """The gateway is connected and ready at `at`; `value` says what was seen. `process`
        names the bot process (its shards, e.g. `shards 0-1/4`; "" for the one process that
        runs them all): each process keeps its own heartbeat."""
        ...

    async def last_heartbeat(self) -> tuple[str, datetime] | None:
        """(value, time) of the newest heartbeat of any process, None if none was recorded."""
        ...

    async def heartbeats(self) -> dict[str, tuple[str, datetime]]:
        """The last heartbeat of every process: process -> (value, time)."""
        ...


@runtime_checkable
class QuizStore(Protocol):
    """Quiz rounds (bot/core/quiz.py): rounds, their questions and answers. Each method is one
    transaction. Not (yet) part of `Store`: the composition root passes it on its own."""

    async def create_quiz_round(
        self,
        platform: str,
        channel_id: str,
        server_id: int | None,
        host_id: int,
        lang: Lang,
        settings: QuizSettings,
        at: datetime,
    ) -> tuple[QuizRound, bool]:
        """(the new round, True); or (the channel's running round, False) if it has one: one
        running round per channel, even when two processes start one at once."""
        ...

    async def get_quiz_round(self, round_id: int) -> QuizRound | None: ...

    async def running_quiz_round(self, channel_id: str) -> QuizRound | None: ...

    async def running_quiz_rounds(self) -> list[QuizRound]:
        """Every running round, oldest first (to resume them after a restart)."""
        ...

    async def add_quiz_question(self, question: QuizQuestion) -> QuizQuestion:
        """Store the question and make it its round's current one; if the round has that
        index already, the stored question, unchanged."""
        ...

    async def set_quiz_message(self, round_id: int, index: int, message_id: str) -> None: ...

    async def quiz_questions(self, round_id: int) -> list[QuizQuestion]:
        """The round's questions, by index."""
        ...

    async def quiz_question_by_instance(self, instance_id: int) -> QuizQuestion | None: ...

    async def add_quiz_answer(self, answer: QuizAnswer) -> bool:
        """Store a user's answer; False (nothing written) if they answered that question."""
        ...

    async def quiz_answers(self, round_id: int, index: int | None = None) -> list[QuizAnswer]:
        """The answers of the round (or of one question), by question, then as they came."""
        ...

    async def reveal_quiz_question(self, round_id: int, index: int, at: datetime) -> bool:
        """Mark the question revealed; False if it already was."""
        ...

    async def end_quiz_round(self, round_id: int, status: RoundStatus, at: datetime) -> bool:
        """End a running round (finished or stopped); False if it was not running."""
        ...


class Store(
    UserStore,
    QuestionStore,
    AttemptStore,
    BoardStore,
    InterviewStore,
    DailyStore,
    PackStore,
    HeartbeatStore,
    Protocol,
):
    """Every role at once: what a storage engine implements (SQLite, memory, ...). Each
    method is one transaction. Code that needs a few roles should ask for those."""
