"""Question packs and their validated questions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from bot.core.errors import DuplicatePackQuestion
from bot.core.models import QuestionPack
from bot.storage.postgres._common import Area, read_utc, utc
from bot.storage.postgres._db import Conn


def _pack(row: asyncpg.Record) -> QuestionPack:
    return QuestionPack(
        id=row["id"],
        server_id=row["server_id"],
        name=row["name"],
        content=row["content"],
        questions=row["questions"],
        created_at=read_utc(row["created_at"]),
    )


async def _add_pack_questions(
    conn: Conn, pack_id: int, server_id: int, bodies: Sequence[tuple[str, str]]
) -> None:
    """Insert a pack's questions; DuplicatePackQuestion naming the first id that another pack
    of the server already has (the caller's transaction is then rolled back). The primary key
    (server, question id) decides, also between two processes importing at once: the second
    insert waits for the first's commit and then inserts nothing."""
    if not bodies:
        return
    stored = await conn.fetch(
        "INSERT INTO pack_questions (server_id, question_id, pack_id, position, body)"
        " SELECT $1, q, $2, p - 1, b FROM unnest($3::text[], $4::text[]) WITH ORDINALITY"
        " AS k(q, b, p) ON CONFLICT (server_id, question_id) DO NOTHING RETURNING question_id",
        server_id,
        pack_id,
        [qid for qid, _ in bodies],
        [body for _, body in bodies],
    )
    mine = {row[0] for row in stored}
    for qid, _ in bodies:
        if qid not in mine:
            owner = await conn.fetchrow(
                "SELECT p.id, p.name FROM pack_questions q JOIN question_packs p"
                " ON p.id = q.pack_id WHERE q.server_id = $1 AND q.question_id = $2",
                server_id,
                qid,
            )
            if owner is not None and owner["id"] == pack_id:
                continue  # the same id twice in this pack: the first one is kept
            where = f"pack {owner['id']} ({owner['name']})" if owner else "another pack"
            raise DuplicatePackQuestion(qid, where)


class Packs(Area):
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
        """Store a pack with its validated questions (`bodies`: id and JSON of each, in
        order); DuplicatePackQuestion, and nothing stored, if another pack of the server has
        one of those ids. `replaces`: that pack of the server removed first, in the same
        transaction (its questions with it: ON DELETE CASCADE)."""

        async def add(conn: Conn) -> asyncpg.Record:
            if replaces is not None:
                await conn.execute(
                    "DELETE FROM question_packs WHERE id = $1 AND server_id = $2",
                    replaces,
                    server_id,
                )
            row = await conn.fetchrow(
                "INSERT INTO question_packs (server_id, name, content, questions, created_by,"
                " created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
                server_id,
                name,
                content,
                questions,
                user_id,
                utc(at),
            )
            assert row is not None
            await _add_pack_questions(conn, row["id"], server_id, bodies)
            return row

        return _pack(await self.db.transaction(add))

    async def pack_bodies(self) -> dict[int, list[str]]:
        """The validated questions (JSON) of every pack that has them, by pack id, in order."""
        rows = await self.db.fetch(
            "SELECT pack_id, body FROM pack_questions ORDER BY pack_id, position"
        )
        bodies: dict[int, list[str]] = {}
        for row in rows:
            bodies.setdefault(row[0], []).append(row[1])
        return bodies

    async def set_pack_bodies(
        self, pack_id: int, server_id: int, bodies: Sequence[tuple[str, str]]
    ) -> None:
        """Store the validated questions of a pack stored before they were kept (see
        `add_pack`); DuplicatePackQuestion, and nothing stored, on an id another pack has."""

        async def add(conn: Conn) -> None:
            await _add_pack_questions(conn, pack_id, server_id, bodies)

        await self.db.transaction(add)

    async def packs(self, server_id: int | None = None) -> list[QuestionPack]:
        rows = await self.db.fetch(
            "SELECT * FROM question_packs WHERE $1::bigint IS NULL OR server_id = $1 ORDER BY id",
            server_id,
        )
        return [_pack(row) for row in rows]
