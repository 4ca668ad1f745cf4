"""What both front ends show about a typed answer to an open question checked against its key
points (bot/core/rubric/, docs/rubrics.md), in English and Chinese."""

from __future__ import annotations

from bot.core.models import Lang, Localized, Question
from bot.core.rubric import RubricResult
from bot.core.services.answering import SelfRating
from bot.shared.texts import RATING_NAMES

COVERED = "✅"
MISSED = "⬜"

TYPE_PROMPT = Localized(
    en="Type your answer (several lines; an empty line ends it), "
    "or just press Enter to see the model answer.",
    zh="写下你的答案（可以写多行，空一行结束），或直接按回车查看参考答案。",
)
AGAINST_KEY_POINTS = Localized(en="Your answer against the key points:", zh="你的答案对照要点：")
NO_RUBRIC = Localized(
    en="This question has no rubric yet: compare your answer with the model answer yourself.",
    zh="这道题还没有评分要点规则：请自己对照参考答案。",
)
CHECKER_LIMITS = Localized(
    en="(matched by wording: a right answer in other words may show ⬜; your rating decides)",
    zh="（按措辞匹配：用别的说法答对也可能显示 ⬜；以你的自评为准）",
)
MODEL_ANSWER = Localized(en="Model answer:", zh="参考答案：")
MODAL_TITLE = Localized(en="Your answer", zh="你的答案")
MODAL_LABEL = Localized(en="Answer in your own words", zh="用你自己的话回答")
BLANK_ANSWER = Localized(
    en="⚠️ Nothing to check: the answer was blank. Type it, then submit; or press"
    " **Show model answer**.",
    zh="⚠️ 没有可检查的内容：答案是空白的。请写下答案再提交，或点 **查看参考答案**。",
)
MODAL_PLACEHOLDER = Localized(
    en="Write it as you would say it in an interview.", zh="像在面试中那样写出来。"
)
CONFIRM_RATING = Localized(
    en="Confirm the suggested rating or pick another:", zh="确认建议的自评，或选择其他："
)


def coverage_line(result: RubricResult, total: int, lang: Lang) -> str:
    """`Coverage: 3/5 key points (60%) · suggested rating: Good`."""
    count = len(result.covered)
    percent = round(result.coverage * 100)
    name = RATING_NAMES[SelfRating(result.suggested)].get(lang)
    if lang == "zh":
        return f"覆盖：{count}/{total} 个要点（{percent}%）· 建议自评：{name}"
    return f"Coverage: {count}/{total} key points ({percent}%) · suggested rating: {name}"


def breakdown_lines(question: Question, result: RubricResult, lang: Lang) -> list[str]:
    """The key points, each ✅ or ⬜, then the coverage and the suggested rating."""
    covered = set(result.covered)
    lines = [AGAINST_KEY_POINTS.get(lang)]
    for index, point in enumerate(question.key_points):
        mark = COVERED if index in covered else MISSED
        lines.append(f"{mark} {point.get(lang)}")
    lines.append(coverage_line(result, len(question.key_points), lang))
    lines.append(CHECKER_LIMITS.get(lang))
    return lines


def suggested_prompt(suggested: str, lang: Lang) -> str:
    """The console's rating prompt when a rating is suggested: Enter takes it."""
    name = RATING_NAMES[SelfRating(suggested)].get(lang)
    if lang == "zh":
        return f"直接按回车即采用建议的自评：{suggested}（{name}）。"
    return f"Press Enter to take the suggested rating: {suggested}."


def coverage_note(coverage: float | None, lang: Lang) -> str:
    """An interview report row's note on a typed open answer: ` · key points 60%`."""
    if coverage is None:
        return ""
    percent = round(coverage * 100)
    return f"（要点覆盖 {percent}%）" if lang == "zh" else f" (key points {percent}%)"
