"""Spaced repetition: the user's review cards that are due, as questions."""

from __future__ import annotations

from bot.core.models import ServedQuestion, User
from bot.core.ports import AttemptStore, Checkers, Clock
from bot.core.services.catalog import Catalog
from bot.core.services.making import Making


class Reviews:
    def __init__(
        self,
        store: AttemptStore,
        clock: Clock,
        catalog: Catalog,
        making: Making,
        checkers: Checkers,
    ) -> None:
        self._store = store
        self._clock = clock
        self._catalog = catalog
        self._making = making
        self._checkers = checkers

    async def reviews_due(self, user: User) -> int:
        return await self._store.count_due(user.id, self._clock.now())

    async def due_reviews(
        self, user: User, count: int, server_id: int | None = None
    ) -> list[ServedQuestion]:
        """Questions for the user's due cards, most overdue first; a family card serves a
        fresh variant. Items no longer in the bank are skipped."""
        served: list[ServedQuestion] = []
        for card in await self._store.due_cards(user.id, self._clock.now(), count * 2):
            family = card.item.removeprefix("family:") if card.item.startswith("family:") else None
            if family is not None:
                if family not in self._checkers.family_names():
                    continue
                template = self._catalog.template_for(family)
                served.append(await self._making.present(template))
            else:
                question = self._catalog.question(card.item, server_id)
                if question is None:
                    continue
                served.append(await self._making.present(question))
            if len(served) == count:
                break
        return served
