"""pydantic's validation errors as short sentences in English and Chinese.

pydantic writes its messages in English only. Where one reaches a user (the `/check` parameters,
a demo's parameters, the problems of an imported question pack), the Chinese sentence is built
here from the error's `type` and `ctx`, which pydantic keeps stable across versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import PydanticCustomError

from bot.core.models import Lang, Localized

# type -> Chinese sentence; `{name}` fields come from the error's ctx.
_ZH: dict[str, str] = {
    "gan_too_many_steps": "步数太多：loss 为 {loss}、批大小为 {batch} 时最多 {most} 步"
    "（你要求 {steps} 步）；请减少步数或减小批大小",
    "missing": "缺少此项",
    "extra_forbidden": "不认识这一项",
    "unexpected_keyword_argument": "不认识这一项",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数，不能带小数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "dict_type": "应为映射（键：值）",
    "model_type": "应为映射（键：值）",
    "model_attributes_type": "应为映射（键：值）",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应小于或等于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "string_pattern_mismatch": "格式不对（应符合 `{pattern}`）",
    "none_required": "应为空",
}


def _english(error: Mapping[str, Any]) -> str:
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")


def _shown(value: object) -> str:
    """A bound as pydantic's English shows it: `0`, not `0.0`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _expected(text: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as a Chinese list: 'a'、'b' 或 'c'."""
    return text.replace(", ", "、").replace(" or ", " 或 ")


def refused(en: str, zh: str) -> PydanticCustomError:
    """A check of our own that says why in both languages: raise it in a validator, and
    `validation_message` gives the sentence of the language asked (a plain ValueError keeps its
    English after a Chinese lead-in)."""
    return PydanticCustomError("refused", en, {"zh": zh})


def validation_message(error: Mapping[str, Any], lang: Lang) -> str:
    """One item of `ValidationError.errors()` as a sentence (without its location) in `lang`.

    A check of our own (a `value_error`) keeps its English text in Chinese, after a Chinese
    lead-in, rather than being lost: its wording is the validator's.
    """
    if lang != "zh":
        return _english(error)
    kind = str(error.get("type", ""))
    if kind == "refused":
        return str(dict(error.get("ctx") or {}).get("zh", _english(error)))
    template = _ZH.get(kind)
    if template is not None:
        context = {key: _shown(value) for key, value in dict(error.get("ctx") or {}).items()}
        if "expected" in context:
            context["expected"] = _expected(context["expected"])
        try:
            return template.format(**context)
        except (KeyError, IndexError):
            pass
    return f"取值无效：{_english(error)}"


def validation_text(error: Mapping[str, Any]) -> Localized:
    """Both languages of `validation_message`."""
    return Localized(en=validation_message(error, "en"), zh=validation_message(error, "zh"))
