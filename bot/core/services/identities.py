"""Identities: users and servers (created on first sight, kept in memory), language choice."""

from __future__ import annotations

from bot.core.models import Lang, LanguagePref, Server, User
from bot.core.ports import UserStore


def language_for(preference: LanguagePref, locale: str | None) -> Lang:
    """The reply language: the user's choice, else the client's locale, else English."""
    if preference != "auto":
        return preference
    return "zh" if locale and locale.lower().startswith("zh") else "en"


class Identities:
    def __init__(self, store: UserStore) -> None:
        self._store = store
        self._users: dict[tuple[str, str], User] = {}
        self._servers: dict[tuple[str, str], Server] = {}

    async def user(self, platform: str, external_id: str, name: str = "") -> User:
        """The user (created on first sight); kept in memory, as every interaction asks."""
        key = (platform, external_id)
        cached = self._users.get(key)
        if cached is not None and (not name or cached.name == name):
            return cached
        user = await self._store.get_or_create_user(platform, external_id, name)
        self._users[key] = user
        return user

    async def find_user(self, platform: str, external_id: str) -> User | None:
        """A user already known, without creating one."""
        return await self._store.find_user(platform, external_id)

    async def server(self, platform: str, external_id: str, name: str = "") -> Server:
        key = (platform, external_id)
        cached = self._servers.get(key)
        if cached is not None and (not name or cached.name == name):
            return cached
        server = await self._store.get_or_create_server(platform, external_id, name)
        self._servers[key] = server
        return server

    async def set_language(self, user: User, language: LanguagePref) -> User:
        updated = await self._store.set_language(user.id, language)
        self._users[(updated.platform, updated.external_id)] = updated
        return updated
