"""The demo runner's bookkeeping: cooldowns, the queue cap, running jobs and run-time estimates.

Nothing here touches processes or the event loop; :class:`~bot.demos.runner.DemoRunner` owns
the pool and its slots and asks a :class:`DemoQueue` whom to admit and how long a wait is.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

from bot.demos.base import DemoError, DemoParams
from bot.demos.registry import DemoSpec

_EMA = 0.3  # weight of a new measurement in the run-time estimate


def _about(seconds: float) -> int:
    return max(1, math.ceil(seconds))


class DemoBusy(DemoError):
    """The queue is full; ``retry_after_s`` estimates when a place frees up."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"the demo queue is full; try again in about {_about(retry_after_s)} s")


class DemoCooldown(DemoError):
    """The user ran a demo too recently; ``retry_after_s`` says when they may again."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            f"please wait before running another demo: about {_about(retry_after_s)} s"
        )


@dataclass(eq=False)
class Active:
    started: float  # by the runner's clock
    expected_s: float


class DemoQueue:
    """Who waits and who runs, per-user cooldowns, and each demo's measured time per cost."""

    def __init__(
        self, *, workers: int, queue_cap: int, cooldown_s: float, clock: Callable[[], float]
    ) -> None:
        self._workers = workers
        self._queue_cap = queue_cap
        self._cooldown_s = cooldown_s
        self._clock = clock
        self.running = 0
        self._queued: dict[int, float] = {}  # ticket -> expected run time, in arrival order
        self._tickets = itertools.count(1)
        self.active: dict[int, Active] = {}
        self._cooldown_until: dict[str, float] = {}
        self._s_per_cost: dict[str, float] = {}

    def admit(self, user_key: str, spec: DemoSpec, params: DemoParams) -> int:
        """Queue a job for ``user_key`` and return its ticket; raise :class:`DemoCooldown` or
        :class:`DemoBusy` (and charge nothing) if it may not run."""
        now = self._clock()
        until = self._cooldown_until.get(user_key, -math.inf)
        if until > now:
            raise DemoCooldown(until - now)
        if self.running + self.waiting >= self._workers + self._queue_cap:
            raise DemoBusy(self._retry_after_s())
        if self._cooldown_s > 0:
            self._charge_cooldown(user_key, now)

        ticket = next(self._tickets)
        self._queued[ticket] = self.expected_s(spec, params)
        return ticket

    def leave(self, ticket: int) -> None:
        """The job with ``ticket`` stops waiting (it got a slot, or its caller left)."""
        del self._queued[ticket]

    def _charge_cooldown(self, user_key: str, now: float) -> None:
        if len(self._cooldown_until) > 1024:
            self._cooldown_until = {k: v for k, v in self._cooldown_until.items() if v > now}
        self._cooldown_until[user_key] = now + self._cooldown_s

    @property
    def waiting(self) -> int:
        return len(self._queued)

    def expected_s(self, spec: DemoSpec, params: DemoParams) -> float:
        return self._s_per_cost.get(spec.name, spec.expected_s) * spec.cost(params)

    def _time_left_s(self) -> list[float]:
        """Expected time left of each running job (0 for one past its expected time)."""
        now = self._clock()
        return [max(a.started + a.expected_s - now, 0.0) for a in self.active.values()]

    def _retry_after_s(self) -> float:
        """Time until the first running job should end (and a queue place free up)."""
        return max(min(self._time_left_s(), default=1.0), 1.0)

    def estimated_wait_s(self) -> float:
        """When a job submitted now would start: the workers' free times (each running job's
        time left; 0 for an idle worker) take the waiting jobs in order, each on the worker
        that frees up first; the new job starts when a worker frees up after that."""
        left = self._time_left_s()
        free = sorted(left + [0.0] * max(self._workers - len(left), 0))[: self._workers]
        heapq.heapify(free)
        for expected in self._queued.values():
            heapq.heapreplace(free, free[0] + expected)
        return free[0]

    def learn(self, spec: DemoSpec, params: DemoParams, seconds: float) -> None:
        per_cost = seconds / max(spec.cost(params), 1e-6)
        old = self._s_per_cost.get(spec.name)
        self._s_per_cost[spec.name] = (
            per_cost if old is None else (1 - _EMA) * old + _EMA * per_cost
        )
