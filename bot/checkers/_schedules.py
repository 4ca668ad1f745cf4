"""lr_schedule: the learning rate of an epoch under warm-up + cosine or step decay.

The key steps the real `torch.optim.lr_scheduler` objects (LinearLR warm-up chained to
CosineAnnealingLR or StepLR by SequentialLR) on a one-number SGD optimizer.
"""

from __future__ import annotations

import math
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
from pydantic import BeforeValidator, Field, model_validator
from torch.optim import SGD
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
    StepLR,
)

from bot.checkers._base import Params, Solved, _not_bool, mistake
from bot.checkers._telling import TellingFamily
from bot.checkers._torch import quiet
from bot.checkers._values import f
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

Epochs = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=1000)]
Positive = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=1000)]
Rate = Annotated[float, BeforeValidator(_not_bool), Field(gt=0, le=10, allow_inf_nan=False)]
Fraction01 = Annotated[float, BeforeValidator(_not_bool), Field(gt=0, le=1, allow_inf_nan=False)]


class LrScheduleParams(Params):
    schedule: Literal["cosine", "step"]
    base_lr: Rate
    epoch: Epochs = Field(description="the epoch asked about, counted from 0")
    warmup: Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=1000)] = 0
    start_factor: Fraction01 = Field(default=0.1, description="LinearLR's start_factor")
    t_max: Positive = Field(default=100, description="CosineAnnealingLR's T_max")
    eta_min: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] = 0.0
    step_size: Positive = 30
    gamma: Fraction01 = 0.1

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.schedule == "cosine" and self.epoch - self.warmup > self.t_max:
            raise ValueError(
                f"epoch {self.epoch} is past the cosine schedule's end (warmup + t_max = "
                f"{self.warmup + self.t_max})"
            )
        if self.schedule == "cosine" and self.eta_min > self.base_lr:
            raise ValueError("eta_min is above base_lr")
        return self


def _main(
    p: LrScheduleParams, e: int, *, period: float = 1.0, eta_min: float | None = None
) -> float:
    """The main schedule at e epochs after the warm-up (used for the known mistakes)."""
    low = p.eta_min if eta_min is None else eta_min
    if p.schedule == "cosine":
        return low + (p.base_lr - low) * (1 + math.cos(math.pi * e * period / p.t_max)) / 2
    return p.base_lr * p.gamma ** (e // p.step_size)


def scheduled_lr(p: LrScheduleParams) -> float:
    """Step the real schedulers `epoch` times and read the optimizer's learning rate."""
    weight = torch.zeros(1, requires_grad=True)
    optimizer = SGD([weight], lr=p.base_lr)
    # No optimizer.step() in the loop: the schedulers read and write only param_groups' "lr"
    # (the step would move a weight nobody reads, and cost 2/3 of the time). Their warning
    # about calling scheduler.step() first is silenced: it is about training order.
    with quiet():
        main: LRScheduler = (
            CosineAnnealingLR(optimizer, T_max=p.t_max, eta_min=p.eta_min)
            if p.schedule == "cosine"
            else StepLR(optimizer, step_size=p.step_size, gamma=p.gamma)
        )
        if p.warmup:
            # SequentialLR resets the rate to base_lr and starts LinearLR afresh.
            warm = LinearLR(optimizer, start_factor=p.start_factor, total_iters=p.warmup)
            scheduler: LRScheduler = SequentialLR(optimizer, [warm, main], milestones=[p.warmup])
        else:
            scheduler = main
        for _ in range(p.epoch):
            scheduler.step()
    return float(optimizer.param_groups[0]["lr"])


def _hint(p: LrScheduleParams) -> Localized:
    """The interview hint: which phase the epoch is in and that phase's formula, in symbols."""
    warm_en = warm_zh = ""
    if p.warmup:
        warm_en = (
            f"First find the phase: epochs before {p.warmup} are the linear warm-up, lr = "
            "base_lr·(start_factor + (1 - start_factor)·t/warmup); after it the main schedule "
            "counts its own epochs e = t - warmup from 0. "
        )
        warm_zh = (
            f"先判断阶段：{p.warmup} 之前的 epoch 是线性预热，lr = base_lr·(start_factor + "
            "(1 - start_factor)·t/warmup)；之后主调度从 0 开始数自己的 epoch：e = t - warmup。"
        )
    if p.schedule == "cosine":
        main_en = "Cosine annealing: eta_min + (base_lr - eta_min)·(1 + cos(π·e/T_max))/2."
        main_zh = "余弦退火：eta_min + (base_lr - eta_min)·(1 + cos(π·e/T_max))/2。"
    else:
        main_en = "StepLR: base_lr·gamma^⌊e/step_size⌋."
        main_zh = "StepLR：base_lr·gamma^⌊e/step_size⌋。"
    return Localized(en=warm_en + main_en, zh=warm_zh + main_zh)


class LrSchedule(TellingFamily[LrScheduleParams]):
    name = "lr_schedule"
    summary = "learning rate in an epoch: LinearLR warm-up, then CosineAnnealingLR or StepLR"
    params_model = LrScheduleParams

    def plausible(self, params: dict[str, Any]) -> bool:
        """After a warm-up, a StepLR epoch must sit in another step than it would without the
        warm-up (else forgetting the warm-up changes nothing)."""
        t, w = params["epoch"], params.get("warmup", 0)
        if params["schedule"] != "step" or not w or t < w:
            return True
        return bool(t // params["step_size"] != (t - w) // params["step_size"])

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        schedule = rng.choice(["cosine", "step"])
        base = rng.choice([0.1, 0.01, 0.001, 0.05, 3e-4])
        params: dict[str, Any] = {"schedule": schedule, "base_lr": base}
        if schedule == "cosine":
            params["t_max"] = t_max = rng.choice([10, 20, 30, 40, 50])
        else:
            params["step_size"] = step = rng.choice([5, 10, 15, 20])
            params["gamma"] = rng.choice([0.1, 0.5])
        if level is Difficulty.EASY:
            span = t_max if schedule == "cosine" else 3 * step
            params["epoch"] = rng.choice([span // 4, span // 2, 3 * span // 4, span // 3 + 1])
            return params
        warmup = rng.choice([2, 5, 10])
        params["warmup"] = warmup
        params["start_factor"] = rng.choice([0.1, 0.01, 0.25])
        span = t_max if schedule == "cosine" else 3 * step
        if level is Difficulty.MEDIUM:
            params["epoch"] = warmup + rng.randrange(1, span)
        else:
            params["epoch"] = rng.randrange(1, warmup) if rng.random() < 0.5 else warmup + 1
            if schedule == "cosine":
                params["eta_min"] = base / rng.choice([10, 100])
                params["epoch"] = rng.choice([params["epoch"], warmup + rng.randrange(1, span)])
        return params

    def ask(self, p: LrScheduleParams) -> Localized:
        main_en = (
            f"CosineAnnealingLR(T_max={p.t_max}, eta_min={p.eta_min:g})"
            if p.schedule == "cosine"
            else f"StepLR(step_size={p.step_size}, gamma={p.gamma:g})"
        )
        if p.warmup:
            plan_en = (
                f"a linear warm-up LinearLR(start_factor={p.start_factor:g}, "
                f"total_iters={p.warmup}) followed by {main_en}, chained with "
                f"SequentialLR(milestones=[{p.warmup}])"
            )
            plan_zh = (
                f"：先用 LinearLR(start_factor={p.start_factor:g}, total_iters={p.warmup}) "
                f"线性预热，再接 {main_en}，用 SequentialLR(milestones=[{p.warmup}]) 串联"
            )
        else:
            plan_en, plan_zh = main_en, f" {main_en}"
        return Localized(
            en=f"SGD starts with lr = {p.base_lr:g} and the schedule is {plan_en}; "
            "scheduler.step() is called once at the end of every epoch. What learning rate is "
            f"used during epoch {p.epoch} (epochs counted from 0, so after {p.epoch} calls of "
            "scheduler.step())?",
            zh=f"SGD 的初始学习率 lr = {p.base_lr:g}，学习率调度为{plan_zh}；"
            "每个 epoch 结束时调用一次 scheduler.step()。第 "
            f"{p.epoch} 个 epoch（从 0 开始计数，即调用了 {p.epoch} 次 scheduler.step() 之后）"
            "使用的学习率是多少？",
        )

    def quick(self, p: LrScheduleParams) -> tuple[float, dict[str, float]]:
        """`work`'s key and mistakes by the closed forms (torch's schedulers step recursively)."""
        t, w = p.epoch, p.warmup
        if w and t < w:
            key = p.base_lr * (p.start_factor + (1 - p.start_factor) * t / w)
        else:
            key = _main(p, t - w)
        e = max(t - w, 0)
        values: dict[str, float] = {}
        if w:
            values["forgot_warmup"] = _main(p, t)
        if w and t < w:
            values["warmup_from_zero"] = p.base_lr * t / w
        if not w or t >= w:
            if p.schedule == "cosine":
                if 0 < e < p.t_max:
                    values["cosine_full_period"] = _main(p, e, period=2.0)
                if p.eta_min > 0 and e > 0:
                    values["ignored_eta_min"] = _main(p, e, eta_min=0.0)
            else:
                if (e + 1) // p.step_size != e // p.step_size:
                    values["step_off_by_one"] = p.base_lr * p.gamma ** ((e + 1) // p.step_size)
                if e // p.step_size > 1:
                    values["decayed_once"] = p.base_lr * p.gamma
        return key, values

    def work(self, p: LrScheduleParams) -> Solved:
        lr = scheduled_lr(p)
        t, w = p.epoch, p.warmup
        if w and t < w:
            factor = p.start_factor + (1 - p.start_factor) * t / w
            step_en = (
                f"epoch {t} is in the warm-up: factor = start_factor + (1 - start_factor)·t/"
                f"{w} = {f(factor)}, lr = {p.base_lr:g} × {f(factor)} = {f(lr)}"
            )
            step_zh = (
                f"第 {t} 个 epoch 处于预热阶段：系数 = start_factor + (1 - start_factor)·t/{w} = "
                f"{f(factor)}，lr = {p.base_lr:g} × {f(factor)} = {f(lr)}"
            )
        else:
            e = t - w
            if p.schedule == "cosine":
                formula = f"eta_min + (base_lr - eta_min)·(1 + cos(π·{e}/{p.t_max}))/2 = {f(lr)}"
            else:
                formula = (
                    f"base_lr·gamma^⌊{e}/{p.step_size}⌋ = {p.base_lr:g}·{p.gamma:g}^"
                    f"{e // p.step_size} = {f(lr)}"
                )
            offset_en = (
                f"after the {w}-epoch warm-up the main schedule is at e = {e}: " if w else ""
            )
            offset_zh = f"{w} 个 epoch 的预热之后，主调度处于 e = {e}：" if w else "学习率 = "
            step_en, step_zh = f"{offset_en}{formula}", f"{offset_zh}{formula}"
        solution = Localized(en=f"{step_en[0].upper()}{step_en[1:]}.", zh=f"{step_zh}。")
        e = max(t - w, 0)
        candidates: list[KnownMistake | None] = [
            mistake(
                "forgot_warmup",
                _main(p, t),
                "The warm-up comes first: the main schedule only starts at the milestone, and "
                "then counts its epochs from 0.",
                "要先预热：主调度从里程碑处才开始，并且从 0 开始数自己的 epoch。",
            )
            if w
            else None,
            mistake(
                "warmup_from_zero",
                p.base_lr * t / w,
                f"LinearLR starts at start_factor × base_lr ({p.start_factor:g} × "
                f"{p.base_lr:g}), not at 0.",
                f"LinearLR 从 start_factor × base_lr（{p.start_factor:g} × {p.base_lr:g}）开始，"
                "而不是从 0 开始。",
            )
            if w and t < w
            else None,
        ]
        if not w or t >= w:
            if p.schedule == "cosine":
                candidates.append(
                    mistake(
                        "cosine_full_period",
                        _main(p, e, period=2.0),
                        "T_max is half a cosine period: the rate falls from base_lr to eta_min "
                        "over T_max epochs, cos(π·e/T_max), not cos(2π·e/T_max).",
                        "T_max 是半个余弦周期：学习率在 T_max 个 epoch 内从 base_lr 降到 eta_min，"
                        "用 cos(π·e/T_max)，而不是 cos(2π·e/T_max)。",
                    )
                    if 0 < e < p.t_max
                    else None
                )
                candidates.append(
                    mistake(
                        "ignored_eta_min",
                        _main(p, e, eta_min=0.0),
                        "The cosine runs between base_lr and eta_min, not down to 0.",
                        "余弦在 base_lr 和 eta_min 之间变化，而不是降到 0。",
                    )
                    if p.eta_min > 0 and e > 0
                    else None
                )
            else:
                candidates.append(
                    mistake(
                        "step_off_by_one",
                        p.base_lr * p.gamma ** ((e + 1) // p.step_size),
                        "StepLR decays after every step_size full epochs: the rate in epoch e is "
                        "base_lr·gamma^⌊e/step_size⌋.",
                        "StepLR 每满 step_size 个 epoch 衰减一次：第 e 个 epoch 的学习率是 "
                        "base_lr·gamma^⌊e/step_size⌋。",
                    )
                    if (e + 1) // p.step_size != e // p.step_size
                    else None
                )
                candidates.append(
                    mistake(
                        "decayed_once",
                        p.base_lr * p.gamma,
                        "The decay compounds: after k decays the rate is base_lr·gamma^k.",
                        "衰减是累乘的：衰减 k 次后学习率是 base_lr·gamma^k。",
                    )
                    if e // p.step_size > 1
                    else None
                )
        return Solved(lr, solution, tuple(m for m in candidates if m is not None), hint=_hint(p))
