"""The command line: `python -m bot COMMAND` (`main`), the question-bank tools (`content`) and
the operator's commands `health` and `backup` (`ops`). `check` is the numeric checker's own
command line (bot.checkers.cli); `start`, `run` and `console` hand over to the composition root
(bot.app.wiring).
"""
