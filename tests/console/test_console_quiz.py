"""`quiz` in the console through a pipe: a real process over a real SQLite file.

The quiz bank (tests/fixtures/quiz_bank) has three backprop questions whose answers are B, C
and A, asked in a random order: answering B to each is right exactly once (the easy one, 1
point, +2 for answering in the first third of the time), whatever the order."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.quiz import QuizSettings
from bot.storage.db import Database
from bot.storage.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
QUIZ_BANK = ROOT / "tests" / "fixtures" / "quiz_bank"

pytestmark = pytest.mark.timeout(180)

ROUND = "quiz backprop concept questions=3 seconds=120\n"


def console(db: Path, script: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_", "LC_"))}
    env.update(BOT_DB=str(db), BOT_CONTENT=str(QUIZ_BANK), LANG=lang)
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "ann"],
        input=script,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=150,
    )


def test_a_solo_round_scores_like_a_channel_round_and_counts_once(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    run = console(db, f"{ROUND}B\nZ\nB\nB\nleaderboard\n{ROUND}B\nB\nB\nleaderboard\n")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Traceback" not in out + run.stderr
    assert out.count("Quiz: 3 questions, 120 seconds each.") == 2
    for number in (1, 2, 3):
        assert out.count(f"[Question {number}/3 · 120 s · Backpropagation") == 2
    # each question is revealed after the answer: the verdict, the right answer, why
    assert out.count("✅ Right (B, ") == 2 and out.count("❌ Not right (B, ") == 4
    assert out.count("The answer: B.") == 2 and out.count("The answer: C.") == 2
    assert "The gradient of a composition is the product" in out
    assert "⚠️ Could not read that answer: expected one option letter, A to C." in out
    assert out.count("🥇 ann: 3 points, 1/3 right (33%)") == 2  # each round scores
    board = re.findall(r"^\s+1\s+ann\s+(\d+)\s", out, flags=re.MULTILINE)
    assert board == ["3", "3"]  # the leaderboard counts each question once in its window


def test_bad_settings_a_stop_and_chinese(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    script = (
        "language zh\nquiz questions=2\nquiz seconds=abc\nquiz nosuch\nquiz cnn backprop\n"
        f"{ROUND}B\nstop\nquit\n"
    )
    run = console(db, script)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Traceback" not in out + run.stderr
    assert "⚠️ questions 必须是 3 到 30 之间的整数。" in out
    assert "⚠️ seconds 必须是 10 到 120 之间的整数。" in out
    assert "nosuch" in out and "⚠️ 用法：`quiz [主题]" in out  # unknown topic; two topics
    assert "测验：共 3 题，每题 120 秒。" in out and "[第 1/3 题 · 120 秒 · 反向传播" in out
    assert "[第 2/3 题" in out and "[第 3/3 题" not in out  # stopped at the second
    assert "本轮已结束。" in out and "时间到" not in out
    assert "排名：" in out and "🥇 ann：" in out and "答对" in out
    assert "再见" in out


def test_a_round_left_running_by_a_killed_console_is_ended_by_the_next(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"

    async def leave_a_round_running() -> None:
        database = await Database.open(db)
        try:
            store = SqliteStore(database)
            ann = await store.get_or_create_user("local", "ann", "ann")
            settings = QuizSettings(topic="backprop", questions=3, seconds=60, solo=True)
            _, created = await store.create_quiz_round(
                "local", f"local:{ann.id}", None, ann.id, "en", settings, datetime.now(UTC)
            )
            assert created
        finally:
            await database.close()

    asyncio.run(leave_a_round_running())
    run = console(db, f"{ROUND}B\nB\nB\n")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "Quiz: 3 questions, 120 seconds each." in run.stdout
    assert "Your last round was still open (the console stopped during it)" in run.stdout
    assert run.stdout.index("Your last round") < run.stdout.index("Quiz: 3 questions")
    assert "🥇 ann: 3 points, 1/3 right (33%)" in run.stdout

    async def rounds() -> list[str]:
        database = await Database.open(db)
        try:
            async with (
                database.read() as conn,
                conn.execute("SELECT status FROM quiz_rounds ORDER BY id") as cursor,
            ):
                return [row[0] for row in await cursor.fetchall()]
        finally:
            await database.close()

    assert asyncio.run(rounds()) == ["stopped", "finished"]


def test_a_console_killed_mid_round_shows_that_rounds_standings_at_the_next(
    tmp_path: Path,
) -> None:
    """SIGKILL after one answer: the next `quiz` says the round was still open, ends it and
    shows its standings (the answer counted), then plays the new round."""
    db = tmp_path / "bot.sqlite3"

    async def answer_once_then_die() -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
        env.update(BOT_DB=str(db), BOT_CONTENT=str(QUIZ_BANK), LANG="en_US.UTF-8")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "console", "--user", "ann",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT, env=env,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        out = ""

        async def until(text: str) -> None:
            nonlocal out
            while text not in out:
                line = await asyncio.wait_for(process.stdout.readline(), 60)  # type: ignore[union-attr]
                assert line, out
                out += line.decode()

        process.stdin.write(ROUND.encode())
        await until("[Question 1/3")
        process.stdin.write(b"B\n")
        await until("[Question 2/3")  # the first answer was recorded and revealed
        process.kill()
        await process.wait()

    asyncio.run(answer_once_then_die())
    run = console(db, f"{ROUND}B\nB\nB\n")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    before, _, after = run.stdout.partition("Quiz: 3 questions, 120 seconds each.")
    assert "Your last round was still open" in before
    assert re.search(r"🥇 ann: \d+ points?, [01]/1 right", before), before
    assert "🥇 ann: 3 points, 1/3 right (33%)" in after


def test_a_round_of_one_question_says_one_question(tmp_path: Path) -> None:
    run = console(tmp_path / "bot.sqlite3", "quiz backprop easy questions=3\nB\n")
    assert "Only 1 question matches (you asked for 3): the round has 1 question." in run.stdout
    assert "Quiz: 1 question, 20 seconds each." in run.stdout, run.stdout


def test_quiz_stop_or_status_at_the_prompt_says_no_round_runs(tmp_path: Path) -> None:
    """`/quiz stop|status` exist in Discord; at the console's prompt no round runs (a round
    has its own prompt), so they say so and how to start one, not "unknown topic"."""
    run = console(tmp_path / "bot.sqlite3", "quiz stop\nquiz status\nlanguage zh\nquiz stop\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("No quiz round is running: `quiz [TOPIC] ...` starts one") == 2
    assert "没有进行中的测验：用 `quiz [主题] ...` 开始一轮" in run.stdout
    assert "Unknown topic" not in run.stdout and "没有这个主题" not in run.stdout
