"""Property tests: for every family, the torch answer key equals an independent closed form,
an answer rounded to four significant figures is accepted, and every known wrong answer is
recognised with its named feedback.

Two sources of variants per family: seeds (the questions the bot really asks) and parameters
drawn by hypothesis over wide ranges (what authors can ask through `check`).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.checkers import CheckRequestError, Problem, TorchCheckers
from bot.core.models import Verdict
from bot.shared.texts import grade_text

from . import closed_forms as cf

FAMILIES = [
    "conv_output",
    "pool_output",
    "convtranspose_output",
    "conv_params",
    "separable_conv_params",
    "linear_params",
    "batchnorm_params",
    "embedding_params",
    "rnn_params",
    "model_params",
    "conv_macs",
    "receptive_field",
    "activation",
    "softmax_cross_entropy",
    "mlp_backprop",
    "optimizer_step",
    "clip_grad_norm",
    "batchnorm_forward",
    "dropout_scale",
    "gan_optimal_discriminator",
    "gan_loss",
    "gan_generator_grad",
    "skipgram_pairs",
    "vanishing_sigmoid_bound",
    "conv_shape",
    "lstm_step",
    "gru_step",
    "rnn_output_shape",
    "mha_params",
    "sdpa_output",
    "attention_cost",
    "separable_conv_macs",
    "layernorm_forward",
    "lr_schedule",
    "wasserstein_1d",
    "gradient_penalty",
    "sgns_loss",
    "sgns_grad",
    "noise_distribution",
    "subsample_keep",
]

# CHECKERS_EXAMPLES=5000 for a longer hunt; 200 keeps the suite quick.
PROPERTY = settings(
    max_examples=int(os.environ.get("CHECKERS_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def closed_form(family: str, p: dict[str, Any]) -> Any:
    """The expected answer from the formulas in closed_forms.py (plain Python)."""
    if family == "conv_output":
        return cf.conv_output(p["n"], p["k"], p["s"], p["p"], p["d"])
    if family == "conv_shape":
        side = cf.conv_output(p["n"], p["k"], p["s"], p["p"], p["d"])
        return [p["c_out"], side, side]
    if family == "pool_output":
        return cf.pool_output(p["n"], p["k"], p["s"], p["p"], p["d"], p["ceil_mode"])
    if family == "convtranspose_output":
        return cf.convtranspose_output(p["n"], p["k"], p["s"], p["p"], p["output_padding"], p["d"])
    if family == "conv_params":
        return cf.conv_params(p["c_in"], p["c_out"], p["k"], p["bias"], p["groups"])
    if family == "separable_conv_params":
        return cf.separable_conv_params(p["c_in"], p["c_out"], p["k"], p["bias"])
    if family == "linear_params":
        return cf.linear_params(p["n_in"], p["n_out"], p["bias"])
    if family == "batchnorm_params":
        return 2 * p["c"]
    if family == "embedding_params":
        return p["vocab"] * p["dim"]
    if family == "rnn_params":
        return cf.rnn_params(
            p["cell"],
            p["input_size"],
            p["hidden_size"],
            p["num_layers"],
            p["bidirectional"],
            p["bias"],
        )
    if family == "model_params":
        return cf.MODEL_PARAMS[p["model"]]()
    if family == "conv_macs":
        return cf.conv_macs(p["c_in"], p["c_out"], p["k"], p["h_out"], p["w_out"], p["groups"])
    if family == "receptive_field":
        return cf.receptive_field(p["k"], p["s"], p["d"])
    if family == "activation":
        return cf.activation(p["fn"], p["x"], p["derivative"], p["negative_slope"])
    if family == "softmax_cross_entropy":
        if p["output"] == "loss":
            return cf.cross_entropy(p["logits"], p["target"])
        return cf.cross_entropy_grad(p["logits"], p["target"])
    if family == "mlp_backprop":
        return cf.mlp_backprop(p)
    if family == "optimizer_step":
        return cf.optimizer_step(p)
    if family == "clip_grad_norm":
        norm, clipped = cf.clip_grad_norm(p["g"], p["max_norm"])
        return norm if p["output"] == "norm" else clipped
    if family == "batchnorm_forward":
        y, mean, var = cf.batchnorm(p["x"], p["gamma"], p["beta"], p["eps"], p["momentum"])
        return {"y": y, "running_mean": mean, "running_var": var}[p["output"]]
    if family == "dropout_scale":
        return 1 / (1 - p["p"])
    if family == "gan_optimal_discriminator":
        return p["p_data"] / (p["p_data"] + p["p_g"])
    if family == "gan_loss":
        return cf.gan_loss(p["player"], p["d_real"], p["d_fake"])
    if family == "gan_generator_grad":
        return cf.gan_generator_grad(p["d_fake"], p["loss"], p["wrt"])
    if family == "skipgram_pairs":
        return cf.skipgram_pairs(p["n_tokens"], p["window"])
    if family == "vanishing_sigmoid_bound":
        return 0.25 ** p["layers"]
    return _closed_form_issue14(family, p)


def _closed_form_issue14(family: str, p: dict[str, Any]) -> Any:
    if family == "lstm_step":
        return cf.lstm_step(p)
    if family == "gru_step":
        return cf.gru_step(p)
    if family == "rnn_output_shape":
        return cf.rnn_output_shape(p)
    if family == "mha_params":
        return cf.mha_params(p["embed_dim"], p["bias"], p["kdim"], p["vdim"])
    if family == "sdpa_output":
        weights, output = cf.sdpa(p["q"], p["K"], p["V"], p["scale"])
        return weights if p["output"] == "weights" else output
    if family == "attention_cost":
        return cf.attention_cost(p)
    if family == "separable_conv_macs":
        return cf.separable_conv_macs(p["c_in"], p["c_out"], p["k"], p["h_out"], p["w_out"])
    if family == "layernorm_forward":
        return cf.layernorm(p["x"], p["gamma"], p["beta"], p["eps"])
    if family == "lr_schedule":
        return cf.lr_schedule(p)
    if family == "wasserstein_1d":
        return cf.wasserstein_1d(p["x"], p["y"])
    if family == "gradient_penalty":
        return cf.gradient_penalty(p)
    if family == "sgns_loss":
        return cf.sgns_loss(p)
    if family == "sgns_grad":
        return cf.sgns_grad(p)
    if family == "noise_distribution":
        return cf.noise_distribution(p["counts"], p["word"], p["power"])
    if family == "subsample_keep":
        return cf.subsample_keep(p["count"], p["total"], p["t"], p["formula"])
    raise AssertionError(f"no closed form for {family}")


def same(key: Any, reference: Any) -> bool:
    """Integers (and int lists) exactly; reals to ~1e-9 relative."""
    if isinstance(reference, list):
        return (
            isinstance(key, list)
            and len(key) == len(reference)
            and all(same(a, b) for a, b in zip(key, reference, strict=True))
        )
    if isinstance(reference, int) and not isinstance(reference, bool):
        return isinstance(key, int) and key == reference
    return math.isclose(key, reference, rel_tol=1e-9, abs_tol=1e-12)


def four_significant(value: Any) -> str:
    """How a careful person would type the answer: integers exactly, reals to 4 s.f."""
    if isinstance(value, list):
        return "[" + ", ".join(four_significant(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def check_problem(problem: Problem) -> None:
    family = problem.family
    params = problem.params.model_dump(mode="json")
    reference = closed_form(family, params)
    assert same(problem.expected, reference), (family, params, problem.expected, reference)

    grade = problem.grade(four_significant(problem.expected))
    assert grade.verdict is Verdict.CORRECT, (family, params, grade)
    assert grade_text(grade).en.startswith("✅") and grade_text(grade).zh.startswith("✅")

    for known in problem.mistakes:
        wrong = problem.grade(json.dumps(known.value))
        assert wrong.verdict is Verdict.INCORRECT, (family, params, known, wrong)
        assert wrong.mistake == known.id, (family, params, known, wrong)
        assert grade_text(wrong).en.startswith("❌") and grade_text(wrong).zh.startswith("❌")
        assert known.feedback.en in grade_text(wrong).en
        assert known.feedback.zh in grade_text(wrong).zh


@pytest.mark.parametrize("family", FAMILIES)
@PROPERTY
@given(seed=st.integers(min_value=0, max_value=2**63 - 1))
def test_seeded_questions(checkers: TorchCheckers, family: str, seed: int) -> None:
    check_problem(checkers.problem_for_seed(family, seed))


# --- parameters beyond the generators' curated lists ---------------------------------------

small = st.integers
real = st.floats


@st.composite
def conv_like(draw: st.DrawFn) -> dict[str, Any]:
    n, k, d = draw(small(1, 512)), draw(small(1, 11)), draw(small(1, 4))
    padding = draw(st.one_of(small(0, 6), st.sampled_from(["same", "valid"])))
    stride = 1 if padding == "same" else draw(small(1, 5))
    if padding != "same":
        pad = padding if isinstance(padding, int) else 0
        assume(n + 2 * pad >= d * (k - 1) + 1)
    return {"n": n, "k": k, "s": stride, "p": padding, "d": d}


@st.composite
def pool_params(draw: st.DrawFn) -> dict[str, Any]:
    k = draw(small(1, 7))
    params: dict[str, Any] = {
        "n": draw(small(1, 300)),
        "k": k,
        "p": draw(small(0, k // 2)),
        "d": draw(small(1, 3)),
        "ceil_mode": draw(st.booleans()),
    }
    if draw(st.booleans()):
        params["s"] = draw(small(1, 4))
    assume(params["n"] + 2 * params["p"] >= params["d"] * (k - 1) + 1)
    return params


@st.composite
def convtranspose_params(draw: st.DrawFn) -> dict[str, Any]:
    s, d = draw(small(1, 4)), draw(small(1, 3))
    return {
        "n": draw(small(1, 128)),
        "k": draw(small(1, 7)),
        "s": s,
        "p": draw(small(0, 2)),
        "output_padding": draw(small(0, max(s, d) - 1)),
        "d": d,
    }


@st.composite
def grouped(draw: st.DrawFn) -> dict[str, Any]:
    groups = draw(st.sampled_from([1, 1, 2, 4, 8, 32]))
    return {
        "c_in": groups * draw(small(1, 64)),
        "c_out": groups * draw(small(1, 64)),
        "k": draw(small(1, 7)),
        "groups": groups,
    }


@st.composite
def mlp_params(draw: st.DrawFn) -> dict[str, Any]:
    weight = real(-1.5, 1.5)
    n_in, n_hidden, n_out = draw(small(1, 3)), draw(small(1, 3)), draw(small(1, 3))
    params: dict[str, Any] = {
        "x": draw(st.lists(real(-2, 2), min_size=n_in, max_size=n_in)),
        "t": draw(st.lists(real(0, 1), min_size=n_out, max_size=n_out)),
        "W1": [draw(st.lists(weight, min_size=n_in, max_size=n_in)) for _ in range(n_hidden)],
        "b1": draw(st.one_of(weight, st.lists(weight, min_size=n_hidden, max_size=n_hidden))),
        "W2": [draw(st.lists(weight, min_size=n_hidden, max_size=n_hidden)) for _ in range(n_out)],
        "b2": draw(st.one_of(weight, st.lists(weight, min_size=n_out, max_size=n_out))),
        "activation": draw(st.sampled_from(["sigmoid", "tanh", "relu", "identity"])),
        "loss": draw(st.sampled_from(["half_mse", "mse"])),
        "lr": draw(real(0.01, 2)),
        "output": draw(st.sampled_from(["loss", "grad_W1", "grad_W2", "new_W1", "new_W2"])),
    }
    rows, cols = (n_hidden, n_in) if params["output"].endswith("W1") else (n_out, n_hidden)
    params["i"], params["j"] = draw(small(0, rows - 1)), draw(small(0, cols - 1))
    return params


@st.composite
def optimizer_params(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(["sgd", "adam", "adamw", "rmsprop", "adagrad"]))
    params: dict[str, Any] = {
        "optimizer": name,
        "w": draw(real(-5, 5)),
        "g": draw(st.one_of(real(-3, 3), st.lists(real(-3, 3), min_size=1, max_size=4))),
        "lr": draw(real(0.001, 1)),
        "weight_decay": draw(st.sampled_from([0.0, 0.0, 0.01, 0.1, 0.5])),
    }
    if name in ("sgd", "rmsprop"):
        params["momentum"] = draw(st.sampled_from([0.0, 0.5, 0.9]))
    if name == "sgd" and params["momentum"]:
        params["nesterov"] = draw(st.booleans())
    if name in ("adam", "adamw"):
        params["betas"] = [draw(real(0.5, 0.99)), draw(real(0.9, 0.9999))]
    if name == "rmsprop":
        params["alpha"] = draw(real(0.5, 0.999))
    return params


@st.composite
def layers(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(small(1, 8))
    params: dict[str, Any] = {"k": draw(st.lists(small(1, 7), min_size=count, max_size=count))}
    if draw(st.booleans()):
        params["s"] = draw(st.lists(small(1, 3), min_size=count, max_size=count))
    if draw(st.booleans()):
        params["d"] = draw(st.lists(small(1, 3), min_size=count, max_size=count))
    return params


@st.composite
def logits(draw: st.DrawFn) -> dict[str, Any]:
    z = draw(st.lists(real(-10, 10), min_size=2, max_size=8))
    return {
        "logits": z,
        "target": draw(small(0, len(z) - 1)),
        "output": draw(st.sampled_from(["loss", "grad"])),
    }


@st.composite
def densities(draw: st.DrawFn) -> dict[str, Any]:
    p_data, p_g = draw(real(0, 10)), draw(real(0, 10))
    assume(p_data + p_g > 0)
    return {"p_data": p_data, "p_g": p_g}


probability = real(0.001, 0.999)


def _rows(draw: st.DrawFn, count: int, width: int, low: float = -3, high: float = 3) -> Any:
    return [draw(st.lists(real(low, high), min_size=width, max_size=width)) for _ in range(count)]


@st.composite
def cell_params(draw: st.DrawFn, blocks: int) -> dict[str, Any]:
    width, hidden = draw(small(1, 3)), draw(small(1, 2))
    params: dict[str, Any] = {
        "x": draw(st.lists(real(-3, 3), min_size=width, max_size=width)),
        "W_ih": _rows(draw, blocks * hidden, width),
        "W_hh": _rows(draw, blocks * hidden, hidden),
    }
    vector = st.lists(real(-2, 2), min_size=blocks * hidden, max_size=blocks * hidden)
    state = st.lists(real(-2, 2), min_size=hidden, max_size=hidden)
    for name, strategy in [("b_ih", vector), ("b_hh", vector), ("h0", state)]:
        if draw(st.booleans()):
            params[name] = draw(strategy)
    if blocks == 4:
        if draw(st.booleans()):
            params["c0"] = draw(state)
        params["output"] = draw(st.sampled_from(["h", "c"]))
    return params


@st.composite
def rnn_shapes(draw: st.DrawFn) -> dict[str, Any]:
    cell = draw(st.sampled_from(["rnn", "lstm", "gru"]))
    return {
        "cell": cell,
        "input_size": draw(small(1, 2048)),
        "hidden_size": draw(small(1, 2048)),
        "seq_len": draw(small(1, 1000)),
        "batch": draw(small(1, 512)),
        "num_layers": draw(small(1, 6)),
        "bidirectional": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "output": draw(
            st.sampled_from(["output", "h_n", "c_n"] if cell == "lstm" else ["output", "h_n"])
        ),
    }


@st.composite
def mha(draw: st.DrawFn) -> dict[str, Any]:
    heads = draw(small(1, 32))
    params: dict[str, Any] = {
        "embed_dim": heads * draw(small(1, 128)),
        "num_heads": heads,
        "bias": draw(st.booleans()),
    }
    for name in ("kdim", "vdim"):
        if draw(st.booleans()):
            params[name] = draw(small(1, 4096))
    return params


@st.composite
def attention(draw: st.DrawFn) -> dict[str, Any]:
    d, positions, d_v = draw(small(1, 4)), draw(small(2, 5)), draw(small(1, 3))
    params: dict[str, Any] = {
        "q": draw(st.lists(real(-3, 3), min_size=d, max_size=d)),
        "K": _rows(draw, positions, d),
        "V": _rows(draw, positions, d_v),
        "output": draw(st.sampled_from(["output", "weights"])),
    }
    if draw(st.booleans()):
        params["scale"] = draw(real(0.01, 4))
    return params


@st.composite
def attention_costs(draw: st.DrawFn) -> dict[str, Any]:
    heads = draw(small(1, 32))
    return {
        "seq_len": draw(small(1, 16384)),
        "d_model": heads * draw(small(1, 256)),
        "heads": heads,
        "batch": draw(small(1, 64)),
        "quantity": draw(st.sampled_from(["flops", "macs", "memory"])),
        "dtype": draw(st.sampled_from(["float32", "float16", "bfloat16"])),
    }


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, Any]:
    schedule = draw(st.sampled_from(["cosine", "step"]))
    params: dict[str, Any] = {
        "schedule": schedule,
        "base_lr": draw(real(1e-5, 1)),
        "warmup": draw(st.sampled_from([0, 0, 1, 3, 10])),
        "start_factor": draw(real(0.001, 1)),
        "gamma": draw(real(0.01, 1)),
        "step_size": draw(small(1, 50)),
        "t_max": draw(small(1, 200)),
    }
    params["eta_min"] = draw(real(0, params["base_lr"]))
    limit = params["warmup"] + (params["t_max"] if schedule == "cosine" else 300)
    params["epoch"] = draw(small(0, limit))
    return params


@st.composite
def samples(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(small(1, 8))
    values = st.lists(real(-10, 10), min_size=size, max_size=size)
    return {"x": draw(values), "y": draw(values)}


@st.composite
def penalties(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(small(1, 4))
    point = st.lists(real(-3, 3), min_size=size, max_size=size)
    return {
        "x_real": draw(point),
        "x_fake": draw(point),
        "w": draw(point),
        "a": draw(real(-2, 2)),
        "eps": draw(real(0, 1)),
        "lam": draw(st.sampled_from([1, 10, 5.0])),
        "output": draw(st.sampled_from(["penalty", "grad_norm"])),
    }


@st.composite
def sgns(draw: st.DrawFn, grad: bool) -> dict[str, Any]:
    size, negatives = draw(small(1, 4)), draw(small(1, 5))
    vector = st.lists(real(-3, 3), min_size=size, max_size=size)
    params: dict[str, Any] = {
        "v_c": draw(vector),
        "u_o": draw(vector),
        "u_neg": [draw(vector) for _ in range(negatives)],
    }
    if grad:
        params["wrt"] = draw(st.sampled_from(["center", "context", "negative"]))
        params["k"] = draw(small(0, negatives - 1))
    return params


@st.composite
def unigram(draw: st.DrawFn) -> dict[str, Any]:
    counts = draw(st.lists(small(1, 10**9), min_size=2, max_size=12))
    return {
        "counts": counts,
        "word": draw(small(0, len(counts) - 1)),
        "power": draw(st.sampled_from([0.75, 0.75, 0.5, 1.0])),
    }


@st.composite
def subsampling(draw: st.DrawFn) -> dict[str, Any]:
    total = draw(small(1, 10**10))
    return {
        "count": draw(small(1, total)),
        "total": total,
        "t": draw(st.sampled_from([1e-5, 1e-4, 1e-3])),
        "formula": draw(st.sampled_from(["paper", "code"])),
    }


STRATEGIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "conv_output": conv_like(),
    "conv_shape": st.builds(
        lambda conv, c_in, c_out: {**conv, "c_in": c_in, "c_out": c_out},
        conv_like(),
        small(1, 512),
        small(1, 512),
    ),
    "pool_output": pool_params(),
    "convtranspose_output": convtranspose_params(),
    "conv_params": st.builds(lambda g, bias: {**g, "bias": bias}, grouped(), st.booleans()),
    "separable_conv_params": st.fixed_dictionaries(
        {
            "c_in": small(1, 1024),
            "c_out": small(1, 1024),
            "k": small(1, 7),
            "bias": st.booleans(),
        }
    ),
    "linear_params": st.fixed_dictionaries(
        {"n_in": small(1, 100_000), "n_out": small(1, 100_000), "bias": st.booleans()}
    ),
    "batchnorm_params": st.fixed_dictionaries({"c": small(1, 100_000)}),
    "embedding_params": st.fixed_dictionaries(
        {"vocab": small(1, 1_000_000), "dim": small(1, 2048)}
    ),
    "rnn_params": st.fixed_dictionaries(
        {
            "cell": st.sampled_from(["rnn", "lstm", "gru"]),
            "input_size": small(1, 1024),
            "hidden_size": small(1, 1024),
            "num_layers": small(1, 4),
            "bidirectional": st.booleans(),
            "bias": st.booleans(),
        }
    ),
    "model_params": st.fixed_dictionaries({"model": st.sampled_from(sorted(cf.MODEL_PARAMS))}),
    "conv_macs": st.builds(
        lambda g, h, w: {**g, "h_out": h, **({"w_out": w} if w else {})},
        grouped(),
        small(1, 256),
        st.one_of(st.none(), small(1, 256)),
    ),
    "receptive_field": layers(),
    "activation": st.fixed_dictionaries(
        {
            "fn": st.sampled_from(
                [
                    "sigmoid",
                    "tanh",
                    "relu",
                    "leaky_relu",
                    "elu",
                    "gelu",
                    "gelu_tanh",
                    "silu",
                    "softplus",
                ]
            ),
            "x": st.one_of(st.just(0.0), real(-6, 6)),
            "derivative": st.booleans(),
            "negative_slope": real(0, 0.5),
        }
    ),
    "softmax_cross_entropy": logits(),
    "mlp_backprop": mlp_params(),
    "optimizer_step": optimizer_params(),
    "clip_grad_norm": st.fixed_dictionaries(
        {
            "g": st.lists(real(-20, 20), min_size=1, max_size=10),
            "max_norm": real(0.01, 50),
            "output": st.sampled_from(["clipped", "norm"]),
        }
    ),
    "batchnorm_forward": st.fixed_dictionaries(
        {
            "x": st.lists(real(-10, 10), min_size=2, max_size=8),
            "gamma": real(-3, 3),
            "beta": real(-3, 3),
            "eps": st.sampled_from([1e-5, 1e-3, 0.1]),
            "momentum": real(0, 1),
            "output": st.sampled_from(["y", "running_mean", "running_var"]),
        }
    ),
    "dropout_scale": st.fixed_dictionaries({"p": real(0, 0.99)}),
    "gan_optimal_discriminator": densities(),
    "gan_loss": st.fixed_dictionaries(
        {
            "d_real": probability,
            "d_fake": probability,
            "player": st.sampled_from(
                ["discriminator", "generator_minimax", "generator_nonsaturating"]
            ),
        }
    ),
    "gan_generator_grad": st.fixed_dictionaries(
        {
            "d_fake": probability,
            "loss": st.sampled_from(["minimax", "nonsaturating"]),
            "wrt": st.sampled_from(["logit", "d"]),
        }
    ),
    "skipgram_pairs": st.fixed_dictionaries(
        {"n_tokens": st.one_of(small(1, 2000), small(1, 10**9)), "window": small(1, 20)}
    ),
    "vanishing_sigmoid_bound": st.fixed_dictionaries({"layers": small(1, 200)}),
    "lstm_step": cell_params(4),
    "gru_step": cell_params(3),
    "rnn_output_shape": rnn_shapes(),
    "mha_params": mha(),
    "sdpa_output": attention(),
    "attention_cost": attention_costs(),
    "separable_conv_macs": st.builds(
        lambda c_in, c_out, k, h, w: {
            "c_in": c_in,
            "c_out": c_out,
            "k": k,
            "h_out": h,
            **({"w_out": w} if w else {}),
        },
        small(1, 2048),
        small(1, 2048),
        small(1, 11),
        small(1, 512),
        st.one_of(st.none(), small(1, 512)),
    ),
    "layernorm_forward": st.fixed_dictionaries(
        {
            "x": st.lists(real(-10, 10), min_size=2, max_size=8),
            "gamma": st.one_of(real(-3, 3), st.lists(real(-3, 3), min_size=2, max_size=2)),
            "beta": real(-3, 3),
            "eps": st.sampled_from([1e-5, 1e-3, 0.1, 0.5]),
        }
    ),
    "lr_schedule": schedules(),
    "wasserstein_1d": samples(),
    "gradient_penalty": penalties(),
    "sgns_loss": sgns(grad=False),
    "sgns_grad": sgns(grad=True),
    "noise_distribution": unigram(),
    "subsample_keep": subsampling(),
}


def test_every_family_has_a_strategy(checkers: TorchCheckers) -> None:
    assert sorted(STRATEGIES) == sorted(FAMILIES) == sorted(checkers.family_names())


@pytest.mark.parametrize("family", FAMILIES)
@PROPERTY
@given(data=st.data())
def test_drawn_parameters(checkers: TorchCheckers, family: str, data: st.DataObject) -> None:
    params = data.draw(STRATEGIES[family])
    try:
        problem = checkers.solve(family, params)
    except CheckRequestError as error:
        # Only the documented impossible configurations may be refused.
        assert "impossible configuration" in error.message, (family, params, error.message)
        assume(False)
    check_problem(problem)


@pytest.mark.parametrize("model", sorted(cf.PUBLISHED))
def test_model_counts_are_the_published_ones(checkers: TorchCheckers, model: str) -> None:
    assert cf.MODEL_PARAMS[model]() == cf.PUBLISHED[model]
    assert checkers.solve("model_params", {"model": model}).expected == cf.PUBLISHED[model]


def test_lstm_matches_the_textbook_formula_with_two_biases(checkers: TorchCheckers) -> None:
    for i, h in [(100, 256), (300, 512), (128, 128), (1, 1)]:
        key = checkers.solve("rnn_params", {"cell": "lstm", "input_size": i, "hidden_size": h})
        assert key.expected == 4 * h * (i + h) + 8 * h


def test_sgns_keys_are_exact_past_the_softplus_threshold(checkers: TorchCheckers) -> None:
    """u_k·v_c = 20.4375: softplus's default threshold (20) would make σ exactly 1 and the key
    1.3e-9 off the closed form (hypothesis found it); the keys match it to float64."""
    params: dict[str, Any] = {
        "v_c": [2.0, 2.0, 2.5, 2.75],
        "u_o": [0.0, 0.0, 0.0, 0.0],
        "u_neg": [[1.0, 3.0, 2.5, 2.25]],
        "k": 0,
    }
    for wrt in ("center", "negative"):
        key = checkers.solve("sgns_grad", {**params, "wrt": wrt}).expected
        assert same(key, cf.sgns_grad({**params, "wrt": wrt})), (wrt, key)
    loss = checkers.solve("sgns_loss", {k: v for k, v in params.items() if k != "k"}).expected
    assert same(loss, cf.sgns_loss(params)), loss


def test_softplus_keys_are_exact_past_its_default_threshold(checkers: TorchCheckers) -> None:
    for derivative in (False, True):
        params = {"fn": "softplus", "x": 20.3, "derivative": derivative, "negative_slope": 0.01}
        key = checkers.solve("activation", params).expected
        assert same(key, cf.activation("softplus", 20.3, derivative, 0.01)), (derivative, key)
