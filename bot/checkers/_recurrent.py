"""Recurrent cells step by step: one LSTM step, one GRU step (the shapes are in `_rnn_shapes`).

The steps run the real `nn.LSTMCell` / `nn.GRUCell` (built on the meta device, called with the
given float64 weights through `torch.func.functional_call`, so no random initialisation runs).
"""

from __future__ import annotations

import math
import threading
from random import Random
from typing import Annotated, Any, Literal, Self

import torch
from pydantic import Field, model_validator
from torch import nn
from torch.func import functional_call

from bot.checkers._base import Params, Real, Solved, mistake
from bot.checkers._telling import TellingFamily
from bot.checkers._torch import F64, META
from bot.checkers._values import f, fl
from bot.core.answers import Expected, KnownMistake
from bot.core.models import Difficulty, Localized

Vec = Annotated[list[Real], Field(min_length=1, max_length=4)]
Mat = Annotated[list[Vec], Field(min_length=1, max_length=16)]

_GRID = [-1.0, -0.5, 0.5, 1.0, 1.5]
_INPUTS = [-1.0, -0.5, 0.5, 1.0, 2.0]


def fm(rows: list[list[float]]) -> str:
    """A matrix as the questions show it: [[0.5], [-1], ...]."""
    return "[" + ", ".join(fl(row) for row in rows) + "]"


def _value(values: list[float]) -> Expected:
    """One hidden unit gives a number, several a list."""
    return values[0] if len(values) == 1 else values


def _check_cell(
    blocks: int,
    x: list[float],
    w_ih: list[list[float]],
    w_hh: list[list[float]],
    vectors: dict[str, list[float] | None],
) -> None:
    hidden, width = len(w_hh[0]), len(x)
    if len(w_hh) != blocks * hidden or any(len(row) != hidden for row in w_hh):
        raise ValueError(f"W_hh must be {blocks}·H rows of H numbers (H = len of a row)")
    if len(w_ih) != blocks * hidden or any(len(row) != width for row in w_ih):
        raise ValueError(f"W_ih must be {blocks}·H = {blocks * hidden} rows of len(x) = {width}")
    for name, vector in vectors.items():
        size = hidden if name in ("h0", "c0") else blocks * hidden
        if vector is not None and len(vector) != size:
            raise ValueError(f"{name} must have {size} numbers")


def _sigmoid(value: float) -> float:
    return 1 / (1 + math.exp(-value))


def _dot(row: list[float], values: list[float]) -> float:
    return sum(w * v for w, v in zip(row, values, strict=True))


def _tensor(values: list[float] | list[list[float]]) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def _zeros_if_none(values: list[float] | None, size: int) -> list[float]:
    return list(values) if values is not None else [0.0] * size


def _draw_column(rng: Random, rows: int) -> list[list[float]]:
    """A weight column with a different value in every gate row (so that swapping gate rows
    is a visible mistake)."""
    return [[v] for v in rng.sample(_GRID, rows)]


def _draw_matrix(rng: Random, rows: int, cols: int) -> list[list[float]]:
    columns = [[row[0] for row in _draw_column(rng, rows)] for _ in range(cols)]
    return [[columns[c][r] for c in range(cols)] for r in range(rows)]


def _cell_args(p: LstmStepParams | GruStepParams) -> tuple[str, str]:
    return (
        f"W_ih = {fm(p.W_ih)}, W_hh = {fm(p.W_hh)}, b_ih = "
        f"{fl(p.b_ih) if p.b_ih is not None else 'zeros'}, b_hh = "
        f"{fl(p.b_hh) if p.b_hh is not None else 'zeros'}",
        f"W_ih = {fm(p.W_ih)}，W_hh = {fm(p.W_hh)}，b_ih = "
        f"{fl(p.b_ih) if p.b_ih is not None else '全零'}，b_hh = "
        f"{fl(p.b_hh) if p.b_hh is not None else '全零'}",
    )


# --- lstm_step --------------------------------------------------------------------------------


class LstmStepParams(Params):
    x: Vec = Field(description="the input x_t")
    W_ih: Mat = Field(description="weight_ih, 4H rows (gates i, f, g, o) of len(x)")
    W_hh: Mat = Field(description="weight_hh, 4H rows of H")
    b_ih: Annotated[list[Real], Field(max_length=16)] | None = Field(
        default=None, description="bias_ih (default zeros)"
    )
    b_hh: Annotated[list[Real], Field(max_length=16)] | None = Field(
        default=None, description="bias_hh (default zeros)"
    )
    h0: Vec | None = Field(default=None, description="h_(t-1) (default zeros)")
    c0: Vec | None = Field(default=None, description="c_(t-1) (default zeros)")
    output: Literal["h", "c"] = "h"

    @model_validator(mode="after")
    def _possible(self) -> Self:
        _check_cell(
            4,
            self.x,
            self.W_ih,
            self.W_hh,
            {"b_ih": self.b_ih, "b_hh": self.b_hh, "h0": self.h0, "c0": self.c0},
        )
        return self


class MetaCells:
    """Meta-device cells by size, built once per family instance (their random initialisation
    on meta costs more than the step itself); each call passes its own weights through
    functional_call, which swaps them into the shared module: one call at a time."""

    def __init__(self) -> None:
        self._cells: dict[tuple[type[nn.Module], int, int], nn.Module] = {}
        self.lock = threading.Lock()

    def get(self, cls: type[nn.Module], width: int, hidden: int) -> nn.Module:
        key = (cls, width, hidden)
        with self.lock:
            cell = self._cells.get(key)
            if cell is None:
                if len(self._cells) > 64:
                    self._cells.clear()
                cell = self._cells[key] = cls(width, hidden, device=META, dtype=F64)
        return cell


def lstm_cell(p: LstmStepParams, cells: MetaCells) -> tuple[list[float], list[float], torch.Tensor]:
    """(h1, c1, gate pre-activations) from the real nn.LSTMCell."""
    hidden, width = len(p.W_hh[0]), len(p.x)
    params = {
        "weight_ih": _tensor(p.W_ih),
        "weight_hh": _tensor(p.W_hh),
        "bias_ih": _tensor(_zeros_if_none(p.b_ih, 4 * hidden)),
        "bias_hh": _tensor(_zeros_if_none(p.b_hh, 4 * hidden)),
    }
    cell = cells.get(nn.LSTMCell, width, hidden)
    x = _tensor(p.x).unsqueeze(0)
    h0 = _tensor(_zeros_if_none(p.h0, hidden)).unsqueeze(0)
    c0 = _tensor(_zeros_if_none(p.c0, hidden)).unsqueeze(0)
    with cells.lock:
        h1, c1 = functional_call(cell, params, (x, (h0, c0)))
    gates = (
        x @ params["weight_ih"].T
        + params["bias_ih"]
        + h0 @ params["weight_hh"].T
        + params["bias_hh"]
    )[0]
    return [float(v) for v in h1[0]], [float(v) for v in c1[0]], gates


class LstmStep(TellingFamily[LstmStepParams]):
    name = "lstm_step"
    summary = "h_t or c_t after one nn.LSTMCell step (gate order i, f, g, o)"
    params_model = LstmStepParams

    def __init__(self) -> None:
        super().__init__()
        self._cells = MetaCells()

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        width = 2 if level is Difficulty.HARD else 1
        params: dict[str, Any] = {
            "x": [rng.choice(_INPUTS) for _ in range(width)],
            "W_ih": _draw_matrix(rng, 4, width),
            "W_hh": _draw_column(rng, 4),
            "output": rng.choice(["h", "c"]),
        }
        if level is not Difficulty.EASY:
            params["h0"] = [rng.choice(_INPUTS[:4])]
            params["c0"] = [rng.choice(_INPUTS)]
        if level is Difficulty.HARD:
            params["b_ih"] = [rng.choice([-0.5, 0.0, 0.5]) for _ in range(4)]
            params["b_hh"] = [rng.choice([-0.5, 0.5, 1.0]) for _ in range(4)]
        return params

    def quick(self, p: LstmStepParams) -> tuple[float, dict[str, float]] | None:
        """`work`'s key and mistakes for one hidden unit (what `draw_once` draws), in floats."""
        if len(p.W_hh[0]) != 1:
            return None
        h0, c0 = _zeros_if_none(p.h0, 1)[0], _zeros_if_none(p.c0, 1)[0]
        b_ih, b_hh = _zeros_if_none(p.b_ih, 4), _zeros_if_none(p.b_hh, 4)
        weighted = [_dot(p.W_ih[k], p.x) + p.W_hh[k][0] * h0 for k in range(4)]
        pre = [weighted[k] + (b_ih[k] + b_hh[k]) for k in range(4)]
        si, sf, tg, so = _sigmoid(pre[0]), _sigmoid(pre[1]), math.tanh(pre[2]), _sigmoid(pre[3])
        c1 = sf * c0 + si * tg
        h1 = so * math.tanh(c1)
        hidden_out = p.output == "h"

        def out(o_pre: float, cell: float) -> float:
            return _sigmoid(o_pre) * math.tanh(cell) if hidden_out else cell

        sig_g_c = sf * c0 + si * _sigmoid(pre[2])
        values = {"cell_state": c1} if hidden_out else {"hidden_state": h1}
        if hidden_out:
            values["no_tanh_on_cell"] = so * c1
        values["sigmoid_candidate"] = out(pre[3], sig_g_c)
        values["gate_order"] = out(pre[2], sf * c0 + si * math.tanh(pre[3]))
        if p.b_hh is not None and any(p.b_hh):
            one = [weighted[k] + b_ih[k] for k in range(4)]
            values["one_bias"] = out(
                one[3], _sigmoid(one[1]) * c0 + _sigmoid(one[0]) * math.tanh(one[2])
            )
        if p.c0 is not None and any(p.c0):
            values["forgot_old_cell"] = out(pre[3], si * tg)
        return (h1 if hidden_out else c1), values

    def ask(self, p: LstmStepParams) -> Localized:
        hidden = len(p.W_hh[0])
        args_en, args_zh = _cell_args(p)
        h0 = fl(p.h0) if p.h0 is not None else "zeros"
        c0 = fl(p.c0) if p.c0 is not None else "zeros"
        h0_zh = fl(p.h0) if p.h0 is not None else "全零"
        c0_zh = fl(p.c0) if p.c0 is not None else "全零"
        what_en = "the new hidden state h_t" if p.output == "h" else "the new cell state c_t"
        what_zh = "新的隐藏状态 h_t" if p.output == "h" else "新的细胞状态 c_t"
        shape = "a number" if hidden == 1 else f"a list of {hidden} numbers"
        shape_zh = "一个数" if hidden == 1 else f"由 {hidden} 个数组成的列表"
        return Localized(
            en=f"An nn.LSTMCell(input_size={len(p.x)}, hidden_size={hidden}) has the weights "
            f"{args_en} (PyTorch layout: the rows are the gate blocks i, f, g, o). Given "
            f"x_t = {fl(p.x)}, h_(t-1) = {h0} and c_(t-1) = {c0}, what is {what_en}? "
            f"Give {shape}.",
            zh=f"一个 nn.LSTMCell(input_size={len(p.x)}, hidden_size={hidden}) 的权重为 "
            f"{args_zh}（PyTorch 的排列：各行依次是 i、f、g、o 四组门）。已知 x_t = {fl(p.x)}，"
            f"h_(t-1) = {h0_zh}，c_(t-1) = {c0_zh}，求{what_zh}。请给出{shape_zh}。",
        )

    def work(self, p: LstmStepParams) -> Solved:
        h1, c1, gates = lstm_cell(p, self._cells)
        hidden = len(h1)
        i, fg, g, o = (gates[k * hidden : (k + 1) * hidden] for k in range(4))
        si, sf, tg, so = torch.sigmoid(i), torch.sigmoid(fg), torch.tanh(g), torch.sigmoid(o)
        c0 = _tensor(_zeros_if_none(p.c0, hidden))
        c1_t = _tensor(c1)
        asked = h1 if p.output == "h" else c1
        x, h0 = _tensor(p.x), _tensor(_zeros_if_none(p.h0, hidden))
        b_ih = _tensor(_zeros_if_none(p.b_ih, 4 * hidden))
        b_hh = _tensor(_zeros_if_none(p.b_hh, 4 * hidden))
        rows = [slice(k * hidden, (k + 1) * hidden) for k in range(4)]
        weighted = _tensor(p.W_ih) @ x + _tensor(p.W_hh) @ h0

        def by_hand(order: list[int], bias: torch.Tensor) -> list[float]:
            """The step written out with the gate rows read in another order or another bias
            (for the mistakes; the key is the module's)."""
            summed = weighted + bias
            pre = torch.cat([summed[rows[k]] for k in order])
            i_, f_, g_, o_ = (pre[r] for r in rows)
            c_ = torch.sigmoid(f_) * c0 + torch.sigmoid(i_) * torch.tanh(g_)
            out = torch.sigmoid(o_) * torch.tanh(c_) if p.output == "h" else c_
            return [float(v) for v in out]

        values = (fl(gates.tolist()), fl(si.tolist()), fl(sf.tolist()), fl(tg.tolist()))
        lines = (
            f"pre-activations W_ih·x + b_ih + W_hh·h + b_hh = {values[0]}; "
            f"i = σ = {values[1]}, f = σ = {values[2]}, g = tanh = {values[3]}, "
            f"o = σ = {fl(so.tolist())}"
        )
        lines_zh = (
            f"预激活值 W_ih·x + b_ih + W_hh·h + b_hh = {values[0]}；"
            f"i = σ = {values[1]}，f = σ = {values[2]}，g = tanh = {values[3]}，"
            f"o = σ = {fl(so.tolist())}"
        )
        solution = Localized(
            en=f"PyTorch's LSTM: {lines}. c_t = f·c_(t-1) + i·g = {fl(sf.tolist())}·"
            f"{fl(c0.tolist())} + {fl(si.tolist())}·{fl(tg.tolist())} = {fl(c1)}; "
            f"h_t = o·tanh(c_t) = {fl(so.tolist())}·{fl(torch.tanh(c1_t).tolist())} = {fl(h1)}."
            f" Answer: {fl(asked) if hidden > 1 else f(asked[0])}.",
            zh=f"PyTorch 的 LSTM：{lines_zh}。"
            f"c_t = f·c_(t-1) + i·g = {fl(sf.tolist())}·{fl(c0.tolist())} + "
            f"{fl(si.tolist())}·{fl(tg.tolist())} = {fl(c1)}；h_t = o·tanh(c_t) = "
            f"{fl(so.tolist())}·{fl(torch.tanh(c1_t).tolist())} = {fl(h1)}。"
            f"答案：{fl(asked) if hidden > 1 else f(asked[0])}。",
        )
        sig_g_c = sf * c0 + si * torch.sigmoid(g)
        candidates: list[KnownMistake | None] = [
            mistake(
                "cell_state",
                _value(c1),
                "That is the cell state c_t; the hidden state is h_t = o·tanh(c_t).",
                "这是细胞状态 c_t；隐藏状态是 h_t = o·tanh(c_t)。",
            )
            if p.output == "h"
            else mistake(
                "hidden_state",
                _value(h1),
                "That is the hidden state h_t = o·tanh(c_t); the question asks for c_t.",
                "这是隐藏状态 h_t = o·tanh(c_t)；题目问的是细胞状态 c_t。",
            ),
            mistake(
                "no_tanh_on_cell",
                _value((so * c1_t).tolist()),
                "h_t = o·tanh(c_t): the cell state goes through tanh before the output gate.",
                "h_t = o·tanh(c_t)：细胞状态要先经过 tanh 再乘输出门。",
            )
            if p.output == "h"
            else None,
            mistake(
                "sigmoid_candidate",
                _value((so * torch.tanh(sig_g_c) if p.output == "h" else sig_g_c).tolist()),
                "The candidate g uses tanh (values in (-1, 1)), not the sigmoid of the gates.",
                "候选值 g 用的是 tanh（取值在 (-1, 1)），而不是门所用的 sigmoid。",
            ),
            mistake(
                "gate_order",
                _value(by_hand([0, 1, 3, 2], b_ih + b_hh)),
                "PyTorch stacks the gate rows as i, f, g, o (input, forget, cell candidate, "
                "output); reading them as i, f, o, g swaps the candidate and the output gate.",
                "PyTorch 的门按 i、f、g、o（输入门、遗忘门、候选值、输出门）的顺序排列；"
                "按 i、f、o、g 读会把候选值和输出门弄反。",
            ),
            mistake(
                "one_bias",
                _value(by_hand([0, 1, 2, 3], b_ih)),
                "PyTorch adds both biases, b_ih and b_hh, to every gate's pre-activation.",
                "PyTorch 在每个门的预激活值上同时加 b_ih 和 b_hh 两个偏置。",
            )
            if p.b_hh is not None and any(p.b_hh)
            else None,
            mistake(
                "forgot_old_cell",
                _value((so * torch.tanh(si * tg) if p.output == "h" else si * tg).tolist()),
                "c_t = f·c_(t-1) + i·g: the forget gate keeps part of the old cell state.",
                "c_t = f·c_(t-1) + i·g：遗忘门会保留一部分旧的细胞状态。",
            )
            if p.c0 is not None and any(p.c0)
            else None,
        ]
        return Solved(_value(asked), solution, tuple(m for m in candidates if m is not None))


# --- gru_step ---------------------------------------------------------------------------------


class GruStepParams(Params):
    x: Vec = Field(description="the input x_t")
    W_ih: Mat = Field(description="weight_ih, 3H rows (gates r, z, n) of len(x)")
    W_hh: Mat = Field(description="weight_hh, 3H rows of H")
    b_ih: Annotated[list[Real], Field(max_length=12)] | None = Field(
        default=None, description="bias_ih (default zeros)"
    )
    b_hh: Annotated[list[Real], Field(max_length=12)] | None = Field(
        default=None, description="bias_hh (default zeros)"
    )
    h0: Vec | None = Field(default=None, description="h_(t-1) (default zeros)")

    @model_validator(mode="after")
    def _possible(self) -> Self:
        _check_cell(
            3, self.x, self.W_ih, self.W_hh, {"b_ih": self.b_ih, "b_hh": self.b_hh, "h0": self.h0}
        )
        return self


def gru_cell(p: GruStepParams, cells: MetaCells) -> list[float]:
    """h1 from the real nn.GRUCell."""
    hidden, width = len(p.W_hh[0]), len(p.x)
    params = {
        "weight_ih": _tensor(p.W_ih),
        "weight_hh": _tensor(p.W_hh),
        "bias_ih": _tensor(_zeros_if_none(p.b_ih, 3 * hidden)),
        "bias_hh": _tensor(_zeros_if_none(p.b_hh, 3 * hidden)),
    }
    cell = cells.get(nn.GRUCell, width, hidden)
    x = _tensor(p.x).unsqueeze(0)
    h0 = _tensor(_zeros_if_none(p.h0, hidden)).unsqueeze(0)
    with cells.lock:
        h1 = functional_call(cell, params, (x, h0))
    return [float(v) for v in h1[0]]


class GruStep(TellingFamily[GruStepParams]):
    name = "gru_step"
    summary = "h_t after one nn.GRUCell step (gate order r, z, n; h_t = (1-z)·n + z·h)"
    params_model = GruStepParams

    def __init__(self) -> None:
        super().__init__()
        self._cells = MetaCells()

    def plausible(self, params: dict[str, Any]) -> bool:
        """Most variants where a mistake is invisible have z near 1/2 (z and 1 - z alike), a
        saturated reset gate or nothing for it to scale, or equal r and z rows."""
        b_ih, b_hh = params.get("b_ih", [0.0] * 3), params.get("b_hh", [0.0] * 3)
        inputs = [
            sum(w * v for w, v in zip(params["W_ih"][row], params["x"], strict=True)) + b_ih[row]
            for row in range(3)
        ]
        hidden = [params["W_hh"][row][0] * params["h0"][0] + b_hh[row] for row in range(3)]
        r, z = inputs[0] + hidden[0], inputs[1] + hidden[1]
        candidate = inputs[2] + hidden[2] / (1 + math.exp(-r))  # tanh saturates beyond ~2
        return bool(
            0.3 <= abs(z) <= 2.5
            and abs(r) <= 2.5
            and abs(hidden[2]) >= 0.3
            and abs(r - z) >= 0.3
            and abs(candidate) <= 1.8
        )

    def draw_once(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        width = 2 if level is Difficulty.HARD else 1
        params: dict[str, Any] = {
            "x": [rng.choice(_INPUTS) for _ in range(width)],
            "W_ih": _draw_matrix(rng, 3, width),
            "W_hh": _draw_column(rng, 3),
            "h0": [rng.choice(_INPUTS[:4])],
        }
        if level is not Difficulty.EASY:
            params["b_hh"] = [rng.choice([-0.5, 0.5, 1.0]) for _ in range(3)]
        if level is Difficulty.HARD:
            params["b_ih"] = [rng.choice([-0.5, 0.0, 0.5]) for _ in range(3)]
        return params

    def quick(self, p: GruStepParams) -> tuple[float, dict[str, float]] | None:
        """`work`'s key and mistakes for one hidden unit (what `draw_once` draws), in floats."""
        if len(p.W_hh[0]) != 1:
            return None
        h0 = _zeros_if_none(p.h0, 1)[0]
        b_ih, b_hh = _zeros_if_none(p.b_ih, 3), _zeros_if_none(p.b_hh, 3)
        gi = [_dot(p.W_ih[k], p.x) + b_ih[k] for k in range(3)]
        hh = [p.W_hh[k][0] * h0 for k in range(3)]
        gh = [hh[k] + b_hh[k] for k in range(3)]

        def step(r_pre: float, z_pre: float, hidden_n: float) -> float:
            r_, z_ = _sigmoid(r_pre), _sigmoid(z_pre)
            return (1 - z_) * math.tanh(gi[2] + r_ * hidden_n) + z_ * h0

        r, z = _sigmoid(gi[0] + gh[0]), _sigmoid(gi[1] + gh[1])
        n_gate = math.tanh(gi[2] + r * gh[2])
        values = {"swapped_update": z * n_gate + (1 - z) * h0}
        if p.b_hh is not None and any(p.b_hh[2:]):
            cho_n = math.tanh(gi[2] + p.W_hh[2][0] * (r * h0) + b_hh[2])
            values["reset_before_matmul"] = (1 - z) * cho_n + z * h0
        values["no_reset"] = (1 - z) * math.tanh(gi[2] + gh[2]) + z * h0
        values["gate_order"] = step(gi[1] + gh[1], gi[0] + gh[0], gh[2])
        if p.b_hh is not None and any(p.b_hh):
            values["one_bias"] = step(gi[0] + hh[0], gi[1] + hh[1], hh[2])
        return (1 - z) * n_gate + z * h0, values

    def ask(self, p: GruStepParams) -> Localized:
        hidden = len(p.W_hh[0])
        args_en, args_zh = _cell_args(p)
        h0 = fl(p.h0) if p.h0 is not None else "zeros"
        h0_zh = fl(p.h0) if p.h0 is not None else "全零"
        shape = "a number" if hidden == 1 else f"a list of {hidden} numbers"
        shape_zh = "一个数" if hidden == 1 else f"由 {hidden} 个数组成的列表"
        return Localized(
            en=f"An nn.GRUCell(input_size={len(p.x)}, hidden_size={hidden}) has the weights "
            f"{args_en} (PyTorch layout: the rows are the gate blocks r, z, n). Given "
            f"x_t = {fl(p.x)} and h_(t-1) = {h0}, what is the new hidden state h_t, as PyTorch "
            f"computes it? Give {shape}.",
            zh=f"一个 nn.GRUCell(input_size={len(p.x)}, hidden_size={hidden}) 的权重为 "
            f"{args_zh}（PyTorch 的排列：各行依次是 r、z、n 三组门）。已知 x_t = {fl(p.x)}，"
            f"h_(t-1) = {h0_zh}，按 PyTorch 的计算方式，新的隐藏状态 h_t 是多少？"
            f"请给出{shape_zh}。",
        )

    def work(self, p: GruStepParams) -> Solved:
        h1 = gru_cell(p, self._cells)
        hidden = len(h1)
        x, h0 = _tensor(p.x), _tensor(_zeros_if_none(p.h0, hidden))
        w_ih, w_hh = _tensor(p.W_ih), _tensor(p.W_hh)
        b_ih = _tensor(_zeros_if_none(p.b_ih, 3 * hidden))
        b_hh = _tensor(_zeros_if_none(p.b_hh, 3 * hidden))
        gi, gh = w_ih @ x + b_ih, w_hh @ h0 + b_hh
        block = [slice(k * hidden, (k + 1) * hidden) for k in range(3)]
        r = torch.sigmoid(gi[block[0]] + gh[block[0]])
        z = torch.sigmoid(gi[block[1]] + gh[block[1]])
        n_gate = torch.tanh(gi[block[2]] + r * gh[block[2]])
        weights = (w_ih, w_hh, b_ih, b_hh)

        def by_hand(
            wi: torch.Tensor, wh: torch.Tensor, bi: torch.Tensor, bh: torch.Tensor
        ) -> list[float]:
            """The step written out with other weights (for the mistakes; the key is the
            module's)."""
            gates_i, gates_h = wi @ x + bi, wh @ h0 + bh
            r_ = torch.sigmoid(gates_i[block[0]] + gates_h[block[0]])
            z_ = torch.sigmoid(gates_i[block[1]] + gates_h[block[1]])
            n_ = torch.tanh(gates_i[block[2]] + r_ * gates_h[block[2]])
            return [float(v) for v in (1 - z_) * n_ + z_ * h0]

        solution = Localized(
            en=f"r = σ(W_ir·x + b_ir + W_hr·h + b_hr) = {fl(r.tolist())}; z = σ(...) = "
            f"{fl(z.tolist())}; n = tanh(W_in·x + b_in + r·(W_hn·h + b_hn)) = "
            f"{fl(n_gate.tolist())} (PyTorch applies r after the hidden matmul and its bias); "
            f"h_t = (1 - z)·n + z·h_(t-1) = {fl((1 - z).tolist())}·{fl(n_gate.tolist())} + "
            f"{fl(z.tolist())}·{fl(h0.tolist())} = {fl(h1)}.",
            zh=f"r = σ(W_ir·x + b_ir + W_hr·h + b_hr) = {fl(r.tolist())}；z = σ(...) = "
            f"{fl(z.tolist())}；n = tanh(W_in·x + b_in + r·(W_hn·h + b_hn)) = "
            f"{fl(n_gate.tolist())}（PyTorch 在隐藏状态的矩阵乘法和偏置之后才乘 r）；"
            f"h_t = (1 - z)·n + z·h_(t-1) = {fl((1 - z).tolist())}·{fl(n_gate.tolist())} + "
            f"{fl(z.tolist())}·{fl(h0.tolist())} = {fl(h1)}。",
        )
        cho_n = torch.tanh(gi[block[2]] + w_hh[block[2]] @ (r * h0) + b_hh[block[2]])
        no_reset_n = torch.tanh(gi[block[2]] + gh[block[2]])
        candidates: list[KnownMistake | None] = [
            mistake(
                "swapped_update",
                _value((z * n_gate + (1 - z) * h0).tolist()),
                "In PyTorch h_t = (1 - z)·n + z·h_(t-1): z is the share of the old state kept "
                "(some texts swap the roles of z and 1 - z).",
                "PyTorch 中 h_t = (1 - z)·n + z·h_(t-1)：z 是保留旧状态的比例"
                "（有些教材把 z 和 1 - z 的角色对调）。",
            ),
            mistake(
                "reset_before_matmul",
                _value(((1 - z) * cho_n + z * h0).tolist()),
                "That is the original paper's form W_hn·(r·h) + b_hn; PyTorch (like cuDNN) "
                "computes r·(W_hn·h + b_hn), so r also scales the hidden bias.",
                "这是原论文的形式 W_hn·(r·h) + b_hn；PyTorch（与 cuDNN 相同）计算的是 "
                "r·(W_hn·h + b_hn)，所以 r 也会缩放隐藏偏置。",
            )
            if p.b_hh is not None and any(p.b_hh[2 * hidden :])
            else None,
            mistake(
                "no_reset",
                _value(((1 - z) * no_reset_n + z * h0).tolist()),
                "The reset gate r multiplies the hidden part of the candidate n.",
                "重置门 r 要乘在候选值 n 的隐藏状态部分上。",
            ),
            mistake(
                "gate_order",
                _value(
                    by_hand(*(torch.cat([t[block[1]], t[block[0]], t[block[2]]]) for t in weights))
                ),
                "PyTorch stacks the rows as r, z, n; Keras stores z, r, h, so weights read in "
                "Keras order swap the reset and update gates.",
                "PyTorch 的行顺序是 r、z、n；Keras 存的是 z、r、h，按 Keras 的顺序读权重会把"
                "重置门和更新门弄反。",
            ),
            mistake(
                "one_bias",
                _value(by_hand(w_ih, w_hh, b_ih, torch.zeros_like(b_hh))),
                "PyTorch has two bias vectors, b_ih and b_hh; both enter the gates.",
                "PyTorch 有 b_ih 和 b_hh 两个偏置向量，两者都要加进门里。",
            )
            if p.b_hh is not None and any(p.b_hh)
            else None,
        ]
        return Solved(_value(h1), solution, tuple(m for m in candidates if m is not None))
