"""The core's services the Discord front end uses, as the composition root hands them over.

discord.py gives an extension's `setup(bot)` nothing but the bot, so the bot keeps these for its
extensions; each `setup` gives its cog the services the cog uses, by name, and no cog keeps the
bundle:

    async def setup(bot: InterviewBot) -> None:
        await bot.add_cog(Review(bot, reviews=bot.services.reviews, postings=bot.services.postings))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.interview import Interviews
from bot.core.ports import Checkers, Clock
from bot.core.services.answering import Answering
from bot.core.services.boards import Boards
from bot.core.services.catalog import Catalog
from bot.core.services.daily import Dailies
from bot.core.services.identities import Identities
from bot.core.services.making import Making
from bot.core.services.posting import Postings
from bot.core.services.quiz import Quiz
from bot.core.services.reviews import Reviews


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """Built by bot/app/wiring.py (`discord_services`) from the services it wired."""

    warm_up: Callable[[], Awaitable[None]]  # before the first user (imports, caches, ids)
    clock: Clock
    checkers: Checkers
    catalog: Catalog
    making: Making
    postings: Postings
    answering: Answering
    identities: Identities
    dailies: Dailies
    reviews: Reviews
    boards: Boards
    interviews: Interviews
    quiz: Quiz | None = None  # None: the store has no quiz rounds
