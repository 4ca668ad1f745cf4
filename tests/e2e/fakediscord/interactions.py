"""INTERACTION_CREATE payloads and :class:`SentInteraction`, the handle a test awaits.

Slash-command options are built from the definitions the bot synced (so option types,
choices, bounds, required options and ``default_member_permissions`` are checked the
way the Discord client would check them before sending); if the command was never
synced, types are inferred from the Python values.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from .models import (
    AttachmentRecord,
    ChannelRecord,
    GuildRecord,
    Json,
    MemberRecord,
    MessageRecord,
    RoleRecord,
    UserRecord,
    iter_components,
)
from .permissions import ADMINISTRATOR
from .snowflake import new_token
from .state import CallbackRecord, FakeState

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

OPTION_TYPE_NAMES = {
    1: "subcommand",
    2: "subcommand group",
    3: "string",
    4: "integer",
    5: "boolean",
    6: "user",
    7: "channel",
    8: "role",
    9: "mentionable",
    10: "number",
    11: "attachment",
}

# How long a wait for the bot (a response, an edit, a follow-up) lasts unless a test says
# otherwise. Only a test that fails waits this long: it is a limit for a hung bot, far above
# what anything takes on a busy machine, not a speed goal (those are in bench/; Discord's 3 s
# limit on a first response is checked with `FakeDiscord(interaction_deadline=3.0)`).
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Upload:
    """A file a user attaches to an attachment option.

    Example: ``await alice.slash("import", file=Upload("deck.csv", b"..."))``.
    """

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


class SentInteraction:
    """An interaction the fake delivered to the bot, and everything the bot did with it.

    ``callbacks`` holds every callback attempt (rejected duplicates included); the
    first accepted one is ``response``. ``message`` is the current ``@original``
    message (the new reply for types 4/5, the clicked message for types 6/7).
    """

    def __init__(
        self,
        *,
        state: FakeState,
        payload: Json,
        label: str,
        user: UserRecord,
        deliver: Callable[[Json], object],
        deadline: float | None,
    ) -> None:
        self._state = state
        self._deliver = deliver
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.label = label
        self.user = user
        self.deadline = deadline
        self.callbacks: list[CallbackRecord] = []
        self.original_message_id: int | None = None
        self.followup_ids: list[int] = []
        self.deliveries = 0
        self.sent_at = time.monotonic()

    # -- what the bot answered ---------------------------------------------------------

    @property
    def response(self) -> CallbackRecord | None:
        return next((c for c in self.callbacks if c.accepted), None)

    @property
    def acknowledged(self) -> bool:
        return self.response is not None

    @property
    def response_type(self) -> int | None:
        return self.response.type if self.response else None

    @property
    def data(self) -> Json:
        """The ``data`` of the accepted callback (``{}`` before the bot answered)."""
        return self.response.data if self.response else {}

    @property
    def message(self) -> MessageRecord | None:
        if self.original_message_id is None:
            return None
        return self._state.messages.get(self.original_message_id)

    @property
    def followups(self) -> list[MessageRecord]:
        return [self._state.messages[i] for i in self.followup_ids]

    @property
    def modal(self) -> Json | None:
        """The modal the bot opened (callback type 9), as sent."""
        return self.data if self.response_type == 9 else None

    @property
    def choices(self) -> list[Json] | None:
        """Autocomplete choices (callback type 8)."""
        return self.data.get("choices") if self.response_type == 8 else None

    @property
    def message_payload(self) -> Json | None:
        """The ``message`` this interaction was attached to (components, modals from them)."""
        return self.payload.get("message")

    # -- waiting -------------------------------------------------------------------------

    async def wait_response(self, within: float = DEFAULT_TIMEOUT) -> Self:
        """Wait for the first accepted callback."""
        await self._state.wait_until(
            lambda: self if self.acknowledged else None,
            within=within,
            describe=lambda: self._unanswered(within),
        )
        return self

    async def wait_original(
        self,
        predicate: Callable[[MessageRecord], bool] | None = None,
        within: float = DEFAULT_TIMEOUT,
    ) -> MessageRecord:
        """Wait until ``@original`` exists, is no longer "thinking…" and matches."""

        def check() -> MessageRecord | None:
            msg = self.message
            if msg is None or msg.loading or msg.deleted:
                return None
            return msg if predicate is None or predicate(msg) else None

        return await self._state.wait_until(
            check,
            within=within,
            describe=lambda: (
                f"{self.label}: @original never matched within {within}s; it is now "
                f"{self.message!r} (history: {self.message.history if self.message else []})"
                f"\n{self._activity()}"
            ),
        )

    async def wait_followup(
        self,
        predicate: Callable[[MessageRecord], bool] | None = None,
        within: float = DEFAULT_TIMEOUT,
    ) -> MessageRecord:
        """Wait for a follow-up message (the newest matching one)."""

        def check() -> MessageRecord | None:
            for msg in reversed(self.followups):
                if predicate is None or predicate(msg):
                    return msg
            return None

        return await self._state.wait_until(
            check,
            within=within,
            describe=lambda: (
                f"{self.label}: no matching follow-up within {within}s; follow-ups: "
                f"{self.followups}\n{self._activity()}"
            ),
        )

    def redeliver(self) -> None:
        """Send the identical INTERACTION_CREATE again (same id and token)."""
        self.deliveries += 1
        self._deliver(self.payload)

    # -- diagnostics -----------------------------------------------------------------------

    def _activity(self) -> str:
        reqs = [str(r) for r in self._state.requests if r.at >= self.sent_at]
        tried = [f"type {c.type} -> {c.status} {c.error or ''}".strip() for c in self.callbacks]
        return f"callback attempts: {tried}; REST requests since it was sent: {reqs}"

    def _unanswered(self, within: float) -> str:
        return (
            f"bot did not answer {self.label} (interaction {self.id}) within {within}s; "
            f"{self._activity()}"
        )

    def __repr__(self) -> str:
        return (
            f"<SentInteraction {self.label} id={self.id} by {self.user.username} "
            f"response_type={self.response_type} message={self.message!r}>"
        )


# -- payload building --------------------------------------------------------------------------


def envelope(
    state: FakeState,
    *,
    type: int,
    data: Json,
    guild: GuildRecord,
    channel: ChannelRecord,
    member: MemberRecord,
    locale: str,
    message: Json | None = None,
) -> Json:
    """The full INTERACTION_CREATE ``d`` for a guild interaction."""
    user_perms = guild.channel_permissions(member.user.id, channel.id)
    bot_perms = guild.channel_permissions(state.bot.id, channel.id)
    member_payload = member.payload()
    member_payload["permissions"] = str(user_perms)
    channel_payload = channel.payload()
    channel_payload["permissions"] = str(user_perms)
    payload: Json = {
        "id": str(state.ids.next()),
        "application_id": str(state.application_id),
        "type": type,
        "data": data,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
        "channel_id": str(channel.id),
        "channel": channel_payload,
        "member": member_payload,
        "token": new_token(),
        "version": 1,
        "locale": locale,
        "guild_locale": guild.preferred_locale,
        "app_permissions": str(bot_perms),
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if message is not None:
        payload["message"] = message
    return payload


class _OptionBuilder:
    """Turns ``name=value`` keyword arguments into options plus ``resolved`` data."""

    def __init__(
        self, state: FakeState, guild: GuildRecord, channel: ChannelRecord, member: MemberRecord
    ) -> None:
        self.state = state
        self.guild = guild
        self.channel = channel
        self.member = member
        self.resolved: dict[str, dict[str, Json]] = {}

    def _put(self, kind: str, key: int, value: Json) -> None:
        self.resolved.setdefault(kind, {})[str(key)] = value

    def option(
        self, name: str, value: Any, definition: Json | None, *, focused: bool, where: str
    ) -> Json:
        otype = int(definition["type"]) if definition else _infer_type(value)
        if focused:
            return {"name": name, "type": otype, "value": str(value), "focused": True}
        if definition:
            _check_bounds(definition, value, where)
        return {"name": name, "type": otype, "value": self._value(otype, value, definition, where)}

    def _value(self, otype: int, value: Any, definition: Json | None, where: str) -> Any:
        if otype == 3:
            return str(value)
        if otype == 4:
            if isinstance(value, bool) or not isinstance(value, int):
                raise AssertionError(f"{where}: integer option needs an int, got {value!r}")
            return value
        if otype == 5:
            if not isinstance(value, bool):
                raise AssertionError(f"{where}: boolean option needs a bool, got {value!r}")
            return value
        if otype == 10:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise AssertionError(f"{where}: number option needs a number, got {value!r}")
            return value
        if otype == 6:
            return str(self._user(value, where))
        if otype == 7:
            return str(self._channel(value, definition, where))
        if otype == 8:
            return str(self._role(value, where))
        if otype == 9:
            if isinstance(value, RoleRecord):
                return str(self._role(value, where))
            return str(self._user(value, where))
        if otype == 11:
            return str(self._attachment(value, where))
        raise AssertionError(f"{where}: unsupported option type {otype}")

    def _user(self, value: Any, where: str) -> int:
        if isinstance(value, MemberRecord):
            user_id = value.user.id
        elif isinstance(value, int):
            user_id = value
        elif isinstance(getattr(value, "id", None), int):
            user_id = value.id
        else:
            raise AssertionError(f"{where}: user option needs a user, got {value!r}")
        user = self.state.users.get(user_id)
        if user is None:
            raise AssertionError(f"{where}: unknown user id {user_id}")
        self._put("users", user_id, user.payload())
        member = self.guild.members.get(user_id)
        if member is not None:
            data = member.payload(with_user=False)
            data["permissions"] = str(self.guild.channel_permissions(user_id, self.channel.id))
            self._put("members", user_id, data)
        return user_id

    def _channel(self, value: Any, definition: Json | None, where: str) -> int:
        if isinstance(value, ChannelRecord):
            channel = value
        else:
            try:
                channel = self.guild.channel(value)
            except KeyError as exc:
                raise AssertionError(f"{where}: {exc.args[0]}") from None
        allowed = (definition or {}).get("channel_types")
        if allowed and channel.type not in allowed:
            raise AssertionError(f"{where}: channel type {channel.type} not in {allowed}")
        data = channel.payload()
        data["permissions"] = str(self.guild.channel_permissions(self.member.user.id, channel.id))
        self._put("channels", channel.id, data)
        return channel.id

    def _role(self, value: Any, where: str) -> int:
        role = value if isinstance(value, RoleRecord) else None
        if role is None:
            try:
                role = self.guild.role(value)
            except KeyError as exc:
                raise AssertionError(f"{where}: {exc.args[0]}") from None
        self._put("roles", role.id, role.payload())
        return role.id

    def _attachment(self, value: Any, where: str) -> int:
        if isinstance(value, tuple) and len(value) == 2:
            value = Upload(str(value[0]), bytes(value[1]))
        if isinstance(value, AttachmentRecord):
            record = value
        elif isinstance(value, Upload):
            record = self.state.store_attachment(
                self.channel.id,
                value.filename,
                value.data,
                content_type=value.content_type,
                ephemeral=True,
            )
        else:
            raise AssertionError(
                f"{where}: attachment option needs Upload(filename, data), got {value!r}"
            )
        self._put("attachments", record.id, record.payload())
        return record.id


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, ChannelRecord):
        return 7
    if isinstance(value, RoleRecord):
        return 8
    if isinstance(value, Upload | AttachmentRecord | tuple):
        return 11
    if isinstance(value, MemberRecord | UserRecord) or hasattr(value, "record"):
        return 6
    return 3


def _check_bounds(definition: Json, value: Any, where: str) -> None:
    choices = definition.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        names = {c["name"]: c["value"] for c in choices}
        raise AssertionError(f"{where}: {value!r} is not one of the choices {names}")
    low, high = definition.get("min_value"), definition.get("max_value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if (low is not None and value < low) or (high is not None and value > high):
            raise AssertionError(f"{where}: {value!r} outside [{low}, {high}]")
    if isinstance(value, str):
        lo, hi = definition.get("min_length"), definition.get("max_length")
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise AssertionError(f"{where}: length {len(value)} outside [{lo}, {hi}]")


def command_data(
    state: FakeState,
    *,
    command: str,
    options: Mapping[str, Any],
    guild: GuildRecord,
    channel: ChannelRecord,
    member: MemberRecord,
    focused: str | None = None,
    check_permissions: bool = True,
) -> Json:
    """``data`` of a type-2 (or, with ``focused``, type-4) interaction for ``command``.

    ``command`` is the full path as a user types it: ``"ping"``, ``"admin reset"``,
    ``"interview start"``, or ``"group sub command"``.
    """
    parts = command.split()
    definition = state.commands.find(parts[0], guild.id)
    builder = _OptionBuilder(state, guild, channel, member)
    data: Json = {"name": parts[0], "type": 1}
    if definition is None:
        data["id"] = str(state.ids.next())
        leaf_defs: Sequence[Json] | None = None
    else:
        data["id"] = definition["id"]
        if "guild_id" in definition:
            data["guild_id"] = definition["guild_id"]
        if check_permissions:
            _check_can_use(definition, guild, member)
        leaf_defs = definition.get("options", [])

    # Walk subcommand groups / subcommands, building the nested option skeleton.
    container = data
    for depth, part in enumerate(parts[1:], start=1):
        if leaf_defs is None:
            kind = 2 if depth < len(parts) - 1 else 1
            sub_defs = None
        else:
            match = next((o for o in leaf_defs if o["name"] == part and o["type"] in (1, 2)), None)
            if match is None:
                subs = [o["name"] for o in leaf_defs if o["type"] in (1, 2)]
                raise AssertionError(f"/{command}: {part!r} is not a subcommand (have {subs})")
            kind = match["type"]
            sub_defs = match.get("options", [])
        node: Json = {"name": part, "type": kind, "options": []}
        container["options"] = [node]
        container = node
        leaf_defs = sub_defs
    if leaf_defs is not None and any(o["type"] in (1, 2) for o in leaf_defs):
        subs = [o["name"] for o in leaf_defs if o["type"] in (1, 2)]
        raise AssertionError(f"/{command} is a group; pick a subcommand: {subs}")

    built: list[Json] = []
    by_name = {o["name"]: o for o in leaf_defs or []}
    for name, value in options.items():
        where = f"/{command} {name}"
        definition_opt = by_name.get(name)
        if leaf_defs is not None and definition_opt is None:
            raise AssertionError(f"{where}: no such option (have {list(by_name)})")
        built.append(
            builder.option(name, value, definition_opt, focused=name == focused, where=where)
        )
    if leaf_defs is not None and focused is None:
        missing = [o["name"] for o in leaf_defs if o.get("required") and o["name"] not in options]
        if missing:
            raise AssertionError(f"/{command}: missing required options {missing}")
    # Discord sends options in definition order.
    order = {o["name"]: i for i, o in enumerate(leaf_defs or [])}
    built.sort(key=lambda o: order.get(o["name"], len(order)))
    container["options"] = built
    if builder.resolved:
        data["resolved"] = builder.resolved
    return data


def _check_can_use(definition: Json, guild: GuildRecord, member: MemberRecord) -> None:
    required = definition.get("default_member_permissions")
    if required is None:
        return
    have = guild.guild_permissions(member.user.id)
    need = int(required)
    if have & ADMINISTRATOR or (need and have & need == need):
        return
    raise AssertionError(
        f"{member.user.username} cannot use /{definition['name']}: it needs permissions "
        f"{need:#x} (default_member_permissions) and they have {have:#x}; "
        "pass check_permissions=False to send it anyway"
    )


def component_data(message: MessageRecord, custom_id: str, values: list[str] | None) -> Json:
    """``data`` of a type-3 interaction: a click on (or selection in) ``custom_id``."""
    components = message.components_by_custom_id()
    comp = components.get(custom_id)
    if comp is None:
        raise AssertionError(
            f"{message!r} has no component {custom_id!r}; it has {list(components)}"
        )
    if comp.get("disabled"):
        raise AssertionError(f"component {custom_id!r} on message {message.id} is disabled")
    data: Json = {"custom_id": custom_id, "component_type": comp["type"]}
    if comp["type"] != 2:
        data["values"] = list(values or [])
    elif values:
        raise AssertionError("buttons take no values")
    return data


def modal_submit_data(modal: Json, values: Mapping[str, str | list[str]]) -> Json:
    """``data`` of a type-5 interaction, mirroring the modal's rows/labels."""
    inputs = {
        c["custom_id"]: c
        for c in iter_components(modal.get("components", []))
        if c.get("type") in (3, 4)
    }
    unknown = set(values) - set(inputs)
    if unknown:
        raise AssertionError(
            f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)}; "
            f"it has {list(inputs)}"
        )
    for cid, comp in inputs.items():
        value = values.get(cid)
        if comp["type"] == 4:
            text = str(value or "")
            if comp.get("required", True) and not text:
                raise AssertionError(f"modal input {cid!r} is required")
            lo, hi = comp.get("min_length"), comp.get("max_length")
            if text and (
                (lo is not None and len(text) < lo) or (hi is not None and len(text) > hi)
            ):
                raise AssertionError(
                    f"modal input {cid!r}: length {len(text)} outside [{lo}, {hi}]"
                )

    def submitted(comp: Json) -> Json:
        out: Json = {"type": comp["type"], "custom_id": comp["custom_id"]}
        if comp["type"] == 4:
            out["value"] = str(values.get(comp["custom_id"]) or "")
        else:
            raw = values.get(comp["custom_id"]) or []
            out["values"] = [raw] if isinstance(raw, str) else list(raw)
        if "id" in comp:
            out["id"] = comp["id"]
        return out

    rows: list[Json] = []
    for comp in modal.get("components", []):
        if comp.get("type") == 1:
            children = [submitted(c) for c in comp.get("components", []) if c.get("type") in (3, 4)]
            rows.append({"type": 1, "components": children})
        elif comp.get("type") == 18 and comp.get("component", {}).get("type") in (3, 4):
            label: Json = {"type": 18, "component": submitted(comp["component"])}
            if "id" in comp:
                label["id"] = comp["id"]
            rows.append(label)
    return {"custom_id": modal["custom_id"], "components": rows}
