"""What questions, feedback, stats and leaderboards look like in Discord."""

from __future__ import annotations

import discord

from bot.core.models import (
    LETTERS,
    AnswerOutcome,
    Difficulty,
    InstanceCounts,
    Kind,
    Lang,
    Leaderboard,
    Question,
    ServedQuestion,
    UserStats,
    Verdict,
)
from bot.core.rubric import RubricResult
from bot.core.services.answering import SelfRating
from bot.discord._actions import ANSWER, OPEN_ANSWER, OPEN_SUBMIT, PICK, RATE, REVEAL, SUBMIT
from bot.discord._router import stopped
from bot.shared.rubric_texts import (
    CONFIRM_RATING,
    MODAL_LABEL,
    MODAL_PLACEHOLDER,
    MODAL_TITLE,
    MODEL_ANSWER,
    NO_RUBRIC,
    breakdown_lines,
)
from bot.shared.texts import (
    DIFFICULTY_NAMES,
    KIND_NAMES,
    RATING_NAMES,
    grade_text,
    percent,
    points_en,
    points_note,
    points_text,
    topic_name,
)
from bot.shared.texts import clip as shared_clip

MESSAGE_LIMIT = 2000
FOOTER_SEPARATOR = " · "  # a question's footer: `Ref REF · N answered, M correct`
# How a footer presents the question's reference (users quote it to report a question).
REF_LABEL: dict[Lang, str] = {"en": "Ref ", "zh": "编号："}
_ZH_ANSWERED = "人作答"  # in the Chinese count, which is how a footer tells its language
DESCRIPTION_LIMIT = 4096
COLOURS = {
    Difficulty.EASY: discord.Colour.green(),
    Difficulty.MEDIUM: discord.Colour.gold(),
    Difficulty.HARD: discord.Colour.red(),
}


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return shared_clip(text, limit)


def t(lang: Lang, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def counts_line(counts: InstanceCounts | None, lang: Lang) -> str:
    answered = counts.answered if counts else 0
    correct = counts.correct if counts else 0
    return t(
        lang,
        f"{answered} answered, {correct} correct",
        f"{answered} {_ZH_ANSWERED}，{correct} 人答对",
    )


def question_embed(
    served: ServedQuestion, lang: Lang, counts: InstanceCounts | None = None
) -> discord.Embed:
    title = " · ".join(
        [
            topic_name(served.topic, lang),
            KIND_NAMES[served.kind].get(lang),
            DIFFICULTY_NAMES[served.difficulty].get(lang),
        ]
    )
    body = served.text.get(lang)
    if served.choices:
        options = "\n".join(
            f"**{LETTERS[i]}.** {choice.get(lang)}" for i, choice in enumerate(served.choices)
        )
        body = f"{body}\n\n{options}"
    if served.kind is Kind.NUMERIC:
        body += "\n\n" + t(
            lang,
            "Press **Answer** and type a number, a fraction or a list.",
            "点击 **作答**，输入数字、分数或列表。",
        )
    embed = discord.Embed(
        title=clip(title, 256),
        description=clip(body, DESCRIPTION_LIMIT),
        colour=COLOURS[served.difficulty],
    )
    embed.set_footer(text=question_footer(served.ref, counts, lang))
    return embed


def ref_text(ref: str, lang: Lang) -> str:
    """A question's reference as users see it: `Ref conv_output:658083`, `编号：…`."""
    return f"{REF_LABEL[lang]}{ref}"


def question_footer(ref: str, counts: InstanceCounts | None, lang: Lang) -> str:
    return f"{ref_text(ref, lang)}{FOOTER_SEPARATOR}{counts_line(counts, lang)}"


def posted_question(message: discord.Message | None) -> tuple[str, Lang] | None:
    """The question reference and language a posted question's message shows in its footer
    (`Ref REF · N answered, M correct`, or `REF · ...` on messages posted before the label);
    None for any other message."""
    text = message.embeds[0].footer.text if message is not None and message.embeds else None
    if not text or FOOTER_SEPARATOR not in text:
        return None
    shown, counts = text.split(FOOTER_SEPARATOR, 1)
    ref = shown.removeprefix(REF_LABEL["en"]).removeprefix(REF_LABEL["zh"])
    return (ref, "zh" if _ZH_ANSWERED in counts else "en") if ref else None


def question_view(served: ServedQuestion, instance_id: int, lang: Lang) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if served.kind is Kind.MCQ:
        for index in range(len(served.choices)):
            letter = LETTERS[index]
            view.add_item(
                discord.ui.Button(
                    label=letter,
                    style=discord.ButtonStyle.secondary,
                    custom_id=PICK.id(instance_id, letter),
                )
            )
    elif served.kind is Kind.NUMERIC:
        view.add_item(
            discord.ui.Button(
                label=t(lang, "Answer", "作答"),
                style=discord.ButtonStyle.primary,
                custom_id=ANSWER.id(instance_id),
            )
        )
    else:
        view.add_item(
            discord.ui.Button(
                label=t(lang, "Answer", "作答"),
                style=discord.ButtonStyle.primary,
                custom_id=OPEN_ANSWER.id(instance_id),
            )
        )
        view.add_item(
            discord.ui.Button(
                label=t(lang, "Show model answer", "查看参考答案"),
                style=discord.ButtonStyle.secondary,
                custom_id=REVEAL.id(instance_id),
            )
        )
    return stopped(view)


def open_answer_modal(instance_id: int, lang: Lang, ref: str) -> discord.ui.Modal:
    return open_answer_modal_for(OPEN_SUBMIT.id(instance_id), lang, ref)


def open_answer_modal_for(modal_id: str, lang: Lang, ref: str) -> discord.ui.Modal:
    """The paragraph modal of an open question's Answer button (handled by the router)."""
    modal = discord.ui.Modal(
        title=clip(f"{MODAL_TITLE.get(lang)} · {ref}", 45),
        custom_id=modal_id,
        timeout=None,
    )
    modal.add_item(
        discord.ui.TextInput(
            label=clip(MODAL_LABEL.get(lang), 45),
            custom_id="answer",
            style=discord.TextStyle.paragraph,
            placeholder=MODAL_PLACEHOLDER.get(lang),
            max_length=4000,
            required=True,
        )
    )
    modal.stop()
    return modal


def checked_answer_reply(
    question: Question, result: RubricResult | None, lang: Lang
) -> tuple[str, discord.Embed]:
    """The ephemeral reply to a typed open answer: the key points ✅/⬜ with the coverage and
    the suggested rating (or that the question has no rubric yet), and the model answer."""
    if result is None:
        lines = [NO_RUBRIC.get(lang)]
        if question.key_points:
            lines.append(f"**{t(lang, 'Key points', '要点')}**")
            lines.extend(f"• {point.get(lang)}" for point in question.key_points)
    else:
        head, *points, coverage, limits = breakdown_lines(question, result, lang)
        lines = [f"**{head}**", *points, f"**{coverage}**", f"-# {limits}"]
    lines.append(
        CONFIRM_RATING.get(lang) if result else t(lang, "How did you do?", "你答得怎么样？")
    )
    answer = question.model_answer.get(lang) if question.model_answer is not None else ""
    embed = discord.Embed(
        title=MODEL_ANSWER.get(lang).rstrip(":："),
        description=clip(answer, 4000),
        colour=discord.Colour.blurple(),
    )
    return clip("\n".join(lines)), embed


def answer_modal(instance_id: int, lang: Lang, ref: str) -> discord.ui.Modal:
    return answer_modal_for(SUBMIT.id(instance_id), lang, ref)


def answer_modal_for(modal_id: str, lang: Lang, ref: str) -> discord.ui.Modal:
    """The one-text-input modal of a numeric answer; the router handles its submission (so
    it survives a restart), hence a stopped modal discord.py does not keep."""
    modal = discord.ui.Modal(
        title=clip(t(lang, f"Your answer · {ref}", f"你的答案 · {ref}"), 45),
        custom_id=modal_id,
        timeout=None,
    )
    modal.add_item(
        discord.ui.TextInput(
            label=t(lang, "Answer", "答案"),
            custom_id="answer",
            placeholder=t(
                lang,
                "e.g. 34944, 0.25, 1/4, [0.9, 0.1] or 64x55x55",
                "例如 34944、0.25、1/4、[0.9, 0.1] 或 64x55x55",
            ),
            max_length=200,
            required=True,
        )
    )
    modal.stop()
    return modal


def outcome_text(outcome: AnswerOutcome, lang: Lang) -> str:
    """Feedback for the answering user: verdict first, then the explanation or solution."""
    parts = [grade_text(outcome.grade).get(lang)]
    if outcome.grade.verdict is Verdict.UNREADABLE:
        parts.append(t(lang, "This did not count; try again.", "本次不计入作答，请再试一次。"))
        return clip("\n".join(parts))
    if not outcome.counted and outcome.previous_correct is not None:
        first = Verdict.CORRECT if outcome.previous_correct else Verdict.INCORRECT
        parts.append(
            t(
                lang,
                f"You had already answered this question ({first.marker}); only your first "
                "answer counts.",
                f"你已经答过这道题（{first.marker}），只有第一次作答计分。",
            )
        )
    elif outcome.counted and (outcome.points or outcome.grade.correct):
        parts.append(f"**{points_note(outcome).get(lang)}**")
    if outcome.explanation is not None:
        parts.append(outcome.explanation.get(lang))
    return clip("\n\n".join(parts))


def model_answer_text(question: Question, lang: Lang) -> str:
    lines = [f"**{t(lang, 'Model answer', '参考答案')}**"]
    if question.model_answer is not None:
        lines.append(question.model_answer.get(lang))
    if question.key_points:
        lines.append(f"**{t(lang, 'Key points', '要点')}**")
        lines.extend(f"• {point.get(lang)}" for point in question.key_points)
    lines.append(t(lang, "How did you do?", "你答得怎么样？"))
    return clip("\n".join(lines))


RATING_LABELS = RATING_NAMES


def rating_view(instance_id: int, lang: Lang, suggested: str | None = None) -> discord.ui.View:
    """Again/Hard/Good/Easy; the `suggested` one (a checked open answer) stands out."""
    view = discord.ui.View(timeout=None)
    for rating, label in RATING_LABELS.items():
        text = label.get(lang)
        if rating.value == suggested:
            style = discord.ButtonStyle.success
            text = t(lang, f"{text} (suggested)", f"{text}（建议）")
        elif rating is SelfRating.AGAIN:
            style = discord.ButtonStyle.danger
        else:
            style = discord.ButtonStyle.secondary
        view.add_item(
            discord.ui.Button(label=text, style=style, custom_id=RATE.id(instance_id, rating))
        )
    return stopped(view)


def stats_embed(stats: UserStats, lang: Lang, due: int | None = None) -> discord.Embed:
    answered = stats.answered
    summary = t(
        lang,
        f"**{stats.points}** {'point' if stats.points == 1 else 'points'} · "
        f"{stats.correct}/{answered} correct "
        f"({percent(stats.accuracy if answered else None)}) · streak {stats.streak} "
        f"(best {stats.best_streak})",
        f"**{stats.points}** 分 · 答对 {stats.correct}/{answered}"
        f"（{percent(stats.accuracy if answered else None)}）· 连续 {stats.streak} 天"
        f"（最长 {stats.best_streak} 天）",
    )
    if due is not None:
        summary += t(lang, f" · {due} due for review", f" · {due} 道待复习")
    embed = discord.Embed(
        title=stats.user.name, description=summary, colour=discord.Colour.blurple()
    )
    for row in stats.by_topic[:25]:
        embed.add_field(
            name=topic_name(row.topic, lang),
            value=t(
                lang,
                f"{points_text(row.points, lang)} · {row.correct}/{row.answered} "
                f"({percent(row.accuracy)})",
                f"{points_text(row.points, lang)} · {row.correct}/{row.answered}"
                f"（{percent(row.accuracy)}）",
            ),
            inline=True,
        )
    if not stats.by_topic:
        embed.add_field(
            name="—",
            value=t(lang, "No answers yet: try `/question`.", "还没有作答记录：试试 `/question`。"),
        )
    return embed


def leaderboard_embed(board: Leaderboard, lang: Lang) -> discord.Embed:
    scope = (
        t(lang, "This server", "本服务器")
        if board.scope.value == "server"
        else t(lang, "Global", "全局")
    )
    period = {
        "week": t(lang, "this week", "本周"),
        "month": t(lang, "this month", "本月"),
        "all": t(lang, "all time", "全部时间"),
    }[board.period.value]
    title = f"🏆 {scope} · {period}"
    if board.topic:
        title += f" · {topic_name(board.topic, lang)}"
    lines = []
    for entry in board.top:
        lines.append(
            f"`{entry.rank:>2}.` **{discord.utils.escape_markdown(entry.name)}** — "
            + f"{points_text(entry.points, lang)} · {percent(entry.accuracy)} · 🔥{entry.streak}"
        )
    if not lines:
        lines.append(t(lang, "Nobody has points here yet.", "这里还没有人得分。"))
    me = board.me
    if me is not None:
        lines.append(
            t(
                lang,
                f"\nYou: #{me.rank} with {points_en(me.points)}",
                f"\n你：第 {me.rank} 名，{me.points} 分",
            )
        )
    else:
        lines.append(t(lang, "\nYou are not ranked yet.", "\n你还没有上榜。"))
    return discord.Embed(title=title, description="\n".join(lines), colour=discord.Colour.gold())
