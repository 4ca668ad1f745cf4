"""`python -m bot COMMAND`: the command line is bot.cli.main."""

from __future__ import annotations

from bot.cli.main import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
