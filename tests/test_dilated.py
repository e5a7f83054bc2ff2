"""Dilated convolution three ways, sparse vs dense extraction, costs, and the pictures."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from course_utils.ops.dilated_conv import (conv_cost, conv_dilated, conv_on_subgrids, conv_zero_inserted,
                                           dense_extraction, dilate_kernel, sparse_extraction)
from course_utils.viz.dilated import draw_dilation_stack, plot_footprints, plot_rate_kernels

matplotlib.use("Agg")


pytestmark = pytest.mark.usefixtures("one_thread")


def test_dilate_kernel_inserts_zeros():
    w = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    for r in (1, 2, 4):
        d = dilate_kernel(w, r)
        assert d.shape == (1, 1, 2 * r + 1, 2 * r + 1)
        torch.testing.assert_close(d[..., ::r, ::r], w)
        assert int((d != 0).sum()) == 9  # rate 2: one zero between taps, rate 4: three zeros
        if r > 1:
            assert (d[..., 1:r, :] == 0).all() and (d[..., :, 1:r] == 0).all()
    assert dilate_kernel(torch.ones(5, 7), 3).shape == (13, 19)


@pytest.mark.parametrize("rate", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("size", [(17, 23), (8, 8), (31, 12)])
def test_three_ways_agree(rate, size, device):
    g = torch.Generator().manual_seed(rate)
    x = torch.randn(2, 3, *size, generator=g, dtype=torch.float64).to(device)
    w = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64).to(device)
    b = torch.randn(4, generator=g, dtype=torch.float64).to(device)
    for padding in (rate, 0, rate + 1):
        if min(size) + 2 * padding < 2 * rate + 1:
            continue
        ref = conv_dilated(x, w, b, rate, padding)
        assert ref.shape[-2:] == (size[0] + 2 * padding - 2 * rate, size[1] + 2 * padding - 2 * rate)
        torch.testing.assert_close(conv_zero_inserted(x, w, b, rate, padding), ref)
        torch.testing.assert_close(conv_on_subgrids(x, w, b, rate, padding), ref)
        conv = nn.Conv2d(3, 4, 3, padding=padding, dilation=rate).double().to(device)
        conv.weight.data.copy_(w), conv.bias.data.copy_(b)
        torch.testing.assert_close(conv(x), ref)


def test_subgrids_with_even_and_wide_kernels():
    x = torch.randn(1, 2, 20, 15, dtype=torch.float64)
    w = torch.randn(3, 2, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(conv_on_subgrids(x, w, None, 3, 4), nn.functional.conv2d(x, w, padding=4, dilation=3))


@pytest.mark.parametrize("size", [(32, 48), (33, 47)])
def test_dense_extraction_computes_the_sparse_outputs_and_more(size):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 2, *size, generator=g, dtype=torch.float64)
    w = torch.randn(3, 2, 7, 7, generator=g, dtype=torch.float64)
    low, up = sparse_extraction(x, w, factor=2)
    dense = dense_extraction(x, w, rate=2)
    assert low.shape[-2:] == ((size[0] + 1) // 2, (size[1] + 1) // 2)
    assert up.shape == dense.shape == (1, 3, *size)
    torch.testing.assert_close(dense[..., ::2, ::2], low)  # same responses on the coarse grid
    # off the coarse grid the sparse path only interpolates: it differs from the true responses
    assert (dense[..., 1::2, 1::2] - up[..., 1::2, 1::2]).abs().mean() > 0.1 * dense.abs().mean()
    _, nearest = sparse_extraction(x, w, factor=2, mode="nearest")
    torch.testing.assert_close(nearest[..., ::2, ::2], low)


def test_conv_cost_same_params_and_per_pixel_work():
    sparse = conv_cost(64, 64, 7, 50, 50)
    dense = conv_cost(64, 64, 7, 100, 100)
    assert sparse.params == dense.params == 7 * 7 * 64 * 64 + 64
    assert sparse.macs_per_output == dense.macs_per_output == 7 * 7 * 64 * 64
    assert dense.macs == 4 * sparse.macs and dense.flops == 2 * dense.macs
    net = nn.Conv2d(64, 64, 7, padding=6, dilation=2)
    assert sum(p.numel() for p in net.parameters()) == dense.params


def test_bad_arguments():
    w = torch.zeros(2, 3, 3, 3)
    with pytest.raises(ValueError, match="rate"):
        dilate_kernel(w, 0)
    with pytest.raises(ValueError, match="weight"):
        dilate_kernel(torch.zeros(3), 2)
    with pytest.raises(ValueError, match="x"):
        conv_on_subgrids(torch.zeros(1, 2, 8, 8), w, rate=2)
    with pytest.raises(ValueError, match="x"):
        conv_zero_inserted(torch.zeros(3, 8, 8), w, rate=2)
    with pytest.raises(ValueError, match="padding"):
        conv_on_subgrids(torch.zeros(1, 3, 8, 8), w, rate=2, padding=-1)
    with pytest.raises(ValueError, match="smaller"):
        conv_on_subgrids(torch.zeros(1, 3, 4, 4), w, rate=4)
    with pytest.raises(ValueError, match="mode"):
        sparse_extraction(torch.zeros(1, 3, 8, 8), w, mode="bicubic")
    with pytest.raises(ValueError, match="odd"):
        dense_extraction(torch.zeros(1, 3, 8, 8), torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="kernel"):
        conv_cost(3, 3, 0, 5, 5)


def test_rate_picture():
    fig = plot_rate_kernels((1, 2, 4))
    axes = fig.axes
    assert len(axes) == 3
    grids = [ax.images[0].get_array() for ax in axes]
    assert [g.shape for g in grids] == [(3, 3), (5, 5), (9, 9)]
    assert [int(np.asarray(g).sum()) for g in grids] == [9, 9, 9]
    zeros = [sum(t.get_text() == "0" for t in ax.texts) for ax in axes]
    assert zeros == [0, 25 - 9, 81 - 9]
    assert "rate 4: 3 zeros" in axes[2].get_title()


def test_footprint_pictures_and_widget_draw():
    fig = plot_footprints([[2, 2, 2], [1, 2, 3]])
    assert len(fig.axes) == 2
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape == (13, 13) and np.ma.count_masked(shown) == 169 - 49
    assert "RF 13" in fig.axes[0].get_title() and "sees 100%" in fig.axes[1].get_title()
    fig = draw_dilation_stack(1, 2, 4, 0)
    assert "receptive field 15x15" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="rates"):
        draw_dilation_stack(0, 0, 0, 0)
    with pytest.raises(ValueError, match="stacks"):
        plot_footprints([])
    with pytest.raises(ValueError, match="titles"):
        plot_footprints([[1]], titles=["a", "b"])


def test_widget_builds():
    pytest.importorskip("ipywidgets")
    from course_utils.viz.dilated import dilation_stack_widget

    box = dilation_stack_widget()
    sliders = box.children[:-1]
    assert [s.value for s in sliders] == [1, 2, 4, 0]


def test_gaussian_derivative_kernel():
    from course_utils.ops.dilated_conv import gaussian_derivative_kernel

    k = gaussian_derivative_kernel(7)
    assert k.shape == (7, 7) and k.dtype == torch.float32
    torch.testing.assert_close(k, -k.flip(0))  # odd in y
    torch.testing.assert_close(k, k.flip(1))  # even in x
    assert float(k.clamp(min=0).sum()) == pytest.approx(1.0) and float(k.sum()) == pytest.approx(0.0, abs=1e-6)
    step = torch.zeros(1, 1, 15, 15)
    step[..., 8:, :] = 1.0  # bright below
    resp = nn.functional.conv2d(step, k[None, None], padding=3)
    assert resp[0, 0, 7:9, 7].min() > 0.4 and resp[0, 0, 2, 7].abs() < 1e-6
    with pytest.raises(ValueError, match="size"):
        gaussian_derivative_kernel(6)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_derivative_kernel(7, 0.0)
