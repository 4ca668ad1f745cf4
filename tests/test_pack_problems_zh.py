"""The schema problems of a question pack in Chinese (pydantic's own wording is English only)."""

from __future__ import annotations

from bot.core.bank import parse_document

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


def test_pack_problems_from_the_schema_in_chinese() -> None:
    problems = {p.field: p for p in parse_document(PACK, "club.yaml").problems}
    assert problems["text.zh"].text("zh") == "club.yaml:6: club-one: text.zh: 缺少此项"
    assert problems["text.zh"].text("en") == "club.yaml:6: club-one: text.zh: missing"
    difficulty = problems["difficulty"].text("zh")
    assert (
        difficulty == "club.yaml:5: club-one: difficulty: 应为以下之一：'easy'、'medium' 或 'hard'"
    )
