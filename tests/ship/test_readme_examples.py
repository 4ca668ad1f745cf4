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


def test_the_readme_pipe_example_runs_as_written(tmp_path: Path) -> None:
    """`printf '...' | python -m bot console` from the README, with the shipped bank: its
    answer line is read as an answer and `stats` is shown, whatever question is drawn."""
    import os
    import shlex
    import subprocess
    import sys

    (script,) = re.findall(r"It reads from a pipe too: `printf '([^']*)' \| python -m bot console`",
                           README.read_text(encoding="utf-8"))  # fmt: skip
    lines = shlex.split(f"'{script}'")[0].replace("\\n", "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_", "LC_"))}
    env.update(BOT_DB=str(tmp_path / "bot.sqlite3"), LANG="en_US.UTF-8")
    for _ in range(3):  # three draws
        run = subprocess.run(
            [sys.executable, "-m", "bot", "console"],
            input=lines, capture_output=True, text=True, env=env, timeout=120,
            cwd=README.parent,
        )  # fmt: skip
        assert run.returncode == 0 and "Traceback" not in run.stdout + run.stderr, run.stderr
        assert "I could not read that answer" not in run.stdout, run.stdout
        assert "Reviews due:" in run.stdout, run.stdout  # `stats` was shown
