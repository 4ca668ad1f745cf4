"""`/daily set|off` and the poster that puts each server's daily question in its channel."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.core.models import Lang, Localized
from bot.core.services.daily import Dailies
from bot.core.services.identities import language_for
from bot.core.services.posting import Postings
from bot.discord._bot import InterviewBot
from bot.discord._context import context_of, refuse_without_manage_server
from bot.discord._render import question_embed, question_view, t
from bot.discord.ext.quiz import NEEDED

log = logging.getLogger(__name__)
POLL_SECONDS = 30.0


# On the group: Discord reads default permissions and contexts only from a top-level
# command, so decorators on the subcommands would be ignored.
@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Daily(commands.GroupCog, group_name="daily", group_description="The daily question"):
    def __init__(self, bot: InterviewBot, *, dailies: Dailies, postings: Postings) -> None:
        self.bot = bot
        self.dailies = dailies
        self.postings = postings
        super().__init__()

    async def cog_load(self) -> None:
        self.poster.start()

    async def cog_unload(self) -> None:
        self.poster.cancel()

    @app_commands.command(name="set", description="Post a daily question in a channel")
    @app_commands.describe(channel="Where to post it", time="HH:MM in UTC, e.g. 09:30")
    async def set_daily(
        self, interaction: discord.Interaction, channel: discord.TextChannel, time: str
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        if await refuse_without_manage_server(interaction, ctx):
            return
        assert ctx.server is not None
        missing = _missing_in(channel)
        if missing:  # else each day's question would fail to post, and nobody would know
            names = t(ctx.lang, ", ", "、").join(name.get(ctx.lang) for name in missing)
            await interaction.response.send_message(
                t(
                    ctx.lang,
                    f"⚠️ I cannot post the daily question in {channel.mention}: I need the "
                    f"{names} permission{'' if len(missing) == 1 else 's'} there. Give "
                    f"{'it' if len(missing) == 1 else 'them'} to me, or pick another channel.",
                    f"⚠️ 我无法在 {channel.mention} 发布每日一题：需要那里的“{names}”权限。"
                    "请授予这些权限，或换一个频道。",
                ),
                ephemeral=True,
            )
            return
        at = await self.dailies.set_daily(
            ctx.server.id,
            str(channel.id),
            time,
            ctx.user,
            ctx.lang,  # as a quiz's host's
        )
        server_id = ctx.server.id
        now = any(d.server_id == server_id for d in await self.dailies.due_dailies())
        await interaction.response.send_message(
            t(
                ctx.lang,
                f"✅ A daily question will be posted in {channel.mention} at {at} UTC. "
                "Answering it right on consecutive days builds a streak."
                + (" That time has passed today: today's question goes out now." if now else ""),
                f"✅ 每天 UTC {at} 会在 {channel.mention} 发布每日一题，连续多天答对可累积连胜。"
                + ("今天的这个时间已过，今天的题目马上发布。" if now else ""),
            ),
            ephemeral=True,
        )

    @app_commands.command(name="off", description="Stop the daily question")
    async def off(self, interaction: discord.Interaction) -> None:
        ctx = await context_of(self.bot, interaction)
        if await refuse_without_manage_server(interaction, ctx):
            return
        assert ctx.server is not None
        removed = await self.dailies.disable_daily(ctx.server.id)
        await interaction.response.send_message(
            t(ctx.lang, "✅ The daily question is off.", "✅ 已关闭每日一题。")
            if removed
            else t(ctx.lang, "There was no daily question.", "本来就没有设置每日一题。"),
            ephemeral=True,
        )

    @tasks.loop(seconds=POLL_SECONDS)
    async def poster(self) -> None:
        await self.post_due()

    async def post_due(self) -> int:
        """Post every daily question whose time has come; returns how many were posted."""
        posted = 0
        for setting in await self.dailies.due_dailies():
            if not self.bot.owns_server(setting.server_external_id):
                continue  # another process of a sharded bot holds that server's shard
            try:
                guild = self.bot.get_guild(int(setting.server_external_id))
                locale = str(guild.preferred_locale) if guild is not None else None
                lang: Lang = setting.lang or language_for("auto", locale)
                result = await self.dailies.post_daily(setting.server_id, setting.channel_id, lang)
                if result is None:
                    continue
                served, instance = result
                embed = question_embed(served, lang)
                embed.title = f"📅 {t(lang, 'Daily question', '每日一题')} · {embed.title}"
                channel = self.bot.get_partial_messageable(int(setting.channel_id))
                message = await channel.send(
                    embed=embed, view=question_view(served, instance.id, lang)
                )
                await self.postings.attach_message(instance.id, str(message.id))
                posted += 1
            except Exception:
                log.exception("daily question for server %s failed", setting.server_id)
        return posted

    @poster.before_loop
    async def _before_poster(self) -> None:
        await self.bot.wait_until_ready()


#: What posting the daily question needs in its channel: a quiz's, but no chart (no files).
_NEEDED = tuple(need for need in NEEDED if need[0] != "attach_files")


def _missing_in(channel: discord.TextChannel) -> list[Localized]:
    """The permissions the bot lacks in `channel` (from the cached roles and overwrites);
    none when it cannot tell (its own member not cached)."""
    me = channel.guild.me
    if me is None:
        return []
    permissions = channel.permissions_for(me)
    return [name for flag, name in _NEEDED if not getattr(permissions, flag)]


async def setup(bot: InterviewBot) -> None:
    services = bot.services
    await bot.add_cog(Daily(bot, dailies=services.dailies, postings=services.postings))
