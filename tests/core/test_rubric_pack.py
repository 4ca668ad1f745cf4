"""A pack imported with `/admin import` may carry rubrics: the same format, the same checks
(located problems), kept through a restart (the stored validated form)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checkers import TorchCheckers
from bot.core.errors import PackInvalid
from bot.core.rubric import check_question
from tests.conftest import FakeClock
from tests.core.test_pack_import import process

PACK = """\
questions:
  - id: club-open
    topic: optimizers
    kind: open
    difficulty: easy
    text: {{en: "Why momentum?", zh: "为什么用动量？"}}
    explanation: {{en: "It averages.", zh: "它做平均。"}}
    model_answer:
      en: "Momentum averages the gradients, so the noise cancels."
      zh: "动量对梯度做平均，噪声相互抵消。"
    key_points:
      - en: "averages gradients"
        zh: "对梯度做平均"
        match:
          en: ["{pattern}"]
          zh: ["动量 & 平均"]
"""


async def test_pack_with_a_rubric_is_checked_and_kept(
    db_path: Path, checkers: TorchCheckers, clock: FakeClock
) -> None:
    async with process(db_path, checkers, clock) as engine:
        server = await engine.identities.server("discord", "1", "club")
        with pytest.raises(PackInvalid) as refused:
            await engine.catalog.import_pack(
                server.id, "club.yaml", PACK.format(pattern="momentum"), None
            )
        [problem] = refused.value.problems
        assert problem.text("en").startswith("club.yaml:15: club-open: key_points[0].match.en:")
        assert "2 to 6 groups" in problem.text("en")
        await engine.catalog.import_pack(
            server.id, "club.yaml", PACK.format(pattern="momentum & averag*"), None
        )
    async with process(db_path, checkers, clock) as restarted:  # from the stored form
        question = restarted.catalog.question("club-open", server.id)
        assert question is not None and question.has_rubric
        result = check_question(question, "Momentum is an average of the recent gradients.")
        assert result is not None and result.covered == (0,)
        chinese = check_question(question, "动量就是对梯度的平均。")
        assert chinese is not None and chinese.covered == (0,)
