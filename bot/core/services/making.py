"""Question making: a question for a user (`serve`), as shown (`present`), a generated one by its
seed (`generated`), a posted one again (`reshow`), with the numeric stock generated ahead."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Protocol

from bot.core.ahead import Background, NumericStock, random_seed
from bot.core.errors import NoQuestionFound, UnknownQuestion
from bot.core.models import (
    Difficulty,
    Kind,
    Localized,
    NumericQuestion,
    Question,
    QuestionInstance,
    ServedQuestion,
    User,
)
from bot.core.ports import AttemptStore, Checkers, Clock, QuestionStore
from bot.core.scoring import REWARD_WINDOW
from bot.core.services.catalog import Catalog, KindFilter, parse_generated_ref
from bot.core.topics import known_topic

RECENT_WINDOW = 20  # how many recent questions a user is not served again, at most
RECENT_KEYS = 100  # how many recently answered or served generated questions, likewise
FRESH_TRIES = 32  # seeds tried for a generated question the user has not seen recently
MAX_SEED = 2**63 - 1  # the largest seed a reference can carry (the checkers' own bound)


class RecentStore(QuestionStore, AttemptStore, Protocol):
    """What `Recent` reads: served questions and answered keys."""


class Recent:
    """What each user was served and answered lately (question ids and generated questions'
    keys, newest first): read from the database once per user, then kept up to date here."""

    def __init__(self, store: RecentStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._refs: dict[int, list[str]] = {}  # user id -> question ids served, newest first
        self._keys: dict[int, list[str]] = {}  # user id -> question keys, newest first

    async def refs(self, user: User) -> list[str]:
        """The question ids this user was served most recently, newest first (read from the
        database once, then kept up to date in memory: every serve goes through here); the
        keys of the questions they answered or were served recently are loaded with them."""
        recent = self._refs.get(user.id)
        if recent is None:
            loaded = await self._store.recent_refs(user.id, RECENT_WINDOW)
            keys = await self._store.recent_keys(
                user.id, self._clock.now() - REWARD_WINDOW, RECENT_KEYS
            )
            self._keys.setdefault(user.id, keys)
            recent = self._refs.setdefault(user.id, loaded)
        return recent

    def keys(self, user: User) -> list[str]:
        return self._keys.get(user.id, [])

    def served(self, user: User | None, served: ServedQuestion) -> None:
        if user is None:
            return
        if served.generated:
            self.key(user, served.question_key)
        if served.question_id is None or user.id not in self._refs:
            return  # not loaded yet: the database will have it
        recent = self._refs[user.id]
        recent[:] = [served.question_id, *(r for r in recent if r != served.question_id)]
        del recent[RECENT_WINDOW:]

    def key(self, user: User, key: str) -> None:
        keys = self._keys.get(user.id)
        if keys is not None:  # else not loaded yet: the database has the answered ones
            keys[:] = [key, *(k for k in keys if k != key)]
            del keys[RECENT_KEYS:]


class Making:
    """Questions as users see them. Torch runs in a worker thread; numeric questions come from
    a stock generated ahead when it has one."""

    def __init__(
        self,
        catalog: Catalog,
        checkers: Checkers,
        recent: Recent,
        rng: random.Random,
        background: Background,
    ) -> None:
        self._catalog = catalog
        self._checkers = checkers
        self._recent = recent
        self._rng = rng
        self._stock = NumericStock(checkers, rng, background)

    async def fill_stock(self) -> None:
        """Generate some questions of each family and difficulty ahead (before the first
        user)."""
        await self._stock.fill(self._catalog.families())

    def reseed(self, seed: int) -> None:
        """Make the questions drawn from now on reproducible (pictures, tests): seed the
        generator and drop the numeric questions generated ahead with earlier draws."""
        self._rng.seed(seed)
        self._stock.clear()

    async def serve(
        self,
        user: User,
        topic: str | None = None,
        kind: KindFilter = KindFilter.ANY,
        difficulty: Difficulty | None = None,
        server_id: int | None = None,
    ) -> ServedQuestion:
        """A question for this user, not one of the ones they had most recently (posting it
        with `post(..., served_to=user)` remembers it as served)."""
        topic = known_topic(topic)  # `CNN`: `cnn`
        candidates = self._catalog.candidates(topic, kind.kinds, difficulty, server_id)
        if not candidates:
            raise NoQuestionFound(topic, kind.value, difficulty.value if difficulty else None)
        window = min(RECENT_WINDOW, max(0, len(candidates) - 1))
        recent = (await self._recent.refs(user))[:window]
        avoid = set(recent)
        fresh = [q for q in candidates if q.id not in avoid]
        if fresh:
            question = self._rng.choice(fresh)
        else:  # every candidate was served recently: the least recent one
            order = {ref: i for i, ref in enumerate(recent)}
            question = max(candidates, key=lambda q: order.get(q.id, len(order)))
        return await self.present(question, difficulty, self._recent.keys(user))

    async def pick(self, candidates: Sequence[Question]) -> ServedQuestion:
        """One of `candidates`, drawn at random, as shown."""
        return await self.present(self._rng.choice(list(candidates)))

    async def present(
        self,
        question: Question,
        difficulty: Difficulty | None = None,
        recent_keys: Sequence[str] = (),
    ) -> ServedQuestion:
        """The question as shown to users; numeric templates generate a fresh variant, one
        whose key is not among `recent_keys` (newest first) when another can be found."""
        if question.kind is Kind.NUMERIC:
            assert question.family is not None
            level = difficulty or question.difficulty
            levels = [level] if level else self._rng.sample(list(Difficulty), len(Difficulty))
            numeric = await self._numeric(question.family, levels, recent_keys)
            return _numeric_served(numeric, question)
        assert question.text is not None and question.difficulty is not None
        return ServedQuestion(
            ref=question.id,
            kind=question.kind,
            topic=question.topic,
            difficulty=question.difficulty,
            text=question.text,
            choices=[c.text for c in question.choices],
            source=question.source,
            question_id=question.id,
        )

    async def _numeric(
        self, family: str, levels: Sequence[Difficulty], recent_keys: Sequence[str]
    ) -> NumericQuestion:
        """A generated question of that family, of the first of `levels` (in that order) whose
        pool has one not among `recent_keys`: from the stock if it has one, else from up to
        FRESH_TRIES new seeds per level (one trip to a worker thread); when no level has
        anything else, the least recently seen question. (Easy cnn_models is LeNet-5 alone:
        with no difficulty asked, the other levels are served before it comes back.)"""
        avoid = frozenset(recent_keys)
        for level in levels:
            ready = self._stock.take(family, level, avoid)
            if ready is not None:
                return ready
        tries = FRESH_TRIES if avoid else 1
        seeds = [[random_seed(self._rng, level) for _ in range(tries)] for level in levels]
        tried = await asyncio.to_thread(self._generate_until_fresh, family, seeds, avoid)
        order = {key: index for index, key in enumerate(recent_keys)}
        return max(tried, key=lambda numeric: order.get(numeric.key, len(order)))

    def _generate_until_fresh(
        self, family: str, seeds: Sequence[Sequence[int]], avoid: frozenset[str]
    ) -> list[NumericQuestion]:
        """Questions generated from each group of seeds in turn, up to the first not in
        `avoid`."""
        tried: list[NumericQuestion] = []
        for group in seeds:
            for seed in group:
                tried.append(self._checkers.generate(family, seed))
                if tried[-1].key not in avoid:
                    return tried
        return tried

    async def generated(
        self, family: str, seed: int, template: Question | None = None
    ) -> ServedQuestion:
        """The generated question FAMILY:SEED (the template gives its topic and lead-in)."""
        if template is None:
            template = self._catalog.template_for(family)
        numeric = await asyncio.to_thread(self._checkers.generate, family, seed)
        return _numeric_served(numeric, template)

    async def reshow(self, instance: QuestionInstance) -> ServedQuestion:
        """The question of a posted instance, rebuilt from its reference (after a restart)."""
        family, seed = parse_generated_ref(instance.ref)
        if family is not None and seed is not None:  # under the topic it was asked in
            return await self.generated(
                family, seed, self._catalog.template_for(family, instance.topic)
            )
        question = self._catalog.question(instance.ref, instance.server_id)
        if question is None:
            raise UnknownQuestion(instance.ref)
        return await self.present(question)

    async def by_reference(self, ref: str, server_id: int | None = None) -> ServedQuestion:
        """The question a reference names, to ask it again: `FAMILY:SEED` (exactly that
        variant) or a written question's id (a numeric template: a fresh variant).
        UnknownQuestion if it names nothing."""
        family, seed = parse_generated_ref(ref)
        if family is not None and seed is not None:
            names = await asyncio.to_thread(self._checkers.family_names)  # may load torch
            if family not in names or seed > MAX_SEED:
                raise UnknownQuestion(ref)
            return await self.generated(family, seed)
        question = self._catalog.question(ref, server_id)
        if question is None:
            raise UnknownQuestion(ref)
        return await self.present(question)


def _numeric_served(numeric: NumericQuestion, template: Question) -> ServedQuestion:
    text = numeric.text
    if template.text is not None:
        text = Localized(
            en=f"{template.text.en}\n\n{text.en}", zh=f"{template.text.zh}\n\n{text.zh}"
        )
    return ServedQuestion(
        ref=numeric.ref,
        kind=Kind.NUMERIC,
        topic=template.topic,
        difficulty=numeric.difficulty,
        text=text,
        source=template.source,
        family=numeric.family,
        seed=numeric.seed,
        question_id=template.id,
        key=numeric.key,
    )
