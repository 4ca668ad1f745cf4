"""The local console front end."""

from bot.console._console import Console, Terminal
from bot.console._terminal import StdTerminal

__all__ = ["Console", "StdTerminal", "Terminal"]
