"""Numbers typed in console commands, settings and references are ASCII digits: `²` or `３`
(which `str.isdigit` accepts and `int` may refuse) get the command's usual message, never "Something
went wrong"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.shards import BadShards, parse_shard_ids
from bot.core.answers import read_choice
from bot.core.errors import BadTime
from bot.core.review import review_item
from bot.core.services.catalog import parse_generated_ref
from bot.core.services.daily import parse_hhmm

from .test_console_quiz import console

pytestmark = pytest.mark.timeout(180)


def test_console_commands_refuse_superscript_numbers(tmp_path: Path) -> None:
    run = console(
        tmp_path / "bot.sqlite3",
        "quiz questions=²\nreview ²\nhistory ²\ninterview start questions=²\nquit\n",
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Traceback" not in out and "Something went wrong" not in out, out
    assert "⚠️ questions must be a whole number from 3 to 30." in out
    assert "`²` is not a count: review [COUNT]" in out
    assert "⚠️ questions must be a whole number." in out


def test_parsers_take_ascii_digits_only() -> None:
    with pytest.raises(BadShards):
        parse_shard_ids("²")
    assert parse_shard_ids("0-1") == (0, 1)
    assert parse_generated_ref("conv_output:²") == (None, None)
    assert parse_generated_ref("conv_output:12") == ("conv_output", 12)
    assert review_item("conv_output:²") == "conv_output:²"
    with pytest.raises(BadTime):
        parse_hhmm("²³:30")
    assert parse_hhmm("0730") == "07:30"
    assert read_choice("2", 3) == 1
    assert read_choice("３", 3) == 2  # answers are NFKC-normalised first: a full-width 3 is 3
