"""`SqliteStore`: the core's `Store` port over SQLite. Raw, parameterised, portable SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import aiosqlite

from bot.core.models import (
    AttemptRecord,
    Difficulty,
    InstanceCounts,
    Kind,
    Lang,
    LanguagePref,
    Leaderboard,
    LeaderboardEntry,
    Period,
    QuestionInstance,
    QuestionPack,
    Scope,
    ServedQuestion,
    Server,
    TopicStats,
    User,
)
from bot.storage.db import Database

LOCAL_SERVER = 0  # streak key for activity outside any server (the console)


def iso(at: datetime) -> str:
    """The stored form of a time: ISO-8601 in UTC with microseconds (sorts as text)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: the core works in UTC only")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _user(row: aiosqlite.Row) -> User:
    return User(
        id=row["id"],
        platform=row["platform"],
        external_id=row["external_id"],
        name=row["name"],
        language=row["language"],
    )


def _instance(row: aiosqlite.Row) -> QuestionInstance:
    return QuestionInstance(
        id=row["id"],
        ref=row["ref"],
        kind=Kind(row["kind"]),
        topic=row["topic"],
        difficulty=Difficulty(row["difficulty"]),
        server_id=row["server_id"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        lang=row["lang"],
        created_at=parse_iso(row["created_at"]),
    )


def _pack(row: aiosqlite.Row) -> QuestionPack:
    return QuestionPack(
        id=row["id"],
        server_id=row["server_id"],
        name=row["name"],
        content=row["content"],
        questions=row["questions"],
        created_at=parse_iso(row["created_at"]),
    )


class SqliteStore:
    """Repositories over one `Database`; each method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # users and servers

    async def get_or_create_user(self, platform: str, external_id: str, name: str) -> User:
        found = await self.find_user(platform, external_id)
        if found is not None and (not name or found.name == name):
            return found  # the common case: no write, no fsync
        now = iso(datetime.now(UTC))
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO users (platform, external_id, name, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (platform, external_id) DO UPDATE SET name = excluded.name"
                " WHERE excluded.name <> '' AND excluded.name <> users.name",
                (platform, external_id, name, now),
            )
            async with conn.execute(
                "SELECT * FROM users WHERE platform = ? AND external_id = ?",
                (platform, external_id),
            ) as cursor:
                row = await cursor.fetchone()
        assert row is not None
        return _user(row)

    async def get_user(self, user_id: int) -> User | None:
        async with (
            self.db.read() as conn,
            conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)) as cursor,
        ):
            row = await cursor.fetchone()
        return _user(row) if row else None

    async def find_user(self, platform: str, external_id: str) -> User | None:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT * FROM users WHERE platform = ? AND external_id = ?",
                (platform, external_id),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return _user(row) if row else None

    async def set_language(self, user_id: int, language: LanguagePref) -> User:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))
            async with conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)) as cursor:
                row = await cursor.fetchone()
        if row is None:
            raise KeyError(user_id)
        return _user(row)

    async def get_or_create_server(self, platform: str, external_id: str, name: str) -> Server:
        now = iso(datetime.now(UTC))
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO servers (platform, external_id, name, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (platform, external_id) DO UPDATE SET name = excluded.name"
                " WHERE excluded.name <> '' AND excluded.name <> servers.name",
                (platform, external_id, name, now),
            )
            async with conn.execute(
                "SELECT * FROM servers WHERE platform = ? AND external_id = ?",
                (platform, external_id),
            ) as cursor:
                row = await cursor.fetchone()
        assert row is not None
        return Server(
            id=row["id"],
            platform=row["platform"],
            external_id=row["external_id"],
            name=row["name"],
        )

    # questions and attempts

    async def create_instance(
        self,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        at: datetime,
    ) -> QuestionInstance:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO question_instances"
                " (ref, kind, topic, difficulty, server_id, channel_id, lang, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    served.ref,
                    served.kind.value,
                    served.topic,
                    served.difficulty.value,
                    server_id,
                    channel_id,
                    lang,
                    iso(at),
                ),
            )
            row = await cursor.fetchone()
            await cursor.close()
        assert row is not None
        return _instance(row)

    async def set_instance_message(self, instance_id: int, message_id: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE question_instances SET message_id = ? WHERE id = ?",
                (message_id, instance_id),
            )

    async def get_instance(self, instance_id: int) -> QuestionInstance | None:
        async with (
            self.db.read() as conn,
            conn.execute("SELECT * FROM question_instances WHERE id = ?", (instance_id,)) as cur,
        ):
            row = await cur.fetchone()
        return _instance(row) if row else None

    async def record_attempt(self, attempt: AttemptRecord) -> bool:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, answer,"
                " correct, points, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (instance_id, user_id) DO NOTHING",
                (
                    attempt.instance_id,
                    attempt.user_id,
                    attempt.server_id,
                    attempt.topic,
                    attempt.ref,
                    attempt.answer,
                    int(attempt.correct),
                    attempt.points,
                    iso(attempt.at),
                ),
            )
            inserted = cursor.rowcount == 1
            await cursor.close()
        return inserted

    async def get_attempt_correct(self, instance_id: int, user_id: int) -> bool | None:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT correct FROM attempts WHERE instance_id = ? AND user_id = ?",
                (instance_id, user_id),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return bool(row[0]) if row else None

    async def instance_counts(self, instance_id: int) -> InstanceCounts:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM attempts WHERE instance_id = ?",
                (instance_id,),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        assert row is not None
        return InstanceCounts(answered=row[0], correct=row[1])

    async def note_served(self, user_id: int, ref: str, at: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO served (user_id, ref, served_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id, ref) DO UPDATE SET served_at = excluded.served_at",
                (user_id, ref, iso(at)),
            )

    async def recent_refs(self, user_id: int, limit: int) -> list[str]:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT ref FROM served WHERE user_id = ? ORDER BY served_at DESC LIMIT ?",
                (user_id, limit),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [row[0] for row in rows]

    async def refs_rewarded_since(
        self, user_id: int, refs: Sequence[str], since: datetime
    ) -> set[str]:
        if not refs:
            return set()
        marks = ",".join("?" * len(refs))
        async with (
            self.db.read() as conn,
            conn.execute(
                f"SELECT DISTINCT ref FROM attempts WHERE user_id = ? AND points > 0"
                f" AND created_at >= ? AND ref IN ({marks})",
                (user_id, iso(since), *refs),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return {row[0] for row in rows}

    async def reset_scores(self, server_id: int, user_id: int | None) -> int:
        async with self.db.transaction() as conn:
            if user_id is None:
                cursor = await conn.execute(
                    "DELETE FROM attempts WHERE server_id = ?", (server_id,)
                )
                await conn.execute("DELETE FROM streaks WHERE server_id = ?", (server_id,))
            else:
                cursor = await conn.execute(
                    "DELETE FROM attempts WHERE server_id = ? AND user_id = ?", (server_id, user_id)
                )
                await conn.execute(
                    "DELETE FROM streaks WHERE server_id = ? AND user_id = ?", (server_id, user_id)
                )
            deleted = cursor.rowcount
            await cursor.close()
        return deleted

    async def add_pack(
        self,
        server_id: int,
        name: str,
        content: str,
        questions: int,
        user_id: int | None,
        at: datetime,
    ) -> QuestionPack:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO question_packs (server_id, name, content, questions, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                (server_id, name, content, questions, user_id, iso(at)),
            )
            row = await cursor.fetchone()
            await cursor.close()
        assert row is not None
        return _pack(row)

    async def packs(self, server_id: int | None = None) -> list[QuestionPack]:
        sql = "SELECT * FROM question_packs"
        args: tuple[int, ...] = ()
        if server_id is not None:
            sql += " WHERE server_id = ?"
            args = (server_id,)
        async with self.db.read() as conn, conn.execute(sql + " ORDER BY id", args) as cursor:
            rows = await cursor.fetchall()
        return [_pack(row) for row in rows]

    # stats and leaderboards

    async def topic_stats(self, user_id: int, server_id: int | None) -> list[TopicStats]:
        where = "user_id = ?" + (" AND server_id = ?" if server_id is not None else "")
        args: tuple[int, ...] = (user_id,) if server_id is None else (user_id, server_id)
        async with (
            self.db.read() as conn,
            conn.execute(
                f"SELECT topic, COUNT(*), SUM(correct), SUM(points) FROM attempts WHERE {where}"
                " GROUP BY topic ORDER BY topic",
                args,
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [TopicStats(topic=r[0], answered=r[1], correct=r[2], points=r[3]) for r in rows]

    async def streak(self, user_id: int, server_id: int | None) -> tuple[int, int]:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT current, best FROM streaks WHERE user_id = ? AND server_id = ?",
                (user_id, server_id if server_id is not None else LOCAL_SERVER),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return (row[0], row[1]) if row else (0, 0)

    async def leaderboard(
        self,
        scope: Scope,
        period: Period,
        since: datetime | None,
        server_id: int | None,
        topics: Sequence[str] | None,
        user_id: int | None,
        limit: int,
    ) -> Leaderboard:
        conditions: list[str] = []
        args: list[object] = []
        if scope is Scope.SERVER:
            conditions.append("a.server_id IS ?")
            args.append(server_id)
        if since is not None:
            conditions.append("a.created_at >= ?")
            args.append(iso(since))
        if topics:
            conditions.append(f"a.topic IN ({','.join('?' * len(topics))})")
            args.extend(topics)
        where = " AND ".join(conditions) or "1 = 1"
        streak_server = server_id if scope is Scope.SERVER and server_id is not None else None
        # Ties: more points, then more correct answers, then fewer attempts, then the older
        # account (lower id): the same order every time.
        sql = f"""
            WITH totals AS (
                SELECT a.user_id, SUM(a.points) AS points, COUNT(*) AS answered,
                       SUM(a.correct) AS correct
                FROM attempts a WHERE {where} GROUP BY a.user_id
            ), ranked AS (
                SELECT t.*, ROW_NUMBER() OVER (
                    ORDER BY t.points DESC, t.correct DESC, t.answered ASC, t.user_id ASC
                ) AS rank
                FROM totals t
            )
            SELECT r.rank, r.user_id, u.name, r.points, r.answered, r.correct,
                   COALESCE((SELECT s.current FROM streaks s WHERE s.user_id = r.user_id
                             AND (? IS NULL OR s.server_id = ?)
                             ORDER BY s.current DESC LIMIT 1), 0) AS streak
            FROM ranked r JOIN users u ON u.id = r.user_id
            WHERE r.rank <= ? OR r.user_id = ?
            ORDER BY r.rank
        """
        async with (
            self.db.read() as conn,
            conn.execute(sql, (*args, streak_server, streak_server, limit, user_id)) as cursor,
        ):
            rows = await cursor.fetchall()
        entries = [
            LeaderboardEntry(
                rank=r["rank"],
                user_id=r["user_id"],
                name=r["name"],
                points=r["points"],
                answered=r["answered"],
                correct=r["correct"],
                streak=r["streak"],
            )
            for r in rows
        ]
        top = [e for e in entries if e.rank <= limit]
        me = next((e for e in entries if e.user_id == user_id), None)
        return Leaderboard(scope=scope, period=period, topic=None, top=top, me=me)
