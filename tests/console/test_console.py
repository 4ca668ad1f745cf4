"""The local console, as a person would use it through a pipe: real process, real SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"

pytestmark = pytest.mark.timeout(180)


def console(
    db: Path, script: str, *args: str, lang: str = "en_US.UTF-8"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_", "LC_"))}
    env.update(BOT_DB=str(db), BOT_CONTENT=str(FIXTURE_BANK), LANG=lang)
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=150,
    )


def test_answer_then_find_the_point_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "data" / "bot.sqlite3"
    first = console(db, "help\nquestion vanishing_gradients mcq\nB\nquit\n", "--user", "ann")
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "Hello ann!" in out
    assert "question [TOPIC]" in out  # help lists the commands
    assert "fx-sigmoid-max" in out and "  B. 0.25" in out
    assert "✅ Correct: B." in out
    assert "peaks at x = 0" in out  # the explanation follows the verdict
    assert "+1 point\n" in out
    assert "Traceback" not in out + first.stderr

    second = console(db, "stats\n", "--user", "ann")  # ends with end of input, not quit
    assert second.returncode == 0, second.stderr
    assert "ann: 1 point, 1/1 correct (100%)" in second.stdout
    assert "Bye." in second.stdout


def test_bad_input_gets_a_message_and_costs_nothing(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    script = "frobnicate\nquestion nosuchtopic\nquestion vanishing_gradients mcq\nZ\nC\nstats\n"
    run = console(db, script, "--user", "bob")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "⚠️ Unknown command `frobnicate`" in out
    assert "⚠️ `nosuchtopic` is not a topic, kind or difficulty" in out
    assert "⚠️ Could not read that answer: expected one option letter, A to D." in out
    assert "❌ C is not right: 0.5 is σ(0), not its slope. The answer is B." in out
    assert "bob: 0 points, 0/1 correct (0%)" in out
    assert "Traceback" not in out + run.stderr


def test_numeric_and_open_questions_and_chinese(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    script = "language zh\nquestion conv_output\nskip\nquestion initialization\n\ngood\nstats\n"
    run = console(db, script, "--user", "cai")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "语言已设为：zh。" in out
    assert "conv_output:" in out  # the FAMILY:SEED reference of a generated question
    assert "已跳过。" in out
    assert "参考答案：" in out and "单元之间的对称性" in out
    assert "✅ 自评：答上了。" in out
    assert "cai：0 分，答对 1/1（100%）" in out


def test_numeric_questions_from_each_area(tmp_path: Path) -> None:
    """The real bank serves a generated question in every area, with its FAMILY:SEED."""
    env_bank = ROOT / "content"
    script = "".join(f"question {area} numeric\nskip\n" for area in ("basics", "cnn", "rnn", "gan"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_", "LC_"))}
    env.update(BOT_DB=str(tmp_path / "bot.sqlite3"), BOT_CONTENT=str(env_bank), LANG="en_US.UTF-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=script,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=150,
    )
    assert run.returncode == 0, run.stderr
    headers = [line for line in run.stdout.splitlines() if line.startswith("[")]
    assert len(headers) == 4, run.stdout
    for header in headers:
        assert " · numeric · " in header
        ref = header.rstrip("]").rsplit(" · ", 1)[1]
        family, _, seed = ref.partition(":")
        assert family and seed.isdigit(), header


def test_review_with_nothing_due_says_so_without_loading_the_checker(tmp_path: Path) -> None:
    """The numeric checker (torch) takes seconds to load the first time: a review with nothing
    due needs none of it (it loaded it, then said there was nothing)."""
    run = console(tmp_path / "bot.sqlite3", "review\n", "--user", "ann")
    assert run.returncode == 0, run.stderr
    assert "Nothing is due for review." in run.stdout
    assert "Loading the numeric checker" not in run.stdout
