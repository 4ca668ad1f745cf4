"""Mini demos for interview practice: a toy GAN, gradients through time, vanishing gradients.

The demo functions (``bot.demos.gan.run_gan``, ``bot.demos.rnn.run_rnn``,
``bot.demos.vanishing.run_vanishing``) import torch and matplotlib and must not
run on the event loop; the bot runs them through :class:`DemoRunner`. This
package's top level imports neither torch nor matplotlib.
"""

from bot.demos.base import DemoError, DemoParams, DemoParamsError, DemoResult, parse_params
from bot.demos.params import GanParams, RnnParams, VanishingParams
from bot.demos.registry import demo_names, get_spec
from bot.demos.runner import (
    DemoBusy,
    DemoCooldown,
    DemoCrashed,
    DemoRunner,
    DemoRunnerClosed,
    DemoTimeout,
    ProgressCallback,
)

__all__ = [
    "DemoBusy",
    "DemoCooldown",
    "DemoCrashed",
    "DemoError",
    "DemoParams",
    "DemoParamsError",
    "DemoResult",
    "DemoRunner",
    "DemoRunnerClosed",
    "DemoTimeout",
    "GanParams",
    "ProgressCallback",
    "RnnParams",
    "VanishingParams",
    "demo_names",
    "get_spec",
    "parse_params",
]
