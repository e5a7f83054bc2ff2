"""Checks for lesson 05 (dilated convolution, receptive fields, ASPP)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from course_utils.exercises.compare import call_answer, expect_array, expect_close
from course_utils.exercises.core import Incorrect, exercise
from course_utils.ops.receptive_field import Layer, deeplab_vgg16_layers, receptive_field_size, vgg16_layers

# ---------------------------------------------------------------- 05.dilate_kernel


def _wrong_repeat(kernel, rate):
    return np.kron(kernel, np.ones((rate, rate), dtype=kernel.dtype))


def _wrong_trailing_zeros(kernel, rate):
    k = kernel.shape[0]
    out = np.zeros((k * rate, k * rate), dtype=kernel.dtype)
    out[::rate, ::rate] = kernel
    return out


def _wrong_rate_zeros(kernel, rate):  # r zeros between taps instead of r - 1
    k = kernel.shape[0]
    out = np.zeros(((k - 1) * (rate + 1) + 1,) * 2, dtype=kernel.dtype)
    out[:: rate + 1, :: rate + 1] = kernel
    return out


@exercise(
    "05.dilate_kernel",
    hint="the taps stay in place relative to each other, only their spacing grows; how wide is a 3-tap "
         "kernel whose taps are `rate` pixels apart? Slicing with a step can place them.",
    wrong_answers=[_wrong_repeat, _wrong_trailing_zeros, _wrong_rate_zeros],
    success="a rate-r kernel is the small kernel with r - 1 zeros between its taps: same parameters, wider view.",
)
def check_dilate_kernel(dilate_kernel) -> None:
    rng = np.random.default_rng(5)
    for k, rate in ((3, 1), (3, 2), (3, 4), (5, 3), (3, 12)):
        kernel = rng.normal(size=(k, k)).astype(np.float32)
        got = call_answer(dilate_kernel, kernel.copy(), rate)
        span = rate * (k - 1) + 1
        expected = np.zeros((span, span), np.float32)
        expected[::rate, ::rate] = kernel
        expect_array(got, expected, f"dilate_kernel(kernel {k}x{k}, rate={rate})", index_names="position")


# ---------------------------------------------------------------- 05.output_size

_SIZE_CASES = [(65, 3, 12, 1, 12), (65, 3, 12, 1, 0), (513, 3, 2, 1, 2), (100, 3, 6, 2, 1), (33, 7, 2, 1, 6),
               (21, 3, 4, 3, 0), (10, 3, 1, 1, 1), (57, 5, 3, 2, 5)]


def _wrong_ignores_rate(size, kernel, rate, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def _wrong_rate_times_kernel(size, kernel, rate, stride, padding):
    return (size + 2 * padding - rate * kernel) // stride + 1


def _wrong_float(size, kernel, rate, stride, padding):
    return (size + 2 * padding - rate * (kernel - 1) - 1) / stride + 1


@exercise(
    "05.output_size",
    hint="first find how many pixels the dilated kernel spans; then it is the ordinary convolution formula "
         "with that span in place of the kernel size.",
    wrong_answers=[_wrong_ignores_rate, _wrong_rate_times_kernel, _wrong_float],
    success="the output size only needs the effective kernel r (k - 1) + 1.",
)
def check_output_size(dilated_output_size) -> None:
    for size, k, rate, stride, pad in _SIZE_CASES:
        what = f"dilated_output_size(size={size}, kernel={k}, rate={rate}, stride={stride}, padding={pad})"
        got = call_answer(dilated_output_size, size, k, rate, stride, pad)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            raise Incorrect(f"{what} should be an int (a number of pixels), got {type(got).__name__} {got!r}")
        x = torch.zeros(1, 1, size, 1)
        expected = F.conv2d(x, torch.zeros(1, 1, k, 1), stride=(stride, 1), padding=(pad, 0),
                            dilation=(rate, 1)).shape[2]
        expect_close(got, expected, what)


# ---------------------------------------------------------------- 05.receptive_field


def _stack_cases() -> list[list[tuple[int, int, int]]]:
    def triples(layers: list[Layer]) -> list[tuple[int, int, int]]:
        return [(layer.kernel, layer.stride, layer.dilation) for layer in layers]

    return [
        [(3, 1, 12)],
        [(3, 1, 2), (3, 1, 2), (3, 1, 2)],
        [(3, 2, 1), (3, 1, 1), (3, 2, 1), (5, 1, 3)],
        triples(vgg16_layers()),
        triples(deeplab_vgg16_layers(12)),
        [(7, 2, 1), (3, 2, 1), (3, 1, 2), (1, 1, 1), (3, 1, 4)],
    ]


def _wrong_no_jump(layers):
    return 1 + sum(d * (k - 1) for k, s, d in layers)


def _wrong_no_dilation(layers):
    rf, jump = 1, 1
    for k, s, d in layers:
        rf += (k - 1) * jump
        jump *= s
    return rf


def _wrong_jump_too_early(layers):
    rf, jump = 1, 1
    for k, s, d in layers:
        jump *= s
        rf += d * (k - 1) * jump
    return rf


@exercise(
    "05.receptive_field",
    hint="walk through the layers keeping two numbers: the field so far and how many input pixels one step "
         "on the current feature map moves. A layer widens the field by its extra span, measured in those steps.",
    wrong_answers=[_wrong_no_jump, _wrong_no_dilation, _wrong_jump_too_early],
    success="rf grows by (k_eff - 1) x the product of the strides before the layer: 404 for FCN-VGG16.",
)
def check_receptive_field(stack_receptive_field) -> None:
    for stack in _stack_cases():
        expected = receptive_field_size([Layer(k, s, d) for k, s, d in stack])
        got = call_answer(stack_receptive_field, list(stack))
        shown = stack if len(stack) <= 5 else f"[{len(stack)} layers: {stack[0]}, ..., {stack[-1]}]"
        expect_close(got, expected, f"stack_receptive_field({shown})")


# ---------------------------------------------------------------- 05.aspp_fusion


def _aspp_case(seed: int):
    g = torch.Generator().manual_seed(seed)
    rates = (1, 2, 3, 5) if seed == 0 else (6, 12)
    features = torch.randn(2, 4, 13, 11, generator=g, dtype=torch.float64)
    weights = [torch.randn(3, 4, 3, 3, generator=g, dtype=torch.float64) for _ in rates]
    biases = [torch.randn(3, generator=g, dtype=torch.float64) for _ in rates]
    return features, weights, biases, rates


def _aspp_reference(features, weights, biases, rates):
    return sum(F.conv2d(features, w, b, padding=r, dilation=r) for w, b, r in zip(weights, biases, rates))


def _wrong_mean(features, weights, biases, rates):
    return _aspp_reference(features, weights, biases, rates) / len(rates)


def _wrong_no_dilation_aspp(features, weights, biases, rates):
    return sum(F.conv2d(features, w, b, padding=1) for w, b in zip(weights, biases))


def _wrong_concat(features, weights, biases, rates):
    return torch.cat([F.conv2d(features, w, b, padding=r, dilation=r) for w, b, r in zip(weights, biases, rates)], 1)


@exercise(
    "05.aspp_fusion",
    hint="each branch is one convolution whose padding keeps the map's size for its own rate; DeepLab v2 fuses "
         "the branches' class scores the simplest possible way, with no new parameters.",
    wrong_answers=[_wrong_mean, _wrong_no_dilation_aspp, _wrong_concat],
    success="ASPP looks at the same features with four fields of view (13, 25, 37, 49) and adds the scores.",
)
def check_aspp_fusion(aspp_fuse) -> None:
    for seed in (0, 1):
        features, weights, biases, rates = _aspp_case(seed)
        got = call_answer(aspp_fuse, features.clone(), [w.clone() for w in weights], [b.clone() for b in biases],
                          tuple(rates))
        expected = _aspp_reference(features, weights, biases, rates)
        expect_array(got, expected, f"aspp_fuse(rates={rates})", atol=1e-8, index_names="(n, class, y, x)")
