"""A round never asks a written question twice: when fewer distinct questions match than the
host asked for, the round has that many (and `Started.asked` says how many were asked for);
numeric families are generated, so they never cap a round."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.checkers import TorchCheckers
from bot.core.ports import Store
from bot.core.quiz import QuizKind, QuizSettings, RoundStatus

from ..conftest import FakeClock
from ._quiz_harness import FakeTimer, Game, open_game


@pytest.fixture
async def game(store: Store, checkers: TorchCheckers, clock: FakeClock) -> AsyncIterator[Game]:
    made = open_game(store, checkers, FakeTimer(clock))
    try:
        yield made
    finally:
        await made.engine.aclose()


async def play_out(game: Game) -> list[str]:
    """Let every question's time run out; the refs asked, in order."""
    while True:
        question, _ = game.screen.current
        game.timer.advance(seconds=(question.deadline - game.timer.now()).total_seconds() + 1)
        reveal = await game.screen.next_reveal()
        await game.quiz.idle()  # the next question is asked (or the round ended)
        if reveal.last:
            break
    round_, _ = await game.screen.next_end()
    assert round_.status is RoundStatus.FINISHED
    return [served.ref for _, _, served in game.screen.asked]


async def test_three_written_questions_make_a_round_of_three(game: Game, store: Store) -> None:
    host = await store.get_or_create_user("discord", "ann", "Ann")
    settings = QuizSettings(topic="backprop", kind=QuizKind.CONCEPT, questions=5, seconds=30)
    started = await game.quiz.start(host, "c1", settings, "en")
    assert started.created and started.asked == 5
    assert started.round.settings.questions == 3
    asked = await play_out(game)
    assert sorted(asked) == ["qz-chain-rule", "qz-relu-grad", "qz-sigmoid-grad"]
    status = await game.quiz.status("c1")
    assert status is None or not status.round.running


async def test_a_numeric_family_is_generated_so_the_round_is_not_capped(
    game: Game, store: Store
) -> None:
    host = await store.get_or_create_user("discord", "ann", "Ann")
    settings = QuizSettings(topic="conv_output", kind=QuizKind.NUMERIC, questions=4, seconds=30)
    started = await game.quiz.start(host, "c2", settings, "en")
    assert started.created and started.asked is None
    assert started.round.settings.questions == 4
    asked = await play_out(game)
    assert len(asked) == 4 and len(set(asked)) == 4  # four variants of the one family
    assert all(ref.startswith("conv_output:") for ref in asked)


async def test_the_next_round_in_a_channel_asks_what_it_has_not_asked_first(
    game: Game, store: Store
) -> None:
    """A question answered lately pays nothing on the leaderboard: the channel's next round
    asks the one its last round did not, before repeating any (it could repeat at once)."""
    host = await store.get_or_create_user("discord", "ann", "Ann")
    settings = QuizSettings(topic="backprop", kind=QuizKind.CONCEPT, questions=2, seconds=30)
    await game.quiz.start(host, "c3", settings, "en")
    asked = await play_out(game)
    assert len(set(asked)) == 2
    game.screen.asked.clear()
    pool = {"qz-chain-rule", "qz-relu-grad", "qz-sigmoid-grad"}
    await game.quiz.start(host, "c3", settings, "en")
    second = await play_out(game)
    assert {second[0], *asked} == pool  # the one left out comes first
