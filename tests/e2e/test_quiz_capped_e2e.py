"""`/quiz start` over fewer distinct questions than asked for: the round is shorter and the
announcement says so (the quiz bank has three backprop concept questions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fakediscord import FakeDiscord
from .harness import running_bot
from .test_quiz_e2e import QUIZ_BANK, question, ref_of, reply, standings_in

pytestmark = pytest.mark.timeout(180)


async def test_a_start_over_three_questions_has_three_and_says_so(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    carol = fake_discord.add_user("carol")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3", QUIZ_BANK):
        started = await carol.slash("quiz start", questions=10, seconds=120, kind="concept")
        announced = (await started.wait_original()).content
        assert "Quiz #1" in announced and "3 questions" in announced, announced
        assert "Only 3 questions match (you asked for 10): the round has 3." in announced
        first = await question(fake_discord, 0)
        assert "Question 1/3" in str(first.embeds), first.embeds
        stopped = await carol.slash("quiz stop")
        assert "stopped" in (await stopped.wait_original()).content
        await standings_in(fake_discord)
        assert "No quiz is running" in reply(await carol.slash("quiz status"))
        assert ref_of(first).startswith("qz-")
        fake_discord.assert_clean()
