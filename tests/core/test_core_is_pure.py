"""bot/core is the pure domain: it must not import Discord, the database driver or torch."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.core

FORBIDDEN = {"discord", "aiosqlite", "torch", "sqlite3", "matplotlib"}
CORE = Path(bot.core.__file__).parent


def imported_roots(source: str) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            roots.add(node.args[0].value.split(".")[0])
    return roots


def test_core_imports_nothing_forbidden() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 5, "the walk found the core modules"
    offenders = {
        str(path.relative_to(CORE)): sorted(imported_roots(path.read_text()) & FORBIDDEN)
        for path in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_walk_catches_each_kind_of_import() -> None:
    sample = (
        "import torch.nn\nfrom discord import ui\n"
        "import importlib\nimportlib.import_module('aiosqlite')\n"
    )
    assert imported_roots(sample) >= {"torch", "discord", "aiosqlite"}
