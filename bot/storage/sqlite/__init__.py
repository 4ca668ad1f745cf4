"""`SqliteStore`: the core's `Store` port over SQLite, one module per area. Raw, parameterised,
portable SQL; every method is one transaction; times come from the injected clock."""

from __future__ import annotations

from bot.core.ports import Clock, SystemClock
from bot.storage.db import Database
from bot.storage.sqlite._attempts import Attempts
from bot.storage.sqlite._boards import Boards
from bot.storage.sqlite._common import iso, parse_iso
from bot.storage.sqlite._dailies import Dailies
from bot.storage.sqlite._heartbeats import Heartbeats
from bot.storage.sqlite._interviews import Interviews
from bot.storage.sqlite._packs import Packs
from bot.storage.sqlite._questions import Questions
from bot.storage.sqlite._quiz import Quiz
from bot.storage.sqlite._users import Users

__all__ = ["SqliteStore", "iso", "parse_iso"]


class SqliteStore(Users, Questions, Attempts, Boards, Interviews, Dailies, Packs, Heartbeats, Quiz):
    """Every area over one `Database` (quiz rounds too: the `QuizStore` role)."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
