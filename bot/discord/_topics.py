"""The `topic` option of the commands that take one (`/question`, `/leaderboard`): one
transformer that offers the areas and topics as the user types and refuses a topic that does
not exist before the command runs; and `topics`, a comma-separated list of them
(`/interview start`), completed one entry at a time and refused if any entry is unknown.

    async def leaderboard(self, interaction, topic: Topic | None = None) -> None: ...
    async def start(self, interaction, topics: Topics | None = None) -> None: ...
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core.errors import UnknownTopic
from bot.core.interview_state import InterviewError
from bot.core.models import Lang
from bot.core.topics import AREAS, TOPICS, topic_id, topics_in
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
        value = topic_id(value)  # any case, hyphens or spaces: `CNN`, `vanishing-gradients`
        if not topics_in(value):
            raise UnknownTopic(value)
        return value


Topic = app_commands.Transform[str, TopicTransformer]

CHOICE_LIMIT = 100  # characters in a choice's name and in its value (Discord)


def split_topics(value: str) -> list[str]:
    """The entries of a list of topics, separated by commas and/or spaces."""
    return value.replace(",", " ").split()


def topic_list_choices(current: str, lang: Lang) -> list[app_commands.Choice[str]]:
    """Completions of the entry being typed (the last one), each keeping the entries before it:
    `cnn, grad` offers `cnn, vanishing_gradients`, `cnn, gradient_clipping`, ..."""
    words = split_topics(current)
    typing = bool(words) and current[-1:] not in (",", " ")  # not after a separator
    chosen, last = (words[:-1], words[-1]) if typing else (words, "")
    head = "".join(f"{word}, " for word in chosen)
    options: list[app_commands.Choice[str]] = []
    for choice in topic_choices(last, lang):
        value = head + choice.value
        if choice.value in chosen or len(value) > CHOICE_LIMIT:
            continue
        name = head + choice.name
        if len(name) > CHOICE_LIMIT:
            name = value  # the ids alone still fit
        options.append(app_commands.Choice(name=name, value=value))
    return options


class TopicsTransformer(app_commands.Transformer):
    """Areas and topic ids, comma-separated, with autocomplete of the one being typed; every
    entry that is none is refused before the command runs, all of them in one message (the
    interview's `topic` refusal, its one user: "Unknown topic: a, b.")."""

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction, value: str
    ) -> list[app_commands.Choice[str]]:
        return topic_list_choices(value, lang_of(interaction))

    async def transform(self, interaction: discord.Interaction, value: str) -> list[str]:
        wanted = [topic_id(word) for word in split_topics(value)]
        unknown = [word for word in wanted if not topics_in(word)]
        if unknown:
            raise InterviewError("topic", topics=unknown)
        return wanted


Topics = app_commands.Transform[list[str], TopicsTransformer]
