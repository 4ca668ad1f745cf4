"""`/history`: the caller's last answers, with the references that ask them again."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.models import HistoryEntry, Kind, Lang
from bot.core.services.answering import SelfRating
from bot.core.services.boards import Boards
from bot.discord._bot import InterviewBot
from bot.discord._context import context_of
from bot.discord._render import t
from bot.shared.texts import RATING_NAMES, topic_name

MAX_ANSWER = 40  # characters of a typed answer shown in a line
EMBED_LIMIT = 4096  # characters of an embed's description


def _escape(text: str) -> str:
    """A typed answer inside inline code: no backtick can end it early."""
    return text.replace("`", "ˋ")


def history_line(entry: HistoryEntry, lang: Lang) -> str:
    """`<when> ✅ +2 · conv_macs:1790127 · Output sizes · \\`answer\\``"""
    when = f"<t:{int(entry.at.timestamp())}:f>"  # shown in the reader's own time zone
    mark = "✅" if entry.correct else "❌"
    points = t(
        lang,
        f"{entry.points} pt" if entry.points == 1 else f"{entry.points} pts",
        f"{entry.points} 分",
    )
    answer = (
        entry.answer if len(entry.answer) <= MAX_ANSWER else entry.answer[: MAX_ANSWER - 1] + "…"
    )
    shown = f"`{_escape(answer)}`" if answer.strip() else "—"
    if entry.kind is Kind.OPEN:
        rating = next((r for r in SelfRating if r.value == entry.answer), None)
        if rating is not None:  # the rating's name, as the buttons say it
            shown = f"`{RATING_NAMES[rating].get(lang)}`"
        shown = t(lang, f"rated {shown}", f"自评 {shown}")
    return f"{when} {mark} **{points}** · `{entry.ref}` · {topic_name(entry.topic, lang)} · {shown}"


def history_embed(entries: list[HistoryEntry], lang: Lang) -> discord.Embed:
    embed = discord.Embed(title=t(lang, "Your last answers", "你最近的作答"))
    if not entries:
        embed.description = t(
            lang, "No answers yet: try /question.", "还没有作答记录：试试 /question。"
        )
        return embed
    hint = t(
        lang,
        "A reference (`FAMILY:SEED` or a question id) names the exact question, as its "
        "message shows it.",
        "编号（`FAMILY:SEED` 或题目编号）唯一对应一道题，和题目消息上显示的一致。",
    )
    lines: list[str] = []
    size = len(hint) + 2
    for entry in entries:
        line = history_line(entry, lang)
        if size + len(line) + 1 > EMBED_LIMIT - 10:
            lines.append("…")
            break
        lines.append(line)
        size += len(line) + 1
    embed.description = "\n".join(lines) + "\n\n" + hint
    return embed


class History(commands.Cog):
    def __init__(self, bot: InterviewBot, *, boards: Boards) -> None:
        self.bot = bot
        self.boards = boards

    @app_commands.command(name="history", description="Your last answers with their references")
    @app_commands.describe(count="How many (1-25, default 10)")
    async def history(
        self,
        interaction: discord.Interaction,
        count: app_commands.Range[int, 1, 25] = 10,
    ) -> None:
        ctx = await context_of(self.bot, interaction)
        entries = await self.boards.history(ctx.user, count)
        await interaction.response.send_message(
            embed=history_embed(entries, ctx.lang), ephemeral=True
        )


async def setup(bot: InterviewBot) -> None:
    await bot.add_cog(History(bot, boards=bot.services.boards))
