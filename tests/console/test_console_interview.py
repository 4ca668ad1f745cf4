"""A mock interview in the console through a pipe: a real process over a real SQLite file.

The deadline passes while the console waits for the answer: the test, once it has seen the
question, moves the saved question's deadline into the past (the state is JSON in SQLite), as
if the user had taken too long, then types the answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"

pytestmark = pytest.mark.timeout(180)


class Console:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.out = ""

    async def until(self, text: str) -> str:
        """Everything printed so far, once `text` has been printed (60 s at most: idle, the
        console answers in well under a second)."""
        assert self.process.stdout is not None
        while text not in self.out:
            line = await asyncio.wait_for(self.process.stdout.readline(), 60)
            assert line, f"the console ended before {text!r}:\n{self.out}"
            self.out += line.decode()
        return self.out

    async def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()


async def open_console(db: Path, lang: str) -> Console:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_", "LC_"))}
    env.update(BOT_DB=str(db), BOT_CONTENT=str(FIXTURE_BANK), LANG=lang, PYTHONPATH=str(ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "console",
        "--user",
        "ann",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=db.parent,  # the report's chart is saved in the current folder
        env=env,
    )
    return Console(process)


def run_out_the_clock(db: Path) -> None:
    """Move the open question's time two minutes into the past."""
    with sqlite3.connect(db) as conn:
        ((interview_id, state),) = conn.execute(
            "SELECT id, state FROM interviews WHERE status = 'active'"
        ).fetchall()
        data = json.loads(state)
        item = data["items"][-1]
        for key in ("shown_at", "deadline"):
            item[key] = (datetime.fromisoformat(item[key]) - timedelta(minutes=2)).isoformat()
        conn.execute(
            "UPDATE interviews SET state = ?, version = version + 1 WHERE id = ?",
            (json.dumps(data), interview_id),
        )


async def finish(console: Console) -> tuple[str, str]:
    assert console.process.stdin is not None
    console.process.stdin.close()
    out, err = await asyncio.wait_for(console.process.communicate(), 60)
    assert console.process.returncode == 0, err.decode()
    return console.out + out.decode(), err.decode()


async def test_a_late_answer_shows_the_solution_and_the_report_counts_agree(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bot.sqlite3"
    console = await open_console(db, "en_US.UTF-8")
    await console.type("interview start vanishing_gradients questions=3 minutes=1")
    out = await console.until("largest value of the derivative")
    assert "\nQ1 of 3 · " in out and "  ·" not in out
    assert "questions (+ a follow-up after a miss, at most 1)" in out
    run_out_the_clock(db)
    await console.type("C")  # too late
    out = await console.until("\nQ1 follow-up · ")
    assert "⏰ Time had run out on Q1: this answer came late and does not count." in out
    assert "❌ C is not right" in out
    assert "The answer is B. σ'(x) = σ(x)(1 - σ(x)) peaks at x = 0" in out
    await console.until("largest value of the derivative")
    await console.type("")  # empty lines are ignored: the time-out is not told again
    await console.type("")
    await console.type("B")  # the follow-up, in time
    out = await console.until("\nQ2 of 3 · ")
    assert out.count("⏰ Time had run out on Q1") == 1, out
    await console.type("stop")
    await console.until("Chart: ")
    await console.type("stats")
    out, err = await finish(console)
    assert (
        "Report (stopped early): 1/1 correct · 1 timed out · 1 not answered · "
        "2 questions + 1 follow-up · 1 point · 0 hints"
    ) in out
    assert "  Q1: timed out, 60s\n  Q1 follow-up: correct," in out
    assert "  Q2: not answered, -" in out
    assert "review Vanishing and exploding gradients · “What is the largest value" in out
    assert "fx-sigmoid-max:" not in out and "family:" not in out
    assert "ann: 1 point, 1/1 correct (100%)" in out  # stats agrees with the report
    assert (tmp_path / "interview-1.png").exists()
    no_command = out.replace(str(tmp_path / "interview-1.png"), "")  # the chart's path
    assert "/interview" not in no_command and "Traceback" not in out + err


async def test_an_open_answer_written_past_the_deadline_is_told_late_before_any_rating(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bot.sqlite3"
    console = await open_console(db, "en_US.UTF-8")
    await console.type("interview start initialization questions=3 minutes=1")
    await console.until("not all start at zero")
    run_out_the_clock(db)
    await console.type("Symmetry: every unit would learn the same thing.")
    await console.type("")  # the end of the answer
    out = await console.until("Time had run out on Q1")
    assert "⏰ Time had run out on Q1: this answer came late and does not count." in out
    assert "How did it go?" not in out  # no rating asked for an answer that cannot count
    await console.type("stop")
    out, err = await finish(console)
    assert "Traceback" not in out + err


async def test_chinese_interview_texts(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    console = await open_console(db, "zh_CN.UTF-8")
    await console.type("interview start vanishing_gradients questions=3 minutes=1")
    out = await console.until("sigmoid 函数导数的最大值")
    assert "\n第 1 题（共 3 题） · 剩余" in out
    run_out_the_clock(db)
    await console.type("C")
    out = await console.until("\n第 1 题追问 · ")
    assert "⏰ 第 1 题已超时：这个答案来得太晚，不计入成绩。" in out
    assert "正确答案是 B。" in out
    await console.type("stop")
    out, err = await finish(console)
    assert "面试报告（提前结束）：答对 0/0 · 超时 1 题 · 未作答 1 题 · 1 道题 + 1 道追问" in out
    assert "  第 1 题：超时，60 秒" in out
    assert "Traceback" not in out + err
