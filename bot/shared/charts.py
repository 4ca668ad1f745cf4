"""PNG charts for `/stats` and the interview report (matplotlib, Agg, no pyplot state).

These functions block for tens of milliseconds: front ends call them with `asyncio.to_thread`.

Labels are in the reader's language when the machine has a CJK font (the Docker image installs
Debian's `fonts-noto-cjk`; it is looked up once, at the first chart). Without one, a Chinese
reader gets English labels rather than rows of empty boxes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Sequence

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from bot.core.interview import Outcome, Report
from bot.core.models import Lang, Localized, UserStats
from bot.core.quiz import StandingRow
from bot.shared.texts import OUTCOME_NAMES, points_en, short_label, topic_name

_GREEN, _RED, _GREY, _BLUE, _ORANGE = "#3ba55d", "#ed4245", "#99aab5", "#5865f2", "#faa61a"
_MEDAL_COLOURS = ("#d4af37", "#a8a9ad", "#cd7f32")  # gold, silver, bronze
_LATIN = "DejaVu Sans"  # matplotlib's own font: always there

# Fonts with Simplified Chinese glyphs, best first: Noto Sans CJK (fonts-noto-cjk, whose .ttc
# matplotlib reads as its first face, "Noto Sans CJK JP"), Source Han (the same design),
# WenQuanYi (fonts-wqy-*), then what desktops bring.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Source Han Sans",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Serif CJK SC",
    "Noto Serif CJK JP",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
)
_CJK_HINTS = ("CJK", "Source Han", "WenQuanYi", "Droid Sans Fallback")

OUTCOME_COLOURS: dict[Outcome, str] = {
    Outcome.CORRECT: _GREEN,
    Outcome.INCORRECT: _RED,
    Outcome.TIMEOUT: _ORANGE,
    Outcome.UNANSWERED: _GREY,
}
NO_ANSWERS = Localized(en="No answers yet", zh="还没有作答记录")


def pick_cjk_font(names: Iterable[str]) -> str | None:
    """The best font family with Chinese glyphs among ``names``; None if there is none."""
    available = set(names)
    for family in CJK_FAMILIES:
        if family in available:
            return family
    hinted = sorted(n for n in available if any(hint in n for hint in _CJK_HINTS))
    return hinted[0] if hinted else None


@functools.cache
def cjk_font() -> str | None:
    """The installed CJK font family matplotlib can use (looked up once per process)."""
    return pick_cjk_font(entry.name for entry in font_manager.fontManager.ttflist)


def chart_language(lang: Lang) -> Lang:
    """The language a chart is labelled in: Chinese only with a font that has its glyphs."""
    return "zh" if lang == "zh" and cjk_font() is not None else "en"


class _Style:
    """The language of a chart's labels and the fonts they need (Latin first, then CJK)."""

    def __init__(self, lang: Lang) -> None:
        self.lang = chart_language(lang)
        cjk = cjk_font() if self.lang == "zh" else None
        self.families = [_LATIN] if cjk is None else [_LATIN, cjk]

    def __call__(self, text: Localized) -> str:
        return text.get(self.lang)

    def text(self, item: Text) -> None:
        item.set_fontfamily(self.families)

    def ticks(self, axes: Axes) -> None:
        for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
            self.text(label)

    def legend(self, size: float = 8) -> dict[str, object]:
        return {"family": self.families, "size": size}


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def stats_figure(stats: UserStats, lang: Lang = "en") -> Figure:
    """Accuracy by topic (bars) with answers and points, for `/stats`."""
    style = _Style(lang)
    rows = sorted(stats.by_topic, key=lambda r: r.accuracy)
    figure = Figure(figsize=(7, max(2.2, 0.42 * len(rows) + 1.2)))
    axes = figure.add_subplot()
    if not rows:
        style.text(axes.text(0.5, 0.5, style(NO_ANSWERS), ha="center", va="center", fontsize=12))
        axes.set_axis_off()
        return figure
    labels = [topic_name(r.topic, style.lang) for r in rows]
    values = [100 * r.accuracy for r in rows]
    colours = [_GREEN if v >= 70 else _RED if v < 40 else _BLUE for v in values]
    bars = axes.barh(range(len(rows)), values, color=colours)
    axes.set_yticks(range(len(rows)), labels)
    for bar, row in zip(bars, rows, strict=True):
        note = style(
            Localized(
                en=f"{row.correct}/{row.answered} · {points_en(row.points)}",
                zh=f"{row.correct}/{row.answered} · {row.points} 分",
            )
        )
        width = bar.get_width()
        inside = width >= 60  # long bars carry their label inside, the rest just after
        style.text(
            axes.text(
                width - 1.5 if inside else width + 1.5,
                bar.get_y() + bar.get_height() / 2,
                note,
                ha="right" if inside else "left",
                va="center",
                fontsize=8,
                color="white" if inside else "black",
                clip_on=True,
            )
        )
    axes.set_xlim(0, 100)
    style.text(axes.set_xlabel(style(Localized(en="accuracy (%)", zh="正确率（%）"))))
    title = Localized(
        en=f"{stats.user.name}: {points_en(stats.points)}, streak {stats.streak}",
        zh=f"{stats.user.name}：{stats.points} 分，连续 {stats.streak} 天",
    )
    style.text(axes.set_title(style(title)))
    style.ticks(axes)
    figure.tight_layout()
    return figure


def stats_chart(stats: UserStats, lang: Lang = "en") -> bytes:
    return _png(stats_figure(stats, lang))


def report_figure(report: Report, lang: Lang = "en") -> Figure:
    """Score by topic and time per question (coloured by how each ended, with a legend), for
    the end of a mock interview."""
    style = _Style(lang)
    figure = Figure(figsize=(9, 3.8))
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.3])
    topics = report.by_topic
    if topics:
        labels = [topic_name(t.topic, style.lang) for t in topics]
        rows = range(len(topics))
        answered = [t.answered for t in topics]
        left.barh(rows, answered, color=_GREY, label=style(Localized(en="answered", zh="已作答")))
        left.barh(
            rows,
            [t.correct for t in topics],
            color=_GREEN,
            label=style(OUTCOME_NAMES[Outcome.CORRECT]),
        )
        if any(t.timed_out for t in topics):  # after the answered part of the bar
            left.barh(
                rows,
                [t.timed_out for t in topics],
                left=answered,
                color=_ORANGE,
                label=style(OUTCOME_NAMES[Outcome.TIMEOUT]),
            )
        left.set_yticks(rows, labels)
        ends = [t.answered + t.timed_out for t in topics]
        top = max(ends)
        left.set_xlim(0, top * 1.25 + 0.5)  # room for the value labels
        for row, (score, end) in enumerate(zip(topics, ends, strict=True)):
            note = f"{score.correct}/{score.answered}"
            left.text(end + top * 0.03, row, note, va="center", fontsize=8)
        left.legend(  # under the bars: it never hides one
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncols=3,
            frameon=False,
            prop=style.legend(),
        )
    style.text(left.set_title(style(Localized(en="Score by topic", zh="各主题得分"))))
    left.xaxis.get_major_locator().set_params(integer=True)

    seconds = [timing.seconds or 0.0 for timing in report.times]
    positions = range(len(report.times))
    right.bar(
        positions,
        seconds,
        color=[OUTCOME_COLOURS[timing.outcome] for timing in report.times],
    )
    right.set_xticks(positions, [short_label(timing) for timing in report.times])
    high = max(seconds, default=0.0) or 1.0
    right.set_ylim(0, high * 1.3)  # the value labels and the legend stay inside the frame
    for position, timing in zip(positions, report.times, strict=True):
        shown = "—" if timing.seconds is None else f"{timing.seconds:.0f}"
        right.text(position, (timing.seconds or 0.0) + high * 0.02, shown, ha="center", fontsize=7)
    present = [o for o in Outcome if any(t.outcome is o for t in report.times)]
    if present:
        right.legend(
            handles=[
                Patch(color=OUTCOME_COLOURS[o], label=style(OUTCOME_NAMES[o])) for o in present
            ],
            loc="upper right",
            ncols=min(len(present), 4),
            prop=style.legend(7),
        )
    style.text(right.set_ylabel(style(Localized(en="seconds", zh="秒"))))
    right_title = Localized(  # correct/answered, as in the report's text and in stats
        en=f"Time per question ({report.correct}/{report.answered} correct)",
        zh=f"每题用时（答对 {report.correct}/{report.answered}）",
    )
    style.text(right.set_title(style(right_title)))
    style.ticks(left)
    style.ticks(right)
    figure.tight_layout()
    return figure


def report_chart(report: Report, lang: Lang = "en") -> bytes:
    return _png(report_figure(report, lang))


def quiz_standings_figure(rows: Sequence[StandingRow], lang: Lang = "en") -> Figure:
    """A quiz round's standings: points per player (the top 10, best on top), each bar labelled
    with correct answers and average answer time; medal colours for the first three."""
    style = _Style(lang)
    shown = list(rows[:10])
    figure = Figure(figsize=(7, max(2.2, 0.5 * len(shown) + 1.3)))
    axes = figure.add_subplot()
    if not shown:
        style.text(axes.text(0.5, 0.5, style(NO_ANSWERS), ha="center", va="center", fontsize=12))
        axes.set_axis_off()
        return figure
    places = list(range(len(shown)))[::-1]  # the winner at the top
    colours = [_MEDAL_COLOURS[r.rank - 1] if r.rank <= 3 else _BLUE for r in shown]
    axes.barh(places, [r.points for r in shown], color=colours)
    axes.set_yticks(places, [f"{r.rank}. {r.name}" for r in shown])
    top = max((r.points for r in shown), default=0) or 1
    axes.set_xlim(0, top * 1.45 + 0.5)  # room for the labels after the bars
    for place, row in zip(places, shown, strict=True):
        note = style(
            Localized(
                en=f"{points_en(row.points)} · {row.correct}/{row.answered} · "
                f"{row.avg_seconds:.1f} s",
                zh=f"{row.points} 分 · {row.correct}/{row.answered} · {row.avg_seconds:.1f} 秒",
            )
        )
        style.text(axes.text(row.points + top * 0.02, place, note, va="center", fontsize=8))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    style.text(axes.set_xlabel(style(Localized(en="points", zh="得分"))))
    style.text(axes.set_title(style(Localized(en="Quiz standings", zh="抢答排名"))))
    style.ticks(axes)
    figure.tight_layout()
    return figure


def quiz_standings_chart(rows: Sequence[StandingRow], lang: Lang = "en") -> bytes:
    return _png(quiz_standings_figure(rows, lang))
