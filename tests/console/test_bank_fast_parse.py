"""The console's start-up reads the whole bank: documents within the parsing budgets are
composed by libyaml, with the same result as the Python composer that enforces them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core import bank

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "content").glob("*.yaml"))


def python_composer(text: str) -> tuple[Any, bank.LineMap]:
    loader = bank._LineLoader(text)
    try:
        node = loader.get_single_node()
        assert node is not None
        lines: bank.LineMap = {}
        bank._compose_lines(node, (), lines)
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_the_shipped_bank_takes_the_fast_path_with_the_same_result(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert bank._fast_path_ok(text)
    assert bank._parse(text) == python_composer(text)  # documents and line numbers


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchors and aliases
        "x: " + "[" * (bank.MAX_DEPTH + 1) + "]" * (bank.MAX_DEPTH + 1) + "\n",  # too deep
        "x: [" + ", ".join(["1"] * (bank.MAX_NODES + 1)) + "]\n",  # too many values
        "a: [1\n",  # a syntax error
    ],
)
def test_anything_over_budget_or_broken_takes_the_python_composer(text: str) -> None:
    assert not bank._fast_path_ok(text)  # which refuses it, with its located message
    with pytest.raises(yaml.YAMLError):
        bank._parse(text)
