from __future__ import annotations

import pytest

from bot.checkers import TorchCheckers


@pytest.fixture(scope="session")
def checkers() -> TorchCheckers:
    """One registry for the whole session: building it (and its model-count cache) is the
    composition root's job in the bot, and tests share it the same way."""
    return TorchCheckers()
