"""The console's `demo` command through a pipe: a real process, a real demo worker, a real PNG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.timeout(180)


def console_in(folder: Path, script: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot console` run in ``folder`` (its current folder), fed ``script``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_", "LC_"))}
    env.update(
        BOT_DB=str(folder / "bot.sqlite3"),
        BOT_CONTENT=str(FIXTURE_BANK),
        LANG="en_US.UTF-8",
        PYTHONPATH=str(ROOT),
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "dee"],
        input=script,
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=150,
    )


def test_demo_saves_a_png_in_the_current_folder_and_prints_the_caption(tmp_path: Path) -> None:
    script = (
        "demo vanishing layers=1000\n"  # refused before any worker starts
        "demo nope\n"
        "demo vanishing layers=10\n"
        "demo rnn steps=12 cell=gru --out pics/\n"
        "quit\n"
    )
    run = console_in(tmp_path, script)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Traceback" not in out + run.stderr

    assert (
        "⚠️ invalid parameters for vanishing: layers: Input should be less than or equal to 60"
        in out
    )
    assert "⚠️ unknown demo 'nope'; available: gan, rnn, vanishing" in out

    png = tmp_path / "demo-vanishing.png"
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert png.stat().st_size > 10_000
    assert "Weight-gradient norm per layer of a 10-layer MLP" in out
    assert "||dL/dW_1|| / ||dL/dW_10||: sigmoid + Xavier" in out
    assert f"Saved: {png}" in out
    # A progress bar while it runs: empty first, full at the end.
    bars = [line.strip() for line in out.splitlines() if line.strip().startswith("[")]
    assert bars[0].endswith(" 0%") and bars[0].startswith("[░")
    assert "[████████████████████] 100%" in bars
    # The worker started once, for the first demo.
    assert out.count("Starting the demo worker") == 1

    rnn = tmp_path / "pics" / "demo-rnn.png"
    assert rnn.read_bytes().startswith(PNG_SIGNATURE)
    assert "T = 12" in out and f"Saved: {rnn}" in out
    # The caption comes before the path, after the bar.
    assert out.index("T = 12") < out.index(f"Saved: {rnn}")
