"""The console's open questions with a typed answer (issue #18): several lines ended by an empty
line, the key points ✅/⬜, the coverage and a suggested rating that Enter takes; an empty first
line keeps the reveal-and-rate flow. Real process, real SQLite, through a pipe."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"

pytestmark = pytest.mark.timeout(180)


def console(db: Path, script: str, bank: Path = FIXTURE_BANK) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_", "LC_"))}
    env.update(BOT_DB=str(db), BOT_CONTENT=str(bank), LANG="en_US.UTF-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "ann"],
        input=script,
        capture_output=True,
        text=True,
        cwd=db.parent,  # an interview's report chart is saved in the current folder
        env=env,
        timeout=150,
    )


def test_typed_answer_gets_the_breakdown_and_enter_takes_the_suggestion(tmp_path: Path) -> None:
    script = (
        "question initialization open\n"
        "Every unit computes the same function,\n"
        "and each one gets the same gradient.\n"
        "\n"  # ends the answer
        "\n"  # takes the suggested rating
        "stats\n"
    )
    run = console(tmp_path / "bot.sqlite3", script)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "answer> Every unit computes the same function,\n...> and each one gets" in out
    assert "Your answer against the key points:" in out
    assert "✅ symmetry between units\n✅ identical gradients\n⬜ random init breaks" in out
    assert "Coverage: 2/3 key points (67%) · suggested rating: Hard" in out
    assert "Press Enter to take the suggested rating: hard." in out
    assert out.index("Coverage:") < out.index("Model answer:") < out.index("How did it go?")
    assert "rating> \n✅ Rated: hard." in out
    assert "ann: 0 points, 1/1 correct" in out  # hard counts as answered
    assert "Traceback" not in out + run.stderr


def test_the_user_can_overrule_the_suggestion(tmp_path: Path) -> None:
    script = "question initialization open\nIt is about the learning rate.\n\nagain\nstats\n"
    run = console(tmp_path / "bot.sqlite3", script)
    out = run.stdout
    assert "⬜ symmetry between units\n⬜ identical gradients\n⬜ random init" in out
    assert "suggested rating: Again" in out
    assert "ann: 0 points, 0/1 correct" in out


def test_chinese_answer_is_checked_with_the_chinese_patterns(tmp_path: Path) -> None:
    script = (
        "language zh\nquestion initialization open\n"
        "所有单元计算的是一样的函数，梯度也都相同。\n用随机初始化才能打破对称。\n\ngood\n"
    )
    run = console(tmp_path / "bot.sqlite3", script)
    out = run.stdout
    assert "你的答案对照要点：" in out
    assert "✅ 单元之间的对称性\n✅ 梯度完全相同\n✅ 随机初始化打破对称" in out
    assert "覆盖：3/3 个要点（100%）· 建议自评：很轻松" in out
    assert "✅ 自评：答上了。" in out


def test_empty_first_line_keeps_the_reveal_flow(tmp_path: Path) -> None:
    run = console(tmp_path / "bot.sqlite3", "question initialization open\n\ngood\n")
    out = run.stdout
    assert "Model answer:" in out and "Key points:\n  • symmetry between units" in out
    assert "Your answer against" not in out and "Press Enter to take" not in out


def test_question_without_a_rubric_says_so(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(FIXTURE_BANK, bank)
    practice = bank / "practice.yaml"
    text = practice.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines(keepends=True) if "match:" not in line]
    kept = [line for line in kept if not line.lstrip().startswith(("en: [", "zh: ["))]
    practice.write_text("".join(kept), encoding="utf-8")
    run = console(
        tmp_path / "bot.sqlite3", "question initialization open\nSymmetry.\n\ngood\n", bank
    )
    out = run.stdout
    assert run.returncode == 0, run.stderr
    assert "This question has no rubric yet" in out and "Model answer:" in out
    assert "✅ Rated: good." in out


def test_interview_open_question_takes_a_typed_answer(tmp_path: Path) -> None:
    script = (
        "interview start initialization questions=3\n"
        "Every unit computes the same function, so the gradient is the same for each.\n"
        "\n\nstop\n"
    )
    run = console(tmp_path / "bot.sqlite3", script)
    out = run.stdout
    assert run.returncode == 0, run.stderr
    assert "✅ identical gradients" in out and "⬜ random init breaks the symmetry" in out
    assert "Press Enter to take the suggested rating: hard." in out
    assert "rating> \n✅ Rated: hard." in out
    assert re.search(r"  Q1: correct, \d+s \(key points 67%\)", out)  # the report, after stop
