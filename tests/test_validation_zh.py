"""pydantic's English validation messages become Chinese sentences where they reach a user:
the `/check` parameters and the demos' parameters (real pydantic errors, not hand-made ones)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.checkers import CheckRequestError, TorchCheckers
from bot.core.validation import validation_message, validation_text
from bot.demos import DemoParamsError, GanParams
from bot.demos.base import parse_params as parse_demo_params
from bot.shared.calculator import CalculatorError, parse_params
from bot.shared.demo_texts import demo_error_text

from .test_zh_texts import problems_in


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(ge=1, le=100)
    rate: float = Field(gt=0, lt=1)
    cell: Literal["rnn", "lstm", "gru"] = "rnn"
    sizes: Annotated[list[int], Field(max_length=2)] = []
    name: Annotated[str, Field(pattern=r"^[a-z]+$", min_length=2)] = "ab"
    flag: bool = False


def errors(**values: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(values)
    return [dict(e) for e in caught.value.errors(include_url=False)]


def zh(**values: Any) -> list[str]:
    return [validation_message(e, "zh") for e in errors(**values)]


def test_common_error_types_in_chinese() -> None:
    assert zh(rate=0.5) == ["缺少此项"]
    assert zh(n="abc", rate=0.5) == ["应为整数"]
    assert zh(n=1.5, rate=0.5) == ["应为整数，不能带小数"]
    assert zh(n=0, rate=0.5) == ["应大于或等于 1"]
    assert zh(n=101, rate=0.5) == ["应小于或等于 100"]
    assert zh(n=1, rate="fast") == ["应为数字"]
    assert zh(n=1, rate=0) == ["应大于 0"]
    assert zh(n=1, rate=1) == ["应小于 1"]
    assert zh(n=1, rate=0.5, cell="transformer") == ["应为以下之一：'rnn'、'lstm' 或 'gru'"]
    assert zh(n=1, rate=0.5, sizes=[1, 2, 3]) == ["最多 2 项"]
    assert zh(n=1, rate=0.5, name="a") == ["至少 2 个字符"]
    assert zh(n=1, rate=0.5, name="A1") == ["格式不对（应符合 `^[a-z]+$`）"]
    assert zh(n=1, rate=0.5, flag="maybe") == ["应为 true 或 false"]
    assert zh(n=1, rate=0.5, extra=1) == ["不认识这一项"]
    for messages in (zh(n="abc", rate="fast"), zh(n=0, rate=0.5, cell="x", sizes=[1, 2, 3])):
        for message in messages:
            assert problems_in(message) == [], message


def test_english_is_pydantics_own() -> None:
    (error,) = errors(n=0, rate=0.5)
    assert validation_message(error, "en") == "Input should be greater than or equal to 1"
    assert validation_text(error).zh == "应大于或等于 1"


def test_check_request_errors_in_chinese() -> None:
    checkers = TorchCheckers()
    with pytest.raises(CheckRequestError) as caught:
        checkers.check("conv_output", {"n": "big", "k": 3})
    assert caught.value.text("en").startswith("conv_output: parameter 'n': Input should be")
    assert caught.value.text("zh") == "conv_output：参数 'n'：应为整数（收到 'big'）"
    with pytest.raises(CheckRequestError) as caught:
        checkers.check("conv_output", {"n": 0, "k": 3})
    assert caught.value.text("zh") == "conv_output：参数 'n'：应大于或等于 1（收到 0）"
    with pytest.raises(CheckRequestError) as caught:
        checkers.check("conv_output", {"k": 3})
    assert caught.value.text("zh").startswith("conv_output：缺少参数 'n'；参数有：`n, k")
    with pytest.raises(CheckRequestError) as caught:
        checkers.check("conv_output", {"n": 8, "k": 3, "kernel": 3})
    assert caught.value.text("zh").startswith("conv_output：没有参数 'kernel'")
    with pytest.raises(CheckRequestError) as caught:
        checkers.check("attention", {})
    assert caught.value.text("zh").startswith("没有题型族 'attention'；可用的题型族：")


def test_demo_parameter_errors_in_chinese() -> None:
    with pytest.raises(DemoParamsError) as caught:
        parse_demo_params(GanParams, {"steps": 99999, "loss": "hinge"}, "gan")
    text = demo_error_text(caught.value, "zh")
    assert text.startswith("⚠️ 参数有误：")
    assert "steps：应小于或等于 5000（收到 99999）" in text
    assert "loss：应为以下之一：'minimax'、'nonsaturating' 或 'wgan'（收到 'hinge'）" in text
    assert "Input should" not in text
    english = demo_error_text(caught.value, "en")
    assert "steps: Input should be less than or equal to 5000 (got 99999)" in english


def test_check_parameters_typed_full_width_are_read() -> None:
    """A Chinese keyboard types ｈ＝３２ and ［１，２］: the same parameters as h=32 and [1,2]."""
    assert parse_params("ｈ＝３２\u3000ｋ＝［１，２］ ｓｅｅｄ＝７") == ({"h": 32, "k": [1, 2]}, 7)
    assert parse_params("n=²") == ({"n": "²"}, None)  # a superscript is not a digit


def test_calculator_errors_in_chinese() -> None:
    with pytest.raises(CalculatorError) as caught:
        parse_params("n=8 k")
    assert caught.value.text("zh") == "参数的写法是 k=v，不是 'k'"
    assert caught.value.text("en") == "parameters are written k=v, not 'k'"
    with pytest.raises(CalculatorError) as caught:
        parse_params("n='8")
    assert caught.value.text("zh").startswith("无法读取参数：")
    with pytest.raises(CalculatorError) as caught:
        parse_params("n=8 seed=-1")
    assert caught.value.text("zh") == "`seed` 应为非负整数，不能是 -1"
    with pytest.raises(CheckRequestError) as caught:
        TorchCheckers().check("conv_output", {"n": 8, "k": 3}, seed=4)
    assert caught.value.text("zh") == "参数和 `--seed` 只能给一个"
    for message in ("参数的写法是 k=v，不是 'k'", "`seed` 应为非负整数，不能是 -1"):
        assert problems_in(message) == []


@pytest.mark.parametrize(
    ("family", "params", "zh"),
    [
        ("conv_output", {"n": 2, "k": 7}, "输出尺寸会是 -4（小于 1）：卷积核覆盖 7 个像素"),
        ("conv_output", {"n": 224, "k": 3, "p": "same", "s": 2}, "要求 stride 为 1"),
        ("pool_output", {"n": 4, "k": 3, "p": 2}, "超过了窗口大小 3 的一半"),
        ("conv_params", {"c_in": 3, "c_out": 8, "k": 3, "groups": 2}, "不能被 groups=2 整除"),
    ],
)
def test_an_impossible_configuration_is_explained_in_chinese(
    family: str, params: dict[str, object], zh: str
) -> None:
    """A shape that cannot be built is refused in the language asked: the Chinese sentence
    says why in Chinese (it kept the validator's English after the lead-in)."""
    with pytest.raises(CheckRequestError) as caught:
        TorchCheckers().check(family, params)
    assert caught.value.zh is not None and zh in caught.value.zh, caught.value.zh
    assert caught.value.zh.startswith(f"{family}：参数组合不成立：")
    assert not re.search(r"[a-z]{3,} [a-z]{3,}", caught.value.zh.split("：", 2)[2])  # no English
