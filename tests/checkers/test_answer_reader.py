"""bot/core/answers.py: every accepted form, the tolerances, and a fuzz run of hostile input."""

from __future__ import annotations

import ast
import builtins
import random
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.core.answers
from bot.core.answers import (
    AnswerFormatError,
    KnownMistake,
    Tolerance,
    format_expected,
    grade_numeric,
    read_answer,
    read_choice,
    read_number,
    read_numbers,
)
from bot.core.models import Localized, Verdict
from bot.shared.feedback import form_text, refusal_text
from bot.shared.texts import grade_text

# --- accepted forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("34944", 34944),
        ("34,944", 34944),
        ("34 944", 34944),
        ("34\u202f944", 34944),  # narrow no-break space, as French keyboards type it
        ("34_944", 34944),
        ("1,234,567", 1234567),
        ("3.4944e4", 34944),
        ("3.4944E+4", 34944),
        ("1/4", Fraction(1, 4)),
        ("-1/4", Fraction(-1, 4)),
        ("0.25", Fraction(1, 4)),
        (".25", Fraction(1, 4)),
        ("5.", 5),
        ("−0.5", Fraction(-1, 2)),  # U+2212 minus sign
        ("- 0.5", Fraction(-1, 2)),
        ("３４９４４", 34944),  # full-width digits
        ("３４，９４４", 34944),  # full-width comma
        ("０．２５", Fraction(1, 4)),
        ("  42  ", 42),
        ("≈0.3", Fraction(3, 10)),
        ("= 42", 42),
        ("约 42", 42),
        ("0.25。", Fraction(1, 4)),
        ("(1/4)", Fraction(1, 4)),
        ("[55]", 55),
        ("61.1M", 61_100_000),
        ("12k", 12_000),
        ("3.5万", 35_000),
        ("1.38亿", 138_000_000),
        ("1e-309", Fraction(1, 10**309)),
        ("3.4944×10^4", 34944),
        ("3.4944 x 10^4", 34944),
        ("2.5*10**-3", Fraction(1, 400)),
        ("１／４", Fraction(1, 4)),
    ],
)
def test_reads_numbers(text: str, value: Fraction | int) -> None:
    assert read_number(text) == value


def test_percent_only_where_a_fraction_is_asked() -> None:
    assert read_number("25%", percent_ok=True) == Fraction(1, 4)
    assert read_number("12.5 %", percent_ok=True) == Fraction(1, 8)
    assert read_number("２５％", percent_ok=True) == Fraction(1, 4)
    with pytest.raises(AnswerFormatError):
        read_number("25%")


@pytest.mark.parametrize(
    ("text", "count", "values"),
    [
        ("[0.9, 0.71]", 2, [Fraction(9, 10), Fraction(71, 100)]),
        ("[0.9，0.71]", 2, [Fraction(9, 10), Fraction(71, 100)]),
        ("（0.9， 0.71）", 2, [Fraction(9, 10), Fraction(71, 100)]),
        ("(64, 55, 55)", 3, [64, 55, 55]),
        ("64x55x55", 3, [64, 55, 55]),
        ("64×55×55", 3, [64, 55, 55]),
        ("64 × 55 × 55", 3, [64, 55, 55]),
        ("64*55*55", 3, [64, 55, 55]),
        ("0.1 0.2 0.7", 3, [Fraction(1, 10), Fraction(1, 5), Fraction(7, 10)]),
        ("0.1; 0.2; 0.7", 3, [Fraction(1, 10), Fraction(1, 5), Fraction(7, 10)]),
        ("[1/4, 3/4,]", 2, [Fraction(1, 4), Fraction(3, 4)]),
        ("[-1e-3, 2.5e2]", 2, [Fraction(-1, 1000), 250]),
        ("5", 1, [5]),
    ],
)
def test_reads_lists_and_shapes(text: str, count: int, values: list[Any]) -> None:
    assert read_numbers(text, count) == values


def test_commas_in_a_list_separate_items_not_thousands() -> None:
    assert read_numbers("[1,234]", 2) == [1, 234]
    assert read_number("1,234") == 1234


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "1e999999",
        "1e400000000000",
        "9" * 200,
        "0,25",  # a decimal comma is ambiguous with thousands: ask for a point
        "1,23",
        "12,34,567",
        "1/0",
        "1/2/3",
        "[[1]]",
        "[1",
        "(1]",
        "0x10",
        "1e",
        "--1",
        "1 2",
        "__import__('os').system('x')",
        "2**10",
        "2^10",
        "3×10^999999",
        "3.4944×104",  # what NFKC makes of 10⁴: refused rather than misread
        "١٢٣",  # Arabic-Indic digits: int() would accept them, the reader must not
    ],
)
def test_unreadable_scalars(text: str) -> None:
    with pytest.raises(AnswerFormatError) as info:
        read_number(text)
    form = form_text(info.value.expected_form)
    assert form.en and form.zh


def test_wrong_list_length_is_unreadable_with_the_expected_form() -> None:
    with pytest.raises(AnswerFormatError) as info:
        read_answer("[1, 2]", [0.1, 0.2, 0.3])
    form = form_text(info.value.expected_form)
    assert "3" in form.en and "3" in form.zh
    with pytest.raises(AnswerFormatError):
        read_answer("(64, 55)", [64, 55, 55])


def test_read_choice_still_works() -> None:
    assert read_choice("B", 4) == 1
    assert read_choice("(b)", 4) == 1
    assert read_choice("２", 4) == 1
    assert read_choice("（Ｃ）", 4) == 2
    with pytest.raises(AnswerFormatError):
        read_choice("E", 4)


# --- tolerances and grading ----------------------------------------------------------------


def test_integers_are_exact() -> None:
    assert grade_numeric("34944", 34944).verdict is Verdict.CORRECT
    assert grade_numeric("3.4944e4", 34944).verdict is Verdict.CORRECT
    assert grade_numeric("34943", 34944).verdict is Verdict.INCORRECT
    assert grade_numeric("34944.5", 34944).verdict is Verdict.INCORRECT
    assert grade_numeric("3.494e4", 34944).mistake == "rounded"


def test_reals_within_relative_tolerance() -> None:
    assert grade_numeric("0.2984", 0.298371109).verdict is Verdict.CORRECT
    assert grade_numeric("0.2981", 0.298371109).verdict is Verdict.CORRECT  # 0.9e-3 off
    assert grade_numeric("0.2980", 0.298371109).verdict is Verdict.INCORRECT  # 1.2e-3 off
    assert grade_numeric("0.2970", 0.298371109).verdict is Verdict.INCORRECT
    assert grade_numeric("0.2970", 0.298371109).mistake == "imprecise"


def test_absolute_tolerance_near_zero_and_a_family_override() -> None:
    assert grade_numeric("0", 4e-7).verdict is Verdict.CORRECT
    strict = Tolerance(rel=1e-3, abs=0.0)
    assert grade_numeric("0", 4e-7, tolerance=strict).verdict is Verdict.INCORRECT
    assert grade_numeric("4.0e-7", 4e-7, tolerance=strict).verdict is Verdict.CORRECT


def test_lists_element_by_element() -> None:
    expected = [0.242, 0.657, -0.899]
    assert grade_numeric("[0.242, 0.657, -0.899]", expected).correct
    assert not grade_numeric("[0.242, 0.657, 0.899]", expected).correct
    assert grade_numeric("[0.242, 0.657]", expected).verdict is Verdict.UNREADABLE
    assert grade_numeric("64x55x55", [64, 55, 55]).correct
    assert format_expected([64, 55, 55]) == "(64, 55, 55)"


def test_known_mistake_feedback_and_markers() -> None:
    bias = KnownMistake("forgot_bias", 34848, Localized(en="Biases!", zh="偏置！"))
    grade = grade_numeric("34,848", 34944, mistakes=[bias])
    assert grade.verdict is Verdict.INCORRECT and grade.mistake == "forgot_bias"
    assert grade_text(grade).en.startswith(Verdict.INCORRECT.marker)
    assert "Biases!" in grade_text(grade).en and "偏置！" in grade_text(grade).zh
    assert grade.expected == "34,944"
    unreadable = grade_numeric("lots", 34944, mistakes=[bias])
    assert unreadable.verdict is Verdict.UNREADABLE and unreadable.expected is None
    assert grade_text(unreadable).en.startswith("⚠️") and grade_text(unreadable).zh.startswith("⚠️")
    assert "34944" in grade_text(unreadable).en  # the example form, not the answer revealed


# --- hostile input ---------------------------------------------------------------------------

SENTINEL = Path("/tmp/checkers-fuzz-sentinel")
PIECES = [
    "1",
    "0",
    "9" * 40,
    "-",
    "+",
    ".",
    ",",
    "，",
    "e",
    "E",
    "e999999",
    "e-999999",
    "/",
    "%",
    "x",
    "×",
    "*",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    " ",
    "\t",
    "\n",
    "\u200b",
    "\u202f",
    "nan",
    "inf",
    "Infinity",
    "NaN",
    "１２３",
    "٣",
    "𝟗",
    "½",
    "²",
    "万",
    "亿",
    "M",
    "k",
    "¹⁰",
    "ﷺ",
    "\x00",
    "\udcff",
    "'",
    '"',
    "\\",
    "__import__('os').system('touch /tmp/checkers-fuzz-sentinel')",
    "exec('import os')",
    "lambda: 0",
    "0x1p3",
    "1_000",
    "١٢٣",
    "-0",
    "≈",
    "约",
    "。",
]


def hostile_strings(count: int, rng: random.Random) -> list[str]:
    fixed = [
        "",
        "1e999999",
        "-1e999999",
        "1e-999999",
        "nan",
        "inf",
        "-inf",
        "[" * 1000 + "1" + "]" * 1000,
        "(" * 1000,
        "1" * 5000,
        "1," * 2500,
        "[" + ", ".join(["0.5"] * 3000) + "]",
        "ﷺ" * 300,  # NFKC turns each into 18 characters
        "9" * 1999,
        "1/" + "0" * 100,
        "1e400/1e-400",
        "__import__('os').system('touch /tmp/checkers-fuzz-sentinel')",
        "open('/etc/passwd').read()",
        "().__class__.__base__.__subclasses__()",
    ]
    out = list(fixed)
    while len(out) < count:
        size = rng.choice([1, 2, 3, 5, 8, 20, 60])
        out.append("".join(rng.choice(PIECES) for _ in range(size)))
    return out


EXPECTATIONS: list[Any] = [34944, 0.25, [0.9, 0.71], [64, 55, 55], 1e-7]


def _forbid(*_: Any, **__: Any) -> Any:
    raise AssertionError("user text reached an evaluator")


def test_fuzz_hostile_strings_never_raise_and_are_never_evaluated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    SENTINEL.unlink(missing_ok=True)
    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(bot.core.answers, name, _forbid, raising=False)
    monkeypatch.setattr(builtins, "eval", _forbid)
    monkeypatch.setattr(builtins, "exec", _forbid)
    monkeypatch.setattr(ast, "literal_eval", _forbid)
    rng = random.Random(20261127)
    texts = hostile_strings(12_000, rng)
    slow: list[int] = []
    for i, text in enumerate(texts):
        expected = EXPECTATIONS[i % len(EXPECTATIONS)]
        start = time.perf_counter()
        grade = grade_numeric(text, expected, percent_ok=bool(i % 2))
        if time.perf_counter() - start >= 0.05:
            slow.append(i)
        assert grade.verdict in (Verdict.CORRECT, Verdict.INCORRECT, Verdict.UNREADABLE)
        for feedback in (grade_text(grade).en, grade_text(grade).zh):
            assert feedback.startswith(grade.verdict.marker)
    assert not SENTINEL.exists()
    # No answer takes 50 ms to read. One that looked slow is timed again, best of five: a
    # busy machine can pause any one run, but a text that is really slow is slow every time.
    for i in slow:
        best = min(
            _seconds(texts[i], EXPECTATIONS[i % len(EXPECTATIONS)], bool(i % 2)) for _ in range(5)
        )
        assert best < 0.05, f"{texts[i][:80]!r} took {best * 1000:.1f} ms to read"


def _seconds(text: str, expected: Any, percent_ok: bool) -> float:
    start = time.perf_counter()
    grade_numeric(text, expected, percent_ok=percent_ok)
    return time.perf_counter() - start


@settings(max_examples=2000, deadline=None)
@given(text=st.text(max_size=300), which=st.integers(0, len(EXPECTATIONS) - 1))
def test_fuzz_arbitrary_unicode(text: str, which: int) -> None:
    grade = grade_numeric(text, EXPECTATIONS[which], percent_ok=True)
    assert grade.verdict in (Verdict.CORRECT, Verdict.INCORRECT, Verdict.UNREADABLE)
    assert grade_text(grade).en.startswith(grade.verdict.marker)


@settings(max_examples=500, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
def test_any_float_written_by_python_reads_back_exactly(value: float) -> None:
    for text in (repr(value), f"{value:.17g}", f"{value:e}"):
        assert float(read_number(text)) == float(text)


def test_answers_module_stays_pure() -> None:
    """The reader lives in the core: no torch, discord or database imports, no evaluators."""
    source = Path(bot.core.answers.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"eval", "exec", "compile", "__import__"}
    assert roots <= {
        "__future__",
        "math",
        "re",
        "unicodedata",
        "collections",
        "dataclasses",
        "fractions",
        "bot",
    }, roots
    assert "literal_eval" not in source


# --- what people actually type (issue 12) ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64、112、112", [64, 112, 112]),  # the ideographic comma of a Chinese keyboard
        ("64、112、112。", [64, 112, 112]),
        ("torch.Size([64, 112, 112])", [64, 112, 112]),  # pasted from a Python session
        ("Size([64, 112, 112])", [64, 112, 112]),
        ("tensor([0.9000, 0.7100], dtype=torch.float64)", [0.9, 0.71]),
        ("tensor(0.2500, grad_fn=<MulBackward0>)", 0.25),
        ("110 pixels", 110),
        ("110 px", 110),
        ("110像素", 110),
        ("110 个像素", 110),
        ("34,944 parameters", 34944),
        ("61.1M params", 61_100_000),
        ("答案是118013952", 118013952),
        ("答案：118,013,952", 118013952),
        ("结果为 0.25", 0.25),
        ("The answer is 110.", 110),
        ("answer: 110", 110),
        ("\u200b110\u200b", 110),  # zero-width spaces
        ("\u200e110\u200f", 110),  # left-to-right and right-to-left marks
        ("\u2066110\u2069", 110),  # bidi isolates
        ("\ufeff1\u200d10", 110),  # a BOM and a zero-width joiner between digits
        ("(\u200e64, 112, 112)", [64, 112, 112]),
    ],
)
def test_reads_what_people_type(text: str, expected: Any) -> None:
    grade = grade_numeric(text, expected)
    assert grade.verdict is Verdict.CORRECT, grade_text(grade).en


@pytest.mark.parametrize("digits", [61, 200, 1999])
def test_a_huge_integer_is_too_large_not_unreadable(digits: int) -> None:
    grade = grade_numeric("9" * digits, 118013952)
    assert grade.verdict is Verdict.UNREADABLE
    assert grade_text(grade).en.startswith("⚠️ That number is too large")
    assert "这个数太大了" in grade_text(grade).zh
    assert "whole number" in grade_text(grade).en  # and the form that would be read
    with pytest.raises(AnswerFormatError) as info:
        read_number("9" * digits)
    assert info.value.refusal is not None
    assert "too large" in refusal_text(info.value.refusal).en


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("1e999999", "too large"),
        ("3×10^999999", "too large"),
        ("1e-999", "too close to zero"),
        ("0." + "1" * 80, "too many digits"),
    ],
)
def test_out_of_range_numbers_say_why(text: str, phrase: str) -> None:
    grade = grade_numeric(text, 0.25)
    assert grade.verdict is Verdict.UNREADABLE
    assert phrase in grade_text(grade).en, grade_text(grade).en


@settings(max_examples=300, deadline=None)
@given(
    value=st.integers(min_value=0, max_value=10**12),
    marks=st.lists(
        st.sampled_from(
            [
                "\u200b",
                "\u200c",
                "\u200d",
                "\u200e",
                "\u200f",
                "\u2066",
                "\u2069",
                "\u202a",
                "\u202c",
                "\ufeff",
            ]
        ),
        max_size=4,
    ),
    unit=st.sampled_from(["", " pixels", "像素", " params", " 个"]),
    lead=st.sampled_from(["", "答案是", "The answer is ", "answer: "]),
)
def test_any_integer_with_marks_units_and_lead_in_reads_back(
    value: int, marks: list[str], unit: str, lead: str
) -> None:
    digits = str(value)
    cut = len(digits) // 2
    text = lead + "".join(marks) + digits[:cut] + "".join(marks) + digits[cut:] + unit
    assert read_number(text) == value
