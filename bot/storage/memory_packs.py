"""The `PackStore` role in memory (a part of `MemoryStore`), as SQLite keeps it (migrations
0001 and 0006): the same contract (tests/storage/contract/test_packs.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.errors import DuplicatePackQuestion
from bot.core.models import QuestionPack
from bot.storage.memory_quiz import _utc


class MemoryPacks:
    """Question packs and their validated questions, in dicts."""

    def __init__(self) -> None:
        self._packs: dict[int, QuestionPack] = {}
        # (server, question id) -> (pack id, position, body)
        self._pack_questions: dict[tuple[int, str], tuple[int, int, str]] = {}

    def _check_pack_questions(
        self, pack_id: int, server_id: int, bodies: Sequence[tuple[str, str]], free: int = 0
    ) -> None:
        """DuplicatePackQuestion naming the first id another pack (not `free`) has."""
        for qid, _ in bodies:
            owner = self._pack_questions.get((server_id, qid))
            if owner is not None and owner[0] not in (pack_id, free):
                pack = self._packs.get(owner[0])
                where = f"pack {pack.id} ({pack.name})" if pack else "another pack"
                raise DuplicatePackQuestion(qid, where)

    def _add_pack_questions(
        self, pack_id: int, server_id: int, bodies: Sequence[tuple[str, str]]
    ) -> None:
        for position, (qid, body) in enumerate(bodies):
            self._pack_questions.setdefault((server_id, qid), (pack_id, position, body))

    async def add_pack(
        self,
        server_id: int,
        name: str,
        content: str,
        questions: int,
        user_id: int | None,
        at: datetime,
        bodies: Sequence[tuple[str, str]] = (),
        replaces: int | None = None,
    ) -> QuestionPack:
        pack_id = max(self._packs, default=0) + 1
        old = self._packs.get(replaces) if replaces is not None else None
        gone = old.id if old is not None and old.server_id == server_id else pack_id
        self._check_pack_questions(pack_id, server_id, bodies, gone)  # its ids are free
        self._packs.pop(gone, None)
        self._pack_questions = {k: r for k, r in self._pack_questions.items() if r[0] != gone}
        pack = QuestionPack(
            id=pack_id,
            server_id=server_id,
            name=name,
            content=content,
            questions=questions,
            created_at=_utc(at),
        )
        self._packs[pack_id] = pack
        self._add_pack_questions(pack_id, server_id, bodies)
        return pack

    async def packs(self, server_id: int | None = None) -> list[QuestionPack]:
        return [
            p
            for _, p in sorted(self._packs.items())
            if server_id is None or p.server_id == server_id
        ]

    async def pack_bodies(self) -> dict[int, list[str]]:
        bodies: dict[int, list[tuple[int, str]]] = {}
        for pack_id, position, body in self._pack_questions.values():
            bodies.setdefault(pack_id, []).append((position, body))
        return {p: [b for _, b in sorted(rows)] for p, rows in sorted(bodies.items())}

    async def set_pack_bodies(
        self, pack_id: int, server_id: int, bodies: Sequence[tuple[str, str]]
    ) -> None:
        self._check_pack_questions(pack_id, server_id, bodies)
        self._add_pack_questions(pack_id, server_id, bodies)
