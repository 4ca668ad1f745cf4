"""REST endpoint behaviour: what the fake answers for each Discord route the bot uses.

Errors mirror Discord's status codes and JSON error codes (10003 Unknown Channel,
10008 Unknown Message, 10015 Unknown Webhook, 10062 Unknown interaction, 40060
already acknowledged, 50013 Missing Permissions, 50035 Invalid Form Body, ...), so
discord.py raises the same ``NotFound``/``Forbidden``/``HTTPException`` it would live.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from aiohttp import web

from . import permissions as perms
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    SentInteraction,
)
from .models import EPHEMERAL, LOADING, AttachmentRecord, ChannelRecord, Json, MessageRecord
from .responses import no_content, ok
from .rest import ApiError, Call, RestApi, UploadedFile
from .state import CallbackRecord, FakeState
from .validation import Problem, check_choices, check_message, check_modal, form_error

#: Callback types each interaction type accepts.
ALLOWED_CALLBACKS: dict[int, set[int]] = {
    APPLICATION_COMMAND: {4, 5, 9},
    MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
    AUTOCOMPLETE: {8},
    MODAL_SUBMIT: {4, 5, 6, 7},
}

COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def _invalid(problems: list[Problem]) -> None:
    if problems:
        raise ApiError.from_body(400, form_error(problems))


class Endpoints:
    """Registers every supported route on a :class:`RestApi`."""

    def __init__(self, state: FakeState, *, gateway_url: Callable[[], str]) -> None:
        self.state = state
        self._gateway_url = gateway_url

    def register(self, api: RestApi) -> None:
        add = api.add
        add("GET", "/users/@me", self.get_me)
        add("POST", "/users/@me/channels", self.create_dm)
        add("GET", "/users/{user_id}", self.get_user)
        add("GET", "/gateway", self.get_gateway, auth=False)
        add("GET", "/gateway/bot", self.get_gateway_bot)
        add("GET", "/oauth2/applications/@me", self.get_application)
        add("GET", "/applications/@me", self.get_application)
        add("GET", "/applications/{application_id}/commands", self.list_commands)
        add("PUT", "/applications/{application_id}/commands", self.put_commands)
        add("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self.list_commands)
        add("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self.put_commands)
        add("POST", "/interactions/{interaction_id}/{token}/callback", self.callback, auth=False)
        add("POST", "/webhooks/{application_id}/{token}", self.followup, auth=False)
        hook_msg = "/webhooks/{application_id}/{token}/messages/{message}"  # id or @original
        add("GET", hook_msg, self.get_webhook_message, auth=False)
        add("PATCH", hook_msg, self.edit_webhook_message, auth=False)
        add("DELETE", hook_msg, self.delete_webhook_message, auth=False)
        add("GET", "/channels/{channel_id}", self.get_channel)
        add("POST", "/channels/{channel_id}/typing", self.typing)
        add("GET", "/channels/{channel_id}/messages", self.list_messages)
        add("POST", "/channels/{channel_id}/messages", self.create_message)
        add("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message)
        add("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message)
        add("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        add("GET", "/guilds/{guild_id}", self.get_guild)
        add("GET", "/guilds/{guild_id}/channels", self.get_guild_channels)
        add("GET", "/guilds/{guild_id}/roles", self.get_guild_roles)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)

    # -- users, gateway, application -----------------------------------------------------

    async def get_me(self, call: Call) -> web.Response:
        return ok(
            {**self.state.bot.payload(), "verified": True, "mfa_enabled": False, "email": None}
        )

    async def get_user(self, call: Call) -> web.Response:
        user = self.state.users.get(call.int_param("user_id"))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return ok(user.payload())

    async def create_dm(self, call: Call) -> web.Response:
        user = self.state.users.get(int(call.json().get("recipient_id", 0)))
        if user is None:
            raise ApiError(400, 50035, "Invalid Form Body")
        for channel in self.state.dm_channels.values():
            if channel.recipients and channel.recipients[0].id == user.id:
                return ok(channel.payload())
        channel = ChannelRecord(id=self.state.ids.next(), name="", type=1, recipients=[user])
        self.state.dm_channels[channel.id] = channel
        return ok(channel.payload())

    async def get_gateway(self, call: Call) -> web.Response:
        return ok({"url": self._gateway_url()})

    async def get_gateway_bot(self, call: Call) -> web.Response:
        total = 1000
        limit = {
            "total": total,
            "remaining": max(0, total - self.state.identifies),
            "reset_after": 86_400_000,
            "max_concurrency": 1,
        }
        return ok(
            {
                "url": self._gateway_url(),
                "shards": self.state.recommended_shards,
                "session_start_limit": limit,
            }
        )

    async def get_application(self, call: Call) -> web.Response:
        bot = self.state.bot
        humans = [u for u in self.state.users.values() if not u.bot]
        owner = humans[0] if humans else bot
        return ok(
            {
                "id": str(self.state.application_id),
                "name": self.state.application_name,
                "icon": None,
                "description": "",
                "summary": "",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": bot.payload(),
                "owner": owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.state.guilds),
            }
        )

    # -- application commands ------------------------------------------------------------

    def _check_app(self, call: Call) -> int | None:
        if call.int_param("application_id") != self.state.application_id:
            raise ApiError(403, 50001, "Missing Access")
        if "guild_id" not in call.params:
            return None
        guild_id = call.int_param("guild_id")
        if guild_id not in self.state.guilds:
            raise ApiError(403, 50001, "Missing Access")
        return guild_id

    async def list_commands(self, call: Call) -> web.Response:
        guild_id = self._check_app(call)
        reg = self.state.commands
        return ok(reg.global_commands if guild_id is None else reg.guild_commands.get(guild_id, []))

    async def put_commands(self, call: Call) -> web.Response:
        guild_id = self._check_app(call)
        commands = call.body
        if not isinstance(commands, list):
            raise ApiError(400, 50035, "Invalid Form Body")
        problems: list[Problem] = []
        if len(commands) > 100:
            problems.append(("", "Must be 100 or fewer in length."))
        for i, cmd in enumerate(commands):
            problems += _check_command(cmd, f"{i}")
        _invalid(problems)
        return ok(self.state.commands.replace(guild_id, commands))

    # -- interactions ----------------------------------------------------------------------

    def _interaction(self, interaction_id: int, token: str) -> SentInteraction:
        rec = self.state.interactions.get(interaction_id)
        if rec is None or rec.token != token:
            raise ApiError(404, 10062, "Unknown interaction")
        return rec

    async def callback(self, call: Call) -> web.Response:
        rec = self._interaction(call.int_param("interaction_id"), call.params["token"])
        body = call.json()
        ctype = int(body.get("type", 0))
        data: Json = body.get("data") or {}
        try:
            message = self._apply_callback(rec, ctype, data, call.files)
        except ApiError as err:
            rec.callbacks.append(CallbackRecord(ctype, data, err.status, err.body))
            raise
        rec.callbacks.append(CallbackRecord(ctype, data, 200))
        if not call.flag("with_response"):
            return no_content()
        # discord.py always asks ?with_response=1 and builds InteractionCallbackResponse
        # from this: response_message_id is how it binds a View to the reply.
        interaction: Json = {
            "id": str(rec.id),
            "type": rec.type,
            "response_message_loading": ctype == 5,
            "response_message_ephemeral": bool(message and message.ephemeral),
        }
        resource: Json = {"type": ctype}
        if message is not None:
            interaction["response_message_id"] = str(message.id)
            resource["message"] = message.payload()
        return ok({"interaction": interaction, "resource": resource})

    def _apply_callback(
        self, rec: SentInteraction, ctype: int, data: Json, files: list[UploadedFile]
    ) -> MessageRecord | None:
        if rec.deadline is not None and time.monotonic() > rec.sent_at + rec.deadline:
            raise ApiError(404, 10062, "Unknown interaction")
        if rec.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        allowed = set(ALLOWED_CALLBACKS.get(rec.type, set()))
        if rec.type == MODAL_SUBMIT and "message" not in rec.payload:
            allowed -= {6, 7}
        if ctype not in allowed:
            raise ApiError(
                400,
                50035,
                f"Invalid Form Body: callback type {ctype} is not valid "
                f"for interaction type {rec.type}",
            )
        if ctype in (4, 7):
            _invalid(check_message(data, attachments=len(files), creating=ctype == 4))
        elif ctype == 9:
            _invalid(check_modal(data))
        elif ctype == 8:
            _invalid(check_choices(data))

        channel_id = int(rec.payload["channel_id"])
        if ctype == 4:
            msg = self._new_message(channel_id, "callback", data, files, rec)
            rec.original_message_id = msg.id
            return msg
        if ctype == 5:
            placeholder = {"flags": LOADING | (int(data.get("flags") or 0) & EPHEMERAL)}
            msg = self._new_message(channel_id, "callback", placeholder, [], rec)
            rec.original_message_id = msg.id
            return msg
        if ctype in (6, 7):
            target = self.state.messages[int(rec.payload["message"]["id"])]
            rec.original_message_id = target.id
            if ctype == 7:
                attachments = self._attachments(target, data, files)
                self.state.edit_message(target, data, attachments)
                return target
        self.state.changed()
        return None

    def _by_token(self, call: Call) -> SentInteraction:
        rec = self.state.interaction_by_token(call.params["token"])
        if rec is None or call.int_param("application_id") != self.state.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        return rec

    def _webhook_message(self, call: Call) -> tuple[SentInteraction, MessageRecord]:
        rec = self._by_token(call)
        raw = call.params["message"]
        if raw == "@original":
            mid = rec.original_message_id
        else:
            mid = call.int_param("message")
            if mid != rec.original_message_id and mid not in rec.followup_ids:
                mid = None
        msg = self.state.messages.get(mid) if mid is not None else None
        if msg is None or msg.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return rec, msg

    async def followup(self, call: Call) -> web.Response:
        rec = self._by_token(call)
        if not rec.acknowledged:
            raise ApiError(404, 10015, "Unknown Webhook")
        data = call.json()
        _invalid(check_message(data, attachments=len(call.files), creating=True))
        original = rec.message
        if original is not None and original.loading and not original.deleted:
            # Discord: the first follow-up after a deferred reply replaces the "thinking…" message.
            self.state.edit_message(original, data, self._attachments(original, data, call.files))
            msg = original
        else:
            msg = self._new_message(
                int(rec.payload["channel_id"]), "followup", data, call.files, rec
            )
        rec.followup_ids.append(msg.id)
        self.state.changed()
        return ok(msg.payload()) if call.flag("wait") else no_content()

    async def get_webhook_message(self, call: Call) -> web.Response:
        _, msg = self._webhook_message(call)
        return ok(msg.payload())

    async def edit_webhook_message(self, call: Call) -> web.Response:
        _, msg = self._webhook_message(call)
        data = call.json()
        _invalid(check_message(data, attachments=len(call.files), creating=False))
        self.state.edit_message(msg, data, self._attachments(msg, data, call.files))
        return ok(msg.payload())

    async def delete_webhook_message(self, call: Call) -> web.Response:
        _, msg = self._webhook_message(call)
        self.state.delete_message(msg)
        return no_content()

    # -- channels and messages -----------------------------------------------------------

    def _channel(self, call: Call, *, need: int = perms.VIEW_CHANNEL) -> ChannelRecord:
        channel = self.state.channel(call.int_param("channel_id"))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        if channel.guild_id is not None:
            have = self.state.guilds[channel.guild_id].channel_permissions(
                self.state.bot.id, channel.id
            )
            if not have & perms.VIEW_CHANNEL:
                raise ApiError(403, 50001, "Missing Access")
            if have & need != need:
                raise ApiError(403, 50013, "Missing Permissions")
        return channel

    def _channel_message(self, call: Call, channel: ChannelRecord) -> MessageRecord:
        msg = self.state.messages.get(call.int_param("message_id"))
        if msg is None or msg.channel_id != channel.id or msg.deleted or msg.ephemeral:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def get_channel(self, call: Call) -> web.Response:
        return ok(self._channel(call).payload())

    async def typing(self, call: Call) -> web.Response:
        self._channel(call, need=perms.VIEW_CHANNEL | perms.SEND_MESSAGES)
        return no_content()

    async def list_messages(self, call: Call) -> web.Response:
        channel = self._channel(call, need=perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        limit = int(call.query.get("limit", 50))
        visible = [
            m for m in self.state.channel_messages(channel.id) if not m.deleted and not m.ephemeral
        ]
        return ok([m.payload() for m in reversed(visible)][:limit])

    async def create_message(self, call: Call) -> web.Response:
        need = perms.VIEW_CHANNEL | perms.SEND_MESSAGES | (perms.ATTACH_FILES if call.files else 0)
        channel = self._channel(call, need=need)
        data = call.json()
        _invalid(check_message(data, attachments=len(call.files), creating=True))
        data = {**data, "flags": int(data.get("flags") or 0) & ~EPHEMERAL}
        msg = self._new_message(channel.id, "channel", data, call.files, None)
        return ok(msg.payload())

    async def get_message(self, call: Call) -> web.Response:
        channel = self._channel(call, need=perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        return ok(self._channel_message(call, channel).payload())

    async def edit_message(self, call: Call) -> web.Response:
        channel = self._channel(call)
        msg = self._channel_message(call, channel)
        if msg.author.id != self.state.bot.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        data = call.json()
        _invalid(check_message(data, attachments=len(call.files), creating=False))
        self.state.edit_message(msg, data, self._attachments(msg, data, call.files))
        return ok(msg.payload())

    async def delete_message(self, call: Call) -> web.Response:
        channel = self._channel(call)
        msg = self._channel_message(call, channel)
        if msg.author.id != self.state.bot.id:
            self._channel(call, need=perms.MANAGE_MESSAGES)
        self.state.delete_message(msg)
        return no_content()

    # -- guilds --------------------------------------------------------------------------

    def _guild(self, call: Call) -> Json:
        guild = self.state.guilds.get(call.int_param("guild_id"))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        payload = guild.payload(include_all_members=False)
        for key in ("channels", "members", "threads", "presences", "voice_states"):
            payload.pop(key, None)
        return payload

    async def get_guild(self, call: Call) -> web.Response:
        return ok(self._guild(call))

    async def get_guild_channels(self, call: Call) -> web.Response:
        self._guild(call)
        guild = self.state.guilds[call.int_param("guild_id")]
        return ok([c.payload() for c in guild.channels.values()])

    async def get_guild_roles(self, call: Call) -> web.Response:
        self._guild(call)
        guild = self.state.guilds[call.int_param("guild_id")]
        return ok([r.payload() for r in guild.roles.values()])

    async def get_member(self, call: Call) -> web.Response:
        self._guild(call)
        member = self.state.member(call.int_param("guild_id"), call.int_param("user_id"))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return ok(member.payload())

    # -- helpers -----------------------------------------------------------------------

    def _new_message(
        self,
        channel_id: int,
        source: str,
        data: Json,
        files: list[UploadedFile],
        rec: SentInteraction | None,
    ) -> MessageRecord:
        channel = self.state.channel(channel_id)
        flags = int(data.get("flags") or 0)
        msg = MessageRecord(
            id=self.state.ids.next(),
            channel_id=channel_id,
            guild_id=channel.guild_id if channel else None,
            author=self.state.bot,
            source=source,
            content=data.get("content") or "",
            embeds=list(data.get("embeds") or []),
            components=list(data.get("components") or []),
            flags=flags,
            tts=bool(data.get("tts")),
        )
        msg.attachments = self._attachments(msg, data, files) or []
        if rec is not None:
            msg.interaction_id = rec.id
            msg.webhook_id = self.state.application_id
            msg.application_id = self.state.application_id
            msg.type = 20 if rec.type == APPLICATION_COMMAND else 0
            msg.interaction_metadata = {
                "id": str(rec.id),
                "type": rec.type,
                "user": rec.user.payload(),
                "authorizing_integration_owners": {"0": str(rec.payload.get("guild_id"))},
            }
            if rec.type == APPLICATION_COMMAND:
                msg.interaction_metadata["name"] = rec.payload["data"]["name"]
        return self.state.add_message(msg)

    def _attachments(
        self, msg: MessageRecord, data: Json, files: list[UploadedFile]
    ) -> list[AttachmentRecord] | None:
        """The message's new attachment list, or None to leave it unchanged.

        ``data["attachments"]`` lists what to keep: existing ones by snowflake id, new
        uploads by their ``files[n]`` index (what ``discord.File.to_dict(n)`` sends).
        """
        by_index = {f.index: f for f in files}
        meta = data.get("attachments")
        ephemeral = bool(msg.flags & EPHEMERAL)

        def store(upload: UploadedFile, item: Json) -> AttachmentRecord:
            return self.state.store_attachment(
                msg.channel_id,
                item.get("filename") or upload.filename,
                upload.data,
                content_type=upload.content_type,
                description=item.get("description"),
                ephemeral=ephemeral,
            )

        if meta is None:
            if not files:
                return None
            return list(msg.attachments) + [store(f, {}) for f in files]
        existing = {a.id: a for a in msg.attachments}
        result: list[AttachmentRecord] = []
        for i, item in enumerate(meta):
            key = int(item.get("id", -1))
            if key in existing:
                result.append(existing[key])
            elif key in by_index:
                result.append(store(by_index[key], item))
            else:
                _invalid([(f"attachments.{i}.id", f"Unknown attachment or file index {key}")])
        return result


def _check_command(cmd: Json, where: str) -> list[Problem]:
    problems: list[Problem] = []
    name = cmd.get("name", "")
    ctype = int(cmd.get("type", 1))
    if ctype == 1 and (not COMMAND_NAME.match(name) or name != name.lower()):
        problems.append((f"{where}.name", f"Invalid command name {name!r}"))
    if ctype == 1 and not 1 <= len(cmd.get("description", "")) <= 100:
        problems.append((f"{where}.description", "Must be between 1 and 100 in length."))
    options = cmd.get("options") or []
    if len(options) > 25:
        problems.append((f"{where}.options", "Must be 25 or fewer in length."))
    seen_optional = False
    for j, opt in enumerate(options):
        if opt.get("type") in (1, 2):
            problems += _check_command({**opt, "type": 1}, f"{where}.options.{j}")
            continue
        if not COMMAND_NAME.match(opt.get("name", "")):
            problems.append(
                (f"{where}.options.{j}.name", f"Invalid option name {opt.get('name')!r}")
            )
        if opt.get("required") and seen_optional:
            problems.append(
                (
                    f"{where}.options.{j}",
                    "Required options must be placed before non-required options",
                )
            )
        seen_optional = seen_optional or not opt.get("required")
        if len(opt.get("choices") or []) > 25:
            problems.append((f"{where}.options.{j}.choices", "Must be 25 or fewer in length."))
    return problems
