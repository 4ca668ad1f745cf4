"""`/admin reset` and `/admin import`: Manage Server, checked here, not only by Discord."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.bank import MAX_PACK_BYTES, too_large
from bot.core.errors import PackInvalid
from bot.core.services.boards import Boards
from bot.core.services.catalog import Catalog
from bot.core.services.identities import Identities
from bot.discord._bot import InterviewBot
from bot.discord._context import PLATFORM, context_of, refuse_without_manage_server
from bot.discord._render import clip, t
from bot.discord._router import Action, an_id, an_id_or_zero, stopped

#: Confirm a reset: (the member, 0 for everyone; the admin who asked).
RESET = Action("reset", (an_id_or_zero, an_id))
#: Cancel it: (the admin who asked,).
CANCEL = Action("cancel", (an_id,))

PACK_LIMIT_BYTES = MAX_PACK_BYTES


# On the group: Discord reads default permissions and contexts only from a top-level
# command, so decorators on the subcommands would be ignored.
@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Admin(commands.GroupCog, group_name="admin", group_description="Server administration"):
    def __init__(
        self, bot: InterviewBot, *, identities: Identities, boards: Boards, catalog: Catalog
    ) -> None:
        self.bot = bot
        self.identities = identities
        self.boards = boards
        self.catalog = catalog
        super().__init__()

    @app_commands.command(
        name="reset", description="Reset this server's scores (asks for confirmation)"
    )
    @app_commands.describe(member="Only this member (default: everyone)")
    async def reset(
        self, interaction: discord.Interaction, member: discord.User | None = None
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        if await refuse_without_manage_server(interaction, ctx):
            return
        assert ctx.server is not None
        who = member.id if member else 0
        target = (
            t(ctx.lang, f"the scores of {member.name}", f"{member.name} 的分数")
            if member
            else t(ctx.lang, "everyone's scores", "所有人的分数")
        )
        view = discord.ui.View(timeout=None)
        view.add_item(
            discord.ui.Button(
                label=t(ctx.lang, "Reset", "确认重置"),
                style=discord.ButtonStyle.danger,
                custom_id=RESET.id(who, interaction.user.id),
            )
        )
        view.add_item(
            discord.ui.Button(
                label=t(ctx.lang, "Cancel", "取消"),
                style=discord.ButtonStyle.secondary,
                custom_id=CANCEL.id(interaction.user.id),
            )
        )
        await interaction.response.send_message(
            t(
                ctx.lang,
                f"Reset {target} on this server? This cannot be undone.",
                f"确定重置本服务器上{target}吗？此操作无法撤销。",
            ),
            view=stopped(view),
            ephemeral=True,
        )

    async def on_reset_confirmed(
        self, interaction: discord.Interaction, who: int, requester: int
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        if await refuse_without_manage_server(interaction, ctx):
            return
        assert ctx.server is not None
        if interaction.user.id != requester:  # another admin pressed a forwarded button
            await interaction.response.send_message(
                t(
                    ctx.lang,
                    "⚠️ Only the person who asked for this reset can confirm it.",
                    "⚠️ 只有发起重置的人才能确认。",
                ),
                ephemeral=True,
            )
            return
        member = None
        if who:
            member = await self.identities.find_user(PLATFORM, str(who))
            if member is None:
                await interaction.response.edit_message(
                    content=t(ctx.lang, "Nothing to reset.", "没有需要重置的分数。"), view=None
                )
                return
        removed = await self.boards.reset_scores(ctx.server.id, member)
        await interaction.response.edit_message(
            content=t(
                ctx.lang,
                f"✅ Done: {removed} answer(s) removed from this server's scores.",
                f"✅ 已完成：从本服务器的成绩中删除了 {removed} 条作答记录。",
            ),
            view=None,
        )

    async def on_reset_cancelled(self, interaction: discord.Interaction, requester: int) -> None:
        ctx = await context_of(self.bot, interaction)
        await interaction.response.edit_message(
            content=t(ctx.lang, "Cancelled; nothing changed.", "已取消，没有任何改动。"), view=None
        )

    @app_commands.command(name="import", description="Add a question pack (YAML) for this server")
    @app_commands.describe(file="A YAML file in the question-bank format")
    async def import_pack(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        ctx = await context_of(self.bot, interaction)
        if await refuse_without_manage_server(interaction, ctx):
            return
        assert ctx.server is not None
        limit = PACK_LIMIT_BYTES // 1024
        if file.size > PACK_LIMIT_BYTES:
            size = -(-file.size // 1024)
            await interaction.response.send_message(
                t(
                    ctx.lang,
                    f"⚠️ {file.filename} is too large ({size} KiB, limit {limit} KiB): "
                    "split it into smaller packs. Nothing was added.",
                    f"⚠️ {file.filename} 太大（{size} KiB，上限 {limit} KiB）："
                    "请拆分成较小的题包。未添加任何题目。",
                ),
                ephemeral=True,
            )
            return
        # Deferred first: reading, parsing and validating a large pack take a while (in a
        # worker thread: the bot keeps answering everyone else meanwhile).
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            await interaction.followup.send(
                t(ctx.lang, "⚠️ The file is not UTF-8 text.", "⚠️ 文件不是 UTF-8 文本。"),
                ephemeral=True,
            )
            return
        try:
            if len(data) > PACK_LIMIT_BYTES:  # larger than the size Discord announced
                raise PackInvalid(file.filename, [too_large(file.filename, len(data))])
            imported = await self.catalog.import_pack(ctx.server.id, file.filename, text, ctx.user)
        except PackInvalid as exc:
            lines = [problem.text(ctx.lang) for problem in exc.problems]
            header = t(
                ctx.lang,
                f"⚠️ {file.filename} was not imported: {len(lines)} problem(s). Nothing was added.",
                f"⚠️ {file.filename} 未导入：发现 {len(lines)} 个问题，未添加任何题目。",
            )
            body = clip("\n".join(lines), 1800 - len(header))
            await interaction.followup.send(f"{header}\n```\n{body}\n```", ephemeral=True)
            return
        count, old = imported.pack.questions, imported.replaced
        await interaction.followup.send(
            t(
                ctx.lang,
                f"✅ Imported {count} question(s) from {file.filename} for this server."
                if old is None
                else f"✅ Replaced the earlier {file.filename} ({old.questions} question(s)) "
                f"with this one: {count} question(s) for this server.",
                f"✅ 已从 {file.filename} 为本服务器导入 {count} 道题。"
                if old is None
                else f"✅ 已用这个 {file.filename} 替换之前导入的同名题包（{old.questions} 道题）："
                f"本服务器现有其中 {count} 道题。",
            ),
            ephemeral=True,
        )


async def setup(bot: InterviewBot) -> None:
    services = bot.services
    cog = Admin(
        bot, identities=services.identities, boards=services.boards, catalog=services.catalog
    )
    await bot.add_cog(cog)
    bot.router.on(RESET, cog.on_reset_confirmed)
    bot.router.on(CANCEL, cog.on_reset_cancelled)
