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
`ForgedComponent` before anything is looked up or written. The handler then receives each
argument already converted by its `Arg` (an `int` id, a `SelfRating`...), typed:

    PICK = Action("pick", (an_id, one_of(LETTERS)))  # Action[int, str]
    async def on_pick(interaction, instance_id: int, letter: str) -> None: ...
    router.on(PICK, on_pick)  # mypy checks the handler against the action
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, TypeVarTuple, overload

import discord

from bot.core.errors import ForgedComponent

log = logging.getLogger(__name__)

PREFIX = "dlq"
#: What `Router.resolve` hands `on_interaction`: the checked route, called with the raw
#: arguments of the custom_id.
Handler = Callable[[discord.Interaction, list[str]], Awaitable[None]]
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
Ts = TypeVarTuple("Ts")

MAX_ID = 2**63 - 1  # SQLite's largest integer


@dataclass(frozen=True, slots=True)
class Arg(Generic[T]):
    """The form one custom_id argument must have (`form`), and how its value is read from it
    once it has that form (`convert`)."""

    form: Callable[[str], bool]
    convert: Callable[[str], T]


def _is_id(value: str) -> bool:
    return (
        value.isascii() and value.isdigit() and not value.startswith("0") and (int(value) <= MAX_ID)
    )


#: A positive decimal integer id (a question instance, a Discord user...), as an `int`.
an_id: Arg[int] = Arg(_is_id, int)
#: An id, or 0 (the first question of an interview), as an `int`.
an_id_or_zero: Arg[int] = Arg(lambda value: value == "0" or _is_id(value), int)


def one_of(values: Iterable[T]) -> Arg[T]:
    """One of `values` (strings, or the members of a string enum such as `SelfRating`), written
    as its `str` and read back as the value itself."""
    allowed = {str(value): value for value in values}
    return Arg(allowed.__contains__, allowed.__getitem__)


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


class Action(Generic[*Ts]):
    """One kind of button or modal, defined once: its name in the custom_id, the form and type
    of each argument (`Action[int, str]` for `(an_id, one_of(LETTERS))`), and the message it
    may come from. `id(...)` builds its custom_id, `parse(...)` reads one back (the checked
    strings), `read(...)` their values, and `Router.on(action, handler)` routes it to its
    handler, which receives those values.

    `shown`: True, the interaction's message must carry this very custom_id (a button);
    another action, the message must carry that action's custom_id with the same arguments (a
    modal: the button that opened it); False, no such check.
    """

    __slots__ = ("args", "name", "shown")

    @overload
    def __init__(
        self: Action[A], name: str, args: tuple[Arg[A]], shown: AnyAction | bool = True
    ) -> None: ...
    @overload
    def __init__(
        self: Action[A, B],
        name: str,
        args: tuple[Arg[A], Arg[B]],
        shown: AnyAction | bool = True,
    ) -> None: ...
    @overload
    def __init__(
        self: Action[A, B, C],
        name: str,
        args: tuple[Arg[A], Arg[B], Arg[C]],
        shown: AnyAction | bool = True,
    ) -> None: ...
    def __init__(
        self, name: str, args: tuple[Arg[Any], ...], shown: AnyAction | bool = True
    ) -> None:
        self.name = name
        self.args = args
        self.shown = shown

    def __repr__(self) -> str:
        return f"Action({self.name!r})"

    def id(self, *args: *Ts) -> str:
        if len(args) != len(self.args):
            raise ValueError(f"action {self.name!r} takes {len(self.args)} arguments: {args}")
        return custom_id(self.name, *args)

    def parse(self, value: str) -> list[str] | None:
        """The arguments of a custom_id of this action, if each has its form; else None."""
        parsed = parse_custom_id(value)
        if parsed is None or parsed[0] != self.name or len(parsed[1]) != len(self.args):
            return None
        args = parsed[1]
        forms = zip(self.args, args, strict=True)
        return args if all(arg.form(text) for arg, text in forms) else None

    def read(self, value: str) -> tuple[*Ts] | None:
        """The values of the arguments of a custom_id of this action (an `int` id, a
        `SelfRating`...), if each has its form; else None."""
        args = self.parse(value)
        if args is None:
            return None
        return tuple(arg.convert(text) for arg, text in zip(self.args, args, strict=True))


AnyAction = Action[*tuple[Any, ...]]


class Router:
    """Each `Action` of ours, with its handler."""

    def __init__(self) -> None:
        self._routes: dict[str, tuple[AnyAction, Callable[..., Awaitable[None]]]] = {}

    def on(
        self,
        action: Action[*Ts],
        handler: Callable[[discord.Interaction, *Ts], Awaitable[None]],
    ) -> None:
        """Route `action` to `handler`: once, with the argument forms and the `shown` rule the
        action defines; the handler receives the arguments' values."""
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
            values = action.read(value)
            if values is None:
                raise ForgedComponent(value)
            if action.shown is not False:
                expected = value if action.shown is True else action.shown.id(*args)
                if not carries(interaction, expected):
                    raise ForgedComponent(value)
            await handler(interaction, *values)

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
