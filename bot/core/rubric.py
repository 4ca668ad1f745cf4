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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from bot.core.models import Question

RubricLang = Literal["en", "zh"]
Suggested = Literal["again", "hard", "good", "easy"]

# Suggested self-rating by coverage: below AGAIN_BELOW again, below HARD_BELOW hard, below 1
# good, every key point easy (docs/rubrics.md).
AGAIN_BELOW = 0.35
HARD_BELOW = 0.7

MAX_ANSWER_CHARS = 20_000  # beyond this an answer is checked on its beginning only
MAX_SENTENCE_EN = 80  # words; a longer sentence is cut at its commas (`units`)
MAX_SENTENCE_ZH = 160  # characters
MIN_GROUPS = 2  # a single term per line of a keyword list must not cover a point
MAX_GROUPS = 6
MAX_ALTERNATIVES = 40
MAX_PATTERN_CHARS = 1000
WINDOW_EN = 30  # tokens from the first to the last matched group
WINDOW_ZH = 35  # characters
PROSE_MARGIN_EN = 2  # a common word this close to the matched window makes it prose
PROSE_MARGIN_ZH = 3
PROSE_MIN_ZH = 1  # common characters needed near a Chinese match

# --- normalisation ---------------------------------------------------------------------------

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


# --- English tokens ---------------------------------------------------------------------------

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


# --- Chinese ----------------------------------------------------------------------------------

_ZH_DROP = re.compile(r"[\s()\[\]{}^_,:\"，：（）【】「」『』《》]")
_ZH_NEGATORS = ("没有", "并非", "不是", "无法", "不", "没", "无", "非", "未", "别", "勿")
_ZH_FILLERS = (
    "一定",
    "完全",
    "可以",
    "足以",
    "能够",
    "真正",
    "彻底",
    "总是",
    "会",
    "能",
    "是",
    "再",
    "太",
    "很",
    "够",
    "就",
    "都",
    "也",
    "必",
    "可",
)
_ZH_FUNCTION = frozenset(
    "的了是在会能可把被让使就都也而和与及或因所如若则要对将这那其为有没不无非用时"
    "再还更很才只并又即等于以由从向给它们我你他她得地着过该此每各"
)


# What makes a Chinese clause prose: the common characters (not the negators, which often start
# a term: 非饱和, 不超过), a few verbs of terse answers (做、换、加、调、减、需、应), and relations
# (a formula `out = ...` is a statement, not a list of terms).
_ZH_PROSE = (
    (_ZH_FUNCTION - frozenset("不没无非未别"))
    | frozenset("做换加调减需应=<>")
    | frozenset("随到少多大小约倍发%0123456789")  # GRU 参数大约少 25%；梯度爆炸仍可能发生
)
# English: the common words, and relations (`sigma' <= 0.25` states something).
_EN_PROSE = _FUNCTION_WORDS | frozenset(("=", "==", "<=", ">=", "!=", "<", ">", "->", "approx"))


def _zh_compact(sentence: str) -> str:
    return _ZH_DROP.sub("", sentence)


_ZH_CLAUSE_BREAK = re.compile(r"[,:，：]")


def _zh_clauses(sentence: str) -> tuple[str, tuple[int, ...], frozenset[int]]:
    """The sentence without spaces and brackets, where its clauses (cut at commas and colons)
    start in it, and where something was dropped (a word boundary between Latin words)."""
    kept: list[str] = []
    starts: list[int] = [0]
    gaps: set[int] = set()
    for char in sentence:
        if _ZH_CLAUSE_BREAK.match(char):
            starts.append(len(kept))
        if _ZH_DROP.match(char):
            gaps.add(len(kept))
        else:
            kept.append(char)
    return "".join(kept), tuple(starts), frozenset(gaps)


def _latin(text: str, index: int) -> bool:
    return 0 <= index < len(text) and "a" <= text[index] <= "z"


def _zh_word_edges(term: Term, text: str, gaps: frozenset[int], span: Span) -> bool:
    """A Latin term inside Chinese text is a whole word: `lenet` is not in googlenet (a plural
    -s, and a term written with a trailing `*`, may follow)."""
    start, end = span
    if term.latin_start and _latin(text, start - 1) and start not in gaps:
        return False
    if term.latin_end and _latin(text, end) and end not in gaps:
        plural = text[end] == "s" and (not _latin(text, end + 1) or end + 1 in gaps)
        return plural
    return True


# A negation of the clause's verb (不会导致, 没有, 无法, 并不) denies the rest of the clause,
# up to one of _ZH_SCOPE_BREAKERS; not the 不/未 of a word (不同, 不断, 未来 …), nor 无/非
# but in 无法/无需/并无/并非, nor one inside a rubric term (不超过, 非饱和).
_ZH_SCOPE_NEGATORS = "不没无未非"
_ZH_NOT_SCOPE = {
    "不": "同变断仅但管少稳论然如妨久止只光足均平对等确连饱相单好错够适利易",
    "无": "",
    "非": "",
    "未": "来知",
    "没": "",
}
_ZH_SCOPE_ONLY_IN = {"无": ("无法", "无需", "无须", "并无", "毫无"), "非": ("并非", "绝非")}
_ZH_SCOPE_BREAKERS = (
    "但",
    "而",
    "却",
    "所以",
    "因此",
    "因为",
    "只是",
    "反而",
    "只",
    "仅",
    "就",
    "则",
)


def _zh_negated(text: str, start: int) -> bool:
    before = text[max(0, start - 8) : start]
    changed = True
    while changed and before:
        changed = False
        for filler in _ZH_FILLERS:
            if before.endswith(filler):
                before = before[: -len(filler)]
                changed = True
                break
    return before.endswith(_ZH_NEGATORS)


# --- patterns ---------------------------------------------------------------------------------

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


# --- matching ---------------------------------------------------------------------------------

Span = tuple[int, int]  # [start, end) in tokens (English) or characters (Chinese)


def _en_occurrences(term: Term, sentence: _Sentence) -> list[Span]:
    first, first_prefix, first_word = term.tokens[0]
    toks = sentence.toks
    if first_word and not first_prefix:
        candidates: Sequence[int] = sentence.starts.get(first, ())
    elif (" " + first if first_word else first) not in sentence.joined:
        return []  # a quick refusal before scanning every token
    else:
        candidates = range(len(toks))
    found: list[Span] = []
    size = len(term.tokens)
    for start in candidates:
        if start + size > len(toks):
            continue
        for offset, (value, prefix, word) in enumerate(term.tokens):
            tok = toks[start + offset]
            if prefix:
                ok = tok.word and tok.raw.startswith(value)
            elif word:
                ok = tok.stem == value
            else:
                ok = tok.raw == value
            if not ok:
                break
        else:
            found.append((start, start + size))
    return found


def _zh_occurrences(term: Term, text: str) -> list[Span]:
    found: list[Span] = []
    start = text.find(term.compact)
    while start >= 0:
        found.append((start, start + len(term.compact)))
        start = text.find(term.compact, start + 1)
    return found


@dataclass(slots=True)
class _Sentence:
    """One sentence prepared for matching. `all_terms`: every term of the rubric, whose spans
    (negated or not) are not 'common words' for the prose rule."""

    lang: RubricLang
    toks: list[_Tok]
    text: str  # Chinese: without spaces and brackets
    joined: str  # English: " raw1 raw2 ... "
    starts: dict[str, list[int]]
    all_terms: Sequence[Term]
    clause_starts: tuple[int, ...] = (0,)  # Chinese: where the clauses start in `text`
    gaps: frozenset[int] = frozenset()  # Chinese: where spaces or brackets were dropped
    cache: dict[int, list[tuple[Span, bool, bool]]] = field(default_factory=dict)
    term_mask: list[bool] | None = None
    zh_scope: list[bool] | None = None

    def _spans(self, term: Term) -> list[Span]:
        if self.lang == "zh":
            return [
                span
                for span in _zh_occurrences(term, self.text)
                if _zh_word_edges(term, self.text, self.gaps, span)
            ]
        return _en_occurrences(term, self)

    def _mask(self) -> list[bool]:
        """Which positions belong to an occurrence of some rubric term."""
        if self.term_mask is None:
            size = len(self.text) if self.lang == "zh" else len(self.toks)
            mask = [False] * size
            for term in self.all_terms:
                for s, e in self._spans(term):
                    mask[s:e] = [True] * (e - s)
            self.term_mask = mask
        return self.term_mask

    def _zh_scoped(self, start: int) -> bool:
        """Whether a verb negation earlier in the clause (not inside a term) denies `start`."""
        if self.zh_scope is None:
            text, mask = self.text, self._mask()
            scope = [False] * (len(text) + 1)
            clause_starts = set(self.clause_starts)
            inside = False
            for i, char in enumerate(text):
                if i in clause_starts or text.startswith(_ZH_SCOPE_BREAKERS, i):
                    inside = False
                scope[i] = inside
                if (
                    char in _ZH_SCOPE_NEGATORS
                    and not mask[i]
                    and text[i + 1 : i + 2] not in _ZH_NOT_SCOPE[char]
                    and not text.startswith(("不仅", "不但", "不管"), i)
                    and text[i - 1 : i] != "而"  # 而不是, 而非: "A, not B" denies B only
                    and (
                        char not in _ZH_SCOPE_ONLY_IN
                        or text.startswith(_ZH_SCOPE_ONLY_IN[char], i)
                        or text.startswith(_ZH_SCOPE_ONLY_IN[char], i - 1)
                    )
                    and i + 1 < len(text)
                ):
                    inside = True
            self.zh_scope = scope
        return self.zh_scope[start]

    def _hits(self, term: Term) -> list[tuple[Span, bool, bool]]:
        """Every occurrence of the term, whether it is negated, and whether it stands after a
        negation of the clause's verb (by id: terms are cached)."""
        hit = self.cache.get(id(term))
        if hit is None:
            if self.lang == "zh":
                hit = [
                    (span, _zh_negated(self.text, span[0]), self._zh_scoped(span[0]))
                    for span in self._spans(term)
                ]
            else:
                mask = self._mask()  # a negator inside a term ("almost no") denies nothing
                hit = [
                    (span, tok.negated, tok.scope_from >= 0 and not mask[tok.scope_from])
                    for span in self._spans(term)
                    for tok in (self.toks[span[0]],)
                ]
            self.cache[id(term)] = hit
        return hit

    def occurrences(self, term: Term, expects_negation: bool = False) -> list[Span]:
        """Where the term counts: a plain one not negated, nor after a negation of the clause's
        verb unless the pattern expects one (a `~` term); a `~` one negated or after one."""
        hit = self._hits(term)
        if term.negation == "any":
            return [span for span, _, _ in hit]
        if term.negation == "negated":
            return [span for span, negated, scoped in hit if negated or scoped]
        return [
            span
            for span, negated, scoped in hit
            if not negated and (expects_negation or not scoped)
        ]

    def prose_near(self, start: int, end: int) -> bool:
        """Whether a common word (not part of any rubric term found here) is within the margin
        of [start, end): the difference between a sentence and a list of key terms."""
        self._mask()
        assert self.term_mask is not None
        margin = PROSE_MARGIN_ZH if self.lang == "zh" else PROSE_MARGIN_EN
        lo, hi = max(0, start - margin), min(len(self.term_mask), end + margin)
        if self.lang == "zh":
            # Chinese terms often start with a negator (非饱和, 不超过, 无上界): not counted
            count = sum(
                1 for i in range(lo, hi) if not self.term_mask[i] and self.text[i] in _ZH_PROSE
            )
            return count >= PROSE_MIN_ZH
        return any(not self.term_mask[i] and self.toks[i].raw in _EN_PROSE for i in range(lo, hi))


@lru_cache(maxsize=4096)
def _english(sentence: str) -> tuple[list[_Tok], dict[str, list[int]], str]:
    """A sentence's tokens, where each stem starts, and its words joined (read-only, shared:
    the same model answer is checked against many rubrics in the tests)."""
    toks = _tokens(sentence)
    starts: dict[str, list[int]] = {}
    for index, tok in enumerate(toks):
        if tok.word:
            starts.setdefault(tok.stem, []).append(index)
    return toks, starts, " " + " ".join(tok.raw for tok in toks) + " "


@lru_cache(maxsize=1024)
def _units_of(answer: str, lang: RubricLang) -> tuple[str, ...]:
    return tuple(units(normalize(answer), lang))


def _prepare(sentence: str, lang: RubricLang, all_terms: Sequence[Term]) -> _Sentence:
    if lang == "zh":
        text, clause_starts, gaps = _zh_clauses(sentence)
        return _Sentence(lang, [], text, "", {}, all_terms, clause_starts, gaps)
    toks, starts, joined = _english(sentence)
    return _Sentence(lang, toks, sentence, joined, starts, all_terms)


def _pattern_matches(pattern: Pattern, sentence: _Sentence) -> bool:
    tagged: list[tuple[int, int, int]] = []  # (start, end, group)
    expects = any(
        term.negation == "negated" or term.negative for group in pattern for term in group
    )
    for group_index, group in enumerate(pattern):
        spans = [span for term in group for span in sentence.occurrences(term, expects)]
        if not spans:
            return False
        tagged.extend((s, e, group_index) for s, e in spans)
    tagged.sort()
    window = WINDOW_ZH if sentence.lang == "zh" else WINDOW_EN
    groups = len(pattern)
    for left, (start, _, _) in enumerate(tagged):
        # every window from this occurrence to a later one that completes the groups: a later
        # alternative may be the one next to a common word
        seen: set[int] = set()
        end = start
        for s, e, g in tagged[left:]:
            if s - start > window:
                break
            seen.add(g)
            end = max(end, e)
            if len(seen) == groups:
                if end - start > window:
                    break
                if sentence.prose_near(start, end):
                    return True
    return False


class MatchLike(Protocol):
    """A key point's `match:` (bot/core/models.py `KeyPointMatch`)."""

    @property
    def en(self) -> Sequence[str]: ...

    @property
    def zh(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class RubricResult:
    lang: RubricLang  # the language whose patterns were used (that of the answer's script)
    covered: tuple[int, ...]
    missed: tuple[int, ...]
    coverage: float
    suggested: Suggested


def suggest(coverage: float) -> Suggested:
    if coverage >= 1.0:
        return "easy"
    if coverage >= HARD_BELOW:
        return "good"
    if coverage >= AGAIN_BELOW:
        return "hard"
    return "again"


def _present_in(prepared: Sequence[_Sentence], lang: RubricLang) -> Callable[[Term], bool]:
    """Whether a term can occur anywhere in the answer (a test on the whole answer, once per
    term): a pattern with a group absent from the answer is not tried sentence by sentence."""
    known: dict[int, bool] = {}
    if lang == "zh":
        whole = "\n".join(s.text for s in prepared)

        def zh(term: Term) -> bool:
            found = known.get(id(term))
            if found is None:
                found = known[id(term)] = term.compact in whole
            return found

        return zh
    stems = {stem for s in prepared for stem in s.starts}
    joined = "".join(s.joined for s in prepared)

    def en(term: Term) -> bool:
        found = known.get(id(term))
        if found is None:
            found = known[id(term)] = all(
                (" " + value in joined) if prefix else (value in stems if word else value in joined)
                for value, prefix, word in term.tokens
            )
        return found

    return en


def check_points(
    matches: Sequence[MatchLike], answer: str, lang: RubricLang | None = None
) -> RubricResult:
    """Which key points the answer covers. `lang`: the patterns to use; None: by the answer's
    script (Chinese patterns for an answer mostly in Chinese, else English)."""
    answer = answer[:MAX_ANSWER_CHARS]
    use: RubricLang = lang or ("zh" if is_chinese(answer) else "en")
    patterns = [[parse_pattern(p, use) for p in getattr(m, use)] for m in matches]
    all_terms = [term for point in patterns for p in point for group in p for term in group]
    prepared = [_prepare(s, use, all_terms) for s in _units_of(answer, use)]
    present = _present_in(prepared, use)
    covered: list[int] = []
    missed: list[int] = []
    for index, point in enumerate(patterns):
        hit = any(
            _pattern_matches(p, s)
            for p in point
            if all(any(present(term) for term in group) for group in p)  # cheap refusal
            for s in prepared
        )
        (covered if hit else missed).append(index)
    coverage = len(covered) / len(patterns) if patterns else 0.0
    return RubricResult(use, tuple(covered), tuple(missed), coverage, suggest(coverage))


def rubric_terms(matches: Sequence[MatchLike], lang: RubricLang) -> list[str]:
    """Every alternative of every pattern (without its `~`/`?` mark and `*`): what a keyword
    dump of this rubric holds (tests)."""
    terms: list[str] = []
    for m in matches:
        for text in getattr(m, lang):
            for group in parse_pattern(text, lang):
                terms.extend(term.text.replace("*", "") for term in group)
    return terms


def check_question(
    question: Question, answer: str, lang: RubricLang | None = None
) -> RubricResult | None:
    """The key points an answer to an open question covers; None if it has no rubric yet."""
    matches = [point.match for point in question.key_points if point.match is not None]
    if not question.has_rubric or len(matches) != len(question.key_points):
        return None
    return check_points(matches, answer, lang)
