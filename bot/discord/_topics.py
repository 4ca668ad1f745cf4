"""The `topic` option of the commands that take one (`/question`, `/leaderboard`): one
transformer that offers the areas and topics as the user types and refuses a topic that does
not exist before the command runs.

    async def leaderboard(self, interaction, topic: Topic | None = None) -> None: ...
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core.errors import UnknownTopic
from bot.core.models import Lang
from bot.core.topics import AREAS, TOPICS, topics_in
from bot.discord._i18n import lang_of


def topic_choices(current: str, lang: Lang) -> list[app_commands.Choice[str]]:
    """Areas and topics whose id or name (either language) contains what was typed."""
    needle = current.strip().casefold()
    options: list[app_commands.Choice[str]] = []
    for area in AREAS:
        label = f"{area.name.get(lang)} ({area.id})"
        if needle in area.id or needle in area.name.en.casefold() or needle in area.name.zh:
            options.append(app_commands.Choice(name=label, value=area.id))
    for topic in TOPICS:
        names = (topic.id, topic.name.en.casefold(), topic.name.zh)
        if any(needle in name for name in names):
            options.append(
                app_commands.Choice(name=f"{topic.name.get(lang)} ({topic.id})", value=topic.id)
            )
    return options[:25]


class TopicTransformer(app_commands.Transformer):
    """An area id or a topic id, with autocomplete; `UnknownTopic` (answered like any domain
    error, see `Tree.on_error`) for anything else."""

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction, value: str
    ) -> list[app_commands.Choice[str]]:
        return topic_choices(value, lang_of(interaction))

    async def transform(self, interaction: discord.Interaction, value: str) -> str:
        if not topics_in(value):
            raise UnknownTopic(value)
        return value


Topic = app_commands.Transform[str, TopicTransformer]
