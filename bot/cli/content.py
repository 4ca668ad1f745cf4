"""`python -m bot content validate` and `python -m bot topics`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from bot.core.bank import load_bank
from bot.core.topics import AREAS, TOPICS


def validate(paths: Sequence[Path]) -> int:
    """Print every problem of the bank as `file:line: id: field: message`; 1 if any."""
    from pydantic import ValidationError

    from bot.app.settings import Settings

    try:
        targets = list(paths) or [Settings().content_dir]
    except ValidationError as exc:  # one line per bad setting, never a traceback
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"])
            print(f"configuration: {name}: {error['msg']}", file=sys.stderr)
        return 2
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
    """The outline; with the question bank, each topic's count and 🔢 where it has numeric
    questions."""
    counts, numeric = _bank_counts()
    for area in AREAS:
        print(f"{area.id}: {area.name.en} / {area.name.zh}")
        for topic in TOPICS:
            if topic.area == area.id:
                extra = ""
                if counts is not None:
                    n = counts.get(topic.id, 0)
                    extra = f"  ({n} question{'' if n == 1 else 's'})"
                    extra += "  🔢 numeric" if topic.id in numeric else ""
                print(f"  {topic.id}: {topic.name.en} / {topic.name.zh}{extra}")
    if counts is not None:
        print("🔢: the topic has numeric questions (question TOPIC numeric)")
    return 0


def _bank_counts() -> tuple[dict[str, int] | None, set[str]]:
    """Questions per topic and the topics with numeric ones; (None, ∅) without a bank."""
    from pydantic import ValidationError

    from bot.app.settings import Settings
    from bot.core.models import Kind

    try:
        folder = Settings().content_dir
    except ValidationError:
        return None, set()
    if not folder.exists():
        return None, set()
    bank = load_bank([folder])
    numeric = {q.topic for q in bank.questions.values() if q.kind is Kind.NUMERIC}
    return bank.counts_by_topic(), numeric


def _known_families() -> frozenset[str]:
    from bot.checkers import TorchCheckers

    return frozenset(TorchCheckers().family_names())
