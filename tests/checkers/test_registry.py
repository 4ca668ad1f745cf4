"""TorchCheckers as the engine uses it: the Checkers protocol, seeds, texts, errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkers import CheckRequestError, TorchCheckers, UnknownFamilyError
from bot.core.models import Difficulty, NumericQuestion, Verdict
from bot.core.ports import Checkers, seed_for

SPEC_FAMILIES = {
    "conv_output": "n, k, s=1, p=0, d=1",
    "pool_output": "n, k, s=k, p=0, d=1, ceil_mode=False",
    "convtranspose_output": "n, k, s=1, p=0, output_padding=0, d=1",
    "conv_params": "c_in, c_out, k, bias=True, groups=1",
    "separable_conv_params": "c_in, c_out, k, bias=False",
    "linear_params": "n_in, n_out, bias=True",
    "batchnorm_params": "c",
    "embedding_params": "vocab, dim",
    "rnn_params": "cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True",
    "model_params": "model",
    "conv_macs": "c_in, c_out, k, h_out, w_out=h_out, groups=1",
    "receptive_field": "k, s=all 1, d=all 1",
    "activation": "fn, x, derivative=False, negative_slope=0.01",
    "softmax_cross_entropy": "logits, target, output=loss",
    "mlp_backprop": "x, t, W1, b1, W2, b2, activation=sigmoid, loss=half_mse, lr=0.5, "
    "output=loss, i=0, j=0",
    "optimizer_step": "optimizer, w, g, lr, momentum=0.0, nesterov=False, weight_decay=0.0, "
    "betas=[0.9, 0.999], eps=1e-08, alpha=0.99",
    "clip_grad_norm": "g, max_norm, output=clipped",
    "batchnorm_forward": "x, gamma=1.0, beta=0.0, eps=1e-05, momentum=0.1, output=y",
    "dropout_scale": "p",
    "gan_optimal_discriminator": "p_data, p_g",
    "gan_loss": "d_real=None, d_fake, player",
    "gan_generator_grad": "d_fake, loss, wrt=logit",
    "skipgram_pairs": "n_tokens, window",
    "vanishing_sigmoid_bound": "layers",
}


def test_implements_the_core_protocol(checkers: TorchCheckers) -> None:
    protocol: Checkers = checkers  # mypy checks the structural match
    assert set(SPEC_FAMILIES) <= set(protocol.family_names())


@pytest.mark.parametrize("family", sorted(SPEC_FAMILIES))
def test_parameters_and_defaults_are_the_spec(checkers: TorchCheckers, family: str) -> None:
    assert checkers.family(family).signature() == SPEC_FAMILIES[family]


@pytest.mark.parametrize("family", [*sorted(SPEC_FAMILIES), "conv_shape"])
def test_seeds_reproduce_and_carry_their_difficulty(checkers: TorchCheckers, family: str) -> None:
    fresh = TorchCheckers()  # no shared cache: the seed alone must reproduce the question
    for level in Difficulty:
        for draw in range(8):
            seed = seed_for(level, draw)
            question = checkers.generate(family, seed)
            assert isinstance(question, NumericQuestion)
            assert question.difficulty is level
            assert question.ref == f"{family}:{seed}"
            assert fresh.generate(family, seed) == question
            assert checkers.grade(family, seed, str(question.expected)).correct


def test_difficulties_differ(checkers: TorchCheckers) -> None:
    """Easy questions use the canonical layers; hard ones the tricky conventions."""
    easy = {
        str(checkers.generate("model_params", seed_for(Difficulty.EASY, i)).params)
        for i in range(20)
    }
    hard = {
        str(checkers.generate("model_params", seed_for(Difficulty.HARD, i)).params)
        for i in range(20)
    }
    assert easy.isdisjoint(hard)


CJK = r"[\u4e00-\u9fff]"
ASCII_PUNCTUATION_NEXT_TO_CJK = re.compile(rf"{CJK}[,;:!?]|[,;:!?]{CJK}")


@pytest.mark.parametrize("family", [*sorted(SPEC_FAMILIES), "conv_shape"])
def test_texts_are_bilingual_and_tidy(checkers: TorchCheckers, family: str) -> None:
    for seed in range(45):
        problem = checkers.problem_for_seed(family, seed)
        texts = [problem.text, problem.solution, *(m.feedback for m in problem.mistakes)]
        for text in texts:
            assert text.en.strip() and text.zh.strip()
            assert re.search(CJK, text.zh), text.zh  # really Chinese, not a copy of the English
            assert not re.search(CJK, text.en), text.en
            assert not ASCII_PUNCTUATION_NEXT_TO_CJK.search(text.zh), text.zh
        ids = [m.id for m in problem.mistakes]
        assert all(re.fullmatch(r"[a-z0-9_]+", i) for i in ids)


def test_conventions_are_stated(checkers: TorchCheckers) -> None:
    rnn = checkers.solve("rnn_params", {"cell": "lstm", "input_size": 10, "hidden_size": 20})
    assert "b_ih" in rnn.text.en and "b_hh" in rnn.text.zh
    ce = checkers.solve("softmax_cross_entropy", {"logits": [1, 2], "target": 0})
    assert "natural log" in ce.text.en and "自然对数" in ce.text.zh
    conv = checkers.solve("conv_params", {"c_in": 3, "c_out": 8, "k": 3, "bias": False})
    assert "bias=False" in conv.text.en and "不带偏置" in conv.text.zh
    bound = checkers.solve("vanishing_sigmoid_bound", {"layers": 10})
    assert "tolerance" in bound.text.en and "误差" in bound.text.zh  # not the default: said so
    conv_out = checkers.solve("conv_output", {"n": 32, "k": 3})
    assert "PyTorch" in conv_out.text.en and "卷积" in conv_out.text.zh


def test_unknown_family_is_a_key_error(checkers: TorchCheckers) -> None:
    with pytest.raises(KeyError):
        checkers.generate("nope", 0)
    with pytest.raises(UnknownFamilyError) as info:
        checkers.grade("nope", 0, "1")
    assert "nope" in str(info.value) and "conv_output" in str(info.value)


def test_grade_never_raises_on_text(checkers: TorchCheckers) -> None:
    for text in ["", "]]]", "1e999999", "x" * 10_000, "\x00"]:
        assert checkers.grade("conv_output", 0, text).verdict is Verdict.UNREADABLE


@pytest.mark.parametrize(
    ("family", "params", "words"),
    [
        ("conv_output", {"n": 3, "k": 5}, ["impossible", "output size"]),
        ("conv_output", {"n": 32, "k": 3, "s": 2, "p": "same"}, ["same", "stride"]),
        ("conv_output", {"n": 32}, ["missing", "'k'"]),
        ("conv_output", {"n": 32, "k": 3, "q": 1}, ["unknown parameter", "'q'"]),
        ("conv_output", {"n": "abc", "k": 3}, ["'n'", "integer"]),
        ("conv_output", {"n": True, "k": 3}, ["'n'", "true/false"]),
        ("conv_output", {"n": 32, "k": 3.5}, ["'k'", "fractional"]),
        ("conv_output", {"n": 32, "k": 3, "p": "full"}, ["'p'", "same"]),
        ("pool_output", {"n": 10, "k": 3, "p": 2}, ["half the kernel"]),
        ("convtranspose_output", {"n": 4, "k": 3, "s": 2, "output_padding": 2}, ["output_padding"]),
        ("conv_params", {"c_in": 3, "c_out": 64, "k": 3, "groups": 2}, ["divisible"]),
        ("receptive_field", {"k": [3, 3], "s": [2]}, ["entries"]),
        ("softmax_cross_entropy", {"logits": [1, 2], "target": 2}, ["target"]),
        ("mlp_backprop", {"x": [1], "t": 1, "W1": [[1, 2]], "b1": 0, "W2": [[1]], "b2": 0}, ["W1"]),
        (
            "optimizer_step",
            {"optimizer": "adam", "w": 1, "g": 1, "lr": 0.1, "momentum": 0.9},
            ["momentum"],
        ),
        (
            "optimizer_step",
            {"optimizer": "sgd", "w": 1, "g": 1, "lr": 0.1, "nesterov": True},
            ["nesterov"],
        ),
        ("batchnorm_forward", {"x": [1]}, ["'x'"]),
        ("activation", {"fn": "swish", "x": 1}, ["'fn'"]),
        ("activation", {"fn": "relu", "x": float("nan")}, ["'x'"]),
        ("gan_loss", {"d_fake": 0.1, "player": "discriminator"}, ["d_real"]),
        ("gan_loss", {"d_fake": 1.0, "player": "generator_minimax"}, ["'d_fake'"]),
        ("gan_optimal_discriminator", {"p_data": 0, "p_g": 0}, ["both 0"]),
        ("dropout_scale", {"p": 1}, ["'p'"]),
        ("model_params", {"model": "densenet121"}, ["'model'"]),
    ],
)
def test_bad_requests_name_the_problem_in_one_line(
    checkers: TorchCheckers, family: str, params: dict[str, object], words: list[str]
) -> None:
    with pytest.raises(CheckRequestError) as info:
        checkers.check(family, params)
    message = info.value.message
    assert "\n" not in message and message.startswith(family)
    for word in words:
        assert word in message, message


def test_families_info_lists_parameters_and_defaults(checkers: TorchCheckers) -> None:
    infos = {info.name: info.to_json() for info in checkers.families()}
    assert set(SPEC_FAMILIES) <= set(infos)
    conv = {p["name"]: p for p in infos["conv_output"]["parameters"]}
    assert conv["n"]["required"] and "default" not in conv["n"]
    assert conv["s"]["default"] == 1 and conv["p"]["default"] == 0
    pool = {p["name"]: p for p in infos["pool_output"]["parameters"]}
    assert pool["s"]["default"] == "k" and pool["ceil_mode"]["default"] is False
    rnn = {p["name"]: p for p in infos["rnn_params"]["parameters"]}
    assert rnn["cell"]["choices"] == ["rnn", "lstm", "gru"]
    assert infos["vanishing_sigmoid_bound"]["tolerance"] == {"rel": 1e-3, "abs": 0.0}


def test_grade_expected_uses_the_family_tolerance(checkers: TorchCheckers) -> None:
    assert checkers.grade_expected("vanishing_sigmoid_bound", 9.5367e-7, "0").verdict is (
        Verdict.INCORRECT
    )
    assert checkers.grade_expected("conv_output", 4e-7, "0").verdict is Verdict.CORRECT
    assert checkers.grade_expected("gan_optimal_discriminator", 0.75, "75%").correct
    assert checkers.grade_expected("conv_output", 55, "55").correct


def test_check_result_shape(checkers: TorchCheckers) -> None:
    result = checkers.check("conv_output", {"n": 224, "k": 11, "s": 4, "p": 2}, "55")
    assert result["params"] == {"n": 224, "k": 11, "s": 4, "p": 2, "d": 1}
    assert result["expected"] == 55 and result["correct"] is True
    assert result["feedback"].startswith("✅")
    assert "question" not in result
    seeded = checkers.check("conv_output", seed=4)
    assert seeded["correct"] is None and set(seeded["question"]) == {"en", "zh"}
    assert seeded["ref"] == "conv_output:4"
    with pytest.raises(CheckRequestError):
        checkers.check("conv_output", {"n": 3}, seed=4)
    with pytest.raises(CheckRequestError):
        checkers.check("conv_output", seed=-1)


def test_the_problem_cache_is_bounded_and_per_instance() -> None:
    small = TorchCheckers(cache_size=3)
    for seed in range(10):
        small.generate("conv_output", seed)
    assert len(small._recent) == 3
    other = TorchCheckers(cache_size=3)
    assert len(other._recent) == 0
    uncached = TorchCheckers(cache_size=0)
    uncached.generate("conv_output", 1)
    assert len(uncached._recent) == 0


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**7), 10**7)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, 2, 3, -1, 0.5, "same", "valid", "lstm", "adam", "loss", "x", ""]),
    lambda children: st.lists(children, max_size=4),
    max_leaves=10,
)


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_mutated_requests_either_answer_or_refuse_cleanly(
    checkers: TorchCheckers, data: st.DataObject
) -> None:
    """Start from a real question's parameters and break them at random: the result is an
    answer or a CheckRequestError, never another exception (that would be a traceback)."""
    family = data.draw(st.sampled_from(checkers.family_names()))
    params = dict(checkers.check(family, seed=data.draw(st.integers(0, 500)))["params"])
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from([*params, "zz"]))
        if data.draw(st.booleans()) and key in params:
            del params[key]
        else:
            params[key] = data.draw(JSON_VALUES)
    try:
        result = checkers.check(family, params, data.draw(st.text(max_size=20)))
    except CheckRequestError as error:
        assert error.message.startswith(family) and "\n" not in error.message
    else:
        assert result["feedback"][0] in "✅❌⚠"


def test_questions_leave_the_global_torch_rng_alone(checkers: TorchCheckers) -> None:
    import torch

    torch.manual_seed(123)
    before = torch.rand(4)
    torch.manual_seed(123)
    for seed in range(5):
        checkers.generate("dropout_scale", 1000 + seed)
    assert torch.equal(torch.rand(4), before)


@pytest.mark.parametrize("k", [3, 4, 5])
def test_same_padding_split_is_what_torch_does(checkers: TorchCheckers, k: int) -> None:
    """The worked solution's left/right split of padding='same' is checked against torch:
    the layer equals padding by hand with that split and then no padding."""
    import torch

    result = checkers.check("conv_output", {"n": 9, "k": k, "p": "same"})
    total = k - 1
    left, right = total // 2, total - total // 2
    text = result["solution"]["en"]
    assert (f"{left} on each side" in text) == (left == right)
    assert (f"{left} left, {right} right" in text) == (left != right)
    generator = torch.Generator().manual_seed(0)
    layer = torch.nn.Conv1d(1, 1, k, padding="same", bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(1, 1, k, generator=generator))
    x = torch.randn(1, 1, 9, generator=generator)
    by_hand = torch.nn.functional.conv1d(torch.nn.functional.pad(x, (left, right)), layer.weight)
    assert torch.allclose(layer(x), by_hand)
    assert result["expected"] == layer(x).shape[-1] == 9
