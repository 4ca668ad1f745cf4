"""What every numeric family shares: parameter types, the `Family` base class and errors.

A family turns validated parameters into a question text, an answer key (computed with torch or
NumPy), a worked solution and the classic wrong answers; the registry adds seeds, grading and the
JSON of the `check` command on top.
"""

from __future__ import annotations

import types
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from random import Random
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, Union, get_args, get_origin

from pydantic import AllowInfNan, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.core.answers import DEFAULT_TOLERANCE, Expected, KnownMistake, Tolerance
from bot.core.errors import CheckRequestError
from bot.core.models import Difficulty, Localized
from bot.core.validation import validation_message


class UnknownFamilyError(CheckRequestError, KeyError):
    """No family has that name. Also a KeyError, as the core `Checkers` protocol promises."""

    def __init__(self, family: str, known: list[str]) -> None:
        super().__init__(
            f"unknown family {family!r}; known families: {', '.join(known)}",
            f"没有题型族 {family!r}；可用的题型族：{'、'.join(known)}",
        )
        self.family = family


def _not_bool(value: object) -> object:
    # pydantic's lax mode reads true as 1; a boolean where a number belongs is a typo.
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


Int = Annotated[int, BeforeValidator(_not_bool)]
Real = Annotated[float, BeforeValidator(_not_bool), AllowInfNan(False), Field(ge=-1e6, le=1e6)]
"""A data value (an input, weight, gradient, logit): interview numbers, far from overflow."""
Size = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=1_000_000)]
"""A spatial size, channel count or layer width: large limits, but not absurd ones."""
NonNegative = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=1_000_000)]


class Params(BaseModel):
    """Base of every family's parameters: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


P = TypeVar("P", bound=Params)


@dataclass(frozen=True, slots=True)
class Solved:
    """The answer key of one parameter set."""

    expected: Expected
    solution: Localized
    mistakes: tuple[KnownMistake, ...] = ()
    # The interview hint: the method without its numbers. None: the solution's first step
    # (`first_step`), which a family overrides where that step is the answer already or
    # stops mid-clause.
    hint: Localized | None = None


def first_step(solution: str) -> str:
    """The formula a worked solution starts from, without the numbers that follow it:
    its first sentence, cut before the second `=` (`out = formula = numbers = answer`)."""
    sentence = solution
    for stop in (". ", "。", "; ", ";", "；", "\n"):
        sentence = sentence.partition(stop)[0]
    parts = sentence.split("=")
    return "=".join(parts[:2]).strip() if len(parts) > 2 else sentence.strip()


def mistake(id_: str, value: Expected, en: str, zh: str) -> KnownMistake:
    return KnownMistake(id=id_, value=value, feedback=Localized(en=en, zh=zh))


class Family(ABC, Generic[P]):
    """One question family. Subclasses set the class attributes and implement `draw`, `ask`
    and `solve`; instances may keep caches (the registry owns the instances)."""

    name: ClassVar[str]
    summary: ClassVar[str]
    """What the answer is, in one line (shown by `--list`)."""
    params_model: type[P]
    tolerance: ClassVar[Tolerance] = DEFAULT_TOLERANCE
    percent_ok: ClassVar[bool] = False
    """Whether `25%` is accepted: the answer is a fraction or probability."""
    derived_defaults: ClassVar[Mapping[str, str]] = {}
    """Parameters whose default depends on others, e.g. {"s": "k"} (shown by `--list`)."""

    def parse(self, raw: Mapping[str, Any]) -> P:
        """Validated parameters; `CheckRequestError` with a one-line message otherwise."""
        fields = self.params_model.model_fields
        for key in raw:
            if key not in fields:
                raise CheckRequestError(
                    f"{self.name}: unknown parameter {key!r}; parameters: {self.signature()}",
                    f"{self.name}：没有参数 {key!r}；参数有：`{self.signature()}`",
                )
        try:
            return self.params_model.model_validate(dict(raw))
        except ValidationError as error:
            raise CheckRequestError(*self._explain(error)) from None

    def _explain(self, error: ValidationError) -> tuple[str, str]:
        """The first problem, in English and Chinese (pydantic's wording is English only)."""
        first = error.errors(include_url=False)[0]
        loc = first["loc"]
        if not loc:  # a model-level check: an impossible combination of parameters
            # (a `refused` check says why in Chinese too; a plain ValueError in English)
            zh = validation_message(first, "zh") if first["type"] == "refused" else None
            message = validation_message(first, "en")
            return (
                f"{self.name}: impossible configuration: {message}",
                f"{self.name}：参数组合不成立：{zh or message}",
            )
        name = str(loc[0])
        if first["type"] == "missing":
            return (
                f"{self.name}: missing parameter {name!r}; parameters: {self.signature()}",
                f"{self.name}：缺少参数 {name!r}；参数有：`{self.signature()}`",
            )
        field = self.params_model.model_fields[name]
        if len(loc) > 1 and get_origin(_unwrap(field.annotation)) in (Union, types.UnionType):
            # pydantic reports one error per branch of a union; say what any branch accepts.
            expected = describe_type(field.annotation)
            message, message_zh = f"expected {expected}", f"应为 {expected}"
        else:
            message, message_zh = validation_message(first, "en"), validation_message(first, "zh")
            if len(loc) > 1:
                item = "/".join(str(part) for part in loc[1:])
                message, message_zh = f"item {item}: {message}", f"第 {item} 项：{message_zh}"
        got = first.get("input")
        shown = repr(got) if not isinstance(got, dict) else "..."
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return (
            f"{self.name}: parameter {name!r}: {message} (got {shown})",
            f"{self.name}：参数 {name!r}：{message_zh}（收到 {shown}）",
        )

    def signature(self) -> str:
        """`n, k, s=1, p=0, d=1`: the parameters as the spec writes them."""
        parts = []
        for name, field in self.params_model.model_fields.items():
            if field.is_required():
                parts.append(name)
            elif name in self.derived_defaults:
                parts.append(f"{name}={self.derived_defaults[name]}")
            else:
                parts.append(f"{name}={_json_default(field.default)}")
        return ", ".join(parts)

    def parameters(self) -> list[dict[str, Any]]:
        """Each parameter as `--list` shows it: name, type, required, default (and choices)."""
        described = []
        for name, field in self.params_model.model_fields.items():
            info: dict[str, Any] = {"name": name, "type": describe_type(field.annotation)}
            info["required"] = field.is_required()
            if not field.is_required():
                info["default"] = (
                    self.derived_defaults[name]
                    if name in self.derived_defaults
                    else _json_default(field.default)
                )
            choices = _choices(field.annotation)
            if choices:
                info["choices"] = choices
            if field.description:
                info["description"] = field.description
            described.append(info)
        return described

    @abstractmethod
    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        """Realistic interview parameters of that difficulty (validated by the caller)."""

    @abstractmethod
    def ask(self, p: P) -> Localized:
        """The question, stating every convention the answer depends on."""

    @abstractmethod
    def solve(self, p: P) -> Solved:
        """The answer key (computed with torch/NumPy), worked solution and known mistakes."""


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _choices(annotation: Any) -> list[Any]:
    annotation = _unwrap(annotation)
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    return []


def describe_type(annotation: Any) -> str:
    """A short human name of a parameter type: `int`, `number`, `list of numbers`, `'a' | 'b'`."""
    annotation = _unwrap(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return " | ".join(repr(choice) for choice in get_args(annotation))
    if origin in (Union, types.UnionType):
        names = [describe_type(arg) for arg in get_args(annotation) if arg is not type(None)]
        text = " or ".join(names)
        return f"{text} or null" if type(None) in get_args(annotation) else text
    if origin in (list, tuple):
        inner = describe_type(get_args(annotation)[0])
        plural = {"int": "ints", "number": "numbers", "list of numbers": "lists of numbers"}
        return f"list of {plural.get(inner, inner)}"
    return {int: "int", float: "number", bool: "bool", str: "string"}.get(annotation, "value")
