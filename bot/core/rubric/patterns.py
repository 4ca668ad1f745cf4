"""A key point's `match:` pattern: groups of alternatives (terms), parsed and checked
(docs/rubrics.md; bot/core/models.py validates patterns with `parse_pattern`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from bot.core.rubric.chinese import _ZH_FUNCTION, _ZH_NEGATORS, _latin, _zh_compact
from bot.core.rubric.english import _NEGATORS, _TOKEN, _TOO_COMMON, stem
from bot.core.rubric.text import RubricLang, normalize

MIN_GROUPS = 2  # a single term per line of a keyword list must not cover a point
MAX_GROUPS = 6
MAX_ALTERNATIVES = 40
MAX_PATTERN_CHARS = 1000

Negation = Literal["plain", "negated", "any"]


@dataclass(frozen=True, slots=True)
class Term:
    """One alternative: English tokens (a trailing `*` on a word: any word starting so) or a
    Chinese substring; `negation`: plain terms count only where not negated."""

    text: str
    negation: Negation
    tokens: tuple[tuple[str, bool, bool], ...] = ()  # (stem or raw prefix/symbol, prefix, word)
    compact: str = ""  # Chinese
    negative: bool = False  # says "no"/"not"/没有 itself ("no embedding"): a negative statement
    latin_start: bool = False  # Chinese: a Latin word starts the term (a word boundary there)
    latin_end: bool = False  # … ends it, with no trailing `*`


Pattern = tuple[tuple[Term, ...], ...]


class PatternError(ValueError):
    """A pattern that cannot be used; the message says what to change."""


_STAR = re.compile(r"(?<=[A-Za-z0-9])\*(?=\s|$|[|&])")


def _term(raw: str, lang: RubricLang) -> Term:
    text = raw.strip()
    negation: Negation = "plain"
    if text.startswith("~"):
        negation, text = "negated", text[1:].strip()
    elif text.startswith("?"):
        negation, text = "any", text[1:].strip()
    if not text:
        raise PatternError("an empty alternative (look for `||`, or `|` at an end)")
    if lang == "zh":
        compact = _zh_compact(normalize(text.replace("*", "")))
        if not compact:
            raise PatternError(f"{raw.strip()!r} has nothing to match once normalised")
        if len(compact) == 1 and compact in _ZH_FUNCTION:
            raise PatternError(f"{raw.strip()!r} is only common words and matches too much")
        negative = any(n in compact for n in _ZH_NEGATORS)
        return Term(
            text,
            negation,
            compact=compact,
            negative=negative,
            latin_start=_latin(compact, 0),
            latin_end=_latin(compact, len(compact) - 1) and not text.endswith("*"),
        )
    marked = _STAR.sub("\x00", text)
    if "*" in marked:
        raise PatternError(f"{raw.strip()!r}: `*` only ends a word (oscillat*)")
    tokens: list[tuple[str, bool, bool]] = []
    for tok in _TOKEN.findall(normalize(marked)):
        if tok.endswith("\x00"):
            tokens.append((tok[:-1], True, True))
        elif tok[0].isalnum():
            tokens.append((stem(tok), False, True))
        else:
            tokens.append((tok, False, False))
    if not tokens:
        raise PatternError(f"{raw.strip()!r} has nothing to match once normalised")
    words = [t for t in tokens if t[2]]
    raw_words = [t for t in _TOKEN.findall(normalize(text)) if t[0].isalnum()]
    if raw_words and all(w in _TOO_COMMON for w in raw_words):
        raise PatternError(f"{raw.strip()!r} is only common words and matches too much")
    if not words and len(tokens) == 1:
        raise PatternError(f"{raw.strip()!r}: a lone symbol matches too much")
    negative = any(w in _NEGATORS for w in raw_words)
    return Term(text, negation, tokens=tuple(tokens), negative=negative)


@lru_cache(maxsize=8192)
def parse_pattern(text: str, lang: RubricLang) -> Pattern:
    """`alt|alt & alt|alt ...` as groups of terms; PatternError says what is wrong."""
    if len(text) > MAX_PATTERN_CHARS:
        raise PatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    groups: list[tuple[Term, ...]] = []
    for number, group in enumerate(text.split("&"), start=1):
        if not group.strip():
            raise PatternError(f"group {number} is empty (look for `&&`, or `&` at an end)")
        alternatives = group.split("|")
        if len(alternatives) > MAX_ALTERNATIVES:
            raise PatternError(f"group {number} has more than {MAX_ALTERNATIVES} alternatives")
        try:
            groups.append(tuple(_term(alt, lang) for alt in alternatives))
        except PatternError as exc:
            raise PatternError(f"group {number}: {exc}") from None
    if not MIN_GROUPS <= len(groups) <= MAX_GROUPS:
        raise PatternError(
            f"a pattern needs {MIN_GROUPS} to {MAX_GROUPS} groups joined by `&`, "
            f"not {len(groups)} (one term alone would count in a bare list of key terms)"
        )
    return tuple(groups)
