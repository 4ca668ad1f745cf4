"""Practice commands: `question` (by topic, kind and difficulty, or by reference), `review`
(the questions due for spaced review) and `daily` (the question of the day)."""

from __future__ import annotations

from bot.console._args import conflict
from bot.console._asking import Asking
from bot.console._session import Session, checkers_ready
from bot.core.errors import UnknownQuestion
from bot.core.models import Difficulty, Localized
from bot.core.ports import Checkers
from bot.core.services.boards import Boards
from bot.core.services.catalog import Catalog, KindFilter, parse_generated_ref
from bot.core.services.daily import Dailies
from bot.core.services.making import Making
from bot.core.services.reviews import Reviews
from bot.core.topics import topic_id, topics_in

L = Localized


class Practice:
    """`question`, `review` and `daily`, on top of the session's reading and writing."""

    def __init__(
        self,
        session: Session,
        asking: Asking,
        *,
        catalog: Catalog,
        making: Making,
        reviews: Reviews,
        dailies: Dailies,
        boards: Boards,
        checkers: Checkers,
    ) -> None:
        self.session = session
        self.asking = asking
        self.catalog = catalog
        self.making = making
        self.reviews = reviews
        self.dailies = dailies
        self.boards = boards
        self.checkers = checkers

    # question

    async def cmd_question(self, args: list[str]) -> None:
        if len(args) == 1 and self._is_reference(args[0]):
            await self._ask_reference(args[0])
            return
        chosen: dict[str, str] = {}  # "kind" / "difficulty" / "topic" -> the word given
        for word in (a.lower() for a in args):
            if word in KindFilter.__members__.values():
                slot = "kind"
            elif word in Difficulty.__members__.values():
                slot = "difficulty"
            elif topics_in(found := topic_id(word)):
                slot, word = "topic", found  # `vanishing-gradients`
            else:
                self.session.say(
                    Localized(
                        en=f"⚠️ `{word}` is not a topic, kind or difficulty. "
                        "Try `topics`, or: question cnn numeric hard "
                        "(or a reference, alone: question conv_macs:1790127)",
                        zh=f"⚠️ `{word}` 不是主题、题型或难度。可以先输入 `topics`，"
                        "或者：`question cnn numeric hard`（也可以只写题目编号："
                        "`question conv_macs:1790127`）",
                    )
                )
                return
            if slot in chosen and chosen[slot] != word:
                self.session.say(conflict(slot, chosen[slot], word))
                return
            chosen[slot] = word
        kind = KindFilter(chosen["kind"]) if "kind" in chosen else KindFilter.ANY
        difficulty = Difficulty(chosen["difficulty"]) if "difficulty" in chosen else None
        served = await self.making.serve(self.session.user, chosen.get("topic"), kind, difficulty)
        await self.asking.ask(served)

    def _is_reference(self, word: str) -> bool:
        """A generated question's `FAMILY:SEED`, or a written question's id."""
        family, seed = parse_generated_ref(word)
        if family is not None and seed is not None:
            return True
        return ":" in word or self.catalog.question(word) is not None

    async def _ask_reference(self, ref: str) -> None:
        """Ask the question that reference names again (shown after each question and in
        `history`)."""
        try:
            served = await self.making.by_reference(ref)
        except UnknownQuestion:
            self.session.say(
                Localized(
                    en=f"⚠️ No question has the reference `{ref}`. A reference is FAMILY:SEED "
                    "(e.g. conv_macs:1790127) or a question id, as shown in brackets after "
                    "each question and in `history`.",
                    zh=f"⚠️ 没有编号为 `{ref}` 的题目。编号是 `FAMILY:SEED`（例如 "
                    "`conv_macs:1790127`）或题目编号，见每道题方括号中的最后一项及 `history`。",
                )
            )
            return
        await self.asking.ask(served)

    # review and daily

    async def cmd_review(self, args: list[str]) -> None:
        if len(args) > 1 or (
            args and not (args[0].isascii() and args[0].isdigit() and 1 <= int(args[0]) <= 10)
        ):
            self.session.say(
                L(
                    en=f"⚠️ `{' '.join(args)}` is not a count: review [COUNT], COUNT from 1 to 10"
                    " (3 if not given).",
                    zh=f"⚠️ `{' '.join(args)}` 不是题数：`review [题数]`，题数为 1 到 10"
                    "（不填则为 3）。",
                )
            )
            return
        count = int(args[0]) if args else 3
        due = []
        if await self.reviews.reviews_due(self.session.user):  # torch only if there is any
            await checkers_ready(self.checkers)  # a card may be a numeric family's
            due = await self.reviews.due_reviews(self.session.user, count)
        if not due:
            self.session.say(
                L(
                    en="Nothing is due for review. Missed questions come back when it is time.",
                    zh="目前没有需要复习的题目。答错的题会在合适的时候回来。",
                )
            )
            return
        for number, served in enumerate(due, start=1):
            self.session.say(
                L(en=f"\n🔁 Review {number}/{len(due)}", zh=f"\n🔁 复习 {number}/{len(due)}")
            )
            if not await self.asking.ask(served):
                return

    async def cmd_daily(self, args: list[str]) -> None:
        # The user's question of the day: the same one (and instance) all day long.
        posted = await self.dailies.post_daily(None, None, self.session.lang, self.session.user)
        assert posted is not None  # the console has no server: nothing to claim
        served, instance = posted
        self.session.say(L(en="📅 Today's question", zh="📅 今日一题"))
        self.asking.show(served)
        done = await self.asking.answering.answered(instance.id, self.session.user)
        if done is None:
            await self.asking.answer_instance(instance.id, served)
        else:  # one answer a day counts: not asked again
            self.session.say(
                L(
                    en=f"You answered it today ({'right' if done else 'not right'}): a new"
                    " question comes tomorrow (UTC).",
                    zh=f"今天已经答过这道题（{'答对了' if done else '没有答对'}）："
                    "明天（UTC）会有新的一题。",
                )
            )
        stats = await self.boards.stats(self.session.user)
        self.session.say(
            L(
                en=f"Daily streak: {stats.streak} (best {stats.best_streak})",
                zh=f"每日一题连胜：{stats.streak} 天（最长 {stats.best_streak} 天）",
            )
        )
