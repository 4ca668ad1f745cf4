"""The numbers and claims of the attention and Transformer questions, recomputed with torch.

Each test computes a fact the way a framework does and pins the text of the question that
states it, so a later edit of either side shows up here. content/attention.yaml and
content/transformers.yaml only (the rest of the bank is checked by test_bank.py).
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bot.core.bank import Bank

from .facts import load, right_option, texts


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load("attention.yaml", "transformers.yaml")


# --------------------------------------------------------------------------- attention


def test_dot_product_variance_is_d_k(bank: Bank) -> None:
    gen = torch.Generator().manual_seed(0)
    d_k = 64
    q = torch.randn(50_000, d_k, generator=gen, dtype=torch.float64)
    k = torch.randn(50_000, d_k, generator=gen, dtype=torch.float64)
    scores = (q * k).sum(-1)
    assert float(scores.var()) == pytest.approx(d_k, rel=0.02)
    assert float((scores / math.sqrt(d_k)).var()) == pytest.approx(1.0, rel=0.02)
    assert right_option(bank.questions["attn-dot-product-variance"]) == "d_k"
    assert "standard deviation 8 for d_k = 64" in texts(
        bank.questions["attn-why-sqrt-dk"].explanation
    )


def test_saturated_softmax_has_a_vanishing_jacobian(bank: Bank) -> None:
    z = torch.tensor([2.0, 0.5, -1.0, 0.0], dtype=torch.float64)

    def jacobian(logits: torch.Tensor) -> torch.Tensor:
        z = logits.clone().requires_grad_(True)
        p = torch.softmax(z, 0)
        rows = [torch.autograd.grad(p[i], z, retain_graph=True)[0] for i in range(len(p))]
        return torch.stack(rows)

    p = torch.softmax(z, 0)
    assert torch.allclose(jacobian(z), torch.diag(p) - torch.outer(p, p))
    # the same logits 8 times larger (an unscaled d_k = 64 head): nearly one-hot, Jacobian ≈ 0
    assert float(jacobian(8 * z).abs().max()) < 1e-4 < float(jacobian(z).abs().max())
    answer = texts(bank.questions["attn-softmax-saturation-gradient"].model_answer)
    assert "diag(p) − ppᵀ" in answer


def test_causal_mask_minus_infinity_before_softmax(bank: Bank) -> None:
    gen = torch.Generator().manual_seed(1)
    n = 5
    logits = torch.randn(n, n, generator=gen, dtype=torch.float64)
    future = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    weights = torch.softmax(logits.masked_fill(future, float("-inf")), -1)
    for i in range(n):  # each row is the softmax over its own prefix, exactly 0 beyond
        assert torch.allclose(weights[i, : i + 1], torch.softmax(logits[i, : i + 1], 0))
        assert bool((weights[i, i + 1 :] == 0).all())
    # the two wrong options: a zero logit still gets weight; zeroing after the softmax breaks sums
    assert float(torch.softmax(logits.masked_fill(future, 0.0), -1)[0, 1:].min()) > 0
    after = torch.softmax(logits, -1).masked_fill(future, 0.0)
    assert not torch.allclose(after.sum(-1), torch.ones(n, dtype=torch.float64))
    q = bank.questions["attn-causal-mask-how"]
    assert "−∞" in right_option(q)
    # F.scaled_dot_product_attention's causal flag is this same mask
    x = torch.randn(1, n, 8, generator=gen, dtype=torch.float64)
    manual = (
        torch.softmax(
            x @ x.transpose(-1, -2) / math.sqrt(8) + torch.where(future, -math.inf, 0), -1
        )
        @ x
    )
    assert torch.allclose(F.scaled_dot_product_attention(x, x, x, is_causal=True), manual)


def test_fully_masked_row_and_fp16(bank: Bank) -> None:
    assert bool(torch.softmax(torch.full((3,), float("-inf")), 0).isnan().all())
    assert float(torch.finfo(torch.float16).max) == 65504
    assert torch.tensor(-1e9).half().item() == float("-inf")
    # filling with finfo.min keeps a masked row finite (a uniform average)
    row = torch.full((4,), torch.finfo(torch.float16).min, dtype=torch.float16)
    assert torch.allclose(torch.softmax(row.float(), 0), torch.full((4,), 0.25))
    answer = texts(bank.questions["attn-fully-masked-row"].model_answer)
    assert "65504" in answer and "finfo(dtype).min" in answer and "NaN" in answer


@pytest.mark.parametrize("heads", [1, 8, 16])
def test_multi_head_parameters_do_not_depend_on_heads(bank: Bank, heads: int) -> None:
    d = 512
    mha = nn.MultiheadAttention(d, heads)
    assert sum(p.numel() for p in mha.parameters()) == 4 * d * d + 4 * d
    assert "4·d_model²" in texts(bank.questions["attn-multihead-cost"].explanation)


def test_self_attention_is_permutation_equivariant(bank: Bank) -> None:
    torch.manual_seed(2)
    n, d = 6, 16
    mha = nn.MultiheadAttention(d, 4, batch_first=True).double().eval()
    x = torch.randn(1, n, d, dtype=torch.float64)
    perm = torch.randperm(n)
    out, _ = mha(x, x, x)
    out_perm, _ = mha(x[:, perm], x[:, perm], x[:, perm])
    assert torch.allclose(out_perm, out[:, perm])
    # a causal mask breaks the symmetry
    mask = nn.Transformer.generate_square_subsequent_mask(n, dtype=torch.float64)
    causal, _ = mha(x, x, x, attn_mask=mask)
    causal_perm, _ = mha(x[:, perm], x[:, perm], x[:, perm], attn_mask=mask)
    assert not torch.allclose(causal_perm, causal[:, perm])
    answer = texts(bank.questions["attn-permutation-equivariance"].model_answer)
    assert "= P·f(X)" in answer


def test_attention_cost_terms(bank: Bank) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    n, d, heads = 64, 32, 4
    mha = nn.MultiheadAttention(d, heads, batch_first=True)
    x = torch.randn(1, n, d)
    with FlopCounterMode(display=False) as counter:
        mha(x, x, x)  # need_weights=True: the math path, whose matmuls are counted
    # FLOPs = 2 × multiply-adds: projections 4nd², scores n²d, weighted sum n²d
    assert counter.get_total_flops() == 2 * (4 * n * d * d + 2 * n * n * d)
    answer = texts(bank.questions["attn-cost-in-sequence-length"].model_answer)
    assert "4nd² + 2n²d" in answer and "n > 2d" in answer and "n > 6d" in answer


# --------------------------------------------------------------------------- transformers


def test_kv_cache_bytes_per_token(bank: Bank) -> None:
    layers, d_model = 32, 4096
    one_token = torch.empty(2, layers, d_model, dtype=torch.float16, device="meta")  # K and V
    size = one_token.numel() * one_token.element_size()
    assert size == 524_288 == 512 * 1024
    q = bank.questions["tf-kv-cache-per-token"]
    assert right_option(q) == "512 KiB"
    assert "16 KiB" in [c.en for c in q.choices] and 2 * d_model * 2 == 16 * 1024  # one layer
    assert size // 2 == 256 * 1024 and size * 2 == 1024 * 1024  # K only / fp32
    assert size * 4096 == 2 * 1024**3  # 2 GiB for a 4096-token context
    assert "512 KiB per token, 2 GiB" in texts(bank.questions["tf-kv-cache-bandwidth"].model_answer)


def test_parameters_per_layer(bank: Bank) -> None:
    d = 512
    encoder = nn.TransformerEncoderLayer(d, 8, 4 * d)
    decoder = nn.TransformerDecoderLayer(d, 8, 4 * d)  # with cross-attention
    matrices = sum(p.numel() for p in encoder.parameters() if p.dim() == 2)
    assert matrices == 12 * d * d == 3_145_728
    assert sum(p.numel() for p in encoder.parameters()) == 3_152_384
    assert sum(p.numel() for p in decoder.parameters() if p.dim() == 2) == 16 * d * d
    q = bank.questions["tf-params-per-layer"]
    assert right_option(q) == "12d²"
    assert "3,152,384" in texts(q.explanation) and "3,145,728" in texts(q.explanation)


def test_gpt3_estimate(bank: Bank) -> None:
    layers, d, vocab, context = 96, 12288, 50_257, 2048
    per_layer = 12 * d * d
    assert layers * per_layer == 173_946_175_488
    total = layers * per_layer + vocab * d + context * d
    assert round(total / 1e9, 1) == 174.6
    assert round(vocab * d / 1e9, 2) == 0.62
    answer = texts(bank.questions["tf-gpt3-parameter-estimate"].model_answer)
    assert "173,946,175,488" in answer and "174.6B" in answer and "1746 亿" in answer


def _rope(x: torch.Tensor, position: int) -> torch.Tensor:
    """Rotate the pairs (x[2i], x[2i+1]) by position·θ_i, θ_i = 10000^(−2i/d)."""
    d = x.shape[-1]
    theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angle = position * theta
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = even * torch.cos(angle) - odd * torch.sin(angle)
    out[..., 1::2] = even * torch.sin(angle) + odd * torch.cos(angle)
    return out


def test_rope_score_depends_on_the_offset_only(bank: Bank) -> None:
    gen = torch.Generator().manual_seed(3)
    q, k = torch.randn(2, 64, generator=gen, dtype=torch.float64)
    scores = {(m, n): float(_rope(q, m) @ _rope(k, n)) for m, n in [(3, 1), (10, 8), (105, 103)]}
    first = scores[(3, 1)]
    assert all(s == pytest.approx(first, rel=1e-12) for s in scores.values())  # offset 2 each
    assert float(_rope(q, 3) @ _rope(k, 0)) != pytest.approx(scores[(3, 1)])
    assert torch.allclose(_rope(q, 7).norm(), q.norm())  # a rotation keeps the norm
    answer = texts(bank.questions["tf-rope-relative"].model_answer)
    assert "R_mᵀ R_n = R_(n−m)" in answer and "10000^(−2i/d)" in answer


def test_sinusoidal_shift_is_a_fixed_linear_map(bank: Bank) -> None:
    d, k = 16, 5
    freqs = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)

    def pe(pos: torch.Tensor) -> torch.Tensor:
        out = torch.empty(len(pos), d, dtype=torch.float64)
        out[:, 0::2] = torch.sin(pos[:, None] * freqs)
        out[:, 1::2] = torch.cos(pos[:, None] * freqs)
        return out

    # a block-diagonal matrix built from k alone: each (sin, cos) pair rotated by k·ω_i
    shift = torch.zeros(d, d, dtype=torch.float64)
    for i, w in enumerate(freqs.tolist()):
        c, s = math.cos(k * w), math.sin(k * w)
        shift[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.tensor(
            [[c, -s], [s, c]], dtype=torch.float64
        )
    pos = torch.arange(0, 1000, 7, dtype=torch.float64)
    assert torch.allclose(pe(pos) @ shift, pe(pos + k), atol=1e-9)
    answer = texts(bank.questions["tf-sinusoidal-encoding"].model_answer)
    assert "10000^(2i/d)" in answer and "2π to 10000·2π" in answer


def test_alibi_slopes_for_eight_heads(bank: Bank) -> None:
    heads = 8
    slopes = [2 ** (-8 * (h + 1) / heads) for h in range(heads)]
    assert slopes[0] == 1 / 2 and slopes[-1] == 1 / 256
    assert all(b / a == 0.5 for a, b in itertools.pairwise(slopes))
    explanation = texts(bank.questions["tf-alibi-how"].explanation)
    assert "1/2, 1/4, ..., 1/256" in explanation and "−m·(i − j)" in explanation


def test_original_learning_rate_peak(bank: Bank) -> None:
    d_model, warmup = 512, 4000

    def lr(step: int) -> float:
        return float(d_model**-0.5 * min(step**-0.5, step * warmup**-1.5))

    peak = max(range(1, 20_001), key=lr)
    assert peak == warmup
    assert f"{lr(peak):.1e}" == "7.0e-04"
    answer = texts(bank.questions["tf-original-lr-schedule"].model_answer)
    assert "≈ 7.0·10⁻⁴" in answer and "warmup = 4000" in answer
