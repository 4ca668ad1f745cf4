"""Buttons and modals, routed by their `custom_id`, so they keep working after a restart.

Every component we send has a custom_id `dlq:<action>:<arg>:<arg>...`, built by its `Action`
(each kind of button or modal is one `Action` object, which also routes it); the ids carry all
the state a click needs (the question instance, the option letter...). Views are sent already
stopped, so discord.py stores nothing in memory for them; instead, `on_interaction` looks the
action up here. Modals work the same way (discord.py has no persistent modals).

A custom_id comes from the user's client, so it is checked before its handler runs: each
argument has a form (`Arg`), and an action with `shown` only takes a custom_id that the
message of the interaction (which Discord, not the client, supplies) really carries on one of its
components, on a message of ours. A forged id (`dlq:pick:999999999:A`) is refused with
`ForgedComponent` before anything is looked up or written.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import discord

from bot.core.errors import ForgedComponent

log = logging.getLogger(__name__)

PREFIX = "dlq"
Handler = Callable[[discord.Interaction, list[str]], Awaitable[None]]
Arg = Callable[[str], bool]  # whether a custom_id argument has the form its route expects

MAX_ID = 2**63 - 1  # SQLite's largest integer


def an_id(value: str) -> bool:
    """A positive decimal integer id (a question instance, a Discord user...)."""
    return (
        value.isascii() and value.isdigit() and not value.startswith("0") and (int(value) <= MAX_ID)
    )


def an_id_or_zero(value: str) -> bool:
    return value == "0" or an_id(value)


def one_of(values: Iterable[str]) -> Arg:
    allowed = frozenset(values)
    return allowed.__contains__


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


@dataclass(frozen=True, slots=True)
class Action:
    """One kind of button or modal, defined once: its name in the custom_id, the form of each
    argument, and the message it may come from. `id(...)` builds its custom_id, `parse(...)`
    reads one back, and `Router.on(action, handler)` routes it to its handler.

    `shown`: True, the interaction's message must carry this very custom_id (a button);
    another action, the message must carry that action's custom_id with the same arguments (a
    modal: the button that opened it); False, no such check.
    """

    name: str
    args: tuple[Arg, ...]
    shown: Action | bool = True

    def id(self, *args: object) -> str:
        if len(args) != len(self.args):
            raise ValueError(f"action {self.name!r} takes {len(self.args)} arguments: {args}")
        return custom_id(self.name, *args)

    def parse(self, value: str) -> list[str] | None:
        """The arguments of a custom_id of this action, if each has its form; else None."""
        parsed = parse_custom_id(value)
        if parsed is None or parsed[0] != self.name or len(parsed[1]) != len(self.args):
            return None
        args = parsed[1]
        return args if all(form(arg) for form, arg in zip(self.args, args, strict=True)) else None


class Router:
    """Each `Action` of ours, with its handler."""

    def __init__(self) -> None:
        self._routes: dict[str, tuple[Action, Handler]] = {}

    def on(self, action: Action, handler: Handler) -> None:
        """Route `action` to `handler`: once, with the argument forms and the `shown` rule the
        action defines."""
        if action.name in self._routes:
            raise ValueError(f"action {action.name!r} registered twice")
        self._routes[action.name] = (action, handler)

    def resolve(self, value: str) -> tuple[Handler, list[str]] | None:
        """The handler and arguments for a custom_id of ours; None if it is not one we know.
        The handler refuses (ForgedComponent) arguments of the wrong form, and a custom_id its
        message does not carry (see `Action.shown`)."""
        parsed = parse_custom_id(value)
        if parsed is None:
            return None
        name, args = parsed
        route = self._routes.get(name)
        if route is None or len(args) != len(route[0].args):
            return None
        action, handler = route

        async def checked(interaction: discord.Interaction, args: list[str]) -> None:
            if action.parse(value) is None:
                raise ForgedComponent(value)
            if action.shown is not False:
                expected = value if action.shown is True else action.shown.id(*args)
                if not carries(interaction, expected):
                    raise ForgedComponent(value)
            await handler(interaction, args)

        return checked, args


def carries(interaction: discord.Interaction, value: str) -> bool:
    """Whether the message of the interaction is one the bot sent and has a component with
    custom_id `value` (Discord puts the message in the interaction, as it is stored)."""
    message = interaction.message
    me = interaction.client.user
    if message is None or me is None or message.author.id != me.id:
        return False
    return value in component_ids(message.components)


def component_ids(components: Sequence[object]) -> set[str]:
    """The custom_ids of the components of a message, at any depth (rows, sections...)."""
    found: set[str] = set()
    for component in components:
        value = getattr(component, "custom_id", None)
        if isinstance(value, str):
            found.add(value)
        found |= component_ids(getattr(component, "children", None) or [])
    return found


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
