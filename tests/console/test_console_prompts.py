"""What a new user met in the console: the prompts in the reply language, Chinese rating names
accepted, `skip` at an open question's answer, `quiz mcq|open`, the `quiz` help line, and
`content validate` on a missing file. Real process, real SQLite, through a pipe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .test_console_quiz import QUIZ_BANK
from .test_console_rubric import console

pytestmark = pytest.mark.timeout(180)


def test_chinese_prompts_and_rating_names(tmp_path: Path) -> None:
    script = (
        "language zh\n"
        "question initialization open\n"
        "跟学习率有关。\n\n"
        "随便\n"  # not a rating: told which words are
        "勉强\n"  # the Chinese name the prompt shows
        "question initialization open\n"
        "跳过\n"  # at the answer prompt: skipped, not graded
        "quiz vanishing_gradients\nstop\n"
    )
    run = console(tmp_path / "bot.sqlite3", script)
    out = run.stdout
    assert run.returncode == 0 and "Traceback" not in out + run.stderr, run.stderr
    assert "答案> 跟学习率有关。\n...> \n" in out
    assert (
        "评分> 随便\n⚠️ 请输入 again/hard/good/easy 或 没答上/勉强/答上了/很轻松，"
        "或输入 `skip` 不评分。\n评分> 勉强\n" in out
    )
    assert "评分> 勉强\n✅ 自评：勉强。\n" in out
    assert "答案> 跳过\n已跳过。\n" in out
    assert "测验> stop\n" in out
    for english in ("answer> ", "rating> ", "quiz> "):
        assert english not in out


def test_english_skip_quiz_kinds_and_help(tmp_path: Path) -> None:
    script = (
        "question initialization open\nskip\n"
        "quiz mcq\nquiz open\nhelp\n"
        "quiz vanishing_gradients\nstop\n"
    )
    run = console(tmp_path / "bot.sqlite3", script)
    out = run.stdout
    assert run.returncode == 0 and "Traceback" not in out + run.stderr, run.stderr
    assert "answer> skip\nSkipped.\n" in out
    assert "Rated" not in out and "Model answer:" not in out  # not graded, not revealed
    for kind in ("mcq", "open"):
        assert f"⚠️ `{kind}` is not a quiz kind: a quiz asks concept|numeric|any questions" in out
    assert "Unknown topic" not in out
    assert "quiz [TOPIC] [concept|numeric|any] [easy|medium|hard] [questions=N] [seconds=S]" in out
    assert "quiz> stop\n" in out


def test_content_validate_on_a_missing_file_is_one_problem() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "content", "validate", "/nonexistent/questions.yaml"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=QUIZ_BANK,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "/nonexistent/questions.yaml:1: -: -: no such file or folder",
        "1 problem(s) found; 0 question(s) are valid.",
    ]
