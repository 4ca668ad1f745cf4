"""What a quiz round looks like in Discord (bot/discord/_quiz.py): the posted question, the
private replies, the reveal and the standings, in English and Chinese; and its chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import (
    AnswerForm,
    Difficulty,
    FormShape,
    Kind,
    Lang,
    Localized,
    ServedQuestion,
)
from bot.core.quiz import (
    QuizAnswer,
    QuizQuestion,
    QuizRound,
    QuizSettings,
    Reveal,
    RoundStatus,
    StandingRow,
    standings,
)
from bot.core.services.quiz import AnswerCode, Answered
from bot.discord._quiz import (
    QZ_ANSWER,
    QZ_PICK,
    already_running_text,
    answered_text,
    bar,
    question_embed,
    question_view,
    reveal_embed,
    settings_line,
    standings_embed,
)
from bot.shared.charts import quiz_standings_chart, quiz_standings_figure

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
MCQ = ServedQuestion(
    ref="relu-dead",
    kind=Kind.MCQ,
    topic="activations",
    difficulty=Difficulty.MEDIUM,
    text=Localized(en="Why do ReLU units die?", zh="ReLU 单元为什么会死亡？"),
    choices=[
        Localized(en="Big negative bias", zh="很大的负偏置"),
        Localized(en="Too small inputs", zh="输入太小"),
        Localized(en="Dropout", zh="随机失活"),
    ],
)
NUMERIC = ServedQuestion(
    ref="conv_output:42",
    kind=Kind.NUMERIC,
    topic="conv_output",
    difficulty=Difficulty.EASY,
    text=Localized(en="Output width?", zh="输出宽度是多少？"),
    family="conv_output",
    seed=42,
)


def a_round(lang: Lang = "en", status: RoundStatus = RoundStatus.RUNNING) -> QuizRound:
    return QuizRound(
        id=7,
        platform="discord",
        channel_id="100",
        server_id=1,
        host_id=1,
        lang=lang,
        settings=QuizSettings(questions=10, seconds=20),
        status=status,
        current=2,
        created_at=T0,
    )


def a_question(kind: Kind = Kind.MCQ, index: int = 2) -> QuizQuestion:
    return QuizQuestion(
        round_id=7,
        index=index,
        instance_id=555,
        ref="relu-dead" if kind is Kind.MCQ else "conv_output:42",
        kind=kind,
        difficulty=Difficulty.MEDIUM,
        options=3 if kind is Kind.MCQ else 0,
        posted_at=T0,
        deadline=T0 + timedelta(seconds=20),
    )


def answer(user: int, name: str, choice: str, correct: bool, ms: int) -> QuizAnswer:
    return QuizAnswer(
        round_id=7,
        index=2,
        user_id=user,
        name=name,
        answer=choice,
        choice=choice,
        correct=correct,
        points=4 if correct else 0,
        answered_at=T0 + timedelta(milliseconds=ms),
        elapsed_ms=ms,
    )


ANSWERS = [
    answer(1, "bob", "B", False, 1500),
    answer(2, "alice", "A", True, 2300),
    answer(3, "carol", "A", True, 4100),
    answer(4, "dave", "C", False, 9000),
    answer(5, "erin", "A", True, 15000),
]


def a_reveal(answers: list[QuizAnswer] = ANSWERS) -> Reveal:
    counts = {letter: sum(a.choice == letter for a in answers) for letter in "ABC"}
    return Reveal(
        round_id=7,
        index=2,
        total=10,
        question=a_question(),
        served=MCQ,
        expected="A",
        explanation=Localized(
            en="A large negative bias keeps it off.", zh="很大的负偏置让它一直关闭。"
        ),
        counts=counts,
        answers=answers,
        last=False,
    )


def text_of(embed: object) -> str:
    import discord

    assert isinstance(embed, discord.Embed)
    parts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    for field in embed.fields:
        parts += [field.name or "", field.value or ""]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_posted_question_shows_its_place_countdown_and_lettered_buttons(lang: Lang) -> None:
    embed = question_embed(a_round(lang), a_question(), MCQ)
    text = text_of(embed)
    assert ("Question 3/10" if lang == "en" else "第 3/10 题") in text
    assert f"<t:{int((T0 + timedelta(seconds=20)).timestamp())}:R>" in text
    assert ("Ref relu-dead" if lang == "en" else "编号：relu-dead") in text
    assert MCQ.text.get(lang) in text and "**C.**" in text
    view = question_view(a_question(), MCQ, lang)
    buttons = [(b.label, b.custom_id, b.disabled) for b in view.children]  # type: ignore[attr-defined]
    assert buttons == [(x, QZ_PICK.id(555, x), False) for x in "ABC"]


def test_a_numeric_question_has_one_answer_button() -> None:
    view = question_view(a_question(Kind.NUMERIC), NUMERIC, "zh")
    [button] = view.children
    assert button.label == "作答" and button.custom_id == QZ_ANSWER.id(555)  # type: ignore[attr-defined]


def test_the_reveal_disables_the_buttons_and_keeps_their_ids() -> None:
    view = question_view(a_question(), MCQ, "en", expected="A")
    states = [(b.custom_id, b.disabled, b.style.name) for b in view.children]  # type: ignore[attr-defined]
    assert states == [
        (QZ_PICK.id(555, "A"), True, "success"),
        (QZ_PICK.id(555, "B"), True, "secondary"),
        (QZ_PICK.id(555, "C"), True, "secondary"),
    ]


def test_the_reveal_shows_counts_right_answer_who_was_right_and_first() -> None:
    text = text_of(reveal_embed(a_round(), a_reveal()))
    assert "✅ **Answer: A.** Big negative bias" in text
    assert "A large negative bias keeps it off." in text
    assert "`A ████████████` 3 ✅" in text
    assert "`B ████░░░░░░░░` 1" in text and "`C ████░░░░░░░░` 1" in text
    assert "Answers (5)" in text and "Right (3)" in text
    assert "**alice**, **carol**, **erin**" in text
    assert "⚡ **alice** in 2.3 s (+4 points)" in text


def test_the_reveal_in_chinese() -> None:
    text = text_of(reveal_embed(a_round("zh"), a_reveal()))
    assert "✅ **答案：A。**很大的负偏置" in text
    assert "作答（5 人）" in text and "答对（3 人）" in text
    assert "**alice**、**carol**、**erin**" in text
    assert "⚡ **alice**，用时 2.3 秒（+4 分）" in text


def test_a_reveal_nobody_answered() -> None:
    text = text_of(reveal_embed(a_round(), a_reveal([])))
    assert "Nobody answered." in text and "First" not in text


def test_bars_are_proportional_and_a_single_vote_shows() -> None:
    assert bar(0, 10) == "░" * 12
    assert bar(10, 10) == "█" * 12
    assert bar(5, 10) == "█" * 6 + "░" * 6
    assert bar(1, 100).startswith("█")


@pytest.mark.parametrize(
    ("code", "en", "zh"),
    [
        (AnswerCode.LOCKED_IN, "🔒 Locked in: **B**.", "🔒 已锁定：**B**。"),
        (AnswerCode.ALREADY_ANSWERED, "only your first answer counts", "只有第一次作答计分"),
        (AnswerCode.TOO_LATE, "Too late", "来晚了"),
        (AnswerCode.NO_ROUND, "not part of a running quiz", "不属于进行中的抢答"),
    ],
)
def test_private_replies_say_nothing_of_right_or_wrong(code: AnswerCode, en: str, zh: str) -> None:
    for lang, wanted in (("en", en), ("zh", zh)):
        text = answered_text(Answered(code=code, round_id=7, index=2), "B", lang)  # type: ignore[arg-type]
        assert wanted in text
        assert "✅" not in text and "❌" not in text


def test_a_late_answer_promises_no_next_question() -> None:
    """The round may be over (stopped, or that was its last question)."""
    for lang in ("en", "zh"):
        text = answered_text(Answered(code=AnswerCode.TOO_LATE), "B", lang)  # type: ignore[arg-type]
        assert "next" not in text and "下一题" not in text


def test_one_question_is_singular_and_stopping_is_for_the_host() -> None:
    one = a_round().model_copy(update={"settings": QuizSettings(questions=1, seconds=20)})
    assert "1 question ·" in settings_line(one, "en") and "1 questions" not in settings_line(
        one, "en"
    )
    assert "10 questions" in settings_line(a_round(), "en")
    text = already_running_text(a_round(), None, "en")
    assert "its host or a moderator can `/quiz stop` it" in text
    assert "发起人或管理员可用 `/quiz stop` 结束" in already_running_text(a_round(), None, "zh")


def test_an_unreadable_answer_says_the_form_expected() -> None:
    form = AnswerForm(shape=FormShape.WHOLE)
    text = answered_text(Answered(code=AnswerCode.UNREADABLE, expected_form=form), "abc", "zh")
    assert text.startswith("⚠️") and "一个整数，例如 34944" in text
    # The same words as an unreadable answer to a question outside a quiz (_render.py).
    assert (
        text
        == "⚠️ 无法识别这个答案。应为一个整数，例如 34944 或 34,944。\n本次不计入作答，请再试一次。"
    )
    # A form that starts with a number is spaced as "3 题" is: 应为 3 个整数.
    three = AnswerForm(shape=FormShape.WHOLE_LIST, count=3)
    counted = answered_text(Answered(code=AnswerCode.UNREADABLE, expected_form=three), "x", "zh")
    assert "。应为 3 个" in counted, counted
    english = answered_text(Answered(code=AnswerCode.UNREADABLE, expected_form=form), "abc", "en")
    assert english.startswith("⚠️ I could not read that answer. Expected a whole number")
    assert english.endswith("\nThis did not count; try again.")


def test_the_standings_with_medals_points_accuracy_and_time() -> None:
    rows = standings(ANSWERS)
    text = text_of(standings_embed(a_round(status=RoundStatus.FINISHED), rows, chart=True))
    lines = text.splitlines()
    assert "🏁 Quiz over · standings" in lines[0]
    assert "🥇 **alice** — 4 points · 1/1 (100%) · avg 2.3 s" in text
    assert "🥈 **carol**" in text and "🥉 **erin**" in text and "` 4.` **bob**" in text
    chinese = text_of(standings_embed(a_round("zh", RoundStatus.STOPPED), rows, chart=False))
    assert "🛑 抢答已结束 · 目前排名" in chinese
    assert "🥇 **alice** — 4 分 · 答对 1/1（100%）· 平均 2.3 秒" in chinese


def test_the_standings_chart_is_a_png_with_the_winner_on_top() -> None:
    rows = [
        StandingRow(rank=i + 1, user_id=i, name=n, points=p, correct=c, answered=5, avg_seconds=s)
        for i, (n, p, c, s) in enumerate(
            [("alice", 12, 4, 3.2), ("bob", 7, 3, 5.0), ("carol", 2, 1, 9.5)]
        )
    ]
    figure = quiz_standings_figure(rows, "en")
    axes = figure.axes[0]
    labels = {t.get_text(): t.get_position()[1] for t in axes.get_yticklabels()}
    assert labels["1. alice"] > labels["2. bob"] > labels["3. carol"]
    texts = [t.get_text() for t in axes.texts]
    assert "12 points · 4/5 · 3.2 s" in texts
    assert quiz_standings_chart(rows, "en").startswith(b"\x89PNG\r\n\x1a\n")
    assert quiz_standings_chart([], "zh").startswith(b"\x89PNG\r\n\x1a\n")


def test_a_typed_answer_is_shown_as_typed_not_as_markdown() -> None:
    text = answered_text(Answered(code=AnswerCode.LOCKED_IN), "**1/4** `x`", "en")
    assert "**\\*\\*1/4\\*\\* \\`x\\`**" in text
