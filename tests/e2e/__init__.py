"""End-to-end tests that run a real discord.py client against a local fake Discord."""
