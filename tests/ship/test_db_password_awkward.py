"""A database password with `/`, `#`, `?`, `@` or a space (the URL then does not parse as the
user meant): no message, log or command output shows any part of it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.app.settings import Settings, configuration_problems
from bot.storage.location import BadLocation, parse_location, redact
from tests.ship.test_db_setting import run_command

PIECES = ("Sx9k", "Kq7w", "Wm3z", "Zt42", "Pj8v")
AWKWARD = [
    f"{PIECES[0]}/{PIECES[1]}",
    f"{PIECES[0]}#{PIECES[1]}",
    f"{PIECES[0]}?{PIECES[1]}",
    f"{PIECES[0]} {PIECES[1]}",
    f"{PIECES[0]}@{PIECES[1]}",
    f"{PIECES[0]}/{PIECES[1]}#{PIECES[2]}?{PIECES[3]} {PIECES[4]}",
]


def hidden(text: str) -> bool:
    return not any(piece in text for piece in PIECES)


@pytest.mark.parametrize("password", AWKWARD)
def test_an_awkward_password_is_never_shown(password: str) -> None:
    url = f"postgresql://bot:{password}@db.example:5432/bot"
    try:
        shown = parse_location(url).shown
    except BadLocation as refused:
        shown = str(refused)
    assert hidden(shown), shown
    assert "postgresql://bot:***@db.example:5432/bot" in shown
    try:
        Settings(_env_file=None, BOT_DB=url)
    except ValidationError as invalid:
        (problem,) = configuration_problems(invalid)
        assert problem.startswith("BOT_DB: ") and "Value error" not in problem
        assert hidden(problem), problem
    # in any text (a log line, an error), up to the last `@` of the URL
    said = redact(f"lost {url}: timeout; then postgres://u:{password}@h/d")
    assert hidden(said), said
    assert (
        said == "lost postgresql://bot:***@db.example:5432/bot: timeout; then postgres://u:***@h/d"
    )


def test_a_query_password_of_any_name_is_hidden_and_the_colon_after_it_kept() -> None:
    said = redact(
        f"cannot connect to postgresql://bot@h/bot?sslpassword={PIECES[0]}&password={PIECES[1]}:"
        " [Errno 111] Connection refused"
    )
    assert said == (
        "cannot connect to postgresql://bot@h/bot?sslpassword=***&password=***:"
        " [Errno 111] Connection refused"
    )
    with pytest.raises(BadLocation) as refused:
        parse_location(f"postgresql://bot@h:54x/bot?password={PIECES[0]} {PIECES[1]}")
    assert hidden(str(refused.value)), refused.value


def test_commands_print_one_line_without_the_password() -> None:
    spaced = f"postgresql://bot:{PIECES[0]} {PIECES[1]}@db.example:5432/bot"
    slashed = f"postgresql://bot:{PIECES[0]}/{PIECES[1]}@db.example:5432/bot"
    for args, env in (
        (["health"], {"BOT_DB": spaced}),
        (["content", "validate"], {"BOT_DB": spaced}),
        (["db", "copy", "/nonexistent/x.sqlite3", slashed], {}),
    ):
        done = run_command(*args, **env)
        out = (done.stdout + done.stderr).strip()
        assert done.returncode != 0, out
        assert len(out.splitlines()) == 1 and "Traceback" not in out, out
        assert hidden(out) and "Value error" not in out, out
        assert "postgresql://bot:***@db.example:5432/bot" in out, out
