"""`stats`, `topics`, `history` and `leaderboard`: what the console tells about scores."""

from __future__ import annotations

import asyncio

from bot.console._args import ChartTarget, conflict, parse_chart_words
from bot.console._columns import column, pad, right
from bot.console._session import Session
from bot.core.errors import UnknownTopic
from bot.core.models import HistoryEntry, Kind, Lang, Localized, Period, Scope, UserStats
from bot.core.services.boards import Boards
from bot.core.services.catalog import Catalog
from bot.core.services.reviews import Reviews
from bot.shared.texts import (
    error_text,
    percent,
    points_en,
    points_text,
    rating_name,
    topic_name,
)


class Stats:
    """`topics`, `stats`, `history` and `leaderboard`."""

    def __init__(
        self, session: Session, *, boards: Boards, reviews: Reviews, catalog: Catalog
    ) -> None:
        self.session = session
        self.boards = boards
        self.reviews = reviews
        self.catalog = catalog

    async def cmd_topics(self, args: list[str]) -> None:
        lang = self.session.lang
        rows = await self.boards.topics(self.session.user)
        numeric = numeric_topics(self.catalog)
        lines = [
            Localized(
                en="topic · questions · your accuracy · numeric (🔢: has numeric questions)",
                zh="主题 · 题量 · 你的正确率 · 数值题（🔢：有数值计算题）",
            ).get(lang)
        ]
        ids = column([row.topic for row in rows], 22)
        names = column([topic_name(row.topic, lang) for row in rows], 28)
        for row in rows:
            mark = "🔢" if row.topic in numeric else ""
            lines.append(
                f"  {pad(row.topic, ids)} {pad(topic_name(row.topic, lang), names)}"
                f" {row.questions:>4}"
                f"   {percent(row.accuracy):>5} "
                + (
                    f"({row.correct}/{row.answered})"
                    if lang == "en"
                    else f"（{row.correct}/{row.answered}）"
                )
                + f"  {mark}".rstrip()
            )
        lines.append(
            Localized(
                en="Numeric questions: question TOPIC numeric (e.g. question cnn numeric).",
                zh="数值题：`question 主题 numeric`（例如 `question cnn numeric`）。",
            ).get(lang)
        )
        self.session.say("\n".join(lines))

    async def cmd_history(self, args: list[str]) -> None:
        if len(args) > 1 or (
            args and not (args[0].isascii() and args[0].isdigit() and 1 <= int(args[0]) <= 25)
        ):
            self.session.say(
                Localized(
                    en=f"⚠️ `{' '.join(args)}` is not a count: history [COUNT], COUNT from 1 to "
                    "25 (10 if not given).",
                    zh=f"⚠️ `{' '.join(args)}` 不是条数：`history [条数]`，条数为 1 到 25"
                    "（不填则为 10）。",
                )
            )
            return
        entries = await self.boards.history(self.session.user, int(args[0]) if args else 10)
        self.session.say(history_text(entries, self.session.lang))

    async def cmd_stats(self, args: list[str]) -> None:
        lang = self.session.lang
        try:
            chart = parse_chart_words(args)
        except ValueError:
            self.session.say(
                Localized(
                    en=f"⚠️ `{' '.join(args)}` is not understood. Usage: stats [chart [FILE.png | "
                    "FOLDER/] [--force]]",
                    zh=f"⚠️ 无法理解 `{' '.join(args)}`。用法：`stats [chart [文件.png | 文件夹/] "
                    "[--force]]`",
                )
            )
            return
        user = self.session.user
        stats = await self.boards.stats(user)
        lines = [
            Localized(
                en=f"{user.name}: {points_en(stats.points)}, {stats.correct}/{stats.answered} "
                f"correct ({percent(stats.accuracy if stats.answered else None)}), "
                f"streak {stats.streak} (best {stats.best_streak})",
                zh=f"{user.name}：{stats.points} 分，答对 {stats.correct}/{stats.answered}"
                f"（{percent(stats.accuracy if stats.answered else None)}），"
                f"连续 {stats.streak} 天（最长 {stats.best_streak} 天）",
            ).get(lang)
        ]
        names = column([topic_name(row.topic, lang) for row in stats.by_topic], 30)
        for row in stats.by_topic:
            lines.append(
                f"  {pad(topic_name(row.topic, lang), names)} {points_text(row.points, lang):>10}"
                f"  {row.correct}/{row.answered}"
                + (
                    f" ({percent(row.accuracy)})"
                    if lang == "en"
                    else f"（{percent(row.accuracy)}）"
                )
            )
        if not stats.by_topic:
            lines.append(
                Localized(
                    en="No answers yet: try `question`.", zh="还没有作答记录：试试 `question`。"
                ).get(lang)
            )
        due = await self.reviews.reviews_due(user)
        lines.append(Localized(en=f"Reviews due: {due}", zh=f"待复习：{due} 道").get(lang))
        if chart is not None and stats.by_topic:  # no answers: the sentence above, no picture
            lines.append(await self._save_chart(stats, chart))
        self.session.say("\n".join(lines))

    async def _save_chart(self, stats: UserStats, chart: ChartTarget) -> str:
        """Draw the stats chart and save it where `chart` says; the line that tells where
        (or why not). Never replaces a file unless asked to (`--force`)."""
        lang = self.session.lang
        from bot.shared.charts import stats_chart  # matplotlib: loaded for the first chart

        png = await asyncio.to_thread(stats_chart, stats, lang)
        try:
            path = await asyncio.to_thread(chart.write, png)
        except FileExistsError as exc:
            return Localized(
                en=f"⚠️ {exc.filename} exists: give another name, or add --force to replace it.",
                zh=f"⚠️ {exc.filename} 已存在：请换一个文件名，或加上 `--force` 覆盖。",
            ).get(lang)
        except OSError as exc:
            where = exc.filename or chart.path
            return Localized(
                en=f"⚠️ Could not save the chart to {where}: {exc.strerror or exc}",
                zh=f"⚠️ 无法把图表保存到 {where}：{exc.strerror or exc}",
            ).get(lang)
        return Localized(en=f"Chart: {path}", zh=f"图表：{path}").get(lang)

    async def cmd_leaderboard(self, args: list[str]) -> None:
        period: Period | None = None
        topic: str | None = None
        for word in (a.lower() for a in args):
            slot, earlier = (
                ("period", period) if word in Period.__members__.values() else ("topic", topic)
            )
            if earlier is not None:
                self.session.say(conflict(slot, str(earlier), word, "leaderboard"))
                return
            if slot == "period":
                period = Period(word)
            else:
                topic = word
        period = period or Period.ALL
        lang = self.session.lang
        try:
            board = await self.boards.leaderboard(
                Scope.GLOBAL, period, topic, user=self.session.user
            )
        except UnknownTopic as error:  # neither a period nor a topic: name the periods too
            periods = [p.value for p in Period]
            self.session.say(
                Localized(
                    en=f"{error_text(error, 'en')} Periods: {', '.join(periods)}.",
                    zh=f"{error_text(error, 'zh')}时间范围：{'、'.join(periods)}。",
                )
            )
            return
        if not board.top:
            self.session.say(Localized(en="Nobody has points yet.", zh="还没有人得分。"))
            return
        name, points, accuracy = (
            ("name", "points", "accuracy") if lang == "en" else ("名字", "积分", "正确率")
        )
        lines = [f"{'#':>3}  {pad(name, 20)} {right(points, 6)} {right(accuracy, 8)}"]
        shown = board.top + ([board.me] if board.me and board.me not in board.top else [])
        for e in shown:
            lines.append(
                f"{e.rank:>3}  {pad(e.name[:20], 20)} {e.points:>6} {percent(e.accuracy):>8}"
            )
        self.session.say("\n".join(lines))


def numeric_topics(catalog: Catalog) -> set[str]:
    """The topics that have numeric (generated) questions."""
    return {q.topic for q in catalog.bank.questions.values() if q.kind is Kind.NUMERIC}


def history_text(entries: list[HistoryEntry], lang: Lang) -> str:
    """`history`: when, reference, topic, answer, ✅/❌, points; one line each."""
    if not entries:
        return Localized(
            en="No answers yet: try `question`.", zh="还没有作答记录：试试 `question`。"
        ).get(lang)
    lines = [
        Localized(
            en="Your last answers (ask one again: question REF):",
            zh="你最近的作答（再答一次：`question 编号`）：",
        ).get(lang)
    ]
    for entry in entries:
        when = entry.at.strftime("%Y-%m-%d %H:%M")
        answer = entry.answer if len(entry.answer) <= 30 else entry.answer[:29] + "…"
        if entry.kind is Kind.OPEN:
            rated = rating_name(entry.answer, lang)
            answer = Localized(en=f"rated {rated}", zh=f"自评：{rated}").get(lang)
        points = points_en(entry.points) if lang == "en" else f"{entry.points} 分"
        mark = "✅" if entry.correct else "❌"
        lines.append(
            f"  {when}  {mark} {points:<9} {entry.ref}  ·  {topic_name(entry.topic, lang)}"
            f"  ·  {answer}"
        )
    return "\n".join(lines)
