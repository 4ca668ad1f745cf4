"""`distinct_mistakes` compares the mistakes' values as plain numbers; the grader reads answers
into Fractions. Both must merge and drop exactly the same values: checked here against the
Fraction-based version it replaced, which used the grader's own `matches`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkers._registry import _one_mistake, distinct_mistakes
from bot.core.answers import DEFAULT_TOLERANCE, Expected, KnownMistake, Tolerance, matches
from bot.core.models import Localized


def as_fractions(value: Expected) -> Fraction | list[Fraction] | None:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, int | float) and math.isfinite(v) and abs(v) < 1e300 for v in items):
        return None
    fractions = [Fraction(v) for v in items]
    return fractions if isinstance(value, list) else fractions[0]


def by_fractions(
    expected: Expected, mistakes: Sequence[KnownMistake], tolerance: Tolerance
) -> tuple[KnownMistake, ...]:
    """The former implementation, verbatim."""
    groups: list[list[KnownMistake]] = []
    for candidate in mistakes:
        exact = as_fractions(candidate.value)
        if exact is None or isinstance(exact, list) != isinstance(expected, list):
            continue
        if matches(exact, expected, tolerance):
            continue
        group = next((g for g in groups if matches(exact, g[0].value, tolerance)), None)
        if group is None:
            groups.append([candidate])
        elif all(candidate.feedback != other.feedback for other in group):
            group.append(candidate)
    return tuple(_one_mistake(group) for group in groups)


BASES = [0.0, 1.0, -2.5, 1e-7, 3e5, 0.1]
# steps near the tolerance: 1e-3 relative, 1e-6 absolute, and both sides of each
STEPS = [0.0, 1e-7, 5e-7, 1e-6, 2e-6, 4e-4, 9.99e-4, 1e-3, 1.001e-3, 0.5]


@st.composite
def numbers(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["near", "int", "float", "odd"]))
    if kind == "near":
        base = draw(st.sampled_from(BASES))
        step = draw(st.sampled_from(STEPS)) * draw(st.sampled_from([1, -1]))
        return base * (1 + step) if draw(st.booleans()) else base + step
    if kind == "int":
        return draw(st.one_of(st.integers(-5, 5), st.integers(-(10**310), 10**310)))
    if kind == "float":
        return draw(st.floats(allow_nan=True, allow_infinity=True))
    return draw(
        st.sampled_from([True, False, 1e300, -1e300, 9.9e299, 2**70, 2**70 + 1, float("nan")])
    )


@st.composite
def values(draw: st.DrawFn, size: int | None) -> Any:
    if size is None:
        return draw(numbers())
    return [draw(numbers()) for _ in range(size)]


@settings(max_examples=1500, deadline=None)
@given(
    data=st.data(),
    size=st.sampled_from([None, None, 1, 2, 3]),
    rel=st.sampled_from([1e-3, 1e-4, 0.0]),
    absolute=st.sampled_from([1e-6, 0.0]),
)
def test_same_mistakes_as_with_fractions(
    data: st.DataObject, size: int | None, rel: float, absolute: float
) -> None:
    expected = data.draw(values(size))
    notes = [Localized.same("a"), Localized.same("b")]
    count = data.draw(st.integers(0, 6))
    mistakes = []
    for i in range(count):
        other_size = data.draw(st.sampled_from([size, size, None, 2]))
        mistakes.append(
            KnownMistake(id=str(i), value=data.draw(values(other_size)), feedback=notes[i % 2])
        )
    tolerance = Tolerance(rel=rel, abs=absolute)
    try:
        reference = by_fractions(expected, mistakes, tolerance)
    except (OverflowError, ValueError) as error:  # a value no family returns: same failure
        try:
            distinct_mistakes(expected, mistakes, tolerance)
        except type(error):
            return
        raise AssertionError("the former version raised, the new one did not") from None
    assert distinct_mistakes(expected, mistakes, tolerance) == reference


def test_an_int_key_is_compared_exactly() -> None:
    note = Localized.same("x")
    near = KnownMistake(id="near", value=34944.000001, feedback=note)
    same = KnownMistake(id="same", value=34944.0, feedback=note)
    assert distinct_mistakes(34944, [near, same], DEFAULT_TOLERANCE) == (near,)
