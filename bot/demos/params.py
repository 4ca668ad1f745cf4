"""Parameter models of the demos (pydantic), importable without torch.

The runner validates a request's parameters in the bot process with these
models before anything is queued, so a bad request fails at once with a clear
:class:`~bot.demos.base.DemoParamsError`.
"""

from __future__ import annotations

from typing import Final, Literal, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from bot.demos.base import DemoParams

__all__ = [
    "CrashParams",
    "GanParams",
    "RnnParams",
    "SleepParams",
    "VanishingParams",
]

_SEED_MAX = 2**31 - 1
#: Cap on a GAN run's work, so that a request cannot ask for minutes of CPU: steps x batch,
#: or for wgan (5 critic steps with a gradient penalty through autograd, then a generator step)
#: steps x (batch + WGAN_STEP_OVERHEAD) x WGAN_WEIGHT, as a wgan step costs about
#: 4.3 ms + 0.022 ms per sample against 0.6 ms for a hand-written step of 128 samples
#: (measured on a 2-core machine, 2026-12-06). The default run is 1200 x 128 = 153,600 (about
#: 1 s, picture included); the largest allowed runs take about 11 s of a core (5,000 x 512;
#: wgan: 1,250 steps of 128, 1,785 of 32, 568 of 512), under BOT_DEMO_TIMEOUT's 30 s.
GAN_MAX_WORK: Final = 3_000_000
WGAN_STEP_OVERHEAD: Final = 192
WGAN_WEIGHT: Final = 7.5


class GanParams(DemoParams):
    """Tiny GAN on 2-D toy data.

    ``loss="wgan"`` means WGAN-GP: a Wasserstein critic trained with a gradient
    penalty (lambda = 10) and several critic steps per generator step.
    """

    dist: Literal["ring", "grid", "spiral"] = Field(
        default="ring", description="ring: 8 Gaussians on a circle; grid: 5x5 Gaussians; spiral"
    )
    loss: Literal["minimax", "nonsaturating", "wgan"] = Field(
        default="nonsaturating", description="generator loss; wgan = WGAN-GP (lambda 10)"
    )
    steps: int = Field(default=1200, ge=100, le=5000, description="generator steps")
    batch: int = Field(default=128, ge=32, le=1024, description="samples per batch")
    seed: int = Field(default=0, ge=0, le=_SEED_MAX)

    @model_validator(mode="after")
    def _limit_work(self) -> Self:
        """At most GAN_MAX_WORK of work: steps x batch, a wgan step counting as
        (batch + WGAN_STEP_OVERHEAD) x WGAN_WEIGHT. Said as the most steps this batch allows
        (Discord's /demo gan has no batch option), in both languages (bot/core/validation.py
        has the Chinese of `gan_too_many_steps`)."""
        per_step = (
            (self.batch + WGAN_STEP_OVERHEAD) * WGAN_WEIGHT if self.loss == "wgan" else self.batch
        )
        if round(self.steps * per_step) > GAN_MAX_WORK:
            raise PydanticCustomError(
                "gan_too_many_steps",
                "too many steps: with loss {loss} and batch {batch}, at most {most} steps "
                "(asked for {steps}); use fewer steps or a smaller batch",
                {
                    "loss": self.loss,
                    "batch": self.batch,
                    "most": f"{int(GAN_MAX_WORK // per_step):,}",
                    "steps": f"{self.steps:,}",
                },
            )
        return self


class RnnParams(DemoParams):
    """Gradient norm ||dL/dh_t|| over time for a vanilla RNN, an LSTM and a GRU."""

    cell: Literal["rnn", "lstm", "gru", "all"] = "all"
    T: int = Field(default=100, ge=2, le=200, description="sequence length")
    hidden: int = Field(default=64, ge=4, le=256, description="hidden size")
    seed: int = Field(default=0, ge=0, le=_SEED_MAX)


class VanishingParams(DemoParams):
    """Per-layer weight-gradient norm of a deep MLP (sigmoid, tanh, ReLU)."""

    activation: Literal["sigmoid", "tanh", "relu", "all"] = "all"
    layers: int = Field(default=20, ge=2, le=60, description="number of linear layers")
    width: int = Field(default=128, ge=8, le=256, description="units per layer")
    seed: int = Field(default=0, ge=0, le=_SEED_MAX)


class SleepParams(DemoParams):
    """Test-only demo: sleeps, reporting progress. Registered only on request.

    With ``gate`` (a file path), it waits until that file exists instead of sleeping
    (60 s at most), so a test decides when the job ends rather than racing a clock;
    ``seconds`` still sets the cost the runner expects of it.
    """

    seconds: float = Field(default=0.0, ge=0.0, le=60.0)
    gate: str = Field(default="", max_length=4096)


class CrashParams(DemoParams):
    """Test-only demo: kills its worker process with ``os._exit``."""

    exit_code: int = Field(default=3, ge=1, le=255)
