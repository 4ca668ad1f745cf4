"""Chinese answers: the words a negation is read from, what makes a clause prose, clauses,
and which characters a negation denies (the rubric checker, issue #18)."""

from __future__ import annotations

import re

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
