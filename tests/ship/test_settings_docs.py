"""Every setting is documented where people look: docs/settings.md, the README's table and
.env.example (docs/settings.md: "Adding a setting")."""

from __future__ import annotations

from pathlib import Path

from bot.app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def aliases() -> list[str]:
    found = [field.alias for field in Settings.model_fields.values()]
    assert all(found)
    return [str(a) for a in found]


def undocumented(text: str, form: str) -> list[str]:
    return [alias for alias in aliases() if form.format(alias) not in text]


def test_every_setting_has_a_row_in_docs_settings_and_the_readme() -> None:
    assert "BOT_DB_POOL_SIZE" in aliases()
    assert undocumented((ROOT / "docs" / "settings.md").read_text(), "| `{}` |") == []
    assert undocumented((ROOT / "README.md").read_text(), "| `{}` |") == []


def test_every_setting_is_in_the_env_example() -> None:
    assert undocumented((ROOT / ".env.example").read_text(), "\n{}=") == []


def test_the_check_finds_a_missing_row() -> None:
    text = (ROOT / "docs" / "settings.md").read_text()
    assert undocumented(text.replace("| `BOT_DB_POOL_SIZE` |", "| `POOL` |"), "| `{}` |") == [
        "BOT_DB_POOL_SIZE"
    ]
