"""Scores: a user's history and stats, topic summaries, leaderboards, resets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.models import HistoryEntry, Leaderboard, Period, Scope, User, UserStats
from bot.core.ports import AttemptStore, BoardStore, Clock
from bot.core.services.catalog import Catalog
from bot.core.topics import TOPICS, known_topic


@dataclass(frozen=True, slots=True)
class TopicSummary:
    topic: str
    questions: int
    answered: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None


class ScoreStore(AttemptStore, BoardStore, Protocol):
    """What `Boards` reads: attempts and the boards over them."""


class Boards:
    def __init__(self, store: ScoreStore, clock: Clock, catalog: Catalog) -> None:
        self._store = store
        self._clock = clock
        self._catalog = catalog

    async def history(self, user: User, count: int = 10) -> list[HistoryEntry]:
        """The user's last `count` counted answers (everywhere), newest first."""
        return await self._store.recent_attempts(user.id, count)

    async def stats(self, user: User, server_id: int | None = None) -> UserStats:
        by_topic = await self._store.topic_stats(user.id, server_id)
        current, best = await self._store.streak(user.id, server_id)
        return UserStats(user=user, by_topic=by_topic, streak=current, best_streak=best)

    async def topics(self, user: User | None = None) -> list[TopicSummary]:
        counts = self._catalog.bank.counts_by_topic()
        stats = {t.topic: t for t in await self._store.topic_stats(user.id, None)} if user else {}
        summaries = []
        for topic in TOPICS:
            mine = stats.get(topic.id)
            summaries.append(
                TopicSummary(
                    topic=topic.id,
                    questions=counts.get(topic.id, 0),
                    answered=mine.answered if mine else 0,
                    correct=mine.correct if mine else 0,
                )
            )
        return summaries

    async def leaderboard(
        self,
        scope: Scope = Scope.GLOBAL,
        period: Period = Period.ALL,
        topic: str | None = None,
        server_id: int | None = None,
        user: User | None = None,
        limit: int = 10,
    ) -> Leaderboard:
        topic = known_topic(topic)  # `CNN`: `cnn`
        return await self._store.leaderboard(
            scope, period, server_id, topic, user.id if user else None, limit, self._clock.now()
        )

    async def reset_scores(self, server_id: int, member: User | None) -> int:
        return await self._store.reset_scores(server_id, member.id if member else None)
