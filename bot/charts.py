"""PNG charts for `/stats` and the interview report (matplotlib, Agg, no pyplot state).

These functions block for tens of milliseconds: front ends call them with `asyncio.to_thread`.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from bot.core.interview import Outcome, Report
from bot.core.models import Lang, UserStats
from bot.texts import topic_name

_GREEN, _RED, _GREY, _BLUE = "#3ba55d", "#ed4245", "#99aab5", "#5865f2"
# CJK glyphs: DejaVu has none, so Chinese labels fall back to topic ids (always readable).


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def _label(topic: str, lang: Lang) -> str:
    return topic_name(topic, "en") if lang == "en" else topic


def stats_chart(stats: UserStats, lang: Lang = "en") -> bytes:
    """Accuracy by topic (bars) with the number answered, for `/stats`."""
    rows = sorted(stats.by_topic, key=lambda r: r.accuracy)
    figure = Figure(figsize=(7, max(2.2, 0.42 * len(rows) + 1.2)))
    axes = figure.add_subplot()
    if not rows:
        axes.text(0.5, 0.5, "No answers yet", ha="center", va="center", fontsize=12)
        axes.set_axis_off()
        return _png(figure)
    labels = [_label(r.topic, lang) for r in rows]
    values = [100 * r.accuracy for r in rows]
    colours = [_GREEN if v >= 70 else _RED if v < 40 else _BLUE for v in values]
    bars = axes.barh(labels, values, color=colours)
    for bar, row in zip(bars, rows, strict=True):
        axes.text(
            min(bar.get_width() + 1, 92),
            bar.get_y() + bar.get_height() / 2,
            f"{row.correct}/{row.answered} · {row.points} pts",
            va="center",
            fontsize=8,
        )
    axes.set_xlim(0, 100)
    axes.set_xlabel("accuracy (%)")
    axes.set_title(f"{stats.user.name}: {stats.points} points, streak {stats.streak}")
    figure.tight_layout()
    return _png(figure)


def report_chart(report: Report, lang: Lang = "en") -> bytes:
    """Score by topic and time per question, for the end of a mock interview."""
    figure = Figure(figsize=(9, 3.6))
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.3])
    topics = report.by_topic
    if topics:
        labels = [_label(t.topic, lang) for t in topics]
        left.barh(labels, [t.answered for t in topics], color=_GREY, label="answered")
        left.barh(labels, [t.correct for t in topics], color=_GREEN, label="correct")
        left.legend(loc="lower right", fontsize=8)
    left.set_title("Score by topic")
    left.xaxis.get_major_locator().set_params(integer=True)
    colours = {
        Outcome.CORRECT: _GREEN,
        Outcome.INCORRECT: _RED,
        Outcome.TIMEOUT: "#faa61a",
        Outcome.UNANSWERED: _GREY,
    }
    indices = [x.short for x in report.times]  # Q3, and Q3+ for its follow-up
    seconds = [x.seconds or 0.0 for x in report.times]
    right.bar(indices, seconds, color=[colours[x.outcome] for x in report.times])
    right.set_ylabel("seconds")
    right.set_title(f"Time per question ({report.correct}/{report.answered} correct)")
    figure.tight_layout()
    return _png(figure)
