"""`python -m bot content validate` and `python -m bot topics`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from bot.core.bank import load_bank
from bot.core.topics import AREAS, TOPICS


def validate(paths: Sequence[Path]) -> int:
    """Print every problem of the bank as `file:line: id: field: message`; 1 if any."""
    from bot.settings import Settings

    targets = list(paths) or [Settings().content_dir]
    missing = [p for p in targets if not p.exists()]
    for path in missing:
        print(f"{path}:1: -: -: no such file or folder", file=sys.stderr)
    bank = load_bank([p for p in targets if p.exists()], _known_families())
    for problem in bank.problems:
        print(problem)
    if bank.problems or missing:
        count = len(bank.problems) + len(missing)
        print(f"{count} problem(s) found; {len(bank)} question(s) are valid.", file=sys.stderr)
        return 1
    print(f"ok: {len(bank)} questions", file=sys.stderr)
    return 0


def print_topics() -> int:
    for area in AREAS:
        print(f"{area.id}: {area.name.en} / {area.name.zh}")
        for topic in TOPICS:
            if topic.area == area.id:
                print(f"  {topic.id}: {topic.name.en} / {topic.name.zh}")
    return 0


def _known_families() -> frozenset[str]:
    from bot.checkers import TorchCheckers

    return frozenset(TorchCheckers().family_names())
