"""Daily questions: one per server (or console user) and UTC day, at a set time."""

from __future__ import annotations

from bot.core.errors import BadTime, NoQuestionFound
from bot.core.models import DailySetting, Kind, Lang, QuestionInstance, ServedQuestion, User
from bot.core.ports import Clock, DailyStore
from bot.core.services.catalog import Catalog, KindFilter
from bot.core.services.making import Making

# Full-width digits and colon as ASCII (not NFKC, which would also read `²` as 2).
_FULL_WIDTH = str.maketrans("０１２３４５６７８９：", "0123456789:")


def parse_hhmm(text: str) -> str:
    """`7:30`, `07:30`, `0730`, full-width `０９：３０` (a Chinese keyboard) -> `07:30`;
    BadTime for anything else."""
    cleaned = text.translate(_FULL_WIDTH).strip()
    if ":" not in cleaned and len(cleaned) == 4 and cleaned.isascii() and cleaned.isdigit():
        cleaned = f"{cleaned[:2]}:{cleaned[2:]}"
    hours, sep, minutes = cleaned.partition(":")
    if (
        sep
        and hours.isascii()
        and hours.isdigit()
        and minutes.isascii()
        and minutes.isdigit()
        and len(minutes) == 2
    ):
        h, m = int(hours), int(minutes)
        if 0 <= h < 24 and 0 <= m < 60:
            return f"{h:02d}:{m:02d}"
    raise BadTime(text)


def daily_scope(server_id: int | None, user: User | None) -> str:
    """Whose daily question: a server's, else a user's (the console), else everyone's."""
    if server_id is not None:
        return f"server:{server_id}"
    return f"user:{user.id}" if user is not None else "local"


class Dailies:
    def __init__(self, store: DailyStore, clock: Clock, catalog: Catalog, making: Making) -> None:
        self._store = store
        self._clock = clock
        self._catalog = catalog
        self._making = making

    async def set_daily(
        self,
        server_id: int,
        channel_id: str,
        time_utc: str,
        user: User | None,
        lang: Lang | None = None,
    ) -> str:
        """Post a daily question in that channel at HH:MM UTC, in `lang` (None: the server's
        locale when it is posted); returns the normalised time."""
        normalised = parse_hhmm(time_utc)
        await self._store.set_daily(
            server_id, channel_id, normalised, user.id if user else None, lang
        )
        return normalised

    async def disable_daily(self, server_id: int) -> bool:
        return await self._store.disable_daily(server_id)

    async def due_dailies(self) -> list[DailySetting]:
        """Servers whose daily question time has come today and that have not had it yet."""
        now = self._clock.now()
        today, clock_time = now.date(), now.strftime("%H:%M")
        return [
            d
            for d in await self._store.daily_settings()
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
        today = self._clock.now().date()
        if server_id is not None and not await self._store.claim_daily(server_id, today):
            return None
        scope = daily_scope(server_id, user)
        existing = await self._store.daily_instance(scope, today)
        if existing is not None:
            return await self._making.reshow(existing), existing
        candidates = self._catalog.candidates(None, KindFilter.ANY.kinds, None, server_id)
        candidates = [q for q in candidates if q.kind is not Kind.OPEN]  # graded ones only
        if not candidates:
            raise NoQuestionFound(None, "daily", None)
        served = await self._making.pick(candidates)
        instance = await self._store.create_daily(
            scope, today, served, server_id, channel_id, lang, self._clock.now()
        )
        if instance.ref != served.ref:  # another process chose the day's question first
            served = await self._making.reshow(instance)
        return served, instance
