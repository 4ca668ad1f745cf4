"""The numbers and claims of the normalisation, training-practice and efficient-CNN questions,
recomputed with torch.

Each test computes a fact the way PyTorch does (or with an independent closed form) and pins the
text of the question that states it, so a later edit of either side shows up here.
content/normalization.yaml, content/training_practice.yaml and content/efficient_cnns.yaml only
(the rest of the bank is checked by test_bank.py).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bot.core.bank import Bank
from bot.core.models import Question

from .facts import load, right_option, texts

FILES = ("normalization.yaml", "training_practice.yaml", "efficient_cnns.yaml")


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load(*FILES)


def has_option(question: Question, en: str) -> bool:
    return any(c.en == en for c in question.choices)


def running(bn: nn.modules.batchnorm._BatchNorm, name: str) -> torch.Tensor:
    """A running-statistics buffer of a BatchNorm layer (typed: they are Optional)."""
    buffer = bn.running_mean if name == "mean" else bn.running_var
    assert buffer is not None
    return buffer


# --------------------------------------------------------------------------- normalisation


def test_batchnorm_momentum_weights_the_new_batch(bank: Bank) -> None:
    bn = nn.BatchNorm1d(1)  # momentum 0.1
    with torch.no_grad():
        running(bn, "mean").fill_(2.0)
    bn(torch.tensor([[3.0], [5.0]]))  # batch mean 4
    assert float(running(bn, "mean")) == pytest.approx(2.2)
    q = bank.questions["norm-bn-momentum-update"]
    assert right_option(q) == "2.2"
    # the Keras reading (0.1 on the old value) and the plain average are offered as mistakes
    keras = 0.1 * 2.0 + 0.9 * 4.0
    assert has_option(q, f"{keras:.1f}") and has_option(q, "3.0")


def test_running_var_is_unbiased_but_normalisation_is_biased(bank: Bank) -> None:
    x = torch.tensor([[1.0], [2.0], [3.0], [6.0]], dtype=torch.float64)
    bn = nn.BatchNorm1d(1).double()
    y = bn(x)
    biased, unbiased = float(x.var(unbiased=False)), float(x.var(unbiased=True))
    assert biased == pytest.approx(3.5) and unbiased == pytest.approx(14 / 3)
    assert torch.allclose(y, (x - 3) / math.sqrt(3.5 + bn.eps))
    assert float(running(bn, "var")) == pytest.approx(0.9 + 0.1 * unbiased)
    q = bank.questions["norm-bn-running-var-unbiased"]
    assert right_option(q) == f"Normalises with 3.5; running_var becomes {0.9 + 0.1 * unbiased:.3f}"
    assert has_option(q, f"Normalises with 3.5; running_var becomes {0.9 + 0.1 * biased:.2f}")
    v = [float(t) for t in y.detach().flatten()]
    assert v[2] == pytest.approx(0, abs=1e-12)
    assert q.explanation is not None
    assert f"≈ −{-v[0]:.3f}, −{-v[1]:.3f}, 0, {v[3]:.3f}." in q.explanation.en
    assert f"≈ −{-v[0]:.3f}、−{-v[1]:.3f}、0、{v[3]:.3f}。" in q.explanation.zh


def test_requires_grad_false_does_not_freeze_running_stats(bank: Bank) -> None:
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    for p in bn.parameters():
        p.requires_grad_(False)
    bn.train()
    bn(torch.randn(4, 3, 5, 5) + 7.0)
    assert bool(torch.all(running(bn, "mean") > 0.5))  # moved towards 7
    frozen = running(bn, "mean").clone()
    bn.eval()
    bn(torch.randn(4, 3, 5, 5) - 7.0)
    assert torch.equal(running(bn, "mean"), frozen)  # eval mode is what freezes them
    assert right_option(bank.questions["norm-frozen-params-stats-move"]) == (
        "They keep updating from every new batch"
    )


def test_normalisation_axes_and_groupnorm_special_cases(bank: Bank) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 6, 4, 4, dtype=torch.float64)

    def standardise(t: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
        mean = t.mean(dims, keepdim=True)
        var = t.var(dims, unbiased=False, keepdim=True)
        return (t - mean) / torch.sqrt(var + 1e-5)

    instance = F.instance_norm(x, eps=1e-5)
    assert torch.allclose(instance, standardise(x, (2, 3)))
    assert torch.allclose(F.batch_norm(x, None, None, training=True), standardise(x, (0, 2, 3)))
    assert torch.allclose(F.layer_norm(x, x.shape[1:]), standardise(x, (1, 2, 3)))
    assert torch.allclose(F.group_norm(x, 1), F.layer_norm(x, x.shape[1:]))  # G = 1: LayerNorm
    assert torch.allclose(F.group_norm(x, 6), instance)  # G = C: InstanceNorm
    # train-mode BN on a single sample is InstanceNorm (the forward pass only)
    assert torch.allclose(F.batch_norm(x[:1], None, None, training=True), instance[:1])
    assert right_option(bank.questions["norm-instancenorm-axes"]) == (
        "Over (H, W), once per sample and channel"
    )
    assert not nn.InstanceNorm2d(6).affine and not nn.InstanceNorm2d(6).track_running_stats


def test_dropout_variance_shift(bank: Bank) -> None:
    """Inverted dropout keeps the mean and inflates the variance to (σ² + μ²)/(1 − p) − μ²."""
    gen = torch.Generator().manual_seed(0)
    mu, sigma, p = 1.5, 0.5, 0.5
    x = mu + sigma * torch.randn(2_000_000, generator=gen, dtype=torch.float64)
    keep = (torch.rand(x.shape, generator=gen, dtype=torch.float64) >= p).double()
    y = x * keep / (1 - p)
    predicted = (sigma**2 + mu**2) / (1 - p) - mu**2
    assert float(y.mean()) == pytest.approx(mu, rel=0.01)
    assert float(y.var()) == pytest.approx(predicted, rel=0.01)
    assert predicted > sigma**2
    q = bank.questions["norm-dropout-variance-shift"]
    assert "Var(y) = (Var x + (E x)²)/(1 − p) − (E x)²" in texts(q.explanation)
    assert right_option(q).startswith("Dropout inflates the variance")


def test_batchnorm_backward_compact_formula(bank: Bank) -> None:
    torch.manual_seed(0)
    m, gamma = 8, 1.7
    x = torch.randn(m, 1, dtype=torch.float64, requires_grad=True)
    g = torch.randn(m, 1, dtype=torch.float64)
    weight = torch.tensor([gamma], dtype=torch.float64)

    def input_gradient(eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        y = F.batch_norm(x, None, None, weight, training=True, eps=eps)
        (autograd,) = torch.autograd.grad(y, x, g)
        xd = x.detach()
        s = torch.sqrt(xd.var(unbiased=False) + eps)
        x_hat = (xd - xd.mean()) / s
        compact = gamma / (m * s) * (m * g - g.sum() - x_hat * (g * x_hat).sum())
        return autograd, compact, x_hat

    autograd, compact, x_hat = input_gradient(1e-5)
    assert torch.allclose(autograd, compact)
    assert float(autograd.sum()) == pytest.approx(0, abs=1e-12)
    assert abs(float((autograd * x_hat).sum())) < 1e-4 * float(autograd.norm())  # up to ε
    autograd, compact, x_hat = input_gradient(1e-14)
    assert torch.allclose(autograd, compact)
    assert float((autograd * x_hat).sum()) == pytest.approx(0, abs=1e-9)
    answer = texts(bank.questions["norm-bn-backward"].model_answer)
    assert "∂L/∂xᵢ = (γ/(m·s))·(m·gᵢ − Σⱼgⱼ − x̂ᵢ·Σⱼgⱼx̂ⱼ)" in answer
    assert "(up to ε) Σᵢ x̂ᵢ·∂L/∂xᵢ = 0" in answer


def test_batchnorm_scale_invariance(bank: Bank) -> None:
    torch.manual_seed(0)
    u = torch.randn(16, 5, dtype=torch.float64)
    w = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    target = torch.randn(16, 3, dtype=torch.float64)

    def loss_at(weight: torch.Tensor) -> torch.Tensor:
        z = u @ weight.T  # BN over the batch without ε, per output channel
        z_hat = (z - z.mean(0)) / z.std(0, unbiased=False)
        return F.mse_loss(z_hat, target)

    a = 4.0
    aw = (a * w.detach()).requires_grad_(True)
    assert float(loss_at(aw).detach()) == pytest.approx(float(loss_at(w).detach()))
    (grad_w,) = torch.autograd.grad(loss_at(w), w)
    (grad_aw,) = torch.autograd.grad(loss_at(aw), aw)
    assert torch.allclose(grad_aw, grad_w / a)
    # the gradient of each output channel's weights is orthogonal to those weights
    assert torch.allclose((grad_w * w.detach()).sum(1), torch.zeros(3, dtype=torch.float64))
    assert "∂L/∂(aW) = (1/a)·∂L/∂W" in texts(bank.questions["norm-scale-invariance"].model_answer)


# --------------------------------------------------------------------------- training practice


def test_linear_scaling_rule(bank: Bank) -> None:
    assert 0.1 * 8192 / 256 == pytest.approx(3.2)
    assert right_option(bank.questions["tp-linear-scaling-rule"]) == "0.1 · 32 = 3.2"


def test_cosine_annealing_at_a_quarter(bank: Bank) -> None:
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.1)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100, eta_min=0.0)
    for _ in range(25):
        optimizer.step()
        schedule.step()
    lr = optimizer.param_groups[0]["lr"]
    assert lr == pytest.approx(0.05 * (1 + math.cos(math.pi / 4)))
    q = bank.questions["tp-cosine-value"]
    assert right_option(q) == f"0.05 · (1 + cos(π/4)) ≈ {lr:.3f}"
    assert has_option(q, f"0.1 · cos(π·25/100) ≈ {0.1 * math.cos(math.pi / 4):.4f}")
    assert f"≈ {lr:.4f}" in texts(q.explanation)


def test_label_smoothing_targets(bank: Bank) -> None:
    torch.manual_seed(0)
    logits = torch.randn(3, 5, dtype=torch.float64)
    labels = torch.tensor([2, 2, 2])
    smoothed = torch.full((3, 5), 0.02, dtype=torch.float64)
    smoothed[:, 2] = 0.92
    builtin = F.cross_entropy(logits, labels, label_smoothing=0.1)
    assert float(builtin) == pytest.approx(float(F.cross_entropy(logits, smoothed)))
    q = bank.questions["tp-label-smoothing-targets"]
    assert right_option(q) == "0.92 for class 2, 0.02 for each other class"
    # (1 − ε)·CE(one_hot) + ε·CE(u), as the open question writes it
    uniform = torch.full((3, 5), 0.2, dtype=torch.float64)
    split = 0.9 * F.cross_entropy(logits, labels) + 0.1 * F.cross_entropy(logits, uniform)
    assert float(builtin) == pytest.approx(float(split))
    answer = texts(bank.questions["tp-label-smoothing-open"].model_answer)
    assert "(1 − ε)·CE(one_hot) + ε·CE(u)" in answer


def test_mixup_loss_is_the_mix_of_two_losses(bank: Bank) -> None:
    torch.manual_seed(0)
    logits = torch.randn(4, 10, dtype=torch.float64)
    y_i, y_j, lam = torch.tensor([1, 2, 3, 4]), torch.tensor([5, 6, 7, 8]), 0.7
    mixed = lam * F.one_hot(y_i, 10).double() + (1 - lam) * F.one_hot(y_j, 10).double()
    split = lam * F.cross_entropy(logits, y_i) + (1 - lam) * F.cross_entropy(logits, y_j)
    assert float(F.cross_entropy(logits, mixed)) == pytest.approx(float(split))
    explanation = texts(bank.questions["tp-mixup-what"].explanation)
    assert "λ·CE(yᵢ) + (1 − λ)·CE(yⱼ)" in explanation


# --------------------------------------------------------------------------- efficient CNNs


def _conv_macs(conv: nn.Conv2d, h_out: int, w_out: int) -> int:
    """Multiply-accumulates of a conv from its weight tensor: one weight use per output pixel."""
    return conv.weight.numel() * h_out * w_out


def test_separable_cost_ratio(bank: Bank) -> None:
    m = n = 256
    k, size = 3, 14
    standard = nn.Conv2d(m, n, k, padding=1, bias=False)
    depthwise = nn.Conv2d(m, m, k, padding=1, groups=m, bias=False)
    pointwise = nn.Conv2d(m, n, 1, bias=False)
    x = torch.zeros(1, m, size, size)
    assert standard(x).shape == pointwise(depthwise(x)).shape
    ratio = (_conv_macs(depthwise, size, size) + _conv_macs(pointwise, size, size)) / _conv_macs(
        standard, size, size
    )
    assert ratio == pytest.approx(1 / n + 1 / k**2)
    assert f"{ratio:.3f}" == "0.115" and f"{1 / ratio:.1f}" == "8.7"
    q = bank.questions["ecnn-separable-cost-ratio"]
    assert right_option(q) == "1/256 + 1/9 ≈ 0.115, about 8.7× fewer"


def test_width_multiplier_is_about_quadratic(bank: Bank) -> None:
    def separable_macs(channels_in: int, channels_out: int, size: int = 14) -> int:
        depthwise = nn.Conv2d(channels_in, channels_in, 3, padding=1, groups=channels_in)
        pointwise = nn.Conv2d(channels_in, channels_out, 1)
        return _conv_macs(depthwise, size, size) + _conv_macs(pointwise, size, size)

    ratio = separable_macs(256, 256) / separable_macs(512, 512)
    assert 0.25 < ratio < 0.27  # α² plus a little from the depthwise term (linear in α)
    assert (
        right_option(bank.questions["ecnn-width-multiplier"]) == "About a quarter of the original"
    )


def test_densenet_block_channels(bank: Bank) -> None:
    k0, growth, layers = 64, 32, 6
    convs = [nn.Conv2d(k0 + growth * i, growth, 3, padding=1) for i in range(layers)]
    features = torch.zeros(1, k0, 8, 8)
    for i, conv in enumerate(convs):
        assert features.shape[1] == k0 + growth * i  # layer ℓ = i + 1 sees k0 + k(ℓ − 1)
        features = torch.cat([features, conv(features)], dim=1)
    assert features.shape[1] == 256
    q = bank.questions["ecnn-densenet-channels"]
    assert right_option(q) == "256"
    assert has_option(q, str(k0 + growth * (layers - 1))) and has_option(q, str(growth * layers))


def test_se_block_parameters_for_resnet50(bank: Bank) -> None:
    """SE on every ResNet-50 bottleneck (output channels 256×3, 512×4, 1024×6, 2048×3), r = 16:
    about 2.5M extra parameters, about 10% of ResNet-50's 25.6M."""

    def se(c: int, r: int = 16) -> nn.Module:
        return nn.Sequential(nn.Linear(c, c // r), nn.ReLU(), nn.Linear(c // r, c), nn.Sigmoid())

    stages = [(256, 3), (512, 4), (1024, 6), (2048, 3)]
    extra = sum(blocks * sum(p.numel() for p in se(c).parameters()) for c, blocks in stages)
    assert 2.5e6 < extra < 2.6e6
    assert extra / 25.6e6 == pytest.approx(0.10, abs=0.005)
    answer = texts(bank.questions["ecnn-se-open"].model_answer)
    assert "2.5M extra parameters (≈ 10%, 25.6M → 28.1M)" in answer
    assert right_option(bank.questions["ecnn-se-block"]).startswith("Global pool, FC down by r")
