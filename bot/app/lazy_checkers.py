"""The numeric checkers, built the first time a question needs them.

`TorchCheckers` imports torch (about two seconds of a core). The console shows its prompt
without it: most commands (help, topics, stats, a multiple-choice question) never need torch,
and the first one that does (a numeric question, `check`, a review of one) builds the checkers
in a worker thread, once, saying so first. This module imports neither torch nor the checkers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from bot.core.models import Grade, NumericQuestion
from bot.core.ports import Checkers

log = logging.getLogger(__name__)


class LazyCheckers:
    """A `Checkers` that builds the real one (`build()`) on first use, in the calling thread,
    exactly once however many threads ask at the same time.

    `on_load` (set by the front end) is called once, just before the build starts, so that it
    can tell the user why this one command takes a few seconds. `bank_families` are the
    families the question bank names: once the real checkers exist, any it does not know is
    logged (the bank was loaded without torch, so it could not be checked then).
    """

    def __init__(
        self,
        build: Callable[[], Checkers],
        bank_families: Collection[str] = (),
        on_load: Callable[[], None] | None = None,
    ) -> None:
        self._build = build
        self._bank_families = frozenset(bank_families)
        self.on_load = on_load
        self._lock = threading.Lock()
        self._checkers: Checkers | None = None

    @property
    def loaded(self) -> bool:
        return self._checkers is not None

    def get(self) -> Checkers:
        """The real checkers (built now if need be: seconds, so never on the event loop)."""
        checkers = self._checkers
        if checkers is not None:
            return checkers
        with self._lock:
            if self._checkers is None:
                if self.on_load is not None:
                    try:
                        self.on_load()
                    except Exception:  # a message that could not be shown stops nothing
                        log.exception("announcing the checkers' start failed")
                built = self._build()
                unknown = sorted(self._bank_families - set(built.family_names()))
                for family in unknown:
                    log.warning(
                        "the question bank names the family %r, which does not exist: its "
                        "questions cannot be asked (python -m bot content validate lists them)",
                        family,
                    )
                self._checkers = built
            return self._checkers

    # the Checkers protocol

    def family_names(self) -> Sequence[str]:
        return self.get().family_names()

    def generate(self, family: str, seed: int) -> NumericQuestion:
        return self.get().generate(family, seed)

    def grade(self, family: str, seed: int, answer: str) -> Grade:
        return self.get().grade(family, seed, answer)

    def check(
        self,
        family: str,
        params: Mapping[str, Any] | None = None,
        answer: str | None = None,
        *,
        seed: int | None = None,
    ) -> dict[str, Any]:
        return self.get().check(family, params, answer, seed=seed)

    def __getattr__(self, name: str) -> Any:
        """Everything else the real checkers offer (`families`...)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get(), name)
