"""DemoRunner: the one place where demos leave the asyncio event loop.

Demos (torch + matplotlib) run in a :class:`~concurrent.futures.ProcessPoolExecutor`
started with the "spawn" (default) or "forkserver" method, never "fork": the bot
process runs an event loop and threads, which fork would copy in a broken state.

* **Warm pool.** :meth:`DemoRunner.start` starts ``workers`` processes; their
  initializer imports torch, matplotlib and the demos once, sets torch to
  ``worker_threads`` threads and renders a warm-up figure.
* **Queue with a cap.** At most ``workers`` jobs are in the pool at a time; up to
  ``queue_cap`` more wait in the runner, first come first served. Past that,
  :class:`DemoBusy` with an estimate of when a place frees up. ``status()`` estimates
  when a new job would start: each running job's time left, then the jobs ahead of it
  handed out to the workers in order, each expected to take its demo's measured time
  (per unit of its cost) times its own cost. Run times are measured by ``clock``.
* **Per-user cooldown.** A user whose request was accepted less than
  ``cooldown_s`` ago (by the injectable ``clock``) gets :class:`DemoCooldown`.
  Refused requests (bad parameters, busy, cooldown) do not start a cooldown;
  an accepted one does, even if it then times out or crashes.
* **Hard timeout.** A job running longer than ``timeout_s`` raises
  :class:`DemoTimeout`; its worker cannot be interrupted, so the pool's
  processes are killed and a fresh pool is started (and warmed) in the
  background. Other jobs that were running in the killed pool (only possible
  with ``workers > 1``) are re-run once on the new pool.
* **Crash.** A worker that dies (segfault, OOM kill, ``os._exit``) breaks the
  pool (:class:`~concurrent.futures.process.BrokenProcessPool`); the jobs that
  were in it raise :class:`DemoCrashed` and a fresh pool is started. An ordinary
  exception inside a demo also raises :class:`DemoCrashed` (the pool survives).
* **Progress.** Workers put quarter-step progress on a multiprocessing queue;
  a reader thread hands each message to the event loop with
  ``call_soon_threadsafe``; a per-job task calls the caller's callback (sync or
  async) in order: 0.25, 0.5, 0.75, then 1.0 just before :meth:`run` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import multiprocessing as mp
import queue as queue_mod
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from types import TracebackType
from typing import Any, Literal, Self

from bot.demos._queue import Active, DemoBusy, DemoCooldown, DemoQueue
from bot.demos._worker import Message, init_worker, ping, run_job
from bot.demos.base import DemoError, DemoParams, DemoParamsError, DemoResult, parse_params
from bot.demos.registry import DemoSpec, get_spec

__all__ = [
    "DemoBusy",
    "DemoCooldown",
    "DemoCrashed",
    "DemoError",
    "DemoParamsError",
    "DemoRunner",
    "DemoRunnerClosed",
    "DemoTimeout",
    "ProgressCallback",
]

log = logging.getLogger(__name__)

#: Progress callback given to :meth:`DemoRunner.run`: sync or async, called on the loop.
ProgressCallback = Callable[[float], Awaitable[None] | None]

_POLL_S = 0.1  # how often the progress reader thread checks whether to stop
# How long to wait for a job's last progress messages after its result: they are sent before
# the result, so this is only spent when the reader thread is starved (a loaded machine).
_DONE_WAIT_S = 5.0
_CALLBACK_WAIT_S = 5.0  # how long run() waits for the caller's progress callbacks to finish
_PRELOAD = ("bot.demos._worker", "bot.demos.gan", "bot.demos.rnn", "bot.demos.vanishing")


class DemoTimeout(DemoError):
    """The demo ran past the hard timeout; its worker was killed and replaced."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        super().__init__(f"the demo took longer than {timeout_s:g} s and was stopped")


class DemoCrashed(DemoError):
    """The demo's worker process died, or the demo raised an exception."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"the demo failed: {detail}")


class DemoRunnerClosed(DemoError):
    """The runner is not started, or has been closed."""


@dataclass(eq=False)
class _Generation:
    """One process pool with its progress queue and the thread reading it."""

    number: int
    executor: ProcessPoolExecutor
    queue: Queue[Message]
    stop: threading.Event
    reader: threading.Thread
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    broken: bool = False
    killed_for_timeout: bool = False
    warm_error: BaseException | None = None


@dataclass(eq=False)
class _Job:
    job_id: int
    events: asyncio.Queue[float | None] | None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    last: float = 0.0


def _read_progress(
    q: Queue[Message],
    stop: threading.Event,
    loop: asyncio.AbstractEventLoop,
    deliver: Callable[[Message], None],
) -> None:
    """Reader thread: move progress messages from the worker queue onto the loop."""
    while not stop.is_set():
        try:
            msg = q.get(timeout=_POLL_S)
        except queue_mod.Empty:
            continue
        except (EOFError, OSError, ValueError):
            return  # queue closed
        except Exception:  # a message cut short by a killed worker
            log.debug("dropping an unreadable progress message", exc_info=True)
            continue
        try:
            loop.call_soon_threadsafe(deliver, msg)
        except RuntimeError:
            return  # loop closed


async def _call_progress(callback: ProgressCallback, events: asyncio.Queue[float | None]) -> None:
    while (value := await events.get()) is not None:
        try:
            maybe = callback(value)
            if inspect.isawaitable(maybe):
                await maybe
        except Exception:
            log.exception("demo progress callback failed")


class DemoRunner:
    """Runs demos in a warm process pool, off the event loop. See the module docstring.

    Use as ``async with DemoRunner(...) as runner: result = await runner.run(...)``
    or call :meth:`start` and :meth:`close` yourself.
    """

    def __init__(
        self,
        *,
        workers: int = 1,
        timeout_s: float = 30.0,
        queue_cap: int = 4,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,  # cooldowns and run-time estimates
        mp_context: Literal["spawn", "forkserver"] = "spawn",
        worker_threads: int = 1,
        startup_timeout_s: float = 120.0,
        warmup: bool = True,
        allow_test_demos: bool = False,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if queue_cap < 0:
            raise ValueError("queue_cap must be 0 or more")
        if cooldown_s < 0:
            raise ValueError("cooldown_s must be 0 or more")
        if mp_context not in ("spawn", "forkserver"):
            raise ValueError("mp_context must be 'spawn' or 'forkserver' (fork is unsafe here)")
        if worker_threads < 1:
            raise ValueError("worker_threads must be at least 1")
        self._workers = workers
        self._timeout_s = timeout_s
        self._queue_cap = queue_cap
        self._clock = clock
        self._mp_context = mp_context
        self._worker_threads = worker_threads
        self._startup_timeout_s = startup_timeout_s
        self._warmup = warmup
        self._allow_test_demos = allow_test_demos

        self._loop: asyncio.AbstractEventLoop | None = None
        self._gen: _Generation | None = None
        self._gen_numbers = itertools.count(1)
        self._job_ids = itertools.count(1)
        self._slots: asyncio.Semaphore | None = None
        self._queue = DemoQueue(
            workers=workers, queue_cap=queue_cap, cooldown_s=cooldown_s, clock=clock
        )
        self._jobs: dict[int, _Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._restarts = 0
        self._started = False
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the pool and wait until every worker has initialised."""
        if self._closed:
            raise DemoRunnerClosed("the demo runner has been closed")
        if self._started:
            return
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self._workers)
        self._started = True
        gen = self._new_generation()
        await gen.ready.wait()
        if gen.warm_error is not None:
            self._started = False
            self._gen = None
            self._kill(gen)
            gen.executor.shutdown(wait=False, cancel_futures=True)
            self._stop_reader(gen)
            raise DemoCrashed(f"could not start the demo workers: {gen.warm_error!r}")

    async def close(self, *, grace_s: float = 5.0) -> None:
        """Stop accepting demos; let running ones finish for up to ``grace_s``; stop the pool."""
        if self._closed:
            return
        self._closed = True
        gen, self._gen = self._gen, None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if gen is None:
            return
        gen.ready.set()  # wake anyone waiting for this pool; they will see it is gone
        try:
            await asyncio.wait_for(
                asyncio.to_thread(gen.executor.shutdown, wait=True, cancel_futures=True), grace_s
            )
        except TimeoutError:
            log.warning("demo workers did not finish within %.1f s; killing them", grace_s)
            self._kill(gen)
        self._stop_reader(gen)
        await asyncio.to_thread(gen.reader.join, 1.0 + 2 * _POLL_S)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ public API

    @property
    def restarts(self) -> int:
        """How many times the pool has been replaced after a timeout or crash."""
        return self._restarts

    def status(self) -> dict[str, int | float]:
        """Running and waiting jobs, workers, pool restarts, estimated wait for a new job."""
        return {
            "running": self._queue.running,
            "waiting": self._queue.waiting,
            "workers": self._workers,
            "queue_cap": self._queue_cap,
            "restarts": self._restarts,
            "estimated_wait_s": round(
                0.0 if self._loop is None else self._queue.estimated_wait_s(), 1
            ),
        }

    async def run(
        self,
        user_key: str,
        demo: str,
        params: Mapping[str, Any] | DemoParams | None = None,
        progress: ProgressCallback | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> DemoResult:
        """Run demo ``demo`` for ``user_key`` in the pool and return its result.

        ``on_wait(estimated_wait_s)`` is called, before the first await, if the job has to
        wait for a worker: whether it waits is decided here, when it is admitted, not by a
        look at the queue beforehand (requests arriving together look at it at once).

        Raises :class:`DemoParamsError` (unknown demo, invalid parameters),
        :class:`DemoCooldown`, :class:`DemoBusy`, :class:`DemoTimeout`,
        :class:`DemoCrashed` or :class:`DemoRunnerClosed`; all are
        :class:`DemoError`.
        """
        if not self._started or self._closed or self._slots is None:
            raise DemoRunnerClosed("the demo runner is not running")
        spec = get_spec(demo, include_test=self._allow_test_demos)
        parsed = parse_params(spec.params, params, demo)

        wait_s = self._queue.estimated_wait_s()  # before this job joins the queue
        ticket = self._queue.admit(user_key, spec, parsed)
        if on_wait is not None and self._slots.locked():
            on_wait(round(wait_s, 1))
        try:
            await self._slots.acquire()
        finally:
            self._queue.leave(ticket)
        self._queue.running += 1
        hand_off: list[Callable[[], None]] = []
        try:
            return await self._execute(spec, parsed, progress, hand_off)
        finally:
            if not hand_off:
                self._release_slot()

    # ------------------------------------------------------------------ internals

    def _release_slot(self) -> None:
        self._queue.running -= 1
        if self._slots is not None:
            self._slots.release()

    def _new_generation(self) -> _Generation:
        assert self._loop is not None
        ctx = mp.get_context(self._mp_context)
        if self._mp_context == "forkserver":
            # The fork server imports torch, matplotlib and the demos once; workers are
            # forked from it (fast replacement). Only takes effect if this process's
            # fork server has not started yet.
            ctx.set_forkserver_preload(list(_PRELOAD))
        progress_queue: Queue[Message] = ctx.Queue()
        executor = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=ctx,
            initializer=init_worker,
            initargs=(progress_queue, self._worker_threads, self._warmup),
        )
        stop = threading.Event()
        number = next(self._gen_numbers)
        reader = threading.Thread(
            target=_read_progress,
            args=(progress_queue, stop, self._loop, self._on_message),
            name=f"demo-progress-{number}",
            daemon=True,
        )
        gen = _Generation(number, executor, progress_queue, stop, reader)
        reader.start()
        self._gen = gen
        self._spawn(self._warm(gen))
        return gen

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _warm(self, gen: _Generation) -> None:
        """Start every worker of ``gen`` (spawning happens in a thread, off the loop)."""
        try:
            futures = await asyncio.to_thread(
                lambda: [gen.executor.submit(ping) for _ in range(self._workers)]
            )
            waiting = [asyncio.wrap_future(f) for f in futures]
            results = await asyncio.wait_for(
                asyncio.gather(*waiting, return_exceptions=True), self._startup_timeout_s
            )
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            gen.warm_error = exc
            log.error("starting demo worker pool #%d failed: %r", gen.number, exc)
        finally:
            gen.ready.set()

    async def _ready_generation(self) -> _Generation:
        while True:
            gen = self._gen
            if gen is None or self._closed:
                raise DemoRunnerClosed("the demo runner has been closed")
            await gen.ready.wait()
            if gen is self._gen and not gen.broken:
                return gen

    def _kill(self, gen: _Generation) -> None:
        processes = getattr(gen.executor, "_processes", None) or {}
        for process in list(processes.values()):
            with contextlib.suppress(Exception):
                process.kill()

    def _stop_reader(self, gen: _Generation) -> None:
        gen.stop.set()  # the reader thread notices within _POLL_S and exits

    def _replace(self, gen: _Generation, *, for_timeout: bool) -> None:
        """Kill pool ``gen`` (if still current) and start a fresh one in the background."""
        if gen.broken:
            return
        gen.broken = True
        gen.killed_for_timeout = for_timeout
        self._kill(gen)
        gen.executor.shutdown(wait=False, cancel_futures=True)
        self._stop_reader(gen)
        if gen is self._gen and not self._closed:
            self._restarts += 1
            log.warning(
                "demo worker pool #%d replaced after a %s",
                gen.number,
                "timeout" if for_timeout else "crash",
            )
            self._new_generation()

    def _on_message(self, msg: Message) -> None:
        job_id, kind, value = msg
        job = self._jobs.get(job_id)
        if job is None:
            return
        if kind == "done":
            job.done.set()
        elif kind == "progress" and value > job.last:
            job.last = value
            if job.events is not None:
                job.events.put_nowait(value)

    async def _execute(
        self,
        spec: DemoSpec,
        params: DemoParams,
        progress: ProgressCallback | None,
        hand_off: list[Callable[[], None]],
    ) -> DemoResult:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[float | None] | None = None
        pump: asyncio.Task[None] | None = None
        if progress is not None:
            events = asyncio.Queue()
            pump = loop.create_task(_call_progress(progress, events))
        cancelled = False
        try:
            return await self._attempts(spec, params, events, hand_off)
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            if pump is not None and events is not None:
                if cancelled:
                    pump.cancel()
                else:
                    events.put_nowait(None)
                    try:
                        await asyncio.wait_for(pump, _CALLBACK_WAIT_S)
                    except TimeoutError:
                        log.warning("demo progress callback still busy after the demo; abandoned")

    async def _attempts(
        self,
        spec: DemoSpec,
        params: DemoParams,
        events: asyncio.Queue[float | None] | None,
        hand_off: list[Callable[[], None]],
    ) -> DemoResult:
        """Submit the job; run it once more if another job's timeout killed its pool."""
        loop = asyncio.get_running_loop()
        payload = params.model_dump()
        retried = False
        last = 0.0
        while True:
            gen = await self._ready_generation()
            job = _Job(next(self._job_ids), events, last=last)
            self._jobs[job.job_id] = job
            try:
                try:
                    future: Future[DemoResult] = gen.executor.submit(
                        run_job, job.job_id, spec.name, payload
                    )
                except (BrokenProcessPool, RuntimeError):
                    self._replace(gen, for_timeout=False)  # died since it became ready
                    continue
                started = loop.time()
                self._queue.active[job.job_id] = Active(
                    self._clock(), self._queue.expected_s(spec, params)
                )
                wrapped = asyncio.wrap_future(future)
                try:
                    done, _ = await asyncio.wait({wrapped}, timeout=self._timeout_s)
                except asyncio.CancelledError:
                    if not wrapped.done():  # the caller left: keep the slot until the job ends
                        hand_off.append(self._release_slot)
                        self._spawn(self._orphan(gen, wrapped, started + self._timeout_s))
                    raise
                if not done:
                    self._replace(gen, for_timeout=True)
                    wrapped.cancel()
                    raise DemoTimeout(self._timeout_s)
                if wrapped.cancelled():
                    raise DemoRunnerClosed("the demo runner has been closed")
                exc = wrapped.exception()
                if isinstance(exc, BrokenProcessPool):
                    if self._closed:
                        raise DemoRunnerClosed("the demo runner was closed during the demo")
                    if gen.killed_for_timeout and not retried:
                        retried = True  # collateral of another job's timeout: run it again
                        last = job.last
                        continue
                    self._replace(gen, for_timeout=False)
                    raise DemoCrashed("the worker process died") from exc
                if exc is not None:
                    raise DemoCrashed(f"{type(exc).__name__}: {exc}") from exc
                result = wrapped.result()
                self._queue.learn(
                    spec, params, self._clock() - self._queue.active[job.job_id].started
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(job.done.wait(), _DONE_WAIT_S)
                if events is not None:
                    events.put_nowait(1.0)
                return result
            finally:
                self._jobs.pop(job.job_id, None)
                self._queue.active.pop(job.job_id, None)

    async def _orphan(
        self, gen: _Generation, wrapped: asyncio.Future[DemoResult], deadline: float
    ) -> None:
        """Hold a cancelled caller's slot until its job ends (or times out)."""
        try:
            timeout = max(deadline - asyncio.get_running_loop().time(), 0.0)
            done, _ = await asyncio.wait({wrapped}, timeout=timeout)
            if not done:
                self._replace(gen, for_timeout=True)
                wrapped.cancel()
            elif not wrapped.cancelled() and wrapped.exception() is not None:
                if isinstance(wrapped.exception(), BrokenProcessPool):
                    self._replace(gen, for_timeout=False)
        finally:
            self._release_slot()
