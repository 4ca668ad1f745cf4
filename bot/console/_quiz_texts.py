"""What the console's `quiz` says, in English and Chinese."""

from __future__ import annotations

from bot.core.models import Lang, Localized
from bot.core.quiz import (
    QUESTIONS_MAX,
    QUESTIONS_MIN,
    SECONDS_MAX,
    SECONDS_MIN,
    QuizAnswer,
    Reveal,
    StandingRow,
)
from bot.shared.texts import percent, points_text

L = Localized

USAGE = L(
    en="⚠️ Usage: quiz [TOPIC] [concept|numeric|any] [easy|medium|hard] [questions=N] [seconds=S]",
    zh="⚠️ 用法：`quiz [主题] [concept|numeric|any] [easy|medium|hard] [questions=N] [seconds=S]`",
)
ANSWER_HINT = L(
    en="Answer with a letter or a number; `stop` ends the round.",
    zh="用字母或数字作答；输入 `stop` 结束本轮。",
)
LOCKED = L(en="🔒 Locked in.", zh="🔒 已锁定。")
TOO_LATE = L(en="⏰ Too late: the time for that question is up.", zh="⏰ 太晚了：这道题已经截止。")
ALREADY = L(en="You have answered this question already.", zh="你已经回答过这道题了。")
NO_ROUND = L(en="No quiz round is running.", zh="没有进行中的测验。")
NOT_IN_ROUND = L(
    en="No quiz round is running: `quiz [TOPIC] ...` starts one, and in a round `stop` ends it.",
    zh="没有进行中的测验：用 `quiz [主题] ...` 开始一轮，测验中输入 `stop` 结束。",
)
LEFT_OPEN = L(
    en="Your last round was still open (the console stopped during it): it is ended now, and"
    " the answers you gave in it count.",
    zh="上一轮测验还没有结束（控制台在进行中退出了）：现在已结束，其中已作答的题目照常计分。",
)
TRY_AGAIN = L(en="(not counted; try again)", zh="（不计入作答，请再试）")
STANDINGS = L(en="Standings:", zh="排名：")
NOBODY = L(en="Nobody answered.", zh="没有人作答。")
TIME_UP = L(en="⏰ Time is up.", zh="⏰ 时间到。")
MEDALS = ("🥇", "🥈", "🥉")


def bounds(key: str) -> Localized:
    low, high = (QUESTIONS_MIN, QUESTIONS_MAX) if key == "questions" else (SECONDS_MIN, SECONDS_MAX)
    return L(
        en=f"⚠️ {key} must be a whole number from {low} to {high}.",
        zh=f"⚠️ {key} 必须是 {low} 到 {high} 之间的整数。",
    )


def not_a_quiz_kind(word: str) -> Localized:
    """`quiz mcq` / `quiz open`: question kinds that are not a quiz's."""
    return L(
        en=f"⚠️ `{word}` is not a quiz kind: a quiz asks concept|numeric|any questions (multiple"
        " choice and numbers; no open questions).",
        zh=f"⚠️ `{word}` 不是测验的题型：测验的题型为 `concept|numeric|any`"
        "（选择题和数值题；没有问答题）。",
    )


def twice(key: str) -> Localized:
    return L(en=f"⚠️ {key} is given twice: give it once.", zh=f"⚠️ {key} 给了两次：只能给一次。")


def capped(asked: int, has: int) -> Localized:
    """Fewer distinct questions match than were asked for: the round is shorter."""
    if has == 1:
        en = f"Only 1 question matches (you asked for {asked}): the round has 1 question."
    else:
        en = f"Only {has} questions match (you asked for {asked}): the round has {has}."
    return L(en=en, zh=f"只有 {has} 道题符合条件（你要了 {asked} 道）：本轮共 {has} 题。")


def started(questions: int, seconds: int) -> Localized:
    return L(
        en=f"Quiz: {questions} question{'s' if questions != 1 else ''}, {seconds} seconds"
        f" each. Fast right answers score more.",
        zh=f"测验：共 {questions} 题，每题 {seconds} 秒。答得又快又对得分更多。",
    )


def heading(index: int, total: int, seconds: int) -> Localized:
    return L(
        en=f"Question {index + 1}/{total} · {seconds} s",
        zh=f"第 {index + 1}/{total} 题 · {seconds} 秒",
    )


def _yours(answer: QuizAnswer, lang: Lang) -> str:
    seconds = f"{answer.seconds:.1f}"
    if answer.correct:
        points = points_text(answer.points, lang)
        return L(
            en=f"✅ Right ({answer.answer}, {seconds} s): +{points}.",
            zh=f"✅ 答对了（{answer.answer}，{seconds} 秒）：+{points}。",
        ).get(lang)
    return L(
        en=f"❌ Not right ({answer.answer}, {seconds} s).",
        zh=f"❌ 答错了（{answer.answer}，{seconds} 秒）。",
    ).get(lang)


def reveal_text(reveal: Reveal, lang: Lang, stopped: bool = False) -> str:
    """The reveal of a solo round: the user's answer, the right one and why."""
    lines = [_yours(a, lang) for a in reveal.answers]
    if not reveal.answers:
        over = L(en="Round stopped.", zh="本轮已结束。") if stopped else TIME_UP
        lines.append(over.get(lang))
    if reveal.expected is not None:
        lines.append(
            L(en=f"The answer: {reveal.expected}.", zh=f"答案：{reveal.expected}。").get(lang)
        )
    if reveal.explanation is not None:
        lines.append(reveal.explanation.get(lang))
    return "\n".join(lines)


def standing_line(row: StandingRow, lang: Lang) -> str:
    medal = MEDALS[row.rank - 1] if row.rank <= len(MEDALS) else f"{row.rank}."
    points = points_text(row.points, lang)
    accuracy = percent(row.accuracy)
    seconds = f"{row.avg_seconds:.1f}"
    return L(
        en=f"{medal} {row.name}: {points}, {row.correct}/{row.answered} right ({accuracy}), "
        f"{seconds} s on average",
        zh=f"{medal} {row.name}：{points}，答对 {row.correct}/{row.answered}（{accuracy}），"
        f"平均 {seconds} 秒",
    ).get(lang)


def standings_text(rows: list[StandingRow], lang: Lang) -> str:
    if not rows:
        return NOBODY.get(lang)
    return "\n".join([STANDINGS.get(lang), *(standing_line(row, lang) for row in rows)])
