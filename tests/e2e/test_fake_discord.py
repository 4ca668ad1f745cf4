"""The fake Discord server, exercised by a real discord.py client over real sockets.

The bot here is a throwaway ``discord.Client`` + ``CommandTree`` defined in this file,
so these tests check the fake itself (and discord.py's view of it), not the product.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from discord import app_commands

from .fakediscord import (
    FakeDiscord,
    GuildRecord,
    SentInteraction,
    Upload,
    patch_discord,
    running_client,
)
from .fakediscord.models import MemberRecord
from .fakediscord.snowflake import SnowflakeFactory

pytestmark = pytest.mark.timeout(20)

REPORT_BYTES = bytes(range(256)) * 40 + b"\x00\xff end"
TOPICS = ["cnn", "cnn-receptive-field", "rnn", "transformer", "batchnorm"]


class AnswerModal(discord.ui.Modal, title="Your answer"):
    """Opened by the persistent "Answer" button."""

    answer: discord.ui.TextInput[AnswerModal] = discord.ui.TextInput(
        label="Answer", custom_id="answer"
    )

    def __init__(self) -> None:
        super().__init__(custom_id="quiz:modal")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"you answered {self.answer.value}", ephemeral=True)


class QuizView(discord.ui.View):
    """A persistent view (no timeout, fixed custom_id), registered in setup_hook."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Answer", custom_id="quiz:answer", style=discord.ButtonStyle.primary)
    async def answer(
        self, interaction: discord.Interaction, button: discord.ui.Button[QuizView]
    ) -> None:
        await interaction.response.send_modal(AnswerModal())


class ConfirmView(discord.ui.View):
    """A normal (non-persistent) view: update-message (type 7) and deferred update (type 6)."""

    def __init__(self) -> None:
        super().__init__(timeout=30)

    @discord.ui.button(label="Yes", custom_id="confirm:yes")
    async def yes(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmView]
    ) -> None:
        await interaction.response.edit_message(content="confirmed", view=None)

    @discord.ui.button(label="Later", custom_id="confirm:later")
    async def later(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmView]
    ) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="maybe later")


class DemoBot(discord.Client):
    """A minimal bot: a few commands covering every response style."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.guild_id = guild_id
        self.tree = app_commands.CommandTree(self)
        self.resumed = 0
        self.callback_message_ids: list[int | None] = []
        self.seen_messages: list[tuple[str, str]] = []
        self._add_commands()

    async def setup_hook(self) -> None:
        self.add_view(QuizView())
        await self.tree.sync(guild=discord.Object(self.guild_id))
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before every non-initial IDENTIFY; skip that in tests.
        return None

    async def on_resumed(self) -> None:
        self.resumed += 1

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append((message.author.name, message.content))

    def _add_commands(self) -> None:
        tree = self.tree
        guild = discord.Object(self.guild_id)

        @tree.command(description="Answer pong")
        async def ping(interaction: discord.Interaction) -> None:
            response = await interaction.response.send_message("pong")
            self.callback_message_ids.append(response.message_id)

        @tree.command(description="Reply with an embed and a file in the first response")
        async def card(interaction: discord.Interaction) -> None:
            embed = discord.Embed(title="Card", description="front")
            file = discord.File(io.BytesIO(b"PNG..."), filename="card.png")
            await interaction.response.send_message(embed=embed, file=file)

        @tree.command(description="Use every webhook message route")
        async def tidy(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("temporary")
            original = await interaction.original_response()  # GET @original
            extra = await interaction.followup.send("extra", wait=True)
            await interaction.followup.edit_message(extra.id, content=f"extra for {original.id}")
            await interaction.delete_original_response()

        @tree.command(description="Use channel, message and member routes")
        async def audit(interaction: discord.Interaction) -> None:
            assert interaction.guild is not None and interaction.channel_id is not None
            channel = await self.fetch_channel(interaction.channel_id)
            assert isinstance(channel, discord.TextChannel)
            member = await interaction.guild.fetch_member(interaction.user.id)
            posted = await channel.send("draft")
            await posted.edit(content="final")
            fetched = await channel.fetch_message(posted.id)
            await interaction.response.send_message(
                f"{channel.name} {member.name} {fetched.content}", ephemeral=True
            )

        @tree.command(description="Ask for confirmation")
        async def confirm(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("sure?", view=ConfirmView())

        @tree.command(description="Think, then answer")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.edit_original_response(content="done")

        @tree.command(description="Send a private report file")
        async def report(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True)
            file = discord.File(io.BytesIO(REPORT_BYTES), filename="report.bin")
            await interaction.followup.send("your report", file=file, ephemeral=True)

        @tree.command(description="Post the quiz")
        async def quiz(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Question 1", view=QuizView())

        @tree.command(description="Ignore the user (never answers)")
        async def ignore(interaction: discord.Interaction) -> None:
            return None

        @tree.command(description="Try an over-long reply, then recover")
        async def long(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message("x" * 2001)
            except discord.HTTPException as exc:
                await interaction.response.send_message(f"rejected {exc.status} {exc.code}")

        @tree.command(description="Read pins (a route the fake does not know)")
        async def pins(interaction: discord.Interaction) -> None:
            assert isinstance(interaction.channel, discord.TextChannel)
            try:
                _ = [m async for m in interaction.channel.pins()]
            except discord.NotFound as exc:
                await interaction.response.send_message(f"not found {exc.status}")

        @tree.command(description="Announce in the channel")
        async def announce(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.defer(ephemeral=True)
            assert isinstance(interaction.channel, discord.TextChannel)
            msg = await interaction.channel.send(f"announcement: {text}")
            await interaction.followup.send(f"posted {msg.id}", ephemeral=True)

        @tree.command(description="Pick a question")
        @app_commands.describe(topic="Topic", kind="Question kind")
        @app_commands.choices(
            kind=[
                app_commands.Choice(name="Numeric", value="numeric"),
                app_commands.Choice(name="MCQ", value="mcq"),
            ]
        )
        async def question(interaction: discord.Interaction, topic: str, kind: str = "mcq") -> None:
            await interaction.response.send_message(
                f"topic={topic} kind={kind} locale={interaction.locale.value}"
            )

        @question.autocomplete("topic")
        async def topic_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=t, value=t) for t in TOPICS if t.startswith(current)]

        @tree.command(description="Echo typed options", guild=guild)
        async def echo(
            interaction: discord.Interaction,
            text: str,
            count: int,
            loud: bool,
            channel: discord.TextChannel,
            who: discord.Member,
            upload: discord.Attachment,
        ) -> None:
            data = await upload.read()
            digest = hashlib.sha256(data).hexdigest()[:12]
            await interaction.response.send_message(
                f"{text * count}{'!' if loud else ''} in #{channel.name} for {who.name} "
                f"file={upload.filename}:{len(data)}:{digest}"
            )

        admin = app_commands.Group(
            name="admin",
            description="Admin tools",
            guild_ids=[self.guild_id],
            default_permissions=discord.Permissions(manage_guild=True),
        )

        @admin.command(name="reset", description="Reset a member's progress")
        async def admin_reset(interaction: discord.Interaction, member: discord.Member) -> None:
            allowed = interaction.permissions.manage_guild
            verdict = "reset" if allowed else "denied"
            await interaction.response.send_message(
                f"{verdict} {member.name}", ephemeral=not allowed
            )

        tree.add_command(admin)


@pytest.fixture
async def bot(fake_discord: FakeDiscord) -> AsyncIterator[DemoBot]:
    client = DemoBot(fake_discord.guild.id)
    async with running_client(client, fake_discord):
        await fake_discord.wait_for_commands("ping", "question")
        yield client


# -- gateway ------------------------------------------------------------------------------


async def test_connects_over_zlib_stream_and_builds_the_cache(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    conn = fake_discord.gateway.connections[0]
    assert conn.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    assert conn.compression == "zlib-stream"
    await fake_discord.wait_until(
        lambda: bot.is_ready() or None, describe="client never became ready"
    )

    guild = bot.get_guild(fake_discord.guild.id)
    assert guild is not None and guild.name == "Test Guild"
    channel = guild.get_channel(fake_discord.channel.id)
    assert isinstance(channel, discord.TextChannel) and channel.name == "general"
    assert guild.me is not None and guild.me.id == fake_discord.bot.id
    assert channel.permissions_for(guild.me).send_messages
    assert not channel.permissions_for(guild.me).manage_guild
    assert bot.user is not None and bot.user.id == fake_discord.bot.id
    assert bot.application_id == fake_discord.application_id
    assert fake_discord.gateway.identify_count == 1
    # 200 ms heartbeats from discord.py's keep-alive thread, each ACKed (the three take
    # 0.6 s on an idle machine; the limit only ends a hung test)
    await fake_discord.wait_until(
        lambda: fake_discord.gateway.heartbeat_count >= 3 or None, within=30
    )


async def test_tree_sync_is_recorded_globally_and_per_guild(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    guild_cmds = await fake_discord.wait_for_commands("echo", "admin", guild=fake_discord.guild)
    global_names = {c["name"] for c in fake_discord.global_commands}
    assert {"ping", "slow", "report", "quiz", "question"} <= global_names
    assert "echo" not in global_names
    admin = next(c for c in guild_cmds if c["name"] == "admin")
    assert admin["default_member_permissions"] == str(discord.Permissions(manage_guild=True).value)
    assert admin["options"][0]["type"] == 1 and admin["options"][0]["name"] == "reset"
    echo = next(c for c in guild_cmds if c["name"] == "echo")
    assert [o["type"] for o in echo["options"]] == [3, 4, 5, 7, 6, 11]
    # GET of the same list returns the same ids
    fetched = await bot.tree.fetch_commands(guild=discord.Object(fake_discord.guild.id))
    assert {c.id for c in fetched} == {int(c["id"]) for c in guild_cmds}


@pytest.mark.parametrize("how", ["close-4000", "tcp-abort", "op7-reconnect"])
async def test_resume_after_dropped_connection_replays_missed_events(
    fake_discord: FakeDiscord, bot: DemoBot, how: str
) -> None:
    alice = fake_discord.user("alice")
    if how == "close-4000":
        await fake_discord.gateway.drop(code=4000)
    elif how == "tcp-abort":
        await fake_discord.gateway.drop(code=None)
    else:
        fake_discord.gateway.request_reconnect()
    # Sent while the bot is offline: buffered in the session and replayed on RESUME.
    missed = await alice.slash("ping", wait=False)
    await fake_discord.wait_resumed()
    await missed.wait_response()
    assert missed.message is not None and missed.message.content == "pong"
    after = await alice.slash("ping")
    assert after.message is not None and after.message.content == "pong"
    assert fake_discord.gateway.identify_count == 1
    assert fake_discord.gateway.connection_count == 2
    assert fake_discord.gateway.connections[1].query["compress"] == "zlib-stream"
    await fake_discord.wait_until(lambda: bot.resumed or None, describe="on_resumed not called")


async def test_invalid_session_makes_the_client_identify_again(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    fake_discord.gateway.invalidate_session(resumable=False)
    await fake_discord.wait_identified(2)
    await fake_discord.wait_ready()
    reply = await fake_discord.user("bob").slash("ping")
    assert reply.message is not None and reply.message.content == "pong"


async def test_guilds_and_channels_added_while_connected(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    second = fake_discord.add_guild("Second Guild", channels=("lab",))
    extra = fake_discord.add_channel("extra")
    await fake_discord.wait_until(
        lambda: (bot.get_guild(second.id) and bot.get_channel(extra.id)) or None,
        describe="GUILD_CREATE / CHANNEL_CREATE not applied",
    )
    carol = fake_discord.add_user("carol", guilds=[second], locale="zh-CN")
    reply = await carol.slash("question", topic="rnn", where=second.channel("lab"))
    assert reply.message is not None and reply.message.guild_id == second.id
    assert reply.message.content == "topic=rnn kind=mcq locale=zh-CN"


# -- interaction responses ------------------------------------------------------------------


async def test_slash_ping_answers_pong(fake_discord: FakeDiscord, bot: DemoBot) -> None:
    reply = await fake_discord.user("alice").slash("ping")
    assert reply.response_type == 4
    assert reply.message is not None
    assert reply.message.content == "pong" and not reply.message.ephemeral
    assert reply.message.interaction_id == reply.id
    assert reply.message in fake_discord.channel_messages()
    # discord.py read response_message_id from the ?with_response=1 callback body
    assert bot.callback_message_ids == [reply.message.id]
    fake_discord.assert_clean()


async def test_deferred_response_then_edit_original(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    reply = await fake_discord.user("alice").slash("slow")
    assert reply.response_type == 5
    msg = await reply.wait_original(lambda m: m.content == "done")
    assert msg.edits == 1
    assert msg.history[0]["flags"] & 128  # the "thinking…" placeholder
    assert not msg.loading
    fake_discord.assert_clean()


async def test_ephemeral_followup_carries_the_file_intact(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    reply = await fake_discord.user("bob").slash("report")
    followup = await reply.wait_followup(lambda m: bool(m.attachments))
    assert followup.ephemeral and followup.content == "your report"
    attachment = followup.attachment("report.bin")
    assert attachment.data == REPORT_BYTES
    assert fake_discord.attachments == [attachment]
    assert fake_discord.channel_messages(include_ephemeral=False) == []
    # the CDN URL in the payload serves the same bytes
    async with aiohttp.ClientSession() as http, http.get(attachment.url) as resp:
        assert await resp.read() == REPORT_BYTES
    fake_discord.assert_clean()


async def test_first_response_with_embed_and_file_is_multipart(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    reply = await fake_discord.user("alice").slash("card")
    assert reply.response_type == 4 and reply.message is not None
    assert reply.message.embeds[0]["title"] == "Card"
    assert reply.message.attachment("card.png").data == b"PNG..."
    callback = next(r for r in fake_discord.requests if r.path.endswith("/callback"))
    assert callback.query == {"with_response": "1"}
    fake_discord.assert_clean()


async def test_webhook_message_routes(fake_discord: FakeDiscord, bot: DemoBot) -> None:
    reply = await fake_discord.user("alice").slash("tidy")
    original = reply.message
    assert original is not None
    await fake_discord.wait_until(
        lambda: original.deleted or None, describe="@original not deleted"
    )
    extra = await reply.wait_followup(lambda m: m.content.startswith("extra for"))
    assert extra.content == f"extra for {original.id}" and extra.history[0]["content"] == "extra"
    routes = [r.route for r in fake_discord.requests if r.route and "webhooks" in r.route]
    assert routes == [
        "GET /webhooks/{application_id}/{token}/messages/{message}",
        "POST /webhooks/{application_id}/{token}",
        "PATCH /webhooks/{application_id}/{token}/messages/{message}",
        "DELETE /webhooks/{application_id}/{token}/messages/{message}",
    ]
    fake_discord.assert_clean()


async def test_channel_message_and_member_routes(fake_discord: FakeDiscord, bot: DemoBot) -> None:
    reply = await fake_discord.user("bob").slash("audit")
    assert reply.message is not None and reply.message.content == "general bob final"
    posted = await fake_discord.wait_for_message(lambda m: m.source == "channel")
    assert posted.content == "final" and posted.history[0]["content"] == "draft"
    fake_discord.assert_clean()


async def test_user_message_reaches_bot_without_content_intent(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    await fake_discord.user("bob").say("hello")
    await fake_discord.wait_until(
        lambda: next((m for m in bot.seen_messages if m[0] == "bob"), None),
        describe=lambda: f"bot saw {bot.seen_messages}",
    )
    # Intents.default() has no message_content, so Discord blanks the text
    assert ("bob", "") in bot.seen_messages


async def test_persistent_view_button_opens_modal_and_submit_is_handled(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    # A message the bot posted "before a restart": only the persistent view can handle it.
    row = {
        "type": 1,
        "components": [{"type": 2, "style": 1, "label": "Answer", "custom_id": "quiz:answer"}],
    }
    old = fake_discord.seed_bot_message("Question 7", components=[row])
    alice = fake_discord.user("alice")

    click = await alice.click(old, "quiz:answer")
    assert click.response_type == 9
    assert click.modal is not None and click.modal["custom_id"] == "quiz:modal"
    submitted = await alice.submit_modal(click, {"answer": "34944"})
    assert submitted.message is not None
    assert submitted.message.content == "you answered 34944" and submitted.message.ephemeral

    with pytest.raises(AssertionError, match="no component 'nope'"):
        await alice.click(old, "nope")
    fake_discord.assert_clean()


async def test_button_on_a_fresh_reply(fake_discord: FakeDiscord, bot: DemoBot) -> None:
    bob = fake_discord.user("bob")
    quiz = await bob.slash("quiz")
    assert quiz.message is not None and quiz.message.custom_ids == ["quiz:answer"]
    click = await bob.click(quiz, "quiz:answer")
    done = await bob.submit_modal(click, {"answer": "42"})
    assert done.message is not None and done.message.content == "you answered 42"


async def test_update_message_and_deferred_update(fake_discord: FakeDiscord, bot: DemoBot) -> None:
    alice = fake_discord.user("alice")
    first = await alice.slash("confirm")
    later = await alice.click(first, "confirm:later")
    assert later.response_type == 6
    msg = await later.wait_original(lambda m: m.content == "maybe later")
    assert msg is first.message and msg.custom_ids == ["confirm:yes", "confirm:later"]

    yes = await alice.click(first, "confirm:yes")
    assert yes.response_type == 7
    assert msg.content == "confirmed" and msg.components == [] and msg.edits == 2
    with pytest.raises(AssertionError, match="no component"):
        await alice.click(first, "confirm:yes")
    fake_discord.assert_clean()


async def test_autocomplete_and_choices(fake_discord: FakeDiscord, bot: DemoBot) -> None:
    alice = fake_discord.user("alice")
    choices = await alice.autocomplete("question", "topic", "cn")
    assert [c["value"] for c in choices] == ["cnn", "cnn-receptive-field"]

    reply = await alice.slash("question", topic="cnn", kind="numeric", locale="zh-CN")
    assert reply.message is not None
    assert reply.message.content == "topic=cnn kind=numeric locale=zh-CN"
    with pytest.raises(AssertionError, match="not one of the choices"):
        await alice.slash("question", topic="cnn", kind="essay")
    with pytest.raises(AssertionError, match="missing required options"):
        await alice.slash("question", kind="mcq")


async def test_typed_options_with_resolved_user_channel_and_attachment(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    upload = b"weights" * 1000
    reply = await alice.slash(
        "echo",
        text="ab",
        count=3,
        loud=True,
        channel=fake_discord.channel,
        who=bob,
        upload=Upload("w.bin", upload),
    )
    assert reply.message is not None
    digest = hashlib.sha256(upload).hexdigest()[:12]
    assert reply.message.content == f"ababab! in #general for bob file=w.bin:{len(upload)}:{digest}"


async def test_subcommand_and_default_member_permissions(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    alice, bob = fake_discord.user("alice"), fake_discord.user("bob")
    ok = await alice.slash("admin reset", member=bob)
    assert ok.message is not None and ok.message.content == "reset bob"
    assert int(ok.payload["member"]["permissions"]) & 0x20

    with pytest.raises(AssertionError, match="cannot use /admin"):
        await bob.slash("admin reset", member=alice)
    forced = await bob.slash("admin reset", member=alice, check_permissions=False)
    assert (
        forced.message is not None
        and forced.message.content == "denied alice"
        and forced.message.ephemeral
    )


# -- failures the fake reports or injects ---------------------------------------------------------


async def test_429_on_callback_is_retried_by_discord_py(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    fault = fake_discord.fail_next(
        "POST /interactions/{id}/{token}/callback", status=429, retry_after=0.2
    )
    reply = await fake_discord.user("alice").slash("ping")
    assert fault.hits == 1 and fault.remaining == 0
    assert reply.message is not None and reply.message.content == "pong"
    statuses = [r.status for r in fake_discord.requests if r.path.endswith("/callback")]
    assert statuses == [429, 200]
    assert reply.response is not None and reply.response.at - reply.sent_at >= 0.2
    fake_discord.assert_clean()


async def test_500_on_channel_send_is_retried(fake_discord: FakeDiscord, bot: DemoBot) -> None:
    fault = fake_discord.fail_next("POST /channels/{channel_id}/messages", status=500)
    reply = await fake_discord.user("alice").slash("announce", text="hi")
    done = await reply.wait_followup(within=5)
    assert done.content.startswith("posted ")
    assert fault.hits == 1
    posted = await fake_discord.wait_for_message(lambda m: m.source == "channel")
    assert posted.content == "announcement: hi" and not posted.ephemeral


async def test_unknown_route_is_recorded_and_flagged(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    reply = await fake_discord.user("alice").slash("pins")
    assert reply.message is not None and reply.message.content == "not found 404"
    assert [r.route for r in fake_discord.unknown_routes] == [None]
    assert fake_discord.unknown_routes[0].path.endswith("/pins")
    with pytest.raises(AssertionError, match="unknown routes hit"):
        fake_discord.assert_clean()


async def test_discord_limits_are_enforced(fake_discord: FakeDiscord, bot: DemoBot) -> None:
    reply = await fake_discord.user("alice").slash("long")
    assert reply.message is not None and reply.message.content == "rejected 400 50035"
    assert [c.status for c in reply.callbacks] == [400, 200]


async def test_late_first_response_gets_unknown_interaction(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    fake_discord.interaction_deadline = 0.0  # Discord allows 3 s; here every answer is late
    reply = await fake_discord.user("alice").slash("ping", wait=False)
    await fake_discord.wait_until(lambda: reply.callbacks or None)
    assert reply.callbacks[0].status == 404
    assert reply.callbacks[0].error == {"message": "Unknown interaction", "code": 10062}
    assert fake_discord.unanswered_interactions() == [reply]


async def test_unanswered_interaction_times_out_with_a_clear_error(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    with pytest.raises(AssertionError, match=r"bot did not answer bob: /ignore .* within 0.3s"):
        await fake_discord.user("bob").slash("ignore", within=0.3)
    assert len(fake_discord.unanswered_interactions()) == 1


async def test_duplicate_delivery_gets_already_acknowledged(
    fake_discord: FakeDiscord, bot: DemoBot
) -> None:
    reply: SentInteraction = await fake_discord.user("alice").slash("ping")
    reply.redeliver()
    await fake_discord.wait_until(lambda: len(reply.callbacks) >= 2 or None)
    first, second = reply.callbacks
    assert first.accepted and not second.accepted
    assert second.status == 400 and second.error is not None and second.error["code"] == 40060
    assert len([m for m in fake_discord.messages if m.interaction_id == reply.id]) == 1


# -- shards ---------------------------------------------------------------------------------


class ShardBot(discord.AutoShardedClient):
    """A sharded client (discord.py's AutoShardedClient) that says which client answered."""

    def __init__(
        self, name: str, shard_count: int | None = None, shard_ids: list[int] | None = None
    ) -> None:
        intents = discord.Intents.default()
        if shard_ids is None:
            super().__init__(intents=intents, guild_ready_timeout=0.05, shard_count=shard_count)
        else:
            super().__init__(
                intents=intents,
                guild_ready_timeout=0.05,
                shard_count=shard_count,
                shard_ids=shard_ids,
            )
        self.name = name
        self.tree = app_commands.CommandTree(self)
        self.dm_messages: list[str] = []

        @self.tree.command(description="Say who answers")
        async def ping(interaction: discord.Interaction) -> None:
            guild = interaction.guild
            shard = guild.shard_id if guild is not None else None
            await interaction.response.send_message(f"{self.name} on shard {shard}")

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py waits 5 s between IDENTIFYs (a real rate limit); not here

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None:
            self.dm_messages.append(message.content)


@contextlib.asynccontextmanager
async def running_shards(
    fake: FakeDiscord, count: int, *clients: ShardBot
) -> AsyncIterator[tuple[ShardBot, ...]]:
    """Start sharded clients (together holding shards 0..count-1) and wait until every shard
    is ready; close them on exit."""
    tasks = [asyncio.create_task(c.start(fake.token)) for c in clients]
    try:
        ready = asyncio.create_task(fake.wait_shards_ready(range(count), count, within=30))
        await asyncio.wait({ready, *tasks}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            failed = next(t for t in tasks if t.done())
            raise AssertionError(f"a sharded client stopped: {failed.exception()!r}")
        await ready
        for client in clients:
            await asyncio.wait_for(client.wait_until_ready(), 30)
        yield clients
    finally:
        for client in clients:
            await client.close()
        await asyncio.wait(tasks, timeout=30)


def two_shard_world(fake: FakeDiscord) -> tuple[GuildRecord, GuildRecord]:
    """The default guild plus one guild on each of two shards; alice is in all of them."""
    on_0 = fake.add_guild("Shard zero", shard=(0, 2))
    on_1 = fake.add_guild("Shard one", shard=(1, 2))
    for guild in (on_0, on_1):
        member = fake.user("alice").record
        guild.members[member.id] = MemberRecord(member, guild.id)
    return on_0, on_1


def test_guild_ids_can_be_put_on_a_shard() -> None:
    ids = SnowflakeFactory()
    made = [ids.next_on_shard(shard, 3) for shard in (2, 0, 1, 1, 2)]
    assert [(i >> 22) % 3 for i in made] == [2, 0, 1, 1, 2]
    assert made == sorted(set(made))  # still unique and increasing
    assert ids.next() > made[-1]


async def test_one_sharded_client_gets_each_guild_on_its_shard(
    fake_discord: FakeDiscord,
) -> None:
    on_0, on_1 = two_shard_world(fake_discord)
    client = ShardBot("one", shard_count=2)
    async with running_shards(fake_discord, 2, client):
        sessions = fake_discord.gateway.shard_sessions()
        assert sorted(sessions) == [0, 1] and fake_discord.gateway.identify_count == 2
        for shard_id, session in sessions.items():
            created = {int(d["id"]) for _, name, d in session.events if name == "GUILD_CREATE"}
            expected = {g for g in fake_discord.state.guilds if (g >> 22) % 2 == shard_id}
            assert created == expected, shard_id
        for guild in (on_0, on_1):
            seen = client.get_guild(guild.id)
            assert seen is not None and seen.shard_id == (guild.id >> 22) % 2
        reply = await fake_discord.user("alice").slash("ping", where=on_1.text_channels[0])
        assert reply.message is not None and reply.message.content == "one on shard 1"
        delivered = [
            shard_id
            for shard_id, session in sessions.items()
            for _, name, data in session.events
            if name == "INTERACTION_CREATE" and int(data["id"]) == reply.id
        ]
        assert delivered == [1]


async def test_two_clients_with_disjoint_shards_each_serve_their_guilds(
    fake_discord: FakeDiscord,
) -> None:
    """Two processes' worth of clients: each sees and answers only its shard's guilds; a
    DM goes to shard 0."""
    on_0, on_1 = two_shard_world(fake_discord)
    zero = ShardBot("zero", shard_count=2, shard_ids=[0])
    one = ShardBot("one", shard_count=2, shard_ids=[1])
    async with running_shards(fake_discord, 2, zero, one):
        assert zero.get_guild(on_0.id) is not None and zero.get_guild(on_1.id) is None
        assert one.get_guild(on_1.id) is not None and one.get_guild(on_0.id) is None
        alice = fake_discord.user("alice")
        for guild, answer in ((on_0, "zero on shard 0"), (on_1, "one on shard 1")):
            reply = await alice.slash("ping", where=guild.text_channels[0])
            assert reply.message is not None and reply.message.content == answer
        # a guild added while both are connected reaches only the client holding its shard
        late = fake_discord.add_guild("Late", shard=(1, 2))
        await fake_discord.wait_until(lambda: one.get_guild(late.id), describe="no GUILD_CREATE")
        assert zero.get_guild(late.id) is None
        # a message in a DM is an event outside guilds: shard 0's
        user = await one.fetch_user(alice.id)
        await user.send("hello from shard one")
        await fake_discord.wait_until(
            lambda: zero.dm_messages or None, describe="the DM never reached shard 0"
        )
        assert zero.dm_messages == ["hello from shard one"] and one.dm_messages == []
    fake_discord.assert_clean()


async def test_an_auto_sharded_client_asks_gateway_bot_for_its_shard_count() -> None:
    async with FakeDiscord(heartbeat_interval_ms=200, shards=3) as fake:
        undo = patch_discord(fake.api_base, fake.gateway_url)
        try:
            client = ShardBot("auto")  # no shard_count: discord.py asks GET /gateway/bot
            async with running_shards(fake, 3, client):
                assert client.shard_count == 3 and sorted(client.shards) == [0, 1, 2]
                asked = [r for r in fake.requests if r.path.endswith("/gateway/bot")]
                assert len(asked) == 1 and asked[0].status == 200
                limits = await client.fetch_session_start_limits()
                assert limits.total == 1000 and limits.remaining == 1000 - 3
                assert limits.max_concurrency == 1
        finally:
            undo()


async def test_identify_with_an_invalid_shard_is_closed_with_4010(
    fake_discord: FakeDiscord,
) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(fake_discord.gateway_url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10
        identify = {"token": fake_discord.token, "intents": 0, "shard": [2, 2], "properties": {}}
        await ws.send_json({"op": 2, "d": identify})
        closed = await ws.receive()
        assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4010
    assert fake_discord.gateway.identify_count == 0
