"""The shapes nn.RNN/LSTM/GRU return: rnn_output_shape (a forward pass on meta tensors)."""

from __future__ import annotations

from random import Random
from typing import Annotated, Any, Literal, Self

import torch
from pydantic import BeforeValidator, Field, model_validator
from torch import nn

from bot.checkers._base import Family, Params, Solved, _not_bool, mistake
from bot.checkers._torch import META, meta_rnn
from bot.core.answers import KnownMistake
from bot.core.models import Difficulty, Localized

# --- rnn_output_shape -------------------------------------------------------------------------

Layers = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=16)]
Small = Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=100_000)]


class RnnOutputShapeParams(Params):
    cell: Literal["rnn", "lstm", "gru"]
    input_size: Small
    hidden_size: Small
    seq_len: Small
    batch: Small
    num_layers: Layers = 1
    bidirectional: bool = False
    batch_first: bool = False
    output: Literal["output", "h_n", "c_n"] = "output"

    @model_validator(mode="after")
    def _possible(self) -> Self:
        if self.output == "c_n" and self.cell != "lstm":
            raise ValueError(f"nn.{self.cell.upper()} has no cell state c_n (only LSTM does)")
        return self


class RnnOutputShape(Family[RnnOutputShapeParams]):
    name = "rnn_output_shape"
    summary = "shape of output, h_n or c_n of nn.RNN/LSTM/GRU (layers, bidirectional, batch_first)"
    params_model = RnnOutputShapeParams

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        cell = rng.choice(["lstm", "gru", "lstm", "rnn"])
        params: dict[str, Any] = {
            "cell": cell,
            # Sizes chosen so that no two dimensions coincide (a swapped shape stays visible).
            "input_size": rng.choice([10, 30, 50, 100, 300, 80]),
            "hidden_size": rng.choice([16, 20, 64, 128, 256, 512]),
            "seq_len": rng.choice([5, 9, 35, 50, 100]),
            "batch": rng.choice([10, 12, 24, 32, 48, 60]),
        }
        outputs = ["output", "h_n", "c_n"] if cell == "lstm" else ["output", "h_n"]
        if level is Difficulty.EASY:
            params["output"] = "output"
        elif level is Difficulty.MEDIUM:
            params["output"] = rng.choice(outputs)
            params["num_layers"] = rng.choice([1, 2, 3])
            params["batch_first"] = rng.random() < 0.5
        else:
            params["output"] = rng.choice([*outputs[1:], "output"])
            params["num_layers"] = rng.choice([2, 3, 4])
            params["bidirectional"] = True
            params["batch_first"] = rng.random() < 0.7
        return params

    def ask(self, p: RnnOutputShapeParams) -> Localized:
        module = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}[p.cell]
        extras = [f"num_layers={p.num_layers}"] if p.num_layers != 1 else []
        extras += ["bidirectional=True"] if p.bidirectional else []
        extras += ["batch_first=True"] if p.batch_first else []
        args = ", ".join([f"input_size={p.input_size}", f"hidden_size={p.hidden_size}", *extras])
        layout = "(batch, seq_len, features)" if p.batch_first else "(seq_len, batch, features)"
        unpack = "output, (h_n, c_n)" if p.cell == "lstm" else "output, h_n"
        return Localized(
            en=f"rnn = {module}({args}) is called on a batch of {p.batch} sequences of "
            f"{p.seq_len} steps, passed as a tensor of shape {layout}. {unpack} = rnn(x): what "
            f"is the shape of {p.output}? Give it like (a, b, c).",
            zh=f"rnn = {module}({args}) 处理一个批次：{p.batch} 条序列，每条 {p.seq_len} 步，"
            f"输入张量的形状是 {layout}。执行 {unpack} = rnn(x) 后，{p.output} 的形状是什么？"
            "请写成 (a, b, c) 的形式。",
        )

    def solve(self, p: RnnOutputShapeParams) -> Solved:
        module = meta_rnn(
            p.cell,
            p.input_size,
            p.hidden_size,
            p.num_layers,
            p.bidirectional,
            batch_first=p.batch_first,
        )
        x = torch.empty(
            *((p.batch, p.seq_len) if p.batch_first else (p.seq_len, p.batch)),
            p.input_size,
            device=META,
        )
        module.check_input(x, None)
        # The states' layout is torch's own (it reads the batch from the input by batch_first);
        # the output is the top layer's hidden state per step with the input's two leading axes.
        # (Running the recurrence itself on meta tensors costs about a millisecond per step and
        # layer; tests/checkers/test_new_families.py runs it on small cases to confirm.)
        if p.output == "output":
            features = module.hidden_size * (2 if module.bidirectional else 1)
            shape = (*x.shape[:2], features)
        elif p.output == "h_n":
            shape = module.get_expected_hidden_size(x, None)
        else:
            assert isinstance(module, nn.LSTM)
            shape = module.get_expected_cell_size(x, None)
        expected = [int(v) for v in shape]
        d = 2 if p.bidirectional else 1
        h, layers = p.hidden_size, p.num_layers
        b, t = p.batch, p.seq_len
        rule_en = (
            "output holds the top layer's hidden state at every step, directions concatenated: "
            f"({'batch, seq_len' if p.batch_first else 'seq_len, batch'}, D·H) with D = {d}, "
            f"H = {h}"
            if p.output == "output"
            else f"{p.output} holds the last step of every layer and direction: "
            f"(num_layers·D, batch, H) = ({layers}·{d}, {b}, {h}); batch_first does not apply "
            "to the states"
        )
        rule_zh = (
            "output 是最上一层在每个时间步的隐藏状态，两个方向拼接："
            f"({'batch, seq_len' if p.batch_first else 'seq_len, batch'}, D·H)，D = {d}，"
            f"H = {h}"
            if p.output == "output"
            else f"{p.output} 是每一层、每个方向最后一步的状态：(num_layers·D, batch, H) = "
            f"({layers}·{d}, {b}, {h})；batch_first 对状态不起作用"
        )
        shown = "(" + ", ".join(str(v) for v in expected) + ")"
        solution = Localized(en=f"{rule_en}. Shape: {shown}.", zh=f"{rule_zh}。形状：{shown}。")
        candidates: list[KnownMistake | None]
        if p.output == "output":
            swapped = [expected[1], expected[0], expected[2]]
            candidates = [
                mistake(
                    "batch_first_ignored",
                    swapped,
                    "With batch_first=True the output is (batch, seq_len, D·H).",
                    "batch_first=True 时 output 的形状是 (batch, seq_len, D·H)。",
                )
                if p.batch_first
                else mistake(
                    "assumed_batch_first",
                    swapped,
                    "PyTorch's recurrent layers default to batch_first=False: "
                    "(seq_len, batch, D·H).",
                    "PyTorch 的循环层默认 batch_first=False：形状是 (seq_len, batch, D·H)。",
                ),
                mistake(
                    "not_doubled",
                    [expected[0], expected[1], h],
                    "A bidirectional layer concatenates both directions: the last dimension "
                    "is 2·H.",
                    "双向层会把两个方向拼接起来：最后一维是 2·H。",
                )
                if p.bidirectional
                else None,
                mistake(
                    "input_size_last",
                    [expected[0], expected[1], p.input_size],
                    "The features of the output are the hidden units, not the input features.",
                    "output 的特征维是隐藏单元数，而不是输入特征数。",
                ),
            ]
        else:
            state = f"{p.output}"
            candidates = [
                mistake(
                    "state_batch_first",
                    [b, layers * d, h],
                    f"batch_first only changes the input and output; {state} is always "
                    "(num_layers·D, batch, H).",
                    f"batch_first 只影响输入和 output；{state} 的形状始终是 "
                    "(num_layers·D, batch, H)。",
                )
                if p.batch_first
                else None,
                mistake(
                    "layers_only",
                    [layers, b, h],
                    f"{state} has one entry per layer and direction: num_layers·D = {layers}·{d}.",
                    f"{state} 每一层、每个方向各一个：num_layers·D = {layers}·{d}。",
                )
                if p.bidirectional
                else None,
                mistake(
                    "directions_in_last",
                    [layers, b, d * h],
                    f"The directions are stacked in the first dimension of {state}, not "
                    "concatenated in the last as in output.",
                    f"{state} 把两个方向叠在第一维，而不是像 output 那样拼接在最后一维。",
                )
                if p.bidirectional
                else None,
                mistake(
                    "like_output",
                    [b, t, d * h] if p.batch_first else [t, b, d * h],
                    f"That is the shape of output (every step); {state} keeps only the last "
                    "step, per layer and direction.",
                    f"这是 output 的形状（每个时间步）；{state} 只保留最后一步，"
                    "每层每个方向各一个。",
                ),
            ]
        if p.output == "output":
            hint = Localized(
                en="output holds the top layer's hidden state at every step, both directions "
                "concatenated: (seq_len, batch, D·H), or (batch, seq_len, D·H) with "
                "batch_first=True; D = 2 if bidirectional, else 1.",
                zh="output 保存最上层在每个时间步的隐藏状态，两个方向拼接：(seq_len, batch, D·H)，"
                "batch_first=True 时为 (batch, seq_len, D·H)；双向时 D = 2，否则为 1。",
            )
        else:
            hint = Localized(
                en=f"{p.output} keeps only the last step, one entry per layer and direction: "
                "(num_layers·D, batch, H), whatever batch_first says.",
                zh=f"{p.output} 只保留最后一步，每层每个方向各一个：(num_layers·D, batch, H)，"
                "与 batch_first 无关。",
            )
        return Solved(expected, solution, tuple(m for m in candidates if m is not None), hint=hint)
