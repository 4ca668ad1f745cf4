"""Where a pattern's terms occur in a sentence, whether they count (negation, prose), and the
key points an answer covers (the rubric checker, issue #18)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Protocol

from bot.core.rubric.chinese import (
    _ZH_NOT_SCOPE,
    _ZH_PROSE,
    _ZH_SCOPE_BREAKERS,
    _ZH_SCOPE_NEGATORS,
    _ZH_SCOPE_ONLY_IN,
    _latin,
    _zh_clauses,
    _zh_negated,
)
from bot.core.rubric.english import _EN_PROSE, _Tok, _tokens
from bot.core.rubric.patterns import Pattern, Term, parse_pattern
from bot.core.rubric.text import RubricLang, is_chinese, normalize, units

if TYPE_CHECKING:
    from bot.core.models import Question

Suggested = Literal["again", "hard", "good", "easy"]

# Suggested self-rating by coverage: below AGAIN_BELOW again, below HARD_BELOW hard, below 1
# good, every key point easy (docs/rubrics.md).
AGAIN_BELOW = 0.35
HARD_BELOW = 0.7

MAX_ANSWER_CHARS = 20_000  # beyond this an answer is checked on its beginning only
WINDOW_EN = 30  # tokens from the first to the last matched group
WINDOW_ZH = 35  # characters
PROSE_MARGIN_EN = 2  # a common word this close to the matched window makes it prose
PROSE_MARGIN_ZH = 3
PROSE_MIN_ZH = 1  # common characters needed near a Chinese match

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
