"""The GAN demo: determinism, mode coverage, the saturation effect, parameters."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError
from torch import nn
from torch.nn import functional as F

from bot.core.validation import validation_message
from bot.demos import gan
from bot.demos.base import DemoParamsError, DemoResult, parse_params
from bot.demos.gan import GanParams, run_gan
from bot.demos.registry import get_spec

from ._helpers import assert_plain_figures, assert_png, assert_same_result, has_cjk


@pytest.fixture(scope="module")
def default_runs() -> tuple[DemoResult, DemoResult]:
    """Two runs at the default settings (ring, non-saturating, seed 0)."""
    return run_gan(GanParams()), run_gan(GanParams())


@pytest.fixture(scope="module")
def minimax_run() -> DemoResult:
    return run_gan(GanParams(loss="minimax"))


def test_default_is_deterministic(default_runs: tuple[DemoResult, DemoResult]) -> None:
    a, b = default_runs
    assert_png(a.png)
    assert_same_result(a, b)
    assert_plain_figures(a)


def test_default_covers_at_least_6_of_8_modes(default_runs: tuple[DemoResult, DemoResult]) -> None:
    f = default_runs[0].figures
    assert f["dist"] == "ring" and f["loss"] == "nonsaturating"
    assert f["modes_total"] == 8
    assert isinstance(f["modes_covered"], int)
    assert f["modes_covered"] >= 6
    assert isinstance(f["quality"], float)
    assert 0.0 <= f["quality"] <= 1.0


@pytest.mark.parametrize("seed", range(8))
def test_default_covers_all_8_modes_on_seeds_0_to_7(seed: int) -> None:
    f = run_gan(GanParams(seed=seed)).figures
    assert f["modes_covered"] == 8
    assert isinstance(f["quality"], float)
    assert f["quality"] >= 0.6  # 0.69-0.82 measured


def _as_sequential(net: gan._Mlp) -> nn.Sequential:
    """An nn.Sequential with ``net``'s parameters (Linear weights are the transposed views)."""
    a1w, b1, a2w, b2, a3w, b3 = (p.detach().clone() for p in net.params)
    act = (lambda: nn.LeakyReLU(0.2)) if net.leaky else nn.ReLU
    model = nn.Sequential(
        nn.Linear(a1w.shape[0], a1w.shape[1]),
        act(),
        nn.Linear(a2w.shape[0], a2w.shape[1]),
        act(),
        nn.Linear(a3w.shape[0], a3w.shape[1]),
    )
    with torch.no_grad():
        for layer, (a, b) in zip(_linears(model), ((a1w, b1), (a2w, b2), (a3w, b3)), strict=True):
            layer.weight.copy_(a.t())
            layer.bias.copy_(b)
    return model


def _linears(model: nn.Sequential) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


def _flat(model: nn.Sequential) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1) for t in model.parameters()])


def _layer_grads(model: nn.Sequential) -> torch.Tensor:
    """The model's parameter gradients in _Mlp's flat order (weights transposed)."""
    parts = []
    for layer in _linears(model):
        assert layer.weight.grad is not None and layer.bias.grad is not None
        parts += [layer.weight.grad.t().reshape(-1), layer.bias.grad]
    return torch.cat(parts)


@pytest.mark.parametrize(("d_in", "d_out", "leaky"), [(2, 2, False), (2, 1, True)])
def test_hand_written_backward_matches_autograd(d_in: int, d_out: int, leaky: bool) -> None:
    torch.manual_seed(5)
    net = gan._Mlp(d_in, d_out, leaky=leaky, lr=1e-3, betas=(0.5, 0.999))
    model = _as_sequential(net)
    x = torch.randn(64, d_in)
    d_y = torch.randn(64, d_out)
    y, cache = net.forward(x)
    net.backward(cache, d_y)
    d_x = net.input_grad(cache, d_y)

    x_ref = x.clone().requires_grad_(True)
    y_ref = model(x_ref)
    torch.autograd.backward(y_ref, d_y)
    torch.testing.assert_close(y, y_ref.detach())
    torch.testing.assert_close(net.grad, _layer_grads(model))
    assert x_ref.grad is not None
    torch.testing.assert_close(d_x, x_ref.grad)


def test_flat_adam_matches_torch_adam() -> None:
    torch.manual_seed(6)
    net = gan._Mlp(2, 1, leaky=True, lr=2e-3, betas=(0.5, 0.999))
    model = _as_sequential(net)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, betas=(0.5, 0.999), foreach=False)
    for lr in (2e-3, 2e-3, 1e-3):
        net.grad.copy_(torch.randn_like(net.grad))
        start = 0
        for layer in _linears(model):  # the same gradient, in the layers' shapes
            w_size, b_size = layer.weight.numel(), layer.bias.numel()
            weight_grad = net.grad[start : start + w_size].view(layer.weight.shape[::-1]).t()
            layer.weight.grad = weight_grad.clone()
            layer.bias.grad = net.grad[start + w_size : start + w_size + b_size].clone()
            start += w_size + b_size
        net.lr = lr
        opt.param_groups[0]["lr"] = lr
        net.adam_step()
        opt.step()
    flat = torch.cat([t.detach().reshape(-1) for t in _as_sequential(net).parameters()])
    torch.testing.assert_close(
        flat, torch.cat([t.detach().reshape(-1) for t in model.parameters()])
    )


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax"])
def test_training_step_matches_autograd_and_torch_adam(loss: str) -> None:
    """One step by hand (D loss and update, G loss and gradient) against the textbook losses
    (binary cross-entropy) through autograd and torch.optim.Adam, on the same random draws."""
    batch = 32
    data = gan._make_data("ring")
    torch.manual_seed(7)
    g_net = gan._Mlp(2, 2, leaky=False, lr=gan.LR, betas=gan.BETAS)
    d_net = gan._Mlp(2, 1, leaky=True, lr=gan.LR, betas=gan.BETAS)
    g_model, d_model = _as_sequential(g_net), _as_sequential(d_net)
    steps = gan._GanSteps(
        g_net, d_net, data, batch, torch.Generator().manual_seed(8), loss == "minimax"
    )
    with torch.inference_mode():  # as in training
        d_fake = steps()
        loss_d, loss_g = (curve[0] for curve in steps.curves())

    gen = torch.Generator().manual_seed(8)  # the same draws, in the same order
    real = data.sample(batch, gen)
    fake = g_model(torch.randn(batch, 2, generator=gen))
    logits = d_model(torch.cat([real, fake.detach()]))
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    ref_d = F.binary_cross_entropy_with_logits(
        logits[:batch], ones
    ) + F.binary_cross_entropy_with_logits(logits[batch:], zeros)
    torch.autograd.backward(ref_d)
    torch.optim.Adam(d_model.parameters(), lr=gan.LR, betas=gan.BETAS, foreach=False).step()
    fake_logits = d_model(fake)
    if loss == "minimax":  # log(1 - D(G(z)))
        ref_g = -F.binary_cross_entropy_with_logits(fake_logits, zeros)
    else:  # -log D(G(z))
        ref_g = F.binary_cross_entropy_with_logits(fake_logits, ones)
    g_model.zero_grad()
    torch.autograd.backward(ref_g)

    torch.testing.assert_close(loss_d, ref_d.detach())
    torch.testing.assert_close(loss_g, ref_g.detach())
    torch.testing.assert_close(d_fake, torch.sigmoid(fake_logits.detach()))
    torch.testing.assert_close(_flat(_as_sequential(d_net)), _flat(d_model))
    torch.testing.assert_close(g_net.grad, _layer_grads(g_model))


def test_minimax_has_smaller_early_generator_gradient(
    default_runs: tuple[DemoResult, DemoResult], minimax_run: DemoResult
) -> None:
    nonsat = default_runs[0].figures
    minimax = minimax_run.figures
    assert isinstance(minimax["g_grad_norm_early"], float)
    assert isinstance(nonsat["g_grad_norm_early"], float)
    assert minimax["g_grad_norm_early"] < nonsat["g_grad_norm_early"]
    # ...because D rejects the fakes early on: the minimax gradient scales with D(G(z)),
    # the non-saturating one with 1 - D(G(z)).
    assert isinstance(minimax["d_fake_early"], float)
    assert minimax["d_fake_early"] < 0.5


def test_caption_gives_the_figures_in_both_languages(
    default_runs: tuple[DemoResult, DemoResult],
) -> None:
    result = default_runs[0]
    f = result.figures
    en, zh = result.caption["en"], result.caption["zh"]
    for text in (en, zh):
        assert f"{f['modes_covered']}/8" in text
        assert str(f["steps"]) in text
        assert f"{f['d_loss_final']:.3f}" in text
        assert f"{f['g_loss_final']:.3f}" in text
        assert f"{result.wall_s:.1f}" in text
    assert "modes" in en and "non-saturating" in en
    assert has_cjk(zh) and "模式" in zh


@pytest.mark.parametrize(
    ("dist", "loss", "modes_total"),
    [("grid", "nonsaturating", 25), ("spiral", "minimax", 8), ("ring", "wgan", 8)],
)
def test_other_settings_run_and_are_deterministic(dist: str, loss: str, modes_total: int) -> None:
    params = GanParams.model_validate(
        {"dist": dist, "loss": loss, "steps": 100, "batch": 64, "seed": 3}
    )
    a, b = run_gan(params), run_gan(params)
    assert_png(a.png)
    assert_same_result(a, b)
    assert a.figures["modes_total"] == modes_total
    assert a.figures["steps"] == 100
    if loss == "wgan":
        assert "gradient penalty" in a.caption["en"] and "lambda = 10" in a.caption["en"]
        assert "梯度惩罚" in a.caption["zh"]
        assert "d_fake_early" not in a.figures
    else:
        assert "d_fake_early" in a.figures


def test_seed_changes_the_result() -> None:
    a = run_gan(GanParams(steps=100, batch=64, seed=1))
    b = run_gan(GanParams(steps=100, batch=64, seed=2))
    assert a.png != b.png


def test_progress_is_monotonic_and_ends_at_one() -> None:
    seen: list[float] = []
    run_gan(GanParams(steps=100, batch=32), progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    assert all(0.0 <= x <= 1.0 for x in seen)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"steps": 10}, "steps"),
        ({"steps": 100_000}, "steps"),
        ({"batch": 4}, "batch"),
        ({"dist": "moons"}, "dist"),
        ({"loss": "hinge"}, "loss"),
        ({"seed": -1}, "seed"),
        ({"lr": 0.1}, "lr"),
    ],
)
def test_invalid_params_give_clear_errors(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError):
        GanParams.model_validate(raw)
    with pytest.raises(DemoParamsError) as info:
        parse_params(GanParams, raw, "gan")
    message = str(info.value)
    assert message.startswith("invalid parameters for gan:")
    assert field in message
    assert info.value.errors and info.value.errors[0]["loc"] == (field,)


def test_work_cap_gives_a_clear_error() -> None:
    GanParams(steps=5000, batch=512)  # 2.56 M: allowed
    GanParams(loss="wgan")  # the default wgan run is allowed
    with pytest.raises(
        DemoParamsError,
        match="with loss nonsaturating and batch 1024, at most 2,929 steps \\(asked for 5,000\\)",
    ):
        parse_params(GanParams, {"steps": 5000, "batch": 1024}, "gan")
    with pytest.raises(DemoParamsError) as wgan:
        parse_params(GanParams, {"steps": 5000, "loss": "wgan"}, "gan")
    assert "with loss wgan and batch 128, at most 1,250 steps" in str(wgan.value)
    GanParams(loss="wgan", steps=1250)  # the most it says is allowed...
    with pytest.raises(DemoParamsError):
        parse_params(GanParams, {"loss": "wgan", "steps": 1251}, "gan")  # ...one more is not
    (error,) = wgan.value.errors
    assert validation_message(error, "zh") == (
        "步数太多：loss 为 wgan、批大小为 128 时最多 1,250 步（你要求 5,000 步）；"
        "请减少步数或减小批大小"
    )


@pytest.mark.parametrize("batch", [32, 128, 512, 1024])
def test_the_largest_gan_runs_allowed_fit_well_inside_the_demo_timeout(batch: int) -> None:
    """A wgan step costs about ten hand-written ones: the cap counts it so, and the largest
    run allowed of either kind is estimated (by the runner's cost model, from measured step
    times) at under 60% of BOT_DEMO_TIMEOUT's default 30 s. The cap once allowed 3,906 wgan
    steps of 128, about 34 s."""
    spec = get_spec("gan")
    for loss in ("nonsaturating", "wgan"):
        steps = max(
            s for s in range(100, 5001, 10) if _allowed(GanParams, loss=loss, steps=s, batch=batch)
        )
        assert spec.cost(GanParams(loss=loss, steps=steps, batch=batch)) < 18.0, (loss, steps)
    assert _allowed(GanParams, loss="wgan")  # the default wgan run stays allowed
    assert not _allowed(GanParams, loss="wgan", steps=3000)


def _allowed(model: type[GanParams], **values: object) -> bool:
    try:
        model(**values)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True
