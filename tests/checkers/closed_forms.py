"""Independent answer keys in plain Python (math only, no torch, nothing from bot.checkers).

The checkers compute their keys with torch; the property tests assert that these textbook
formulas, written separately here, agree on many random variants.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


# --- shapes ---------------------------------------------------------------------------------


def conv_output(n: int, k: int, s: int, p: Any, d: int) -> int:
    if p == "same":
        return n
    pad = 0 if p == "valid" else p
    return math.floor((n + 2 * pad - d * (k - 1) - 1) / s) + 1


def pool_output(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = (n + 2 * p - d * (k - 1) - 1) / s
    if not ceil_mode:
        return math.floor(span) + 1
    out = math.ceil(span) + 1
    # PyTorch: the last pooling window must start inside the input or the left padding.
    if (out - 1) * s >= n + p:
        out -= 1
    return out


def convtranspose_output(n: int, k: int, s: int, p: int, op: int, d: int) -> int:
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def receptive_field(k: list[int], s: list[int], d: list[int]) -> int:
    """Walk one output unit back to the input: its span [lo, hi] grows layer by layer."""
    lo, hi = 0, 0
    for kernel, stride, dilation in reversed(list(zip(k, s, d, strict=True))):
        lo, hi = lo * stride, hi * stride + dilation * (kernel - 1)
    return hi - lo + 1


# --- counts -----------------------------------------------------------------------------------


def conv_params(c_in: int, c_out: int, k: int, bias: bool = True, groups: int = 1) -> int:
    return c_out * (c_in // groups * k * k) + (c_out if bias else 0)


def separable_conv_params(c_in: int, c_out: int, k: int, bias: bool) -> int:
    return c_in * k * k + c_in * c_out + ((c_in + c_out) if bias else 0)


def linear_params(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def rnn_params(
    cell: str, input_size: int, hidden: int, layers: int, bidirectional: bool, bias: bool
) -> int:
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(layers):
        width = input_size if layer == 0 else hidden * directions
        per_direction = gates * hidden * width + gates * hidden * hidden
        if bias:
            per_direction += 2 * gates * hidden  # PyTorch: b_ih and b_hh
        total += directions * per_direction
    return total


def conv_macs(c_in: int, c_out: int, k: int, h: int, w: int, groups: int) -> int:
    return c_out * h * w * (c_in // groups) * k * k


def skipgram_pairs(n: int, window: int) -> int:
    if n <= 2000:  # small texts: enumerate the pairs themselves
        return sum(
            1
            for centre in range(n)
            for other in range(max(0, centre - window), min(n, centre + window + 1))
            if other != centre
        )
    return 2 * sum(max(0, n - o) for o in range(1, window + 1))


# --- whole models ---------------------------------------------------------------------------


def _bn(c: int) -> int:
    return 2 * c


def lenet5() -> int:
    return (
        conv_params(1, 6, 5)
        + conv_params(6, 16, 5)
        + linear_params(16 * 5 * 5, 120)
        + linear_params(120, 84)
        + linear_params(84, 10)
    )


def alexnet() -> int:
    convs = (
        conv_params(3, 64, 11)
        + conv_params(64, 192, 5)
        + conv_params(192, 384, 3)
        + conv_params(384, 256, 3)
        + conv_params(256, 256, 3)
    )
    return (
        convs
        + linear_params(256 * 6 * 6, 4096)
        + linear_params(4096, 4096)
        + linear_params(4096, 1000)
    )


def vgg16(widths: list[int] | None = None) -> int:
    """VGG's convs (3×3, padding 1, with bias) then the 4096-4096-1000 classifier."""
    widths = widths or [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    total, c_in = 0, 3
    for c_out in widths:
        total += conv_params(c_in, c_out, 3)
        c_in = c_out
    return (
        total
        + linear_params(512 * 7 * 7, 4096)
        + linear_params(4096, 4096)
        + linear_params(4096, 1000)
    )


def resnet(depths: list[int], bottleneck: bool) -> int:
    total = conv_params(3, 64, 7, bias=False) + _bn(64)
    c_in = 64
    expansion = 4 if bottleneck else 1
    for stage, depth in enumerate(depths):
        planes = 64 * 2**stage
        for block in range(depth):
            stride = 2 if stage > 0 and block == 0 else 1
            out = planes * expansion
            if bottleneck:
                total += conv_params(c_in, planes, 1, bias=False) + _bn(planes)
                total += conv_params(planes, planes, 3, bias=False) + _bn(planes)
                total += conv_params(planes, out, 1, bias=False) + _bn(out)
            else:
                total += conv_params(c_in, planes, 3, bias=False) + _bn(planes)
                total += conv_params(planes, planes, 3, bias=False) + _bn(planes)
            if stride != 1 or c_in != out:
                total += conv_params(c_in, out, 1, bias=False) + _bn(out)
            c_in = out
    return total + linear_params(c_in, 1000)


MODEL_PARAMS: dict[str, Callable[[], int]] = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": lambda: resnet([2, 2, 2, 2], bottleneck=False),
    "resnet50": lambda: resnet([3, 4, 6, 3], bottleneck=True),
    "vgg11": lambda: vgg16([64, 128, 256, 256, 512, 512, 512, 512]),
    "vgg13": lambda: vgg16([64, 64, 128, 128, 256, 256, 512, 512, 512, 512]),
    "vgg19": lambda: vgg16([64, 64, 128, 128, *[256] * 4, *[512] * 8]),
    "resnet34": lambda: resnet([3, 4, 6, 3], bottleneck=False),
    "resnet101": lambda: resnet([3, 4, 23, 3], bottleneck=True),
    "resnet152": lambda: resnet([3, 8, 36, 3], bottleneck=True),
}
PUBLISHED = {  # the counts everyone quotes, as a check on the check
    "lenet5": 61_706,
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "vgg11": 132_863_336,
    "vgg13": 133_047_848,
    "vgg19": 143_667_240,
    "resnet34": 21_797_672,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
}


# --- values ---------------------------------------------------------------------------------


def activation(fn: str, x: float, derivative: bool, slope: float) -> float:
    s = sigmoid(x)
    cdf = 0.5 * (1 + math.erf(x / math.sqrt(2)))
    pdf = math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    c = math.sqrt(2 / math.pi)
    u = c * (x + 0.044715 * x**3)
    if not derivative:
        return {
            "sigmoid": s,
            "tanh": math.tanh(x),
            "relu": max(0.0, x),
            "leaky_relu": x if x > 0 else slope * x,
            "elu": x if x > 0 else math.expm1(x),
            "gelu": x * cdf,
            "gelu_tanh": 0.5 * x * (1 + math.tanh(u)),
            "silu": x * s,
            "softplus": math.log1p(math.exp(x)) if x < 30 else x,
        }[fn]
    # Where the function has a kink, PyTorch's autograd picks the x <= 0 branch
    # (relu'(0) = 0, leaky_relu'(0) = slope); ELU is smooth at 0 (derivative 1).
    return {
        "sigmoid": s * (1 - s),
        "tanh": 1 - math.tanh(x) ** 2,
        "relu": 1.0 if x > 0 else 0.0,
        "leaky_relu": 1.0 if x > 0 else slope,
        "elu": 1.0 if x > 0 else math.exp(x),
        "gelu": cdf + x * pdf,
        "gelu_tanh": 0.5 * (1 + math.tanh(u))
        + 0.5 * x * (1 - math.tanh(u) ** 2) * c * (1 + 3 * 0.044715 * x * x),
        "silu": s + x * s * (1 - s),
        "softplus": s,
    }[fn]


def softmax(z: list[float]) -> list[float]:
    top = max(z)
    exps = [math.exp(v - top) for v in z]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy(z: list[float], target: int) -> float:
    top = max(z)
    return top + math.log(sum(math.exp(v - top) for v in z)) - z[target]


def cross_entropy_grad(z: list[float], target: int) -> list[float]:
    return [p - (1.0 if i == target else 0.0) for i, p in enumerate(softmax(z))]


def mlp_backprop(params: dict[str, Any]) -> Any:
    """Forward, backward and one SGD step of the 2-layer MLP, by hand."""
    act_name = params["activation"]

    def act(z: float) -> float:
        if act_name == "sigmoid":
            return sigmoid(z)
        if act_name == "tanh":
            return math.tanh(z)
        if act_name == "relu":
            return max(0.0, z)
        return z

    def slope(z: float, a: float) -> float:
        if act_name == "sigmoid":
            return a * (1 - a)
        if act_name == "tanh":
            return 1 - a * a
        if act_name == "relu":
            return 1.0 if z > 0 else 0.0
        return 1.0

    x, w1, w2 = params["x"], params["W1"], params["W2"]
    t = params["t"] if isinstance(params["t"], list) else [params["t"]]
    b1 = params["b1"] if isinstance(params["b1"], list) else [params["b1"]] * len(w1)
    b2 = params["b2"] if isinstance(params["b2"], list) else [params["b2"]] * len(w2)
    z1 = [
        sum(w * xi for w, xi in zip(row, x, strict=True)) + b for row, b in zip(w1, b1, strict=True)
    ]
    h = [act(z) for z in z1]
    z2 = [
        sum(w * hi for w, hi in zip(row, h, strict=True)) + b for row, b in zip(w2, b2, strict=True)
    ]
    y = [act(z) for z in z2]
    errors = [yi - ti for yi, ti in zip(y, t, strict=True)]
    if params["loss"] == "half_mse":
        loss = 0.5 * sum(e * e for e in errors)
        dy = errors
    else:
        loss = sum(e * e for e in errors) / len(errors)
        dy = [2 * e / len(errors) for e in errors]
    d2 = [dyi * slope(z, a) for dyi, z, a in zip(dy, z2, y, strict=True)]
    d1 = [sum(d2[k] * w2[k][j] for k in range(len(w2))) * slope(z1[j], h[j]) for j in range(len(h))]
    grads = {
        "W1": [[d * xi for xi in x] for d in d1],
        "W2": [[d * hi for hi in h] for d in d2],
    }
    out = params["output"]
    if out == "loss":
        return loss
    i, j = params["i"], params["j"]
    layer = out[-2:]
    grad = grads[layer][i][j]
    if out.startswith("grad"):
        return grad
    return (w1 if layer == "W1" else w2)[i][j] - params["lr"] * grad


def optimizer_step(params: dict[str, Any]) -> float:
    """The update rules of torch.optim, written out for one scalar weight."""
    name = params["optimizer"]
    w = float(params["w"])
    grads = params["g"] if isinstance(params["g"], list) else [params["g"]]
    lr, wd, mu, eps = params["lr"], params["weight_decay"], params["momentum"], params["eps"]
    beta1, beta2 = params["betas"]
    m = v = buf = 0.0
    for step, g in enumerate(grads, start=1):
        if name == "adamw":
            w *= 1 - lr * wd
        elif wd:
            g = g + wd * w
        if name in ("adam", "adamw"):
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat = m / (1 - beta1**step)
            v_hat = v / (1 - beta2**step)
            w -= lr * m_hat / (math.sqrt(v_hat) + eps)
        elif name == "sgd":
            if mu:
                buf = g if step == 1 else mu * buf + g
                g = g + mu * buf if params["nesterov"] else buf
            w -= lr * g
        elif name == "rmsprop":
            v = params["alpha"] * v + (1 - params["alpha"]) * g * g
            if mu:
                buf = mu * buf + g / (math.sqrt(v) + eps)
                w -= lr * buf
            else:
                w -= lr * g / (math.sqrt(v) + eps)
        else:  # adagrad
            v += g * g
            w -= lr * g / (math.sqrt(v) + eps)
    return w


def clip_grad_norm(g: list[float], max_norm: float) -> tuple[float, list[float]]:
    norm = math.sqrt(sum(v * v for v in g))
    coef = max_norm / (norm + 1e-6)  # PyTorch adds 1e-6 to the norm
    return norm, [v * coef for v in g] if coef < 1 else list(g)


def batchnorm(
    x: list[float], gamma: float, beta: float, eps: float, momentum: float
) -> tuple[list[float], float, float]:
    n = len(x)
    mean = sum(x) / n
    biased = sum((v - mean) ** 2 for v in x) / n
    unbiased = biased * n / (n - 1)
    y = [gamma * (v - mean) / math.sqrt(biased + eps) + beta for v in x]
    return y, momentum * mean, (1 - momentum) * 1.0 + momentum * unbiased


def gan_loss(player: str, d_real: float | None, d_fake: float) -> float:
    if player == "discriminator":
        assert d_real is not None
        return -math.log(d_real) - math.log(1 - d_fake)
    if player == "generator_minimax":
        return math.log(1 - d_fake)
    return -math.log(d_fake)


def gan_generator_grad(d: float, loss: str, wrt: str) -> float:
    if loss == "minimax":
        return -d if wrt == "logit" else -1 / (1 - d)
    return -(1 - d) if wrt == "logit" else -1 / d


# --- issue 14: recurrent steps and shapes ---------------------------------------------------


def _matvec(rows: list[list[float]], v: list[float]) -> list[float]:
    return [sum(w * x for w, x in zip(row, v, strict=True)) for row in rows]


def _or_zeros(values: list[float] | None, size: int) -> list[float]:
    return list(values) if values is not None else [0.0] * size


def lstm_step(p: dict[str, Any]) -> float | list[float]:
    """One LSTM step in PyTorch's gate order i, f, g, o, with both biases."""
    hidden = len(p["W_hh"][0])
    h0, c0 = _or_zeros(p["h0"], hidden), _or_zeros(p["c0"], hidden)
    b = [
        u + v
        for u, v in zip(
            _or_zeros(p["b_ih"], 4 * hidden), _or_zeros(p["b_hh"], 4 * hidden), strict=True
        )
    ]
    pre = [
        a + c + bias
        for a, c, bias in zip(_matvec(p["W_ih"], p["x"]), _matvec(p["W_hh"], h0), b, strict=True)
    ]
    i, f, g, o = (pre[k * hidden : (k + 1) * hidden] for k in range(4))
    c1 = [
        sigmoid(fj) * cj + sigmoid(ij) * math.tanh(gj)
        for ij, fj, gj, cj in zip(i, f, g, c0, strict=True)
    ]
    h1 = [sigmoid(oj) * math.tanh(cj) for oj, cj in zip(o, c1, strict=True)]
    out = h1 if p["output"] == "h" else c1
    return out[0] if hidden == 1 else out


def gru_step(p: dict[str, Any]) -> float | list[float]:
    """One GRU step as PyTorch computes it: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""
    hidden = len(p["W_hh"][0])
    h0 = _or_zeros(p["h0"], hidden)
    b_ih, b_hh = _or_zeros(p["b_ih"], 3 * hidden), _or_zeros(p["b_hh"], 3 * hidden)
    gi = [a + b for a, b in zip(_matvec(p["W_ih"], p["x"]), b_ih, strict=True)]
    gh = [a + b for a, b in zip(_matvec(p["W_hh"], h0), b_hh, strict=True)]
    h1 = []
    for j in range(hidden):
        r = sigmoid(gi[j] + gh[j])
        z = sigmoid(gi[hidden + j] + gh[hidden + j])
        n = math.tanh(gi[2 * hidden + j] + r * gh[2 * hidden + j])
        h1.append((1 - z) * n + z * h0[j])
    return h1[0] if hidden == 1 else h1


def rnn_output_shape(p: dict[str, Any]) -> list[int]:
    d = 2 if p["bidirectional"] else 1
    if p["output"] == "output":
        lead = [p["batch"], p["seq_len"]] if p["batch_first"] else [p["seq_len"], p["batch"]]
        return [*lead, d * p["hidden_size"]]
    return [p["num_layers"] * d, p["batch"], p["hidden_size"]]  # h_n and c_n ignore batch_first


# --- attention and costs --------------------------------------------------------------------


def mha_params(e: int, bias: bool, kdim: int | None, vdim: int | None) -> int:
    k = e if kdim is None else kdim
    v = e if vdim is None else vdim
    return e * e + e * k + e * v + e * e + (4 * e if bias else 0)


def sdpa(q: list[float], keys: list[list[float]], values: list[list[float]], scale: Any) -> Any:
    """(weights, output) of softmax(q·k * scale) over the keys."""
    factor = 1 / math.sqrt(len(q)) if scale is None else scale
    weights = softmax([factor * s for s in _matvec(keys, q)])
    output = [
        sum(w * row[j] for w, row in zip(weights, values, strict=True))
        for j in range(len(values[0]))
    ]
    return weights, output


def attention_cost(p: dict[str, Any]) -> int:
    b, h, n, d = (int(p[k]) for k in ("batch", "heads", "seq_len", "d_model"))
    if p["quantity"] == "memory":
        return b * h * n * n * {"float32": 4, "float16": 2, "bfloat16": 2}[p["dtype"]]
    macs = 2 * b * n * n * d  # Q·K^T and A·V, n²·d_head each per head, summed over heads
    return 2 * macs if p["quantity"] == "flops" else macs


def separable_conv_macs(c_in: int, c_out: int, k: int, h: int, w: int) -> int:
    return h * w * (c_in * k * k + c_in * c_out)


# --- LayerNorm, schedules, WGAN ---------------------------------------------------------------


def layernorm(x: list[float], gamma: Any, beta: Any, eps: float) -> list[float]:
    n = len(x)
    g = gamma if isinstance(gamma, list) else [gamma] * n
    b = beta if isinstance(beta, list) else [beta] * n
    mean = sum(x) / n
    var = sum((v - mean) ** 2 for v in x) / n
    return [gj * (v - mean) / math.sqrt(var + eps) + bj for v, gj, bj in zip(x, g, b, strict=True)]


def lr_schedule(p: dict[str, Any]) -> float:
    """Closed forms: linear warm-up from start_factor, then the main schedule from 0."""
    t, w, base = int(p["epoch"]), int(p["warmup"]), float(p["base_lr"])
    if w and t < w:
        return base * (float(p["start_factor"]) + (1 - float(p["start_factor"])) * t / w)
    e = t - w
    if p["schedule"] == "cosine":
        low = float(p["eta_min"])
        return low + (base - low) * (1 + math.cos(math.pi * e / p["t_max"])) / 2
    return base * float(p["gamma"]) ** (e // int(p["step_size"]))


def wasserstein_1d(x: list[float], y: list[float]) -> float:
    return sum(abs(a - b) for a, b in zip(sorted(x), sorted(y), strict=True)) / len(x)


def gradient_penalty(p: dict[str, Any]) -> float:
    point = [
        p["eps"] * r + (1 - p["eps"]) * f for r, f in zip(p["x_real"], p["x_fake"], strict=True)
    ]
    grad = [w + p["a"] * v for w, v in zip(p["w"], point, strict=True)]  # ∇(w·x + a/2 |x|²)
    norm = math.sqrt(sum(g * g for g in grad))
    return p["lam"] * (norm - 1) ** 2 if p["output"] == "penalty" else norm


# --- word2vec negative sampling -------------------------------------------------------------


def _log_sigmoid(s: float) -> float:
    return -math.log1p(math.exp(-s)) if s >= 0 else s - math.log1p(math.exp(s))


def _dot(u: list[float], v: list[float]) -> float:
    return sum(a * b for a, b in zip(u, v, strict=True))


def sgns_loss(p: dict[str, Any]) -> float:
    v = p["v_c"]
    return -_log_sigmoid(_dot(p["u_o"], v)) - sum(_log_sigmoid(-_dot(u, v)) for u in p["u_neg"])


def sgns_grad(p: dict[str, Any]) -> list[float]:
    v, u_o = p["v_c"], p["u_o"]
    s_o = sigmoid(_dot(u_o, v))
    if p["wrt"] == "context":
        return [(s_o - 1) * x for x in v]
    if p["wrt"] == "negative":
        return [sigmoid(_dot(p["u_neg"][p["k"]], v)) * x for x in v]
    grad = [(s_o - 1) * x for x in u_o]
    for u in p["u_neg"]:
        weight = sigmoid(_dot(u, v))
        grad = [g + weight * x for g, x in zip(grad, u, strict=True)]
    return grad


def noise_distribution(counts: list[int], word: int, power: float) -> float:
    return float(counts[word] ** power / sum(c**power for c in counts))


def subsample_keep(count: int, total: int, t: float, formula: str) -> float:
    f = count / total
    keep = math.sqrt(t / f) if formula == "paper" else (math.sqrt(f / t) + 1) * t / f
    return min(1.0, keep)
