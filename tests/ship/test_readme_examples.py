"""The README's console example of a generated question is what that reference asks today: a
reference names its question only as long as the family's draw stays the same, so this test
fails when a change to a draw would silently change the README's example."""

from __future__ import annotations

import re
from pathlib import Path

from bot.checkers import TorchCheckers

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE = re.compile(
    r"^\[[^\]]* · (?P<ref>[a-z_0-9]+:\d+)\]\n(?P<body>.*?)^answer> (?P<answer>.+)\n(?P<told>.+)$",
    re.MULTILINE | re.DOTALL,
)


def test_the_readme_numeric_example_is_the_question_its_reference_asks() -> None:
    examples = list(EXAMPLE.finditer(README.read_text(encoding="utf-8")))
    assert examples, "no numeric example in the README"
    checkers = TorchCheckers()
    for example in examples:
        family, seed = example["ref"].split(":")
        question = checkers.generate(family, int(seed))
        shown = " ".join(example["body"].split())
        asked = " ".join(question.text.en.split())
        assert asked in shown, (example["ref"], asked)
        grade = checkers.grade(family, int(seed), example["answer"])
        assert grade.correct == example["told"].startswith("✅"), (example["ref"], grade)


def test_the_readme_counts_the_bank_as_it_is() -> None:
    from bot.app.settings import PACKAGE_CONTENT
    from bot.core.bank import load_bank
    from bot.core.models import Kind
    from bot.core.topics import AREAS, TOPICS

    bank = load_bank(sorted(PACKAGE_CONTENT.glob("*.yaml")))
    written = [q for q in bank.questions.values() if q.kind is not Kind.NUMERIC]
    opened = sum(q.kind is Kind.OPEN for q in written)
    families = len(TorchCheckers().family_names())
    expected = (
        f"The bank has {len(written)} written questions ({opened} open) over {len(TOPICS)} "
        f"topics in {len(AREAS)} areas"
    )
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert expected in text
    assert f"and {families} numeric families" in text
