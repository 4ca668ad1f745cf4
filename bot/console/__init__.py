"""The local console front end."""

from bot.console._console import Console
from bot.console._session import Terminal
from bot.console._terminal import StdTerminal

__all__ = ["Console", "StdTerminal", "Terminal"]
