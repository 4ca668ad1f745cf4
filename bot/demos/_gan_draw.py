"""The GAN demo's picture (bot/demos/gan.py trains; this draws what the training left)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize

from bot.demos._util import new_figure, render_png

_REAL_COLOR: Final = "#1a9641"
_FAKE_COLOR: Final = "#7b3294"
_D_COLOR: Final = "#d95f02"


@dataclass(frozen=True)
class Trained:
    """What a training run leaves for the picture, the figures and the caption."""

    snapshots: list[np.ndarray]
    snap_steps: list[int]
    d_curve: np.ndarray
    g_curve: np.ndarray
    early_grad_norm: float
    d_fake_early: float | None
    modes: int
    quality: float
    field: np.ndarray  # D(x) (probability) or critic score on a FIELD_RES^2 grid
    real: np.ndarray


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    return np.convolve(values, np.ones(window) / window, mode="valid")


def _scatter(ax: Axes, real: np.ndarray, fake: np.ndarray, lim: float, title: str) -> None:
    ax.scatter(real[:, 0], real[:, 1], s=4, c=_REAL_COLOR, alpha=0.5, linewidths=0, label="real")
    ax.scatter(
        fake[:, 0], fake[:, 1], s=4, c=_FAKE_COLOR, alpha=0.6, linewidths=0, label="generated"
    )
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


def draw(run: Trained, lim: float, n_modes: int, *, wgan: bool, title: str) -> bytes:
    """The picture: snapshots of real and generated samples, D(x) or the critic's field
    under the last one, and the loss curves."""
    # A fixed layout (no constrained layout): it measured every text and drew twice, about half
    # of the rendering time; these margins fit the titles, the colour bar and the loss axes.
    fig = new_figure(12.0, 6.0, constrained=False)
    n = len(run.snapshots)
    grid = fig.add_gridspec(
        2,
        n,
        height_ratios=[1.25, 1.0],
        left=0.055,
        right=0.945,
        top=0.90,
        bottom=0.085,
        hspace=0.22,
        wspace=0.06,
    )
    for i, (snap, step) in enumerate(zip(run.snapshots, run.snap_steps, strict=True)):
        ax = fig.add_subplot(grid[0, i])
        title = f"step {step}"
        if i == n - 1:
            low, high = (float(run.field.min()), float(run.field.max())) if wgan else (0.0, 1.0)
            image = ax.imshow(
                run.field,
                extent=(-lim, lim, -lim, lim),
                origin="lower",
                cmap="PiYG",
                norm=Normalize(low, high),
                alpha=0.55,
                interpolation="bilinear",
            )
            cbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
            cbar.set_label("critic score" if wgan else "D(x)", fontsize=9)
            cbar.ax.tick_params(labelsize=8)
            title += f"  ({run.modes}/{n_modes} modes)"
        _scatter(ax, run.real, snap, lim, title)
        if i == 0:
            ax.legend(loc="lower left", fontsize=8, markerscale=3, framealpha=0.8)
    ax_loss = fig.add_subplot(grid[1, :])
    x = np.arange(1, len(run.d_curve) + 1)
    window = max(1, len(run.d_curve) // 50)
    d_name = "critic loss" if wgan else "D loss"
    for curve, name, color in (
        (run.d_curve, d_name, _D_COLOR),
        (run.g_curve, "G loss", _FAKE_COLOR),
    ):
        ax_loss.plot(x, curve, color=color, alpha=0.2, linewidth=0.6)
        ax_loss.plot(
            x[window - 1 :], _smooth(curve, window), color=color, linewidth=1.6, label=name
        )
    ax_loss.set_xlabel("generator step", labelpad=1)
    ax_loss.set_ylabel("loss")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(loc="upper right", fontsize=9)
    fig.suptitle(title, fontsize=12)
    return render_png(fig)
