"""The interview report's embed (bot/discord/ext/interview.py `report_embed`): Chinese with
Chinese punctuation and units, and a picture only when there is a chart to attach."""

from __future__ import annotations

from bot.core.interview import Outcome, Report, Timing, TopicScore
from bot.discord.ext.interview import report_embed


def report(answered: bool = True) -> Report:
    times = [
        Timing(index=0, number=1, follow_up=False, ref="r", seconds=12.0, outcome=Outcome.CORRECT)
    ]
    return Report(
        interview_id=7,
        status="stopped",
        questions=3,
        follow_ups=0,
        answered=int(answered),
        correct=int(answered),
        timed_out=0,
        unanswered=3 - int(answered),
        points=2 if answered else 0,
        hints=0,
        by_topic=[TopicScore(topic="backprop", answered=1, correct=1, points=2)]
        if answered
        else [],
        times=times if answered else [],
        weakest=[],
        review=[],
    )


def test_the_report_in_chinese_uses_chinese_punctuation_and_units() -> None:
    embed = report_embed(report(), "zh")
    text = embed.description or ""
    assert "• 反向传播：1/1（100%）" in text
    assert "第 1 题 12 秒 正确" in text
    assert "12s" not in text and ": 1/1" not in text and " (100%)" not in text
    english = report_embed(report(), "en").description or ""
    assert "• Backpropagation: 1/1 (100%)" in english and "Q1 12s correct" in english


def test_a_report_with_nothing_answered_shows_no_picture() -> None:
    assert report_embed(report(), "en").image.url == "attachment://report.png"
    assert report_embed(report(answered=False), "en").image.url is None
