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

    from bot.app.settings import Settings, configuration_problems

    try:
        targets = list(paths) or [Settings().content_dir]
    except ValidationError as exc:  # one line per bad setting, never a traceback
        for bad in configuration_problems(exc):
            print(f"configuration: {bad}", file=sys.stderr)
        return 2
    missing = [p for p in targets if not p.exists()]
    for path in missing:
        print(f"{path}:1: -: -: no such file or folder", file=sys.stderr)
    bank = load_bank([p for p in targets if p.exists()], _known_families())
    # Nothing to read but missing paths: their lines say it ("no question files found" again
    # would count the same problem twice).
    problems = bank.problems if len(missing) < len(targets) else []
    for problem in problems:
        print(problem)
    if problems or missing:
        count = len(problems) + len(missing)
        print(f"{count} problem(s) found; {len(bank)} question(s) are valid.", file=sys.stderr)
        return 1
    print(f"ok: {len(bank)} questions", file=sys.stderr)
    return 0


def rubric_command(bank_id: str, answer: str, lang: str | None) -> int:
    """`rubric BANK_ID --answer TEXT [--lang en|zh]`: one JSON object (docs/cli.md); exit 2
    with one line for an unknown id, a question that is not open, or one without a rubric."""
    import json

    from pydantic import ValidationError

    from bot.app.settings import Settings, configuration_problems
    from bot.core.models import Kind, Lang
    from bot.core.rubric import check_question, is_chinese

    try:
        folder = Settings().content_dir
    except ValidationError as exc:  # one line, never a traceback
        print(f"configuration: {configuration_problems(exc)[0]}", file=sys.stderr)
        return 2
    question = load_bank([folder]).get(bank_id) if folder.exists() else None
    if question is None:
        print(f"unknown question id {bank_id!r}", file=sys.stderr)
        return 2
    if question.kind is not Kind.OPEN:
        kinds = {Kind.MCQ: "multiple choice", Kind.NUMERIC: "numeric"}
        print(f"{bank_id} is not an open question ({kinds[question.kind]})", file=sys.stderr)
        return 2
    text = sys.stdin.read() if answer == "-" else answer
    result = check_question(question, text)
    if result is None:
        print(f"{bank_id} has no rubric yet (docs/rubrics.md)", file=sys.stderr)
        return 2
    shown: Lang = "zh" if lang == "zh" or (lang is None and is_chinese(text)) else "en"
    print(
        json.dumps(
            {
                "id": question.id,
                "lang": shown,
                "key_points": [point.get(shown) for point in question.key_points],
                "covered": list(result.covered),
                "missed": list(result.missed),
                "coverage": round(result.coverage, 3),
                "suggested": result.suggested,
            },
            ensure_ascii=False,
        )
    )
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
