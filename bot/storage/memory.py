"""`MemoryStore`: the `Store` port in memory, for tests of the core and for trying things out.

It keeps what SQLite keeps, in dicts, and passes the same contract suite
(`tests/storage/contract/`). Each method runs without an `await` in the middle, so on one event
loop it is as atomic as a transaction. Nothing persists; no SQL, no aiosqlite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from bot.core.boards import (
    GLOBAL_BOARD,
    TotalKey,
    next_streak,
    period_key,
    streak_alive_since,
    streak_server,
    topic_key,
    total_keys,
)
from bot.core.models import (
    AttemptRecord,
    DailySetting,
    HistoryEntry,
    InstanceCounts,
    Lang,
    LanguagePref,
    Leaderboard,
    LeaderboardEntry,
    NewInstance,
    Period,
    QuestionInstance,
    ReviewCard,
    Scope,
    ServedQuestion,
    Server,
    TopicStats,
    User,
)
from bot.core.ports import (
    AnswerContext,
    AnswerDraft,
    Clock,
    Decide,
    RecordedAnswer,
    Store,
    SystemClock,
)
from bot.storage.memory_packs import MemoryPacks
from bot.storage.memory_quiz import MemoryQuiz


def _utc(at: datetime) -> datetime:
    """A time as stored: in UTC; a naive one is refused, as the SQLite store refuses it."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: the core works in UTC only")
    return at.astimezone(UTC)


@dataclass
class _Attempt:
    id: int
    record: AttemptRecord
    key: str  # question_key, or the ref until keys are set

    @property
    def at(self) -> datetime:
        return self.record.at


@dataclass
class _Interview:
    user_id: int
    status: str
    state: str
    version: int
    server_id: int | None = None


@dataclass
class _Daily:
    channel_id: str
    time_utc: str
    created_by: int | None
    last_day: date | None = None
    lang: Lang | None = None


@dataclass
class _Streak:
    current: int
    best: int
    last_day: date | None


class MemoryStore(MemoryQuiz, MemoryPacks):
    """Every role of `Store`, in memory (quiz rounds too: the `QuizStore` role)."""

    def __init__(self, clock: Clock | None = None) -> None:
        MemoryPacks.__init__(self)
        self.clock = clock or SystemClock()
        self._users: dict[int, User] = {}
        self._servers: dict[int, Server] = {}
        self._instances: dict[int, QuestionInstance] = {}
        self._next_instance = 1
        self._served: dict[tuple[int, str], datetime] = {}  # (user, bank id) -> served at
        self._attempts: dict[tuple[int, int], _Attempt] = {}  # (instance, user)
        self._attempt_ids = 0
        self._cards: dict[tuple[int, str], ReviewCard] = {}
        self._streaks: dict[tuple[int, int], _Streak] = {}  # (user, streak server)
        self._interviews: dict[int, _Interview] = {}
        self._dailies: dict[int, _Daily] = {}  # by server id
        self._daily_questions: dict[tuple[str, date], int] = {}  # (scope, day) -> instance id
        self._heartbeats: dict[str, tuple[str, datetime]] = {}  # process -> (value, time)

    # users and servers

    async def get_or_create_user(self, platform: str, external_id: str, name: str) -> User:
        found = await self.find_user(platform, external_id)
        if found is None:
            found = User(
                id=len(self._users) + 1, platform=platform, external_id=external_id, name=name
            )
        elif name and found.name != name:
            found = found.model_copy(update={"name": name})
        self._users[found.id] = found
        return found

    async def get_user(self, user_id: int) -> User | None:
        return self._users.get(user_id)

    async def find_user(self, platform: str, external_id: str) -> User | None:
        return next(
            (
                u
                for u in self._users.values()
                if u.platform == platform and u.external_id == external_id
            ),
            None,
        )

    async def set_language(self, user_id: int, language: LanguagePref) -> User:
        user = self._users[user_id].model_copy(update={"language": language})  # KeyError
        self._users[user_id] = user
        return user

    async def get_or_create_server(self, platform: str, external_id: str, name: str) -> Server:
        found = next(
            (
                s
                for s in self._servers.values()
                if s.platform == platform and s.external_id == external_id
            ),
            None,
        )
        if found is None:
            found = Server(
                id=len(self._servers) + 1, platform=platform, external_id=external_id, name=name
            )
        elif name and found.name != name:
            found = found.model_copy(update={"name": name})
        self._servers[found.id] = found
        return found

    # questions

    def _reserve(self, count: int) -> int:
        first = self._next_instance
        self._next_instance += count
        return first

    def _serve(self, user_id: int, question_id: str, at: datetime, only_newer: bool) -> None:
        before = self._served.get((user_id, question_id))
        if not only_newer or before is None or at > before:
            self._served[(user_id, question_id)] = _utc(at)

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
        if instance_id is None:
            instance_id = self._reserve(1)
        else:  # e.g. a restore: the counter must not hand this id out later
            self._next_instance = max(self._next_instance, instance_id + 1)
        if instance_id in self._instances:  # stored already: keep it
            return self._instances[instance_id]
        instance = QuestionInstance.of(
            served, instance_id, server_id, channel_id, lang, _utc(at), message_id, daily_day
        )
        self._instances[instance_id] = instance
        if served_to is not None and served.question_id is not None:
            self._serve(served_to, served.question_id, at, only_newer=False)
        return instance

    async def create_instances(self, new: Sequence[NewInstance]) -> None:
        for n in new:
            self._instances.setdefault(
                n.instance.id,
                n.instance.model_copy(update={"created_at": _utc(n.instance.created_at)}),
            )
        for n in new:
            if n.served_to is not None and n.question_id is not None:
                self._serve(n.served_to, n.question_id, n.instance.created_at, only_newer=True)

    async def reserve_instance_ids(self, count: int) -> int:
        return self._reserve(count)

    async def set_instance_message(self, instance_id: int, message_id: str) -> None:
        if instance_id in self._instances:
            self._instances[instance_id] = self._instances[instance_id].model_copy(
                update={"message_id": message_id}
            )

    async def get_instance(self, instance_id: int) -> QuestionInstance | None:
        return self._instances.get(instance_id)

    async def recent_refs(self, user_id: int, limit: int) -> list[str]:
        mine = [(at, ref) for (user, ref), at in self._served.items() if user == user_id]
        return [ref for _, ref in sorted(mine, key=lambda p: p[0], reverse=True)[:limit]]

    # attempts

    async def record_answer(self, draft: AnswerDraft, decide: Decide) -> RecordedAnswer:
        # No await between the read and the write: nothing else runs in between.
        previous = await self.get_attempt_correct(draft.instance_id, draft.user_id)
        attempt: AttemptRecord | None = None
        context: AnswerContext | None = None
        if previous is None:
            context = AnswerContext(
                answered=await self.keys_answered_since(draft.user_id, draft.keys, draft.since),
                card=self._cards.get((draft.user_id, draft.item)),
            )
            attempt = decide(context)
            if (attempt.instance_id, attempt.user_id) != (draft.instance_id, draft.user_id):
                raise ValueError("decide() answered another question or user than the draft")
            if not await self.record_attempt(attempt):
                attempt = None
        counts = await self.instance_counts(draft.instance_id)
        return RecordedAnswer(attempt=attempt, previous=previous, context=context, counts=counts)

    async def record_attempt(self, attempt: AttemptRecord) -> bool:
        slot = (attempt.instance_id, attempt.user_id)
        if slot in self._attempts:
            return False
        _utc(attempt.at)
        self._attempt_ids += 1
        self._attempts[slot] = _Attempt(
            self._attempt_ids, attempt, attempt.question_key or attempt.ref
        )
        if attempt.review is not None:
            self._cards[(attempt.user_id, attempt.review.item)] = attempt.review
        if attempt.streak_day is not None and attempt.correct:
            key = (attempt.user_id, streak_server(attempt.server_id))
            now = self._streaks.get(key, _Streak(0, 0, None))
            grown = next_streak(now.current, now.best, now.last_day, attempt.streak_day)
            if grown is not None:
                self._streaks[key] = _Streak(*grown, attempt.streak_day)
        return True

    def _of_user(self, user_id: int) -> list[_Attempt]:
        return [a for a in self._attempts.values() if a.record.user_id == user_id]

    async def get_attempt_correct(self, instance_id: int, user_id: int) -> bool | None:
        found = self._attempts.get((instance_id, user_id))
        return found.record.correct if found else None

    async def instance_counts(self, instance_id: int) -> InstanceCounts:
        on = [a for a in self._attempts.values() if a.record.instance_id == instance_id]
        return InstanceCounts(answered=len(on), correct=sum(a.record.correct for a in on))

    async def recent_keys(self, user_id: int, since: datetime, limit: int) -> list[str]:
        latest: dict[str, datetime] = {}
        for a in self._of_user(user_id):
            if a.at >= since and a.key != a.record.ref:
                latest[a.key] = max(latest.get(a.key, a.at), a.at)
        return sorted(latest, key=lambda k: latest[k], reverse=True)[:limit]

    @staticmethod
    def _unkeyed(a: _Attempt) -> bool:
        return a.key == a.record.ref and ":" in a.record.ref

    async def unkeyed_refs(self) -> list[str]:
        return sorted({a.record.ref for a in self._attempts.values() if self._unkeyed(a)})

    async def set_question_keys(self, keys: Mapping[str, str]) -> None:
        for a in self._attempts.values():
            if self._unkeyed(a) and a.record.ref in keys:
                a.key = keys[a.record.ref]

    async def keys_answered_since(
        self, user_id: int, keys: Sequence[str], since: datetime
    ) -> dict[str, bool]:
        found: dict[str, bool] = {}
        for a in self._of_user(user_id):
            if a.at >= since and a.key in keys:
                found[a.key] = found.get(a.key, False) or a.record.points > 0
        return found

    async def topic_stats(self, user_id: int, server_id: int | None) -> list[TopicStats]:
        sums: dict[str, list[int]] = {}
        for a in self._of_user(user_id):
            if server_id is None or a.record.server_id == server_id:
                total = sums.setdefault(a.record.topic, [0, 0, 0])
                total[0] += 1
                total[1] += a.record.correct
                total[2] += a.record.points
        return [
            TopicStats(topic=t, answered=n, correct=c, points=p)
            for t, (n, c, p) in sorted(sums.items())
        ]

    async def recent_attempts(self, user_id: int, limit: int) -> list[HistoryEntry]:
        mine = [a for a in self._of_user(user_id) if a.record.instance_id in self._instances]
        mine.sort(key=lambda a: (a.at, a.id), reverse=True)
        return [
            HistoryEntry(
                at=_utc(a.at),
                ref=a.record.ref,
                topic=a.record.topic,
                kind=self._instances[a.record.instance_id].kind,
                answer=a.record.answer,
                correct=a.record.correct,
                points=a.record.points,
            )
            for a in mine[:limit]
        ]

    async def get_card(self, user_id: int, item: str) -> ReviewCard | None:
        return self._cards.get((user_id, item))

    def _due(self, user_id: int, now: datetime) -> list[ReviewCard]:
        due = [c for (u, _), c in self._cards.items() if u == user_id and c.due <= now]
        return sorted(due, key=lambda c: (c.due, c.item))

    async def due_cards(self, user_id: int, now: datetime, limit: int) -> list[ReviewCard]:
        return self._due(user_id, now)[:limit]

    async def count_due(self, user_id: int, now: datetime) -> int:
        return len(self._due(user_id, now))

    # boards

    def _totals(self, key: TotalKey) -> dict[int, list[int]]:
        """(points, answered, correct) of each user on that board, from the attempts."""
        sums: dict[int, list[int]] = {}
        for a in self._attempts.values():
            r = a.record
            if key in total_keys(r.server_id, r.topic, r.at):
                total = sums.setdefault(r.user_id, [0, 0, 0])
                total[0] += r.points
                total[1] += 1
                total[2] += r.correct
        return sums

    def _streak_on(self, user_id: int, board: int | None, alive: date) -> int:
        return max(
            (
                s.current
                for (u, server), s in self._streaks.items()
                if u == user_id
                and (board is None or server == board)
                and s.last_day is not None
                and s.last_day >= alive
            ),
            default=0,
        )

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
        board = server_id if scope is Scope.SERVER and server_id is not None else GLOBAL_BOARD
        totals = self._totals((board, topic_key(topic), period_key(period, now)))
        order = sorted(
            (u for u in totals if u in self._users),
            key=lambda u: (-totals[u][0], -totals[u][2], totals[u][1], u),
        )
        streak_of = board if board != GLOBAL_BOARD else None
        entries = [
            LeaderboardEntry(
                rank=rank,
                user_id=u,
                name=self._users[u].name,
                points=totals[u][0],
                answered=totals[u][1],
                correct=totals[u][2],
                streak=self._streak_on(u, streak_of, streak_alive_since(now)),
            )
            for rank, u in enumerate(order, start=1)
        ]
        me = next((e for e in entries if e.user_id == user_id), None)
        return Leaderboard(scope=scope, period=period, topic=topic, top=entries[:limit], me=me)

    async def streak(self, user_id: int, server_id: int | None) -> tuple[int, int]:
        found = self._streaks.get((user_id, streak_server(server_id)))
        if found is None:
            return (0, 0)
        alive = found.last_day is not None and found.last_day >= streak_alive_since(
            self.clock.now()
        )
        return (found.current if alive else 0, found.best)

    async def reset_scores(self, server_id: int, user_id: int | None) -> int:
        def hit(user: int, server: int | None) -> bool:
            return server == server_id and (user_id is None or user == user_id)

        gone = [k for k, a in self._attempts.items() if hit(a.record.user_id, a.record.server_id)]
        for k in gone:
            del self._attempts[k]
        for k in [k for k in self._streaks if hit(k[0], k[1])]:
            del self._streaks[k]
        return len(gone)

    # interviews

    async def create_interview(
        self, user_id: int, server_id: int | None, state: str, at: datetime
    ) -> int:
        _utc(at)
        interview_id = len(self._interviews) + 1
        self._interviews[interview_id] = _Interview(user_id, "active", state, 0, server_id)
        return interview_id

    async def save_interview(
        self, interview_id: int, status: str, state: str, version: int, at: datetime
    ) -> bool:
        _utc(at)
        found = self._interviews.get(interview_id)
        if found is None or found.version != version:
            return False
        found.status, found.state, found.version = status, state, version + 1
        return True

    async def get_interview(self, interview_id: int) -> tuple[str, int] | None:
        found = self._interviews.get(interview_id)
        return (found.state, found.version) if found else None

    async def active_interview_id(self, user_id: int) -> int | None:
        mine = [
            i for i, v in self._interviews.items() if v.user_id == user_id and v.status == "active"
        ]
        return max(mine, default=None)

    async def active_interview_ids(self) -> list[int]:
        return sorted(i for i, v in self._interviews.items() if v.status == "active")

    async def active_interviews(self) -> list[tuple[int, str | None]]:
        return [
            (i, None if v.server_id is None else self._servers[v.server_id].external_id)
            for i, v in sorted(self._interviews.items())
            if v.status == "active"
        ]

    # daily questions

    async def set_daily(
        self,
        server_id: int,
        channel_id: str,
        time_utc: str,
        user_id: int | None,
        lang: Lang | None = None,
    ) -> None:
        last = before.last_day if (before := self._dailies.get(server_id)) else None
        self._dailies[server_id] = _Daily(channel_id, time_utc, user_id, last, lang)

    async def disable_daily(self, server_id: int) -> bool:
        return self._dailies.pop(server_id, None) is not None

    async def daily_settings(self) -> list[DailySetting]:
        return [
            DailySetting(
                server_id=s,
                server_external_id=self._servers[s].external_id,
                channel_id=d.channel_id,
                time_utc=d.time_utc,
                last_day=d.last_day,
                lang=d.lang,
            )
            for s, d in sorted(self._dailies.items())
            if s in self._servers
        ]

    async def daily_instance(self, scope: str, day: date) -> QuestionInstance | None:
        found = self._daily_questions.get((scope, day))
        return self._instances.get(found) if found is not None else None

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
        found = await self.daily_instance(scope, day)
        if found is not None:
            return found
        instance = QuestionInstance.of(
            served, self._reserve(1), server_id, channel_id, lang, _utc(at), None, day
        )
        self._instances[instance.id] = instance
        self._daily_questions[(scope, day)] = instance.id
        return instance

    async def claim_daily(self, server_id: int, day: date) -> bool:
        found = self._dailies.get(server_id)
        if found is None or (found.last_day is not None and found.last_day >= day):
            return False
        found.last_day = day
        return True

    # liveness

    async def record_heartbeat(self, value: str, at: datetime, process: str = "") -> None:
        self._heartbeats[process] = (value, _utc(at))

    async def last_heartbeat(self) -> tuple[str, datetime] | None:
        return max(self._heartbeats.values(), key=lambda beat: beat[1], default=None)

    async def heartbeats(self) -> dict[str, tuple[str, datetime]]:
        return dict(sorted(self._heartbeats.items()))


if TYPE_CHECKING:
    _every_role: Store = MemoryStore()  # mypy checks that it implements the whole port
