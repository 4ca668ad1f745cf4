"""What a quiz round looks like in Discord (issue #17): the posted question, the private
"locked in", the reveal that edits the question, the standings. Pure functions of the round's
data; `ext/quiz.py` sends them.

Public messages (question, reveal, standings) are in the round's language; the ephemeral
replies to a click or a modal in each user's own language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.core.models import LETTERS, Kind, Lang, Localized, ServedQuestion
from bot.core.quiz import QuizQuestion, QuizRound, QuizStatus, Reveal, StandingRow
from bot.core.services.quiz import AnswerCode, Answered
from bot.discord._render import COLOURS, answer_modal_for, clip, ref_text, t
from bot.discord._router import Action, an_id, one_of, stopped
from bot.shared.feedback import expected_zh, form_text
from bot.shared.texts import DIFFICULTY_NAMES, KIND_NAMES, percent, points_text, topic_name

#: An option of a quiz question: (question instance, letter).
QZ_PICK = Action("qzpick", (an_id, one_of(LETTERS)))
#: The Answer button of a numeric quiz question: (question instance,).
QZ_ANSWER = Action("qzans", (an_id,))
#: The modal that Answer button opens; only from a message carrying that button.
QZ_SUBMIT = Action("qzsub", (an_id,), shown=QZ_ANSWER)

MEDALS = ("🥇", "🥈", "🥉")
BAR_WIDTH = 12
NAMES_SHOWN = 15  # who was right: names listed before "and N more"
STANDINGS_SHOWN = 20
EXPLANATION_LIMIT = 700
STANDINGS_FILE = "standings.png"
QUIZ_COLOUR = discord.Colour.teal()


def stamp(moment: datetime) -> str:
    """A Discord relative timestamp (`in 20 seconds`), drawn by each client: no edits."""
    return f"<t:{int(moment.timestamp())}:R>"


def name_of(name: str) -> str:
    return discord.utils.escape_markdown(discord.utils.escape_mentions(name))


def position(question: QuizQuestion, total: int, lang: Lang) -> str:
    """`Question 3/10`."""
    return t(lang, f"Question {question.index + 1}/{total}", f"第 {question.index + 1}/{total} 题")


def _title(question: QuizQuestion, served: ServedQuestion, total: int, lang: Lang) -> str:
    parts = [
        position(question, total, lang),
        topic_name(served.topic, lang),
        KIND_NAMES[served.kind].get(lang),
        DIFFICULTY_NAMES[served.difficulty].get(lang),
    ]
    return clip(" · ".join(parts), 256)


def _body(served: ServedQuestion, lang: Lang) -> str:
    body = served.text.get(lang)
    if served.choices:
        options = "\n".join(
            f"**{LETTERS[i]}.** {choice.get(lang)}" for i, choice in enumerate(served.choices)
        )
        body = f"{body}\n\n{options}"
    return body


def footer(round_: QuizRound, served: ServedQuestion, lang: Lang) -> str:
    """`Ref REF · quiz #7`: the reference users quote, and the round."""
    return f"{ref_text(served.ref, lang)} · " + t(lang, f"quiz #{round_.id}", f"抢答 #{round_.id}")


def question_embed(
    round_: QuizRound, question: QuizQuestion, served: ServedQuestion
) -> discord.Embed:
    lang = round_.lang
    body = _body(served, lang)
    if served.kind is Kind.NUMERIC:
        body += "\n\n" + t(
            lang,
            "Press **Answer** and type a number, a fraction or a list.",
            "点击 **作答**，输入数字、分数或列表。",
        )
    else:
        body += "\n\n" + t(lang, "Pick a letter below.", "点击下方的字母作答。")
    embed = discord.Embed(
        title=_title(question, served, round_.settings.questions, lang),
        description=clip(body, 4000),
        colour=COLOURS[served.difficulty],
    )
    embed.add_field(
        name=t(lang, "Time", "时间"),
        value=t(
            lang,
            f"ends {stamp(question.deadline)} · your first answer counts, and stays private "
            "until the reveal",
            f"{stamp(question.deadline)}截止 · 只有第一次作答计分，揭晓前别人看不到你的答案",
        ),
        inline=False,
    )
    embed.set_footer(text=footer(round_, served, lang))
    return embed


def question_view(
    question: QuizQuestion, served: ServedQuestion, lang: Lang, expected: str | None = None
) -> discord.ui.View:
    """The lettered buttons (or Answer); `expected` given: the reveal's view, every button
    disabled and the right letter green. Disabled buttons keep their custom_id, so a late
    modal from a stale client is told it is too late (not refused as forged)."""
    view = discord.ui.View(timeout=None)
    revealed = expected is not None
    if served.kind is Kind.MCQ:
        for index in range(len(served.choices)):
            letter = LETTERS[index]
            right = revealed and letter == expected
            view.add_item(
                discord.ui.Button(
                    label=letter,
                    style=discord.ButtonStyle.success if right else discord.ButtonStyle.secondary,
                    custom_id=QZ_PICK.id(question.instance_id, letter),
                    disabled=revealed,
                )
            )
    else:
        view.add_item(
            discord.ui.Button(
                label=t(lang, "Answer", "作答"),
                style=discord.ButtonStyle.primary,
                custom_id=QZ_ANSWER.id(question.instance_id),
                disabled=revealed,
            )
        )
    return stopped(view)


def answer_modal(instance_id: int, lang: Lang, ref: str) -> discord.ui.Modal:
    return answer_modal_for(QZ_SUBMIT.id(instance_id), lang, ref)


# -- the private replies ----------------------------------------------------------------------


def answered_text(answered: Answered, given: str, lang: Lang) -> str:
    """The ephemeral reply to an answer: nothing about right or wrong before the reveal."""
    shown = discord.utils.escape_markdown(clip(given.strip(), 60))
    code = answered.code
    if code is AnswerCode.LOCKED_IN:
        return t(
            lang,
            f"🔒 Locked in: **{shown}**. The answer is revealed when the time is up.",
            f"🔒 已锁定：**{shown}**。时间到后揭晓答案。",
        )
    if code is AnswerCode.ALREADY_ANSWERED:
        return t(
            lang,
            "🔒 You have already answered this question; only your first answer counts.",
            "🔒 你已经答过这道题，只有第一次作答计分。",
        )
    if code is AnswerCode.TOO_LATE:
        return t(
            lang,
            "⏰ Too late: this question is closed.",
            "⏰ 来晚了：这道题已经截止。",
        )
    if code is AnswerCode.UNREADABLE:  # worded as a question's answer outside a quiz is
        form = (
            form_text(answered.expected_form)
            if answered.expected_form
            else Localized(en="an answer", zh="一个答案")
        )
        return t(
            lang,
            f"⚠️ I could not read that answer. Expected {form.en}.\nThis did not count; try again.",
            f"⚠️ 无法识别这个答案。{expected_zh(form.zh)}。\n本次不计入作答，请再试一次。",
        )
    return t(
        lang,
        "This question is not part of a running quiz.",
        "这道题不属于进行中的抢答。",
    )


# -- the reveal -------------------------------------------------------------------------------


def bar(count: int, most: int, width: int = BAR_WIDTH) -> str:
    """A text bar of `count` out of `most` (the most chosen option fills it)."""
    filled = 0 if most <= 0 else round(width * count / most)
    if count and not filled:
        filled = 1
    return "█" * filled + "░" * (width - filled)


def seconds_text(seconds: float, lang: Lang) -> str:
    return t(lang, f"{seconds:.1f} s", f"{seconds:.1f} 秒")


def counts_block(reveal: Reveal, lang: Lang) -> str:
    """One line per option (letter, bar, count, ✅ on the right one); a numeric question: how
    many answered and were right."""
    answers = reveal.answers
    if reveal.served.kind is Kind.MCQ:
        most = max(reveal.counts.values(), default=0)
        lines = []
        for index in range(len(reveal.served.choices)):
            letter = LETTERS[index]
            count = reveal.counts.get(letter, 0)
            mark = " ✅" if letter == reveal.expected else ""
            lines.append(f"`{letter} {bar(count, most)}` {count}{mark}")
        return "\n".join(lines)
    right = len(reveal.right)
    wrong = len(answers) - right
    most = max(right, wrong)
    return "\n".join(
        [
            f"`✅ {bar(right, most)}` {right}",
            f"`❌ {bar(wrong, most)}` {wrong}",
        ]
    )


def names_line(names: Sequence[str], lang: Lang) -> str:
    shown = [f"**{name_of(n)}**" for n in names[:NAMES_SHOWN]]
    more = len(names) - len(shown)
    sep = t(lang, ", ", "、")
    text = sep.join(shown)
    if more > 0:
        text += t(lang, f" and {more} more", f" 等另外 {more} 人")
    return text


def reveal_embed(round_: QuizRound, reveal: Reveal) -> discord.Embed:
    lang = round_.lang
    served = reveal.served
    title = _title(reveal.question, served, reveal.total, lang)
    lines = [_body(served, lang), ""]
    expected = reveal.expected or "—"
    letters = LETTERS[: len(served.choices)]
    if served.kind is Kind.MCQ and reveal.expected is not None and reveal.expected in letters:
        choice = served.choices[LETTERS.index(reveal.expected)].get(lang)
        lines.append(
            t(lang, f"✅ **Answer: {expected}.** {choice}", f"✅ **答案：{expected}。**{choice}")
        )
    else:
        lines.append(t(lang, f"✅ **Answer: {expected}**", f"✅ **答案：{expected}**"))
    if reveal.explanation is not None:
        lines.append(clip(reveal.explanation.get(lang), EXPLANATION_LIMIT))
    embed = discord.Embed(
        title=title, description=clip("\n".join(lines), 4000), colour=discord.Colour.dark_grey()
    )
    answered = len(reveal.answers)
    embed.add_field(
        name=t(lang, f"Answers ({answered})", f"作答（{answered} 人）"),
        value=counts_block(reveal, lang)
        if answered
        else t(lang, "Nobody answered.", "没有人作答。"),
        inline=False,
    )
    right = reveal.right
    if right:
        first = right[0]
        embed.add_field(
            name=t(lang, f"Right ({len(right)})", f"答对（{len(right)} 人）"),
            value=clip(names_line([a.name for a in right], lang), 1024),
            inline=False,
        )
        embed.add_field(
            name=t(lang, "First", "最快"),
            value=t(
                lang,
                f"⚡ **{name_of(first.name)}** in {seconds_text(first.seconds, lang)} "
                f"(+{points_text(first.points, lang)})",
                f"⚡ **{name_of(first.name)}**，用时 {seconds_text(first.seconds, lang)}"
                f"（+{points_text(first.points, lang)}）",
            ),
            inline=False,
        )
    elif answered:
        embed.add_field(
            name=t(lang, "Right", "答对"),
            value=t(lang, "Nobody got it this time.", "这次没有人答对。"),
            inline=False,
        )
    embed.set_footer(text=footer(round_, served, lang))
    return embed


# -- the end ----------------------------------------------------------------------------------


def rank_mark(rank: int) -> str:
    return MEDALS[rank - 1] if rank <= len(MEDALS) else f"`{rank:>2}.`"


def standing_line(row: StandingRow, lang: Lang) -> str:
    return t(
        lang,
        f"{rank_mark(row.rank)} **{name_of(row.name)}** — {points_text(row.points, lang)} · "
        f"{row.correct}/{row.answered} ({percent(row.accuracy)}) · "
        f"avg {seconds_text(row.avg_seconds, lang)}",
        f"{rank_mark(row.rank)} **{name_of(row.name)}** — {points_text(row.points, lang)} · "
        f"答对 {row.correct}/{row.answered}（{percent(row.accuracy)}）· "
        f"平均 {seconds_text(row.avg_seconds, lang)}",
    )


def standings_embed(
    round_: QuizRound, standings: Sequence[StandingRow], chart: bool
) -> discord.Embed:
    lang = round_.lang
    stopped_early = round_.status.value == "stopped"
    title = (
        t(lang, "🛑 Quiz stopped · standings so far", "🛑 抢答已结束 · 目前排名")
        if stopped_early
        else t(lang, "🏁 Quiz over · standings", "🏁 抢答结束 · 最终排名")
    )
    lines = [standing_line(row, lang) for row in standings[:STANDINGS_SHOWN]]
    if len(standings) > STANDINGS_SHOWN:
        more = len(standings) - STANDINGS_SHOWN
        lines.append(t(lang, f"… and {more} more", f"……另有 {more} 人"))
    if not lines:
        lines.append(t(lang, "Nobody answered.", "没有人作答。"))
    else:
        lines.append(
            "\n"
            + t(
                lang,
                "Misses are in each player's `/review`. These are the round's points;"
                " `/leaderboard` counts a question once in 30 days, so one answered lately"
                " adds nothing there.",
                "答错的题已加入各自的 `/review`。以上是本轮得分；`/leaderboard` 中同一道题"
                " 30 天内只计一次分，最近答过的题在那里不再加分。",
            )
        )
    embed = discord.Embed(title=title, description=clip("\n".join(lines), 4000), colour=QUIZ_COLOUR)
    if chart:
        embed.set_image(url=f"attachment://{STANDINGS_FILE}")
    embed.set_footer(text=t(lang, f"quiz #{round_.id}", f"抢答 #{round_.id}"))
    return embed


# -- commands ---------------------------------------------------------------------------------


def settings_line(round_: QuizRound, lang: Lang) -> str:
    settings = round_.settings
    topic = (
        topic_name(settings.topic, lang) if settings.topic else t(lang, "all topics", "全部主题")
    )
    parts = [
        topic,
        t(
            lang,
            f"{settings.questions} question{'' if settings.questions == 1 else 's'}",
            f"{settings.questions} 题",
        ),
        t(lang, f"{settings.seconds} s each", f"每题 {settings.seconds} 秒"),
    ]
    if settings.difficulty is not None:
        parts.append(DIFFICULTY_NAMES[settings.difficulty].get(lang))
    return " · ".join(parts)


def started_text(round_: QuizRound, host: str, lang: Lang) -> str:
    return t(
        lang,
        f"🎯 **Quiz #{round_.id}** started by **{name_of(host)}**: {settings_line(round_, lang)}. "
        "Answer with the buttons; answers stay private until each reveal.",
        f"🎯 **{name_of(host)}** 开始了 **抢答 #{round_.id}**：{settings_line(round_, lang)}。"
        "用按钮作答；每题揭晓前答案保密。",
    )


def capped_text(asked: int, has: int, lang: Lang) -> str:
    """Fewer distinct questions match than the host asked for: the round is shorter."""
    if has == 1:
        en = f"Only 1 question matches (you asked for {asked}): the round has 1 question."
    else:
        en = f"Only {has} questions match (you asked for {asked}): the round has {has}."
    return t(lang, en, f"只有 {has} 道题符合条件（你要了 {asked} 道）：本轮共 {has} 题。")


def message_link(guild_id: int | None, channel_id: str, message_id: str | None) -> str | None:
    """A jump link to a message of a server's channel (None without one)."""
    if guild_id is None or message_id is None:
        return None
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def already_running_text(
    round_: QuizRound, question: QuizQuestion | None, lang: Lang, guild_id: int | None = None
) -> str:
    where = ""
    if question is not None:
        place = position(question, round_.settings.questions, lang)
        link = message_link(guild_id, round_.channel_id, question.message_id)
        shown = f"[{place}]({link})" if link else place
        where = t(lang, f" ({shown})", f"（{shown}）")
    return t(
        lang,
        f"A quiz is already running in this channel: quiz #{round_.id}{where}. "
        "Answer its question; its host or a moderator can `/quiz stop` it.",
        f"这个频道已有进行中的抢答：抢答 #{round_.id}{where}。请作答；"
        "发起人或管理员可用 `/quiz stop` 结束。",
    )


def no_round_text(lang: Lang) -> str:
    return t(
        lang,
        "No quiz is running in this channel: `/quiz start`.",
        "这个频道没有进行中的抢答：使用 `/quiz start` 开始。",
    )


def not_allowed_text(lang: Lang) -> str:
    return t(
        lang,
        "⚠️ Only the host of this quiz or someone with Manage Server can stop it.",
        "⚠️ 只有本场抢答的发起人或拥有“管理服务器”权限的成员可以结束它。",
    )


def stopped_text(round_: QuizRound, lang: Lang) -> str:
    return t(
        lang,
        f"🛑 Quiz #{round_.id} stopped; the standings so far are below.",
        f"🛑 抢答 #{round_.id} 已结束，目前的排名见下方。",
    )


def status_text(status: QuizStatus, lang: Lang) -> str:
    round_, question = status.round, status.question
    lines = [
        f"**{t(lang, f'Quiz #{round_.id}', f'抢答 #{round_.id}')}** — {settings_line(round_, lang)}"
    ]
    if question is not None:
        state = (
            t(lang, "revealed", "已揭晓")
            if question.revealed
            else t(lang, f"ends {stamp(question.deadline)}", f"{stamp(question.deadline)}截止")
        )
        lines.append(
            f"{position(question, round_.settings.questions, lang)} · {state} · "
            + t(lang, f"{status.answered} answered", f"{status.answered} 人已作答")
        )
    if status.standings:
        lines.append("")
        lines.extend(standing_line(row, lang) for row in status.standings[:10])
    return clip("\n".join(lines))
