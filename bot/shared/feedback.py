"""The feedback on a numeric answer, in English and Chinese, worded from its grade: the verdict's
marker first (✅ ❌ ⚠️, whatever the language), the right answer, and for a wrong one the mistake
it names (a known mistake's explanation, which the numeric family gives, or a near miss). The
contract is docs/numeric-checker.md. `python -m bot check` puts this text in its JSON
(`feedback`, `feedback_zh`), and both front ends show it (bot/shared/texts.py `grade_text`).
Also the form an answer takes (`form_text`), for any answer that could not be read.

This module imports nothing but the core's models and answer reader, so the checkers' command
line can use it.
"""

from __future__ import annotations

from bot.core.answers import MAX_DIGITS, MAX_EXPONENT
from bot.core.models import (
    LETTERS,
    AnswerForm,
    FormShape,
    Grade,
    Localized,
    NearMiss,
    Refusal,
    Verdict,
)

#: What a number that was read but refused is told.
REFUSALS: dict[Refusal, Localized] = {
    Refusal.TOO_LARGE: Localized(
        en=f"That number is too large (more than {MAX_DIGITS} digits, or beyond 1e300).",
        zh=f"这个数太大了（超过 {MAX_DIGITS} 位，或大于 1e300）。",
    ),
    Refusal.TOO_SMALL: Localized(
        en=f"That number is too close to zero (an exponent below -{MAX_EXPONENT}).",
        zh=f"这个数太接近零了（指数小于 -{MAX_EXPONENT}）。",
    ),
    Refusal.TOO_LONG: Localized(
        en=f"That number has too many digits (at most {MAX_DIGITS} significant digits).",
        zh=f"这个数的位数太多了（最多 {MAX_DIGITS} 位有效数字）。",
    ),
}

#: The hint a close wrong answer gets when no known mistake explains it.
NEAR_MISSES: dict[NearMiss, Localized] = {
    NearMiss.IMPRECISE_LIST: Localized(
        en="Close, but not precise enough: give every number to at least four significant figures.",
        zh="很接近，但精度不够：每个数都请至少给出四位有效数字。",
    ),
    NearMiss.ROUNDED: Localized(
        en="Close, but counts are exact: give every digit, not a rounded figure.",
        zh="很接近，但个数要精确：请给出完整的数字，而不是约数。",
    ),
    NearMiss.IMPRECISE: Localized(
        en="Close, but not precise enough: give at least four significant figures.",
        zh="很接近，但精度不够：请至少给出四位有效数字。",
    ),
}


def refusal_text(refusal: Refusal) -> Localized:
    """Why a number that was read cannot be graded."""
    return REFUSALS[refusal]


def expected_zh(form: str) -> str:
    """ "应为" and the expected form, with a space before a number or a Latin word (应为 3 个整数,
    as 3 题 is written), none before Chinese (应为一个数)."""
    return f"应为 {form}" if form[:1].isascii() else f"应为{form}"


def form_text(form: AnswerForm) -> Localized:
    """The form an answer takes, with an example: `a whole number, e.g. 34944 or 34,944`."""
    n = form.count
    if form.shape is FormShape.LETTER:
        letters = LETTERS[:n]
        return Localized(
            en=f"one option letter, {letters[0]} to {letters[-1]}",
            zh=f"一个选项字母（{letters[0]} 到 {letters[-1]}）",
        )
    if form.shape is FormShape.WHOLE_LIST:
        sample = ", ".join(str(v) for v in (64, 55, 55, 8, 8, 8)[:n]) if n <= 6 else "..."
        cross = "x".join(str(v) for v in (64, 55, 55, 8, 8, 8)[:n]) if n <= 6 else "..."
        return Localized(
            en=f"{n} whole numbers, e.g. ({sample}) or {cross}",
            zh=f"{n} 个整数，例如 ({sample}) 或 {cross}",
        )
    if form.shape is FormShape.NUMBER_LIST:
        sample = ", ".join(("0.1", "0.2", "0.7", "0.4", "0.5", "0.6")[:n]) if n <= 6 else "..."
        return Localized(
            en=f"a list of {n} numbers, e.g. [{sample}]",
            zh=f"由 {n} 个数组成的列表，例如 [{sample}]",
        )
    if form.shape is FormShape.WHOLE:
        return Localized(
            en="a whole number, e.g. 34944 or 34,944",
            zh="一个整数，例如 34944 或 34,944",
        )
    if form.percent_ok:
        return Localized(
            en="a number, e.g. 0.25, 1/4, 25% or 2.5e-3",
            zh="一个数，例如 0.25、1/4、25% 或 2.5e-3",
        )
    return Localized(
        en="a number, e.g. 0.25, 1/4 or 2.5e-3",
        zh="一个数，例如 0.25、1/4 或 2.5e-3",
    )


def unreadable(expected_form: AnswerForm | None) -> Localized:
    """An answer that could not be read, and the form one takes."""
    form = form_text(expected_form) if expected_form else Localized(en="an answer", zh="一个答案")
    return Localized(
        en=f"⚠️ Could not read that answer: expected {form.en}.",
        zh=f"⚠️ 无法识别这个答案：请给出{form.zh}。",
    )


def numeric_feedback(grade: Grade) -> Localized:
    """`✅ Correct: 34,944.`; `❌ Incorrect: the answer is 34,944.` and the mistake it names;
    `⚠️ I could not read that answer. Expected ...` (the answer is not revealed then: an
    unreadable answer costs no attempt)."""
    marker = grade.verdict.marker
    if grade.verdict is Verdict.UNREADABLE:
        form = (
            form_text(grade.expected_form)
            if grade.expected_form
            else Localized(en="a number", zh="一个数")
        )
        if grade.refusal is not None:  # read, but refused: say why
            reason = refusal_text(grade.refusal)
            return Localized(
                en=f"{marker} {reason.en} Expected {form.en}.",
                zh=f"{marker} {reason.zh}{expected_zh(form.zh)}。",
            )
        return Localized(
            en=f"{marker} I could not read that answer. Expected {form.en}.",
            zh=f"{marker} 无法识别这个答案。{expected_zh(form.zh)}。",
        )
    shown = grade.expected or "?"
    if grade.correct:
        return Localized(en=f"{marker} Correct: {shown}.", zh=f"{marker} 正确：{shown}。")
    en = f"{marker} Incorrect: the answer is {shown}."
    zh = f"{marker} 不正确：正确答案是 {shown}。"
    note = grade.mistake_note
    if note is None and grade.near_miss is not None:
        note = NEAR_MISSES[grade.near_miss]
    if note is not None:
        en = f"{en} {note.en}"
        zh = f"{zh}{note.zh}"
    return Localized(en=en, zh=zh)
