"""Transposed convolution: matrix view, scatter-add, zero insertion vs torch, forward and backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.ops.receptive_field import conv_output_size
from course_utils.ops.transposed_conv import (LECTURE_EXAMPLES, conv2d_as_matrix, conv_matrix,
                                              conv_transpose2d_as_matrix, conv_transpose2d_scatter,
                                              conv_transpose2d_zero_insertion, conv_transpose_output_size,
                                              equivalent_direct_padding, insert_zeros, scatter_positions)

IMPLEMENTATIONS = [conv_transpose2d_as_matrix, conv_transpose2d_scatter, conv_transpose2d_zero_insertion]
CASES = [  # (H, W, k, stride, padding, output_padding)
    (2, 2, 3, 1, 0, 0),
    (3, 3, 3, 2, 1, 0),
    (5, 4, 3, 2, 1, 1),
    (4, 6, 4, 2, 1, 0),
    (3, 5, 2, 3, 0, 2),
    (6, 3, 5, 1, 2, 0),
]


def test_output_size_arithmetic_matches_torch():
    rng = np.random.default_rng(0)
    for _ in range(60):
        n, k, s = int(rng.integers(1, 12)), int(rng.integers(1, 6)), int(rng.integers(1, 4))
        p = int(rng.integers(0, k))
        if n + 2 * p >= k:
            got = conv_output_size(n, k, s, p)
            assert got == F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-1]
        op = int(rng.integers(0, s))
        try:
            got = conv_transpose_output_size(n, k, s, p, op)
        except ValueError:
            continue
        ref = F.conv_transpose2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p,
                                 output_padding=op).shape[-1]
        assert got == ref


def test_transposed_size_inverts_conv_size():
    # a transposed conv with the same parameters maps the conv's output size back to its input size
    for n in range(3, 20):
        for k, s, p in ((3, 1, 1), (3, 2, 1), (4, 2, 1), (5, 2, 2), (2, 2, 0)):
            m = conv_output_size(n, k, s, p)
            back = conv_transpose_output_size(m, k, s, p, output_padding=(n + 2 * p - k) % s)
            assert back == n


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_matrix_product_equals_conv2d(case):
    h, w, k, s, p, _ = case
    torch.manual_seed(0)
    x = torch.randn(2, 3, h + 4, w + 4, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, 3, k, k, dtype=torch.float64, requires_grad=True)
    ours = conv2d_as_matrix(x, weight, s, p)
    ref = F.conv2d(x, weight, stride=s, padding=p)
    torch.testing.assert_close(ours, ref)
    g = torch.randn_like(ref)
    gx, gw = torch.autograd.grad(ours, (x, weight), g)
    rx, rw = torch.autograd.grad(ref, (x, weight), g)
    torch.testing.assert_close(gx, rx)
    torch.testing.assert_close(gw, rw)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_transposed_conv_forward_and_backward_match_torch(impl, case, device):
    h, w, k, s, p, op = case
    gen = torch.Generator().manual_seed(1)
    y = torch.randn(2, 3, h, w, dtype=torch.float64, generator=gen).to(device).requires_grad_()
    weight = torch.randn(3, 2, k, k, dtype=torch.float64, generator=gen).to(device).requires_grad_()
    ours = impl(y, weight, s, p, op)
    ref = F.conv_transpose2d(y, weight, stride=s, padding=p, output_padding=op)
    torch.testing.assert_close(ours, ref)
    g = torch.randn(ref.shape, dtype=torch.float64, generator=gen).to(device)
    got = torch.autograd.grad(ours, (y, weight), g)
    want = torch.autograd.grad(ref, (y, weight), g)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


def test_transposed_conv_is_the_transpose_and_swaps_forward_and_backward():
    # conv_transpose2d's forward = conv2d's backward (input gradient) and vice versa
    torch.manual_seed(2)
    weight = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    x = torch.randn(1, 3, 7, 7, dtype=torch.float64, requires_grad=True)
    y = F.conv2d(x, weight, stride=2, padding=1)  # (1, 2, 4, 4)
    c = conv_matrix(weight, (7, 7), 2, 1)
    assert c.shape == (2 * 4 * 4, 3 * 7 * 7)
    g = torch.randn_like(y)
    (grad_x,) = torch.autograd.grad(y, x, g)
    torch.testing.assert_close(grad_x.flatten(), c.T @ g.flatten())
    torch.testing.assert_close(F.conv_transpose2d(g, weight, stride=2, padding=1), grad_x)
    # and the backward of the transposed conv is the forward conv
    g2 = g.clone().requires_grad_()
    out = F.conv_transpose2d(g2, weight, stride=2, padding=1)
    (grad_g,) = torch.autograd.grad(out, g2, x.detach())
    torch.testing.assert_close(grad_g, F.conv2d(x.detach(), weight, stride=2, padding=1))


def test_conv_matrix_is_sparse_and_banded():
    weight = torch.arange(1.0, 10.0).reshape(3, 3)
    c = conv_matrix(weight, (4, 4))
    assert c.shape == (4, 16)  # 4x4 input, 3x3 kernel, no padding -> 2x2 output
    assert (c != 0).sum(dim=1).tolist() == [9, 9, 9, 9]
    # row 0 reads input rows 0..2, columns 0..2 with the kernel
    assert c[0].reshape(4, 4)[:3, :3].equal(weight)
    assert c[3].reshape(4, 4)[1:, 1:].equal(weight)


def test_lecture_example_full_padding_2x2_to_4x4():
    ex = LECTURE_EXAMPLES["full_padding"]
    assert (ex.input_size, ex.kernel, ex.stride) == (2, 3, 1)
    assert ex.output_size_computed() == 4 == ex.output_size
    assert equivalent_direct_padding(ex.kernel, ex.padding) == ex.direct_padding == 2
    y = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    kernel = torch.ones(1, 1, 3, 3)
    out = conv_transpose2d_scatter(y, kernel, ex.stride, ex.padding)
    assert out.shape == (1, 1, 4, 4)
    # with a ones kernel each output cell sums the inputs whose 3x3 footprint covers it
    expected = torch.tensor([[1, 3, 3, 2], [4, 10, 10, 6], [4, 10, 10, 6], [3, 7, 7, 4]], dtype=torch.float32)
    torch.testing.assert_close(out[0, 0], expected)
    # = a stride-1 direct conv with full padding 2 and the flipped kernel
    direct = F.conv2d(F.pad(y, (2, 2, 2, 2)), kernel.flip(-1, -2))
    torch.testing.assert_close(direct, out)


def test_lecture_example_zero_insertion_3x3_to_5x5():
    ex = LECTURE_EXAMPLES["zero_insertion"]
    assert (ex.input_size, ex.kernel, ex.stride, ex.padding) == (3, 3, 2, 1)
    assert ex.output_size_computed() == 5 == ex.output_size
    y = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    z = insert_zeros(y, 2)
    assert z.shape == (1, 1, 5, 5) and int((z != 0).sum()) == 9 and z[0, 0, 1].abs().sum() == 0
    kernel = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out = F.conv_transpose2d(y, kernel, stride=2, padding=1)
    torch.testing.assert_close(conv_transpose2d_zero_insertion(y, kernel, 2, 1), out)
    # the direct conv pads the 5x5 zero-inserted input by k - 1 - p = 1
    assert equivalent_direct_padding(3, 1) == ex.direct_padding == 1
    torch.testing.assert_close(F.conv2d(F.pad(z, (1, 1, 1, 1)), kernel.flip(-1, -2)), out)
    # input pixel (0, 0) lands at output positions -1..1 (the -1 is cropped by the padding)
    assert scatter_positions(3, 3, 2, 1)[0] == [None, 0, 1]
    assert scatter_positions(3, 3, 2, 1)[2] == [3, 4, None]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="kernel"):
        conv_output_size(5, 0)
    with pytest.raises(ValueError, match="size=2"):
        conv_output_size(2, 5)
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose_output_size(3, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="padding"):
        conv_transpose_output_size(1, 1, padding=3)
    with pytest.raises(ValueError, match="channels"):
        conv_transpose2d_scatter(torch.zeros(1, 2, 3, 3), torch.zeros(3, 1, 3, 3))
    with pytest.raises(ValueError, match="y must have shape"):
        conv_transpose2d_scatter(torch.zeros(3, 3), torch.zeros(1, 1, 3, 3))
    with pytest.raises(TypeError, match="weight"):
        conv_matrix(np.zeros((3, 3)), (4, 4))
    with pytest.raises(ValueError, match="padding"):
        equivalent_direct_padding(3, 3)
