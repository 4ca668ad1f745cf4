"""A tiny GAN on 2-D toy data, drawn in the spirit of GAN Lab.

Setup (fixed and documented; only the fields of :class:`GanParams` vary):

* data: ``ring`` = 8 Gaussians on a circle of radius 2; ``grid`` = 5x5 Gaussians
  at {-2, -1, 0, 1, 2}^2; both with standard deviation 0.05. ``spiral`` = points
  on a 1.75-turn spiral (uniform in arc length) plus Gaussian noise of standard
  deviation 0.05; its "modes" are 8 segments of equal arc length.
* generator: z ~ N(0, I_2) -> 96 -> 96 -> 2 (ReLU); discriminator / critic:
  2 -> 96 -> 96 -> 1 (LeakyReLU 0.2); PyTorch's default initialisation.
* ``minimax`` and ``nonsaturating``: one D step then one G step per training
  step (the G step reuses the D step's fake batch, as in the DCGAN recipe),
  Adam(lr 2e-3, betas (0.5, 0.999)) for both nets. D minimises
  -log D(x) - log(1 - D(G(z))). G minimises log(1 - D(G(z))) (minimax, the
  original game) or -log D(G(z)) (non-saturating, Goodfellow et al. 2014).
* ``wgan`` is **WGAN-GP** (Gulrajani et al. 2017): the critic C minimises
  E[C(G(z))] - E[C(x)] + 10 * E[(||grad C(x_hat)|| - 1)^2] on random interpolates
  x_hat (gradient penalty, lambda = 10), 5 critic steps per generator step,
  G minimises -E[C(G(z))]; Adam betas (0, 0.9), lr 1e-3 (critic) and 3e-4 (G).
  With 5 critic steps (through autograd) each generator step costs about 10x more.
* all losses: the learning rate decays linearly to 10% over the second half.
* metrics, on 2,048 samples from a fixed noise batch after training: a sample is
  "good" when it lies within 3 standard deviations of a mode centre (for the
  spiral: of the curve); a mode counts as covered when at least 2% of all
  samples are good and nearest to it. "Quality" is the share of good samples.
  The early generator gradient norm is the mean global L2 norm of
  dL_G/dtheta_G over the first 20 generator steps; ``d_fake_early`` is the mean
  D(G(z)) the generator saw in those steps (not for wgan, whose critic does not
  output probabilities).

Implementation: each net's parameters are one flat vector, and for ``minimax`` and
``nonsaturating`` the gradients are written by hand (the backward pass of a 3-layer
MLP and of the two losses) and Adam updates the whole vector at once (see
:class:`_Mlp`): the same algorithm as ``nn.Linear`` + autograd + ``torch.optim.Adam``,
the tests check it against them, in about a third of the time, since with nets this
small a step was mostly per-call overhead. ``wgan``'s gradient penalty needs a
gradient of a gradient, so its steps go through autograd on the same parameters.

Measured on a 2-core machine (seed 0, defaults: 1,200 steps of batch 128, 1 thread):
the ring: 8/8 modes (8/8 for seeds 0-7 too, 69-82% good samples); the spiral: 8/8
segments; the 5x5 grid is much harder for nets this small: 0/25 at 1,200 steps,
11-20/25 at 5,000 (seeds 0-9, mean 14; a run this long is chaotic: nn.Linear +
autograd + torch.optim.Adam, the same algorithm rounded differently, gave 6-19, mean
15); wgan: 5/8. (Batch 256
covered the same modes on seeds 0-7 at twice the cost; the README's Benchmarks
section has the times.)

The minimax loss's gradient with respect to D's logit on a fake is -D(G(z)),
the non-saturating loss's is -(1 - D(G(z))): whenever D rejects the fakes
(D(G(z)) < 0.5) the minimax gradient is the smaller one, the more so the more
confident D is. In this toy D is only mildly confident over the first 20 steps
(D(G(z)) ~ 0.4), so the minimax gradient is smaller by 7-53% (seeds 0-7), not
by orders of magnitude; the caption reports D(G(z)) so the user can see why.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Final

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bot.demos._gan_draw import Trained as _Trained
from bot.demos._gan_draw import draw
from bot.demos._util import fmt_sig, progress_or_noop, torch_session
from bot.demos.base import DemoResult, FigureValue, ProgressFn
from bot.demos.params import GanParams

__all__ = ["GanParams", "run_gan"]

Z_DIM: Final = 2
HIDDEN: Final = 96
STD: Final = 0.05
LR: Final = 2e-3
BETAS: Final = (0.5, 0.999)
GP_LAMBDA: Final = 10.0
N_CRITIC: Final = 5
WGAN_LR_CRITIC: Final = 1e-3
WGAN_LR_G: Final = 3e-4
WGAN_BETAS: Final = (0.0, 0.9)
ADAM_EPS: Final = 1e-8  # torch.optim.Adam's default
LEAKY_SLOPE: Final = 0.2
LR_FINAL: Final = 0.1
EARLY_STEPS: Final = 20
EVAL_SAMPLES: Final = 2048
PLOT_SAMPLES: Final = 512
MODE_MIN_SHARE: Final = 0.02
LOSS_TAIL: Final = 50
FIELD_RES: Final = 96

_DIST_LABEL: Final = {
    "ring": ("ring (8 Gaussians)", "环形（8 个高斯）"),
    "grid": ("grid (5x5 Gaussians)", "网格（5x5 个高斯）"),
    "spiral": ("spiral", "螺旋"),
}
_LOSS_LABEL: Final = {
    "minimax": ("minimax (saturating) loss", "极小极大（饱和）损失"),
    "nonsaturating": ("non-saturating loss", "非饱和损失"),
    "wgan": ("WGAN-GP loss", "WGAN-GP 损失"),
}


@dataclass(frozen=True)
class _ToyData:
    """A 2-D toy distribution: ``centres[i] + std * N(0, I)``, ``i`` uniform."""

    centres: Tensor  # (K, 2)
    labels: Tensor  # (K,) mode index of each centre
    n_modes: int
    std: float
    lim: float  # half-width of the plotted square

    def sample(self, n: int, gen: torch.Generator) -> Tensor:
        idx = torch.randint(0, self.centres.shape[0], (n,), generator=gen)
        return self.centres[idx] + self.std * torch.randn(n, 2, generator=gen)


def _make_data(dist: str) -> _ToyData:
    if dist == "ring":
        angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
        centres = 2.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
        return _ToyData(centres.float(), torch.arange(8), 8, STD, 2.8)
    if dist == "grid":
        axis = torch.arange(-2, 3, dtype=torch.float32)
        gx, gy = torch.meshgrid(axis, axis, indexing="ij")
        centres = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
        return _ToyData(centres, torch.arange(25), 25, STD, 2.8)
    if dist == "spiral":
        # r = 0.3 + 1.9 t, theta = 3.5 pi t, resampled to 800 points equally spaced in arc length
        n_ref = 800
        t = torch.linspace(0.0, 1.0, 4001, dtype=torch.float64)
        theta = 3.5 * math.pi * t
        radius = 0.3 + 1.9 * t
        curve = torch.stack([radius * torch.cos(theta), radius * torch.sin(theta)], dim=1)
        seg = (curve[1:] - curve[:-1]).norm(dim=1)
        arc = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(seg, 0)])
        targets = torch.linspace(0.0, float(arc[-1]), n_ref, dtype=torch.float64)
        pos = torch.searchsorted(arc, targets).clamp(1, len(arc) - 1)
        w = ((targets - arc[pos - 1]) / (arc[pos] - arc[pos - 1])).unsqueeze(1)
        points = curve[pos - 1] * (1 - w) + curve[pos] * w
        labels = torch.div(torch.arange(n_ref) * 8, n_ref, rounding_mode="floor")
        return _ToyData(points.float(), labels, 8, STD, 2.8)
    raise ValueError(f"unknown dist {dist!r}")


def _mlp(d_in: int, d_out: int, leaky: bool) -> nn.Sequential:
    def act() -> nn.Module:
        return nn.LeakyReLU(LEAKY_SLOPE) if leaky else nn.ReLU()

    return nn.Sequential(
        nn.Linear(d_in, HIDDEN), act(), nn.Linear(HIDDEN, HIDDEN), act(), nn.Linear(HIDDEN, d_out)
    )


# What backward needs of a forward: the input, each hidden layer's pre-activation and output.
_Cache = tuple[Tensor, Tensor, Tensor, Tensor, Tensor]


class _Mlp:
    """d_in -> HIDDEN -> HIDDEN -> d_out (ReLU or LeakyReLU 0.2), trained with Adam.

    Why not ``nn.Sequential`` and ``torch.optim.Adam``: the nets are so small that a training
    step was mostly per-call overhead (autograd's graph, the optimizer's Python loop over six
    tensors), about 1.7 ms a step. Here the parameters live in one flat vector ``theta`` (views
    ``A1, b1, A2, b2, A3, b3``, where ``A = W.T`` is the Linear weight transposed, so that each
    layer is ``addmm(b, h, A)`` and each backward product has a shape MKL is quick at), their
    gradients in ``grad``; :meth:`backward` writes the gradients by hand and :meth:`adam_step`
    is torch's Adam update (``foreach=False``, the same operations) on the whole vector at once.
    The initial parameters are PyTorch's default initialisation of the same ``nn.Linear``
    layers; the tests check the gradients against autograd and the update against
    ``torch.optim.Adam``.

    ``autograd=True`` (WGAN-GP, whose gradient penalty needs a gradient of a gradient): the
    parameter views require grad, and the caller gets gradients from autograd
    (:meth:`set_grad`).
    """

    def __init__(
        self,
        d_in: int,
        d_out: int,
        *,
        leaky: bool,
        lr: float,
        betas: tuple[float, float],
        autograd: bool = False,
    ) -> None:
        linears = [m for m in _mlp(d_in, d_out, leaky) if isinstance(m, nn.Linear)]
        shapes = [
            shape
            for lin in linears
            for shape in ((lin.in_features, lin.out_features), (lin.out_features,))
        ]
        sizes = [math.prod(shape) for shape in shapes]
        with torch.no_grad():
            self.theta = torch.cat(
                [t.reshape(-1) for lin in linears for t in (lin.weight.t(), lin.bias)]
            )
        self.grad = torch.zeros_like(self.theta)
        self.params = [
            v.view(s) for v, s in zip(torch.split(self.theta, sizes), shapes, strict=True)
        ]
        self.grads = [v.view(s) for v, s in zip(torch.split(self.grad, sizes), shapes, strict=True)]
        if autograd:
            for p in self.params:
                p.requires_grad_(True)
        self._weights_t = [self.params[i].detach().t() for i in (0, 2, 4)]  # W (views of theta)
        self.leaky = leaky
        self.lr = lr
        self.betas = betas
        self._exp_avg = torch.zeros_like(self.theta)
        self._exp_avg_sq = torch.zeros_like(self.theta)
        self._step = 0

    def _act(self, a: Tensor) -> Tensor:
        return F.leaky_relu(a, LEAKY_SLOPE) if self.leaky else F.relu(a)

    def _act_backward(self, d: Tensor, a: Tensor) -> Tensor:
        # The kernels autograd itself uses for these activations.
        if self.leaky:
            out: Tensor = torch.ops.aten.leaky_relu_backward(d, a, LEAKY_SLOPE, False)
        else:
            out = torch.ops.aten.threshold_backward(d, a, 0.0)
        return out

    def forward(self, x: Tensor) -> tuple[Tensor, _Cache]:
        a1w, b1, a2w, b2, a3w, b3 = self.params
        a1 = torch.addmm(b1, x, a1w)
        h1 = self._act(a1)
        a2 = torch.addmm(b2, h1, a2w)
        h2 = self._act(a2)
        return torch.addmm(b3, h2, a3w), (x, a1, h1, a2, h2)

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)[0]

    def backward(self, cache: _Cache, d_out: Tensor) -> None:
        """Write d(loss)/d(theta) into ``grad``, given ``d_out`` = d(loss)/d(output)."""
        self._backprop(cache, d_out, params=True)

    def input_grad(self, cache: _Cache, d_out: Tensor) -> Tensor:
        """d(loss)/d(input), given ``d_out`` = d(loss)/d(output); ``grad`` is left alone."""
        d_x = self._backprop(cache, d_out, params=False)
        assert d_x is not None
        return d_x

    def _backprop(self, cache: _Cache, d_out: Tensor, *, params: bool) -> Tensor | None:
        x, a1, h1, a2, h2 = cache
        w1, w2, w3 = self._weights_t
        g_a1w, g_b1, g_a2w, g_b2, g_a3w, g_b3 = self.grads
        if params:
            torch.mm(h2.t(), d_out, out=g_a3w)
            torch.sum(d_out, 0, out=g_b3)
        d_a2 = self._act_backward(torch.mm(d_out, w3), a2)
        if params:
            torch.mm(h1.t(), d_a2, out=g_a2w)
            torch.sum(d_a2, 0, out=g_b2)
        d_a1 = self._act_backward(torch.mm(d_a2, w2), a1)
        if params:
            torch.mm(x.t(), d_a1, out=g_a1w)
            torch.sum(d_a1, 0, out=g_b1)
            return None
        return torch.mm(d_a1, w1)

    def set_grad(self, grads: tuple[Tensor, ...]) -> None:
        """Store autograd's gradients (one per parameter view) in ``grad``."""
        torch.cat([g.reshape(-1) for g in grads], out=self.grad)

    def adam_step(self) -> None:
        """One Adam update of ``theta`` from ``grad`` at the current ``lr``."""
        beta1, beta2 = self.betas
        self._step += 1
        self._exp_avg.lerp_(self.grad, 1 - beta1)
        self._exp_avg_sq.mul_(beta2).addcmul_(self.grad, self.grad, value=1 - beta2)
        step_size = self.lr / (1 - beta1**self._step)
        bias_correction2_sqrt = (1 - beta2**self._step) ** 0.5
        denom = (self._exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(ADAM_EPS)
        with torch.no_grad():
            self.theta.addcdiv_(self._exp_avg, denom, value=-step_size)


def _gradient_penalty(critic: _Mlp, real: Tensor, fake: Tensor, gen: torch.Generator) -> Tensor:
    eps = torch.rand(real.shape[0], 1, generator=gen)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return torch.square(grad.norm(dim=1) - 1.0).mean()


class _GanSteps:
    """``minimax`` / ``nonsaturating``: one D step then one G step on the same fake batch,
    gradients by hand. The losses are worked out from the logits after training (one
    batched op instead of several per step)."""

    def __init__(
        self,
        g_net: _Mlp,
        d_net: _Mlp,
        data: _ToyData,
        batch: int,
        gen: torch.Generator,
        minimax: bool,
    ) -> None:
        self.g_net, self.d_net, self.data, self.batch, self.gen = g_net, d_net, data, batch, gen
        self.minimax = minimax
        # -log D(x) - log(1 - D(G(z))) with D = sigmoid(a) is softplus(-a) + softplus(a) summed
        # over the real and fake logits a; its gradient with respect to a is sigmoid(a) - target.
        self.target = torch.cat([torch.ones(batch, 1), torch.zeros(batch, 1)])
        self.sign = 1.0 - 2.0 * self.target
        self.logits: list[Tensor] = []  # D's logits on [real; fake] at each D step
        self.fake_logits: list[Tensor] = []  # the updated D's logits on the fakes, at each G step

    def __call__(self) -> Tensor:
        """One training step; returns D(G(z)) as the G step saw it. Leaves G's gradient in
        ``g_net.grad`` (the caller reads its norm, then updates G)."""
        g_net, d_net, batch = self.g_net, self.d_net, self.batch
        real = self.data.sample(batch, self.gen)
        fake, g_cache = g_net.forward(torch.randn(batch, Z_DIM, generator=self.gen))
        logits, d_cache = d_net.forward(torch.cat([real, fake]))
        d_net.backward(d_cache, (torch.sigmoid(logits) - self.target).div_(batch))
        d_net.adam_step()
        fake_logits, cache = d_net.forward(fake)
        d_fake = torch.sigmoid(fake_logits)
        if self.minimax:  # log(1 - D(G(z))) = -softplus(a): gradient -sigmoid(a)
            d_logits = d_fake / -batch
        else:  # -log D(G(z)) = softplus(-a): gradient sigmoid(a) - 1
            d_logits = (d_fake - 1.0).div_(batch)
        g_net.backward(g_cache, d_net.input_grad(cache, d_logits))
        self.logits.append(logits)
        self.fake_logits.append(fake_logits)
        return d_fake

    def curves(self) -> tuple[Tensor, Tensor]:
        """The D and G loss of every step."""
        d_curve = F.softplus(torch.stack(self.logits) * self.sign).sum(dim=(1, 2)) / self.batch
        fake = torch.stack(self.fake_logits)
        if self.minimax:
            g_curve = -F.softplus(fake).sum(dim=(1, 2)) / self.batch
        else:
            g_curve = F.softplus(-fake).sum(dim=(1, 2)) / self.batch
        return d_curve, g_curve


class _WganSteps:
    """``wgan``: N_CRITIC critic steps (with the gradient penalty) then one G step, through
    autograd."""

    def __init__(
        self, g_net: _Mlp, d_net: _Mlp, data: _ToyData, batch: int, gen: torch.Generator
    ) -> None:
        self.g_net, self.d_net, self.data, self.batch, self.gen = g_net, d_net, data, batch, gen
        self.d_losses: list[Tensor] = []
        self.g_losses: list[Tensor] = []

    def __call__(self) -> None:
        """One training step; leaves G's gradient in ``g_net.grad``."""
        g_net, d_net, batch, gen = self.g_net, self.d_net, self.batch, self.gen
        for _ in range(N_CRITIC):
            real = self.data.sample(batch, gen)
            fake = g_net(torch.randn(batch, Z_DIM, generator=gen))
            with torch.enable_grad():
                scores = d_net(torch.cat([real, fake]))
                penalty = _gradient_penalty(d_net, real, fake, gen)
                loss_d = scores[batch:].mean() - scores[:batch].mean() + GP_LAMBDA * penalty
                d_net.set_grad(torch.autograd.grad(loss_d, d_net.params))
            d_net.adam_step()
        with torch.enable_grad():
            loss_g = -d_net(g_net(torch.randn(batch, Z_DIM, generator=gen))).mean()
            g_net.set_grad(torch.autograd.grad(loss_g, g_net.params))
        self.d_losses.append(loss_d.detach())
        self.g_losses.append(loss_g.detach())

    def curves(self) -> tuple[Tensor, Tensor]:
        """The critic and G loss of every step."""
        return torch.stack(self.d_losses), torch.stack(self.g_losses)


def _train(params: GanParams, data: _ToyData, gen: torch.Generator, report: ProgressFn) -> _Trained:
    steps, batch = params.steps, params.batch
    wgan = params.loss == "wgan"
    snap_steps = sorted({0, steps // 10, (2 * steps) // 5, steps})
    betas = WGAN_BETAS if wgan else BETAS
    lr_g, lr_d = (WGAN_LR_G, WGAN_LR_CRITIC) if wgan else (LR, LR)
    g_net = _Mlp(Z_DIM, 2, leaky=False, lr=lr_g, betas=betas, autograd=wgan)
    d_net = _Mlp(2, 1, leaky=True, lr=lr_d, betas=betas, autograd=wgan)
    z_eval = torch.randn(EVAL_SAMPLES, Z_DIM, generator=gen)
    train_step: _GanSteps | _WganSteps
    if wgan:
        train_step = _WganSteps(g_net, d_net, data, batch, gen)
    else:
        train_step = _GanSteps(g_net, d_net, data, batch, gen, params.loss == "minimax")

    snapshots: list[np.ndarray] = []
    early_norms: list[float] = []
    early_d_fake: list[float] = []
    tick = max(1, steps // 20)
    # wgan's steps turn autograd on where they need it; the others never need it.
    with torch.no_grad() if wgan else torch.inference_mode():
        for step in range(steps + 1):
            if step in snap_steps:
                snapshots.append(g_net(z_eval[:PLOT_SAMPLES]).numpy().copy())
            if step == steps:
                break
            d_fake = train_step()
            if step < EARLY_STEPS:
                early_norms.append(float(torch.linalg.vector_norm(g_net.grad)))
                if d_fake is not None:
                    early_d_fake.append(float(d_fake.mean()))
            g_net.adam_step()
            if step >= steps // 2:  # linear decay to LR_FINAL over the second half
                frac = (step + 1 - steps // 2) / (steps - steps // 2)
                g_net.lr = lr_g * (1.0 - (1.0 - LR_FINAL) * frac)
                d_net.lr = lr_d * (1.0 - (1.0 - LR_FINAL) * frac)
            if step % tick == 0:
                report(0.9 * step / steps)

        d_curve, g_curve = train_step.curves()
        modes, quality = _evaluate(g_net(z_eval), data)
        axis = torch.linspace(-data.lim, data.lim, FIELD_RES)
        gy, gx = torch.meshgrid(axis, axis, indexing="ij")
        out = d_net(torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)).reshape(FIELD_RES, -1)
        field = (out if wgan else torch.sigmoid(out)).numpy().copy()
        real_plot = data.sample(PLOT_SAMPLES, gen).numpy().copy()
    return _Trained(
        snapshots=snapshots,
        snap_steps=snap_steps,
        d_curve=d_curve.numpy().copy(),
        g_curve=g_curve.numpy().copy(),
        early_grad_norm=float(np.mean(early_norms)),
        d_fake_early=float(np.mean(early_d_fake)) if early_d_fake else None,
        modes=modes,
        quality=quality,
        field=field,
        real=real_plot,
    )


def _evaluate(samples: Tensor, data: _ToyData) -> tuple[int, float]:
    """(modes covered, share of samples within 3 std of a mode)."""
    nearest_d, nearest_i = torch.cdist(samples.double(), data.centres.double()).min(dim=1)
    good = nearest_d <= 3 * data.std
    counts = torch.bincount(data.labels[nearest_i[good]], minlength=data.n_modes)
    covered = int((counts >= MODE_MIN_SHARE * samples.shape[0]).sum())
    return covered, float(good.double().mean())


def run_gan(params: GanParams, progress: ProgressFn | None = None) -> DemoResult:
    """Train a tiny GAN on 2-D toy data and draw it (see the module docstring).

    Figures: dist, loss, steps, batch, seed, modes_covered, modes_total, quality,
    d_loss_final and g_loss_final (means over the last 50 steps),
    g_grad_norm_early, d_fake_early (absent for wgan), snapshot_steps.
    """
    report = progress_or_noop(progress)
    t_start = time.perf_counter()
    data = _make_data(params.dist)
    with torch_session(params.seed) as gen:
        run = _train(params, data, gen, report)
    tail = min(LOSS_TAIL, params.steps)
    figures: dict[str, FigureValue] = {
        "dist": params.dist,
        "loss": params.loss,
        "steps": params.steps,
        "batch": params.batch,
        "seed": params.seed,
        "modes_covered": run.modes,
        "modes_total": data.n_modes,
        "quality": round(run.quality, 6),
        "d_loss_final": round(float(run.d_curve[-tail:].mean()), 6),
        "g_loss_final": round(float(run.g_curve[-tail:].mean()), 6),
        "g_grad_norm_early": round(run.early_grad_norm, 8),
        "snapshot_steps": list(run.snap_steps),
    }
    if run.d_fake_early is not None:
        figures["d_fake_early"] = round(run.d_fake_early, 6)
    report(0.9)
    title = f"GAN on {_DIST_LABEL[params.dist][0]}, {_LOSS_LABEL[params.loss][0]}"
    if params.loss == "wgan":
        title += f" (gradient penalty, lambda={GP_LAMBDA:g})"
    png = draw(run, data.lim, data.n_modes, wgan=params.loss == "wgan", title=title)
    wall = time.perf_counter() - t_start
    caption = _caption(params, data, run, figures, wall)
    report(1.0)
    return DemoResult(png=png, figures=figures, caption=caption, wall_s=wall)


def _caption(
    params: GanParams, data: _ToyData, run: _Trained, f: dict[str, FigureValue], wall: float
) -> dict[str, str]:
    dist_en, dist_zh = _DIST_LABEL[params.dist]
    loss_en, loss_zh = _LOSS_LABEL[params.loss]
    spiral = params.dist == "spiral"
    unit_en = "segments" if spiral else "modes"
    unit_zh = "段" if spiral else "个模式"
    d_fin, g_fin = f["d_loss_final"], f["g_loss_final"]
    early = fmt_sig(run.early_grad_norm, 3)
    en = (
        f"GAN on {dist_en}, {loss_en}: {params.steps} steps in {wall:.1f} s. "
        f"It covers {run.modes}/{data.n_modes} {unit_en} (covered = at least 2% of samples "
        f"within 3 std of it); {run.quality:.0%} of samples lie within 3 std of some mode. "
        f"Final losses (mean of the last {LOSS_TAIL} steps): D {d_fin:.3f}, G {g_fin:.3f}. "
        f"Generator gradient norm early on (mean over the first {EARLY_STEPS} steps): {early}"
    )
    zh = (
        f"在{dist_zh}数据上用{loss_zh}训练 GAN：{params.steps} 步，用时 {wall:.1f} 秒。"
        f"覆盖 {run.modes}/{data.n_modes} {unit_zh}"
        f"（至少 2% 的样本落在其 3 个标准差以内才算覆盖）；"
        f"{run.quality:.0%} 的样本落在某个模式的 3 个标准差以内。"
        f"最终损失（最后 {LOSS_TAIL} 步平均）：D {d_fin:.3f}，G {g_fin:.3f}。"
        f"训练初期生成器梯度范数（前 {EARLY_STEPS} 步平均）：{early}"
    )
    if run.d_fake_early is not None:
        d0 = f"{run.d_fake_early:.2f}"
        en += f", while D(G(z)) averaged {d0}."
        zh += f"，此间 D(G(z)) 平均为 {d0}。"
    else:
        en += "."
        zh += "。"
    if params.loss == "minimax":
        en += (
            " The minimax loss scales G's gradient by D(G(z)), the non-saturating one by"
            " 1 - D(G(z)): the more confidently D rejects the fakes, the weaker the minimax signal."
        )
        zh += (
            "极小极大损失给生成器的梯度按 D(G(z)) 缩放，非饱和损失按 1 - D(G(z)) 缩放："
            "判别器越自信地识破假样本，极小极大损失的梯度就越弱。"
        )
    if params.loss == "wgan":
        en += (
            f" WGAN-GP: Wasserstein critic with a gradient penalty (lambda = {GP_LAMBDA:g}),"
            f" {N_CRITIC} critic steps per generator step."
        )
        zh += (
            f"WGAN-GP：Wasserstein 判别器（critic）加梯度惩罚（λ = {GP_LAMBDA:g}），"
            f"每个生成器步训练 critic {N_CRITIC} 步。"
        )
    if params.dist == "grid" and run.modes < data.n_modes // 2:
        en += " The 25-mode grid needs far longer training than the ring: try steps=5000."
        zh += "25 个模式的网格比环形难得多，需要更长的训练：试试 steps=5000。"
    if params.dist == "spiral":
        en += " For the spiral, the modes are 8 arc segments and 'within 3 std' means of the curve."
        zh += "螺旋数据的“模式”是等长的 8 段弧，“3 个标准差以内”指离曲线的距离。"
    return {"en": en, "zh": zh}
