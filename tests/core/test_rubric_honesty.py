"""Honest checks of the rubrics in content/*.yaml (docs/rubrics.md), over every open question
that has one. Run with `-s` to see the figures:

    .venv/bin/python -m pytest tests/core/test_rubric_honesty.py -q -s -p no:cacheprovider

(the summary lines also reach pytest's terminal summary, so `make test` shows them).

- its own model answer, in each language, covers every key point;
- another open question's model answer covers at most half of its key points (all pairs; the
  worst are printed);
- a dump of key terms (its own rubric's, the whole bank's in order and shuffled; spaces, commas,
  one per line) is never rated "good".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from pathlib import Path

from bot.core.bank import load_bank
from bot.core.models import LANGS, KeyPointMatch, Kind, Lang, Question
from bot.core.rubric import _EN_PROSE as EN_PROSE
from bot.core.rubric import _ZH_PROSE as ZH_PROSE
from bot.core.rubric import check_points, normalize, rubric_terms

CONTENT = Path(__file__).resolve().parents[2] / "content"
MAX_OTHER_COVERAGE = 0.5
Record = Callable[[str, object], None]


def _report(record_property: Record, lines: list[str]) -> None:
    """Print the figures (`-s`) and hand the first line to the terminal summary."""
    print("\n" + "\n".join(lines))
    record_property("terminal_summary", "rubric honesty: " + lines[0])


@cache
def _bank() -> tuple[list[Question], list[Question]]:
    bank = load_bank([CONTENT])
    assert bank.ok, bank.problems[:5]
    open_questions = [q for q in bank.questions.values() if q.kind is Kind.OPEN]
    return [q for q in open_questions if q.has_rubric], open_questions


def _matches(question: Question) -> list[KeyPointMatch]:
    return [point.match for point in question.key_points if point.match is not None]


def test_some_questions_have_rubrics(record_property: Record) -> None:
    with_rubric, open_questions = _bank()
    _report(record_property, [f"{len(with_rubric)} of {len(open_questions)} open questions"])
    assert with_rubric


def test_own_model_answer_covers_every_key_point(record_property: Record) -> None:
    with_rubric, _ = _bank()
    failures: list[str] = []
    checked = 0
    for question in with_rubric:
        assert question.model_answer is not None
        for lang in LANGS:
            result = check_points(_matches(question), question.model_answer.get(lang), lang)
            checked += 1
            for index in result.missed:
                point = question.key_points[index].get(lang)
                failures.append(f"{question.id} [{lang}] misses key point {index}: {point}")
    whole = checked - len({f.split(" misses")[0] for f in failures})
    lines = [f"own model answers: {whole} of {checked} cover every key point"]
    _report(record_property, lines + ["  " + line for line in failures])
    assert not failures


def test_other_model_answers_cover_at_most_half(record_property: Record) -> None:
    with_rubric, open_questions = _bank()
    pairs: list[tuple[float, str]] = []
    for question in with_rubric:
        matches = _matches(question)
        for other in open_questions:
            if other.id == question.id or other.model_answer is None:
                continue
            for lang in LANGS:
                result = check_points(matches, other.model_answer.get(lang), lang)
                pairs.append((result.coverage, f"{other.id} -> {question.id} [{lang}]"))
    pairs.sort(reverse=True)
    over = [p for p in pairs if p[0] > MAX_OTHER_COVERAGE]
    worst = ", ".join(f"{name} {coverage:.2f}" for coverage, name in pairs[:3])
    lines = [
        f"another question's model answer: {len(pairs)} pairs, {len(over)} above"
        f" {MAX_OTHER_COVERAGE:.0%}; worst: {worst}"
    ]
    _report(record_property, lines + [f"  {c:.2f}  {name}" for c, name in pairs[:10]])
    assert not over


def _dumps(question: Question, lang: Lang, bank_terms: list[str]) -> dict[str, str]:
    own = rubric_terms(_matches(question), lang)
    shuffled = list(bank_terms)
    random.Random(18).shuffle(shuffled)
    return {
        "own terms, spaces": " ".join(own),
        "own terms, commas": ", ".join(own),
        "own terms, one per line": "\n".join(own),
        "first term of each group, one key point per line": "\n".join(
            " ".join(
                term.split("|")[0].strip().lstrip("~?").replace("*", "")
                for term in pattern.split("&")
            )
            for match in _matches(question)
            for pattern in getattr(match, lang)
        ),
        "bank terms in order": " ".join(bank_terms),
        "bank terms shuffled": " ".join(shuffled),
    }


def test_keyword_dump_is_never_good(record_property: Record) -> None:
    with_rubric, _ = _bank()
    worst: list[tuple[float, str]] = []
    for lang in LANGS:
        bank_terms = [t for q in with_rubric for t in rubric_terms(_matches(q), lang)]
        for question in with_rubric:
            for name, dump in _dumps(question, lang, bank_terms).items():
                result = check_points(_matches(question), dump, lang)
                worst.append((result.coverage, f"{question.id} [{lang}] {name}"))
    worst.sort(reverse=True)
    top = f"{worst[0][1]} {worst[0][0]:.2f}" if worst else "-"
    lines = [f"keyword dumps: {len(worst)}, none may reach good (0.7); highest: {top}"]
    _report(record_property, lines + [f"  {c:.2f}  {name}" for c, name in worst[:8]])
    assert all(coverage < 0.7 for coverage, _ in worst), worst[:3]


# Key points that are labels, not statements (a noun phrase, a list of examples or remedies, a
# formula): written as a sentence they state nothing the checker could read as one.
LABELS = {
    ("act-compare-common", 4, "zh"): "a heading: where each is used today",
    ("act-smooth-modern", 2, "zh"): "two noun phrases (soft gating / non-monotone shape)",
    ("act-smooth-modern", 3, "en"): "a noun phrase (empirical gains in …)",
    ("act-smooth-modern", 3, "zh"): "a noun phrase (empirical gains in …)",
    ("attn-self-vs-cross", 3, "en"): "asks for an example; lists some",
    ("attn-flashattention-idea", 4, "en"): "a list of four properties",
    ("backprop-what-to-store", 0, "en"): "a list of what is stored",
    ("backprop-what-to-store", 3, "en"): "a list of alternatives",
    ("backprop-what-to-store", 3, "zh"): "a list of alternatives",
    ("backprop-what-to-store", 4, "zh"): "terse: no common character outside the terms",
    ("models-resnet-why", 2, "zh"): "terse: no common character outside the terms",
    ("ecnn-flops-vs-latency", 3, "en"): "a heading and a list of guidelines",
    ("fs-small-vs-large", 0, "zh"): "terse, with a list of counts",
    ("gan-explain-idea", 1, "zh"): "a noun phrase (the minimax value function)",
    ("init-zero-exceptions", 1, "en"): "a list of exceptions",
    ("init-zero-exceptions", 1, "zh"): "a list of exceptions",
    ("lstm-equations-explain", 0, "en"): "a formula label",
    ("lstm-equations-explain", 0, "zh"): "a formula label",
    ("lstm-long-term-dependencies", 0, "zh"): "examples in brackets",
    ("mg-open-spectral-norm", 1, "en"): "a list of implementation details",
    ("mg-open-r1-code", 2, "en"): "a list of formula pieces",
    ("norm-bn-batch-coupling", 3, "en"): "a list of cases",
    ("opt-compare-walkthrough", 0, "zh"): "terse: no common character outside the terms",
    ("rnn-bptt-derive", 2, "en"): "a formula label",
    ("rp-open-encoder-decoder-state", 4, "zh"): "terse: no common character outside the terms",
    ("tp-diverges-after-scaling", 1, "en"): "an instruction with a list in brackets",
}
_NOT_A_STATEMENT = set(":;：；=→")  # "Label: …", "a; b" lists, formulas


def _statement(text: str, lang: Lang) -> bool:
    """A key point written as a sentence: no label colon, list semicolon or formula arrow, and
    a common word (docs/rubrics.md) among its words."""
    if _NOT_A_STATEMENT.intersection(text):
        return False
    words = normalize(text)
    if lang == "en":
        return any(word in EN_PROSE for word in words.replace(".", " ").split())
    return any(char in ZH_PROSE for char in words)


def test_key_point_text_covers_its_own_point(record_property: Record) -> None:
    """Written as a sentence, a key point's own text (each language) covers that key point:
    a candidate who answers with the key point's words is not told they missed it."""
    with_rubric, _ = _bank()
    failures: list[str] = []
    checked = 0
    for question in with_rubric:
        for index, point in enumerate(question.key_points):
            assert point.match is not None
            for lang in LANGS:
                text = point.get(lang)
                if not _statement(text, lang) or (question.id, index, lang) in LABELS:
                    continue
                checked += 1
                sentence = text + ("." if lang == "en" else "。")
                if not check_points([point.match], sentence, lang).covered:
                    failures.append(f"{question.id} {index} [{lang}] {text}")
    lines = [f"key points as sentences: {checked - len(failures)} of {checked} cover themselves"]
    _report(record_property, lines + ["  " + line for line in failures])
    assert checked > 300
    assert not failures
