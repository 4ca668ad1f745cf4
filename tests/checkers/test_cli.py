"""The `check` command: a few real subprocesses (exit codes, stderr, --batch, --list), and every
family in-process through `main()`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.checkers import TorchCheckers
from bot.checkers.cli import main

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "bot.checkers.cli"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120
    )


def call(*args: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# --- real processes ---------------------------------------------------------------------------


def test_subprocess_answer_and_seed() -> None:
    done = run("conv_output", "n=224", "k=11", "s=4", "p=2", "--answer", "55")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["family"] == "conv_output"
    assert result["params"] == {"n": 224, "k": 11, "s": 4, "p": 2, "d": 1}
    assert result["expected"] == 55 and result["correct"] is True
    assert result["feedback"].startswith("✅")

    done = run("conv_params", "--seed", "5", "--answer", "-1")  # a negative answer, not an option
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["correct"] is False and result["feedback"].startswith("❌")
    assert result["question"]["en"] and result["question"]["zh"]


BAD_REQUESTS = [
    (["nope", "n=1"], ["unknown family", "nope"]),
    (["conv_output", "k=3"], ["missing parameter", "'n'"]),
    (["conv_output", "n=32", "k=3", "bogus=1"], ["unknown parameter", "'bogus'"]),
    (["conv_output", "n=abc", "k=3"], ["'n'"]),
    (["conv_output", "n=32", "k=3", "s=2", "p=same"], ["same", "stride"]),
    (["conv_output", "n=3", "k=5"], ["output size"]),
    (["conv_output", "--frobnicate"], ["unknown option"]),
    (["--batch", "/nonexistent/requests.jsonl"], ["cannot read"]),
]


@pytest.mark.parametrize(("args", "words"), [BAD_REQUESTS[i] for i in (0, 1, 4, 7)])
def test_subprocess_bad_requests_exit_2(args: list[str], words: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(("args", "words"), BAD_REQUESTS)
def test_bad_requests_exit_2(args: list[str], words: list[str]) -> None:
    code, out, err = call(*args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0]


def test_subprocess_batch_goes_on_after_bad_lines(tmp_path: Path) -> None:
    requests = tmp_path / "bank.jsonl"
    requests.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "family": "conv_params",
                        "params": {"c_in": 3, "c_out": 96, "k": 11},
                        "answer": "34,944",
                    }
                ),
                "this is not json",
                json.dumps({"family": "conv_output", "params": {"n": 3, "k": 5}}),
                json.dumps({"family": "nope", "seed": 1}),
                "",
                json.dumps({"family": "rnn_params", "seed": 7, "answer": 12, "id": "q7"}),
                json.dumps(
                    {
                        "family": "linear_params",
                        "params": {"n_in": 784, "n_out": 10},
                        "answer": "7850",
                    }
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    done = run("--batch", str(requests))
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == 6  # the blank line is skipped
    assert results[0]["correct"] is True
    assert "error" in results[1] and results[1]["error"].startswith("line 2")
    assert "output size" in results[2]["error"]
    assert "unknown family" in results[3]["error"]
    assert results[4]["id"] == "q7" and results[4]["correct"] is False
    assert results[4]["question"]["zh"]
    assert results[5]["correct"] is True


def test_subprocess_list_shows_families_parameters_and_defaults() -> None:
    done = run("--list")
    assert done.returncode == 0, done.stderr
    listed = {family["name"]: family for family in json.loads(done.stdout)}
    assert set(listed) == set(TorchCheckers().family_names())
    for family in listed.values():
        assert family["expected"] and family["parameters"]
        for param in family["parameters"]:
            assert param["required"] or "default" in param, (family["name"], param)
    conv = {p["name"]: p for p in listed["conv_output"]["parameters"]}
    assert conv["s"]["default"] == 1 and conv["d"]["default"] == 1 and conv["n"]["required"]
    optim = {p["name"]: p for p in listed["optimizer_step"]["parameters"]}
    assert optim["betas"]["default"] == [0.9, 0.999] and optim["lr"]["required"]


# --- in-process: every family ----------------------------------------------------------------


@pytest.mark.parametrize("family", TorchCheckers().family_names())
def test_every_family_through_the_cli(checkers: TorchCheckers, family: str) -> None:
    code, out, err = call(family, "--seed", "11")
    assert code == 0, err
    seeded = json.loads(out)
    assert seeded["correct"] is None and seeded["question"]["en"] and seeded["question"]["zh"]

    # The same question by its parameters, written key=value as an author would.
    args = [f"{key}={json.dumps(value)}" for key, value in seeded["params"].items()]
    code, out, err = call(family, *args, "--answer", json.dumps(seeded["expected"]))
    assert code == 0, err
    by_params = json.loads(out)
    assert by_params["params"] == seeded["params"]
    assert by_params["expected"] == seeded["expected"]
    assert by_params["correct"] is True and by_params["feedback"].startswith("✅")

    code, out, _ = call(family, *args, "--answer", "not a number")
    unreadable = json.loads(out)
    assert code == 0 and unreadable["correct"] is False
    assert unreadable["verdict"] == "unreadable" and unreadable["feedback"].startswith("⚠️")


def test_values_are_json_where_they_parse() -> None:
    code, out, err = call("receptive_field", "k=[7,3]", "s=[2,2]")
    assert code == 0, err
    assert json.loads(out)["expected"] == 11
    code, out, err = call(
        "rnn_params", "cell=lstm", "input_size=100", "hidden_size=256", "bidirectional=false"
    )
    assert code == 0, err
    assert json.loads(out)["params"]["bidirectional"] is False
    code, out, err = call("activation", "fn=relu", "x=0", "derivative=true", "--answer=0")
    assert code == 0, err
    assert json.loads(out)["correct"] is True


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["conv_output", "n=1", "n=2", "k=1"],
        ["conv_output", "n=5", "k=3", "--seed", "1"],
        ["conv_output", "--seed", "minus"],
        ["conv_output", "--seed", "-3"],
        ["--list", "conv_output"],
        ["--batch", "-", "conv_output"],
        ["conv_output", "--answer"],
        ["conv_output", "n=5", "stray"],
    ],
)
def test_in_process_usage_errors(args: list[str]) -> None:
    code, out, err = call(*args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error:")


def test_batch_from_stdin_keeps_order_and_echoes_ids() -> None:
    lines = [
        {"family": "dropout_scale", "params": {"p": 0.5}, "answer": "2", "id": 1},
        {"family": "dropout_scale", "params": {"p": 0.5}, "answer": 0.5, "id": 2},
        {"family": "dropout_scale", "params": {"p": 0.5}, "seed": 3},
        {"family": "dropout_scale", "bogus": True},
        [1, 2, 3],
        {
            "family": "gan_optimal_discriminator",
            "params": {"p_data": 0.3, "p_g": 0.1},
            "answer": "75%",
        },
    ]
    code, out, err = call("--batch", "-", stdin="\n".join(json.dumps(x) for x in lines))
    assert code == 0, err
    results: list[dict[str, Any]] = [json.loads(line) for line in out.splitlines()]
    assert [r.get("id") for r in results[:2]] == [1, 2]
    assert results[0]["correct"] is True
    assert results[1]["correct"] is False and results[1]["mistake"] == "keep_probability"
    assert "not both" in results[2]["error"]
    assert "bogus" in results[3]["error"]
    assert "JSON object" in results[4]["error"]
    assert results[5]["correct"] is True


def test_help() -> None:
    code, out, _ = call("--help")
    assert code == 0 and "--batch" in out


# --- `--list`: a table for people, JSON for programs (issue 12) ---------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_list_on_a_terminal_is_a_readable_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    out = _Terminal()
    assert main(["--list"], stdout=out, stderr=io.StringIO()) == 0
    text = out.getvalue()
    lines = text.splitlines()
    assert not text.lstrip().startswith("[")
    assert max(len(line) for line in lines) <= 100  # fits the terminal, not one 10 kB line
    assert "conv_output" in lines[0] and "n, k, s=1, p=0, d=1" in lines[0]
    assert lines[1].strip() == "→ output size of nn.Conv2d along one spatial dim"
    for name in TorchCheckers().family_names():
        assert any(line.startswith(f"{name} ") for line in lines), name
    assert f"{len(TorchCheckers().family_names())} families." in text


def test_list_is_json_with_json_or_when_not_a_terminal() -> None:
    on_terminal = _Terminal()
    assert main(["--list", "--json"], stdout=on_terminal, stderr=io.StringIO()) == 0
    piped = io.StringIO()
    assert main(["--list"], stdout=piped, stderr=io.StringIO()) == 0
    for out in (on_terminal, piped):
        listed = json.loads(out.getvalue())
        assert {family["name"] for family in listed} == set(TorchCheckers().family_names())
