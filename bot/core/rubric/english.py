"""English answers: tokens, light stemming, and which words a negation denies (the rubric
checker, issue #18)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"[a-z]+\x00?|\d+(?:\.\d+)?|<=|>=|!=|->|==|[^\sa-z\d()\[\]{}^_,:\"\x00]")
_FUNCTION_WORDS = frozenset(
    """a an the is are was were be been being am it its it's this that these those of to in on
    for with by from at as and or but so because since if then than when whenever while which
    who whom whose what how why where not no never nor does do did doing done has have had can
    could will would should shall may might must also only still too very more less most least
    each every all any some such we you they he she one there here into onto through over under
    about between after before until unless makes make made gets get got lets let becomes become
    keeps keep goes go gives give takes take means mean helps help causes cause uses use used
    instead rather even though although whereas thus hence therefore just both either neither
    per again once other another same own their them our us your my me i""".split()
)
# Terms made only of these would match nearly every sentence (refused by `parse_pattern`).
_TOO_COMMON = frozenset(
    "a an the is are was were be been it its this that of to in on and or as at by for with".split()
)
_NEGATORS = frozenset("not no never without nor neither none nothing".split())
_NOT_NEGATION_NEXT = frozenset("only just matter merely".split())
_COMPARATIVES = frozenset(
    "more less larger greater bigger smaller higher lower fewer better worse".split()
)
# A negation of the clause's verb ("does not prevent", "never causes", "has no path") denies the
# rest of the clause: a plain term after it does not count, up to a comma, a colon or one of these
# words; `without` only negates the word it is about.
_DIRECT_ONLY_NEGATORS = frozenset(("without",))
_SCOPE_BREAKERS = frozenset(
    """but yet while whereas although though because since so which instead rather however
    unlike except thus hence therefore otherwise then unless only""".split()
)
# "a reshape that does not separate the directions mixes samples": the negation is the relative
# clause's, whose end is unknown; it denies its verb only.
_RELATIVE = frozenset(("that", "which", "who"))
_EN_CLAUSE_BREAK = re.compile(r"[,:](?!\d)")
_NEGATION_FILLERS = frozenset(
    """be been being is are was were really always necessarily quite very actually fully
    completely entirely truly help helps able to a an the any by itself much even ever directly
    simply strictly at all longer more does do did can could will would should must may might
    in general generally sufficiently enough reliably""".split()
)
# Longest first; the stem keeps at least 3 letters. `-ise/-ize` forms meet at `iz`.
_SUFFIXES = [
    ("isations", "iz"),
    ("izations", "iz"),
    ("isation", "iz"),
    ("ization", "iz"),
    ("ations", ""),
    ("ising", "iz"),
    ("izing", "iz"),
    ("ation", ""),
    ("ised", "iz"),
    ("ized", "iz"),
    ("ises", "iz"),
    ("izes", "iz"),
    ("ness", ""),
    ("ments", ""),
    ("ment", ""),
    ("ities", ""),
    ("ity", ""),
    ("ating", ""),
    ("ated", ""),
    ("ates", ""),
    ("ate", ""),
    ("ise", "iz"),
    ("ize", "iz"),
    ("ings", ""),
    ("ing", ""),
    ("ions", ""),
    ("ion", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ers", ""),
    ("er", ""),
    ("ed", ""),
    ("es", ""),
    ("ly", ""),
    ("s", ""),
    ("e", ""),
]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stem: oscillate, oscillates, oscillating, oscillation -> oscill."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ss"):
        return word
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + repl
    return word


@dataclass(frozen=True, slots=True)
class _Tok:
    raw: str
    stem: str
    word: bool
    negated: bool  # the word the negation is about ("not *prevent*")
    scope_from: int  # the negation of the clause's verb this word follows, or -1


def _negates(raws: Sequence[str], index: int) -> bool:
    """Whether the negator at `index` negates ("not only", "no matter", "no more than 0.25"
    do not)."""
    following = raws[index + 1] if index + 1 < len(raws) else ""
    if following in _NOT_NEGATION_NEXT:
        return False
    after = raws[index + 2] if index + 2 < len(raws) else ""
    return not (following in _COMPARATIVES and after == "than")


def _tokens(sentence: str) -> list[_Tok]:
    toks: list[_Tok] = []
    for clause in _EN_CLAUSE_BREAK.split(sentence):
        raws = _TOKEN.findall(clause)
        negate_next = False
        scope = -1
        for index, raw in enumerate(raws):
            word = raw[0].isalnum()
            negated = False
            scope_from = scope
            if word:
                if raw in _SCOPE_BREAKERS:
                    scope = scope_from = -1
                    negate_next = False
                if negate_next and raw not in _NEGATION_FILLERS:
                    negated = True
                    negate_next = False
                if raw in _NEGATORS and _negates(raws, index):
                    negate_next = True
                    # "A, not B" and "without" deny B only; "does not prevent B" the clause
                    if (
                        index > 0
                        and scope < 0
                        and raw not in _DIRECT_ONLY_NEGATORS
                        and not _RELATIVE.intersection(raws[:index])
                    ):
                        scope = len(toks)
            toks.append(_Tok(raw, stem(raw) if word else raw, word, negated, scope_from))
    return toks


# English: the common words, and relations (`sigma' <= 0.25` states something).
_EN_PROSE = _FUNCTION_WORDS | frozenset(("=", "==", "<=", ">=", "!=", "<", ">", "->", "approx"))
