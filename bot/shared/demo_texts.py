"""What the front ends say about the mini demos (progress, queueing, refusals, failures),
in English and Chinese; shared by `/demo` and the console's `demo`.

Only light imports here: the demo errors come from :mod:`bot.demos`, whose top level never
imports torch or matplotlib.
"""

from __future__ import annotations

import math

from bot.core.models import Lang, Localized
from bot.core.validation import validation_message
from bot.demos import (
    DemoBusy,
    DemoCooldown,
    DemoCrashed,
    DemoError,
    DemoParamsError,
    DemoRunnerClosed,
    DemoTimeout,
)

__all__ = [
    "DEMO_WORKING",
    "about_seconds",
    "demo_error_text",
    "progress_bar",
    "progress_text",
    "queued_text",
]

#: What a running demo is doing, for its progress line.
DEMO_WORKING: dict[str, Localized] = {
    "gan": Localized(en="Training the GAN", zh="正在训练 GAN"),
    "rnn": Localized(en="Backpropagating through time", zh="正在沿时间反向传播"),
    "vanishing": Localized(en="Backpropagating through the deep MLP", zh="正在深层 MLP 中反向传播"),
}
_WORKING_DEFAULT = Localized(en="Working", zh="正在计算")


def about_seconds(seconds: float) -> int:
    """A wait as a whole number of seconds, never 0 (what "about N s" shows)."""
    return max(1, math.ceil(seconds))


def progress_bar(fraction: float, width: int = 20) -> str:
    """``[██████░░░░░░░░░░░░░░]  30%``"""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * width)
    return f"[{'█' * filled}{'░' * (width - filled)}] {round(100 * fraction):>3}%"


def progress_text(demo: str, fraction: float, lang: Lang) -> str:
    """``⏳ Training the GAN… 50%`` with a bar."""
    working = DEMO_WORKING.get(demo, _WORKING_DEFAULT).get(lang)
    filled = min(max(math.floor(10 * fraction), 0), 10)
    bar = "▰" * filled + "▱" * (10 - filled)
    return f"⏳ {working}… {round(100 * fraction)}%  {bar}"


def _when(retry_after_s: float, now_unix: float | None, lang: Lang) -> str:
    """A wait: "<t:UNIX:R> (about N s)" for Discord (a relative timestamp), else "in about N s"."""
    n = about_seconds(retry_after_s)
    if now_unix is None:
        return Localized(en=f"in about {n} s", zh=f"约 {n} 秒后").get(lang)
    stamp = f"<t:{math.ceil(now_unix + retry_after_s)}:R>"
    return Localized(en=f"{stamp} (about {n} s)", zh=f"{stamp}（约 {n} 秒后）").get(lang)


def queued_text(demo: str, wait_s: float, lang: Lang, now_unix: float | None = None) -> str:
    """The reply while a request waits for a free worker."""
    working = DEMO_WORKING.get(demo, _WORKING_DEFAULT).get(lang)
    when = _when(wait_s, now_unix, lang)
    return Localized(
        en=f"🕒 In the queue; starting {when}. ({working} next.)",
        zh=f"🕒 排队中，预计{when}开始。（接下来：{working}）",
    ).get(lang)


def _params_zh(error: DemoParamsError) -> str:
    """The problems of a demo's parameters in Chinese (pydantic writes English only); the
    English message where there is no validation detail to translate."""
    if not error.errors:
        return error.zh or error.message
    parts = []
    for item in error.errors:
        where = ".".join(str(part) for part in item.get("loc", ()))
        message = validation_message(item, "zh")
        shown = ""
        if "input" in item and item.get("type") not in ("missing", "extra_forbidden"):
            shown = f"（收到 {item['input']!r}）"
        parts.append(f"{where}：{message}{shown}" if where else message)
    return "；".join(parts)


def demo_error_text(error: DemoError, lang: Lang, now_unix: float | None = None) -> str:
    """One localised message for a refused or failed demo.

    With ``now_unix`` (the wall clock, for Discord) a wait is shown as a relative Discord
    timestamp plus "about N s"; without it, as "in about N s".
    """
    if isinstance(error, DemoCooldown):
        when = _when(error.retry_after_s, now_unix, lang)
        return Localized(
            en=f"⏳ You ran a demo a moment ago; you can start another {when}.",
            zh=f"⏳ 你刚运行过一个演示；{when}可以再运行。",
        ).get(lang)
    if isinstance(error, DemoBusy):
        when = _when(error.retry_after_s, now_unix, lang)
        return Localized(
            en=f"🚦 The demo queue is full right now; please try again {when}.",
            zh=f"🚦 演示队列已满；请{when}再试。",
        ).get(lang)
    if isinstance(error, DemoParamsError):
        return Localized(en=f"⚠️ {error.message}", zh=f"⚠️ 参数有误：{_params_zh(error)}").get(lang)
    if isinstance(error, DemoTimeout):
        return Localized(
            en=f"⏱️ The demo took longer than {error.timeout_s:g} s and was stopped. "
            "Try fewer steps (or a smaller model).",
            zh=f"⏱️ 演示运行超过 {error.timeout_s:g} 秒，已被停止。"
            "请减少步数（或用更小的模型）再试。",
        ).get(lang)
    if isinstance(error, DemoCrashed):
        return Localized(
            en="💥 The demo failed: its worker process stopped or raised an error "
            "(a stopped worker is replaced at once). Please try again.",
            zh="💥 演示失败：工作进程退出或出错（退出的进程会立即被替换）。请再试一次。",
        ).get(lang)
    if isinstance(error, DemoRunnerClosed):
        return Localized(
            en="⚠️ Demos are not available right now (the bot may be restarting).",
            zh="⚠️ 演示暂时不可用（机器人可能正在重启）。",
        ).get(lang)
    return Localized(en=f"⚠️ {error}", zh=f"⚠️ {error}").get(lang)
