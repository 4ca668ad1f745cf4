"""The layers are enforced by import-linter (`[tool.importlinter]` in pyproject.toml, run by
`make lint`): the real tree keeps every contract, and a copy of it with one forbidden import
planted breaks the contract that forbids it."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path, contract: str | None = None) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the `bot` package found in `tree`, with the project's contracts (or
    only `contract`)."""
    only = [] if contract is None else ["--contract", contract]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *only, "pyproject.toml"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "bot", tree / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


PLANTED = [
    # (module written into the copy, its source, the id of the contract it must break)
    ("bot/core/_planted.py", "import torch\n", "core-is-pure"),
    ("bot/core/_planted.py", "def later() -> None:\n    import aiosqlite\n", "core-is-pure"),
    ("bot/core/_planted.py", "from bot.storage import db\n", "core-is-pure"),
    ("bot/core/_planted.py", "import discord\n", "core-is-pure"),
    (
        "bot/discord/_planted.py",
        "from bot.checkers import TorchCheckers\n",
        "front-ends-use-services",
    ),
    ("bot/console/_planted.py", "import bot.storage.db\n", "front-ends-use-services"),
    ("bot/console/_planted.py", "from bot.discord import _render\n", "front-ends-independent"),
    (
        "bot/discord/ext/_planted.py",
        "from bot.core.engine import Engine\n",
        "front-ends-get-their-services",
    ),
    ("bot/console/_planted.py", "import bot.core.engine\n", "front-ends-get-their-services"),
    ("bot/storage/_planted.py", "import discord\n", "adapters-below-front-ends"),
    ("bot/_planted.py", "import sqlite3\n", "only-storage-imports-the-database"),
    ("bot/app/_planted.py", "import asyncpg\n", "only-storage-imports-the-database"),
    ("bot/_planted.py", "import torch\n", "only-checkers-and-demos-import-torch"),
    ("bot/_planted.py", "import discord\n", "only-the-discord-front-end-imports-discord"),
]


@pytest.mark.parametrize(("path", "source", "contract"), PLANTED)
def test_a_planted_import_breaks_its_contract(
    copy: Path, path: str, source: str, contract: str
) -> None:
    planted = copy / path
    planted.write_text(source)
    try:
        result = lint_imports(copy, contract)
    finally:
        planted.unlink()
    assert result.returncode != 0, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert "_planted" in result.stdout  # the violation named is the planted one


def test_the_copy_without_a_plant_keeps_every_contract(copy: Path) -> None:
    """So each failure above is the plant's doing, not the copy's."""
    result = lint_imports(copy)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_has_no_dynamic_import() -> None:
    """import-linter reads import statements; a module named in a string would slip past it."""
    core = ROOT / "bot" / "core"
    dynamic = re.compile(r"\bimport_module\(|\b__import__\(")
    offenders = [
        str(p.relative_to(ROOT)) for p in core.rglob("*.py") if dynamic.search(p.read_text())
    ]
    assert len(list(core.rglob("*.py"))) >= 5
    assert offenders == []


def store_uses(source: str) -> list[int]:
    """Lines of `source` that read an attribute named `store` (`engine.store`, `self.store`)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr == "store"
    ]


def test_commands_and_the_console_never_reach_into_the_store() -> None:
    """Imports cannot show it: the Discord front end (the bot class included: it is given its
    HeartbeatStore) and the console use the services, not `engine.store`."""
    files = sorted((ROOT / "bot" / "discord").rglob("*.py"))
    files += sorted((ROOT / "bot" / "console").glob("*.py"))
    assert len(files) >= 10
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in files
        if (lines := store_uses(path.read_text()))
    }
    assert offenders == {}
    assert store_uses("async def f(self):\n    await self.bot.engine.store.x()\n") == [2]


def engine_uses(source: str) -> list[int]:
    """Lines of `source` that name an `engine` (`bot.engine.answering`, `engine.boards`, a
    parameter `engine`): the bundle of every service, instead of the services used."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        named = (
            (isinstance(node, ast.Attribute) and node.attr == "engine")
            or (isinstance(node, ast.Name) and node.id == "engine")
            or (isinstance(node, ast.arg) and node.arg == "engine")
        )
        if named:
            lines.append(getattr(node, "lineno", 0))
    return sorted(set(lines))


def test_the_front_ends_are_given_the_services_they_use() -> None:
    """Each command module of the Discord bot and the console gets the services it uses, by
    name (wired in bot/app/wiring.py), and never reaches through the `Engine` that holds them
    all (import-linter's `front-ends-get-their-services` refuses importing it)."""
    files = sorted((ROOT / "bot" / "discord").rglob("*.py"))
    files += sorted((ROOT / "bot" / "console").glob("*.py"))
    assert len(files) >= 10
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in files
        if (lines := engine_uses(path.read_text()))
    }
    assert offenders == {}
    assert engine_uses("async def f(self):\n    await self.bot.engine.answering.x()\n") == [2]
    assert engine_uses("def g(engine):\n    return engine.boards\n") == [1, 2]
