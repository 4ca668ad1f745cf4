"""GAN families: the optimal discriminator, the two players' losses, the generator's gradient."""

from __future__ import annotations

import math
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
import torch.nn.functional as F
from pydantic import BeforeValidator, Field, model_validator

from bot.checkers._base import Family, Params, Solved, _not_bool, mistake
from bot.checkers._torch import scalar
from bot.checkers._values import f
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

Density = Annotated[float, BeforeValidator(_not_bool), Field(ge=0, le=1e6, allow_inf_nan=False)]
Probability = Annotated[float, BeforeValidator(_not_bool), Field(gt=0, lt=1, allow_inf_nan=False)]
Player = Literal["discriminator", "generator_minimax", "generator_nonsaturating"]


# --- gan_optimal_discriminator ------------------------------------------------------------


class GanOptimalDiscriminatorParams(Params):
    p_data: Density
    p_g: Density

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.p_data == 0 and self.p_g == 0:
            raise ValueError("p_data and p_g are both 0: D* is undefined where neither has mass")
        return self


def optimal_discriminator(p_data: float, p_g: float) -> float:
    """D* as torch computes it: σ(ln p_data - ln p_g), the sigmoid of the log density ratio.

    This is the same value as p_data / (p_data + p_g), written as the discriminator's optimal
    logit, which also handles a zero density (the logit is then ±inf).
    """
    logit = torch.log(torch.tensor(p_data, dtype=torch.float64)) - torch.log(
        torch.tensor(p_g, dtype=torch.float64)
    )
    return float(torch.sigmoid(logit).item())


class GanOptimalDiscriminator(Family[GanOptimalDiscriminatorParams]):
    name = "gan_optimal_discriminator"
    summary = "D*(x) = p_data / (p_data + p_g)"
    params_model = GanOptimalDiscriminatorParams
    percent_ok = True

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            p_data, p_g = rng.randint(1, 9) / 10, rng.randint(1, 9) / 10
        elif level is Difficulty.MEDIUM:
            # Densities of N(0, 1) (data) and N(mu, 1) (generator) at a point, to 4 places.
            mu = rng.choice([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, -1.0, -2.0])
            x = rng.choice([-1.5, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5])
            p_data = round(math.exp(-x * x / 2) / math.sqrt(2 * math.pi), 4)
            p_g = round(math.exp(-((x - mu) ** 2) / 2) / math.sqrt(2 * math.pi), 4)
        else:
            # A density that is zero (disjoint supports), or above 1 (a density, not a
            # probability).
            values = [0.05, 0.25, 0.45, 0.6, 1.2, 2.0, 3.5, 0.3]
            p_data, p_g = rng.choice(values), rng.choice(values)
            if rng.random() < 0.5:
                p_data, p_g = rng.choice([(0.0, p_g), (p_data, 0.0)])
        return {"p_data": p_data, "p_g": p_g}

    def ask(self, p: GanOptimalDiscriminatorParams) -> Localized:
        return Localized(
            en=f"At a point x the data density is p_data(x) = {f(p.p_data)} and the generator's "
            f"density is p_g(x) = {f(p.p_g)}. For this fixed generator, what does the optimal "
            "discriminator of the original GAN output at x, D*(x)?",
            zh=f"在某点 x 处，真实数据的密度 p_data(x) = {f(p.p_data)}，生成器的密度 p_g(x) = "
            f"{f(p.p_g)}。生成器固定时，原始 GAN 的最优判别器在 x 处的输出 D*(x) 是多少？",
        )

    def solve(self, p: GanOptimalDiscriminatorParams) -> Solved:
        value = optimal_discriminator(p.p_data, p.p_g)
        total = p.p_data + p.p_g
        solution = Localized(
            en="Maximising p_data·ln D + p_g·ln(1 - D) pointwise gives D* = p_data / (p_data + "
            f"p_g) = {f(p.p_data)} / {f(total)} = {f(value)}. It is ½ only where p_g = p_data.",
            zh="逐点最大化 p_data·ln D + p_g·ln(1 - D)，得到 D* = p_data / (p_data + p_g) = "
            f"{f(p.p_data)} / {f(total)} = {f(value)}。只有在 p_g = p_data 处才等于 ½。",
        )
        candidates: list[KnownMistake | None] = [
            mistake(
                "ratio",
                p.p_data / p.p_g,
                "D* is a probability: p_data / (p_data + p_g), not the ratio p_data / p_g.",
                "D* 是一个概率：p_data / (p_data + p_g)，而不是比值 p_data / p_g。",
            )
            if p.p_g
            else None,
            mistake(
                "inverted",
                p.p_g / total,
                "D outputs the probability that x is real, so p_data goes on top.",
                "D 输出的是 x 为真实样本的概率，分子应是 p_data。",
            ),
            mistake(
                "always_half",
                0.5,
                "D* = ½ everywhere only at equilibrium (p_g = p_data); here the densities differ.",
                "只有在平衡状态（p_g = p_data）时 D* 才处处等于 ½；这里两个密度不相等。",
            ),
        ]
        return Solved(value, solution, tuple(m for m in candidates if m is not None))


# --- gan_loss -------------------------------------------------------------------------------


class GanLossParams(Params):
    d_real: Probability | None = Field(default=None, description="D(x) on a real sample")
    d_fake: Probability = Field(description="D(G(z)) on a generated sample")
    player: Player

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.player == "discriminator" and self.d_real is None:
            raise ValueError("player=discriminator needs d_real, D(x) on a real sample")
        return self


def gan_loss_value(player: str, d_real: float | None, d_fake: float) -> float:
    fake = scalar(d_fake)
    if player == "discriminator":
        assert d_real is not None
        real = scalar(d_real)
        loss = F.binary_cross_entropy(real, torch.ones_like(real)) + F.binary_cross_entropy(
            fake, torch.zeros_like(fake)
        )
    elif player == "generator_minimax":
        loss = -F.binary_cross_entropy(fake, torch.zeros_like(fake))  # = ln(1 - D(G(z)))
    else:
        loss = F.binary_cross_entropy(fake, torch.ones_like(fake))  # = -ln D(G(z))
    return float(loss.item())


_LOSS_TEXT = {
    "discriminator": ("-ln D(x) - ln(1 - D(G(z)))", "-ln D(x) - ln(1 - D(G(z)))"),
    "generator_minimax": (
        "the minimax generator loss ln(1 - D(G(z))) (minimised by G)",
        "极小极大（minimax）生成器损失 ln(1 - D(G(z)))（G 最小化它）",
    ),
    "generator_nonsaturating": (
        "the non-saturating generator loss -ln D(G(z))",
        "非饱和（non-saturating）生成器损失 -ln D(G(z))",
    ),
}


# How each loss is written with F.binary_cross_entropy (the code in gan_loss_value).
_BCE_TEXT = {
    "discriminator": (
        "It is F.binary_cross_entropy with label 1 on the real sample and label 0 on the fake one.",
        "即 F.binary_cross_entropy：真实样本的标签为 1，生成样本的标签为 0。",
    ),
    "generator_minimax": (
        "It is minus F.binary_cross_entropy of the fake sample with label 0: the generator "
        "maximises the discriminator's loss on its fakes.",
        "即生成样本以标签 0 计算的 F.binary_cross_entropy 取相反数：生成器最大化判别器在生成样本"
        "上的损失。",
    ),
    "generator_nonsaturating": (
        "It is F.binary_cross_entropy with label 1 on the fake sample: the generator is trained "
        "as if its fakes were real.",
        "即 F.binary_cross_entropy，生成样本的标签取 1：生成器训练时把自己的生成样本当作真实样本。",
    ),
}


class GanLoss(Family[GanLossParams]):
    name = "gan_loss"
    summary = (
        "discriminator: -ln D(x) - ln(1 - D(G(z))); minimax generator: ln(1 - D(G(z))); "
        "non-saturating: -ln D(G(z))"
    )
    params_model = GanLossParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            d_real, d_fake = rng.randint(5, 19) / 20, rng.randint(1, 10) / 20
            return {"d_real": d_real, "d_fake": d_fake, "player": "discriminator"}
        if level is Difficulty.MEDIUM:
            return {
                "d_fake": rng.randint(10, 90) / 100,
                "player": rng.choice(["generator_minimax", "generator_nonsaturating"]),
            }
        return {  # early training: the discriminator easily rejects the fakes
            "d_fake": rng.randint(1, 50) / 1000,
            "player": rng.choice(["generator_minimax", "generator_nonsaturating"]),
        }

    def ask(self, p: GanLossParams) -> Localized:
        en_loss, zh_loss = _LOSS_TEXT[p.player]
        if p.player == "discriminator":
            return Localized(
                en=f"The discriminator outputs D(x) = {f(p.d_real or 0)} on a real sample and "
                f"D(G(z)) = {f(p.d_fake)} on a fake one. What is its loss {en_loss} (natural log)?",
                zh=f"判别器对真实样本输出 D(x) = {f(p.d_real or 0)}，对生成样本输出 D(G(z)) = "
                f"{f(p.d_fake)}。它的损失 {zh_loss} 是多少（自然对数）？",
            )
        return Localized(
            en=f"The discriminator outputs D(G(z)) = {f(p.d_fake)} on a generated sample. What is "
            f"{en_loss}, with the natural log?",
            zh=f"判别器对生成样本输出 D(G(z)) = {f(p.d_fake)}。{zh_loss} 是多少（自然对数）？",
        )

    def solve(self, p: GanLossParams) -> Solved:
        value = gan_loss_value(p.player, p.d_real, p.d_fake)
        if p.player == "discriminator":
            real = p.d_real or 0.0
            working = (
                f"-ln {f(real)} - ln(1 - {f(p.d_fake)}) = {f(-math.log(real))} + "
                f"{f(-math.log1p(-p.d_fake))} = {f(value)}"
            )
        elif p.player == "generator_minimax":
            working = f"ln(1 - {f(p.d_fake)}) = {f(value)}"
        else:
            working = f"-ln {f(p.d_fake)} = {f(value)}"
        bce_en, bce_zh = _BCE_TEXT[p.player]
        solution = Localized(en=f"{working}. ({bce_en})", zh=f"{working}。（{bce_zh}）")
        candidates: list[KnownMistake | None] = [
            mistake(
                "log10",
                value / math.log(10),
                "GAN losses use the natural log ln, not log10.",
                "GAN 的损失用自然对数 ln，不是 log10。",
            ),
            mistake(
                "log2",
                value / math.log(2),
                "GAN losses use the natural log ln, not log2.",
                "GAN 的损失用自然对数 ln，不是 log2。",
            ),
            mistake(
                "sign",
                -value,
                "Check the sign: ln of a probability is negative.",
                "注意符号：概率的对数是负数。",
            ),
        ]
        if p.player == "discriminator":
            real = p.d_real or 0.0
            candidates += [
                mistake(
                    "one_term",
                    -math.log(real),
                    "The discriminator's loss has two terms: the real sample's -ln D(x) and the "
                    "fake sample's -ln(1 - D(G(z))).",
                    "判别器的损失有两项：真实样本的 -ln D(x) 和生成样本的 -ln(1 - D(G(z)))。",
                ),
                mistake(
                    "one_term",
                    -math.log1p(-p.d_fake),
                    "The discriminator's loss has two terms: the real sample's -ln D(x) and the "
                    "fake sample's -ln(1 - D(G(z))).",
                    "判别器的损失有两项：真实样本的 -ln D(x) 和生成样本的 -ln(1 - D(G(z)))。",
                ),
                mistake(
                    "fake_label_swapped",
                    -math.log(real) - math.log(p.d_fake),
                    "For the fake sample the discriminator's target is 0: the term is "
                    "-ln(1 - D(G(z))), not -ln D(G(z)).",
                    "对生成样本判别器的目标是 0：这一项是 -ln(1 - D(G(z)))，不是 -ln D(G(z))。",
                ),
            ]
        else:
            other = (
                "generator_nonsaturating"
                if p.player == "generator_minimax"
                else "generator_minimax"
            )
            candidates.append(
                mistake(
                    "other_generator_loss",
                    gan_loss_value(other, None, p.d_fake),
                    "That is the other generator loss: minimax is ln(1 - D(G(z))), "
                    "non-saturating is -ln D(G(z)).",
                    "这是另一种生成器损失：minimax 是 ln(1 - D(G(z)))，非饱和是 -ln D(G(z))。",
                )
            )
        # The loss's formula is in the question: the hint is how to read it, not its value.
        hint = Localized(en=f"{bce_en} Use the natural log.", zh=f"{bce_zh}用自然对数。")
        return Solved(value, solution, tuple(m for m in candidates if m is not None), hint=hint)


# --- gan_generator_grad -------------------------------------------------------------------


class GanGeneratorGradParams(Params):
    d_fake: Probability
    loss: Literal["minimax", "nonsaturating"]
    wrt: Literal["logit", "d"] = "logit"


def generator_grad(d_fake: float, loss: str, wrt: str) -> float:
    """∂L/∂(logit) or ∂L/∂D by autograd, with D = σ(logit)."""
    if wrt == "logit":
        leaf = scalar(math.log(d_fake) - math.log1p(-d_fake), grad=True)
        d = torch.sigmoid(leaf)
    else:
        leaf = scalar(d_fake, grad=True)
        d = leaf
    value = torch.log1p(-d) if loss == "minimax" else -torch.log(d)
    (grad,) = torch.autograd.grad(value, leaf)
    return float(grad.item())


class GanGeneratorGrad(Family[GanGeneratorGradParams]):
    name = "gan_generator_grad"
    summary = "derivative of that generator loss w.r.t. the discriminator's logit or its output"
    params_model = GanGeneratorGradParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            return {
                "d_fake": rng.randint(1, 39) / 40,
                "loss": rng.choice(["minimax", "nonsaturating"]),
            }
        if level is Difficulty.MEDIUM:
            return {
                "d_fake": rng.randint(2, 95) / 100,
                "loss": rng.choice(["minimax", "nonsaturating"]),
                "wrt": rng.choice(["logit", "d"]),
            }
        return {  # the saturation story: D(G(z)) near 0 early in training
            "d_fake": rng.randint(1, 40) / 1000,
            "loss": rng.choice(["minimax", "nonsaturating"]),
            "wrt": "logit",
        }

    def ask(self, p: GanGeneratorGradParams) -> Localized:
        loss_en = (
            "the minimax loss L = ln(1 - D(G(z)))"
            if p.loss == "minimax"
            else "the non-saturating loss L = -ln D(G(z))"
        )
        loss_zh = (
            " minimax 损失 L = ln(1 - D(G(z)))"
            if p.loss == "minimax"
            else "非饱和损失 L = -ln D(G(z))"
        )
        target_en = "its logit a (D = σ(a))" if p.wrt == "logit" else "the output D"
        target_zh = " logit a（D = σ(a)）" if p.wrt == "logit" else "输出 D "
        return Localized(
            en=f"The discriminator outputs D(G(z)) = {f(p.d_fake)} on a generated sample. The "
            f"generator minimises {loss_en}. What is ∂L/∂{'a' if p.wrt == 'logit' else 'D'}, the "
            f"derivative with respect to {target_en}?",
            zh=f"判别器对生成样本输出 D(G(z)) = {f(p.d_fake)}。生成器最小化{loss_zh}。"
            f"L 对{target_zh}的导数 ∂L/∂{'a' if p.wrt == 'logit' else 'D'} 是多少？",
        )

    def solve(self, p: GanGeneratorGradParams) -> Solved:
        value = generator_grad(p.d_fake, p.loss, p.wrt)
        d = p.d_fake
        formulas = {
            ("minimax", "logit"): f"∂/∂a ln(1 - σ(a)) = -σ(a) = -D = {f(value)}",
            ("minimax", "d"): f"∂/∂D ln(1 - D) = -1/(1 - D) = -1/{f(1 - d)} = {f(value)}",
            ("nonsaturating", "logit"): f"∂/∂a (-ln σ(a)) = -(1 - σ(a)) = -(1 - D) = {f(value)}",
            ("nonsaturating", "d"): f"∂/∂D (-ln D) = -1/D = -1/{f(d)} = {f(value)}",
        }
        working = formulas[(p.loss, p.wrt)]
        note_en = note_zh = ""
        if p.wrt == "logit":
            note_en = (
                " When D(G(z)) is near 0 (early training) the minimax gradient -D vanishes while "
                "the non-saturating one stays near -1: why the non-saturating loss is used."
            )
            note_zh = (
                "当 D(G(z)) 接近 0（训练初期）时，minimax 的梯度 -D 趋于 0，而非饱和损失的梯度接近 "
                "-1："
                "这就是实践中使用非饱和损失的原因。"
            )
        solution = Localized(
            en=f"By the chain rule, {working}.{note_en}", zh=f"由链式法则，{working}。{note_zh}"
        )
        other_loss = "nonsaturating" if p.loss == "minimax" else "minimax"
        other_wrt = "d" if p.wrt == "logit" else "logit"
        candidates = [
            mistake(
                "sign",
                -value,
                "Check the sign: the generator minimises L, and L decreases as D(G(z)) grows.",
                "注意符号：生成器最小化 L，而 L 随 D(G(z)) 增大而减小。",
            ),
            mistake(
                "other_loss",
                generator_grad(d, other_loss, p.wrt),
                "That is the gradient of the other generator loss.",
                "这是另一种生成器损失的梯度。",
            ),
            mistake(
                "wrt_d" if p.wrt == "logit" else "wrt_logit",
                generator_grad(d, p.loss, other_wrt),
                "That is the derivative with respect to D itself; through the sigmoid, "
                "dD/da = D(1 - D) multiplies it."
                if p.wrt == "logit"
                else "That is the derivative with respect to the logit a; the question asks "
                "for ∂L/∂D (no sigmoid factor D(1 - D)).",
                "这是对 D 本身的导数；经过 sigmoid 还要乘以 dD/da = D(1 - D)。"
                if p.wrt == "logit"
                else "这是对 logit a 的导数；题目问的是 ∂L/∂D（不乘 sigmoid 的导数 D(1 - D)）。",
            ),
        ]
        return Solved(value, solution, tuple(candidates))
