"""The rubric checker (bot/core/rubric/) and its format in the bank (docs/rubrics.md)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.bank import load_bank, parse_document
from bot.core.rubric import (
    PatternError,
    check_points,
    check_question,
    normalize,
    parse_pattern,
    sentences,
    stem,
    suggest,
)

CONTENT = Path(__file__).resolve().parents[2] / "content"


@dataclass(frozen=True)
class M:
    """A key point's match, as the checker reads it."""

    en: tuple[str, ...] = ()
    zh: tuple[str, ...] = ()


def covers(pattern: str, answer: str, lang: str = "en") -> bool:
    match = M(en=(pattern,)) if lang == "en" else M(zh=(pattern,))
    return check_points([match], answer, lang).covered == (0,)  # type: ignore[arg-type]


# --- normalisation ----------------------------------------------------------------------------


def test_normalize_full_width_greek_superscripts_operators() -> None:
    assert normalize("ＲｅＬＵ，１／４") == "relu,1/4"
    assert "sigma" in normalize("σ'(x)") and "sigma" in normalize("Σ")
    assert normalize("x²") == normalize("x^2") == normalize("x**2")
    assert "<=" in normalize("σ' ≤ 1/4") and ">=" in normalize("a ≥ b")
    assert normalize("doesn't") == "does not" and normalize("cannot") == "can not"
    assert normalize("a − b") == normalize("a - b")


def test_stemming_joins_word_forms() -> None:
    forms = ["oscillate", "oscillates", "oscillating", "oscillation", "oscillations"]
    assert len({stem(w) for w in forms}) == 1
    assert stem("normalisation") == stem("normalization") == stem("normalize")
    assert stem("normal") != stem("normalization")
    assert stem("saturate") == stem("saturation") == stem("saturating")
    assert stem("loss") == "loss" and stem("losses") == "loss"


def test_sentences_keep_decimals_and_split_chinese() -> None:
    assert sentences(normalize("It is at most 0.25. Next!")) == ["it is at most 0.25", "next"]
    assert sentences(normalize("梯度不会消失。然后爆炸；完")) == ["梯度不会消失", "然后爆炸", "完"]
    assert len(sentences(normalize("x != y and so on"))) == 1
    code = "Call opt.zero_grad() before loss.backward(), 然后 optimizer.step()。下一句"
    assert len(sentences(normalize(code))) == 2


# --- matching ---------------------------------------------------------------------------------

SIGMOID = "sigmoid*|sigma'|σ' & <= 1/4|<= 0.25|at most 0.25|at most a quarter|at most 1/4"


@pytest.mark.parametrize(
    "answer",
    [
        "The derivative σ'(x) ≤ 1/4 everywhere.",
        "so sigma' <= 0.25 for every input",
        "The sigmoid's slope is at most a quarter.",
        "Ｔｈｅ ｓｉｇｍｏｉｄ ｓｌｏｐｅ ≤ １／４ always.",
    ],
)
def test_formula_forms_people_type(answer: str) -> None:
    assert covers(SIGMOID, answer)


def test_stemmed_and_prefix_words() -> None:
    assert covers("loss & oscillate", "The loss oscillates wildly.")
    assert covers("loss & oscillate", "We saw an oscillation of the loss.")
    assert covers("explod* & gradient", "The gradients were exploding.")
    assert not covers("explode & gradient", "The gradient explosion was huge.")


def test_groups_must_share_one_sentence() -> None:
    assert covers("lstm & explod*", "An LSTM can still explode.")
    assert not covers("lstm & explod*", "An LSTM is used. Gradients may explode.")
    assert not covers("lstm & explod*", "An LSTM is used\nGradients may explode")


def test_negation_english() -> None:
    pattern = "gated|lstm & ~prevent* & explod*"
    assert covers(pattern, "Gated RNNs do not prevent exploding gradients.")
    assert covers(pattern, "An LSTM doesn't fully prevent exploding gradients.")
    assert covers(pattern, "LSTMs cannot prevent explosion of the gradient, they explode too.")
    assert not covers(pattern, "Gated RNNs prevent exploding gradients.")
    # a plain term does not count where it is negated
    assert not covers("gradient & additive", "The gradient path is not additive.")
    assert covers("gradient & additive", "The gradient path is additive.")
    assert covers("gradient & additive", "The gradient path is not only additive but gated.")
    assert covers("gradient & ?additive", "The gradient path is not additive.")
    # the negation covers the next word, not the rest of the sentence
    assert covers("lstm & ~prevent & explod*", "The LSTM does not prevent exploding gradients")


def test_negation_chinese() -> None:
    pattern = "lstm|门控 & ~防止 & 爆炸"
    assert covers(pattern, "LSTM 并不能防止梯度爆炸。", "zh")
    assert covers(pattern, "门控单元不会防止梯度爆炸的。", "zh")
    assert not covers(pattern, "LSTM 能防止梯度爆炸。", "zh")
    assert not covers("梯度 & 可加", "梯度通路并非可加的。", "zh")
    assert not covers("梯度 & 可加", "梯度通路不是可加的。", "zh")
    assert covers("梯度 & 消失", "梯度会不断消失的。", "zh")  # 不断 is no negation


def test_negation_of_the_verb_denies_the_clause() -> None:
    """A tester's denied claims (issue 18): the negation is not next to the term."""
    depth = "depth|long sequence*|time step* & vanish*|explod*"
    assert covers(depth, "Depth in time causes vanishing gradients.")
    assert not covers(depth, "Depth in time never causes vanishing gradients.")
    assert not covers(depth, "A long sequence does not cause vanishing gradients.")
    assert covers(depth, "A long sequence does not help, it causes vanishing gradients.")
    assert covers(depth, "Not only depth but long sequences cause vanishing gradients.")
    alternate = "g|generator & d|discriminator & alternat*"
    assert covers(alternate, "G and D are trained alternately.")
    assert not covers(alternate, "G and D are never trained alternately.")
    resnet = "gradient|identity & direct path|shortcut & early layer*"
    assert covers(resnet, "The gradient I + dF/dx gives a direct path to early layers.")
    assert not covers(resnet, "The gradient I + dF/dx has no direct path to early layers.")
    variance = "sqrt d_k|sqrt dk & unit variance|variance 1"
    assert not covers(variance, "Dividing by sqrt(d_k) does not restore unit variance.")
    # a pattern that expects the negation (a `~` term, or a term saying "no") keeps the clause
    assert covers("lstm & ~prevent & explod*", "An LSTM does not prevent exploding gradients")
    assert covers("learned & no embedding & beyond", "Learned: beyond it there is no embedding.")
    # "A, not B", "not more than", a relative clause: only the next word is denied
    assert covers("centred & 0", "Centred at 0, not at 1.")
    assert covers("slope & 0.25", "The slope is no more than 0.25.")
    reshape = "reshap* & mix* & sample*"
    assert covers(reshape, "A reshape that does not separate the directions mixes samples.")
    # a negator inside a rubric term ("almost no") denies no clause
    tiny = M(en=("?gradient & reach* & q",))
    other = M(en=("softmax & almost no",))
    assert check_points([tiny, other], "So almost no gradient reaches q and k.", "en").covered == (
        0,
    )
    assert check_points([tiny], "So not a gradient reaches q and k.", "en").covered == ()


def test_negation_of_the_verb_denies_the_clause_chinese() -> None:
    depth = "深度|长序列 & 消失|爆炸"
    assert covers(depth, "时间上的深度会导致梯度消失。", "zh")
    assert not covers(depth, "时间上的深度不会导致梯度消失。", "zh")
    assert covers(depth, "时间上的深度不是好事，但它导致梯度消失。", "zh")
    recurrence = "h_t|ht & 依赖|取决于 & h_{t-1}|ht-1"
    assert covers(recurrence, "h_t 依赖 x_t 和 h_{t-1}。", "zh")
    assert not covers(recurrence, "h_t 只依赖 x_t，不依赖 h_{t-1}。", "zh")
    assert covers("以 0 为中心 & 梯度", "以 0 为中心，而不是在插值点上算梯度。", "zh")
    assert covers("交叉熵 & 第 1 维", "交叉熵要求类别在第 1 维。", "zh")  # 类别 is no negation
    assert covers("梯度 & 消失", "非线性的梯度会消失。", "zh")


def test_a_later_alternative_is_tried() -> None:
    """Every occurrence of a group counts, not only the earliest-ending one: `dead` has no
    common word near it, the later `die` has."""
    pattern = "relu & dead|die*"
    assert covers(pattern, "ReLU dead units units units units, and then it can die.")
    assert not covers(pattern, "ReLU dead units units units units")


def test_star_between_terms_is_multiplication() -> None:
    assert normalize("n*d^2").split() == normalize("n × d^2").split() == ["n", "d^2"]
    assert normalize("128*(64*3*3)").split() == ["128", "(64", "3", "3)"]
    assert normalize("x**2") == "x^2"
    assert covers("n d^2 & cost|flops", "The cost is n*d^2 per layer.")


def test_short_chinese_sentence_with_a_number_is_prose() -> None:
    assert covers("gru & 参数 & 25%", "GRU 参数大约少 25%。", "zh")
    assert not covers("gru & 参数", "GRU 参数", "zh")


def test_latin_terms_in_chinese_are_whole_words() -> None:
    assert not covers("lenet & 卷积", "GoogLeNet 用了很多卷积。", "zh")
    assert covers("lenet & 卷积", "LeNet 用了卷积。", "zh")
    assert covers("relu & 梯度", "用 ReLU layer 的梯度是 1。", "zh")  # a space between words
    assert covers("gan & 模式", "GANs 会丢掉模式。", "zh")  # a plural
    assert covers("explod* & 梯度", "梯度会 exploding。", "zh")  # a trailing `*`


def test_keyword_list_is_not_prose() -> None:
    pattern = "dead|dying & relu*|unit*"
    assert not covers(pattern, "dead relu")
    assert not covers(pattern, "Dead, ReLU, units, zero gradient")
    assert covers(pattern, "A ReLU unit can be dead.")
    assert not covers("死亡 & relu|单元", "死亡 ReLU 单元", "zh")
    assert covers("死亡 & relu|单元", "ReLU 单元会死亡。", "zh")


def test_a_formula_line_is_a_statement() -> None:
    pattern = "floor & 2p|2 p & stride|/ s"
    assert covers(pattern, "out = floor((n + 2p - k) / s) + 1")
    assert not covers(pattern, "floor 2p stride")
    assert covers("floor & 2p", "输出 = floor((n + 2p - k)/s) + 1", "zh")
    assert not covers("floor & 2p", "floor 2p 步长", "zh")


def test_answer_language_follows_its_script() -> None:
    match = M(en=("lstm & ~prevent & explod*",), zh=("lstm & ~防止 & 爆炸",))
    english = check_points([match], "LSTM does not prevent exploding.")
    chinese = check_points([match], "LSTM 并不能防止梯度爆炸。")
    assert (english.lang, english.covered) == ("en", (0,))
    assert (chinese.lang, chinese.covered) == ("zh", (0,))


def test_suggested_rating_thresholds() -> None:
    assert [suggest(c) for c in (0, 0.25, 0.34, 0.35, 0.5, 0.69, 0.7, 0.8, 0.99, 1)] == [
        "again",
        "again",
        "again",
        "hard",
        "hard",
        "hard",
        "good",
        "good",
        "good",
        "easy",
    ]


# --- the format -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "lang", "says"),
    [
        ("relu", "en", "2 to 6 groups"),
        ("relu & ", "en", "group 2 is empty"),
        ("relu|| & dead", "en", "empty alternative"),
        ("re*lu & dead", "en", "`*` only ends a word"),
        ("relu & the", "en", "only common words"),
        ("relu & /", "en", "lone symbol"),
        ("死亡 & 的", "zh", "only common words"),
        ("u & v & w & x & y & z & q", "en", "2 to 6 groups"),
    ],
)
def test_bad_patterns_say_why(pattern: str, lang: str, says: str) -> None:
    with pytest.raises(PatternError, match=says.replace("*", r"\*")):
        parse_pattern(pattern, lang)


OPEN = """\
topic: backprop
questions:
  - id: bp-open
    kind: open
    difficulty: easy
    text: {{en: "Why?", zh: "为什么？"}}
    explanation: {{en: "Because.", zh: "因为。"}}
    model_answer: {{en: "The gradient is not additive.", zh: "梯度不是可加的。"}}
    key_points:
      - en: "Not additive"
        zh: "不可加"
{first}
      - en: "Second"
        zh: "第二"
{second}
"""
MATCH = """\
        match:
          en: ["gradient & ~additive"]
          zh: ["梯度 & ~可加"]"""


def test_rubric_in_the_bank_is_validated_with_its_line() -> None:
    good = parse_document(OPEN.format(first=MATCH, second=MATCH), "f.yaml")
    assert not good.problems
    assert good.questions[0].question.has_rubric
    bad = parse_document(
        OPEN.format(first=MATCH.replace("gradient & ~additive", "gradient"), second=MATCH),
        "f.yaml",
    )
    [problem] = bad.problems
    assert (problem.line, problem.field) == (13, "key_points[0].match.en")
    assert "2 to 6 groups" in problem.message
    half = parse_document(OPEN.format(first=MATCH, second=""), "f.yaml")
    [problem] = half.problems
    assert "needs `match:` on every key point" in problem.message and "[1]" in problem.message
    none = parse_document(OPEN.format(first="", second=""), "f.yaml")
    assert not none.problems and not none.questions[0].question.has_rubric


def test_model_answer_of_a_written_rubric() -> None:
    bank = load_bank([CONTENT])
    question = bank.get("vg-explain")
    assert question is not None and question.model_answer is not None
    result = check_question(question, question.model_answer.en)
    assert result is not None and result.coverage == 1.0 and result.suggested == "easy"
    wrong = check_question(question, "Vanishing gradients are caused by a small learning rate.")
    assert wrong is not None and wrong.suggested == "again"
    bare = [point.model_copy(update={"match": None}) for point in question.key_points]
    no_rubric = question.model_copy(update={"key_points": bare})
    assert not no_rubric.has_rubric and check_question(no_rubric, "anything") is None


def test_a_4000_character_answer_takes_milliseconds() -> None:
    """Idle: about 3 ms on the 2-core CI box; the bound is 10x that."""
    bank = load_bank([CONTENT])
    question = bank.get("vg-explain")
    assert question is not None and question.model_answer is not None
    for lang in ("en", "zh"):
        text = (question.model_answer.get(lang) + "\n") * 10
        text = text[:4000]
        check_question(question, text)  # patterns parsed and cached
        best = min(_timed(question, text) for _ in range(5))
        print(f"\nrubric check of {len(text)} characters ({lang}): {best * 1000:.1f} ms")
        assert best < 0.05


def _timed(question: object, text: str) -> float:
    start = time.perf_counter()
    check_question(question, text)  # type: ignore[arg-type]
    return time.perf_counter() - start


def test_worked_examples_of_the_doc_hold() -> None:
    """docs/rubrics.md: each worked example's patterns give the ✅/⬜ its table shows."""
    import re

    import yaml

    doc = (CONTENT.parent / "docs" / "rubrics.md").read_text(encoding="utf-8")
    sections = doc.split("## Worked example")[1:]
    assert len(sections) == 2
    rows = 0
    for section in sections:
        block = re.search(r"```yaml\n(.*?)```", section, re.S)
        assert block is not None
        match = yaml.safe_load(block.group(1))["match"]
        lang = "zh" if "zh" in match else "en"
        point = M(en=tuple(match.get("en", ())), zh=tuple(match.get("zh", ())))
        for answer, mark in re.findall(r'^\| "(.+?)" \| (✅|⬜) \|', section, re.M):
            result = check_points([point], answer, lang)  # type: ignore[arg-type]
            assert (result.covered == (0,)) == (mark == "✅"), (answer, mark)
            rows += 1
    assert rows >= 8


# A tester's right answers that the bank's rubrics missed, and denied claims they covered.
TESTER_ANSWERS = [
    ("opt-l2-vs-weight-decay", "L2 adds λw to the gradient.", {0}),
    ("opt-l2-vs-weight-decay", "L2 regularisation adds lambda times w to the gradient.", {0}),
    ("opt-l2-vs-weight-decay", "L2 正则在梯度中加入 λw", {0}),
    ("vg-does-relu-solve-it", "Initialisation still matters: use He init.", {1}),
    ("vg-does-relu-solve-it", "Exploding gradients can still happen.", {3}),
    ("vg-does-relu-solve-it", "初始化仍然很重要，要用 He 初始化 … 梯度爆炸仍然可能发生", {1, 3}),
    ("gt-balance-d-g", "G learns only through D's gradients.", {0}),
    ("cnn-param-comparison", "权重共享减少的是参数量，而不是计算量。", {3}),
    ("rnn-explain-recurrence", "Depth in time never causes vanishing gradients.", set()),
    ("rnn-explain-recurrence", "A long sequence does not cause vanishing gradients.", set()),
    ("rnn-explain-recurrence", "时间上的深度不会导致梯度消失。", set()),
    ("rnn-explain-recurrence", "h_t 只依赖 x_t，不依赖 h_{t-1}", set()),
    ("attn-sqrt-dk-derivation", "Dividing by sqrt(d_k) does not restore unit variance.", set()),
    ("gan-explain-idea", "G and D are never trained alternately.", set()),
    ("models-resnet-why", "The gradient I + dF/dx has no direct path to early layers.", set()),
]


@pytest.mark.parametrize(("bank_id", "answer", "covered"), TESTER_ANSWERS)
def test_tester_answers_against_the_bank(bank_id: str, answer: str, covered: set[int]) -> None:
    question = load_bank([CONTENT]).questions[bank_id]
    result = check_question(question, answer)
    assert result is not None
    assert set(result.covered) == covered
