"""Question packs and their validated questions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from bot.core.errors import DuplicatePackQuestion
from bot.core.models import QuestionPack
from bot.storage.sqlite._common import Area, iso, parse_iso


def _pack(row: aiosqlite.Row) -> QuestionPack:
    return QuestionPack(
        id=row["id"],
        server_id=row["server_id"],
        name=row["name"],
        content=row["content"],
        questions=row["questions"],
        created_at=parse_iso(row["created_at"]),
    )


async def _add_pack_questions(
    conn: aiosqlite.Connection, pack_id: int, server_id: int, bodies: Sequence[tuple[str, str]]
) -> None:
    """Insert a pack's questions; DuplicatePackQuestion naming the first id that another pack
    of the server already has (the caller's transaction is then rolled back)."""
    await conn.executemany(
        "INSERT INTO pack_questions (server_id, question_id, pack_id, position, body)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (server_id, question_id) DO NOTHING",
        [(server_id, qid, pack_id, i, body) for i, (qid, body) in enumerate(bodies)],
    )
    rows = await conn.execute_fetchall(
        "SELECT question_id FROM pack_questions WHERE pack_id = ?", (pack_id,)
    )
    stored = {row[0] for row in rows}
    for qid, _ in bodies:
        if qid not in stored:
            owner = await conn.execute_fetchall(
                "SELECT p.id, p.name FROM pack_questions q JOIN question_packs p"
                " ON p.id = q.pack_id WHERE q.server_id = ? AND q.question_id = ?",
                (server_id, qid),
            )
            where = next((f"pack {r[0]} ({r[1]})" for r in owner), "another pack")
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
        async with self.db.transaction() as conn:
            if replaces is not None:
                await conn.execute(
                    "DELETE FROM question_packs WHERE id = ? AND server_id = ?",
                    (replaces, server_id),
                )
            cursor = await conn.execute(
                "INSERT INTO question_packs (server_id, name, content, questions, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                (server_id, name, content, questions, user_id, iso(at)),
            )
            row = await cursor.fetchone()
            await cursor.close()
            assert row is not None
            await _add_pack_questions(conn, row["id"], server_id, bodies)
        return _pack(row)

    async def pack_bodies(self) -> dict[int, list[str]]:
        """The validated questions (JSON) of every pack that has them, by pack id, in order."""
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
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
        async with self.db.transaction() as conn:
            await _add_pack_questions(conn, pack_id, server_id, bodies)

    async def packs(self, server_id: int | None = None) -> list[QuestionPack]:
        sql = "SELECT * FROM question_packs"
        args: tuple[int, ...] = ()
        if server_id is not None:
            sql += " WHERE server_id = ?"
            args = (server_id,)
        async with self.db.read() as conn, conn.execute(sql + " ORDER BY id", args) as cursor:
            rows = await cursor.fetchall()
        return [_pack(row) for row in rows]
