"""The shapes, numbers and error messages of the rnn_pytorch and modern_gans questions, with torch.

Each test computes a fact the way PyTorch does and pins the text of the question that states it,
so a later edit of either side shows up here; the code blocks of the model answers are run as
written. content/rnn_pytorch.yaml and content/modern_gans.yaml only (the rest of the bank is
checked by test_bank.py).
"""

from __future__ import annotations

import math
import re
import textwrap
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from bot.core.bank import Bank
from bot.core.models import Question

from .facts import load, option_why, right_option, texts


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load("rnn_pytorch.yaml", "modern_gans.yaml")


def code_of(question: Question) -> str:
    """The first ```python block of a model answer, dedented."""
    assert question.model_answer is not None
    found = re.search(r"```python\n(.*?)```", question.model_answer.en, re.DOTALL)
    assert found, f"{question.id}: no code block"
    return textwrap.dedent(found.group(1))


def run(code: str, **names: Any) -> dict[str, Any]:
    """Run a code block from the bank with torch and the given names in scope."""
    scope: dict[str, Any] = {
        "torch": torch,
        "nn": nn,
        "F": F,
        "pack_padded_sequence": pack_padded_sequence,
        "pad_packed_sequence": pad_packed_sequence,
        **names,
    }
    exec(compile(code, "<bank>", "exec"), scope)
    return scope


def shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


# --------------------------------------------------------------------------- RNNs in PyTorch


def test_output_and_h_n_shapes(bank: Bank) -> None:
    torch.manual_seed(0)
    lstm = nn.LSTM(32, 64, num_layers=2, batch_first=True, bidirectional=True)
    output, (h_n, c_n) = lstm(torch.randn(8, 20, 32))
    q = bank.questions["rp-output-shape"]
    assert right_option(q) == shape(output) == "(8, 20, 128)"
    time_major, _ = nn.LSTM(32, 64, num_layers=2, bidirectional=True)(torch.randn(20, 8, 32))
    assert shape(time_major) == "(20, 8, 128)"  # the batch_first=False distractor
    assert shape(h_n) == shape(c_n) == "(4, 8, 64)"

    gru = nn.GRU(16, 100, num_layers=3, batch_first=True, bidirectional=True)
    out, h = gru(torch.randn(10, 7, 16))
    q = bank.questions["rp-hn-shape-gru"]
    assert right_option(q) == shape(h) == "(6, 10, 100)"
    assert "That is the shape of output" in option_why(q, shape(out))


def test_bidirectional_summary_and_layout(bank: Bank) -> None:
    torch.manual_seed(0)
    n, hidden = 4, 6
    lstm = nn.LSTM(5, hidden, batch_first=True, bidirectional=True)
    output, (h_n, _) = lstm(torch.randn(n, 9, 5))
    summary = torch.cat([h_n[-2], h_n[-1]], dim=1)
    q = bank.questions["rp-bidir-summary"]
    assert right_option(q) == "torch.cat([h_n[-2], h_n[-1]], dim=1)"
    assert torch.equal(output[:, -1, :hidden], h_n[-2])
    assert torch.equal(output[:, 0, hidden:], h_n[-1])
    assert not torch.allclose(output[:, -1], summary)  # the backward half has read one step
    # h_n.view(N, -1) puts sentence 0's and sentence 1's forward states in one row
    assert torch.equal(h_n.view(n, -1)[0], torch.cat([h_n[0, 0], h_n[0, 1]]))
    assert "output[:, -1] ≠ cat(h_n[-2], h_n[-1])" in texts(q.explanation)

    # three layers: layer-major, index 2·layer + direction
    deep = nn.LSTM(5, hidden, num_layers=3, batch_first=True, bidirectional=True)
    output, (h_n, _) = deep(torch.randn(n, 9, 5))
    assert right_option(bank.questions["rp-hn-index-layout"]) == "h_n[4]"
    assert torch.equal(h_n[4], output[:, -1, :hidden])
    assert torch.equal(h_n[5], output[:, 0, hidden:])
    assert torch.equal(h_n.view(3, 2, n, hidden)[2, 0], h_n[4])


def test_packed_h_n_is_each_sequences_last_step(bank: Bank) -> None:
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, batch_first=True)
    x = torch.randn(2, 7, 3)
    packed_out, (h_n, _) = lstm(pack_padded_sequence(x, [7, 3], batch_first=True))
    out, _ = pad_packed_sequence(packed_out, batch_first=True)
    assert torch.equal(h_n[0, 1], out[1, 2])  # step 3 of the length-3 sequence
    assert float(out[1, 3:].detach().abs().sum()) == 0.0  # zeros only in the padded output
    unpacked, (h_unpacked, _) = lstm(x)
    assert torch.equal(h_unpacked[0, 1], unpacked[1, -1])  # without packing: after step 7
    assert not torch.allclose(h_unpacked[0, 1], h_n[0, 1])
    assert right_option(bank.questions["rp-pack-hn"]).startswith("The state after step 3")

    with pytest.raises(RuntimeError) as raised:
        pack_padded_sequence(torch.randn(3, 5, 3), torch.tensor([2, 5, 3]), batch_first=True)
    message = str(raised.value).replace("`", "")
    q = bank.questions["rp-enforce-sorted"]
    assert "lengths array must be sorted in decreasing order when enforce_sorted is True" in message
    assert "lengths array must be sorted in decreasing order" in texts(q.explanation)
    assert right_option(q) == "Pass enforce_sorted=False"
    x = torch.randn(3, 5, 3)
    packed = pack_padded_sequence(x, [2, 5, 3], batch_first=True, enforce_sorted=False)
    packed_out, (h_n, _) = lstm(packed)
    out, _ = pad_packed_sequence(packed_out, batch_first=True)
    for i, length in enumerate([2, 5, 3]):  # the original batch order comes back
        assert torch.equal(h_n[0, i], out[i, length - 1])


def test_dropout_argument_needs_two_layers(bank: Bank) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lstm = nn.LSTM(4, 6, num_layers=1, dropout=0.3, batch_first=True)
    message = str(caught[0].message)
    assert message.endswith(", but got dropout=0.3 and num_layers=1")
    assert message.split(", but got")[0] in texts(bank.questions["rp-dropout-arg"].explanation)
    lstm.train()
    x = torch.randn(2, 5, 4)
    assert torch.equal(lstm(x)[0], lstm(x)[0])  # no dropout anywhere
    stacked = nn.LSTM(4, 6, num_layers=2, dropout=0.5, batch_first=True).train()
    assert not torch.equal(stacked(x)[0], stacked(x)[0])
    assert torch.equal(stacked.eval()(x)[0], stacked(x)[0])


def test_initial_state_ignores_batch_first(bank: Bank) -> None:
    lstm = nn.LSTM(8, 128, num_layers=2, batch_first=True)
    x = torch.randn(16, 5, 8)
    with pytest.raises(RuntimeError) as raised:
        lstm(x, (torch.zeros(16, 2, 128), torch.zeros(16, 2, 128)))
    q = bank.questions["rp-h0-shape"]
    assert str(raised.value) in option_why(q, "(16, 2, 128), since batch_first=True")
    lstm(x, (torch.zeros(2, 16, 128), torch.zeros(2, 16, 128)))
    assert right_option(q) == "(2, 16, 128)"


def test_proj_size(bank: Bank) -> None:
    lstm = nn.LSTM(40, 256, proj_size=64, batch_first=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "LSTM with projections is not supported with oneDNN"
        output, (h_n, c_n) = lstm(torch.randn(3, 7, 40))
    expected = ", ".join(
        s.replace("3", "N", 1).replace("7", "L", 1) for s in map(shape, (output, h_n, c_n))
    )
    q = bank.questions["rp-proj-size"]
    assert right_option(q) == expected == "(N, L, 64), (1, N, 64), (1, N, 256)"
    with_projection = sum(p.numel() for p in lstm.parameters())
    without = sum(p.numel() for p in nn.LSTM(40, 256).parameters())
    # independent count: W_ih 4H×I, W_hh 4H×P, two biases 4H, W_hr P×H
    assert with_projection == 4 * 256 * 40 + 4 * 256 * 64 + 2 * 4 * 256 + 64 * 256
    assert (f"{with_projection:,}", f"{without:,}") == ("124,928", "305,152")
    assert "124,928" in texts(q.explanation) and "305,152" in texts(q.explanation)


def test_gru_unpacked_like_an_lstm(bank: Bank) -> None:
    x = torch.randn(4, 3, 32)  # (L, N, F)
    _, h_n = nn.GRU(32, 64, num_layers=2)(x)
    h, c = h_n  # what `out, (h, c) = rnn(x)` does: no error
    assert torch.equal(h, h_n[0]) and torch.equal(c, h_n[1]) and shape(c) == "(3, 64)"
    q = bank.questions["rp-gru-unpack"]
    assert right_option(q).startswith("It runs")
    with pytest.raises(ValueError) as raised:
        _, (h, c) = nn.GRU(32, 64)(x)
    assert str(raised.value) == "not enough values to unpack (expected 2, got 1)"
    assert str(raised.value) in texts(q.explanation)


def test_stacked_bidirectional_parameters(bank: Bank) -> None:
    def count(module: nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    total = count(nn.LSTM(10, 20, num_layers=2, bidirectional=True))
    layer1 = count(nn.LSTM(10, 20, bidirectional=True))
    q = bank.questions["rp-stacked-bidir-params"]
    assert right_option(q) == f"{total:,}" == "15,040"
    # the distractors, each the count of its mistake
    assert f"{layer1:,}" == "5,120"
    assert f"{layer1 + count(nn.LSTM(20, 20, bidirectional=True)):,}" == "11,840"
    assert f"{total - 4 * 4 * 20:,}" == "14,720"  # one 4H bias less per layer and direction
    for option in ("5,120", "11,840", "14,720"):
        option_why(q, option)


def test_model_answer_code_runs(bank: Bank) -> None:
    torch.manual_seed(0)
    # the classifier: a padded sentence gets the same logits as the sentence alone
    scope = run(code_of(bank.questions["rp-open-classifier-code"]))

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.H = 6
            self.embed = nn.Embedding(50, 8, padding_idx=0)
            self.lstm = nn.LSTM(8, 6, num_layers=2, bidirectional=True, batch_first=True)
            self.drop = nn.Dropout(0.3)
            self.fc = nn.Linear(12, 3)

        forward: Callable[..., torch.Tensor] = scope["forward"]

    model = Classifier().eval()
    lengths = torch.tensor([3, 7, 5, 2])
    ids = torch.randint(1, 50, (4, 7))
    ids[torch.arange(7)[None, :] >= lengths[:, None]] = 0
    logits = model(ids, lengths)
    assert shape(logits) == "(4, 3)"
    assert torch.allclose(model(ids[:1, :3], lengths[:1]), logits[:1], atol=1e-6)

    # packing, as the packing answer writes it
    lstm = nn.LSTM(8, 6, batch_first=True)
    emb = torch.randn(3, 5, 8)
    scope = run(
        code_of(bank.questions["rp-open-packing"]),
        emb=emb,
        lengths=torch.tensor([2, 5, 3]),
        lstm=lstm,
    )
    assert shape(scope["out"]) == "(3, 5, 6)"

    # the encoder-decoder bridge
    encoder = nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True)
    _, (h_n, c_n) = encoder(torch.randn(3, 5, 4))
    decoder = nn.LSTM(5, 12, num_layers=2, batch_first=True)
    with pytest.raises(
        RuntimeError, match=re.escape("Expected hidden[0] size (2, 3, 12), got [4, 3, 6]")
    ):
        decoder(torch.randn(3, 7, 5), (h_n, c_n))
    scope = run(code_of(bank.questions["rp-open-encoder-decoder-state"]), h_n=h_n, c_n=c_n)
    h_dec, c_dec = scope["dec_state"]
    assert shape(h_dec) == "(2, 3, 12)"
    assert torch.equal(h_dec[1, :, :6], h_n[-2]) and torch.equal(h_dec[1, :, 6:], h_n[-1])
    decoder(torch.randn(3, 7, 5), (h_dec, c_dec))

    # locked dropout: one mask per sequence and feature, identity in eval mode
    locked = run(code_of(bank.questions["rp-open-locked-dropout"]))["LockedDropout"](0.5)
    x = torch.ones(4, 6, 10)
    y = locked(x)
    assert torch.equal(y, y[:, :1].expand_as(y)) and set(y.unique().tolist()) <= {0.0, 2.0}
    assert torch.equal(locked.eval()(x), x)


def test_stateful_training_needs_detach(bank: Bank) -> None:
    torch.manual_seed(0)
    q = bank.questions["rp-open-stateful-detach"]
    code = code_of(q)
    detach_line = "    state = tuple(s.detach() for s in state)\n"
    assert detach_line in code

    def names() -> dict[str, Any]:
        lstm, head = nn.LSTM(8, 16, batch_first=True), nn.Linear(16, 10)
        params = [*lstm.parameters(), *head.parameters()]
        batches = [(torch.randn(4, 5, 8), torch.randint(0, 10, (4, 5))) for _ in range(3)]
        return {
            "lstm": lstm,
            "head": head,
            "criterion": nn.CrossEntropyLoss(),
            "optimizer": torch.optim.SGD(params, lr=0.1),
            "batches": batches,
        }

    run(code, **names())
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        run(code.replace(detach_line, ""), **names())
    assert "`Trying to backward through the graph a second time`" in texts(q.text)


# --------------------------------------------------------------------------- GANs since WGAN


def _gan(seed: int = 0) -> dict[str, Any]:
    torch.manual_seed(seed)
    G = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    D = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    return {
        "G": G,
        "D": D,
        "opt_G": torch.optim.Adam(G.parameters()),
        "opt_D": torch.optim.Adam(D.parameters()),
        "z": torch.randn(4, 2),
        "real": torch.randn(4, 2),
        "bce": nn.BCEWithLogitsLoss(),
        "ones": torch.ones(4, 1),
        "zeros": torch.zeros(4, 1),
    }


def test_missing_detach_error_and_its_fixes(bank: Bank) -> None:
    q = bank.questions["mg-open-detach-error"]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        run(code_of(q), **_gan())
    fixed = code_of(q).replace("D(fake), zeros", "D(fake.detach()), zeros")
    assert fixed != code_of(q)
    run(fixed, **_gan())
    assert right_option(bank.questions["mg-detach-error"]) == "Use D(fake.detach()) in loss_D"

    # retain_graph=True silences the error, but D's loss has written into G's .grad
    names = _gan()
    G, D, bce = names["G"], names["D"], names["bce"]
    fake = G(names["z"])
    loss_d = bce(D(names["real"]), names["ones"]) + bce(D(fake), names["zeros"])
    loss_d.backward(retain_graph=True)
    assert G[0].weight.grad is not None and float(G[0].weight.grad.abs().sum()) > 0
    bce(D(fake), names["ones"]).backward()
    assert "writes D's gradient into G's .grad" in option_why(
        bank.questions["mg-detach-error"], "Call loss_D.backward(retain_graph=True)"
    )


def test_reusing_d_fake_after_the_d_step(bank: Bank) -> None:
    names = _gan()
    G, D, bce, opt_d = names["G"], names["D"], names["bce"], names["opt_D"]
    fake = G(names["z"])
    d_fake = D(fake)
    loss_d = bce(D(names["real"]), names["ones"]) + bce(d_fake, names["zeros"])
    opt_d.zero_grad()
    loss_d.backward(retain_graph=True)
    opt_d.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        bce(d_fake, names["ones"]).backward()
    q = bank.questions["mg-open-inplace-reuse"]
    assert "modified by an inplace operation" in texts(q.text)
    run(code_of(q), **_gan())  # the corrected loop runs


def test_r1_code(bank: Bank) -> None:
    torch.manual_seed(0)
    D = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(512, 1))
    G = nn.Sequential(nn.Linear(16, 3 * 16 * 16), nn.Tanh(), nn.Unflatten(1, (3, 16, 16)))
    scope = run(
        code_of(bank.questions["mg-open-r1-code"]),
        D=D,
        G=G,
        real=torch.randn(4, 3, 16, 16),
        z=torch.randn(4, 16),
        gamma=10.0,
        opt_D=torch.optim.Adam(D.parameters()),
    )
    assert float(scope["r1"].detach()) > 0
    assert all(p.grad is not None for p in D.parameters())
    assert all(p.grad is None for p in G.parameters())
    # independent check of the penalty: per-sample input gradients one at a time
    real = scope["real"]
    per_sample = [
        torch.autograd.grad(D(real[i : i + 1]).sum(), real)[0][i].pow(2).sum() for i in range(4)
    ]
    # D has changed since (opt_D.step()), so recompute the penalty with the current D
    (grad,) = torch.autograd.grad(D(real).sum(), real)
    assert torch.allclose(grad.pow(2).flatten(1).sum(1), torch.stack(per_sample), rtol=1e-5)


def fid(a: torch.Tensor, b: torch.Tensor) -> float:
    """‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2(Σ_a Σ_b)^{1/2}), the trace of the square root through the
    eigenvalues of Σ_a^{1/2} Σ_b Σ_a^{1/2} (symmetric, same spectrum as Σ_a Σ_b)."""
    s_a, s_b = torch.cov(a.T), torch.cov(b.T)
    values, vectors = torch.linalg.eigh(s_a)
    root = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T
    cross = torch.linalg.eigvalsh(root @ s_b @ root).clamp(min=0).sqrt().sum()
    mean = (a.mean(0) - b.mean(0)).pow(2).sum()
    return float(mean + torch.trace(s_a) + torch.trace(s_b) - 2 * cross)


def test_fid_formula_and_small_sample_bias(bank: Bank) -> None:
    gen = torch.Generator().manual_seed(0)
    # independent formula: for diagonal covariances FID = ‖Δμ‖² + Σ (σ_a − σ_b)²
    scale_a, scale_b = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([2.0, 1.0, 1.5])
    a = torch.randn(200_000, 3, generator=gen, dtype=torch.float64) * scale_a
    b = torch.randn(200_000, 3, generator=gen, dtype=torch.float64) * scale_b + 1.0
    assert fid(a, b) == pytest.approx(3.0 + float((scale_a - scale_b).pow(2).sum()), rel=0.02)
    assert right_option(bank.questions["mg-fid-formula"]).startswith("‖μ_r − μ_g‖² + Tr(")

    def same_distribution(n: int) -> float:
        runs = [
            fid(
                torch.randn(n, 64, generator=gen, dtype=torch.float64),
                torch.randn(n, 64, generator=gen, dtype=torch.float64),
            )
            for _ in range(3)
        ]
        return sum(runs) / len(runs)

    small, medium, large = (
        same_distribution(100),
        same_distribution(2_000),
        same_distribution(50_000),
    )
    assert 18 < small < 26 and 0.9 < medium < 1.3 and 0.03 < large < 0.05
    assert small * 100 == pytest.approx(medium * 2_000, rel=0.25)  # roughly 1/N
    q = bank.questions["mg-fid-sample-size"]
    assert right_option(q).startswith("A higher FID with 1,000")
    for stated in ("about 22 at N = 100", "1.1 at N = 2,000", "0.04 at N = 50,000"):
        assert stated in texts(q.explanation)


def test_spectral_normalisation(bank: Bank) -> None:
    torch.manual_seed(0)
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(50, 30))
    for _ in range(20):
        layer(torch.randn(8, 50))
    with torch.no_grad():
        sigma = float(torch.linalg.matrix_norm(layer.weight, ord=2))
    assert sigma == pytest.approx(1.0, abs=1e-3)

    def power_vector() -> torch.Tensor:
        parametrizations: Any = layer.parametrizations
        return torch.as_tensor(parametrizations.weight[0]._u).clone()

    u = power_vector()
    layer.eval()(torch.randn(8, 50))
    assert torch.equal(u, power_vector())  # u is updated in training mode only
    assert "updates u only in training mode" in texts(
        bank.questions["mg-spectral-norm"].explanation
    )

    # for a convolution the reshaped kernel's norm underestimates the operator norm
    conv = nn.Conv2d(16, 16, 3, padding=1, bias=False)
    kernel = conv.weight.detach()
    reshaped = float(torch.linalg.matrix_norm(kernel.reshape(16, -1), ord=2))
    v = torch.randn(1, 16, 16, 16)
    for _ in range(100):  # power iteration on the operator: conv then its transpose
        v = F.conv_transpose2d(F.conv2d(v, kernel, padding=1), kernel, padding=1)
        v = v / v.norm()
    operator = float(F.conv2d(v, kernel, padding=1).norm())
    assert 1.4 < operator / reshaped < 1.8
    assert "about 1.6 times larger" in texts(bank.questions["mg-sn-lipschitz-bound"].explanation)


def test_dirac_gan(bank: Bank) -> None:
    """L(θ, ψ) = f(ψθ) + f(0) with f(t) = −log(1 + e^{−t}): D ascends in ψ, G descends in θ."""

    def slope(t: float) -> float:  # f′(t)
        return 1 / (1 + math.exp(t))

    def distance(simultaneous: bool, gamma: float) -> float:
        theta, psi, lr = 1.0, 1.0, 0.1
        for _ in range(2_000):
            grad_theta = slope(psi * theta) * psi
            grad_psi = slope(psi * theta) * theta - gamma * psi  # R1: ∇_x D = ψ
            theta_next = theta - lr * grad_theta
            if not simultaneous:
                grad_psi = slope(psi * theta_next) * theta_next - gamma * psi
            theta, psi = theta_next, psi + lr * grad_psi
        return math.hypot(theta, psi)

    assert distance(simultaneous=True, gamma=0) == pytest.approx(3.1, abs=0.05)
    assert distance(simultaneous=False, gamma=0) == pytest.approx(1.42, abs=0.01)
    assert distance(simultaneous=True, gamma=1) < 1e-30
    assert distance(simultaneous=False, gamma=1) < 1e-30
    q = bank.questions["mg-dirac-gan"]
    assert right_option(q) == "It circles or spirals outward and never converges"
    for stated in ("from 1.41 to 3.1", "stayed at 1.42", "below 10⁻³⁰"):
        assert stated in texts(q.explanation)
