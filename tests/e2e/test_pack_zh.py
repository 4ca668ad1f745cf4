"""Problems of an imported question pack, in Chinese for a Chinese user (pydantic's own wording
is English only), through the fake Discord."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fakediscord import FakeDiscord, Upload
from .harness import running_bot, told

pytestmark = pytest.mark.timeout(60)

PACK = """\
questions:
  - id: club-one
    topic: optimizers
    kind: mcq
    difficulty: impossible
    text: {en: "Only English"}
    choices:
      - {en: "a", zh: "甲"}
      - {en: "b", zh: "乙"}
    answer: A
    explanation: {en: "x", zh: "x"}
"""


async def test_pack_problems_in_chinese(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    alice = fake_discord.user("alice")
    async with running_bot(fake_discord, tmp_path / "bot.sqlite3"):
        bad = await alice.slash(
            "admin import", file=Upload("bad.yaml", PACK.encode()), locale="zh-CN"
        )
        report = await told(bad)
        assert report.startswith("⚠️ bad.yaml 未导入：发现 2 个问题，未添加任何题目。"), report
        assert "bad.yaml:6: club-one: text.zh: 缺少此项" in report
        assert "difficulty: 应为以下之一：'easy'、'medium' 或 'hard'" in report
        fake_discord.assert_clean()
