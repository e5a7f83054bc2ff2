"""Checks for lesson 05 (dilation surgery, dilated convolution, receptive fields, ASPP)."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.exercises.compare import call_answer, expect_array, expect_close
from course_utils.exercises.core import Incorrect, exercise
from course_utils.nets.plain_vgg import plain_vgg16
from course_utils.ops.receptive_field import Layer, deeplab_vgg16_layers, receptive_field_size, vgg16_layers

# ---------------------------------------------------------------- 05.dilated_conv
#
# The student writes a dilated convolution with loops, for one channel: the output size from the
# effective kernel r (k - 1) + 1, zero padding, and the taps `rate` pixels apart (what 05.dilate_kernel
# and 05.output_size asked separately before). Reference: F.conv2d(..., dilation=rate).

_CONV_CASES = [((9, 9), 3, 2, 1, 2), ((11, 8), 3, 3, 1, 0), ((12, 13), 3, 2, 2, 1), ((10, 10), 5, 2, 1, 4),
               ((7, 9), 3, 1, 2, 1), ((16, 11), 2, 4, 3, 3)]


def _conv_reference(x, kernel, rate, stride, padding) -> np.ndarray:
    out = F.conv2d(torch.from_numpy(x)[None, None], torch.from_numpy(kernel)[None, None], stride=stride,
                   padding=padding, dilation=rate)
    return out[0, 0].numpy()


def _loops(x, kernel, rate, stride, padding, *, span=None, step=None, flip=False):
    """Loop convolution; the keyword arguments each break one thing (for the wrong answers)."""
    k = kernel.shape[0]
    span = rate * (k - 1) + 1 if span is None else span
    step = rate if step is None else step
    kernel = kernel[::-1, ::-1] if flip else kernel
    xp = np.pad(x, padding)
    h_out = (xp.shape[0] - span) // stride + 1
    w_out = (xp.shape[1] - span) // stride + 1
    out = np.zeros((max(h_out, 0), max(w_out, 0)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for a in range(k):
                for b in range(k):
                    r, c = i * stride + a * step, j * stride + b * step
                    if r < xp.shape[0] and c < xp.shape[1]:
                        out[i, j] += kernel[a, b] * xp[r, c]
    return out


def _wrong_taps_adjacent(x, kernel, rate, stride, padding):  # the size is right, but no holes
    return _loops(x, kernel, rate, stride, padding, step=1)


def _wrong_size_from_kernel(x, kernel, rate, stride, padding):  # output size from k, not r (k - 1) + 1
    return _loops(x, kernel, rate, stride, padding, span=kernel.shape[0])


def _wrong_flipped(x, kernel, rate, stride, padding):  # a true convolution; CNNs correlate
    return _loops(x, kernel, rate, stride, padding, flip=True)


def _wrong_stride_times_rate(x, kernel, rate, stride, padding):  # the taps also move with the stride
    return _loops(x, kernel, rate, stride, padding, step=rate * stride)


def _delegates_functional(x, kernel, rate, stride, padding):
    return F.conv2d(torch.from_numpy(x)[None, None], torch.from_numpy(kernel)[None, None], stride=stride,
                    padding=padding, dilation=rate)[0, 0].numpy()


def _delegates_library(x, kernel, rate, stride, padding):
    from course_utils.ops import dilated_conv

    xp = torch.from_numpy(np.pad(x, padding))[None, None]
    out = dilated_conv.conv_zero_inserted(xp, torch.from_numpy(kernel)[None, None], rate=rate)
    return out[0, 0, ::stride, ::stride].numpy()


def _delegates_dilate_kernel_and_scipy(x, kernel, rate, stride, padding):
    from scipy import signal

    from course_utils.ops.dilated_conv import dilate_kernel

    big = dilate_kernel(torch.from_numpy(kernel), rate).numpy()
    return signal.correlate2d(np.pad(x, padding), big, mode="valid")[::stride, ::stride]


@exercise(
    "05.dilated_conv",
    hint="pad x with zeros first; the kernel's taps are `rate` pixels apart, so it spans r(k - 1) + 1 pixels, and "
         "that span (not k) decides how many positions fit with the given stride; at each output position add "
         "up kernel[a, b] times the padded input `a * rate` rows and `b * rate` columns from the window's corner.",
    wrong_answers=[_wrong_taps_adjacent, _wrong_size_from_kernel, _wrong_flipped, _wrong_stride_times_rate],
    success="a rate-r convolution reads k x k taps r pixels apart: same parameters, a field of r(k - 1) + 1.",
    forbidden=("torch.nn.functional:conv2d", "torch:conv2d", "torch.nn:Conv2d",
               "course_utils.ops.dilated_conv:conv_dilated", "course_utils.ops.dilated_conv:conv_zero_inserted",
               "course_utils.ops.dilated_conv:conv_on_subgrids", "course_utils.ops.dilated_conv:dilate_kernel",
               "course_utils.ops.dilated_conv:dense_extraction", "course_utils.ops.receptive_field:conv_output_size",
               "scipy.signal", "scipy.ndimage", "cv2:filter2D"),
    delegating=[_delegates_functional, _delegates_library, _delegates_dilate_kernel_and_scipy],
)
def check_dilated_conv(dilated_conv) -> None:
    rng = np.random.default_rng(5)
    for (h, w), k, rate, stride, pad in _CONV_CASES:
        x = rng.integers(-3, 4, size=(h, w)).astype(np.float64)
        kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float64)
        kernel[0, -1] = 4.0  # not symmetric: a flipped kernel shows
        what = f"dilated_conv(x {h}x{w}, kernel {k}x{k}, rate={rate}, stride={stride}, padding={pad})"
        got = call_answer(dilated_conv, x.copy(), kernel.copy(), rate, stride, pad)
        expect_array(np.asarray(got, dtype=np.float64) if isinstance(got, (np.ndarray, list)) else got,
                     _conv_reference(x, kernel, rate, stride, pad), what, atol=1e-9, check_dtype=False,
                     index_names="output pixel")


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


def _delegates_rf_imported_name(layers):
    return receptive_field_size([Layer(k, s, d) for k, s, d in layers])


def _delegates_rf_module_attribute(layers):
    import importlib

    rf = importlib.import_module("course_utils.ops.receptive_field")  # the module (the package re-exports a function)

    return rf.receptive_field([rf.Layer(k, s, d) for k, s, d in layers])[-1].size


@exercise(
    "05.receptive_field",
    hint="walk through the layers keeping two numbers: the field so far and how many input pixels one step "
         "on the current feature map moves. A layer widens the field by its extra span, measured in those steps.",
    wrong_answers=[_wrong_no_jump, _wrong_no_dilation, _wrong_jump_too_early],
    success="rf grows by (k_eff - 1) x the product of the strides before the layer: 404 for FCN-VGG16.",
    forbidden=("course_utils.ops.receptive_field:receptive_field_size",
               "course_utils.ops.receptive_field:receptive_field", "course_utils.ops.receptive_field:footprint",
               "course_utils.ops.receptive_field:module_receptive_field"),
    delegating=[_delegates_rf_imported_name, _delegates_rf_module_attribute],
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


def _delegates_conv_dilated(features, weights, biases, rates):
    from course_utils.ops.dilated_conv import conv_dilated

    return sum(conv_dilated(features, w, b, rate=r, padding=r) for w, b, r in zip(weights, biases, rates))


def _delegates_subgrids(features, weights, biases, rates):
    from course_utils.ops import dilated_conv

    return sum(dilated_conv.conv_on_subgrids(features, w, b, rate=r, padding=r)
               for w, b, r in zip(weights, biases, rates))


def _delegates_aspp_module(features, weights, biases, rates):
    from course_utils.nets.deeplab import ASPP

    aspp = ASPP(features.shape[1], weights[0].shape[0], rates=rates, hidden_channels=None).double()
    return aspp(features)


@exercise(
    "05.aspp_fusion",
    hint="each branch is one convolution whose padding keeps the map's size for its own rate; DeepLab v2 fuses "
         "the branches' class scores the simplest possible way, with no new parameters.",
    wrong_answers=[_wrong_mean, _wrong_no_dilation_aspp, _wrong_concat],
    success="ASPP looks at the same features with four fields of view (13, 25, 37, 49) and adds the scores.",
    forbidden=("course_utils.nets.deeplab:ASPP", "course_utils.ops.dilated_conv:conv_dilated",
               "course_utils.ops.dilated_conv:conv_on_subgrids", "course_utils.ops.dilated_conv:conv_zero_inserted"),
    delegating=[_delegates_conv_dilated, _delegates_subgrids, _delegates_aspp_module],
)
def check_aspp_fusion(aspp_fuse) -> None:
    for seed in (0, 1):
        features, weights, biases, rates = _aspp_case(seed)
        got = call_answer(aspp_fuse, features.clone(), [w.clone() for w in weights], [b.clone() for b in biases],
                          tuple(rates))
        expected = _aspp_reference(features, weights, biases, rates)
        expect_array(got, expected, f"aspp_fuse(rates={rates})", atol=1e-8, index_names="(n, class, y, x)")


# ---------------------------------------------------------------- 05.dilation_surgery
def _surgery_nets():
    """A narrow plain VGG16 (VGG's padding) and one without padding, float64, fixed random weights."""
    g = torch.Generator().manual_seed(5)
    padded = plain_vgg16(4, width=1 / 16, fc_channels=512, generator=g).double().eval()
    border_free = plain_vgg16(4, width=1 / 16, fc_channels=512, padding=0, generator=g).double().eval()
    return padded, border_free


def _surgery(net, *, rates=(2, 4), pool_dilation=True, scale_padding=True, pools=("pool4", "pool5"), in_place=False):
    net = net if in_place else copy.deepcopy(net)
    rate, after = 1, 0
    for name, layer in net.named_children():
        if name in pools:
            layer.stride = 1
            if pool_dilation:
                layer.dilation = rate
            rate = rates[after]
            after += 1
        elif isinstance(layer, nn.Conv2d) and rate > 1:
            layer.dilation = (rate, rate)
            if scale_padding:
                layer.padding = (rate * layer.padding[0], rate * layer.padding[1])
    return net


# Typical wrong answers for 05.dilation_surgery, kept beside the check.
def _wrong_strides_only(net):
    return _surgery(net, rates=(1, 1))


def _wrong_rate_2_after_both_pools(net):
    return _surgery(net, rates=(2, 2))


def _wrong_padding_not_scaled(net):
    return _surgery(net, scale_padding=False)


def _wrong_pool5_window_not_spread(net):
    return _surgery(net, pool_dilation=False)


def _wrong_new_random_weights(net):
    net = _surgery(net)
    for layer in net.modules():
        if isinstance(layer, nn.Conv2d):
            layer.reset_parameters()
    return net


def _wrong_changes_the_original(net):
    return _surgery(net, in_place=True)  # no copy: the original network is gone


def _scores(net, x):
    with torch.no_grad():
        return net(x)


def _delegates_hole_algorithm_name(net):
    from course_utils.nets.plain_vgg import hole_algorithm

    return hole_algorithm(net)


def _delegates_hole_algorithm_module(net):
    from course_utils.nets import plain_vgg

    return plain_vgg.hole_algorithm(net)


@exercise(
    "05.dilation_surgery",
    hint="start with new = copy.deepcopy(net) and walk new.named_children() keeping a rate (1 before pool4): "
         "at pool4 and pool5 set stride = 1 and dilation = the current rate, then double the rate; every "
         "Conv2d met while the rate is > 1 gets dilation = (rate, rate) and its padding multiplied by the rate.",
    wrong_answers=[_wrong_strides_only, _wrong_rate_2_after_both_pools, _wrong_padding_not_scaled,
                   _wrong_pool5_window_not_spread, _wrong_new_random_weights, _wrong_changes_the_original],
    success="the same weights now give the scores every 8 pixels instead of every 32: DeepLab's hole algorithm.",
    forbidden=("course_utils.nets.plain_vgg:hole_algorithm",),
    delegating=[_delegates_hole_algorithm_name, _delegates_hole_algorithm_module],
)
def check_dilation_surgery(dilation_surgery) -> None:
    padded, border_free = _surgery_nets()
    given = copy.deepcopy(padded)
    dense = call_answer(dilation_surgery, given)
    if not isinstance(dense, nn.Module):
        raise Incorrect(f"dilation_surgery should return the new network (an nn.Module), got "
                        f"{'None: did you forget to return it?' if dense is None else type(dense).__name__}")
    if given.pool4.stride != 2 or given.pool5.stride != 2 or given.conv5_1.dilation != (1, 1):
        raise Incorrect("dilation_surgery changed the network it was given: change a copy (copy.deepcopy(net)) so "
                        "the original stays available to compare with")
    # same weights
    before, after = padded.state_dict(), dense.state_dict()
    if list(before) != list(after):
        raise Incorrect(f"the new network should have the same layers and parameters, got {list(after)[:4]} ...")
    for key in before:
        if before[key].shape != after[key].shape or not torch.equal(before[key], after[key]):
            raise Incorrect(f"the weights changed: {key} differs; the surgery changes strides, rates and paddings, "
                            "never a weight")
    # output stride 8
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 96, 128, generator=g, dtype=torch.float64)
    x_bigger = torch.randn(1, 3, 96 + 16, 128 + 8, generator=g, dtype=torch.float64)
    coarse, fine = _scores(padded, x), _scores(dense, x)
    grow = (_scores(dense, x_bigger).shape[-2] - fine.shape[-2], _scores(dense, x_bigger).shape[-1] - fine.shape[-1])
    if grow != (2, 1):
        raise Incorrect(f"16 more input rows and 8 more columns should give 2 more output rows and 1 more column "
                        f"(output stride 8), got {grow[0]} and {grow[1]}")
    # every 4th score is the original network's score at the same place
    every_4th = fine[..., ::4, ::4]
    expect_array(every_4th, coarse, "the new network's scores at every 4th position (rows and columns "
                 "0, 4, 8, ...), against the original network's", atol=1e-9, rtol=1e-9)
    # and every other score is the original network evaluated at a shifted input (no padding: exact everywhere)
    x = torch.randn(1, 3, 300, 316, generator=g, dtype=torch.float64)
    fine = _scores(call_answer(dilation_surgery, copy.deepcopy(border_free)), x)
    for a in range(4):
        for b in range(4):
            shifted = _scores(border_free, x[..., 8 * a:, 8 * b:])
            h, w = shifted.shape[-2:]
            got = fine[..., a::4, b::4][..., :h, :w]
            expect_array(got, shifted, f"(network without padding) the new scores at rows {a}, {a} + 4, ... and "
                         f"columns {b}, {b} + 4, ..., against the original network on the input shifted by "
                         f"{8 * a} rows and {8 * b} columns", atol=1e-9, rtol=1e-9)
