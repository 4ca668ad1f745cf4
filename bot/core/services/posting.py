"""Posting: questions remembered as posted (`post`, `posting`), found again (`instance`), and
restored from their message when their row was never written (`restore`)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime

from bot.core.ahead import Background, PostedWriter
from bot.core.errors import UnknownQuestion
from bot.core.models import Kind, Lang, NewInstance, QuestionInstance, ServedQuestion, User
from bot.core.ports import Checkers, Clock, QuestionStore
from bot.core.services.catalog import Catalog, parse_generated_ref
from bot.core.services.making import Making, Recent

ID_BLOCK = 100  # question instance ids reserved at a time (see `posting`)


@dataclass(slots=True)
class Posting:
    """A question being posted (see `Postings.posting`): its instance is numbered but not
    stored yet; the front end sets `message_id` once its message exists."""

    instance: QuestionInstance
    message_id: str | None = None


class Postings:
    def __init__(
        self,
        store: QuestionStore,
        clock: Clock,
        catalog: Catalog,
        making: Making,
        checkers: Checkers,
        recent: Recent,
        background: Background,
    ) -> None:
        self._store = store
        self._clock = clock
        self._catalog = catalog
        self._making = making
        self._checkers = checkers
        self._recent = recent
        self._ids: deque[int] = deque()  # reserved instance ids not used yet
        self._posted = PostedWriter(store, background)

    async def warm_up(self) -> None:
        """Reserve instance ids before the first user."""
        if not self._ids:
            await self._reserve_ids()

    async def flush(self) -> None:
        """Store the posted questions still queued (at shutdown)."""
        await self._posted.flush()

    async def post(
        self,
        served: ServedQuestion,
        server_id: int | None = None,
        channel_id: str | None = None,
        lang: Lang = "en",
        daily_day: date | None = None,
        served_to: User | None = None,
    ) -> QuestionInstance:
        """Remember a question as posted (and as served to that user, in the same write);
        answers are recorded against the instance."""
        instance = await self._store.create_instance(
            served,
            server_id,
            channel_id,
            lang,
            self._clock.now(),
            daily_day,
            served_to.id if served_to else None,
        )
        self._recent.served(served_to, served)
        return instance

    @asynccontextmanager
    async def posting(
        self,
        served: ServedQuestion,
        server_id: int | None = None,
        channel_id: str | None = None,
        lang: Lang = "en",
        served_to: User | None = None,
    ) -> AsyncIterator[Posting]:
        """`post` for a front end that shows the question first and stores it right after:

            async with postings.posting(served, ...) as posting:
                message = await send(question with posting.instance.id in its buttons)
                posting.message_id = message.id

        The instance id comes from a block reserved ahead, so nothing waits on the database
        before the reply. When the block exits, the row (with the message id and the served
        note) is queued and written with the others of the next few milliseconds, in one
        transaction (not at all if the block raises). An answer that arrives first has the
        queue written at once and waits for it; one that finds no row (the process died in
        between) can `restore` it from the message."""
        instance = QuestionInstance.of(
            served, await self._next_instance_id(), server_id, channel_id, lang, self._clock.now()
        )
        self._posted.shown(instance.id)
        self._recent.served(served_to, served)
        try:
            posting = Posting(instance)
            yield posting
        except BaseException:
            self._posted.dropped(instance.id)
            raise
        self._posted.store(
            NewInstance(
                instance=instance.model_copy(update={"message_id": posting.message_id}),
                question_id=served.question_id,
                served_to=served_to.id if served_to else None,
            )
        )

    async def _next_instance_id(self) -> int:
        if not self._ids:
            await self._reserve_ids()
        return self._ids.popleft()

    async def _reserve_ids(self) -> None:
        first = await self._store.reserve_instance_ids(ID_BLOCK)
        self._ids.extend(range(first, first + ID_BLOCK))

    async def restore(
        self,
        instance_id: int,
        ref: str,
        server_id: int | None,
        channel_id: str | None,
        message_id: str | None,
        lang: Lang,
        posted_at: datetime | None = None,
    ) -> QuestionInstance:
        """Store a posted question whose row never got written (the process stopped between
        showing it and storing it), from what its message shows (`posted_at`: when it was
        posted, for the time-to-answer of reviews); the row as stored. UnknownQuestion if
        the question is no longer in the bank, or if that id now belongs to another
        question."""
        family, seed = parse_generated_ref(ref)
        if family is not None and seed is not None:
            if family not in self._checkers.family_names():
                raise UnknownQuestion(ref)
            served = await self._making.generated(family, seed)
        else:
            question = self._catalog.question(ref, server_id)
            if question is None or question.kind is Kind.NUMERIC:
                raise UnknownQuestion(ref)
            served = await self._making.present(question)
        now = self._clock.now()
        stored = await self._store.create_instance(
            served,
            server_id,
            channel_id,
            lang,
            min(posted_at, now) if posted_at else now,
            instance_id=instance_id,
            message_id=message_id,
        )
        if stored.ref != ref:
            raise UnknownQuestion(ref)
        return stored

    async def attach_message(self, instance_id: int, message_id: str) -> None:
        await self._store.set_instance_message(instance_id, message_id)

    async def instance(self, instance_id: int) -> QuestionInstance:
        await self._posted.wait_stored(instance_id)  # if shown a moment ago
        found = await self._store.get_instance(instance_id)
        if found is None:
            raise UnknownQuestion(f"#{instance_id}")
        return found
