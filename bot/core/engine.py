"""The core's services held together (see `bot.core.services`).

`Engine` only holds the services, which bot/app/wiring.py wires, and their start and stop
(`warm_up`, `aclose`), for the composition root, the tools and the tests. The front ends never
see it: the composition root hands each the services it uses, by name (`Console(...,
answering=engine.answering, ...)`, `discord_services(engine)`; import-linter's
`front-ends-get-their-services`). It knows nothing about the front ends. Checkers (torch) run in a
worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import random

from bot.core.ahead import Background
from bot.core.interview import Interviews
from bot.core.ports import Checkers, Clock, Store
from bot.core.services.answering import Answering, SelfRating, grade_choice
from bot.core.services.boards import Boards, TopicSummary
from bot.core.services.catalog import Catalog, KindFilter, parse_generated_ref
from bot.core.services.daily import Dailies, daily_scope, parse_hhmm
from bot.core.services.identities import Identities, language_for
from bot.core.services.making import Making
from bot.core.services.posting import Posting, Postings
from bot.core.services.quiz import Quiz
from bot.core.services.reviews import Reviews


class Engine:
    """The core's services over one store, set of checkers, clock and random generator, as
    the composition root (bot/app/wiring.py `wire_engine`) wired them."""

    def __init__(
        self,
        *,
        store: Store,
        checkers: Checkers,
        clock: Clock,
        rng: random.Random,
        background: Background,
        catalog: Catalog,
        making: Making,
        postings: Postings,
        answering: Answering,
        identities: Identities,
        dailies: Dailies,
        reviews: Reviews,
        boards: Boards,
        interviews: Interviews,
        quiz: Quiz | None = None,
    ) -> None:
        self.store = store  # for the composition root and tests; services get their own
        self.checkers = checkers
        self.clock = clock
        self.rng = rng  # tests seed it
        self._background = background
        self.catalog = catalog
        self.making = making
        self.postings = postings
        self.answering = answering
        self.identities = identities
        self.dailies = dailies
        self.reviews = reviews
        self.boards = boards
        self.interviews = interviews
        self.quiz = quiz  # None: the store has no quiz role (see wiring.wire_engine)

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
        """Wait for the posted questions' rows under way and stop the background work (the
        database itself is the caller's to close)."""
        try:
            if self.quiz is not None:
                await self.quiz.aclose()  # no reveal starts while the rest closes
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
