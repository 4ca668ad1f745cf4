"""`SqliteStore`: the core's `Store` port over SQLite. Raw, parameterised, portable SQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import aiosqlite

from bot.core.errors import DuplicatePackQuestion
from bot.core.models import (
    AttemptRecord,
    DailySetting,
    Difficulty,
    HistoryEntry,
    InstanceCounts,
    Kind,
    Lang,
    LanguagePref,
    Leaderboard,
    LeaderboardEntry,
    NewInstance,
    Period,
    QuestionInstance,
    QuestionPack,
    ReviewCard,
    Scope,
    ServedQuestion,
    Server,
    TopicStats,
    User,
)
from bot.core.topics import AREA_IDS, TOPICS
from bot.storage.db import Database

log = logging.getLogger(__name__)

LOCAL_SERVER = 0  # streak key for activity outside any server (the console)
GLOBAL_BOARD = 0  # score_totals.server_id of the global leaderboard
TOPIC_AREA = {t.id: t.area for t in TOPICS}


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


def _server(row: aiosqlite.Row) -> Server:
    return Server(
        id=row["id"], platform=row["platform"], external_id=row["external_id"], name=row["name"]
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
        daily_day=date.fromisoformat(row["daily_day"]) if row["daily_day"] else None,
    )


_INSERT_INSTANCE = (
    "INSERT INTO question_instances (id, ref, kind, topic, difficulty, server_id, channel_id,"
    " message_id, lang, created_at, daily_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO NOTHING"  # an id stored already keeps its row
)


_DAILY_SQL = (
    "SELECT i.* FROM daily_questions d JOIN question_instances i ON i.id = d.instance_id"
    " WHERE d.scope = ? AND d.day = ?"
)


def _instance_values(i: QuestionInstance) -> tuple[object, ...]:
    return (
        i.id,
        i.ref,
        i.kind.value,
        i.topic,
        i.difficulty.value,
        i.server_id,
        i.channel_id,
        i.message_id,
        i.lang,
        iso(i.created_at),
        i.daily_day.isoformat() if i.daily_day else None,
    )


async def _reserve_ids(conn: aiosqlite.Connection, count: int) -> int:
    """Take `count` question instance ids from the counter; returns the first."""
    rows = await conn.execute_fetchall(
        "UPDATE id_counters SET next_id = next_id + ? WHERE name = 'question_instances'"
        " RETURNING next_id - ?",
        (count, count),
    )
    return int(next(iter(rows))[0])


def total_keys(server_id: int | None, topic: str, at: datetime) -> list[tuple[int, str, str]]:
    """The leaderboard totals one attempt adds to: (server or 0 for global) x (all topics,
    the topic, its area) x (all time, its ISO week, its month)."""
    servers = [GLOBAL_BOARD] if server_id is None else [GLOBAL_BOARD, server_id]
    area = f"area:{TOPIC_AREA.get(topic, 'other')}"
    day = at.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    periods = ["all", f"w{monday.isoformat()}", f"m{day.strftime('%Y-%m')}"]
    return [(s, t, p) for s in servers for t in ("*", topic, area) for p in periods]


def period_key(period: Period, now: datetime) -> str:
    day = now.astimezone(UTC).date()
    if period is Period.WEEK:
        return f"w{(day - timedelta(days=day.weekday())).isoformat()}"
    if period is Period.MONTH:
        return f"m{day.strftime('%Y-%m')}"
    return "all"


def topic_key(topic: str | None) -> str:
    if topic is None:
        return "*"
    return f"area:{topic}" if topic in AREA_IDS else topic


async def _add_to_totals(
    conn: aiosqlite.Connection,
    user_id: int,
    server_id: int | None,
    topic: str,
    at: datetime,
    points: int,
    correct: int,
    answered: int = 1,
) -> None:
    await conn.executemany(
        "INSERT INTO score_totals (server_id, topic, period, user_id, points, answered, correct)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (server_id, topic, period, user_id) DO UPDATE"
        " SET points = points + excluded.points, answered = answered + excluded.answered,"
        " correct = correct + excluded.correct",
        [
            (s, t, p, user_id, points, answered, correct)
            for s, t, p in total_keys(server_id, topic, at)
        ],
    )


async def _rebuild_totals(conn: aiosqlite.Connection, user_ids: list[int]) -> None:
    """Recompute these users' totals from their attempts (after attempts were deleted)."""
    for user_id in user_ids:
        await conn.execute("DELETE FROM score_totals WHERE user_id = ?", (user_id,))
        async with conn.execute(
            "SELECT server_id, topic, created_at, points, correct FROM attempts WHERE user_id = ?",
            (user_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        sums: dict[tuple[int, str, str], list[int]] = {}
        for row in rows:
            for key in total_keys(row[0], row[1], parse_iso(row[2])):
                total = sums.setdefault(key, [0, 0, 0])
                total[0] += row[3]
                total[1] += 1
                total[2] += row[4]
        await conn.executemany(
            "INSERT INTO score_totals (server_id, topic, period, user_id, points, answered,"
            " correct) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(s, t, p, user_id, *v) for (s, t, p), v in sums.items()],
        )


async def _save_card(
    conn: aiosqlite.Connection, user_id: int, card: ReviewCard, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO review_cards (user_id, item, topic, card, due, reviews, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, item) DO UPDATE SET"
        " topic = excluded.topic, card = excluded.card, due = excluded.due,"
        " reviews = excluded.reviews, updated_at = excluded.updated_at",
        (
            user_id,
            card.item,
            card.topic,
            json.dumps(card.card),
            iso(card.due),
            card.reviews,
            iso(at),
        ),
    )


async def _extend_streak(
    conn: aiosqlite.Connection, user_id: int, server_id: int | None, day: date
) -> None:
    """A correct daily answer on `day`: the streak goes on (from the day before), stays (same
    day) or starts again at 1."""
    key = server_id if server_id is not None else LOCAL_SERVER
    async with conn.execute(
        "SELECT current, best, last_day FROM streaks WHERE user_id = ? AND server_id = ?",
        (user_id, key),
    ) as cursor:
        row = await cursor.fetchone()
    current, best, last = (row[0], row[1], row[2]) if row else (0, 0, None)
    if last == day.isoformat():
        return
    current = current + 1 if last == (day - timedelta(days=1)).isoformat() else 1
    await conn.execute(
        "INSERT INTO streaks (user_id, server_id, current, best, last_day) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, server_id) DO UPDATE SET current = excluded.current,"
        " best = excluded.best, last_day = excluded.last_day",
        (user_id, key, current, max(best, current), day.isoformat()),
    )


_BOARD_SQL = """
    SELECT t.user_id, u.name, t.points, t.answered, t.correct,
           COALESCE((SELECT MAX(s.current) FROM streaks s WHERE s.user_id = t.user_id
                     AND (? IS NULL OR s.server_id = ?)), 0) AS streak
    FROM score_totals t JOIN users u ON u.id = t.user_id
    WHERE t.server_id = ? AND t.topic = ? AND t.period = ?
"""


# Rows ahead of a user in the board's order: four index range counts (an OR of the same
# conditions makes SQLite merge row sets, 30x slower on a 20,000-row board).
_SAME = "server_id = ?1 AND topic = ?2 AND period = ?3"
_AHEAD_SQL = (
    f"SELECT (SELECT COUNT(*) FROM score_totals WHERE {_SAME} AND points > ?4)"
    f" + (SELECT COUNT(*) FROM score_totals WHERE {_SAME} AND points = ?4 AND correct > ?5)"
    f" + (SELECT COUNT(*) FROM score_totals WHERE {_SAME} AND points = ?4 AND correct = ?5"
    " AND answered < ?6)"
    f" + (SELECT COUNT(*) FROM score_totals WHERE {_SAME} AND points = ?4 AND correct = ?5"
    " AND answered = ?6 AND user_id < ?7)"
)


def _entry(rank: int, row: aiosqlite.Row) -> LeaderboardEntry:
    return LeaderboardEntry(
        rank=rank,
        user_id=row["user_id"],
        name=row["name"],
        points=row["points"],
        answered=row["answered"],
        correct=row["correct"],
        streak=row["streak"],
    )


async def _own_row(
    conn: aiosqlite.Connection,
    key: tuple[int, str, str],
    user_id: int,
    streak_server: int | None,
) -> LeaderboardEntry | None:
    """The caller's row, ranked by counting the rows ahead of it in the board's order."""
    async with conn.execute(
        _BOARD_SQL + " AND t.user_id = ?", (streak_server, streak_server, *key, user_id)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    async with conn.execute(
        _AHEAD_SQL,
        (*key, row["points"], row["correct"], row["answered"], user_id),
    ) as cursor:
        ahead = await cursor.fetchone()
    return _entry((ahead[0] if ahead else 0) + 1, row)


def _card(row: aiosqlite.Row) -> ReviewCard:
    return ReviewCard(
        item=row["item"],
        topic=row["topic"],
        card=json.loads(row["card"]),
        due=parse_iso(row["due"]),
        reviews=row["reviews"],
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
        # execute_fetchall: one trip to aiosqlite's thread instead of three (execute, fetch,
        # close); reads on the answer path are mostly that overhead (bench/answers.py).
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT * FROM users WHERE platform = ? AND external_id = ?",
                (platform, external_id),
            )
        return next((_user(row) for row in rows), None)

    async def set_language(self, user_id: int, language: LanguagePref) -> User:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))
            async with conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)) as cursor:
                row = await cursor.fetchone()
        if row is None:
            raise KeyError(user_id)
        return _user(row)

    async def get_or_create_server(self, platform: str, external_id: str, name: str) -> Server:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT * FROM servers WHERE platform = ? AND external_id = ?",
                (platform, external_id),
            ) as cursor,
        ):
            found = await cursor.fetchone()
        if found is not None and (not name or found["name"] == name):
            return _server(found)  # the common case: no write
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
        return _server(row)

    # questions and attempts

    async def create_instance(
        self,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        at: datetime,
        daily_day: date | None = None,
        served_to: int | None = None,
        *,
        instance_id: int | None = None,
        message_id: str | None = None,
    ) -> QuestionInstance:
        async with self.db.transaction() as conn:
            if instance_id is None:
                instance_id = await _reserve_ids(conn, 1)
            else:  # e.g. a restore: the counter must not hand this id out later
                await conn.execute(
                    "UPDATE id_counters SET next_id = MAX(next_id, ? + 1)"
                    " WHERE name = 'question_instances'",
                    (instance_id,),
                )
            instance = QuestionInstance.of(
                served, instance_id, server_id, channel_id, lang, at, message_id, daily_day
            )
            rows = await conn.execute_fetchall(
                f"{_INSERT_INSTANCE} RETURNING *", _instance_values(instance)
            )
            row = next(iter(rows), None)
            if row is None:  # stored already (a restore of a row that did land): keep it
                rows = await conn.execute_fetchall(
                    "SELECT * FROM question_instances WHERE id = ?", (instance_id,)
                )
                row = next(iter(rows))
            elif served_to is not None and served.question_id is not None:
                await conn.execute(
                    "INSERT INTO served (user_id, ref, served_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (user_id, ref) DO UPDATE SET served_at = excluded.served_at",
                    (served_to, served.question_id, iso(at)),
                )
        return _instance(row)

    async def create_instances(self, new: Sequence[NewInstance]) -> None:
        async with self.db.transaction() as conn:
            inserted = await conn.executemany(
                _INSERT_INSTANCE, [_instance_values(n.instance) for n in new]
            )
            if inserted.rowcount != len(new):  # ids taken already: never ours to overwrite
                log.warning(
                    "%d of %d posted question(s) were stored already; kept as they were",
                    len(new) - inserted.rowcount,
                    len(new),
                )
            await conn.executemany(
                "INSERT INTO served (user_id, ref, served_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id, ref) DO UPDATE SET served_at = excluded.served_at"
                " WHERE excluded.served_at > served.served_at",
                [
                    (n.served_to, n.question_id, iso(n.instance.created_at))
                    for n in new
                    if n.served_to is not None and n.question_id is not None
                ],
            )

    async def reserve_instance_ids(self, count: int) -> int:
        async with self.db.transaction() as conn:
            return await _reserve_ids(conn, count)

    async def set_instance_message(self, instance_id: int, message_id: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE question_instances SET message_id = ? WHERE id = ?",
                (message_id, instance_id),
            )

    async def get_instance(self, instance_id: int) -> QuestionInstance | None:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT * FROM question_instances WHERE id = ?", (instance_id,)
            )
        return next((_instance(row) for row in rows), None)

    async def record_attempt(self, attempt: AttemptRecord) -> bool:
        async with self.db.transaction() as conn:
            # RETURNING: a row if inserted, none on a repeat (one trip, no cursor to close).
            returned = await conn.execute_fetchall(
                "INSERT INTO attempts (instance_id, user_id, server_id, topic, ref, question_key,"
                " answer, correct, points, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (instance_id, user_id) DO NOTHING RETURNING id",
                (
                    attempt.instance_id,
                    attempt.user_id,
                    attempt.server_id,
                    attempt.topic,
                    attempt.ref,
                    attempt.question_key or attempt.ref,
                    attempt.answer,
                    int(attempt.correct),
                    attempt.points,
                    iso(attempt.at),
                ),
            )
            inserted = len(list(returned)) == 1
            if inserted:
                await _add_to_totals(
                    conn,
                    attempt.user_id,
                    attempt.server_id,
                    attempt.topic,
                    attempt.at,
                    attempt.points,
                    int(attempt.correct),
                )
                if attempt.review is not None:
                    await _save_card(conn, attempt.user_id, attempt.review, attempt.at)
                if attempt.streak_day is not None and attempt.correct:
                    await _extend_streak(
                        conn, attempt.user_id, attempt.server_id, attempt.streak_day
                    )
        return inserted

    async def get_attempt_correct(self, instance_id: int, user_id: int) -> bool | None:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT correct FROM attempts WHERE instance_id = ? AND user_id = ?",
                (instance_id, user_id),
            )
        return next((bool(row[0]) for row in rows), None)

    async def instance_counts(self, instance_id: int) -> InstanceCounts:
        async with self.db.read() as conn:
            (row,) = await conn.execute_fetchall(
                "SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM attempts WHERE instance_id = ?",
                (instance_id,),
            )
        return InstanceCounts(answered=row[0], correct=row[1])

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

    async def recent_keys(self, user_id: int, since: datetime, limit: int) -> list[str]:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT question_key FROM attempts WHERE user_id = ? AND created_at >= ?"
                " AND question_key <> ref"  # generated: a written question's key is its ref
                " GROUP BY question_key ORDER BY MAX(created_at) DESC LIMIT ?",
                (user_id, iso(since), limit),
            )
        return [row[0] for row in rows]

    async def unkeyed_refs(self) -> list[str]:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT DISTINCT ref FROM attempts"
                " WHERE question_key = ref AND instr(ref, ':') > 0"  # as attempts_unkeyed
            )
        return [row[0] for row in rows]

    async def set_question_keys(self, keys: Mapping[str, str]) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE attempts SET question_key = ? WHERE ref = ?"
                " AND question_key = ref AND instr(ref, ':') > 0",
                [(key, ref) for ref, key in keys.items()],
            )

    async def keys_rewarded_since(
        self, user_id: int, keys: Sequence[str], since: datetime
    ) -> set[str]:
        if not keys:
            return set()
        marks = ",".join("?" * len(keys))
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT DISTINCT question_key FROM attempts WHERE user_id = ? AND points > 0"
                f" AND created_at >= ? AND question_key IN ({marks})",
                (user_id, iso(since), *keys),
            )
        return {row[0] for row in rows}

    async def reset_scores(self, server_id: int, user_id: int | None) -> int:
        async with self.db.transaction() as conn:
            where, args = "server_id = ?", [server_id]
            if user_id is not None:
                where, args = where + " AND user_id = ?", [server_id, user_id]
            async with conn.execute(
                f"SELECT DISTINCT user_id FROM attempts WHERE {where}", args
            ) as cursor:
                users = [row[0] for row in await cursor.fetchall()]
            cursor = await conn.execute(f"DELETE FROM attempts WHERE {where}", args)
            deleted = cursor.rowcount
            await cursor.close()
            await conn.execute(f"DELETE FROM streaks WHERE {where}", args)
            await _rebuild_totals(conn, users)
        return deleted

    async def add_pack(
        self,
        server_id: int,
        name: str,
        content: str,
        questions: int,
        user_id: int | None,
        at: datetime,
        bodies: Sequence[tuple[str, str]] = (),
    ) -> QuestionPack:
        """Store a pack with its validated questions (`bodies`: id and JSON of each, in
        order); DuplicatePackQuestion, and nothing stored, if another pack of the server has
        one of those ids."""
        async with self.db.transaction() as conn:
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

    # spaced repetition

    async def get_card(self, user_id: int, item: str) -> ReviewCard | None:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT * FROM review_cards WHERE user_id = ? AND item = ?", (user_id, item)
            )
        return next((_card(row) for row in rows), None)

    async def due_cards(self, user_id: int, now: datetime, limit: int) -> list[ReviewCard]:
        """Cards due by `now`, most overdue first."""
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT * FROM review_cards WHERE user_id = ? AND due <= ? ORDER BY due, item"
                " LIMIT ?",
                (user_id, iso(now), limit),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [_card(row) for row in rows]

    async def count_due(self, user_id: int, now: datetime) -> int:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT COUNT(*) FROM review_cards WHERE user_id = ? AND due <= ?",
                (user_id, iso(now)),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # mock interviews

    async def create_interview(
        self, user_id: int, server_id: int | None, state: str, at: datetime
    ) -> int:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO interviews (user_id, server_id, status, state, created_at,"
                " updated_at) VALUES (?, ?, 'active', ?, ?, ?)",
                (user_id, server_id, state, iso(at), iso(at)),
            )
            interview_id = cursor.lastrowid
            await cursor.close()
        assert interview_id is not None
        return interview_id

    async def save_interview(
        self, interview_id: int, status: str, state: str, version: int, at: datetime
    ) -> bool:
        """Save if nobody saved since `version` was read; False (nothing written) otherwise."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE interviews SET status = ?, state = ?, version = version + 1,"
                " updated_at = ? WHERE id = ? AND version = ?",
                (status, state, iso(at), interview_id, version),
            )
            saved = cursor.rowcount == 1
            await cursor.close()
        return saved

    async def get_interview(self, interview_id: int) -> tuple[str, int] | None:
        """(state JSON, version) of an interview."""
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT state, version FROM interviews WHERE id = ?", (interview_id,)
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return (row[0], row[1]) if row else None

    async def active_interview_id(self, user_id: int) -> int | None:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT id FROM interviews WHERE user_id = ? AND status = 'active'"
                " ORDER BY id DESC LIMIT 1",
                (user_id,),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def active_interview_ids(self) -> list[int]:
        async with (
            self.db.read() as conn,
            conn.execute("SELECT id FROM interviews WHERE status = 'active' ORDER BY id") as cur,
        ):
            rows = await cur.fetchall()
        return [int(row[0]) for row in rows]

    # daily questions

    async def set_daily(
        self, server_id: int, channel_id: str, time_utc: str, user_id: int | None
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO daily_settings (server_id, channel_id, time_utc, created_by)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (server_id) DO UPDATE SET"
                " channel_id = excluded.channel_id, time_utc = excluded.time_utc,"
                " created_by = excluded.created_by",
                (server_id, channel_id, time_utc, user_id),
            )

    async def disable_daily(self, server_id: int) -> bool:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM daily_settings WHERE server_id = ?", (server_id,)
            )
            removed = cursor.rowcount == 1
            await cursor.close()
        return removed

    async def daily_settings(self) -> list[DailySetting]:
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT d.*, s.external_id FROM daily_settings d"
                " JOIN servers s ON s.id = d.server_id ORDER BY d.server_id"
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [
            DailySetting(
                server_id=row["server_id"],
                server_external_id=row["external_id"],
                channel_id=row["channel_id"],
                time_utc=row["time_utc"],
                last_day=date.fromisoformat(row["last_day"]) if row["last_day"] else None,
            )
            for row in rows
        ]

    async def daily_instance(self, scope: str, day: date) -> QuestionInstance | None:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(_DAILY_SQL, (scope, day.isoformat()))
        return next((_instance(row) for row in rows), None)

    async def create_daily(
        self,
        scope: str,
        day: date,
        served: ServedQuestion,
        server_id: int | None,
        channel_id: str | None,
        lang: Lang,
        at: datetime,
    ) -> QuestionInstance:
        """Store `served` as the scope's question of `day`; if another process stored one
        first, that one (unchanged)."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(_DAILY_SQL, (scope, day.isoformat()))
            found = next((_instance(row) for row in rows), None)
            if found is not None:
                return found
            instance = QuestionInstance.of(
                served, await _reserve_ids(conn, 1), server_id, channel_id, lang, at, None, day
            )
            await conn.execute(_INSERT_INSTANCE, _instance_values(instance))
            await conn.execute(
                "INSERT INTO daily_questions (scope, day, instance_id) VALUES (?, ?, ?)",
                (scope, day.isoformat(), instance.id),
            )
        return instance

    async def claim_daily(self, server_id: int, day: date) -> bool:
        """Mark today's daily question as posted; False if it already was (no double post)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE daily_settings SET last_day = ? WHERE server_id = ?"
                " AND (last_day IS NULL OR last_day < ?)",
                (day.isoformat(), server_id, day.isoformat()),
            )
            claimed = cursor.rowcount == 1
            await cursor.close()
        return claimed

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

    async def recent_attempts(self, user_id: int, limit: int) -> list[HistoryEntry]:
        async with self.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT a.created_at, a.ref, a.topic, i.kind, a.answer, a.correct, a.points"
                " FROM attempts a JOIN question_instances i ON i.id = a.instance_id"
                " WHERE a.user_id = ? ORDER BY a.created_at DESC, a.id DESC LIMIT ?",
                (user_id, limit),
            )
        return [
            HistoryEntry(
                at=parse_iso(r[0]),
                ref=r[1],
                topic=r[2],
                kind=Kind(r[3]),
                answer=r[4],
                correct=bool(r[5]),
                points=r[6],
            )
            for r in rows
        ]

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
        server_id: int | None,
        topic: str | None,
        user_id: int | None,
        limit: int,
        now: datetime,
    ) -> Leaderboard:
        """Top `limit` and the caller's row, from the totals kept with each attempt."""
        board = server_id if scope is Scope.SERVER and server_id is not None else GLOBAL_BOARD
        key = (board, topic_key(topic), period_key(period, now))
        streak_server = board if board != GLOBAL_BOARD else None
        async with self.db.read() as conn:
            async with conn.execute(
                _BOARD_SQL + " ORDER BY t.points DESC, t.correct DESC, t.answered, t.user_id"
                " LIMIT ?",
                (streak_server, streak_server, *key, limit),
            ) as cursor:
                rows = await cursor.fetchall()
            top = [_entry(rank, row) for rank, row in enumerate(rows, start=1)]
            me = next((e for e in top if e.user_id == user_id), None)
            if me is None and user_id is not None:
                me = await _own_row(conn, key, user_id, streak_server)
        return Leaderboard(scope=scope, period=period, topic=topic, top=top, me=me)

    # liveness (`python -m bot health` reads it back with plain sqlite3, see storage/maintenance)

    HEARTBEAT_KEY = "gateway_heartbeat"

    async def record_heartbeat(self, value: str, at: datetime) -> None:
        """The gateway is connected and ready at `at`; `value` says what was seen."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO health (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (self.HEARTBEAT_KEY, value, iso(at)),
            )

    async def last_heartbeat(self) -> tuple[str, datetime] | None:
        """(value, time) of the last heartbeat, None if the bot never recorded one."""
        async with (
            self.db.read() as conn,
            conn.execute(
                "SELECT value, updated_at FROM health WHERE key = ?", (self.HEARTBEAT_KEY,)
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return (row[0], parse_iso(row[1])) if row else None
