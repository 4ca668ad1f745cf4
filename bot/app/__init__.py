"""The composition root: `wiring` builds everything (settings -> database -> services -> a front
end), `settings` reads the environment, `logs` sets up logging and `lazy_checkers` builds the
numeric checkers on first need.

This file imports nothing, so that a front end can import `bot.app.settings` (the type of its
settings) or `bot.app.lazy_checkers` without loading the wiring, the database or torch.
"""
