"""Code that runs inside the runner's worker processes (never on the event loop).

The progress queue is handed to each worker once, through the pool's
initializer (multiprocessing queues can only be shared by inheritance), and kept
in ``_state`` for the life of that worker process. Messages are tuples
``(job_id, kind, value)`` with kind "progress" (value 0.25, 0.5 or 0.75) or
"done" (value 1.0, sent just before the result is returned).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.queues import Queue
from typing import Any, Final

from bot.demos.base import DemoResult
from bot.demos.registry import get_spec, load_demo

__all__ = ["Message", "init_worker", "ping", "run_job", "warm_up"]

Message = tuple[int, str, float]
QUARTERS: Final = 4
PARENT_POLL_S: Final = 0.5

# Per-process state of a worker, filled in by init_worker (empty in the bot process).
_state: dict[str, Any] = {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exit_with_parent() -> None:
    """Watchdog thread: end this worker as soon as the bot process is gone.

    A pool worker blocks reading a pipe whose write end it holds itself, so it would never
    notice a bot killed with SIGKILL (OOM killer, ``kill -9``) and would live on as an
    orphan holding torch's memory. A dead parent re-parents the worker (its ppid changes);
    the bot's own pid is checked too, in case it died before this thread started.
    """
    ppid = os.getppid()
    owner = multiprocessing.parent_process()
    while os.getppid() == ppid and (owner is None or _alive(owner.pid or 0)):
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def init_worker(queue: Queue[Message], threads: int, warmup: bool) -> None:
    """Pool initializer: import torch, matplotlib and the demos once; set threads.

    With ``warmup``, also run a tiny version of every demo, so that first-call
    costs (kernel selection, font and mathtext caches, ...) are paid here rather
    than by the first user (about 1.5 s per worker start).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    threading.Thread(target=_exit_with_parent, name="exit-with-parent", daemon=True).start()
    _state["queue"] = queue

    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set (e.g. forkserver preloaded torch and used it)
        pass

    from bot.demos import gan, rnn, vanishing  # noqa: F401  (import once, here)

    if warmup:
        warm_up()
    else:
        _freeze_heap()


def warm_up() -> None:
    """Run a tiny version of every demo (first-call costs), then :func:`_freeze_heap`."""
    from bot.demos import gan, rnn, vanishing

    gan.run_gan(gan.GanParams(steps=100, batch=32))
    rnn.run_rnn(rnn.RnnParams(T=2, hidden=4))
    vanishing.run_vanishing(vanishing.VanishingParams(layers=2, width=8))
    _freeze_heap()


def _freeze_heap() -> None:
    """Move every object alive now out of the garbage collector's sight.

    torch, matplotlib and their imports leave some 350,000 objects that live as long as the
    worker; each full collection walked all of them (175 ms, in the middle of a demo, every
    few runs, since a figure leaves cyclic garbage). Frozen, they are never walked again.
    """
    gc.collect()
    gc.freeze()


def ping() -> int:
    """A no-op task used to start (and so initialise) the pool's workers."""
    return os.getpid()


class _QuarterReporter:
    """Forwards progress to the parent at most once per quarter (0.25, 0.5, 0.75)."""

    def __init__(self, queue: Queue[Message] | None, job_id: int) -> None:
        self._queue = queue
        self._job_id = job_id
        self._sent = 0

    def __call__(self, fraction: float) -> None:
        quarter = min(int(fraction * QUARTERS), QUARTERS - 1)  # 1.0 is sent as "done"
        if self._queue is None or quarter <= self._sent:
            return
        self._sent = quarter
        self._queue.put((self._job_id, "progress", quarter / QUARTERS))


def run_job(job_id: int, demo: str, params: dict[str, Any]) -> DemoResult:
    """Run demo ``demo`` in this worker process and return its result."""
    spec = get_spec(demo, include_test=True)  # the parent has already checked the name
    fn = load_demo(spec)
    queue: Queue[Message] | None = _state.get("queue")
    result = fn(spec.params.model_validate(params), _QuarterReporter(queue, job_id))
    if queue is not None:
        queue.put((job_id, "done", 1.0))
    return result
