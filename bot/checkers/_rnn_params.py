"""Parameter counts of recurrent layers: rnn_params (nn.RNN/LSTM/GRU on the meta device)."""

from __future__ import annotations

from random import Random
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from bot.checkers._base import Family, Params, Solved, _not_bool, mistake
from bot.checkers._params import Width, n
from bot.checkers._torch import count_params, meta_rnn
from bot.core.models import Difficulty, Localized

# --- rnn_params -------------------------------------------------------------------------------

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


class RnnParamsParams(Params):
    cell: Literal["rnn", "lstm", "gru"]
    input_size: Width
    hidden_size: Width
    num_layers: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=16)] = 1
    bidirectional: bool = False
    bias: bool = True


def rnn_count(
    cell: str,
    i: int,
    h: int,
    layers: int,
    bi: bool,
    bias: bool,
    *,
    two_bias: bool = True,
    stacked_input: bool = True,
) -> int:
    """The closed form (used for the known mistakes; the key itself comes from torch)."""
    g = _GATES[cell]
    dirs = 2 if bi else 1
    total = 0
    for layer in range(layers):
        layer_in = i if layer == 0 or not stacked_input else h * dirs
        per_dir = g * h * (layer_in + h) + (g * h * (2 if two_bias else 1) if bias else 0)
        total += dirs * per_dir
    return total


_ONE_BIAS = (
    "That is the textbook count with one bias vector per gate block (Keras' SimpleRNN and LSTM "
    "count the same); PyTorch keeps two, b_ih and b_hh, so the biases count 2·g·h.",
    "这是教科书的计数，每组门一个偏置向量（Keras 的 SimpleRNN 和 LSTM 也这样算）；PyTorch 有 "
    "b_ih 和 b_hh 两个，偏置是 2·g·h 个。",
)
_ONE_BIAS_GRU = (
    "That counts one bias vector per gate block, like the original GRU and Keras with "
    "reset_after=False. PyTorch keeps two, b_ih and b_hh (so does Keras' default, "
    "reset_after=True), so the biases count 2·3·h. In a GRU the second one is not redundant: "
    "the candidate uses r ⊙ (W_hn h + b_hn), so b_hn is scaled by the reset gate.",
    "这是每组门只算一个偏置向量，和原始 GRU 以及 Keras 的 reset_after=False 一样。PyTorch 有 "
    "b_ih 和 b_hh 两个（Keras 默认的 reset_after=True 也是两个），偏置是 2·3·h 个。在 GRU 里"
    "第二个偏置并不多余：候选状态用的是 r ⊙ (W_hn h + b_hn)，b_hn 要乘以重置门。",
)


class RnnParams(Family[RnnParamsParams]):
    name = "rnn_params"
    summary = "parameters of nn.RNN/LSTM/GRU (two bias vectors per gate block)"
    params_model = RnnParamsParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        if level is Difficulty.EASY:
            cell = rng.choice(["lstm", "lstm", "rnn", "gru"])
            return {
                "cell": cell,
                "input_size": rng.choice([50, 100, 128, 200, 256, 300]),
                "hidden_size": rng.choice([64, 128, 256, 512]),
            }
        if level is Difficulty.MEDIUM:
            return {
                "cell": rng.choice(["lstm", "gru"]),
                "input_size": rng.choice([100, 256, 300, 512]),
                "hidden_size": rng.choice([256, 512, 1024]),
                "num_layers": rng.choice([1, 2]),
                "bias": rng.random() < 0.8,
            }
        return {
            "cell": rng.choice(["lstm", "gru", "lstm"]),
            "input_size": rng.choice([256, 300, 512, 768, 1024]),
            "hidden_size": rng.choice([128, 256, 512, 1024]),
            "num_layers": rng.choice([2, 3, 4]),
            "bidirectional": True,
        }

    def ask(self, p: RnnParamsParams) -> Localized:
        module = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}[p.cell]
        extras_en, extras_zh = [], []
        if p.num_layers != 1:
            extras_en.append(f"num_layers={p.num_layers}")
            extras_zh.append(f"num_layers={p.num_layers}")
        if p.bidirectional:
            extras_en.append("bidirectional=True")
            extras_zh.append("bidirectional=True")
        if not p.bias:
            extras_en.append("bias=False")
            extras_zh.append("bias=False")
        args = ", ".join([f"input_size={p.input_size}", f"hidden_size={p.hidden_size}", *extras_en])
        args_zh = ", ".join(
            [f"input_size={p.input_size}", f"hidden_size={p.hidden_size}", *extras_zh]
        )
        return Localized(
            en=f"How many learnable parameters does {module}({args}) have? Count them as PyTorch "
            "does (each gate block has an input bias b_ih and a hidden bias b_hh).",
            zh=f"{module}({args_zh}) 有多少个可学习参数？按 PyTorch 的方式计算"
            "（每组门都有输入偏置 b_ih 和隐藏偏置 b_hh 两个偏置向量）。",
        )

    def solve(self, p: RnnParamsParams) -> Solved:
        module = meta_rnn(
            p.cell, p.input_size, p.hidden_size, p.num_layers, p.bidirectional, p.bias
        )
        total = count_params(module)
        g, h, dirs = _GATES[p.cell], p.hidden_size, 2 if p.bidirectional else 1
        lines_en, lines_zh = [], []
        for layer in range(p.num_layers):
            layer_in = p.input_size if layer == 0 else h * dirs
            weights = g * h * (layer_in + h)
            biases = 2 * g * h if p.bias else 0
            lines_en.append(
                f"layer {layer}: {g}·{h}·({layer_in} + {h}) + {biases} = {n(weights + biases)}"
                + (f" per direction, ×2 = {n(2 * (weights + biases))}" if dirs == 2 else "")
            )
            lines_zh.append(
                f"第 {layer} 层：{g}·{h}·({layer_in} + {h}) + {biases} = {n(weights + biases)}"
                + (f"（每个方向），×2 = {n(2 * (weights + biases))}" if dirs == 2 else "")
            )
        gate_en = {
            "rnn": "1 block",
            "lstm": "4 gate blocks (i, f, g, o)",
            "gru": "3 gate blocks (r, z, n)",
        }
        gate_zh = {"rnn": "1 组", "lstm": "4 组门（i、f、g、o）", "gru": "3 组门（r、z、n）"}
        stacked_en = (
            f"Later layers take the previous layer's output ({'2h' if dirs == 2 else 'h'}) as "
            "input. "
            if p.num_layers > 1
            else ""
        )
        stacked_zh = (
            f"后面的层以前一层的输出（{'2h' if dirs == 2 else 'h'}）为输入。"
            if p.num_layers > 1
            else ""
        )
        bias_rule_en = " + 2·g·h biases (b_ih and b_hh)" if p.bias else " (bias=False: no biases)"
        bias_rule_zh = " + 2·g·h 个偏置（b_ih 和 b_hh）" if p.bias else "（bias=False：没有偏置）"
        solution = Localized(
            en=f"{p.cell.upper()} has {gate_en[p.cell]}; per layer and direction: "
            f"g·h·(input + h) weights{bias_rule_en}. {stacked_en}"
            + "; ".join(lines_en)
            + f". Total = {n(total)}.",
            zh=f"{p.cell.upper()} 有 {gate_zh[p.cell]}；每层每个方向：g·h·(输入 + h) 个权重"
            f"{bias_rule_zh}。{stacked_zh}" + "；".join(lines_zh) + f"。合计 {n(total)}。",
        )
        args = (p.cell, p.input_size, h, p.num_layers, p.bidirectional, p.bias)
        candidates = [
            mistake(
                "one_bias",
                rnn_count(*args, two_bias=False),
                *_ONE_BIAS_GRU if p.cell == "gru" else _ONE_BIAS,
            )
            if p.bias
            else None,
            mistake(
                "forgot_bias",
                rnn_count(*args[:5], False),
                "You forgot the biases: PyTorch has b_ih and b_hh for every gate block.",
                "漏算了偏置：PyTorch 每组门都有 b_ih 和 b_hh。",
            )
            if p.bias
            else None,
            mistake(
                "added_bias",
                rnn_count(*args[:5], True),
                "With bias=False the layer has no bias vectors at all.",
                "bias=False 时完全没有偏置向量。",
            )
            if not p.bias
            else None,
            mistake(
                "single_gate",
                rnn_count("rnn", *args[1:]),
                f"{'An' if p.cell == 'lstm' else 'A'} {p.cell.upper()} has {g} gate blocks, each "
                "with its own weights: multiply "
                f"by {g}.",
                f"{p.cell.upper()} 有 {g} 组门，每组都有自己的权重：要乘以 {g}。",
            )
            if g > 1
            else None,
            mistake(
                "ignored_bidirectional",
                rnn_count(p.cell, p.input_size, h, p.num_layers, False, p.bias),
                "bidirectional=True doubles every layer (a forward and a backward copy), and "
                "layers above the first take 2h inputs.",
                "bidirectional=True 时每层都有正向和反向两份参数，而且第一层以上的输入是 2h。",
            )
            if p.bidirectional
            else None,
            mistake(
                "stacked_input",
                rnn_count(*args, stacked_input=False),
                "Layers above the first take the previous layer's hidden state as input "
                f"({'2h' if dirs == 2 else 'h'}), not input_size.",
                f"第一层以上的层以前一层的隐藏状态为输入（{'2h' if dirs == 2 else 'h'}），"
                "而不是 input_size。",
            )
            if p.num_layers > 1
            else None,
        ]
        return Solved(total, solution, tuple(m for m in candidates if m is not None))
