"""`TorchCheckers`: every family behind one object (the core `Checkers` protocol and more).

The registry owns the family instances and therefore their caches; the composition root builds
one and passes it in. Nothing here is a module-level singleton.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any

from bot.checkers._attention import MhaParams, SdpaOutput
from bot.checkers._backprop import MlpBackprop
from bot.checkers._base import Family, Params, UnknownFamilyError, first_step
from bot.checkers._batchnorm import BatchnormForward
from bot.checkers._clipping import ClipGradNorm
from bot.checkers._conv_macs import ConvMacs
from bot.checkers._convtranspose import ConvTransposeOutput
from bot.checkers._costs import AttentionCost, SeparableConvMacs
from bot.checkers._dropout import DropoutScale
from bot.checkers._gan import GanGeneratorGrad, GanLoss, GanOptimalDiscriminator
from bot.checkers._losses import SoftmaxCrossEntropy
from bot.checkers._models import ModelParams
from bot.checkers._norms import LayernormForward
from bot.checkers._optim import OptimizerStep
from bot.checkers._params import (
    BatchnormParams,
    ConvParams,
    EmbeddingParams,
    LinearParams,
    SeparableConvParams,
)
from bot.checkers._pooling import PoolOutput
from bot.checkers._receptive import ReceptiveField
from bot.checkers._recurrent import GruStep, LstmStep
from bot.checkers._rnn_params import RnnParams
from bot.checkers._rnn_shapes import RnnOutputShape
from bot.checkers._schedules import LrSchedule
from bot.checkers._sgns import SgnsGrad, SgnsLoss
from bot.checkers._shapes import ConvOutput, ConvShape
from bot.checkers._values import ActivationFamily, VanishingSigmoidBound
from bot.checkers._w2v_sampling import NoiseDistribution, SubsampleKeep
from bot.checkers._wgan import GradientPenalty, Wasserstein1d
from bot.checkers._word2vec import SkipgramPairs
from bot.core.answers import (
    DEFAULT_TOLERANCE,
    Expected,
    KnownMistake,
    Tolerance,
    format_expected,
    grade_numeric,
)
from bot.core.errors import CheckRequestError
from bot.core.models import Grade, Localized, NumericQuestion
from bot.core.ports import difficulty_of_seed
from bot.shared.feedback import numeric_feedback

MAX_SEED = 2**63 - 1


def _all_families() -> list[Family[Any]]:
    """Fresh instances of every family, in the spec's order (extras last)."""
    return [
        ConvOutput(),
        PoolOutput(),
        ConvTransposeOutput(),
        ConvParams(),
        SeparableConvParams(),
        LinearParams(),
        BatchnormParams(),
        EmbeddingParams(),
        RnnParams(),
        ModelParams(),
        ConvMacs(),
        ReceptiveField(),
        ActivationFamily(),
        SoftmaxCrossEntropy(),
        MlpBackprop(),
        OptimizerStep(),
        ClipGradNorm(),
        BatchnormForward(),
        DropoutScale(),
        GanOptimalDiscriminator(),
        GanLoss(),
        GanGeneratorGrad(),
        SkipgramPairs(),
        VanishingSigmoidBound(),
        ConvShape(),
        # issue 14: recurrent steps and shapes, attention, costs, norms, schedules, WGAN, SGNS
        LstmStep(),
        GruStep(),
        RnnOutputShape(),
        MhaParams(),
        SdpaOutput(),
        AttentionCost(),
        SeparableConvMacs(),
        LayernormForward(),
        LrSchedule(),
        Wasserstein1d(),
        GradientPenalty(),
        SgnsLoss(),
        SgnsGrad(),
        NoiseDistribution(),
        SubsampleKeep(),
    ]


@dataclass(frozen=True, slots=True)
class FamilyInfo:
    """A family as `--list` describes it."""

    name: str
    summary: str
    parameters: list[dict[str, Any]]
    signature: str
    tolerance: Tolerance
    percent_ok: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expected": self.summary,
            "signature": self.signature,
            "parameters": self.parameters,
            "tolerance": {"rel": self.tolerance.rel, "abs": self.tolerance.abs},
            "percent_ok": self.percent_ok,
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """One fully worked parameter set: validated parameters, text, key, solution, mistakes."""

    family: str
    params: Params
    text: Localized
    expected: Expected
    solution: Localized
    hint: Localized  # the interview hint (`Solved.hint`)
    mistakes: tuple[KnownMistake, ...]
    tolerance: Tolerance
    percent_ok: bool

    def grade(self, answer: str) -> Grade:
        return grade_numeric(
            answer,
            self.expected,
            tolerance=self.tolerance,
            percent_ok=self.percent_ok,
            mistakes=self.mistakes,
        )


def describe_tolerance(tolerance: Tolerance) -> Localized:
    """The tolerance in words, for question texts that use a non-default one."""
    rel = f"{tolerance.rel:.0e}".replace("e-0", "e-")
    if tolerance.abs:
        absolute = f"{tolerance.abs:.0e}".replace("e-0", "e-")
        return Localized(
            en=f"relative tolerance {rel} (absolute {absolute} near zero)",
            zh=f"相对误差 {rel} 以内（接近 0 时绝对误差 {absolute}）",
        )
    return Localized(
        en=f"relative tolerance {rel}, no absolute tolerance",
        zh=f"相对误差 {rel} 以内，不设绝对误差",
    )


def _plain(value: Expected) -> Expected | None:
    """The value itself if every part is a finite number a user could type (the answer reader
    refuses magnitudes beyond ~1e300), else None."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, int | float) and math.isfinite(v) and abs(v) < 1e300 for v in items):
        return None
    return value


def _close(value: float, expected: float, tolerance: Tolerance) -> bool:
    """`bot.core.answers`' comparison of a read answer, for a value that is a plain finite
    number: `Fraction(value)` compares with an int exactly as `value` does, and converts back
    to the same float, so no Fraction is needed."""
    if isinstance(expected, int):
        return value == expected
    if not math.isfinite(expected):
        return False
    return abs(float(value) - expected) <= max(tolerance.rel * abs(expected), tolerance.abs)


def _matches(value: Expected, expected: Expected, tolerance: Tolerance) -> bool:
    """`bot.core.answers.matches(Fraction(value), expected)` for a `_plain` value."""
    if isinstance(expected, list):
        if not isinstance(value, list) or len(value) != len(expected):
            return False
        return all(_close(v, e, tolerance) for v, e in zip(value, expected, strict=True))
    if isinstance(value, list):
        return False
    return _close(value, expected, tolerance)


def distinct_mistakes(
    expected: Expected, mistakes: Sequence[KnownMistake], tolerance: Tolerance
) -> tuple[KnownMistake, ...]:
    """The mistakes as the grader uses them: one per distinguishable wrong value.

    A value the grader would accept as correct, or a malformed value, is dropped. When several
    mistakes lead to the same value (within the tolerance), they become one that keeps the first
    one's id and explains each of them, so that no explanation hides behind another."""
    groups: list[list[KnownMistake]] = []
    for candidate in mistakes:
        exact = _plain(candidate.value)
        if exact is None or isinstance(exact, list) != isinstance(expected, list):
            continue
        if _matches(exact, expected, tolerance):
            continue
        group = next((g for g in groups if _matches(exact, g[0].value, tolerance)), None)
        if group is None:
            groups.append([candidate])
        elif all(candidate.feedback != other.feedback for other in group):
            group.append(candidate)
    return tuple(_one_mistake(group) for group in groups)


def _one_mistake(group: list[KnownMistake]) -> KnownMistake:
    first = group[0]
    if len(group) == 1:
        return first
    return KnownMistake(
        id=first.id,
        value=first.value,
        feedback=Localized(
            en="More than one classic mistake gives this value. "
            + " Or: ".join(m.feedback.en for m in group),
            zh="不止一种常见错误会得到这个值。" + "或者：".join(m.feedback.zh for m in group),
        ),
    )


class TorchCheckers:
    """The numeric families, implementing the core `Checkers` protocol.

    `generate`/`grade` serve the engine (seeded questions); `check`/`families` serve the
    `python -m bot check` command; `solve` and `grade_expected` serve both.
    """

    def __init__(self, *, cache_size: int = 256) -> None:
        """`cache_size`: how many recently generated (family, seed) problems to keep, so that
        grading an answer right after posting its question does not work it out again."""
        self._families: dict[str, Family[Any]] = {f.name: f for f in _all_families()}
        self._cache_size = cache_size
        self._recent: OrderedDict[tuple[str, int], Problem] = OrderedDict()
        self._lock = threading.Lock()  # the engine calls from worker threads

    # --- the Checkers protocol ------------------------------------------------------------

    def family_names(self) -> list[str]:
        return list(self._families)

    def generate(self, family: str, seed: int) -> NumericQuestion:
        """The question that (family, seed) generates. KeyError for an unknown family."""
        problem = self.problem_for_seed(family, seed)
        return NumericQuestion(
            family=family,
            seed=seed,
            difficulty=difficulty_of_seed(seed),
            params=problem.params.model_dump(mode="json"),
            text=problem.text,
            expected=problem.expected,
            solution=problem.solution,
            hint=problem.hint,
        )

    def grade(self, family: str, seed: int, answer: str) -> Grade:
        """Grade a free-text answer to the question (family, seed); never raises on bad text."""
        return self.problem_for_seed(family, seed).grade(answer)

    # --- beyond the protocol ----------------------------------------------------------------

    def family(self, name: str) -> Family[Any]:
        try:
            return self._families[name]
        except KeyError:
            raise UnknownFamilyError(name, list(self._families)) from None

    def families(self) -> list[FamilyInfo]:
        return [
            FamilyInfo(
                name=f.name,
                summary=f.summary,
                parameters=f.parameters(),
                signature=f.signature(),
                tolerance=f.tolerance,
                percent_ok=f.percent_ok,
            )
            for f in self._families.values()
        ]

    def params_for_seed(self, family: str, seed: int) -> dict[str, Any]:
        """The parameters a seed draws: difficulty from `seed % 3`, the rest from Random(seed)."""
        fam = self.family(family)
        if not 0 <= seed <= MAX_SEED:
            raise CheckRequestError(
                f"seed must be an integer from 0 to {MAX_SEED}, not {seed}",
                f"`seed` 应为 0 到 {MAX_SEED} 之间的整数，不能是 {seed}",
            )
        return fam.draw(Random(seed), difficulty_of_seed(seed))

    def problem_for_seed(self, family: str, seed: int) -> Problem:
        key = (family, seed)
        with self._lock:
            cached = self._recent.get(key)
            if cached is not None:
                self._recent.move_to_end(key)
                return cached
        problem = self.solve(family, self.params_for_seed(family, seed))
        if self._cache_size > 0:
            with self._lock:
                self._recent[key] = problem
                while len(self._recent) > self._cache_size:
                    self._recent.popitem(last=False)
        return problem

    def solve(self, family: str, params: Mapping[str, Any]) -> Problem:
        """Validate `params` and work the problem out; `CheckRequestError` for a bad request."""
        fam = self.family(family)
        validated = fam.parse(params)
        try:
            solved = fam.solve(validated)
        except (RuntimeError, ValueError, ArithmeticError) as error:
            # Validation should catch every impossible configuration first; if torch still
            # refuses, report it as a bad request rather than crash the caller.
            first = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            raise CheckRequestError(
                f"{family}: cannot compute this configuration: {first}",
                f"{family}：无法计算这组参数：{first}",
            ) from error
        values = solved.expected if isinstance(solved.expected, list) else [solved.expected]
        if not all(math.isfinite(v) and abs(v) < 1e300 for v in values):
            raise CheckRequestError(
                f"{family}: the answer overflows for these parameters",
                f"{family}：这组参数的答案超出了可表示的范围",
            )
        text = fam.ask(validated)
        if fam.tolerance != DEFAULT_TOLERANCE:
            note = describe_tolerance(fam.tolerance)
            text = Localized(
                en=f"{text.en} (Graded with {note.en}.)", zh=f"{text.zh}（评分标准：{note.zh}。）"
            )
        return Problem(
            family=family,
            params=validated,
            text=text,
            expected=solved.expected,
            solution=solved.solution,
            hint=solved.hint
            or Localized(en=first_step(solved.solution.en), zh=first_step(solved.solution.zh)),
            mistakes=distinct_mistakes(solved.expected, solved.mistakes, fam.tolerance),
            tolerance=fam.tolerance,
            percent_ok=fam.percent_ok,
        )

    def grade_expected(self, family: str, expected: Expected, answer: str) -> Grade:
        """Grade `answer` against a stored expected value with that family's tolerance and
        accepted forms (no known-mistake feedback: that needs the parameters)."""
        fam = self.family(family)
        return grade_numeric(answer, expected, tolerance=fam.tolerance, percent_ok=fam.percent_ok)

    def check(
        self,
        family: str,
        params: Mapping[str, Any] | None = None,
        answer: str | None = None,
        *,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """The JSON result of `python -m bot check` (see docs/numeric-checker.md).

        Give either `params` or `seed`. Raises `CheckRequestError` for a bad request; a wrong
        answer is not an error (`"correct": false`).
        """
        if seed is not None and params:
            raise CheckRequestError(
                "give either parameters or --seed, not both", "参数和 `--seed` 只能给一个"
            )
        if seed is not None:
            problem = self.problem_for_seed(family, seed)
        else:
            problem = self.solve(family, params or {})
        result: dict[str, Any] = {
            "family": family,
            "params": problem.params.model_dump(mode="json"),
            "expected": problem.expected,
            "display": format_expected(problem.expected),
            "correct": None,
            "feedback": problem.solution.en,
        }
        if answer is not None:
            grade = problem.grade(answer)
            result["correct"] = grade.correct  # unreadable counts as not correct; see verdict
            result["verdict"] = grade.verdict.value
            feedback = numeric_feedback(grade)
            result["feedback"] = feedback.en
            result["feedback_zh"] = feedback.zh
            result["mistake"] = grade.mistake
        if seed is not None:
            result["seed"] = seed
            result["ref"] = f"{family}:{seed}"
            result["difficulty"] = difficulty_of_seed(seed).value
            result["question"] = {"en": problem.text.en, "zh": problem.text.zh}
        result["solution"] = {"en": problem.solution.en, "zh": problem.solution.zh}
        result["mistakes"] = [{"id": m.id, "value": m.value} for m in problem.mistakes]
        if not isinstance(problem.expected, int) and not (
            isinstance(problem.expected, list) and all(isinstance(v, int) for v in problem.expected)
        ):
            result["tolerance"] = {"rel": problem.tolerance.rel, "abs": problem.tolerance.abs}
        return result
