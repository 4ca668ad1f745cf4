"""Helpers shared by the demo modules (these import torch and matplotlib).

Never import this module from code that runs on the event loop; the demos run in
the runner's worker processes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.demos.base import FigureValue, ProgressFn

K = TypeVar("K", bound=str)

__all__ = ["fmt_sig", "new_figure", "noop_progress", "render_png", "torch_session"]


def noop_progress(_fraction: float) -> None:
    """A progress callback that ignores its argument."""


@contextmanager
def torch_session(seed: int, threads: int = 1) -> Iterator[torch.Generator]:
    """Run torch code reproducibly, leaving the caller's global state as it was.

    Forks the global RNG (module initialisers draw from it) and seeds it, uses
    ``threads`` intra-op threads, enables grad, and yields a seeded
    :class:`torch.Generator` for explicit sampling.

    ``torch.use_deterministic_algorithms`` is deliberately not used: the CPU
    kernels these demos need are deterministic already (the tests check that
    two runs give identical bytes), and its first call imports torch._inductor,
    which costs about a second.
    """
    prev_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        torch.set_num_threads(threads)
        try:
            yield torch.Generator().manual_seed(seed)
        finally:
            torch.set_num_threads(prev_threads)


def new_figure(width_in: float, height_in: float, *, constrained: bool = True) -> Figure:
    """A matplotlib figure on the Agg canvas (no pyplot state involved).

    ``constrained=False``: no layout engine; the caller places the axes (constrained layout
    measures every text and makes saving draw the figure twice, about half of a busy
    figure's rendering time).
    """
    fig = Figure(figsize=(width_in, height_in), layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    return fig


def render_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render ``fig`` to PNG bytes, reproducibly (no software/version metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def fmt_sig(x: float, digits: int = 2) -> str:
    """Format a positive number compactly: 3.1e-12, 0.42, 12, 4.5e+07."""
    if x == 0.0 or x != x:  # zero or NaN
        return f"{x:g}"
    if 1e-3 <= abs(x) < 1e4:
        return f"{float(f'{x:.{digits}g}'):g}"  # 5704 -> "5700", 0.04213 -> "0.042"
    return f"{x:.{max(digits - 1, 0)}e}"


def progress_or_noop(progress: ProgressFn | None) -> ProgressFn:
    """The callback itself, or a no-op when ``None``."""
    return progress if progress is not None else noop_progress


def first_to_last(curve: np.ndarray) -> float:
    """curve[0] / curve[-1], rounded to 7 significant figures (inf if the last is 0)."""
    last = float(curve[-1])
    return float(f"{float(curve[0]) / last:.6e}") if last > 0 else float("inf")


def add_curves(
    figures: dict[str, FigureValue], curves: Mapping[K, np.ndarray], ratios: Mapping[K, float]
) -> None:
    """Each curve and its first-to-last ratio, as `ratio_NAME` and `norms_NAME` figures."""
    for name, curve in curves.items():
        figures[f"ratio_{name}"] = ratios[name]
        figures[f"norms_{name}"] = [float(f"{v:.6e}") for v in curve]
