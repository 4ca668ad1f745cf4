"""The catalog: the main bank, each server's imported packs, and the questions they offer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from bot.core.bank import (
    BUILT_IN,
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
from bot.core.errors import DuplicatePackQuestion, PackInvalid, UnknownQuestion
from bot.core.models import Difficulty, Kind, Question, QuestionPack, User
from bot.core.ports import Checkers, Clock, PackStore


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


def parse_generated_ref(ref: str) -> tuple[str | None, int | None]:
    """(family, seed) for a `FAMILY:SEED` reference; (None, None) for a bank id."""
    family, sep, seed = ref.partition(":")
    if sep and seed.isascii() and seed.isdigit() and family:
        return family, int(seed)
    return None, None


@dataclass(frozen=True, slots=True)
class Imported:
    """A pack imported (`Catalog.import_pack`), and the pack of the same name it replaced."""

    pack: QuestionPack
    replaced: QuestionPack | None = None


def _without(bank: Bank, origins: set[str]) -> Bank:
    """A copy of `bank` without the questions that came from these origins (a pack)."""
    kept = {qid for qid, origin in bank.origin.items() if origin not in origins}
    return Bank(
        questions={qid: q for qid, q in bank.questions.items() if qid in kept},
        origin={qid: origin for qid, origin in bank.origin.items() if qid in kept},
    )


class Catalog:
    """The questions there are: `question` by id, `candidates` to choose from, the numeric
    `template_for` a family; server packs loaded (`load_packs`) and imported (`import_pack`)."""

    def __init__(self, bank: Bank, checkers: Checkers, packs: PackStore, clock: Clock) -> None:
        self.bank = bank
        self._checkers = checkers
        self._packs = packs
        self._clock = clock
        self.server_banks: dict[int, Bank] = {}  # questions imported by one server only
        self._pack_locks: dict[int, asyncio.Lock] = {}  # one import at a time per server

    def question(self, ref: str, server_id: int | None = None) -> Question | None:
        """A written question by id: the server's own packs first, then the main bank."""
        if server_id is not None and server_id in self.server_banks:
            found = self.server_banks[server_id].get(ref)
            if found is not None:
                return found
        return self.bank.get(ref)

    def candidates(
        self,
        topic: str | None,
        kinds: frozenset[Kind],
        difficulty: Difficulty | None,
        server_id: int | None = None,
    ) -> list[Question]:
        """The questions of the main bank and the server's packs that fit."""
        found = self.bank.select(topic, kinds, difficulty)
        if server_id is not None and server_id in self.server_banks:
            found += self.server_banks[server_id].select(topic, kinds, difficulty)
        return found

    def template_for(self, family: str, topic: str | None = None) -> Question:
        """The family's template: the one of `topic` if the family has one there (a family
        may be asked in several topics), else its first."""
        found = [q for q in self.bank.questions.values() if q.family == family]
        if not found:
            raise UnknownQuestion(family)
        return next((q for q in found if q.topic == topic), found[0])

    def families(self) -> list[str]:
        """The numeric families the main bank uses."""
        return sorted({q.family for q in self.bank.questions.values() if q.family})

    # server question packs

    async def load_packs(self) -> list[BankProblem]:
        """Load every server's imported packs; returns problems (packs that no longer fit).

        Packs are read in their validated form (no YAML parsing at start-up), in a worker
        thread; a pack stored before that form was kept is parsed once and gets it."""
        packs = await self._packs.packs()
        bodies = await self._packs.pack_bodies()
        banks, problems, upgrades = await asyncio.to_thread(self._pack_banks, packs, bodies)
        self.server_banks = banks
        for pack, validated in upgrades:
            try:
                await self._packs.set_pack_bodies(pack.id, pack.server_id, validated)
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
        families = frozenset(self._checkers.family_names())
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
            merged.origin.setdefault(qid, BUILT_IN)
        parsed = parse_document(content, name, frozenset(self._checkers.family_names()))
        merge_parsed(merged, parsed, name)
        return merged, parsed

    async def import_pack(
        self, server_id: int, name: str, content: str, user: User | None
    ) -> Imported:
        """Validate and store a pack for one server: all of it, or nothing (PackInvalid). A
        file named as a pack the server imported before replaces it (a corrected file: its
        ids may be the same), in the same transaction.

        One import at a time per server (two at once could both take the same id); parsing
        and validating run in a worker thread, and the database refuses an id that another
        pack of the server has (another process's import)."""
        if len(content.encode("utf-8")) > MAX_PACK_BYTES:
            raise PackInvalid(name, [too_large(name)])
        lock = self._pack_locks.setdefault(server_id, asyncio.Lock())
        async with lock:
            old = next(
                (p for p in reversed(await self._packs.packs(server_id)) if p.name == name), None
            )
            current = self.server_banks.get(server_id, Bank())
            if old is not None:  # its questions as loaded at start-up or imported since
                current = _without(current, {old.name, f"pack {old.id} ({old.name})"})
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
                pack = await self._packs.add_pack(
                    server_id,
                    name,
                    content,
                    count,
                    user.id if user else None,
                    self._clock.now(),
                    validated,
                    replaces=old.id if old is not None else None,
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
            return Imported(pack, old)
