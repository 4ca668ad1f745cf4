"""`python -m bot rubric BANK_ID --answer TEXT [--lang en|zh]` (the contract in discord.md)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.__main__ import main

CONTENT = Path(__file__).resolve().parents[2] / "content"
ROOT = CONTENT.parent


def run(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setenv("BOT_CONTENT", str(CONTENT))
    code = main(["rubric", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_object_of_the_contract(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = "LSTM and GRU do not prevent exploding gradients; clipping is still needed."
    code, out, _ = run(["vg-explain", "--answer", answer], capsys, monkeypatch)
    assert code == 0
    data = json.loads(out)
    assert list(data) == [
        "id",
        "lang",
        "key_points",
        "covered",
        "missed",
        "coverage",
        "suggested",
    ]
    assert data["id"] == "vg-explain" and data["lang"] == "en"
    assert len(data["key_points"]) == 5 and data["key_points"][4].startswith("Gated RNNs")
    assert data["covered"] == [4] and data["missed"] == [0, 1, 2, 3]
    assert data["coverage"] == 0.2 and data["suggested"] == "again"


def test_chinese_key_points_and_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("LSTM 并不能防止梯度爆炸。\n"))
    code, out, _ = run(["vg-explain", "--answer", "-", "--lang", "zh"], capsys, monkeypatch)
    data = json.loads(out)
    assert code == 0 and data["lang"] == "zh" and data["covered"] == [4]
    assert data["key_points"][4] == "门控 RNN 并不能防止梯度爆炸"


def test_model_answer_is_easy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _model_answer("vg-diagnose")
    code, out, _ = run(["vg-diagnose", "--answer", text], capsys, monkeypatch)
    data = json.loads(out)
    assert code == 0 and data["missed"] == [] and data["suggested"] == "easy"


@pytest.mark.parametrize(
    ("bank_id", "says"),
    [
        ("no-such-question", "unknown question id"),
        ("vg-sigmoid-max-derivative", "not an open question"),
    ],
)
def test_exit_2_with_one_line(
    bank_id: str, says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run([bank_id, "--answer", "x"], capsys, monkeypatch)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err


def test_as_a_process_reading_stdin() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "rubric", "vg-does-relu-solve-it", "--answer", "-"],
        input="Dead ReLUs: for z < 0 the gradient is zero.\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"BOT_CONTENT": str(CONTENT), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["covered"] == [2]


def _model_answer(bank_id: str) -> str:
    from bot.core.bank import load_bank

    question = load_bank([CONTENT]).get(bank_id)
    assert question is not None and question.model_answer is not None
    return textwrap.dedent(question.model_answer.en)
