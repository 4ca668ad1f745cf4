"""Asking one question in the console: show it, read the answer (or the self-rating of an open
question) and show how it went. Used by `question`, `review`, `daily` and the interviews."""

from __future__ import annotations

from bot.console._args import RATING_OR_SKIP, read_rating
from bot.console._session import SKIP_WORDS, Session
from bot.core.models import (
    LETTERS,
    AnswerOutcome,
    Kind,
    Localized,
    Question,
    ServedQuestion,
    Verdict,
)
from bot.core.rubric import check_question
from bot.core.services.answering import Answering
from bot.core.services.catalog import Catalog
from bot.core.services.posting import Postings
from bot.shared.rubric_texts import (
    MODEL_ANSWER,
    NO_RUBRIC,
    TYPE_PROMPT,
    breakdown_lines,
    suggested_prompt,
)
from bot.shared.texts import (
    DIFFICULTY_NAMES,
    KIND_NAMES,
    grade_text,
    points_note,
    rating_prompt,
    topic_name,
)


class Asking:
    """Ask a question and take its answer, for every command that asks one."""

    def __init__(
        self, session: Session, *, postings: Postings, answering: Answering, catalog: Catalog
    ) -> None:
        self.session = session
        self.postings = postings
        self.answering = answering
        self.catalog = catalog

    async def ask(self, served: ServedQuestion) -> bool:
        """Post a question, show it and take the answer; False if input ended meanwhile."""
        instance = await self.postings.post(
            served, lang=self.session.lang, served_to=self.session.user
        )
        self.show(served)
        await self.answer_instance(instance.id, served)
        return self.session.running

    async def answer_instance(self, instance_id: int, served: ServedQuestion) -> None:
        if served.kind is Kind.OPEN:
            await self._open_question(instance_id, served)
        else:
            await self._answer_loop(instance_id, served)

    def show(self, served: ServedQuestion) -> None:
        lang = self.session.lang
        header = " · ".join(
            [
                topic_name(served.topic, lang),
                KIND_NAMES[served.kind].get(lang),
                DIFFICULTY_NAMES[served.difficulty].get(lang),
                served.ref,
            ]
        )
        lines = [f"[{header}]", served.text.get(lang)]
        for index, choice in enumerate(served.choices):
            lines.append(f"  {LETTERS[index]}. {choice.get(lang)}")
        self.session.say("\n".join(lines))

    async def _answer_loop(self, instance_id: int, served: ServedQuestion) -> None:
        hint = (
            Localized(en="your answer (a letter), or `skip`", zh="你的答案（字母），或 `skip` 跳过")
            if served.kind is Kind.MCQ
            else Localized(en="your answer, or `skip`", zh="你的答案，或 `skip` 跳过")
        )
        self.session.say(hint)
        while True:
            line = await self.session.terminal.read(self.session.prompt("answer"))
            if self.session.quits(line):
                return
            assert line is not None
            if line.strip().lower() in SKIP_WORDS:
                self.session.say(Localized(en="Skipped.", zh="已跳过。"))
                return
            if not line.strip():
                continue
            outcome = await self.answering.answer(instance_id, self.session.user, line)
            self.show_outcome(outcome)
            if outcome.grade.verdict is not Verdict.UNREADABLE:
                return

    async def read_answer(self, first: str | None = None) -> str | None:
        """A typed answer to an open question: lines until an empty one (`first`: a line read
        already). "" for an empty first line (reveal without typing); None on quit."""
        lines: list[str] = []
        line = first
        while True:
            if line is None:
                line = await self.session.terminal.read(
                    self.session.prompt("answer" if not lines else "more")
                )
                if self.session.quits(line):
                    return None
            assert line is not None
            if not line.strip():
                return "\n".join(lines)
            lines.append(line)
            line = None

    def reveal(self, question: Question | None, answer: str) -> tuple[str | None, float | None]:
        """After an open question: the typed answer against the key points (if one was typed),
        then the model answer. The suggested rating and the coverage, if it was checked."""
        if question is None or question.model_answer is None:
            return None, None
        lang = self.session.lang
        result = check_question(question, answer) if answer.strip() else None
        lines: list[str] = []
        if result is not None:
            lines += [*breakdown_lines(question, result, lang), ""]
        elif answer.strip():
            lines += [NO_RUBRIC.get(lang), ""]
        lines += [MODEL_ANSWER.get(lang), question.model_answer.get(lang)]
        if result is None:
            lines.append(Localized(en="Key points:", zh="要点：").get(lang))
            lines.extend(f"  • {point.get(lang)}" for point in question.key_points)
        self.session.say("\n".join(lines))
        if result is None:
            return None, None
        return result.suggested, result.coverage

    async def _open_question(self, instance_id: int, served: ServedQuestion) -> None:
        self.session.say(TYPE_PROMPT)
        first = await self.session.terminal.read(self.session.prompt("answer"))
        if self.session.quits(first):
            return
        assert first is not None
        if first.strip().lower() in SKIP_WORDS:  # as at every other answer prompt
            self.session.say(Localized(en="Skipped.", zh="已跳过。"))
            return
        answer = await self.read_answer(first)
        if answer is None:
            return
        suggested, _ = self.reveal(self.catalog.bank.get(served.ref), answer)
        self.session.say(rating_prompt(self.session.lang))
        if suggested is not None:
            self.session.say(suggested_prompt(suggested, self.session.lang))
        while True:
            line = await self.session.terminal.read(self.session.prompt("rating"))
            if self.session.quits(line):
                return
            assert line is not None
            word = line.strip().lower() or (suggested or "")
            if word in SKIP_WORDS:
                self.session.say(Localized(en="Skipped: not rated.", zh="已跳过：未评分。"))
                return
            rating = read_rating(word)
            if rating is not None:
                outcome = await self.answering.self_rate(instance_id, self.session.user, rating)
                self.show_outcome(outcome)
                return
            self.session.say(RATING_OR_SKIP)

    def show_outcome(self, outcome: AnswerOutcome) -> None:
        lang = self.session.lang
        lines = [grade_text(outcome.grade).get(lang)]
        if outcome.grade.verdict is Verdict.UNREADABLE:
            lines.append(
                Localized(en="(no attempt used; try again)", zh="（不计入作答，请再试）").get(lang)
            )
            self.session.say("\n".join(lines))
            return
        if outcome.explanation is not None:
            lines.append(outcome.explanation.get(lang))
        if outcome.counted:
            if outcome.points or outcome.grade.correct:
                lines.append(points_note(outcome).get(lang))
        else:
            lines.append(
                Localized(
                    en="(you had already answered this question: only the first answer counts)",
                    zh="（你已经答过这道题：只有第一次作答计分）",
                ).get(lang)
            )
        self.session.say("\n".join(lines))
