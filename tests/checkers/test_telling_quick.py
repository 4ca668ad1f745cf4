"""`TellingFamily.quick`: the closed forms in plain floats that reject a variant hiding a mistake
before torch works it out. They give torch's key and mistake values, and the variants drawn are
exactly those drawn without them (the same questions for the same seeds)."""

from __future__ import annotations

import math
from random import Random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkers import TorchCheckers
from bot.checkers._registry import distinct_mistakes
from bot.checkers._sgns import sgns
from bot.checkers._telling import TellingFamily, blurred
from bot.core.answers import DEFAULT_TOLERANCE, KnownMistake, Tolerance
from bot.core.models import Difficulty, Localized

QUICK = [
    "lstm_step",
    "gru_step",
    "gradient_penalty",
    "sgns_loss",
    "sdpa_output",
    "lr_schedule",
    "sgns_grad",
    "wasserstein_1d",
    "layernorm_forward",
    "noise_distribution",
    "subsample_keep",
]
SEEDS = 400


def telling(checkers: TorchCheckers, name: str) -> TellingFamily[Any]:
    family = checkers.family(name)
    assert isinstance(family, TellingFamily)
    return family


def close(a: Any, b: Any) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(close(x, y) for x, y in zip(a, b, strict=True))
        )
    return isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def assert_quick_is_work(family: TellingFamily[Any], raw: dict[str, Any]) -> None:
    p = family.parse(raw)
    quick = family.quick(p)
    assert quick is not None, raw
    key, values = quick
    solved = family.work(p)
    assert close(key, solved.expected), (raw, key, solved.expected)
    worked = {m.id: m.value for m in solved.mistakes}
    assert set(values) == set(worked), raw
    for id_, value in values.items():
        assert close(value, worked[id_]), (raw, id_, value, worked[id_])


@pytest.mark.parametrize("name", QUICK)
@pytest.mark.parametrize("level", list(Difficulty), ids=lambda level: level.value)
def test_quick_values_are_torchs(checkers: TorchCheckers, name: str, level: Difficulty) -> None:
    """Every candidate variant `draw_once` makes, accepted or not."""
    family = telling(checkers, name)
    for seed in range(SEEDS):
        assert_quick_is_work(family, family.draw_once(Random(seed), level))


_real = st.sampled_from([-2.0, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0])


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(1, 3),
    data=st.data(),
    output=st.sampled_from(["h", "c"]),
    optional=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_lstm_quick_beyond_the_drawn_variants(
    checkers: TorchCheckers, width: int, data: st.DataObject, output: str, optional: list[bool]
) -> None:
    def vec(n: int) -> list[float]:
        return data.draw(st.lists(_real, min_size=n, max_size=n))

    raw: dict[str, Any] = {
        "x": vec(width),
        "W_ih": [vec(width) for _ in range(4)],
        "W_hh": [vec(1) for _ in range(4)],
        "output": output,
    }
    for name, size, given_ in zip(
        ("b_ih", "b_hh", "h0", "c0"), (4, 4, 1, 1), optional, strict=True
    ):
        if given_:
            raw[name] = vec(size)
    assert_quick_is_work(telling(checkers, "lstm_step"), raw)


@settings(max_examples=200, deadline=None)
@given(width=st.integers(1, 3), data=st.data(), optional=st.lists(st.booleans(), min_size=3))
def test_gru_quick_beyond_the_drawn_variants(
    checkers: TorchCheckers, width: int, data: st.DataObject, optional: list[bool]
) -> None:
    def vec(n: int) -> list[float]:
        return data.draw(st.lists(_real, min_size=n, max_size=n))

    raw: dict[str, Any] = {
        "x": vec(width),
        "W_ih": [vec(width) for _ in range(3)],
        "W_hh": [vec(1) for _ in range(3)],
    }
    for name, size, given_ in zip(("b_ih", "b_hh", "h0"), (3, 3, 1), optional[:3], strict=True):
        if given_:
            raw[name] = vec(size)
    assert_quick_is_work(telling(checkers, "gru_step"), raw)


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 3),
    data=st.data(),
    a=_real,
    eps=st.sampled_from([0.0, 0.25, 0.5, 0.8, 1.0]),
    lam=st.sampled_from([1, 5, 10]),
    output=st.sampled_from(["penalty", "grad_norm"]),
)
def test_gradient_penalty_quick_beyond_the_drawn_variants(
    checkers: TorchCheckers,
    size: int,
    data: st.DataObject,
    a: float,
    eps: float,
    lam: int,
    output: str,
) -> None:
    def vec() -> list[float]:
        return data.draw(st.lists(_real, min_size=size, max_size=size))

    raw = {
        "x_real": vec(),
        "x_fake": vec(),
        "w": vec(),
        "a": a,
        "eps": eps,
        "lam": lam,
        "output": output,
    }
    assert_quick_is_work(telling(checkers, "gradient_penalty"), raw)


def without_quick(family: TellingFamily[Any]) -> TellingFamily[Any]:
    """A fresh instance of the family that works every candidate out with torch."""

    class Slow(type(family)):  # type: ignore[misc]
        def quick(self, p: Any) -> None:
            return None

    return Slow()


@pytest.mark.parametrize("name", QUICK)
def test_the_same_variants_are_drawn(checkers: TorchCheckers, name: str) -> None:
    family = telling(checkers, name)
    slow = without_quick(family)
    for level in Difficulty:
        for seed in range(SEEDS):
            assert family.draw(Random(seed), level) == slow.draw(Random(seed), level), seed


@pytest.mark.parametrize("name", QUICK)
def test_only_the_accepted_variant_is_worked_out(checkers: TorchCheckers, name: str) -> None:
    """A redraw costs no torch work: over seeds that redraw, one `work` per draw."""
    del checkers

    class Counting(type(telling(TorchCheckers(cache_size=0), name))):  # type: ignore[misc]
        works = 0

        def work(self, p: Any) -> Any:
            Counting.works += 1
            return super().work(p)

    redrawn = 0
    for level in Difficulty:
        for seed in range(SEEDS):
            family = Counting()  # nothing remembered from the seed before
            rng = Random(seed)
            first = family.draw_once(Random(seed), level)
            Counting.works = 0
            params = family.draw(rng, level)
            redrawn += params != first
            assert Counting.works == 1, (level, seed)
    assert redrawn > 0  # the seeds do exercise redraws


_value = st.floats(-10, 10, allow_nan=False)


@settings(max_examples=500, deadline=None)
@given(key=_value, values=st.lists(_value, max_size=5))
def test_blurred_means_the_grader_merges(key: float, values: list[float]) -> None:
    """What `blurred` finds the grader merges too, even after each value moves by far more
    than a rounding error."""
    if not blurred(key, values, DEFAULT_TOLERANCE):
        return
    note = Localized.same("x")
    nudged = [v * (1 + 1e-12) for v in values]
    mistakes = [KnownMistake(id=str(i), value=v, feedback=note) for i, v in enumerate(nudged)]
    assert len(distinct_mistakes(key * (1 - 1e-12), mistakes, DEFAULT_TOLERANCE)) < len(values)


def test_blurred_leaves_the_edge_to_torch() -> None:
    tolerance = Tolerance(rel=1e-3, abs=1e-6)
    assert blurred(1.0, [1.000998], tolerance)
    assert not blurred(1.0, [1.0009995], tolerance)  # the grader merges it; torch decides
    assert not blurred(1.0, [1.0011], tolerance)
    assert blurred(1.0, [2.0, 2.0019], tolerance)
    assert not blurred(0.0, [9.995e-7, 2.0], tolerance)  # near zero: the absolute tolerance
    assert blurred(0.0, [9.98e-7], tolerance)


def test_sgns_loss_key_is_the_forward_of_the_autograd_pass(checkers: TorchCheckers) -> None:
    """sgns_loss reads its key off the forward alone; sgns_grad's pass gives the same loss."""
    family = telling(checkers, "sgns_loss")
    for level in Difficulty:
        for seed in range(100):
            p = family.parse(family.draw_once(Random(seed), level))
            assert family.work(p).expected == sgns(p)[0]
