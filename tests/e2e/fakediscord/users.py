"""A person using the Discord client: :class:`FakeUser` runs slash commands, clicks
buttons, fills in modals and posts messages, the way the real client would send them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    DEFAULT_TIMEOUT,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    SentInteraction,
    command_data,
    component_data,
    envelope,
    modal_submit_data,
)
from .models import ChannelRecord, GuildRecord, Json, MemberRecord, MessageRecord, UserRecord

if TYPE_CHECKING:
    from .driver import FakeDiscord


class FakeUser:
    """A guild member acting through the Discord client.

    Interaction methods deliver an INTERACTION_CREATE and, unless ``wait=False``,
    wait until the bot's first accepted callback, returning the
    :class:`SentInteraction`. ``where`` picks the channel (default: the first text
    channel of the default guild).
    """

    def __init__(self, fake: FakeDiscord, record: UserRecord, locale: str) -> None:
        self._fake = fake
        self.record = record
        self.locale = locale

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def name(self) -> str:
        return self.record.username

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def member(self, guild: GuildRecord | None = None) -> MemberRecord:
        guild = guild or self._fake.guild
        member = guild.members.get(self.id)
        if member is None:
            raise AssertionError(f"{self.name} is not a member of {guild.name!r}")
        return member

    def permissions(self, where: ChannelRecord | None = None) -> int:
        channel = where or self._fake.channel
        guild = self._fake.state.guilds[channel.guild_id or 0]
        return guild.channel_permissions(self.id, channel.id)

    # -- interactions ----------------------------------------------------------------------

    async def slash(
        self,
        command: str,
        /,
        *,
        where: ChannelRecord | None = None,
        locale: str | None = None,
        within: float = DEFAULT_TIMEOUT,
        wait: bool = True,
        check_permissions: bool = True,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> SentInteraction:
        """Run ``/command`` (``"admin reset"`` for subcommands) with options as keywords.

        Option names that clash with this method's own keywords go in ``options={...}``.
        Values: str/int/float/bool, a :class:`FakeUser`/member for user options, a
        channel record (or its name) for channel options, a role record (or name), or
        ``Upload(filename, data)`` for attachment options.
        """
        channel, guild, member = self._where(where)
        data = command_data(
            self._fake.state,
            command=command,
            options={**(options or {}), **kwargs},
            guild=guild,
            channel=channel,
            member=member,
            check_permissions=check_permissions,
        )
        payload = envelope(
            self._fake.state,
            type=APPLICATION_COMMAND,
            data=data,
            guild=guild,
            channel=channel,
            member=member,
            locale=locale or self.locale,
        )
        return await self._send(payload, f"{self.name}: /{command}", wait, within)

    async def autocomplete(
        self,
        command: str,
        option: str,
        value: str,
        /,
        *,
        where: ChannelRecord | None = None,
        locale: str | None = None,
        within: float = DEFAULT_TIMEOUT,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Json]:
        """Type ``value`` into ``option`` of ``/command``; return the bot's choices."""
        channel, guild, member = self._where(where)
        data = command_data(
            self._fake.state,
            command=command,
            options={**(options or {}), **kwargs, option: value},
            guild=guild,
            channel=channel,
            member=member,
            focused=option,
        )
        payload = envelope(
            self._fake.state,
            type=AUTOCOMPLETE,
            data=data,
            guild=guild,
            channel=channel,
            member=member,
            locale=locale or self.locale,
        )
        sent = await self._send(
            payload, f"{self.name}: autocomplete /{command} {option}={value!r}", True, within
        )
        if sent.response_type != 8:
            raise AssertionError(
                f"autocomplete answered with callback type {sent.response_type}, not 8"
            )
        return list(sent.choices or [])

    async def click(
        self,
        message: MessageRecord | SentInteraction | int,
        custom_id: str,
        /,
        *,
        locale: str | None = None,
        within: float = DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> SentInteraction:
        """Press the button ``custom_id`` on ``message`` (or on an interaction's reply)."""
        return await self._component(message, custom_id, None, locale, within, wait)

    async def select(
        self,
        message: MessageRecord | SentInteraction | int,
        custom_id: str,
        values: list[str],
        /,
        *,
        locale: str | None = None,
        within: float = DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> SentInteraction:
        """Pick ``values`` in the select menu ``custom_id``."""
        return await self._component(message, custom_id, values, locale, within, wait)

    async def submit_modal(
        self,
        source: SentInteraction,
        values: Mapping[str, str | list[str]],
        /,
        *,
        locale: str | None = None,
        within: float = DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> SentInteraction:
        """Fill in and submit the modal the bot opened in response to ``source``.

        ``values`` maps each text input's ``custom_id`` to what the user typed.
        """
        modal = source.modal
        if modal is None:
            raise AssertionError(
                f"{source.label} was answered with type {source.response_type}, not a modal (9)"
            )
        channel_id = int(source.payload["channel_id"])
        channel, guild, member = self._where(self._fake.state.channel(channel_id))
        payload = envelope(
            self._fake.state,
            type=MODAL_SUBMIT,
            data=modal_submit_data(modal, values),
            guild=guild,
            channel=channel,
            member=member,
            locale=locale or self.locale,
            message=source.payload.get("message"),
        )
        return await self._send(
            payload, f"{self.name}: submit modal {modal['custom_id']!r}", wait, within
        )

    async def say(self, content: str, /, *, where: ChannelRecord | None = None) -> MessageRecord:
        """Post a plain message (the bot sees MESSAGE_CREATE if it has the intents)."""
        channel, guild, _ = self._where(where)
        msg = MessageRecord(
            id=self._fake.state.ids.next(),
            channel_id=channel.id,
            guild_id=guild.id,
            author=self.record,
            source="user",
            content=content,
        )
        return self._fake.state.add_message(msg)

    # -- helpers -----------------------------------------------------------------------------

    def _where(
        self, where: ChannelRecord | None
    ) -> tuple[ChannelRecord, GuildRecord, MemberRecord]:
        channel = where or self._fake.channel
        if channel.guild_id is None:
            raise AssertionError("the fake only delivers guild interactions")
        guild = self._fake.state.guilds[channel.guild_id]
        return channel, guild, self.member(guild)

    async def _component(
        self,
        message: MessageRecord | SentInteraction | int,
        custom_id: str,
        values: list[str] | None,
        locale: str | None,
        within: float,
        wait: bool,
    ) -> SentInteraction:
        msg = self._fake.resolve_message(message)
        channel, guild, member = self._where(self._fake.state.channel(msg.channel_id))
        payload = envelope(
            self._fake.state,
            type=MESSAGE_COMPONENT,
            data=component_data(msg, custom_id, values),
            guild=guild,
            channel=channel,
            member=member,
            locale=locale or self.locale,
            message=msg.payload(),
        )
        verb = "click" if values is None else f"select {values}"
        return await self._send(payload, f"{self.name}: {verb} {custom_id!r}", wait, within)

    async def _send(self, payload: Json, label: str, wait: bool, within: float) -> SentInteraction:
        sent = self._fake.deliver(payload, label=label, user=self.record)
        if wait:
            await sent.wait_response(within)
        return sent

    def __repr__(self) -> str:
        return f"<FakeUser {self.name} id={self.id}>"
