"""What the front ends share: every user-facing text in English and Simplified Chinese
(`texts`, `feedback` on answers, `demo_texts`), the charts (`charts`) and the calculator of the
numeric answers (`calculator`). Both front ends (bot.discord, bot.console) and the `check`
command import these; this package imports neither front end, nor storage, the checkers or
torch.
"""
