"""A `/history` line: an open question's self-rating by the name its button has."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.models import HistoryEntry, Kind
from bot.discord.ext.history import history_line


def test_a_self_rating_is_shown_by_its_name_in_each_language() -> None:
    entry = HistoryEntry(
        at=datetime(2026, 12, 6, tzinfo=UTC),
        ref="backprop-in-words",
        topic="backprop",
        kind=Kind.OPEN,
        answer="hard",
        correct=True,
        points=0,
    )
    assert "自评 `勉强`" in history_line(entry, "zh")
    assert "rated `Hard`" in history_line(entry, "en")
    assert "`hard`" not in history_line(entry, "zh")
