"""The GAN demo: determinism, mode coverage, the saturation effect, parameters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.demos.base import DemoParamsError, DemoResult, parse_params
from bot.demos.gan import GanParams, run_gan

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
    with pytest.raises(DemoParamsError, match="too much work: steps x batch = 5,120,000"):
        parse_params(GanParams, {"steps": 5000, "batch": 1024}, "gan")
    with pytest.raises(DemoParamsError, match=r"steps x batch x 6 \(wgan\)"):
        parse_params(GanParams, {"steps": 5000, "loss": "wgan"}, "gan")
