"""Normalising a typed answer and cutting it into the sentences a pattern must match within
(the rubric checker, issue #18)."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

RubricLang = Literal["en", "zh"]

MAX_SENTENCE_EN = 80  # words; a longer sentence is cut at its commas (`units`)
MAX_SENTENCE_ZH = 160  # characters

_GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ϵ": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ξ": "xi",
    "ο": "omicron",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "ς": "sigma",
    "τ": "tau",
    "υ": "upsilon",
    "φ": "phi",
    "ϕ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
}
_SUPER = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ", "0123456789+-=()nit", strict=True))
_SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜ", "0123456789+-=()aeoxhklmnpst", strict=True))
_SUPER_RUN = re.compile("[" + "".join(_SUPER) + "]+")
_SUB_RUN = re.compile("[" + "".join(_SUB) + "]+")
_REPLACE = [
    ("≤", " <= "),
    ("⩽", " <= "),
    ("≥", " >= "),
    ("⩾", " >= "),
    ("≠", " != "),
    ("→", " -> "),
    ("⟶", " -> "),
    ("=>", " -> "),
    ("≈", " approx "),
    ("≃", " approx "),
    ("∝", " proportional "),
    ("−", "-"),
    ("–", "-"),
    ("—", " - "),
    ("’", "'"),
    ("‘", "'"),
    ("′", "'"),
    ("`", "'"),
    ("“", '"'),
    ("”", '"'),
    ("**", "^"),
    ("×", " "),
    ("·", " "),
    ("⋅", " "),
    ("∙", " "),
    ("∗", " "),
    ("√", " sqrt "),
    ("∞", " inf "),
    ("∏", " prod "),
    ("∑", " sum "),
    ("∇", " grad "),
    ("∂", " d "),
    ("‖", "|"),
    ("。", ". "),  # a sentence end, not the dot of `loss.backward()`
    ("、", ","),
    ("…", " "),
    ("e.g.", "eg"),
    ("i.e.", "ie"),
    ("etc.", "etc"),
    ("vs.", "vs"),
    ("et al.", "et al"),
    ("won't", "will not"),
    ("can't", "can not"),
    ("cannot", "can not"),
    ("n't", " not"),
]
_TIMES = re.compile(r"(?<=[a-z0-9)\]'])\s*\*\s*(?=[a-z0-9(\[\u03b1-\u03c9])")
_GREEK_RUN = re.compile("[" + "".join(_GREEK) + "]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"\s")


def normalize(text: str) -> str:
    """Lower case, half-width, Greek letters as their names (σ -> sigma), x² as x^2, ≤ as <=,
    one kind of dash and quote; Chinese sentence ends as ASCII ones (。 -> .)."""
    text = _SUPER_RUN.sub(lambda m: "^" + "".join(_SUPER[c] for c in m.group()), text)
    text = _SUB_RUN.sub(lambda m: "".join(_SUB[c] for c in m.group()), text)
    text = unicodedata.normalize("NFKC", text).casefold()
    for old, new in _REPLACE:
        if old in text:
            text = text.replace(old, new)
    if "*" in text:
        text = _TIMES.sub(" ", text)  # n*d^2, 128*(64*3*3): a multiplication sign, as × is
    return _GREEK_RUN.sub(lambda m: f" {_GREEK[m.group()]} ", text)


def is_chinese(text: str) -> bool:
    """Whether the answer is written mostly in Chinese (a fifth of its characters)."""
    letters = len(text) - len(_SPACE.findall(text))
    if not letters:
        return False
    return len(_CJK.findall(text)) * 5 >= letters


_SENTENCE_END = re.compile(r"[.](?=\s|$)|[!?](?!=)|[;\n\r]")


def sentences(normalized: str) -> list[str]:
    """Split at sentence ends (. ! ? ; and line breaks; `0.25` is not split)."""
    parts = _SENTENCE_END.split(normalized)
    return [p for p in (part.strip() for part in parts) if p]


_CLAUSE_END = re.compile(r",")
_WORDS = re.compile(r"[a-z]+|\d+(?:\.\d+)?|[\u3400-\u9fff]")


def _size(text: str, lang: RubricLang) -> int:
    """Words (English) or characters (Chinese, spaces aside) of a sentence."""
    if lang == "zh":
        return len(text) - len(_SPACE.findall(text))
    return len(_WORDS.findall(text))


def units(normalized: str, lang: RubricLang) -> list[str]:
    """The sentences a pattern must match within: a sentence over MAX_SENTENCE is cut at its
    commas, and a piece still over it (a run of terms with no punctuation, as a pasted list of
    key terms is) is left out."""
    limit = MAX_SENTENCE_ZH if lang == "zh" else MAX_SENTENCE_EN
    found: list[str] = []
    for sentence in sentences(normalized):
        if _size(sentence, lang) <= limit:
            found.append(sentence)
            continue
        piece = ""
        for clause in _CLAUSE_END.split(sentence):
            joined = f"{piece},{clause}" if piece else clause
            if _size(joined, lang) <= limit:
                piece = joined
                continue
            if piece:
                found.append(piece)
            piece = clause if _size(clause, lang) <= limit else ""
        if piece:
            found.append(piece)
    return found
