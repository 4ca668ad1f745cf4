"""Whole-model parameter counts: LeNet-5, AlexNet, VGG-11/13/16/19, ResNet-18/34/50/101/152.

torchvision is not a dependency, so the architectures are rebuilt here layer for layer as
torchvision defines them (LeNet-5: the common modern variant). Each model is built once per
family instance on the meta device, checked with a meta forward pass, and its counts cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any, Literal

import torch
from torch import nn

from bot.checkers._base import Family, Params, Solved, mistake
from bot.checkers._torch import META, count_params
from bot.core.answers import KnownMistake, format_number
from bot.core.models import Difficulty, Localized

ModelName = Literal[
    "lenet5",
    "alexnet",
    "vgg16",
    "resnet18",
    "resnet50",
    "vgg11",
    "vgg13",
    "vgg19",
    "resnet34",
    "resnet101",
    "resnet152",
]


def lenet5() -> nn.Sequential:
    """LeNet-5 as usually taught today: ReLU, max-pooling, 32×32 input, 10 classes."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, device=META),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, device=META),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120, device=META),
        nn.ReLU(),
        nn.Linear(120, 84, device=META),
        nn.ReLU(),
        nn.Linear(84, 10, device=META),
    )


def alexnet(*, paper: bool = False) -> nn.Sequential:
    """torchvision's AlexNet (the single-tower 'one weird trick' variant), or with `paper`
    the 2012 two-GPU network: 96-256-384-384-256 filters, conv2/4/5 split into two groups."""
    widths = (96, 256, 384, 384, 256) if paper else (64, 192, 384, 256, 256)
    groups = (1, 2, 1, 2, 2) if paper else (1, 1, 1, 1, 1)
    c1, c2, c3, c4, c5 = widths
    return nn.Sequential(
        nn.Conv2d(3, c1, 11, stride=4, padding=2, device=META),
        nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(c1, c2, 5, padding=2, groups=groups[1], device=META),
        nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(c2, c3, 3, padding=1, groups=groups[2], device=META),
        nn.ReLU(),
        nn.Conv2d(c3, c4, 3, padding=1, groups=groups[3], device=META),
        nn.ReLU(),
        nn.Conv2d(c4, c5, 3, padding=1, groups=groups[4], device=META),
        nn.ReLU(),
        nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d((6, 6)),
        nn.Flatten(),
        nn.Dropout(),
        nn.Linear(c5 * 6 * 6, 4096, device=META),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(4096, 4096, device=META),
        nn.ReLU(),
        nn.Linear(4096, 1000, device=META),
    )


_VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
_VGG_CONFIGS: dict[str, tuple[int | str, ...]] = {  # the paper's configurations A, B, D, E
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg13": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": _VGG16,
    "vgg19": (64, 64, "M", 128, 128, "M", *(256,) * 4, "M", *(512,) * 4, "M", *(512,) * 4, "M"),
}


def vgg16(config: tuple[int | str, ...] = _VGG16) -> nn.Sequential:
    """VGG-16 (configuration D, or another configuration), without batch norm, as
    torchvision's `vgg16` (`vgg11`, `vgg13`, `vgg19`)."""
    layers: list[nn.Module] = []
    channels = 3
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            assert isinstance(item, int)
            layers += [nn.Conv2d(channels, item, 3, padding=1, device=META), nn.ReLU()]
            channels = item
    return nn.Sequential(
        *layers,
        nn.AdaptiveAvgPool2d((7, 7)),
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096, device=META),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(4096, 4096, device=META),
        nn.ReLU(),
        nn.Dropout(),
        nn.Linear(4096, 1000, device=META),
    )


class _Basic(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int) -> None:
        super().__init__()
        out = planes * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(c_in, planes, 3, stride, 1, bias=False, device=META),
            nn.BatchNorm2d(planes, device=META),
            nn.ReLU(),
            nn.Conv2d(planes, planes, 3, 1, 1, bias=False, device=META),
            nn.BatchNorm2d(planes, device=META),
        )
        self.shortcut = _projection(c_in, out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int) -> None:
        super().__init__()
        out = planes * self.expansion
        # torchvision (ResNet v1.5) puts the stride on the 3x3 conv; the count is the same.
        self.body = nn.Sequential(
            nn.Conv2d(c_in, planes, 1, bias=False, device=META),
            nn.BatchNorm2d(planes, device=META),
            nn.ReLU(),
            nn.Conv2d(planes, planes, 3, stride, 1, bias=False, device=META),
            nn.BatchNorm2d(planes, device=META),
            nn.ReLU(),
            nn.Conv2d(planes, out, 1, bias=False, device=META),
            nn.BatchNorm2d(out, device=META),
        )
        self.shortcut = _projection(c_in, out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def _projection(c_in: int, c_out: int, stride: int) -> nn.Module:
    """The 1×1 conv + BN shortcut torchvision adds when the shape changes (else identity)."""
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 1, stride, bias=False, device=META),
        nn.BatchNorm2d(c_out, device=META),
    )


def resnet(block: type[_Basic] | type[_Bottleneck], depths: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False, device=META),
        nn.BatchNorm2d(64, device=META),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    ]
    channels = 64
    for stage, depth in enumerate(depths):  # torchvision's layer1 .. layer4
        planes = 64 * 2**stage
        blocks: list[nn.Module] = []
        for i in range(depth):
            stride = 2 if stage > 0 and i == 0 else 1
            blocks.append(block(channels, planes, stride))
            channels = planes * block.expansion
        layers.append(nn.Sequential(*blocks))
    return nn.Sequential(
        *layers,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, 1000, device=META),
    )


_BUILDERS: dict[str, Callable[[], nn.Sequential]] = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": lambda: resnet(_Basic, (2, 2, 2, 2)),
    "resnet50": lambda: resnet(_Bottleneck, (3, 4, 6, 3)),
    "vgg11": lambda: vgg16(_VGG_CONFIGS["vgg11"]),
    "vgg13": lambda: vgg16(_VGG_CONFIGS["vgg13"]),
    "vgg19": lambda: vgg16(_VGG_CONFIGS["vgg19"]),
    "resnet34": lambda: resnet(_Basic, (3, 4, 6, 3)),
    "resnet101": lambda: resnet(_Bottleneck, (3, 4, 23, 3)),
    "resnet152": lambda: resnet(_Bottleneck, (3, 8, 36, 3)),
}
_INPUTS = {"lenet5": (1, 1, 32, 32)}  # the others take ImageNet's 224×224 RGB images


@dataclass(frozen=True, slots=True)
class ModelCounts:
    """What one build of a model yields, cached per family instance."""

    total: int
    weights_only: int  # every parameter not named *.bias
    head: int  # the classifier (last nn.Linear layers after the feature extractor)
    state_dict: int  # parameters + buffers, as counting a checkpoint's tensors gives
    layers: tuple[tuple[str, str, int], ...]  # (English, Chinese label, parameters)


def measure(model: str) -> ModelCounts:
    net = _BUILDERS[model]()
    # A meta forward pass checks the layer sizes chain up (e.g. the flatten size).
    out = net(torch.empty(*_INPUTS.get(model, (1, 3, 224, 224)), device=META))
    assert tuple(out.shape) == (1, 10 if model == "lenet5" else 1000), out.shape
    total = count_params(net)
    weights = sum(p.numel() for name, p in net.named_parameters() if not name.endswith("bias"))
    state = sum(t.numel() for t in net.state_dict().values())
    linears = [m for m in net if isinstance(m, nn.Linear)]
    head = sum(count_params(m) for m in linears)
    layers = tuple(_describe(net))
    return ModelCounts(total, weights, head, state, layers)


def _describe(net: nn.Sequential) -> list[tuple[str, str, int]]:
    """Each top-level layer's count with its formula, for the worked solution."""
    parts: list[tuple[str, str, int]] = []
    stage = 0
    for m in net:
        count = count_params(m)
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0]
            per_filter = m.in_channels // m.groups
            bias = f" + {m.out_channels}" if m.bias is not None else ""
            formula = f"{m.out_channels}×{per_filter}×{k}×{k}{bias}"
            parts.append((f"conv {formula}", f"卷积 {formula}", count))
        elif isinstance(m, nn.BatchNorm2d):
            parts.append((f"BN 2×{m.num_features}", f"BN 2×{m.num_features}", count))
        elif isinstance(m, nn.Linear):
            formula = f"{m.in_features}×{m.out_features} + {m.out_features}"
            parts.append((f"fc {formula}", f"全连接 {formula}", count))
        elif isinstance(m, nn.Sequential):  # a ResNet stage of residual blocks
            stage += 1
            blocks = len(m)
            parts.append(
                (f"layer{stage} ({blocks} blocks)", f"layer{stage}（{blocks} 个残差块）", count)
            )
    return parts


class ModelParamsParams(Params):
    model: ModelName


_NAMES = {
    "lenet5": "LeNet-5",
    "alexnet": "AlexNet",
    "vgg16": "VGG-16",
    "resnet18": "ResNet-18",
    "resnet50": "ResNet-50",
    "vgg11": "VGG-11",
    "vgg13": "VGG-13",
    "vgg19": "VGG-19",
    "resnet34": "ResNet-34",
    "resnet101": "ResNet-101",
    "resnet152": "ResNet-152",
}


class ModelParams(Family[ModelParamsParams]):
    name = "model_params"
    summary = (
        "parameters of the torchvision-style model (LeNet-5: the common modern variant with "
        "ReLU/max-pool, 10 classes)"
    )
    params_model = ModelParamsParams

    def __init__(self) -> None:
        # Building ResNet-50 takes tens of milliseconds; the counts never change, so each
        # family instance (owned by one registry) keeps them.
        self._counts: dict[str, ModelCounts] = {}
        self._paper_alexnet: int | None = None

    def counts(self, model: str) -> ModelCounts:
        cached = self._counts.get(model)
        if cached is None:
            cached = self._counts[model] = measure(model)
        return cached

    def draw(self, rng: Random, level: Difficulty) -> dict[str, Any]:
        options = {
            Difficulty.EASY: ["lenet5"],
            Difficulty.MEDIUM: ["alexnet", "resnet18", "resnet34", "vgg11"],
            Difficulty.HARD: ["vgg16", "resnet50", "vgg13", "vgg19", "resnet101", "resnet152"],
        }
        return {"model": rng.choice(options[level])}

    def ask(self, p: ModelParamsParams) -> Localized:
        if p.model == "lenet5":
            return Localized(
                en="How many learnable parameters does LeNet-5 have? Take the common modern "
                "variant: 32×32 grey input, conv 5×5 (6) - max-pool 2 - conv 5×5 (16) - max-pool "
                "2 - fc 120 - fc 84 - fc 10, ReLU activations, every layer with bias.",
                zh="LeNet-5 有多少个可学习参数？按常见的现代版本计算：32×32 灰度输入，"
                "5×5 卷积（6 个）- 2×2 最大池化 - 5×5 卷积（16 个）- 2×2 最大池化 - 全连接 120 - "
                "全连接 84 - 全连接 10，ReLU 激活，每层都有偏置。",
            )
        name = _NAMES[p.model]
        return Localized(
            en=f"How many learnable parameters does {name} have, as torchvision defines it "
            "(1000 ImageNet classes)?",
            zh=f"按 torchvision 的定义（ImageNet 1000 类），{name} 有多少个可学习参数？",
        )

    def solve(self, p: ModelParamsParams) -> Solved:
        counts = self.counts(p.model)
        parts_en = "; ".join(f"{en}: {format_number(v)}" for en, _, v in counts.layers)
        parts_zh = "；".join(f"{zh}：{format_number(v)}" for _, zh, v in counts.layers)
        solution = Localized(
            en=f"Summing each layer's weights and biases (conv: c_out×c_in×k×k + c_out; "
            f"fc: in×out + out; BN: 2×c): {parts_en}. Total: {format_number(counts.total)} "
            "parameters.",
            zh=f"逐层累加权重和偏置（卷积：c_out×c_in×k×k + c_out；全连接：in×out + out；"
            f"BN：2×c）：{parts_zh}。合计 {format_number(counts.total)} 个参数。",
        )
        return Solved(counts.total, solution, tuple(self._mistakes(p.model, counts)))

    def _mistakes(self, model: str, counts: ModelCounts) -> list[KnownMistake]:
        found = [
            mistake(
                "forgot_bias",
                counts.weights_only,
                "You left out the biases.",
                "漏算了偏置。",
            ),
            mistake(
                "no_classifier",
                counts.total - counts.head,
                "You counted only the feature extractor; the fully connected classifier is "
                "part of the model (and in VGG/AlexNet it holds most of the parameters).",
                "只算了特征提取部分；全连接分类器也是模型的一部分（VGG/AlexNet "
                "的大部分参数都在这里）。",
            ),
            mistake(
                "counted_buffers",
                counts.state_dict,
                "You counted the state_dict: BatchNorm's running mean/var and "
                "num_batches_tracked are buffers, not learnable parameters.",
                "你数的是 state_dict：BatchNorm 的 running mean/var 和 num_batches_tracked 是"
                "缓冲区，不是可学习参数。",
            ),
        ]
        if model == "alexnet":
            if self._paper_alexnet is None:
                self._paper_alexnet = count_params(alexnet(paper=True))
            found.append(
                mistake(
                    "paper_alexnet",
                    self._paper_alexnet,
                    "That is the 2012 paper's two-GPU AlexNet (96-256-384-384-256 filters, "
                    "grouped convs); torchvision's single-tower version has 64-192-384-256-256.",
                    "这是 2012 年论文里双 GPU 版本的 AlexNet（96-256-384-384-256 个卷积核，"
                    "分组卷积）；"
                    "torchvision 的单路版本是 64-192-384-256-256。",
                )
            )
        return found
