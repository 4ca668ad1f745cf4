"""Posting: questions remembered as posted (`post`), found again (`instance`), and restored
from what their message shows when their row was never written."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Generator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any

from bot.core.errors import StorageUnavailable, UnknownQuestion, WrongKind
from bot.core.models import LETTERS, Kind, Lang, NewInstance, QuestionInstance, ServedQuestion, User
from bot.core.ports import Checkers, Clock, QuestionStore
from bot.core.services.catalog import Catalog, parse_generated_ref
from bot.core.services.making import Making, Recent

log = logging.getLogger(__name__)

ID_BLOCK = 100  # question instance ids reserved at a time (see `post`)
STORE_AFTER_S = 0.05  # a posted question's row waits this long for the next ones (one write)
KNOWN_INSTANCES = 4096  # posted questions kept in memory (see `Postings.instance`)


@dataclass(frozen=True, slots=True)
class Shown:
    """What the message of a posted question shows, to restore its row if it was never
    written (see `Postings.instance`); `kind` (and `letter`): what the clicked button expects
    of it (None: anything)."""

    ref: str
    server_id: int | None
    channel_id: str | None
    message_id: str | None
    lang: Lang
    posted_at: datetime | None = None
    kind: Kind | None = None
    letter: str | None = None


@dataclass(slots=True)
class Posting:
    """A question being posted (see `Postings.post`): its instance is numbered but not
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
    ) -> None:
        self._store = store
        self._clock = clock
        self._catalog = catalog
        self._making = making
        self._checkers = checkers
        self._recent = recent
        self._ids: deque[int] = deque()  # reserved instance ids not used yet
        self._storing: dict[int, asyncio.Future[None]] = {}  # replied to, row not written yet
        self._queued: list[NewInstance] = []  # their rows, written together (see `_with_reply`)
        self._hurry = asyncio.Event()  # a click waits for one of them: write now
        self._writing: asyncio.Task[None] | None = None
        # Rows as stored, the most recently used last: a posted question does not change
        # once its message is set, so a click needs no read (see `instance`).
        self._known: OrderedDict[int, QuestionInstance] = OrderedDict()

    async def warm_up(self) -> None:
        """Reserve instance ids before the first user."""
        if not self._ids:
            await self._reserve_ids()

    async def flush(self) -> None:
        """Write the rows queued now and wait for the replies under way (at shutdown)."""
        while self._storing:
            if self._queued and (self._writing is None or self._writing.done()):
                self._writing = asyncio.get_running_loop().create_task(self._write_queued())
            self._hurry.set()
            await asyncio.wait(list(self._storing.values()))

    def post(
        self,
        served: ServedQuestion,
        server_id: int | None = None,
        channel_id: str | None = None,
        lang: Lang = "en",
        daily_day: date | None = None,
        served_to: User | None = None,
    ) -> Post:
        """Remember a question as posted (and as served to that user, in the same write);
        answers are recorded against the instance. The one way to post, in two forms:

            instance = await postings.post(served, ...)  # stored now (console, interviews)

            async with postings.post(served, ...) as posting:  # with a reply
                message = await send(question with posting.instance.id in its buttons)
                posting.message_id = message.id

        The second takes its instance id from a block reserved ahead, so nothing waits on the
        database before the reply. When the block exits, the row (with the message id and the
        served note) is queued: the rows of the next STORE_AFTER_S go to the group commit
        (`bot.storage.group`) in one write, and the exit does not wait for it; nothing is
        stored if the block raises. A click that arrives first has the queue written at once
        and waits for it (see `instance`), and then finds the row in memory. If the
        process dies (or the disk is full) before the row is written, the question is not
        lost: a click on its message restores the row from what the message shows."""
        return Post(self, served, server_id, channel_id, lang, daily_day, served_to)

    async def _store_now(
        self,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        daily_day: date | None,
        served_to: User | None,
    ) -> QuestionInstance:
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
        self._remember(instance)
        return instance

    @asynccontextmanager
    async def _with_reply(
        self,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        served_to: User | None,
    ) -> AsyncIterator[Posting]:
        instance = QuestionInstance.of(
            served, await self._next_instance_id(), server_id, channel_id, lang, self._clock.now()
        )
        self._recent.served(served_to, served)
        written = asyncio.get_running_loop().create_future()  # for a click that comes first
        self._storing[instance.id] = written
        try:
            posting = Posting(instance)
            yield posting  # (if the reply fails, nothing is stored)
        except BaseException:
            del self._storing[instance.id]
            written.set_result(None)
            raise
        # The row joins those of the next STORE_AFTER_S: one write through the group commit
        # for questions posted one after another (a commit each cost /question about 0.4x of a
        # bare /ping in bench/roundtrip.py); a click on one of them has them written at once.
        self._queued.append(
            NewInstance(
                instance=instance.model_copy(update={"message_id": posting.message_id}),
                question_id=served.question_id,
                served_to=served_to.id if served_to else None,
            )
        )
        if self._writing is None or self._writing.done():
            self._writing = asyncio.get_running_loop().create_task(self._write_queued())

    async def _write_queued(self) -> None:
        """Store the queued rows, and keep them here; if the storage cannot take them now (a
        full disk...), the rows are lost, not the questions: a click restores one."""
        while self._queued:
            try:
                await asyncio.wait_for(self._hurry.wait(), STORE_AFTER_S)
            except TimeoutError:
                pass
            self._hurry.clear()
            batch, self._queued = self._queued, []
            try:
                await self._store.create_instances(batch)
            except StorageUnavailable as exc:
                log.error("storing posted question(s) %s failed: %s", _ids(batch), exc)
            except Exception:
                log.exception("storing posted question(s) %s failed", _ids(batch))
            else:
                for new in batch:
                    self._remember(new.instance)
            finally:
                for new in batch:
                    done = self._storing.pop(new.instance.id, None)
                    if done is not None and not done.done():
                        done.set_result(None)

    async def _next_instance_id(self) -> int:
        if not self._ids:
            await self._reserve_ids()
        return self._ids.popleft()

    async def _reserve_ids(self) -> None:
        first = await self._store.reserve_instance_ids(ID_BLOCK)
        self._ids.extend(range(first, first + ID_BLOCK))

    async def _restore(self, instance_id: int, shown: Shown) -> QuestionInstance:
        """Store a posted question whose row never got written (the process stopped between
        showing it and storing it), from what its message shows; the row as stored.
        UnknownQuestion if the question is no longer in the bank, or if that id now belongs to
        another question; WrongKind, and nothing stored, if it is not a `shown.kind` question
        (with `shown.letter` among its options)."""
        ref = shown.ref
        family, seed = parse_generated_ref(ref)
        question = self._catalog.question(ref, shown.server_id)
        if family is not None and seed is not None:
            kind, options = Kind.NUMERIC, 0
        elif question is not None:
            kind, options = question.kind, len(question.choices)
        else:
            raise UnknownQuestion(ref)
        letter_fits = shown.letter is None or shown.letter in LETTERS[:options]
        if shown.kind is not None and (kind is not shown.kind or not letter_fits):
            raise WrongKind(ref, kind.value)
        log.warning("question #%d (%s) was not stored; storing it now", instance_id, ref)
        if family is not None and seed is not None:
            if family not in self._checkers.family_names():
                raise UnknownQuestion(ref)
            served = await self._making.generated(family, seed)
        elif question is not None and question.kind is not Kind.NUMERIC:
            served = await self._making.present(question)
        else:
            raise UnknownQuestion(ref)
        now = self._clock.now()
        stored = await self._store.create_instance(
            served,
            shown.server_id,
            shown.channel_id,
            shown.lang,
            min(shown.posted_at, now) if shown.posted_at else now,
            instance_id=instance_id,
            message_id=shown.message_id,
        )
        if stored.ref != ref:
            raise UnknownQuestion(ref)
        return stored

    async def attach_message(self, instance_id: int, message_id: str) -> None:
        await self._store.set_instance_message(instance_id, message_id)
        known = self._known.pop(instance_id, None)
        if known is not None:
            self._remember(known.model_copy(update={"message_id": message_id}))

    def _remember(self, instance: QuestionInstance) -> None:
        """Keep a row as stored, once final: its message known, or one it never gets (not in
        a channel). Another process may set the message of one read too early."""
        if instance.message_id is None and instance.channel_id is not None:
            return
        self._known[instance.id] = instance
        self._known.move_to_end(instance.id)
        if len(self._known) > KNOWN_INSTANCES:
            self._known.popitem(last=False)

    async def instance(self, instance_id: int, shown: Shown | None = None) -> QuestionInstance:
        """A posted question. `shown`: what the message it is on shows (a click on it): its
        row is restored from that if it was never written (see `post`), and
        UnknownQuestion if the row holds another question (say a database restored from an
        older backup numbered it again)."""
        found = self._known.get(instance_id)
        if found is None:
            storing = self._storing.get(instance_id)
            if storing is not None:  # its reply is going out: its row is written right after
                self._hurry.set()
                await asyncio.shield(storing)
                found = self._known.get(instance_id)
        if found is None:
            found = await self._store.get_instance(instance_id)
            if found is None and shown is not None:
                found = await self._restore(instance_id, shown)
            if found is None:
                raise UnknownQuestion(f"#{instance_id}")
            self._remember(found)
        else:
            self._known.move_to_end(instance_id)
        if shown is not None and found.ref != shown.ref:
            raise UnknownQuestion(shown.ref)
        return found


class Post:
    """A question to post (see `Postings.post`): awaited, it is stored now; as `async with`,
    it is shown first and stored right after."""

    def __init__(
        self,
        postings: Postings,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        daily_day: date | None,
        served_to: User | None,
    ) -> None:
        self._postings = postings
        self._served = served
        self._where = (server_id, channel_id, lang)
        self._daily_day = daily_day
        self._served_to = served_to
        self._shown: AbstractAsyncContextManager[Posting] | None = None

    def __await__(self) -> Generator[Any, None, QuestionInstance]:
        server_id, channel_id, lang = self._where
        return self._postings._store_now(
            self._served, server_id, channel_id, lang, self._daily_day, self._served_to
        ).__await__()

    async def __aenter__(self) -> Posting:
        if self._daily_day is not None:
            raise ValueError("a daily question is stored before it is shown")
        server_id, channel_id, lang = self._where
        self._shown = self._postings._with_reply(
            self._served, server_id, channel_id, lang, self._served_to
        )
        return await self._shown.__aenter__()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        assert self._shown is not None
        return await self._shown.__aexit__(kind, error, traceback)


def _ids(batch: list[NewInstance], shown: int = 5) -> str:
    """The batch's question ids for a log line: the first few, then how many more (a batch
    can hold hundreds)."""
    ids = [f"#{new.instance.id}" for new in batch]
    more = f" and {len(ids) - shown} more, up to {ids[-1]}" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more
