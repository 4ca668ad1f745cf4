"""The Discord front end (discord.py 2.x, slash commands only)."""

from bot.discord._bot import EXTENSIONS, InterviewBot, run_bot
from bot.discord._endpoints import apply_endpoints

__all__ = ["EXTENSIONS", "InterviewBot", "apply_endpoints", "run_bot"]
