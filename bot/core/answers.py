"""Reading and grading answers typed by users.

Nothing here evaluates user text as code; every reader either returns a value or raises
`AnswerFormatError` carrying the form it expected, which front ends localise.

Numeric answers are read by a small hand-written tokenizer into exact `Fraction`s, so an integer
answer can be compared exactly and nothing a user types can make the reader slow: the input
length, the number of digits, the exponent and the number of list items are all capped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from bot.core.models import (
    LETTERS,
    AnswerForm,
    FormShape,
    Grade,
    Localized,
    NearMiss,
    Refusal,
    Verdict,
)


class AnswerFormatError(ValueError):
    """The answer could not be read; `expected_form` says what would be, and `refusal` (when
    there is more to say) why this one was not: a number far too large, say, is read but
    refused. The front ends word both (bot/shared/feedback.py)."""

    def __init__(self, expected_form: AnswerForm, refusal: Refusal | None = None) -> None:
        shape = f"{expected_form.shape} ({expected_form.count})"
        super().__init__(f"expected {shape}" if refusal is None else f"{refusal}: {shape}")
        self.expected_form = expected_form
        self.refusal = refusal


def normalize(text: str) -> str:
    """NFKC (full-width digits and punctuation become ASCII), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


_CHOICE_DECORATION = "()[]{}.:：)）。 "  # characters stripped around an option letter


def read_choice(text: str, n_choices: int) -> int:
    """The index of the option a user picked: `B`, `b`, `(b)`, `B.`, `2`..."""
    letters = LETTERS[:n_choices]
    cleaned = normalize(text).strip(_CHOICE_DECORATION).upper()
    if len(cleaned) == 1 and cleaned in letters:
        return letters.index(cleaned)
    if (
        cleaned.isascii()
        and cleaned.isdigit()
        and 1 <= int(cleaned) <= n_choices
        and len(cleaned) <= 2
    ):
        return int(cleaned) - 1
    raise AnswerFormatError(AnswerForm(shape=FormShape.LETTER, count=n_choices))


# --------------------------------------------------------------------------------------------
# Numbers

Number = int | float
Expected = int | float | list[int] | list[float]
"""What a numeric question expects: an int (graded exactly), a float, or a list of either."""

MAX_ANSWER_CHARS = 2000  # a list of 64 numbers at full precision fits easily
MAX_DIGITS = 60  # significant digits of one number
MAX_EXPONENT = 400  # |e| in 1.5e-320; 10**400 is still cheap to build exactly
MAX_ITEMS = 64  # numbers in one list answer
_MAX_BITS = 1000  # |value| below ~1e301, so that it converts to a float (tiny values are fine)


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How close a real answer must be: |answer - expected| <= max(rel * |expected|, abs).

    Integers are always graded exactly; this only applies to real-valued expectations.
    """

    rel: float = 1e-3
    abs: float = 1e-6


DEFAULT_TOLERANCE = Tolerance()


@dataclass(frozen=True, slots=True)
class KnownMistake:
    """A classic wrong answer: the value it leads to and feedback that names the mistake."""

    id: str
    value: Expected
    feedback: Localized


class _Unreadable(Exception):
    """Internal: the text is not a number; the caller raises the public error with its form."""

    refusal: Refusal | None = None


class _OutOfRange(_Unreadable):
    """Internal: a number, but one too large, too small or too long to grade."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


# Unicode minus signs and dashes people paste instead of ASCII '-'; NFKC keeps most of them.
# The ideographic comma (64、112、112) separates list items as a comma does.
_MINUSES = str.maketrans(
    {"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\u3001": ","}
)
_PREFIXES = ("=", "≈", "~", "约")
# What people put around a number: "the answer is", "答案是"; torch's own printouts
# (`torch.Size([64, 112, 112])`, `tensor(0.2500)`); a unit after it ("110 pixels", "110像素").
_LEAD_IN = re.compile(
    r"^(?:(?:the\s+)?answer(?:\s+is)?|it\s+is|it's|(?:答案|结果)\s*(?:是|为)?)\s*[:=]?\s*",
    re.IGNORECASE,
)
_TORCH_PRINT = re.compile(r"^(?:torch\.)?(?:size|tensor)\s*\((.*)\)$", re.IGNORECASE | re.DOTALL)
_TORCH_KEYWORDS = re.compile(r",\s*(?:dtype|device|grad_fn|requires_grad)\s*=.*$", re.DOTALL)
_UNIT = re.compile(
    r"\s*(?:pixels?|px|parameters?|params?|weights?|elements?|pairs?|macs?|flops?"
    r"|个像素|像素|个参数|参数|个元素|个|对)$",
    re.IGNORECASE,
)
_MULTIPLIERS = {
    "k": Fraction(10**3),
    "K": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "B": Fraction(10**9),
    "万": Fraction(10**4),
    "亿": Fraction(10**8),
}
_TIMES_TEN = re.compile(r"(.+?)\s*[x×*]\s*10\s*(?:\^|\*\*)\s*([+-]?\d+)", re.ASCII)
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_ANY_BRACKET = re.compile(r"[()\[\]{}]")

# re.ASCII: \d must not accept other scripts' digits, which int() would happily convert.
_PLAIN = re.compile(r"([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?", re.ASCII)
_GROUPED = re.compile(
    r"([+-]?)([1-9]\d{0,2}(?:(?P<sep>[ ,_'])\d{3})(?:(?P=sep)\d{3})*)"  # 34,944 or 1 234 567
    r"(?:\.(\d+))?(?:[eE]([+-]?\d+))?",
    re.ASCII,
)


def _clean(text: str) -> str:
    if len(text) > MAX_ANSWER_CHARS:
        raise _Unreadable
    cleaned = normalize(text).translate(_MINUSES)
    # NFKC can expand a character into many; check again after it.
    if len(cleaned) > MAX_ANSWER_CHARS:
        raise _Unreadable
    # Zero-width spaces and joiners, bidi marks, a BOM: invisible, pasted around digits.
    cleaned = "".join(c for c in cleaned if unicodedata.category(c) != "Cf")
    cleaned = cleaned.rstrip("。").strip()  # a sentence-final ideographic full stop
    cleaned = _LEAD_IN.sub("", cleaned, count=1)
    for prefix in _PREFIXES:
        if cleaned.startswith(prefix):
            cleaned = cleaned[len(prefix) :].strip()
            break
    cleaned = _UNIT.sub("", cleaned, count=1).strip()
    printed = _TORCH_PRINT.fullmatch(cleaned)
    if printed:
        cleaned = _TORCH_KEYWORDS.sub("", printed.group(1)).strip()
    return cleaned


def _decimal(sign: str, whole: str, frac: str, exp: str | None) -> Fraction:
    digits = (whole + frac).lstrip("0")
    if len(whole.lstrip("0")) > MAX_DIGITS:
        raise _OutOfRange(Refusal.TOO_LARGE)
    if len(digits) > MAX_DIGITS:
        raise _OutOfRange(Refusal.TOO_LONG)
    exponent = _exponent(exp) if exp else 0
    if abs(exponent) > MAX_EXPONENT:
        raise _OutOfRange(Refusal.TOO_SMALL if exponent < 0 else Refusal.TOO_LARGE)
    value = Fraction(int(whole + frac or "0")) * Fraction(10) ** (exponent - len(frac))
    return -value if sign == "-" else value


def _exponent(text: str) -> int:
    """An exponent's value, capped (so a thousand-digit one costs nothing to read)."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").lstrip("0") or "0"
    return sign * (MAX_EXPONENT + 1 if len(digits) > 6 else int(digits))


def _plain_number(text: str, grouping: bool) -> Fraction:
    """One decimal number; with `grouping`, thousands separators (, space _ ') are allowed."""
    text = re.sub(r"^([+-])\s+", r"\1", text)  # "- 5"
    match = _PLAIN.fullmatch(text)
    if match:
        sign, whole, frac, frac_only, exp = match.groups()
        if frac_only is not None:
            return _decimal(sign, "0", frac_only, exp)
        return _decimal(sign, whole, frac or "", exp)
    if grouping:
        grouped = _GROUPED.fullmatch(text)
        if grouped:
            sign, whole, sep, frac, exp = grouped.groups()
            return _decimal(sign, whole.replace(sep, ""), frac or "", exp)
    raise _Unreadable


def _term(text: str, grouping: bool) -> Fraction:
    """A number with an optional multiplier: 61.1M, 3.5万, 12k, 3.4944×10^4."""
    text = text.strip()
    if not text:
        raise _Unreadable
    power = _TIMES_TEN.fullmatch(text)
    if power:
        exponent = _exponent(power.group(2))
        if abs(exponent) > MAX_EXPONENT:
            raise _OutOfRange(Refusal.TOO_SMALL if exponent < 0 else Refusal.TOO_LARGE)
        return _plain_number(power.group(1).strip(), grouping) * Fraction(10) ** exponent
    multiplier = _MULTIPLIERS.get(text[-1])
    if multiplier is not None:
        return _plain_number(text[:-1].strip(), grouping) * multiplier
    return _plain_number(text, grouping)


def _check_range(value: Fraction) -> Fraction:
    if value and value.numerator.bit_length() - value.denominator.bit_length() > _MAX_BITS:
        raise _OutOfRange(Refusal.TOO_LARGE)  # too large for a float; a tiny one rounds towards 0
    return value


def _scalar(text: str, *, percent_ok: bool, grouping: bool) -> Fraction:
    text = text.strip()
    scale = Fraction(1)
    if text.endswith("%"):
        if not percent_ok:
            raise _Unreadable
        text = text[:-1].strip()
        scale = Fraction(1, 100)
    if text.count("/") > 1:
        raise _Unreadable
    if "/" in text:
        top, bottom = text.split("/")
        numerator = _term(top, grouping)
        denominator = _term(bottom, grouping)
        if denominator == 0:
            raise _Unreadable
        return _check_range(numerator / denominator * scale)
    return _check_range(_term(text, grouping) * scale)


def _strip_brackets(text: str) -> str:
    """Remove one pair of enclosing brackets; any other bracket makes the text unreadable.

    Only one level is accepted, so deeply nested input costs nothing and needs no recursion.
    """
    if text and text[0] in _BRACKETS:
        if text[-1] != _BRACKETS[text[0]]:
            raise _Unreadable
        text = text[1:-1].strip()
    if _ANY_BRACKET.search(text):
        raise _Unreadable
    return text


def _split_items(text: str) -> list[str]:
    if re.search(r"[x×*]", text):
        parts = re.split(r"[x×*]", text)
    elif re.search(r"[,;]", text):
        parts = re.split(r"[,;]", text)
        if parts and not parts[-1].strip():  # a trailing comma: [0.1, 0.9,]
            parts.pop()
    else:
        parts = text.split()
    if len(parts) > MAX_ITEMS:
        raise _Unreadable
    return [part.strip() for part in parts]


def expected_form(expected: Expected, *, percent_ok: bool = False) -> AnswerForm:
    """What an answer to this expectation should look like."""
    if isinstance(expected, list):
        if all(isinstance(v, int) for v in expected):
            return AnswerForm(shape=FormShape.WHOLE_LIST, count=len(expected))
        return AnswerForm(shape=FormShape.NUMBER_LIST, count=len(expected))
    if isinstance(expected, int):
        return AnswerForm(shape=FormShape.WHOLE)
    return AnswerForm(shape=FormShape.NUMBER, percent_ok=percent_ok)


def read_number(text: str, *, percent_ok: bool = False) -> Fraction:
    """One number: `34944`, `34,944`, `34 944`, `3.4944e4`, `1/4`, `0.25`, `25%` (if allowed).

    Raises `AnswerFormatError` for anything else.
    """
    try:
        return _scalar(_strip_brackets(_clean(text)), percent_ok=percent_ok, grouping=True)
    except _Unreadable as exc:
        raise AnswerFormatError(expected_form(0.0, percent_ok=percent_ok), exc.refusal) from None


def read_numbers(text: str, count: int, *, percent_ok: bool = False) -> list[Fraction]:
    """Exactly `count` numbers: `[0.9, 0.71]`, `(64, 55, 55)`, `64x55x55`, `64×55×55`, `1 2 3`.

    Thousands separators are not accepted inside lists: `[1,234]` is two numbers.
    """
    try:
        return _numbers(text, count, percent_ok=percent_ok)
    except _Unreadable as exc:
        form = expected_form([0.0] * count, percent_ok=percent_ok)
        raise AnswerFormatError(form, exc.refusal) from None


def _numbers(text: str, count: int, *, percent_ok: bool) -> list[Fraction]:
    body = _strip_brackets(_clean(text))
    if count == 1:
        return [_scalar(body, percent_ok=percent_ok, grouping=True)]
    items = _split_items(body)
    if len(items) != count:
        raise _Unreadable
    return [_scalar(item, percent_ok=percent_ok, grouping=False) for item in items]


def read_answer(
    text: str, expected: Expected, *, percent_ok: bool = False
) -> Fraction | list[Fraction]:
    """Read `text` in the shape `expected` has (one number, or a list of the same length)."""
    try:
        if isinstance(expected, list):
            return _numbers(text, len(expected), percent_ok=percent_ok)
        return _scalar(_strip_brackets(_clean(text)), percent_ok=percent_ok, grouping=True)
    except _Unreadable as exc:
        form = expected_form(expected, percent_ok=percent_ok)
        raise AnswerFormatError(form, exc.refusal) from None


def _close(value: Fraction, expected: Number, tolerance: Tolerance) -> bool:
    if isinstance(expected, int):
        return value == expected
    if not math.isfinite(expected):
        return False
    return abs(float(value) - expected) <= max(tolerance.rel * abs(expected), tolerance.abs)


def matches(value: Fraction | Sequence[Fraction], expected: Expected, tolerance: Tolerance) -> bool:
    """Whether a value read by `read_answer` equals `expected` (ints exactly, reals within
    `tolerance`, lists element by element with the same length)."""
    if isinstance(expected, list):
        if not isinstance(value, Sequence) or len(value) != len(expected):
            return False
        return all(_close(v, e, tolerance) for v, e in zip(value, expected, strict=True))
    if isinstance(value, Sequence):
        return False
    return _close(value, expected, tolerance)


def format_number(value: Number) -> str:
    """A number for display: integers with thousands separators, reals to 6 significant
    figures."""
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{value:.6g}"
    return "0" if text == "-0" else text


def format_expected(expected: Expected) -> str:
    """The display form of an expected answer: `34,944`, `0.298371`, `(64, 55, 55)`, `[...]`."""
    if isinstance(expected, list):
        if all(isinstance(v, int) for v in expected):
            return "(" + ", ".join(str(v) for v in expected) + ")"
        return "[" + ", ".join(format_number(v) for v in expected) + "]"
    return format_number(expected)


def unreadable_grade(form: AnswerForm, refusal: Refusal | None = None) -> Grade:
    """The grade of an answer that could not be read: ⚠️ and what form is expected. (That it
    cost no attempt is the front end's to say, once: a calculator's check is no attempt.)"""
    return Grade(verdict=Verdict.UNREADABLE, numeric=True, expected_form=form, refusal=refusal)


def _roughly(value: Fraction, expected: Number) -> bool:
    """Within 1% (or the default absolute tolerance near zero): what rounding to two or three
    significant figures gives."""
    if not math.isfinite(expected):
        return False
    return abs(float(value) - expected) <= max(0.01 * abs(expected), DEFAULT_TOLERANCE.abs)


def _near_miss(value: Fraction | list[Fraction], expected: Expected) -> NearMiss | None:
    """Whether a wrong answer that no known mistake explains is close: rounded, or not
    precise enough (the front ends word the hint)."""
    if isinstance(expected, list) or isinstance(value, list):
        if not isinstance(expected, list) or not isinstance(value, list):
            return None
        if len(value) != len(expected) or all(isinstance(e, int) for e in expected):
            return None  # a shape or a list of counts is exact: nothing is "close"
        if all(_roughly(v, e) for v, e in zip(value, expected, strict=True)):
            return NearMiss.IMPRECISE_LIST
        return None
    if isinstance(expected, int):
        if expected and abs(float(value) - expected) <= 0.01 * abs(expected):
            return NearMiss.ROUNDED
        return None
    if math.isfinite(expected) and abs(float(value) - expected) <= 0.01 * abs(expected):
        return NearMiss.IMPRECISE
    return None


# The mistake id a near miss is reported under (`python -m bot check`'s "mistake").
NEAR_MISS_IDS = {
    NearMiss.ROUNDED: "rounded",
    NearMiss.IMPRECISE: "imprecise",
    NearMiss.IMPRECISE_LIST: "imprecise",
}


def grade_numeric(
    text: str,
    expected: Expected,
    *,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    percent_ok: bool = False,
    mistakes: Sequence[KnownMistake] = (),
    display: str | None = None,
) -> Grade:
    """Grade a typed answer against `expected`; never raises on any text.

    ✅ if it matches; ❌ with the named mistake if it equals a known wrong value (or a generic
    hint when it is merely close); ⚠️ with the expected form if it cannot be read (the expected
    value is not revealed then, since an unreadable answer costs no attempt).
    """
    try:
        value = read_answer(text, expected, percent_ok=percent_ok)
    except AnswerFormatError as error:
        return unreadable_grade(error.expected_form, error.refusal)
    shown = display if display is not None else format_expected(expected)
    if matches(value, expected, tolerance):
        return Grade(verdict=Verdict.CORRECT, numeric=True, expected=shown)
    mistake = next((m for m in mistakes if matches(value, m.value, tolerance)), None)
    near = _near_miss(value, expected) if mistake is None else None
    return Grade(
        verdict=Verdict.INCORRECT,
        numeric=True,
        expected=shown,
        mistake=mistake.id if mistake is not None else NEAR_MISS_IDS.get(near) if near else None,
        mistake_note=mistake.feedback if mistake is not None else None,
        near_miss=near,
    )
