"""Messages shared by the front ends, in English and Chinese, and domain errors turned into them."""

from __future__ import annotations

import re

from bot.core.answers import AnswerFormatError
from bot.core.errors import (
    BadTime,
    DomainError,
    ForgedComponent,
    NoQuestionFound,
    StorageUnavailable,
    UnknownQuestion,
    UnknownTopic,
    WrongKind,
)
from bot.core.interview import (
    MAX_MINUTES,
    MAX_QUESTIONS,
    MIN_MINUTES,
    MIN_QUESTIONS,
    Expired,
    Hint,
    Interview,
    InterviewError,
    Item,
    Outcome,
    Report,
    ReviewEntry,
    Solution,
    Timing,
)
from bot.core.models import AnswerOutcome, Difficulty, Grade, Kind, Lang, Localized, Verdict
from bot.core.services.answering import SelfRating
from bot.core.topics import AREA_IDS, AREAS, TOPIC_IDS, topic
from bot.shared.feedback import numeric_feedback, unreadable

KIND_NAMES: dict[Kind, Localized] = {
    Kind.MCQ: Localized(en="multiple choice", zh="选择题"),
    Kind.OPEN: Localized(en="open question", zh="问答题"),
    Kind.NUMERIC: Localized(en="numeric", zh="计算题"),
}
DIFFICULTY_NAMES: dict[Difficulty, Localized] = {
    Difficulty.EASY: Localized(en="easy", zh="简单"),
    Difficulty.MEDIUM: Localized(en="medium", zh="中等"),
    Difficulty.HARD: Localized(en="hard", zh="困难"),
}

#: One name per self-rating, everywhere (buttons, console prompts, history, the engine's note).
RATING_NAMES: dict[SelfRating, Localized] = {
    SelfRating.AGAIN: Localized(en="Again", zh="没答上"),
    SelfRating.HARD: Localized(en="Hard", zh="勉强"),
    SelfRating.GOOD: Localized(en="Good", zh="答上了"),
    SelfRating.EASY: Localized(en="Easy", zh="很轻松"),
}


def rating_prompt(lang: Lang) -> str:
    """The console's question after an open answer: the words to type, named in Chinese too."""
    if lang == "zh":
        words = "、".join(f"{r.value}（{RATING_NAMES[r].zh}）" for r in SelfRating)
        return f"答得怎么样？请输入：{words}"
    return "How did it go? " + "/".join(r.value for r in SelfRating)


def rating_name(word: str, lang: Lang) -> str:
    """A recorded rating (`good`) as the user reads it; other text as it is."""
    try:
        return RATING_NAMES[SelfRating(word)].get(lang)
    except ValueError:
        return word


_AREA_NAMES = {area.id: area.name for area in AREAS}


def topic_name(topic_id: str, lang: Lang) -> str:
    """The name of a topic or an area (the id itself for anything else)."""
    if topic_id in TOPIC_IDS:
        return topic(topic_id).name.get(lang)
    area = _AREA_NAMES.get(topic_id)
    return area.get(lang) if area is not None else topic_id


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def points_en(points: int) -> str:
    return f"{points} point" if points == 1 else f"{points} points"


def points_text(points: int, lang: Lang) -> str:
    """`1 point`, `3 points`, `3 分`."""
    return f"{points} 分" if lang == "zh" else points_en(points)


def points_note(outcome: AnswerOutcome) -> Localized:
    """What a counted answer earned, or why a right one earned nothing."""
    if outcome.points:
        return Localized(en=f"+{points_en(outcome.points)}", zh=f"+{outcome.points} 分")
    return {
        "hint": Localized(en="No points: the hint cost them.", zh="不加分：提示扣掉了本题的分。"),
        "seen": Localized(
            en="No points: you answered this question in the last 30 days and saw its solution.",
            zh="不加分：你在过去 30 天内答过这道题，已经看过解答。",
        ),
        "self_rated": Localized(
            en="Self-rated questions count for accuracy and review, not points.",
            zh="自评题计入正确率和复习，不计分。",
        ),
    }.get(
        outcome.unpaid or "repeat",
        Localized(
            en="No points: this question already earned you points in the last 30 days.",
            zh="不加分：这道题在过去 30 天内已经给你加过分。",
        ),
    )


def error_text(error: BaseException, lang: Lang) -> str:
    """A one-line, localised explanation of a domain error."""
    if isinstance(error, UnknownTopic):
        known = sorted(AREA_IDS | TOPIC_IDS)
        return Localized(
            en=f"⚠️ Unknown topic `{error.topic}`. Known: {', '.join(known)}.",
            zh=f"⚠️ 没有这个主题：`{error.topic}`。可选：{'、'.join(known)}。",
        ).get(lang)
    if isinstance(error, NoQuestionFound):
        return Localized(
            en="⚠️ No question matches that topic, kind and difficulty; try fewer filters.",
            zh="⚠️ 没有符合该主题、题型和难度的题目，请减少筛选条件再试。",
        ).get(lang)
    if isinstance(error, UnknownQuestion):
        return Localized(
            en=f"⚠️ This question ({error.ref}) is no longer available.",
            zh=f"⚠️ 这道题（{error.ref}）已不可用。",
        ).get(lang)
    if isinstance(error, ForgedComponent):
        return Localized(
            en="⚠️ That button is not one of this message's buttons; nothing was done.",
            zh="⚠️ 这个按钮不属于这条消息，未做任何操作。",
        ).get(lang)
    if isinstance(error, WrongKind):
        return Localized(
            en="⚠️ That action does not apply to this question.",
            zh="⚠️ 这个操作不适用于这道题。",
        ).get(lang)
    if isinstance(error, AnswerFormatError):
        return unreadable(error.expected_form).get(lang)
    if isinstance(error, StorageUnavailable):
        return Localized(
            en="⚠️ Could not save that: the bot's storage is full or read-only right now. "
            "Nothing was counted; please try again later.",
            zh="⚠️ 无法保存：机器人的存储空间已满或只读。本次没有计入，请稍后再试。",
        ).get(lang)
    if isinstance(error, BadTime):
        return Localized(
            en=f"⚠️ `{error.text}` is not a time: use HH:MM in UTC, e.g. 09:30.",
            zh=f"⚠️ `{error.text}` 不是有效时间：请用 HH:MM（UTC），例如 09:30。",
        ).get(lang)
    if isinstance(error, InterviewError):
        return f"⚠️ {interview_error(error).get(lang)}"
    if isinstance(error, DomainError):
        return f"⚠️ {error}"
    return SOMETHING_WRONG.get(lang)


def grade_text(grade: Grade) -> Localized:
    """The feedback on an answer, beginning with its verdict's marker: a numeric answer's
    (bot/shared/feedback.py), else worded here from what the grade says (a letter and why, a
    self-rating)."""
    if grade.numeric:
        return numeric_feedback(grade)
    marker = grade.verdict.marker
    if grade.rating is not None:
        name = RATING_NAMES[SelfRating(grade.rating)]
        return Localized(en=f"{marker} Rated: {grade.rating}.", zh=f"{marker} 自评：{name.zh}。")
    if grade.verdict is Verdict.UNREADABLE:
        return unreadable(grade.expected_form)
    letter, expected = grade.picked or "?", grade.expected or "?"
    why_en = _VERDICT_EN.sub("", grade.why.en, count=1) if grade.why else ""
    why_zh = _VERDICT_ZH.sub("", grade.why.zh, count=1) if grade.why else ""
    if grade.correct:
        return Localized(
            en=f"{marker} Correct: {letter}. {why_en}".rstrip(),
            zh=f"{marker} 正确：{letter}。{why_zh}",
        )
    # why this option is wrong first, then the right letter
    return Localized(
        en=f"{marker} {letter} is not right{': ' + why_en if why_en else '.'}"
        f" The answer is {expected}.",
        zh=f"{marker} {letter} 不对{'：' + why_zh if why_zh else '。'}正确答案是 {expected}。",
    )


# A `why` may open with its own verdict ("Correct: ..."); the feedback already has one.
_VERDICT_EN = re.compile(r"^(correct|right|wrong|incorrect)\s*[.:!,;—-]\s*", re.IGNORECASE)
_VERDICT_ZH = re.compile(r"^(正确|对|错误|错)\s*[。：:！，,;；—-]\s*")


def interview_error(error: InterviewError) -> Localized:
    """What an interview refusal tells the user (its `code` says which)."""
    if error.code == "topic":  # the known ones too, as `/question` says them
        known = sorted(AREA_IDS | TOPIC_IDS)
        return Localized(
            en=f"Unknown topic: {', '.join(error.topics)}. Known: {', '.join(known)}.",
            zh=f"未知主题：{'、'.join(error.topics)}。可选：{'、'.join(known)}。",
        )
    return _INTERVIEW_ERRORS.get(error.code, SOMETHING_WRONG)


_INTERVIEW_ERRORS: dict[str, Localized] = {
    "unknown": Localized(en="No such interview.", zh="没有这场面试。"),
    "not_yours": Localized(en="This is someone else's interview.", zh="这是别人的面试。"),
    "questions": Localized(
        en=f"An interview has {MIN_QUESTIONS} to {MAX_QUESTIONS} questions.",
        zh=f"一场面试有 {MIN_QUESTIONS} 到 {MAX_QUESTIONS} 道题。",
    ),
    "minutes": Localized(
        en=f"Allow {MIN_MINUTES} to {MAX_MINUTES} minutes per question.",
        zh=f"每道题的时间为 {MIN_MINUTES} 到 {MAX_MINUTES} 分钟。",
    ),
    "active": Localized(
        en="You already have an interview running: the interview's `status` command shows its"
        " question again, and `stop` ends it.",
        zh="你已有一场进行中的面试：用面试的 `status` 命令可再次查看当前题目，用 `stop` 结束它。",
    ),
    "over": Localized(en="That question is over.", zh="这道题已经结束了。"),
    "ended": Localized(en="This interview has ended.", zh="这场面试已经结束。"),
    "gone": Localized(en="No hint for this question.", zh="这道题没有提示。"),
}


def expired_text(expired: Expired) -> Localized:
    """A question whose time ran out: a late answer does not count (how it would have been
    graded), then the solution."""
    label = question_label(expired.number, expired.follow_up)
    en = [f"⏰ Time ran out on {label.en}."]
    zh = [f"⏰ {label.zh}超时。"]
    if expired.late:
        en[0] = f"⏰ Time had run out on {label.en}: this answer came late and does not count."
        zh[0] = f"⏰ {label.zh}已超时：这个答案来得太晚，不计入成绩。"
        if expired.grade is not None:
            feedback = grade_text(expired.grade)
            en.append(feedback.en)
            zh.append(feedback.zh)
    if expired.solution is not None:
        solution = solution_text(expired.solution)
        en.append(solution.en)
        zh.append(solution.zh)
    return Localized(en="\n".join(en), zh="\n".join(zh))


def solution_text(solution: Solution) -> Localized:
    """The answer and how to get it: `Solution: ...` (numeric), the model answer and its key
    points (open), `The answer is B.` and why (multiple choice)."""
    if solution.kind is Kind.NUMERIC and solution.worked is not None:
        worked = solution.worked
        return Localized(en=f"Solution: {worked.en}", zh=f"解答：{worked.zh}")
    if solution.kind is Kind.OPEN:
        answer = solution.model_answer
        en = [f"Model answer: {answer.en}"] if answer else []
        zh = [f"参考答案：{answer.zh}"] if answer else []
        if solution.key_points:
            en.append("Key points: " + "; ".join(p.en for p in solution.key_points) + ".")
            zh.append("要点：" + "；".join(p.zh for p in solution.key_points) + "。")
        return Localized(en="\n".join(en), zh="\n".join(zh))
    why = solution.why
    return Localized(
        en=f"The answer is {solution.answer}." + (f" {why.en}" if why else ""),
        zh=f"正确答案是 {solution.answer}。" + (why.zh if why else ""),
    )


def hint_text(hint: Hint) -> Localized:
    """💡 the first step of a worked solution, a key point, or a wrong option ruled out (a
    hint shown again says it cost nothing)."""
    if hint.kind is Kind.NUMERIC and hint.text is not None:
        text = Localized(
            en=f"💡 Start from: {hint.text.en}",
            zh=f"💡 提示：{hint.text.zh}",
        )
    elif hint.kind is Kind.OPEN and hint.text is not None:
        text = Localized(
            en=f"💡 Think about: {hint.text.en}", zh=f"💡 可以从这里想：{hint.text.zh}"
        )
    else:
        why_en = f" {hint.text.en}" if hint.text else ""
        why_zh = hint.text.zh if hint.text else ""
        text = Localized(
            en=f"💡 It is not {hint.ruled_out}.{why_en}",
            zh=f"💡 不是 {hint.ruled_out}。{why_zh}",
        )
    if not hint.repeated:
        return text
    return Localized(
        en=f"{text.en} (shown again: no extra cost)", zh=f"{text.zh}（重复的提示，不再扣分）"
    )


def question_label(number: int, follow_up: bool) -> Localized:
    """`Q3`, or `Q3 follow-up` for the follow-up after question 3."""
    if follow_up:
        return Localized(en=f"Q{number} follow-up", zh=f"第 {number} 题追问")
    return Localized(en=f"Q{number}", zh=f"第 {number} 题")


def item_label(interview: Interview, item: Item) -> Localized:
    """An interview question's label (`Q3`, `Q3 follow-up`)."""
    return question_label(interview.number(item), item.follow_up)


def item_position(interview: Interview, item: Item) -> Localized:
    """Where a question stands, for its header: `Q3 of 4`, or `Q3 follow-up`."""
    if item.follow_up:
        return item_label(interview, item)
    number = interview.number(item)
    return Localized(
        en=f"Q{number} of {interview.planned}", zh=f"第 {number} 题（共 {interview.planned} 题）"
    )


def timing_label(timing: Timing) -> Localized:
    """A report row's label (`Q3`, `Q3 follow-up`)."""
    return question_label(timing.number, timing.follow_up)


def short_label(timing: Timing) -> str:
    """`Q3`, or `Q3+` for its follow-up (a chart's ticks)."""
    return f"Q{timing.number}{'+' if timing.follow_up else ''}"


def count_text(questions: int, follow_ups: int) -> Localized:
    """`4 questions + 1 follow-up` (no follow-up part when there were none)."""
    en = f"{questions} question{'' if questions == 1 else 's'}"
    zh = f"{questions} 道题"
    if follow_ups:
        en += f" + {follow_ups} follow-up{'' if follow_ups == 1 else 's'}"
        zh += f" + {follow_ups} 道追问"
    return Localized(en=en, zh=zh)


def report_count(report: Report) -> Localized:
    """How many questions an interview showed: `4 questions + 1 follow-up`."""
    return count_text(report.questions, report.follow_ups)


def review_title(entry: ReviewEntry) -> Localized:
    """`Topic · “the question's first words…”`, or `Topic · numeric` for a family."""
    name = (
        topic(entry.topic).name
        if entry.topic in TOPIC_IDS
        else Localized(en=entry.topic, zh=entry.topic)
    )
    if entry.numeric:
        return Localized(en=f"{name.en} · numeric", zh=f"{name.zh} · 计算题")
    if entry.text is None:
        return name
    return Localized(
        en=f"{name.en} · “{_excerpt(entry.text.en)}”",
        zh=f"{name.zh} · “{_excerpt(entry.text.zh)}”",
    )


def clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with an ellipsis if it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


SOMETHING_WRONG = Localized(
    en="⚠️ Something went wrong on our side; it has been logged. Please try again.",
    zh="⚠️ 我们这边出了点问题，已记录日志，请稍后再试。",
)


# mock interviews

OUTCOME_NAMES: dict[Outcome, Localized] = {
    Outcome.CORRECT: Localized(en="correct", zh="正确"),
    Outcome.INCORRECT: Localized(en="incorrect", zh="错误"),
    Outcome.TIMEOUT: Localized(en="timed out", zh="超时"),
    Outcome.UNANSWERED: Localized(en="not answered", zh="未作答"),
}


def report_summary(report: Report, lang: Lang, bold: bool = False) -> str:
    """`2/3 correct · 1 timed out · 4 questions + 1 follow-up · 3 points · 1 hint`: the
    answered count is the one `stats` counts (a timed-out question is not an answer)."""
    b = "**" if bold else ""
    en = [f"{b}{report.correct}/{report.answered}{b} correct"]
    zh = [f"答对 {b}{report.correct}/{report.answered}{b}"]
    if report.timed_out:
        en.append(f"{report.timed_out} timed out")
        zh.append(f"超时 {report.timed_out} 题")
    if report.unanswered:
        en.append(f"{report.unanswered} not answered")
        zh.append(f"未作答 {report.unanswered} 题")
    count = report_count(report)
    en += [count.en, f"{b}{points_en(report.points)}{b}"]
    zh += [count.zh, f"{b}{report.points}{b} 分"]
    en.append(f"{report.hints} hint" + ("" if report.hints == 1 else "s"))
    zh.append(f"提示 {report.hints} 次")
    return Localized(en=" · ".join(en), zh=" · ".join(zh)).get(lang)
