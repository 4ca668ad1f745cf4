"""The checker as a calculator, shared by `/check` and the console's `check`: reading a
request written as words (`FAMILY k=v ... [--answer A] [--seed N]`) and showing the result."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from bot.core.models import Lang
from bot.shared.texts import clip


class CalculatorError(ValueError):
    """A request that cannot be read; the message says what is wrong, in one line (`zh`: the
    same in Chinese, where there is one)."""

    def __init__(self, message: str, zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh

    def text(self, lang: Lang) -> str:
        """The message in `lang` (English where no Chinese was written)."""
        return self.zh if lang == "zh" and self.zh else str(self)


@dataclass(slots=True)
class CheckRequest:
    family: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    answer: str | None = None


def parse_value(text: str) -> Any:
    """A parameter's value: JSON where it parses (3, [1,2], false, 0.5), else the string.

    Here rather than in the checkers package, whose import loads torch: the console reads a
    `check` request before anything needs torch."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _seed(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CalculatorError(
            f"seed must be a whole number, not {value!r}", f"`seed` 应为非负整数，不能是 {value!r}"
        )
    return value


# Full-width ASCII (ｈ＝３２, ［１，２］: a Chinese keyboard) and the ideographic space, as ASCII;
# nothing else (not NFKC, which would also read a superscript ² as 2).
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def parse_params(text: str) -> tuple[dict[str, Any], int | None]:
    """`k=v k2=[1,2] cell=lstm` -> parameters (JSON where it parses) and an optional seed;
    full-width characters as their ASCII ones."""
    try:
        words = shlex.split(text.translate(_FULL_WIDTH))
    except ValueError as exc:
        raise CalculatorError(
            f"cannot read the parameters: {exc}", "无法读取参数：引号没有成对，或反斜杠后缺少字符"
        ) from None
    params: dict[str, Any] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise CalculatorError(
                f"parameters are written k=v, not {word!r}", f"参数的写法是 k=v，不是 {word!r}"
            )
        params[key] = parse_value(value)
    seed = params.pop("seed", None)
    return params, None if seed is None else _seed(seed)


def parse_words(words: list[str]) -> CheckRequest:
    """`FAMILY k=v ... [--answer A] [--seed N]`, as typed in the console."""
    if not words or words[0].startswith("-"):
        raise CalculatorError("usage: check FAMILY k=v ... [--answer A] | check FAMILY --seed N")
    request = CheckRequest(family=words[0])
    rest: list[str] = []
    index = 1
    while index < len(words):
        word = words[index]
        if word in ("--answer", "--seed"):
            if index + 1 >= len(words):
                raise CalculatorError(f"{word} needs a value")
            if word == "--answer":
                request.answer = words[index + 1]
            else:
                request.seed = _seed(words[index + 1])
            index += 2
            continue
        rest.append(shlex.quote(word))
        index += 1
    params, seed = parse_params(" ".join(rest))
    request.params = params
    if seed is not None:
        request.seed = seed
    return request


def format_result(result: dict[str, Any], lang: Lang, limit: int = 2000) -> str:
    """A check result for people: parameters, question, expected value, verdict, solution."""
    params = result["params"].items()
    shown = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in params)
    lines = [f"`{result['family']} {shown}`"]
    question = result.get("question")
    if isinstance(question, dict):
        lines.append(str(question[lang]))
    expected = result.get("display", result.get("expected"))
    lines.append(f"答案：**{expected}**" if lang == "zh" else f"Expected: **{expected}**")
    if result.get("correct") is not None or "verdict" in result:
        lines.append(str(result["feedback_zh"] if lang == "zh" else result["feedback"]))
    solution = result.get("solution")
    if isinstance(solution, dict):
        lines.append(str(solution[lang]))
    return clip("\n\n".join(lines), limit)
