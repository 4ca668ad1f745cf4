"""No module in bot/ over ~600 lines (issue 13): a module that grows past it is split into
cohesive parts (as bot/core/rubric/ was) rather than left to grow."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
MAX_LINES = 600


def module_sizes() -> dict[str, int]:
    return {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(BOT.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def test_no_module_in_bot_is_over_600_lines() -> None:
    sizes = module_sizes()
    assert len(sizes) >= 50  # the scan found the tree
    assert "bot/core/interview.py" in sizes
    too_long = {path: lines for path, lines in sizes.items() if lines > MAX_LINES}
    assert too_long == {}, f"split these modules (over {MAX_LINES} lines): {too_long}"
