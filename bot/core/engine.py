"""The practice engine: choose a question, post it, grade answers, keep scores.

Front ends (Discord, the console) call this and translate its results and errors; it knows
nothing about them. Checkers (torch) run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from fsrs import Rating

from bot.core.ahead import Background, NumericStock, PostedWriter, random_seed
from bot.core.answers import AnswerFormatError, read_choice
from bot.core.bank import (
    MAX_PACK_BYTES,
    Bank,
    BankProblem,
    PackBody,
    ParsedDocument,
    merge_parsed,
    pack_bodies,
    parse_document,
    too_large,
)
from bot.core.errors import (
    BadTime,
    DuplicatePackQuestion,
    NoQuestionFound,
    PackInvalid,
    UnknownQuestion,
    UnknownTopic,
    WrongKind,
)
from bot.core.models import (
    LETTERS,
    AnswerOutcome,
    AttemptRecord,
    DailySetting,
    Difficulty,
    Grade,
    HistoryEntry,
    Kind,
    Lang,
    LanguagePref,
    Leaderboard,
    Localized,
    NewInstance,
    NumericQuestion,
    Period,
    Question,
    QuestionInstance,
    QuestionPack,
    Scope,
    ServedQuestion,
    Server,
    User,
    UserStats,
    Verdict,
)
from bot.core.ports import Checkers, Clock, Store
from bot.core.review import Reviewer, rating_for, review_item
from bot.core.scoring import REWARD_WINDOW, points_for
from bot.core.topics import TOPICS, topics_in

RECENT_WINDOW = 20  # how many recent questions a user is not served again, at most
RECENT_KEYS = 100  # how many recently answered or served generated questions, likewise
FRESH_TRIES = 32  # seeds tried for a generated question the user has not seen recently
MAX_SEED = 2**63 - 1  # the largest seed a reference can carry (the checkers' own bound)
ID_BLOCK = 100  # question instance ids reserved at a time (see `posting`)


class KindFilter(StrEnum):
    CONCEPT = "concept"  # multiple choice or open
    NUMERIC = "numeric"
    ANY = "any"
    MCQ = "mcq"
    OPEN = "open"

    @property
    def kinds(self) -> frozenset[Kind]:
        return {
            KindFilter.CONCEPT: frozenset({Kind.MCQ, Kind.OPEN}),
            KindFilter.NUMERIC: frozenset({Kind.NUMERIC}),
            KindFilter.ANY: frozenset(Kind),
            KindFilter.MCQ: frozenset({Kind.MCQ}),
            KindFilter.OPEN: frozenset({Kind.OPEN}),
        }[self]


class SelfRating(StrEnum):
    """How an open question went, by the user's own judgement (the fsrs ratings)."""

    AGAIN = "again"
    HARD = "hard"
    GOOD = "good"
    EASY = "easy"


@dataclass(slots=True)
class Posting:
    """A question being posted (see `Engine.posting`): its instance is numbered but not stored
    yet; the front end sets `message_id` once its message exists."""

    instance: QuestionInstance
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class TopicSummary:
    topic: str
    questions: int
    answered: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None


def language_for(preference: LanguagePref, locale: str | None) -> Lang:
    """The reply language: the user's choice, else the client's locale, else English."""
    if preference != "auto":
        return preference
    return "zh" if locale and locale.lower().startswith("zh") else "en"


class Engine:
    def __init__(
        self,
        store: Store,
        bank: Bank,
        checkers: Checkers,
        clock: Clock,
        rng: random.Random | None = None,
        reviewer: Reviewer | None = None,
    ) -> None:
        self.store = store
        self.bank = bank
        self.checkers = checkers
        self.clock = clock
        self.rng = rng or random.Random()
        self.reviewer = reviewer or Reviewer()
        self.server_banks: dict[int, Bank] = {}  # questions imported by one server only
        self._pack_locks: dict[int, asyncio.Lock] = {}  # one import at a time per server
        self._users: dict[tuple[str, str], User] = {}
        self._servers: dict[tuple[str, str], Server] = {}
        self._recent: dict[int, list[str]] = {}  # user id -> question ids served, newest first
        self._recent_keys: dict[int, list[str]] = {}  # user id -> question keys, newest first
        self._ids: deque[int] = deque()  # reserved instance ids not used yet
        self._background = Background()
        self._stock = NumericStock(checkers, self.rng, self._background)
        self._posted = PostedWriter(store, self._background)

    async def warm_up(self) -> None:
        """Before the first user: grade one question of every family the bank uses (imports,
        caches), generate some of each family and difficulty ahead, reserve instance ids."""
        families = sorted({q.family for q in self.bank.questions.values() if q.family})

        def warm() -> None:
            for family in families:
                self.checkers.grade(family, 0, "0")

        await asyncio.to_thread(warm)
        await self._key_old_attempts()
        await self._stock.fill(families)
        if not self._ids:
            await self._reserve_ids()

    async def _key_old_attempts(self) -> None:
        """Attempts of generated questions stored before question keys existed have their
        FAMILY:SEED as key: give them their real one (see `_record`). Once: none are left
        after, but those of a family no longer known."""
        refs = await self.store.unkeyed_refs()
        if not refs:
            return
        families = frozenset(self.checkers.family_names())

        def keys() -> dict[str, str]:
            found: dict[str, str] = {}
            for ref in refs:
                family, seed = parse_generated_ref(ref)
                if family in families and seed is not None:
                    try:
                        found[ref] = self.checkers.generate(family, seed).key
                    except ValueError:  # a seed out of range: it keeps its ref
                        continue
            return found

        await self.store.set_question_keys(await asyncio.to_thread(keys))

    def reseed(self, seed: int) -> None:
        """Make the questions drawn from now on reproducible (pictures, tests): seed the
        generator and drop the numeric questions generated ahead with earlier draws."""
        self.rng.seed(seed)
        self._stock.clear()

    async def aclose(self) -> None:
        """Store the posted questions still queued and stop the background work (the
        database itself is the caller's to close)."""
        try:
            await self._posted.flush()
        finally:
            await self._background.close()

    # server question packs

    async def load_packs(self) -> list[BankProblem]:
        """Load every server's imported packs; returns problems (packs that no longer fit).

        Packs are read in their validated form (no YAML parsing at start-up), in a worker
        thread; a pack stored before that form was kept is parsed once and gets it."""
        packs = await self.store.packs()
        bodies = await self.store.pack_bodies()
        banks, problems, upgrades = await asyncio.to_thread(self._pack_banks, packs, bodies)
        self.server_banks = banks
        for pack, validated in upgrades:
            try:
                await self.store.set_pack_bodies(pack.id, pack.server_id, validated)
            except DuplicatePackQuestion:  # cannot happen in one process; kept as it is
                pass
        return problems

    def _pack_banks(
        self, packs: list[QuestionPack], bodies: dict[int, list[str]]
    ) -> tuple[dict[int, Bank], list[BankProblem], list[tuple[QuestionPack, list[PackBody]]]]:
        """Each server's bank of packs (in a worker thread: see `load_packs`), the problems of
        the packs left out, and the validated form of packs that had none stored."""
        banks: dict[int, Bank] = {}
        problems: list[BankProblem] = []
        upgrades: list[tuple[QuestionPack, list[PackBody]]] = []
        for pack in packs:
            current = banks.get(pack.server_id, Bank())
            name = f"pack {pack.id} ({pack.name})"
            merged = self._with_stored(current, bodies.get(pack.id, []), name)
            if merged is None:  # none stored, or no longer valid: the YAML says what is wrong
                merged, parsed = self._with_pack(current, pack.content, name)
                if not merged.problems and pack.id not in bodies:
                    upgrades.append((pack, pack_bodies(parsed)))
            if merged.problems:  # e.g. the main bank now has one of its ids: skip the pack
                problems.extend(merged.problems)
            else:
                banks[pack.server_id] = merged
        return banks, problems, upgrades

    def _with_stored(self, bank: Bank, bodies: list[str], name: str) -> Bank | None:
        """A copy of `bank` with a pack's stored questions added; None if there are none or
        one no longer fits (not valid any more, an id now taken, a checker family gone)."""
        if not bodies:
            return None
        merged = Bank(questions=dict(bank.questions), origin=dict(bank.origin))
        families = frozenset(self.checkers.family_names())
        for body in bodies:
            try:
                question = Question.model_validate_json(body)
            except ValueError:
                return None
            taken = question.id in merged.origin or question.id in self.bank.questions
            if taken or (question.family is not None and question.family not in families):
                return None
            merged.questions[question.id] = question
            merged.origin[question.id] = name
        return merged

    def _with_pack(self, bank: Bank, content: str, name: str) -> tuple[Bank, ParsedDocument]:
        """A copy of `bank` with the pack added (its `problems` say what does not fit), and
        the pack as parsed. Parses YAML: call it in a worker thread."""
        merged = Bank(questions=dict(bank.questions), origin=dict(bank.origin))
        for qid in self.bank.questions:  # an id of the main bank is a duplicate too
            merged.origin.setdefault(qid, "the built-in bank")
        parsed = parse_document(content, name, frozenset(self.checkers.family_names()))
        merge_parsed(merged, parsed, name)
        return merged, parsed

    async def import_pack(
        self, server_id: int, name: str, content: str, user: User | None
    ) -> QuestionPack:
        """Validate and store a pack for one server: all of it, or nothing (PackInvalid).

        One import at a time per server (two at once could both take the same id); parsing
        and validating run in a worker thread, and the database refuses an id that another
        pack of the server has (another process's import)."""
        if len(content.encode("utf-8")) > MAX_PACK_BYTES:
            raise PackInvalid(name, [too_large(name)])
        lock = self._pack_locks.setdefault(server_id, asyncio.Lock())
        async with lock:
            current = self.server_banks.get(server_id, Bank())
            merged, parsed = await asyncio.to_thread(self._with_pack, current, content, name)
            if merged.problems:
                raise PackInvalid(name, merged.problems)
            count = len(merged.questions) - len(current.questions)
            if count == 0:
                raise PackInvalid(
                    name,
                    [BankProblem(name, 1, "-", "questions", "no questions", "没有题目")],
                )
            validated = await asyncio.to_thread(pack_bodies, parsed)
            try:
                pack = await self.store.add_pack(
                    server_id,
                    name,
                    content,
                    count,
                    user.id if user else None,
                    self.clock.now(),
                    validated,
                )
            except DuplicatePackQuestion as exc:
                line = next((line for qid, line in parsed.ids if qid == exc.question), 1)
                raise PackInvalid(
                    name,
                    [
                        BankProblem(
                            name,
                            line,
                            exc.question,
                            "id",
                            f"duplicate id (also in {exc.pack})",
                            f"编号重复（{exc.pack} 中已有）",
                        )
                    ],
                ) from exc
            self.server_banks[server_id] = merged
            return pack

    def question(self, ref: str, server_id: int | None = None) -> Question | None:
        """A written question by id: the server's own packs first, then the main bank."""
        if server_id is not None and server_id in self.server_banks:
            found = self.server_banks[server_id].get(ref)
            if found is not None:
                return found
        return self.bank.get(ref)

    # users

    async def user(self, platform: str, external_id: str, name: str = "") -> User:
        """The user (created on first sight); kept in memory, as every interaction asks."""
        key = (platform, external_id)
        cached = self._users.get(key)
        if cached is not None and (not name or cached.name == name):
            return cached
        user = await self.store.get_or_create_user(platform, external_id, name)
        self._users[key] = user
        return user

    async def server(self, platform: str, external_id: str, name: str = "") -> Server:
        key = (platform, external_id)
        cached = self._servers.get(key)
        if cached is not None and (not name or cached.name == name):
            return cached
        server = await self.store.get_or_create_server(platform, external_id, name)
        self._servers[key] = server
        return server

    async def set_language(self, user: User, language: LanguagePref) -> User:
        updated = await self.store.set_language(user.id, language)
        self._users[(updated.platform, updated.external_id)] = updated
        return updated

    # choosing and posting questions

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
        if topic is not None and not topics_in(topic):
            raise UnknownTopic(topic)
        candidates = self.bank.select(topic, kind.kinds, difficulty)
        if server_id is not None and server_id in self.server_banks:
            candidates += self.server_banks[server_id].select(topic, kind.kinds, difficulty)
        if not candidates:
            raise NoQuestionFound(topic, kind.value, difficulty.value if difficulty else None)
        recent = (await self._recent_for(user))[: min(RECENT_WINDOW, max(0, len(candidates) - 1))]
        avoid = set(recent)
        fresh = [q for q in candidates if q.id not in avoid]
        if fresh:
            question = self.rng.choice(fresh)
        else:  # every candidate was served recently: the least recent one
            order = {ref: i for i, ref in enumerate(recent)}
            question = max(candidates, key=lambda q: order.get(q.id, len(order)))
        return await self.present(question, difficulty, self._recent_keys.get(user.id, []))

    async def _recent_for(self, user: User) -> list[str]:
        """The question ids this user was served most recently, newest first (read from the
        database once, then kept up to date in memory: every serve goes through here); the
        keys of the questions they answered or were served recently are loaded with them."""
        recent = self._recent.get(user.id)
        if recent is None:
            loaded = await self.store.recent_refs(user.id, RECENT_WINDOW)
            keys = await self.store.recent_keys(
                user.id, self.clock.now() - REWARD_WINDOW, RECENT_KEYS
            )
            self._recent_keys.setdefault(user.id, keys)
            recent = self._recent.setdefault(user.id, loaded)
        return recent

    def _note_served(self, user: User | None, served: ServedQuestion) -> None:
        if user is None:
            return
        if served.generated:
            self._note_key(user, served.question_key)
        if served.question_id is None or user.id not in self._recent:
            return  # not loaded yet: the database will have it
        recent = self._recent[user.id]
        recent[:] = [served.question_id, *(r for r in recent if r != served.question_id)]
        del recent[RECENT_WINDOW:]

    def _note_key(self, user: User, key: str) -> None:
        keys = self._recent_keys.get(user.id)
        if keys is not None:  # else not loaded yet: the database has the answered ones
            keys[:] = [key, *(k for k in keys if k != key)]
            del keys[RECENT_KEYS:]

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
            level = difficulty or question.difficulty or self.rng.choice(list(Difficulty))
            numeric = await self._numeric(question.family, level, recent_keys)
            return self._numeric_served(numeric, question)
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
        self, family: str, level: Difficulty, recent_keys: Sequence[str]
    ) -> NumericQuestion:
        """A generated question of that family and level: from the stock if it has one not
        among `recent_keys`, else from up to FRESH_TRIES new seeds (one trip to a worker
        thread); when the pool has nothing else, the least recently seen question."""
        avoid = frozenset(recent_keys)
        ready = self._stock.take(family, level, avoid)
        if ready is not None:
            return ready
        seeds = [random_seed(self.rng, level) for _ in range(FRESH_TRIES if avoid else 1)]
        tried = await asyncio.to_thread(self._generate_until_fresh, family, seeds, avoid)
        order = {key: index for index, key in enumerate(recent_keys)}
        return max(tried, key=lambda numeric: order.get(numeric.key, len(order)))

    def _generate_until_fresh(
        self, family: str, seeds: Sequence[int], avoid: frozenset[str]
    ) -> list[NumericQuestion]:
        tried: list[NumericQuestion] = []
        for seed in seeds:
            tried.append(self.checkers.generate(family, seed))
            if tried[-1].key not in avoid:
                break
        return tried

    async def generated(
        self, family: str, seed: int, template: Question | None = None
    ) -> ServedQuestion:
        """The generated question FAMILY:SEED (the template gives its topic and lead-in)."""
        if template is None:
            template = self._template_for(family)
        numeric = await asyncio.to_thread(self.checkers.generate, family, seed)
        return self._numeric_served(numeric, template)

    def _numeric_served(self, numeric: NumericQuestion, template: Question) -> ServedQuestion:
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

    def _template_for(self, family: str) -> Question:
        for question in self.bank.questions.values():
            if question.family == family:
                return question
        raise UnknownQuestion(family)

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
        instance = await self.store.create_instance(
            served,
            server_id,
            channel_id,
            lang,
            self.clock.now(),
            daily_day,
            served_to.id if served_to else None,
        )
        self._note_served(served_to, served)
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

            async with engine.posting(served, ...) as posting:
                message = await send(question with posting.instance.id in its buttons)
                posting.message_id = message.id

        The instance id comes from a block reserved ahead, so nothing waits on the database
        before the reply. When the block exits, the row (with the message id and the served
        note) is queued and written with the others of the next few milliseconds, in one
        transaction (not at all if the block raises). An answer that arrives first has the
        queue written at once and waits for it; one that finds no row (the process died in
        between) can `restore` it from the message."""
        instance = QuestionInstance.of(
            served, await self._next_instance_id(), server_id, channel_id, lang, self.clock.now()
        )
        self._posted.shown(instance.id)
        self._note_served(served_to, served)
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
        first = await self.store.reserve_instance_ids(ID_BLOCK)
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
            if family not in self.checkers.family_names():
                raise UnknownQuestion(ref)
            served = await self.generated(family, seed)
        else:
            question = self.question(ref, server_id)
            if question is None or question.kind is Kind.NUMERIC:
                raise UnknownQuestion(ref)
            served = await self.present(question)
        now = self.clock.now()
        stored = await self.store.create_instance(
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
        await self.store.set_instance_message(instance_id, message_id)

    async def instance(self, instance_id: int) -> QuestionInstance:
        await self._posted.wait_stored(instance_id)  # if shown a moment ago
        found = await self.store.get_instance(instance_id)
        if found is None:
            raise UnknownQuestion(f"#{instance_id}")
        return found

    async def reshow(self, instance: QuestionInstance) -> ServedQuestion:
        """The question of a posted instance, rebuilt from its reference (after a restart)."""
        family, seed = parse_generated_ref(instance.ref)
        if family is not None and seed is not None:
            return await self.generated(family, seed)
        question = self.question(instance.ref, instance.server_id)
        if question is None:
            raise UnknownQuestion(instance.ref)
        return await self.present(question)

    async def by_reference(self, ref: str, server_id: int | None = None) -> ServedQuestion:
        """The question a reference names, to ask it again: `FAMILY:SEED` (exactly that
        variant) or a written question's id (a numeric template: a fresh variant).
        UnknownQuestion if it names nothing."""
        family, seed = parse_generated_ref(ref)
        if family is not None and seed is not None:
            names = await asyncio.to_thread(self.checkers.family_names)  # may load torch
            if family not in names or seed > MAX_SEED:
                raise UnknownQuestion(ref)
            return await self.generated(family, seed)
        question = self.question(ref, server_id)
        if question is None:
            raise UnknownQuestion(ref)
        return await self.present(question)

    # daily questions

    async def set_daily(
        self, server_id: int, channel_id: str, time_utc: str, user: User | None
    ) -> str:
        """Post a daily question in that channel at HH:MM UTC; returns the normalised time."""
        normalised = parse_hhmm(time_utc)
        await self.store.set_daily(server_id, channel_id, normalised, user.id if user else None)
        return normalised

    async def disable_daily(self, server_id: int) -> bool:
        return await self.store.disable_daily(server_id)

    async def due_dailies(self) -> list[DailySetting]:
        """Servers whose daily question time has come today and that have not had it yet."""
        now = self.clock.now()
        today, clock_time = now.date(), now.strftime("%H:%M")
        return [
            d
            for d in await self.store.daily_settings()
            if d.time_utc <= clock_time and (d.last_day is None or d.last_day < today)
        ]

    async def post_daily(
        self,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang = "en",
        user: User | None = None,
    ) -> tuple[ServedQuestion, QuestionInstance] | None:
        """Today's daily question for a server, or outside servers for `user` (the console):
        one question per scope and UTC day, chosen on its first call that day and the same
        instance after (so it pays once). None if a server's was already posted today (two
        pollers never post twice)."""
        today = self.clock.now().date()
        if server_id is not None and not await self.store.claim_daily(server_id, today):
            return None
        scope = daily_scope(server_id, user)
        existing = await self.store.daily_instance(scope, today)
        if existing is not None:
            return await self.reshow(existing), existing
        candidates = self.bank.select(None, KindFilter.ANY.kinds, None)
        if server_id is not None and server_id in self.server_banks:
            candidates += self.server_banks[server_id].select(None, KindFilter.ANY.kinds, None)
        candidates = [q for q in candidates if q.kind is not Kind.OPEN]  # graded ones only
        if not candidates:
            raise NoQuestionFound(None, "daily", None)
        served = await self.present(self.rng.choice(candidates))
        instance = await self.store.create_daily(
            scope, today, served, server_id, channel_id, lang, self.clock.now()
        )
        if instance.ref != served.ref:  # another process chose the day's question first
            served = await self.reshow(instance)
        return served, instance

    # spaced repetition

    async def reviews_due(self, user: User) -> int:
        return await self.store.count_due(user.id, self.clock.now())

    async def due_reviews(
        self, user: User, count: int, server_id: int | None = None
    ) -> list[ServedQuestion]:
        """Questions for the user's due cards, most overdue first; a family card serves a
        fresh variant. Items no longer in the bank are skipped."""
        served: list[ServedQuestion] = []
        for card in await self.store.due_cards(user.id, self.clock.now(), count * 2):
            family = card.item.removeprefix("family:") if card.item.startswith("family:") else None
            if family is not None:
                if family not in self.checkers.family_names():
                    continue
                template = self._template_for(family)
                served.append(await self.present(template))
            else:
                question = self.question(card.item, server_id)
                if question is None:
                    continue
                served.append(await self.present(question))
            if len(served) == count:
                break
        return served

    # answering

    async def answered(self, instance_id: int, user: User) -> bool | None:
        """Whether this user's counted answer was correct; None if they have not answered."""
        return await self.store.get_attempt_correct(instance_id, user.id)

    async def answer(
        self, instance_id: int, user: User, text: str, hints: int = 0, ref: str | None = None
    ) -> AnswerOutcome:
        """Grade an answer; the user's first readable answer to the instance is recorded.
        `ref`: the question the user saw, if known; UnknownQuestion if the instance is
        another (say a database restored from an older backup numbered it again)."""
        instance = await self.instance(instance_id)
        if ref is not None and instance.ref != ref:
            raise UnknownQuestion(ref)
        if instance.kind is Kind.OPEN:
            raise WrongKind(instance.ref, instance.kind.value)
        grade, explanation, key = await self._grade(instance, text)
        if grade.verdict is Verdict.UNREADABLE:
            return AnswerOutcome(grade=grade, counted=False, points=0)
        rating = rating_for(instance.kind, grade.correct, hints, self._seconds_since(instance))
        return await self._record(
            instance, user, text, grade, explanation, grade.correct, rating, hints, key=key
        )

    async def self_rate(
        self, instance_id: int, user: User, rating: SelfRating, hints: int = 0
    ) -> AnswerOutcome:
        """Record how an open question went, as the user rates it; it earns no points."""
        instance = await self.instance(instance_id)
        if instance.kind is not Kind.OPEN:
            raise WrongKind(instance.ref, instance.kind.value)
        question = self.question(instance.ref, instance.server_id)
        correct = rating is not SelfRating.AGAIN
        verdict = Verdict.CORRECT if correct else Verdict.INCORRECT
        grade = Grade(
            verdict=verdict,
            feedback=Localized(
                en=f"{verdict.marker} Rated: {rating.value}.",
                zh=f"{verdict.marker} 自评：{_RATING_ZH[rating]}。",
            ),
        )
        explanation = question.explanation if question else None
        return await self._record(
            instance, user, rating.value, grade, explanation, correct, _FSRS[rating], hints
        )

    def _seconds_since(self, instance: QuestionInstance) -> float:
        return max(0.0, (self.clock.now() - instance.created_at).total_seconds())

    async def _record(
        self,
        instance: QuestionInstance,
        user: User,
        answer: str,
        grade: Grade,
        explanation: Localized | None,
        correct: bool,
        rating: Rating,
        hints: int,
        *,
        key: str | None = None,
    ) -> AnswerOutcome:
        """Record the first answer with its points, review card and streak, atomically.
        `key`: what the question asks (`question_key`; a written question's is its id): a
        question earns points once in REWARD_WINDOW, whatever seed drew it."""
        previous = await self.store.get_attempt_correct(instance.id, user.id)
        counted = False
        points = 0
        key = key or instance.ref
        if previous is None:
            now = self.clock.now()
            # Attempts stored before keys existed have their ref as key: check it too.
            rewarded = await self.store.keys_rewarded_since(
                user.id, sorted({key, instance.ref}), now - REWARD_WINDOW
            )
            points = points_for(instance.kind, instance.difficulty, correct, bool(rewarded), hints)
            item = review_item(instance.ref)
            card = self.reviewer.review(
                await self.store.get_card(user.id, item), item, instance.topic, rating, now
            )
            daily = instance.daily_day is not None and instance.daily_day == now.date()
            counted = await self.store.record_attempt(
                AttemptRecord(
                    instance_id=instance.id,
                    user_id=user.id,
                    server_id=instance.server_id,
                    topic=instance.topic,
                    ref=instance.ref,
                    question_key=key,
                    answer=answer[:500],
                    correct=correct,
                    points=points,
                    at=now,
                    review=card,
                    streak_day=now.date() if daily and correct else None,
                )
            )
            if not counted:  # another delivery of the same answer won the race
                points = 0
                previous = await self.store.get_attempt_correct(instance.id, user.id)
            elif instance.kind is Kind.NUMERIC:
                self._note_key(user, key)
        counts = await self.store.instance_counts(instance.id)
        unpaid: Literal["hint", "repeat", "self_rated"] | None = None
        if counted and correct and not points:
            unpaid = "self_rated" if instance.kind is Kind.OPEN else "hint" if hints else "repeat"
        return AnswerOutcome(
            grade=grade,
            counted=counted,
            points=points,
            previous_correct=previous,
            explanation=explanation,
            counts=counts,
            unpaid=unpaid,
        )

    async def _grade(
        self, instance: QuestionInstance, text: str
    ) -> tuple[Grade, Localized | None, str]:
        """The grade, the explanation and the question's key (see `_record`)."""
        family, seed = parse_generated_ref(instance.ref)
        if family is not None and seed is not None:
            return await asyncio.to_thread(self._grade_generated, family, seed, text)
        question = self.question(instance.ref, instance.server_id)
        if question is None:
            raise UnknownQuestion(instance.ref)
        return grade_choice(question, text), question.explanation, instance.ref

    def _grade_generated(self, family: str, seed: int, text: str) -> tuple[Grade, Localized, str]:
        """Grade, worked solution and key together: one trip off the event loop, not two."""
        numeric = self.checkers.generate(family, seed)
        return self.checkers.grade(family, seed, text), numeric.solution, numeric.key

    async def reset_scores(self, server_id: int, member: User | None) -> int:
        return await self.store.reset_scores(server_id, member.id if member else None)

    # stats

    async def history(self, user: User, count: int = 10) -> list[HistoryEntry]:
        """The user's last `count` counted answers (everywhere), newest first."""
        return await self.store.recent_attempts(user.id, count)

    async def stats(self, user: User, server_id: int | None = None) -> UserStats:
        by_topic = await self.store.topic_stats(user.id, server_id)
        current, best = await self.store.streak(user.id, server_id)
        return UserStats(user=user, by_topic=by_topic, streak=current, best_streak=best)

    async def topics(self, user: User | None = None) -> list[TopicSummary]:
        counts = self.bank.counts_by_topic()
        stats = {t.topic: t for t in await self.store.topic_stats(user.id, None)} if user else {}
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
        if topic is not None and not topics_in(topic):
            raise UnknownTopic(topic)
        return await self.store.leaderboard(
            scope, period, server_id, topic, user.id if user else None, limit, self.clock.now()
        )


_FSRS = {
    SelfRating.AGAIN: Rating.Again,
    SelfRating.HARD: Rating.Hard,
    SelfRating.GOOD: Rating.Good,
    SelfRating.EASY: Rating.Easy,
}
_RATING_ZH = {
    SelfRating.AGAIN: "没答上",
    SelfRating.HARD: "勉强",
    SelfRating.GOOD: "答上了",
    SelfRating.EASY: "很轻松",
}


def grade_choice(question: Question, text: str) -> Grade:
    """Grade a multiple-choice answer (a letter); ⚠️ for anything that is not one."""
    expected = question.answer or "?"
    try:
        picked = read_choice(text, len(question.choices))
    except AnswerFormatError as exc:
        return Grade(
            verdict=Verdict.UNREADABLE,
            feedback=Localized(
                en=f"⚠️ Could not read that answer: expected {exc.expected_form.en}.",
                zh=f"⚠️ 无法识别这个答案：请给出{exc.expected_form.zh}。",
            ),
        )
    right = picked == question.answer_index
    verdict = Verdict.CORRECT if right else Verdict.INCORRECT
    why = question.choices[picked].why
    why_en = _VERDICT_EN.sub("", why.en, count=1) if why else ""
    why_zh = _VERDICT_ZH.sub("", why.zh, count=1) if why else ""
    letter = LETTERS[picked]
    if right:
        en = f"✅ Correct: {letter}. {why_en}".rstrip()
        zh = f"✅ 正确：{letter}。{why_zh}"
    else:  # why this option is wrong first, then the right letter
        en = f"❌ {letter} is not right{': ' + why_en if why_en else '.'} The answer is {expected}."
        zh = f"❌ {letter} 不对{'：' + why_zh if why_zh else '。'}正确答案是 {expected}。"
    return Grade(verdict=verdict, feedback=Localized(en=en, zh=zh), expected=expected)


# A `why` may open with its own verdict ("Correct: ..."); the feedback already has one.
_VERDICT_EN = re.compile(r"^(correct|right|wrong|incorrect)\s*[.:!,;—-]\s*", re.IGNORECASE)
_VERDICT_ZH = re.compile(r"^(正确|对|错误|错)\s*[。：:！，,;；—-]\s*")


def parse_hhmm(text: str) -> str:
    """`7:30`, `07:30`, `0730` -> `07:30`; BadTime for anything else."""
    cleaned = text.strip().replace("：", ":")
    if ":" not in cleaned and len(cleaned) == 4 and cleaned.isdigit():
        cleaned = f"{cleaned[:2]}:{cleaned[2:]}"
    hours, sep, minutes = cleaned.partition(":")
    if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
        h, m = int(hours), int(minutes)
        if 0 <= h < 24 and 0 <= m < 60:
            return f"{h:02d}:{m:02d}"
    raise BadTime(text)


def daily_scope(server_id: int | None, user: User | None) -> str:
    """Whose daily question: a server's, else a user's (the console), else everyone's."""
    if server_id is not None:
        return f"server:{server_id}"
    return f"user:{user.id}" if user is not None else "local"


def parse_generated_ref(ref: str) -> tuple[str | None, int | None]:
    """(family, seed) for a `FAMILY:SEED` reference; (None, None) for a bank id."""
    family, sep, seed = ref.partition(":")
    if sep and seed.isdigit() and family:
        return family, int(seed)
    return None, None


__all__ = [
    "Engine",
    "KindFilter",
    "Posting",
    "SelfRating",
    "TopicSummary",
    "grade_choice",
    "language_for",
    "parse_generated_ref",
]
