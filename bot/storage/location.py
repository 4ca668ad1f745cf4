"""Where the database is: `BOT_DB` as an SQLite file or a PostgreSQL URL, and how to show it.

A PostgreSQL URL may carry a password (`postgresql://bot:s3cret@db:5432/bot`, or
`?password=...`). It is kept whole only to connect; everything that prints or logs the database's
location uses `shown` / `redact`, which put `***` in place of the password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

POSTGRES_SCHEMES = ("postgresql", "postgres")
DEFAULT_SQLITE = Path("data/bot.sqlite3")
HIDDEN = "***"

# The password of a postgres URL anywhere in a text: `scheme://user:PASSWORD@` (up to the last
# `@` before the next URL or the end of the line, as URL parsers read it, even when the password
# holds `/`, `#`, `?` or a space and the URL does not parse) and `...password=PASSWORD` in its
# query (`password=`, `sslpassword=`, any parameter whose name ends in "password").
_USERINFO_START = re.compile(r"(?i)postgres(?:ql)?://[^\s:/?#@]*:")
_URL_START = re.compile(r"(?i)postgres(?:ql)?://")
# (A colon closing the value before a space is the message's: "cannot connect to URL: why".)
_QUERY_PASSWORD = re.compile(r"(?i)([?&][^=&\s#?]*password=)[^&\s]*?(?=[&\s]|:\s|:$|$)")
_WHOLE_QUERY_PASSWORD = re.compile(r"(?i)([?&][^=&#?]*password=)[^&]*")
# Something that looks like a URL (`word://`), to tell a mistyped scheme from a file name.
_ANY_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def redact(text: str) -> str:
    """`text` with the password of every PostgreSQL URL in it replaced by `***`."""
    parts: list[str] = []
    done = 0  # text[:done] is in `parts`
    for start in _USERINFO_START.finditer(text):
        if start.start() < done:
            continue
        after = start.end()
        following = _URL_START.search(text, after)
        line_end = text.find("\n", after)
        limit = min(
            following.start() if following else len(text),
            line_end if line_end >= 0 else len(text),
        )
        at = text.rfind("@", after, limit)
        if at < 0:  # `postgresql://host:5432/...`: no password
            continue
        parts += [text[done:after], HIDDEN]
        done = at
    parts.append(text[done:])
    return _QUERY_PASSWORD.sub(rf"\g<1>{HIDDEN}", "".join(parts))


class BadLocation(ValueError):
    """BOT_DB cannot be used; the message is one line and never contains a password."""


@dataclass(frozen=True, slots=True)
class DbLocation:
    """An SQLite file (`path`) or a PostgreSQL database (`url`, the password included)."""

    path: Path | None = None
    url: str | None = field(default=None, repr=False)

    @property
    def is_postgres(self) -> bool:
        return self.url is not None

    @property
    def shown(self) -> str:
        """For people and logs: the file (absolute), or the URL with its password hidden."""
        if self.url is not None:
            return redact(self.url)
        assert self.path is not None
        return str(self.path.absolute()) if str(self.path) != ":memory:" else ":memory:"

    @property
    def password(self) -> str | None:
        """The URL's password, if it has one (for the log filter's list of secrets)."""
        if self.url is None:
            return None
        parts = urlsplit(self.url)
        if parts.password:
            return parts.password
        for key, value in parse_qsl(parts.query):
            if key == "password" and value:
                return value
        return None

    def __str__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        kind = "postgres" if self.is_postgres else "sqlite"
        return f"DbLocation({kind}: {self.shown})"


def parse_location(value: str | Path) -> DbLocation:
    """`BOT_DB` read: a `postgresql://` (or `postgres://`) URL, or a path to an SQLite file.

    BadLocation (one line, password hidden) for a URL that cannot be a PostgreSQL database:
    another scheme, no host, a port that is not a number, no database name."""
    text = str(value).strip()
    if not text:
        return DbLocation(path=DEFAULT_SQLITE)
    scheme = _ANY_SCHEME.match(text)
    if scheme is None:
        if text.lower().startswith(POSTGRES_SCHEMES) and ":" in text:
            raise BadLocation(  # (not shown: where its password is cannot be told)
                "it starts like a PostgreSQL URL but is not one: write postgresql://USER"
                ":PASSWORD@HOST:PORT/DATABASE"
            )
        return DbLocation(path=Path(text).expanduser())
    if scheme.group(1).lower() not in POSTGRES_SCHEMES:
        raise BadLocation(
            f"{scheme.group(1)}:// is not supported: BOT_DB is a path to an SQLite file or a"
            " postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL"
        )
    # The text is one URL: a query password runs to the next `&` or the end (spaces and all).
    shown = _WHOLE_QUERY_PASSWORD.sub(rf"\g<1>{HIDDEN}", redact(text))
    try:
        parts = urlsplit(text)
        port = parts.port  # ValueError when it is not a number in 0-65535
    except ValueError:
        raise BadLocation(
            f"{shown} is not a valid PostgreSQL URL: the port must be a number (1-65535)"
        ) from None
    if any(ch.isspace() for ch in text):
        raise BadLocation(f"{shown} is not a valid PostgreSQL URL: it contains a space")
    query = dict(parse_qsl(parts.query))
    if not parts.hostname and "host" not in query:
        raise BadLocation(
            f"{shown} is not a valid PostgreSQL URL: no host (postgresql://USER:PASSWORD@HOST"
            ":PORT/DATABASE)"
        )
    if port == 0:
        raise BadLocation(f"{shown} is not a valid PostgreSQL URL: port 0")
    if not parts.path.strip("/") and "dbname" not in query:
        raise BadLocation(
            f"{shown} names no database: add it after the host, e.g. postgresql://USER@HOST"
            ":5432/bot"
        )
    return DbLocation(url=text)
