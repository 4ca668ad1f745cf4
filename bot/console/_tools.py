"""`check` (the numeric checker as a calculator) and `demo` (a mini demo saved as a PNG)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.console._args import demo_output_path, demo_usage, parse_demo_words, write_file
from bot.console._session import PLATFORM, CheckRunner, Session
from bot.core.errors import CheckRequestError
from bot.core.models import Localized
from bot.core.ports import Checkers
from bot.demos import DemoError, DemoParamsError, DemoRunner
from bot.shared.calculator import CalculatorError, format_result, parse_words
from bot.shared.demo_texts import demo_error_text, progress_bar


class Tools:
    """`check` and `demo`; the demo workers start on the first `demo`."""

    def __init__(
        self,
        session: Session,
        check: CheckRunner | None,
        demos: DemoRunner | None,
        *,
        checkers: Checkers,
    ) -> None:
        self.session = session
        self.checkers = checkers
        self.check_runner = check
        self.demos = demos  # started on the first `demo` (see run_console)
        self._demos_started = False

    async def cmd_check(self, args: list[str]) -> None:
        if self.check_runner is None:
            self.session.say(Localized(en="⚠️ The checker is not available.", zh="⚠️ 计算器不可用。"))
            return
        if not args or args[0] in ("--list", "list"):
            names = await asyncio.to_thread(self.checkers.family_names)
            self.session.say(
                Localized(
                    en=f"Families: {', '.join(names)}\nUsage: check FAMILY k=v ... [--answer A] | "
                    "check FAMILY --seed N",
                    zh=f"题型族：{'、'.join(names)}\n用法：`check FAMILY k=v ... [--answer A]` | "
                    "`check FAMILY --seed N`",
                )
            )
            return
        try:
            request = parse_words(args)
            result = await asyncio.to_thread(self.check_runner, request)
        except ValueError as exc:  # the request's own wording, in Chinese where it has one
            zh = exc.text("zh") if isinstance(exc, CheckRequestError | CalculatorError) else None
            zh = zh or str(exc)
            self.session.say(Localized(en=f"⚠️ {exc}", zh=f"⚠️ 请求有误：{zh}"))
            return
        self.session.say(
            format_result(result, self.session.lang, limit=20_000)
            .replace("**", "")
            .replace("`", "")
        )

    async def cmd_demo(self, args: list[str]) -> None:
        if self.demos is None:
            self.session.say(Localized(en="⚠️ Demos are not available.", zh="⚠️ 演示不可用。"))
            return
        if not args or args[0] in ("--list", "list"):
            self.session.say(demo_usage())
            return
        try:
            name, params, out = parse_demo_words(args)
        except DemoParamsError as exc:
            self.session.say(demo_error_text(exc, self.session.lang))
            return
        path = demo_output_path(name, out)
        try:
            if not self._demos_started:
                self.session.say(
                    Localized(
                        en="Starting the demo worker (first time only, a few seconds)…",
                        zh="正在启动演示进程（仅第一次，需要几秒）……",
                    )
                )
                await self.demos.start()
                self._demos_started = True
            result = await self.demos.run(
                f"{PLATFORM}:{self.session.user_name}", name, params, self._progress_printer()
            )
        except DemoError as exc:
            self.session.say(demo_error_text(exc, self.session.lang))
            return
        try:
            await asyncio.to_thread(write_file, path, result.png)
        except OSError as exc:
            self.session.say(
                Localized(
                    en=f"⚠️ Could not save the PNG to {path}: {exc.strerror or exc}",
                    zh=f"⚠️ 无法把 PNG 保存到 {path}：{exc.strerror or exc}",
                )
            )
            return
        self.session.say(result.caption.get(self.session.lang) or result.caption.get("en", ""))
        self.session.say(Localized(en=f"Saved: {path}", zh=f"已保存：{path}"))

    def _progress_printer(self) -> Callable[[float], None]:
        """Print a progress bar now and at each update: redrawn in place on a terminal, one
        line per update in a pipe (or a transcript)."""
        redraw = bool(getattr(self.session.terminal, "interactive", False))
        shown = False

        def show(fraction: float) -> None:
            nonlocal shown
            prefix = "\x1b[1A\x1b[2K" if redraw and shown else ""  # cursor up, clear line
            self.session.terminal.write(f"{prefix}  {progress_bar(fraction)}")
            shown = True

        show(0.0)
        return show
