"""Checking a typed answer to an open question against its key points, offline (issue #18).

The format is described in docs/rubrics.md. Each key point carries `match:` patterns per language;
a pattern is groups joined by `&`, a group is alternatives joined by `|`, and a pattern matches
when one alternative of every group occurs in the same sentence of the answer, close together,
in a sentence that reads as prose (a common word outside the matched terms, so a list of key
terms does not count). A plain term does not count where it is negated ("does not prevent"), nor
after a negation of its clause's verb ("never causes vanishing gradients") unless the pattern
expects one; `~term` counts only where it is negated; `?term` counts either way.

Pure Python, no model: normalisation (case, full-width forms, Greek letters and their names,
superscripts, operators), light English stemming, Chinese by substring. Nothing here imports the
models at run time (bot/core/models.py validates patterns with `parse_pattern`).

The parts: `text` (normalisation, sentences and the units a pattern matches within), `english`
(tokens, stemming, negation), `chinese` (clauses, negation), `patterns` (parsing a pattern),
`matching` (where terms count, the key points an answer covers, the suggested rating). This
module is the public API; import from `bot.core.rubric`.
"""

from __future__ import annotations

from bot.core.rubric.chinese import _ZH_PROSE
from bot.core.rubric.english import _EN_PROSE, stem
from bot.core.rubric.matching import (
    AGAIN_BELOW,
    HARD_BELOW,
    MAX_ANSWER_CHARS,
    PROSE_MARGIN_EN,
    PROSE_MARGIN_ZH,
    PROSE_MIN_ZH,
    WINDOW_EN,
    WINDOW_ZH,
    MatchLike,
    RubricResult,
    Span,
    Suggested,
    check_points,
    check_question,
    rubric_terms,
    suggest,
)
from bot.core.rubric.patterns import (
    MAX_ALTERNATIVES,
    MAX_GROUPS,
    MAX_PATTERN_CHARS,
    MIN_GROUPS,
    Negation,
    Pattern,
    PatternError,
    Term,
    parse_pattern,
)
from bot.core.rubric.text import (
    MAX_SENTENCE_EN,
    MAX_SENTENCE_ZH,
    RubricLang,
    is_chinese,
    normalize,
    sentences,
    units,
)

__all__ = [
    "AGAIN_BELOW",
    "HARD_BELOW",
    "MAX_ALTERNATIVES",
    "MAX_ANSWER_CHARS",
    "MAX_GROUPS",
    "MAX_PATTERN_CHARS",
    "MAX_SENTENCE_EN",
    "MAX_SENTENCE_ZH",
    "MIN_GROUPS",
    "PROSE_MARGIN_EN",
    "PROSE_MARGIN_ZH",
    "PROSE_MIN_ZH",
    "WINDOW_EN",
    "WINDOW_ZH",
    "_EN_PROSE",  # the common words that make a sentence prose (tests/core/test_rubric_honesty)
    "_ZH_PROSE",
    "MatchLike",
    "Negation",
    "Pattern",
    "PatternError",
    "RubricLang",
    "RubricResult",
    "Span",
    "Suggested",
    "Term",
    "check_points",
    "check_question",
    "is_chinese",
    "normalize",
    "parse_pattern",
    "rubric_terms",
    "sentences",
    "stem",
    "suggest",
    "units",
]
