"""`content validate`: every problem as `file:line: question-id: field: message`, exit 1."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.core.bank import MAX_DEPTH, MAX_NODES, load_bank, parse_document

GOOD = """\
topic: backprop
questions:
  - id: bp-good
    kind: mcq
    difficulty: easy
    text: {en: "What is dL/dz called?", zh: "dL/dz 叫什么?"}
    choices:
      - {en: the delta, zh: 残差}
      - {en: the bias, zh: 偏置}
    answer: A
    explanation: {en: "It is the delta.", zh: "它就是残差。"}
"""

LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<id>[^:]+): (?P<field>[^:]+): (?P<msg>.+)$")


def validate(
    paths: list[Path], capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[dict[str, str]]]:
    code = main(["content", "validate", *map(str, paths)])
    out = capsys.readouterr().out.splitlines()
    parsed = []
    for line in out:
        match = LINE.match(line)
        assert match, f"not in the file:line: id: field: message format: {line!r}"
        parsed.append(match.groupdict())
    return code, parsed


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_good_file_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "good.yaml", GOOD)
    assert validate([path], capsys) == (0, [])


def test_missing_zh_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "a.yaml", GOOD.replace(', zh: "dL/dz 叫什么?"', ""))
    code, problems = validate([path], capsys)
    assert code == 1
    assert problems == [
        {"file": str(path), "line": "6", "id": "bp-good", "field": "text.zh", "msg": "missing"}
    ]


def test_duplicate_id_across_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "a.yaml", GOOD)
    second = write(tmp_path, "b.yaml", GOOD)
    code, problems = validate([tmp_path], capsys)
    assert code == 1
    assert len(problems) == 1
    assert problems[0]["file"] == str(second)
    assert (problems[0]["line"], problems[0]["id"], problems[0]["field"]) == ("3", "bp-good", "id")
    assert "duplicate id" in problems[0]["msg"] and "a.yaml" in problems[0]["msg"]


def test_answer_not_among_choices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "a.yaml", GOOD.replace("answer: A", "answer: E"))
    code, problems = validate([path], capsys)
    assert code == 1
    assert [(p["line"], p["field"]) for p in problems] == [("10", "answer")]
    assert "'E' is not among the choices A-B" in problems[0]["msg"]


def test_unknown_topic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("    kind: mcq", "    topic: quantum_chemistry\n    kind: mcq")
    path = write(tmp_path, "a.yaml", text)
    code, problems = validate([path], capsys)
    assert code == 1
    assert [(p["line"], p["id"], p["field"]) for p in problems] == [("4", "bp-good", "topic")]
    assert "unknown topic 'quantum_chemistry'" in problems[0]["msg"]
    # The same problem in an imported pack's reply: where the topics are, in either language.
    (problem,) = parse_document(text, "a.yaml", frozenset()).problems
    assert "(the topics: /topics in Discord, `python -m bot topics` in a shell)" in problem.text(
        "en"
    )
    assert "未知主题 'quantum_chemistry'（主题列表：Discord 中用 /topics" in problem.text("zh")


def test_yaml_syntax_error_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = GOOD + "  - id: broken\n   kind: mcq\n"
    path = write(tmp_path, "a.yaml", text)
    code, problems = validate([path], capsys)
    assert code == 1
    assert len(problems) == 1
    assert problems[0]["line"] == "13"
    assert problems[0]["msg"].startswith("YAML syntax error")


def test_every_problem_of_a_file_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = GOOD.replace("answer: A", "answer: Z").replace("difficulty: easy", "difficulty: extreme")
    text += (
        "  - id: bp-open\n"
        "    kind: open\n"
        "    difficulty: hard\n"
        '    text: {en: "Derive backprop.", zh: "推导反向传播。"}\n'
        '    explanation: {en: "x", zh: "x"}\n'
        "    key_points: [{en: a, zh: 甲}]\n"
    )
    path = write(tmp_path, "a.yaml", text)
    code, problems = validate([path], capsys)
    assert code == 1
    assert {(p["id"], p["field"]) for p in problems} == {
        ("bp-good", "difficulty"),
        ("bp-good", "answer"),
        ("bp-open", "model_answer"),
    }


def test_unknown_family_is_reported(tmp_path: Path) -> None:
    text = "topic: conv_output\nquestions:\n  - id: c1\n    kind: numeric\n    family: nope\n"
    path = write(tmp_path, "a.yaml", text)
    bank = load_bank([path], known_families={"conv_output"})
    assert [str(p) for p in bank.problems] == [
        f"{path}:5: c1: family: unknown checker family 'nope'"
    ]


def test_cli_prints_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "questions: [\n  {id: x, kind: mcq,\n")
    missing = tmp_path / "nope.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "validate", str(path), str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{path}:3: -: -: YAML syntax error" in result.stdout
    assert f"{missing}:1: -: -: no such file or folder" in result.stderr


def test_select_hands_out_a_list_of_its_own() -> None:
    """select() caches its answers: a caller adding to what it got (the engine adds a server's
    pack questions) must not change what the next caller gets."""
    from bot.core.bank import load_bank
    from bot.core.models import Kind

    bank = load_bank([Path(__file__).resolve().parents[1] / "fixtures" / "bank"], {"conv_output"})
    first = bank.select(None, {Kind.MCQ})
    count = len(first)
    first += first
    assert len(bank.select(None, {Kind.MCQ})) == count


# Budgets: a file from a user (`/admin import`) is parsed within limits, refused as soon as it
# goes over one, with the line where it did.


def test_anchors_and_aliases_are_refused_where_they_appear(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = GOOD.replace("    explanation:", "    explanation: &why")  # an anchor alone
    path = write(tmp_path, "a.yaml", text)
    code, problems = validate([path], capsys)
    assert code == 1
    assert problems == [
        {
            "file": str(path),
            "line": "11",
            "id": "-",
            "field": "-",
            "msg": "anchors and aliases (&name, *name) are not allowed in a question file",
        }
    ]


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    """7 levels of 9 aliases, 324 bytes that stand for 9**7 strings: refused at its first
    anchor, before anything is built (expanded, it took 1.1 GB)."""
    bomb = "questions: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"l{n}: &{chr(97 + n)} [{', '.join([f'*{chr(96 + n)}'] * 9)}]\n" for n in range(1, 7)
    )
    parsed = parse_document(bomb, "bomb.yaml")
    assert [p.text("en") for p in parsed.problems] == [
        "bomb.yaml:1: -: -: anchors and aliases (&name, *name) are not allowed in a question file"
    ]
    assert [p.text("zh") for p in parsed.problems] == [
        "bomb.yaml:1: -: -: 题目文件中不允许使用锚点和别名（&name、*name）"
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("questions:\n  - id: deep\n    text: " + "[" * 5000 + "]" * 5000 + "\n", 3),
        ("questions:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)), MAX_DEPTH + 1),
        ("questions:\n  - id: deep\n    text: " + "{a: " * 5000 + "}" * 5000 + "\n", 3),
    ],
)
def test_deep_nesting_is_a_located_problem(text: str, line: int) -> None:
    parsed = parse_document(text, "deep.yaml")
    assert [str(p) for p in parsed.problems] == [
        f"deep.yaml:{line}: -: -: nested more than {MAX_DEPTH} levels deep"
    ]


def test_too_many_values_are_refused() -> None:
    text = "questions: [" + ", ".join(["1"] * (MAX_NODES + 10)) + "]\n"
    parsed = parse_document(text, "many.yaml")
    assert [str(p) for p in parsed.problems] == [
        f"many.yaml:1: -: -: more than {MAX_NODES} values: split the file"
    ]


def test_the_content_fits_the_budgets() -> None:
    content = Path(__file__).resolve().parents[2] / "content"
    assert load_bank([content]).ok
