"""The Discord front end: the bot, its start-up, and the one fallback error handler."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import math
import os
import pkgutil
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.settings import Settings
from bot.app.shards import heartbeat_process, owns, owns_server
from bot.core.errors import DomainError
from bot.core.models import Lang
from bot.core.ports import HeartbeatStore
from bot.demos import DemoRunner
from bot.discord import ext
from bot.discord._endpoints import apply_endpoints
from bot.discord._i18n import Translator, lang_of, reply_language
from bot.discord._router import Router, SeenInteractions, interaction_custom_id
from bot.discord._services import Services
from bot.shared.texts import error_text

log = logging.getLogger(__name__)


def discover_extensions() -> tuple[str, ...]:
    """Every public module of `bot/discord/ext` (one per feature), by name: a new file there is
    loaded at start-up with no list to edit (docs/extending.md)."""
    return tuple(
        sorted(
            f"{ext.__name__}.{module.name}"
            for module in pkgutil.iter_modules(ext.__path__)
            if not module.name.startswith("_")
        )
    )


EXTENSIONS: tuple[str, ...] = discover_extensions()
SHUTDOWN_GRACE_S = 10.0


class Tree(app_commands.CommandTree["InterviewBot"]):
    """Drops an interaction delivered a second time, and answers every failure once."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return self.client.seen.first_time(interaction.id)

    async def _call(self, interaction: discord.Interaction[InterviewBot]) -> None:
        """Every slash command (and autocomplete) counts as work in flight, which shutdown waits
        for: the commands themselves need nothing for it. (discord.py's dispatch of one
        interaction to its command; buttons and modals go through `on_interaction`.)"""
        async with self.client.work():
            await super()._call(interaction)

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        if isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
            original = error.__cause__  # an option refused by its transformer (an unknown topic)
        await self.client.report_error(interaction, original)


class InterviewBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        services: Services,
        extensions: Sequence[str] = EXTENSIONS,
        demos: DemoRunner | None = None,
        heartbeats: HeartbeatStore | None = None,
        **options: Any,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = False  # slash commands only
        intents.members = False
        intents.presences = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            tree_cls=Tree,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.settings = settings
        # The core's services, for the extensions: each `setup` gives its cog those it uses.
        self.services = services
        # The shards this process runs (None: all of them, discord.py's plain client).
        self.shard_plan = settings.shards
        self.demos = demos  # started and closed by the composition root; None: no demos
        self.heartbeats = heartbeats  # where liveness is recorded (`health`); None: nowhere
        self.router = Router()
        self.seen = SeenInteractions()
        self.extension_names = tuple(extensions)
        self.failed_extensions: list[str] = []
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.closing = False
        self._heartbeat: asyncio.Task[None] | None = None

    # start-up

    async def setup_hook(self) -> None:
        await self.tree.set_translator(Translator())
        for name in self.extension_names:
            try:
                await self.load_extension(name)
            except Exception:
                log.exception("extension %s failed to load; its commands are unavailable", name)
                self.failed_extensions.append(name)
        await self.services.warm_up()
        problems = await self.services.catalog.load_packs()
        for problem in problems:
            log.warning("imported pack skipped: %s", problem)
        # What start-up built (torch, the bank, the packs) stays: out of the garbage collector's
        # full collections, which would otherwise walk it all, stopping every thread (the event
        # loop's too) for up to a second each time.
        gc.freeze()
        await self.sync_commands()
        self.start_heartbeat()

    async def sync_commands(self) -> None:
        if self.settings.dev_guild is not None:
            guild = discord.Object(id=self.settings.dev_guild)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to dev guild %s", len(synced), guild.id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))

    async def on_ready(self) -> None:
        shards = f", shards {self.shard_plan.label}" if self.shard_plan is not None else ""
        log.info("ready as %s in %d guild(s)%s", self.user, len(self.guilds), shards)

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process holds that server's shard (None: direct messages, shard 0), so
        its background work (daily post, interview timeouts) is done here and nowhere else."""
        return owns(self.shard_plan, guild_id)

    def owns_server(self, external_id: str | None) -> bool:
        """`owns_guild` for a server as the database knows it (its external id)."""
        return owns_server(self.shard_plan, external_id)

    # liveness: a heartbeat row in the database while the gateway is connected and ready

    def gateway_alive(self) -> bool:
        ws = self.ws
        return self.is_ready() and not self.is_closed() and ws is not None and ws.open

    def start_heartbeat(self) -> None:
        store = self.heartbeats
        if store is not None and self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._record_heartbeats(store), name="heartbeat")

    async def stop_heartbeat(self) -> None:
        task, self._heartbeat = self._heartbeat, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _record_heartbeats(self, store: HeartbeatStore) -> None:
        """Every BOT_HEARTBEAT_EVERY seconds, while connected and ready: one small upsert. A
        bot that is disconnected, reconnecting or stuck stops writing, and `health` sees the
        heartbeat age past BOT_HEALTH_MAX_AGE."""
        await self.wait_until_ready()
        failing = False
        plan = self.shard_plan
        process = heartbeat_process(plan)
        while not self.is_closed():
            if self.gateway_alive():
                latency = self.latency
                value = json.dumps(
                    {
                        "latency_ms": round(latency * 1000, 1) if math.isfinite(latency) else None,
                        "guilds": len(self.guilds),
                        "pid": os.getpid(),
                        **({"shards": plan.label} if plan is not None else {}),
                    }
                )
                try:
                    await store.record_heartbeat(value, self.services.clock.now(), process)
                except Exception as exc:
                    if not failing:  # once per failing stretch, not every beat
                        log.warning("could not record the gateway heartbeat: %s", exc)
                    failing = True
                else:
                    if failing:
                        log.info("recording the gateway heartbeat again")
                    failing = False
            await asyncio.sleep(self.settings.heartbeat_every_s)

    # in-flight work: shutdown waits for it

    @asynccontextmanager
    async def work(self) -> AsyncIterator[None]:
        self._inflight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    async def close(self) -> None:
        self.closing = True
        await self.stop_heartbeat()
        try:
            await asyncio.wait_for(self._idle.wait(), SHUTDOWN_GRACE_S)
        except TimeoutError:
            log.warning("closing with %d interaction(s) still in flight", self._inflight)
        # A SIGTERM before READY finished: discord.py's delayed "ready" task would otherwise
        # fire after the loop is gone (AttributeError in a task nobody awaits).
        ready = getattr(self._connection, "_ready_task", None)
        if isinstance(ready, asyncio.Task) and not ready.done():
            ready.cancel()
        await super().close()

    # buttons and modals

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type not in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            return
        value = interaction_custom_id(interaction)
        resolved = self.router.resolve(value) if value else None
        if resolved is None:
            return
        if not self.seen.first_time(interaction.id):
            log.info("interaction %s delivered again; ignored", interaction.id)
            return
        handler, args = resolved
        async with self.work():
            try:
                await handler(interaction, args)
            except Exception as exc:
                await self.report_error(interaction, exc)

    # the one fallback error handler

    async def language_of(self, interaction: discord.Interaction) -> Lang:
        try:
            user = await self.services.identities.user(
                "discord", str(interaction.user.id), interaction.user.name
            )
        except Exception:
            return lang_of(interaction)
        return reply_language(user, interaction)

    async def report_error(self, interaction: discord.Interaction, error: BaseException) -> None:
        """Log a failure and tell the user once, ephemerally, in their language."""
        if isinstance(error, DomainError):
            log.info("refused interaction %s: %s", interaction.id, error)
        else:
            log.error("interaction %s failed", interaction.id, exc_info=error)
        if interaction.is_expired():
            return
        text = error_text(error, await self.language_of(interaction))
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure of %s", interaction.id)


class ShardedInterviewBot(InterviewBot, commands.AutoShardedBot):
    """The bot with BOT_SHARD_COUNT / BOT_SHARD_IDS: discord.py's AutoShardedBot running those
    shards (one gateway connection each) in this process."""

    def gateway_alive(self) -> bool:
        shards = self.shards
        return (
            self.is_ready()
            and not self.is_closed()
            and bool(shards)
            and all(not shard.is_closed() for shard in shards.values())
        )


def make_bot(
    settings: Settings,
    services: Services,
    demos: DemoRunner | None = None,
    heartbeats: HeartbeatStore | None = None,
    cls: type[InterviewBot] = InterviewBot,
    sharded_cls: type[ShardedInterviewBot] = ShardedInterviewBot,
    **options: Any,
) -> InterviewBot:
    """The bot the settings ask for: with shard settings an AutoShardedBot for those shards,
    else discord.py's plain client (one connection, every server)."""
    plan = settings.shards
    if plan is None:
        return cls(settings, services, demos=demos, heartbeats=heartbeats, **options)
    return sharded_cls(
        settings,
        services,
        demos=demos,
        heartbeats=heartbeats,
        shard_count=plan.count,
        shard_ids=list(plan.ids),
        **options,
    )


async def run_bot(
    settings: Settings,
    services: Services,
    demos: DemoRunner | None = None,
    heartbeats: HeartbeatStore | None = None,
) -> None:
    """Connect and serve until SIGTERM/SIGINT; then finish what is in flight and close."""
    assert settings.discord_token is not None
    apply_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    bot = make_bot(settings, services, demos=demos, heartbeats=heartbeats)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not on the main thread / platform
            pass
    async with bot:
        runner = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("signal received: shutting down")
            await bot.close()
        stopper.cancel()
        await runner  # re-raises a login or connection failure
