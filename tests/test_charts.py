"""The `/stats` and interview-report charts: labels in the frame, a legend for the colours, and
Chinese labels only where a CJK font can draw them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from bot.core.interview import Outcome, Report, Timing, TopicScore
from bot.core.models import TopicStats, User, UserStats
from bot.core.quiz import StandingRow
from bot.shared.charts import (
    cjk_font,
    pick_cjk_font,
    quiz_standings_figure,
    report_chart,
    report_figure,
    stats_chart,
    stats_figure,
)

PNG = b"\x89PNG\r\n\x1a\n"
ALICE = User(id=1, platform="discord", external_id="1", name="alice")


def stats(*rows: tuple[str, int, int, int]) -> UserStats:
    return UserStats(
        user=ALICE,
        by_topic=[TopicStats(topic=t, answered=a, correct=c, points=p) for t, a, c, p in rows],
        streak=2,
        best_streak=3,
    )


def report() -> Report:
    outcomes = [Outcome.CORRECT, Outcome.INCORRECT, Outcome.TIMEOUT, Outcome.UNANSWERED]
    times = [
        Timing(
            index=i,
            number=i + 1,
            follow_up=False,
            ref=f"ref-{i}",
            seconds=None if outcome is Outcome.UNANSWERED else 30.0 * (i + 1),
            outcome=outcome,
        )
        for i, outcome in enumerate(outcomes)
    ]
    return Report(
        interview_id=7,
        status="stopped",
        questions=4,
        follow_ups=0,
        answered=2,
        correct=1,
        timed_out=1,
        unanswered=1,
        points=2,
        hints=0,
        by_topic=[
            TopicScore(topic="backprop", answered=1, correct=1, points=2),
            TopicScore(topic="conv_output", answered=1, correct=0, points=0, timed_out=1),
        ],
        times=times,
        weakest=["conv_output"],
        review=[],
    )


def drawn(figure: Figure) -> Figure:
    FigureCanvasAgg(figure).draw()
    return figure


def texts_of(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(matplotlib.text.Text) if t.get_text()]


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine without any CJK font (matplotlib's font list without them)."""
    entries = [e for e in font_manager.fontManager.ttflist if pick_cjk_font([e.name]) is None]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)
    cjk_font.cache_clear()
    yield
    cjk_font.cache_clear()


@pytest.fixture
def a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A machine where matplotlib lists Noto Sans CJK (as fonts-noto-cjk installs it). Without
    the real font here, DejaVu's file stands in: the glyphs do not matter to these tests."""
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    entry = font_manager.FontEntry(fname=str(dejavu), name="Noto Sans CJK JP")
    monkeypatch.setattr(
        font_manager.fontManager, "ttflist", [*font_manager.fontManager.ttflist, entry]
    )
    cjk_font.cache_clear()
    yield entry.name
    cjk_font.cache_clear()


def test_the_cjk_font_is_found_by_its_family_name() -> None:
    assert pick_cjk_font(["DejaVu Sans", "Noto Sans CJK JP", "WenQuanYi Zen Hei"]) == (
        "Noto Sans CJK JP"
    )
    assert pick_cjk_font(["DejaVu Sans", "WenQuanYi Micro Hei"]) == "WenQuanYi Micro Hei"
    assert pick_cjk_font(["Source Han Sans HW SC"]) == "Source Han Sans HW SC"
    assert pick_cjk_font(["DejaVu Sans", "STIXGeneral", "cmr10"]) is None


@pytest.mark.filterwarnings("error:Glyph .* missing from font")  # no empty boxes
def test_without_a_cjk_font_chinese_readers_get_english_labels(no_cjk_font: None) -> None:
    figure = drawn(stats_figure(stats(("backprop", 4, 3, 3)), "zh"))
    texts = texts_of(figure)
    assert "Backpropagation" in texts and "accuracy (%)" in texts
    assert not any("反向传播" in t or "正确率" in t for t in texts)
    assert report_chart(report(), "zh").startswith(PNG)


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # DejaVu stands in
def test_with_a_cjk_font_charts_are_labelled_in_chinese(a_cjk_font: str) -> None:
    figure = drawn(stats_figure(stats(("backprop", 4, 3, 3)), "zh"))
    texts = texts_of(figure)
    assert "反向传播" in texts and "正确率（%）" in texts and "3/4 · 3 分" in texts
    assert "alice：3 分，连续 2 天" in texts
    title = figure.axes[0].title
    assert title.get_fontfamily() == ["DejaVu Sans", a_cjk_font]
    tick = figure.axes[0].get_yticklabels()[0]
    assert tick.get_text() == "反向传播" and a_cjk_font in tick.get_fontfamily()
    interview = texts_of(drawn(report_figure(report(), "zh")))
    assert {"各主题得分", "已作答", "正确", "错误", "超时", "未作答", "秒"} <= set(interview)
    # English readers keep English labels.
    english = texts_of(drawn(stats_figure(stats(("backprop", 4, 3, 3)), "en")))
    assert "Backpropagation" in english and "3/4 · 3 points" in english


def test_value_labels_stay_inside_the_frame() -> None:
    rows = [
        ("backprop", 7, 7, 7),  # 100%: the longest bar
        ("initialization", 4, 3, 1),
        ("conv_output", 3, 0, 0),
        ("pooling", 10, 6, 12),
    ]
    for figure in (drawn(stats_figure(stats(*rows), "en")), drawn(report_figure(report(), "en"))):
        renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
        for axes in figure.axes:
            frame = axes.get_window_extent(renderer)
            assert axes.texts
            for text in axes.texts:
                box = text.get_window_extent(renderer)
                assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
                assert frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()
    singular = texts_of(drawn(stats_figure(stats(("backprop", 1, 1, 1)), "en")))
    assert "1/1 · 1 point" in singular and "alice: 1 point, streak 2" in singular


def test_the_interview_chart_explains_its_colours() -> None:
    figure = drawn(report_figure(report(), "en"))
    _scores, times = figure.axes
    legend = times.get_legend()
    assert isinstance(legend, Legend)
    assert [t.get_text() for t in legend.get_texts()] == [
        "correct",
        "incorrect",
        "timed out",
        "not answered",
    ]
    bar_colours = [p.get_facecolor() for p in times.patches]
    key_colours = [h.get_facecolor() for h in legend.legend_handles if h is not None]
    assert bar_colours == key_colours  # one question of each outcome, in that order
    assert [t.get_text() for t in times.get_xticklabels()] == ["Q1", "Q2", "Q3", "Q4"]
    assert times.get_title() == "Time per question (1/2 correct)"
    scores = [t.get_text() for t in _scores.get_legend().get_texts()]
    assert scores == ["answered", "correct", "timed out"]


def test_pngs() -> None:
    assert stats_chart(stats(("backprop", 2, 1, 1)), "en").startswith(PNG)
    assert stats_chart(stats(), "en").startswith(PNG)  # the console's chart of nothing
    assert report_chart(report(), "en").startswith(PNG)


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # DejaVu stands in
def test_the_quiz_standings_chart_is_labelled_in_the_rounds_language(a_cjk_font: str) -> None:
    rows = [
        StandingRow(
            rank=1, user_id=1, name="alice", points=12, correct=4, answered=5, avg_seconds=3.2
        ),
        StandingRow(
            rank=2, user_id=2, name="bob", points=0, correct=0, answered=5, avg_seconds=9.0
        ),
    ]
    chinese = set(texts_of(drawn(quiz_standings_figure(rows, "zh"))))
    assert {"抢答排名", "得分", "12 分 · 4/5 · 3.2 秒", "1. alice"} <= chinese
    english = set(texts_of(drawn(quiz_standings_figure(rows, "en"))))
    assert {"Quiz standings", "points", "12 points · 4/5 · 3.2 s"} <= english
