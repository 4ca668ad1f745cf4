"""The issue-14 families: texts in both languages, named mistakes that stay apart, and the
shape family's layout confirmed by running the recurrence itself."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from bot.checkers import TorchCheckers
from bot.checkers._registry import distinct_mistakes
from bot.core.models import Difficulty, Verdict
from bot.core.ports import seed_for

NEW_FAMILIES = [
    "lstm_step",
    "gru_step",
    "rnn_output_shape",
    "mha_params",
    "sdpa_output",
    "attention_cost",
    "separable_conv_macs",
    "layernorm_forward",
    "lr_schedule",
    "wasserstein_1d",
    "gradient_penalty",
    "sgns_loss",
    "sgns_grad",
    "noise_distribution",
    "subsample_keep",
]

CJK = r"[\u4e00-\u9fff]"
ASCII_PUNCTUATION_NEXT_TO_CJK = re.compile(rf"{CJK}[,;:!?]|[,;:!?]{CJK}")


def test_there_are_forty_families(checkers: TorchCheckers) -> None:
    assert set(NEW_FAMILIES) <= set(checkers.family_names())
    assert len(checkers.family_names()) >= 40


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_texts_are_bilingual_and_tidy(checkers: TorchCheckers, family: str) -> None:
    for level in Difficulty:
        for draw in range(15):
            problem = checkers.problem_for_seed(family, seed_for(level, draw))
            for text in [problem.text, problem.solution, *(m.feedback for m in problem.mistakes)]:
                assert text.en.strip() and text.zh.strip()
                assert re.search(CJK, text.zh), text.zh
                assert not re.search(CJK, text.en), text.en
                assert not ASCII_PUNCTUATION_NEXT_TO_CJK.search(text.zh), text.zh
            assert all(re.fullmatch(r"[a-z0-9_]+", m.id) for m in problem.mistakes)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_named_mistakes_stay_apart_on_generated_questions(
    checkers: TorchCheckers, family: str
) -> None:
    """On the questions the bot asks, every classic mistake the family names is a wrong answer
    of its own: none equals the key and no two give the same number, so none is dropped."""
    fam = checkers.family(family)
    for level in Difficulty:
        for draw in range(40):
            params = fam.parse(checkers.params_for_seed(family, seed_for(level, draw)))
            solved = fam.solve(params)
            ids = [m.id for m in solved.mistakes]
            assert len(ids) == len(set(ids)), (family, ids)
            kept = distinct_mistakes(solved.expected, solved.mistakes, fam.tolerance)
            assert [m.id for m in kept] == ids, (family, params, ids, [m.id for m in kept])


def test_every_named_mistake_is_offered_somewhere(checkers: TorchCheckers) -> None:
    """A mistake the generated questions never name would be dead feedback (hard-coded
    conditions could hide one): over the seeds, each family names most of its mistakes."""
    for family in NEW_FAMILIES:
        seen = {
            m.id
            for level in Difficulty
            for draw in range(40)
            for m in checkers.problem_for_seed(family, seed_for(level, draw)).mistakes
        }
        assert len(seen) >= 3, (family, seen)


@pytest.mark.parametrize(
    ("cell", "layers", "bidirectional", "batch_first"),
    [
        ("lstm", 2, True, True),
        ("gru", 3, False, True),
        ("rnn", 1, True, False),
        ("lstm", 1, False, False),
    ],
)
def test_rnn_shapes_match_a_real_forward_pass(
    checkers: TorchCheckers, cell: str, layers: int, bidirectional: bool, batch_first: bool
) -> None:
    """The family reads the layout without unrolling the recurrence (that costs about a
    millisecond per step on meta tensors); here the recurrence runs and must agree."""
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
    size, hidden, seq, batch = 7, 5, 4, 3
    module = cls(
        size,
        hidden,
        num_layers=layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        device="meta",
    )
    x = torch.empty(*((batch, seq) if batch_first else (seq, batch)), size, device="meta")
    out, state = module(x)
    shapes = {"output": out.shape}
    if isinstance(state, tuple):
        shapes["h_n"], shapes["c_n"] = state[0].shape, state[1].shape
    else:
        shapes["h_n"] = state.shape
    for output, shape in shapes.items():
        params = {
            "cell": cell,
            "input_size": size,
            "hidden_size": hidden,
            "seq_len": seq,
            "batch": batch,
            "num_layers": layers,
            "bidirectional": bidirectional,
            "batch_first": batch_first,
            "output": output,
        }
        assert checkers.solve("rnn_output_shape", params).expected == list(shape)


def test_gru_candidate_uses_pytorchs_reset_placement(checkers: TorchCheckers) -> None:
    """With a hidden bias on n, PyTorch's r·(W_hn h + b_hn) and the paper's W_hn (r·h) + b_hn
    differ; the key is PyTorch's and the paper's form is named."""
    params = {
        "x": [1.0],
        "W_ih": [[0.5], [-0.5], [1.0]],
        "W_hh": [[1.0], [0.5], [-1.0]],
        "b_hh": [0.0, 0.0, 1.0],
        "h0": [0.5],
    }
    problem = checkers.solve("gru_step", params)
    r = torch.sigmoid(torch.tensor(0.5 + 0.5)).item()
    z = torch.sigmoid(torch.tensor(-0.5 + 0.25)).item()
    n = torch.tanh(torch.tensor(1.0 + r * (-0.5 + 1.0))).item()
    assert problem.expected == pytest.approx((1 - z) * n + z * 0.5)
    paper = torch.tanh(torch.tensor(1.0 - r * 0.5 + 1.0)).item()
    grade = problem.grade(f"{(1 - z) * paper + z * 0.5:.4g}")
    assert grade.verdict is Verdict.INCORRECT and grade.mistake == "reset_before_matmul"


def test_subsampling_names_the_other_formula(checkers: TorchCheckers) -> None:
    """f = 0.01, t = 1e-5: the paper keeps √(t/f) = 0.0316; word2vec.c keeps
    (√(f/t) + 1)·t/f = 0.0326."""
    paper = checkers.solve("subsample_keep", {"count": 10_000, "total": 1_000_000})
    assert paper.expected == pytest.approx(0.0316228, rel=1e-5)
    grade = paper.grade("0.03262")
    assert grade.mistake == "code_formula"
    code = checkers.solve(
        "subsample_keep", {"count": 10_000, "total": 1_000_000, "formula": "code"}
    )
    assert code.expected == pytest.approx(0.0326228, rel=1e-5)
    assert code.grade("0.03162").mistake == "paper_formula"


def test_attention_without_the_square_root_is_named(checkers: TorchCheckers) -> None:
    problem = checkers.solve(
        "sdpa_output",
        {"q": [1.0, 1.0], "K": [[1.0, 0.0], [0.0, -1.0]], "V": [[1.0], [0.0]], "output": "weights"},
    )
    scaled = torch.softmax(torch.tensor([1.0, -1.0]) / 2**0.5, 0).tolist()
    assert problem.expected == pytest.approx(scaled)
    unscaled = torch.softmax(torch.tensor([1.0, -1.0]), 0).tolist()
    grade = problem.grade(", ".join(f"{v:.4g}" for v in unscaled))
    assert grade.mistake == "no_scaling"


def test_warmup_schedule_is_torchs(checkers: TorchCheckers) -> None:
    """5 warm-up epochs from 0.1·lr, then cosine over 20: epoch 3 is in the warm-up, epoch 15
    is 10 epochs into the cosine."""
    base = {"schedule": "cosine", "base_lr": 0.1, "warmup": 5, "t_max": 20, "eta_min": 0.001}
    warm = checkers.solve("lr_schedule", {**base, "epoch": 3})
    assert warm.expected == pytest.approx(0.1 * (0.1 + 0.9 * 3 / 5))
    cosine = checkers.solve("lr_schedule", {**base, "epoch": 15})
    assert cosine.expected == pytest.approx(0.001 + 0.099 * 0.5)
    forgot = 0.001 + 0.099 * (1 + torch.cos(torch.tensor(torch.pi * 15 / 20)).item()) / 2
    assert cosine.grade(f"{forgot:.4g}").mistake == "forgot_warmup"


def test_new_families_leave_the_global_torch_rng_alone() -> None:
    """Building the meta cells and modules must not draw from torch's global generator (a
    fresh registry, so that every cell is built here)."""
    fresh = TorchCheckers()
    torch.manual_seed(7)
    before = torch.rand(4)
    torch.manual_seed(7)
    for family in NEW_FAMILIES:
        for seed in range(6):
            fresh.generate(family, 5000 + seed)
    assert torch.equal(torch.rand(4), before)
