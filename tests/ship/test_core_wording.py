"""Wording lives with the front ends (issue 13, point 4): bot/core returns outcomes, codes and
data; the sentences a user reads, in English and Chinese, are composed in bot/shared. This scans
every string literal of bot/core (docstrings aside) for Chinese characters, for phrases the front
ends word, and for a `Localized(en="...")` built from literal text: each is a message composed in
the core. The few places that may keep text are listed below, each with why: words a typed
answer is read for are input, not output, and belong there (name them, say why)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "bot" / "core"

CJK = re.compile(r"[\u4e00-\u9fff]")  # Chinese characters (punctuation alone is input too)
# Phrases of messages now worded in bot/shared; any of them back in the core is a regression.
PHRASES = re.compile(
    r"model answer|key points|think about|follow-up|start from|solution:|it is not |"
    r"the answer is|correct:|close, but|could not read|· numeric|"
    r"\bq\d|\bq\{",
    re.IGNORECASE,
)

# (module, top-level name) -> why its literal text stays in the core.
READ_FOR = "Chinese words a typed answer is read for (input, not output)"
ALLOWED: dict[tuple[str, str], str] = {
    ("topics.py", "AREAS"): "the catalogue's names of areas: content, like the bank",
    ("topics.py", "TOPICS"): "the catalogue's names of topics: content, like the bank",
    ("answers.py", "_PREFIXES"): "what users type before a number (input, not output)",
    ("answers.py", "_LEAD_IN"): "what users type before a number (input, not output)",
    ("answers.py", "_UNIT"): "what users type after a number (input, not output)",
    ("answers.py", "_MULTIPLIERS"): "Chinese multipliers users type (万, 亿): input",
    ("bank.py", "_LineLoader"): "a question file's problems, for its author",
    ("bank.py", "too_large"): "a question file's problems, for its author",
    ("bank.py", "merge_parsed"): "a question file's problems, for its author",
    ("bank.py", "_parse_document"): "a question file's problems, for its author",
    ("models.py", "Question"): "a question file's problems, for its author",
    ("rubric/chinese.py", "_ZH_NEGATORS"): READ_FOR,
    ("rubric/chinese.py", "_ZH_FILLERS"): READ_FOR,
    ("rubric/chinese.py", "_ZH_FUNCTION"): READ_FOR,
    ("rubric/chinese.py", "_ZH_PROSE"): READ_FOR,
    ("rubric/chinese.py", "_ZH_NOT_SCOPE"): READ_FOR,
    ("rubric/chinese.py", "_ZH_SCOPE_NEGATORS"): READ_FOR,
    ("rubric/chinese.py", "_ZH_SCOPE_ONLY_IN"): READ_FOR,
    ("rubric/chinese.py", "_ZH_SCOPE_BREAKERS"): READ_FOR,
    ("rubric/matching.py", "_Sentence"): READ_FOR,
    ("validation.py", "_ZH"): "pydantic's errors in Chinese, for a question file's author",
    ("validation.py", "_expected"): "pydantic's errors in Chinese, for a question file's author",
    ("validation.py", "validation_message"): "pydantic's errors, for a question file's author",
    ("services/catalog.py", "Catalog"): "a question file's problems, for its author",
}


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _owner(node: ast.stmt) -> str:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    names = [t.id for t in targets if isinstance(t, ast.Name)]
    return names[0] if names else f"line {node.lineno}"


def wording(source: str) -> Iterator[tuple[str, int, str]]:
    """(top-level name, line, text) of every literal in `source` that reads as a message."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    for statement in tree.body:
        owner = _owner(statement)
        for node in ast.walk(statement):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in skip:
                    continue
                if CJK.search(node.value) or PHRASES.search(node.value):
                    yield owner, node.lineno, node.value
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Localized":
                for keyword in node.keywords:
                    if keyword.arg == "en" and _has_literal_text(keyword.value):
                        yield owner, node.lineno, ast.unparse(keyword.value)


def _has_literal_text(value: ast.expr) -> bool:
    """A literal with a word in it, on its own or in an f-string or a concatenation."""
    for node in ast.walk(value):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.search(r"[A-Za-z]{3,}", node.value):
                return True
    return False


def core_wording() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        module = str(path.relative_to(CORE))
        for owner, line, text in wording(path.read_text()):
            if (module, owner) not in ALLOWED:
                found.setdefault(f"{module}:{owner}", []).append(f"{line}: {text[:60]!r}")
    return found


def test_the_core_composes_no_user_sentence() -> None:
    assert len(list(CORE.rglob("*.py"))) >= 10
    assert core_wording() == {}


def test_every_allowance_is_still_needed() -> None:
    """An allowance whose text has moved out goes too, so the list stays the truth (one for a
    module not written yet waits for it)."""
    used: set[tuple[str, str]] = set()
    for path in sorted(CORE.rglob("*.py")):
        module = str(path.relative_to(CORE))
        used |= {(module, owner) for owner, _, _ in wording(path.read_text())}
    assert {a for a in ALLOWED if (CORE / a[0]).exists()} - used == set()


def test_the_scan_finds_wording_planted_in_the_core() -> None:
    planted = (
        "from bot.core.models import Localized\n"
        "def hint(point):\n"
        '    """The hint: Think about it (a docstring is not a message)."""\n'
        "    return Localized(en=f'💡 Think about: {point.en}', zh=f'💡 想想：{point.zh}')\n"
        "def label(n):\n"
        "    return Localized(en=f'Number {n}', zh=str(n))\n"
        "LABEL = 'Q3 follow-up'\n"
    )
    owners = [(owner, line) for owner, line, _ in wording(planted)]
    assert ("hint", 4) in owners and ("label", 6) in owners and ("LABEL", 7) in owners
    assert ("hint", 3) not in owners  # the docstring
