"""Buttons and modals, routed by their `custom_id`, so they keep working after a restart.

Every component we send has a custom_id `dlq:<action>:<arg>:<arg>...`; the ids carry all the
state a click needs (the question instance, the option letter...). Views are sent already
stopped, so discord.py stores nothing in memory for them; instead, `on_interaction` looks the
action up here. Modals work the same way (discord.py has no persistent modals).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord

log = logging.getLogger(__name__)

PREFIX = "dlq"
Handler = Callable[[discord.Interaction, list[str]], Awaitable[None]]


def custom_id(action: str, *args: object) -> str:
    """The custom_id of a component: at most 100 characters, as Discord requires."""
    value = ":".join([PREFIX, action, *(str(a) for a in args)])
    if len(value) > 100:
        raise ValueError(f"custom_id too long: {value}")
    return value


def parse_custom_id(value: str) -> tuple[str, list[str]] | None:
    parts = value.split(":")
    if len(parts) < 2 or parts[0] != PREFIX:
        return None
    return parts[1], parts[2:]


@dataclass(slots=True)
class Route:
    handler: Handler
    arity: int  # how many arguments the custom_id must carry


class Router:
    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def add(self, action: str, arity: int, handler: Handler) -> None:
        if action in self._routes:
            raise ValueError(f"action {action!r} registered twice")
        self._routes[action] = Route(handler, arity)

    def resolve(self, value: str) -> tuple[Handler, list[str]] | None:
        """The handler and arguments for a custom_id of ours; None if it is not one we know."""
        parsed = parse_custom_id(value)
        if parsed is None:
            return None
        action, args = parsed
        route = self._routes.get(action)
        if route is None or len(args) != route.arity:
            return None
        return route.handler, args


class SeenInteractions:
    """Interaction ids already handled: Discord (or a network retry) may deliver one twice."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._capacity = capacity

    def first_time(self, interaction_id: int) -> bool:
        if interaction_id in self._seen:
            self._seen.move_to_end(interaction_id)
            return False
        self._seen[interaction_id] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True


def interaction_custom_id(interaction: discord.Interaction) -> str | None:
    data: dict[str, object] = dict(interaction.data or {})
    value = data.get("custom_id")
    return value if isinstance(value, str) else None


def modal_values(interaction: discord.Interaction) -> dict[str, str]:
    """The text inputs of a submitted modal, by custom_id (rows or labels alike)."""
    values: dict[str, str] = {}

    def walk(components: object) -> None:
        if not isinstance(components, list):
            return
        for component in components:
            if not isinstance(component, dict):
                continue
            if "custom_id" in component and "value" in component:
                values[str(component["custom_id"])] = str(component["value"] or "")
            walk(component.get("components"))
            if isinstance(component.get("component"), dict):
                walk([component["component"]])

    data: dict[str, object] = dict(interaction.data or {})
    walk(data.get("components"))
    return values


def stopped(view: discord.ui.View) -> discord.ui.View:
    """A view discord.py will not keep in memory: the router answers its buttons."""
    view.stop()
    return view
