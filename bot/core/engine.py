"""The core's services wired together (see `bot.core.services`).

`Engine` only builds and holds the services: front ends call the ones they use
(`engine.making.serve`, `engine.answering.answer`, ...). It knows nothing about the front ends.
Checkers (torch) run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import random

from bot.core.ahead import Background
from bot.core.bank import Bank
from bot.core.interview import Interviews
from bot.core.ports import Checkers, Clock, Store
from bot.core.review import Reviewer
from bot.core.services.answering import Answering, SelfRating, grade_choice
from bot.core.services.boards import Boards, TopicSummary
from bot.core.services.catalog import Catalog, KindFilter, parse_generated_ref
from bot.core.services.daily import Dailies, daily_scope, parse_hhmm
from bot.core.services.identities import Identities, language_for
from bot.core.services.making import Making, Recent
from bot.core.services.posting import Posting, Postings
from bot.core.services.reviews import Reviews


class Engine:
    """The services over one store, bank, set of checkers, clock and random generator."""

    def __init__(
        self,
        store: Store,
        bank: Bank,
        checkers: Checkers,
        clock: Clock,
        rng: random.Random | None = None,
        reviewer: Reviewer | None = None,
    ) -> None:
        self.store = store  # for the composition root and tests; services get their own
        self.checkers = checkers
        self.clock = clock
        self.rng = rng = rng or random.Random()  # tests seed it
        self._background = Background()
        recent = Recent(store, clock)
        self.catalog = Catalog(bank, checkers, store, clock)
        self.making = Making(self.catalog, checkers, recent, rng, self._background)
        self.postings = Postings(
            store, clock, self.catalog, self.making, checkers, recent, self._background
        )
        self.answering = Answering(
            store, clock, self.catalog, self.postings, checkers, reviewer or Reviewer(), recent
        )
        self.identities = Identities(store)
        self.dailies = Dailies(store, clock, self.catalog, self.making)
        self.reviews = Reviews(store, clock, self.catalog, self.making, checkers)
        self.boards = Boards(store, clock, self.catalog)
        self.interviews = Interviews(
            store, clock, rng, self.catalog, self.making, self.postings, self.answering, checkers
        )

    async def warm_up(self) -> None:
        """Before the first user: grade one question of every family the bank uses (imports,
        caches), generate some of each family and difficulty ahead, reserve instance ids."""
        families = self.catalog.families()

        def warm() -> None:
            for family in families:
                self.checkers.grade(family, 0, "0")

        await asyncio.to_thread(warm)
        await self.answering.key_old_attempts()
        await self.making.fill_stock()
        await self.postings.warm_up()

    async def aclose(self) -> None:
        """Store the posted questions still queued and stop the background work (the
        database itself is the caller's to close)."""
        try:
            await self.postings.flush()
        finally:
            await self._background.close()


__all__ = [
    "Engine",
    "KindFilter",
    "Posting",
    "SelfRating",
    "TopicSummary",
    "daily_scope",
    "grade_choice",
    "language_for",
    "parse_generated_ref",
    "parse_hhmm",
]
