"""bot/app/lazy_checkers.py: the real checkers built once, on first need, whoever asks first."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from bot.app.lazy_checkers import LazyCheckers
from bot.core.models import Grade, NumericQuestion, Verdict


class Counting:
    """A stand-in for TorchCheckers that counts how often it is built."""

    built = 0

    def __init__(self) -> None:
        Counting.built += 1

    def family_names(self) -> Sequence[str]:
        return ["conv_output"]

    def generate(self, family: str, seed: int) -> NumericQuestion:
        raise NotImplementedError

    def grade(self, family: str, seed: int, answer: str) -> Grade:
        return Grade(verdict=Verdict.CORRECT, expected=answer)

    def check(
        self,
        family: str,
        params: Mapping[str, Any] | None = None,
        answer: str | None = None,
        *,
        seed: int | None = None,
    ) -> str:
        return f"checked {family}"


def test_built_once_on_first_use_from_many_threads(caplog: pytest.LogCaptureFixture) -> None:
    Counting.built = 0
    announced: list[int] = []
    start = threading.Barrier(8)

    release = threading.Event()

    def build() -> Counting:
        built = Counting()
        release.wait(30)  # the others ask meanwhile: they must wait for this one
        return built

    lazy = LazyCheckers(build, bank_families={"conv_output", "nosuch"})
    lazy.on_load = lambda: announced.append(1)
    assert not lazy.loaded and Counting.built == 0  # constructing it costs nothing

    results: list[str | None] = []

    def ask() -> None:
        start.wait()
        results.append(lazy.grade("conv_output", 0, "ok").expected)

    with caplog.at_level(logging.WARNING, logger="bot.app.lazy_checkers"):
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)  # let every thread reach `get` (a correct one passes however slow)
        release.set()
        for thread in threads:
            thread.join()
    assert results == ["ok"] * 8
    assert Counting.built == 1 and announced == [1] and lazy.loaded
    assert lazy.check("conv_output") == "checked conv_output"  # the rest passes through
    (record,) = caplog.records  # the bank's unknown family, said once
    assert "'nosuch'" in record.getMessage()
