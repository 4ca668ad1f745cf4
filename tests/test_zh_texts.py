"""Chinese messages read as Chinese: full-width punctuation, no English words left.

Every Chinese string of the Discord front end and of the texts it shares is found in the source
(the `zh` of `Localized(...)`/`L(...)`, the third argument of `t(lang, en, zh)`, the branch of
an `... if lang == "zh" else ...`, and the values of the command-description table) and checked.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    "bot/shared/texts.py",
    "bot/shared/feedback.py",
    "bot/shared/demo_texts.py",
    "bot/shared/charts.py",
    "bot/discord/_render.py",
    "bot/discord/_quiz.py",
    "bot/discord/_i18n.py",
    "bot/discord/_context.py",
    "bot/discord/ext/questions.py",
    "bot/discord/ext/stats.py",
    "bot/discord/ext/preferences.py",
    "bot/discord/ext/daily.py",
    "bot/discord/ext/review.py",
    "bot/discord/ext/check.py",
    "bot/discord/ext/demos.py",
    "bot/discord/ext/admin.py",
    "bot/discord/ext/interview.py",
    "bot/discord/ext/history.py",
    "bot/discord/ext/quiz.py",
    "bot/shared/calculator.py",
    "bot/console/_console.py",
    "bot/console/_args.py",
    "bot/console/_asking.py",
    "bot/console/_interview.py",
    "bot/console/_practice.py",
    "bot/console/_stats.py",
    "bot/console/_tools.py",
    "bot/console/_quiz.py",
    "bot/console/_quiz_texts.py",
]

# demos.py: its texts are in bot/shared/demo_texts.py.
NO_TEXT_OF_THEIR_OWN = {"bot/discord/ext/demos.py"}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
HOLE = "\x00"  # where an f-string's value goes
# What may keep ASCII punctuation or Latin letters inside a Chinese sentence: code in backticks,
# command names (/question), quoted values ('lstm'), lists of numbers in brackets or parentheses
# (as typed: (64, 55, 55)), numbers (09:30, 34,944, 1/4, 2.5e-3), markdown.
ALLOWED_SPANS = re.compile(
    r"`[^`]*`|(?<!\w)/[a-z_]+|'[^'\s]*'|\[[^\]]*\]|\((?:[\d, ]|\x00)+\)|\d(?:\.\d+)?e-?\d+"
    r"|\d[\d.,:/]*\d|HH:MM|<t:[^>]*>|\*\*"
)
ASCII_PUNCTUATION = re.compile(r"[:;,?!()]")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")
# Names that stay as they are in Chinese: models, units, formats, option values, product names.
ALLOWED_WORDS = {
    "auto", "en", "zh", "Discord", "UTC", "UTF-8", "YAML", "KiB", "MLP", "GAN", "WGAN",
    "WGAN-GP", "RNN", "LSTM", "GRU", "CNN", "sigmoid", "tanh", "relu", "ReLU", "minimax",
    "nonsaturating", "wgan", "rnn", "lstm", "gru", "word2vec", "k", "v", "T", "Q", "x", "s",
    "e", "g", "pt", "PNG",
}  # fmt: skip


def _text(node: ast.expr) -> str | None:
    """A string literal with f-string holes marked, or None if the node is not one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else HOLE for part in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        return None if left is None or right is None else left + right
    return None


def _is_zh_test(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Compare)
        and len(node.comparators) == 1
        and isinstance(node.ops[0], ast.Eq)
        and isinstance(node.comparators[0], ast.Constant)
        and node.comparators[0].value == "zh"
    )


def chinese_strings(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        found: list[ast.expr] = []
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("Localized", "L"):
                found += [k.value for k in node.keywords if k.arg == "zh"]
            if name == "t" and len(node.args) == 3:
                found.append(node.args[2])
        elif isinstance(node, ast.IfExp) and _is_zh_test(node.test):
            found.append(node.body)
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "ZH"
            and isinstance(node.value, ast.Dict)
        ):
            found += [v for v in node.value.values if v is not None]
        for expr in found:
            text = _text(expr)
            if text is not None:
                yield expr.lineno, text


def problems_in(text: str) -> list[str]:
    problems = []
    stripped = ALLOWED_SPANS.sub(" ", text)
    for match in ASCII_PUNCTUATION.finditer(stripped):
        context = stripped[max(0, match.start() - 6) : match.end() + 6].replace(HOLE, "{}")
        problems.append(f"half-width {match.group()!r} in …{context}…")
    for match in WORD.finditer(stripped):
        if match.group() not in ALLOWED_WORDS:
            problems.append(f"English word {match.group()!r}")
    return problems


def test_the_scanner_finds_what_it_should() -> None:
    found = [p[:14] for p in problems_in("答对 3/4(75%)· 连续")]
    assert found == ["half-width '('", "half-width ')'"]
    assert problems_in("1 pts · 100%") == ["English word 'pts'"]
    assert problems_in("你：第 2 名，`/question` 例如 09:30、[0.9, 0.1]") == []
    assert problems_in("正在训练 GAN") == []
    assert problems_in("还没有作答记录：试试 /question。") == []


@pytest.mark.parametrize("name", FILES)
def test_chinese_messages_have_no_english_punctuation_or_words(name: str) -> None:
    strings = list(chinese_strings(ROOT / name))
    assert strings or name in NO_TEXT_OF_THEIR_OWN, f"no Chinese strings found in {name}"
    found = [
        f"{name}:{line}: {problem}: {text!r}"
        for line, text in strings
        for problem in problems_in(text)
    ]
    assert not found, "\n".join(found)
