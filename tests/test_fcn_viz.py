"""Lesson 4 figures and widgets: the pure draw functions, and the builders wire them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from course_utils.palettes import VOC_CLASSES, voc_palette
from course_utils.viz.fcn import (
    draw_metrics_playground,
    draw_transposed_conv_stepper,
    metrics_playground,
    playground_scores,
    plot_bilinear_upsampling,
    plot_conv_matrix,
    plot_conv_steps,
    plot_fcn_outputs,
    plot_transposed_conv_steps,
    transposed_conv_footprint,
    transposed_conv_stepper,
)


@pytest.mark.parametrize("size,k,s,p", [(3, 3, 2, 1), (2, 3, 1, 0), (4, 4, 2, 1), (3, 2, 3, 0)])
def test_footprint_counts_are_a_transposed_conv_of_ones(size, k, s, p):
    footprint, counts = transposed_conv_footprint(size, k, s, p, (1 % size, 0))
    ones = F.conv_transpose2d(torch.ones(1, 1, size, size), torch.ones(1, 1, k, k), stride=s, padding=p)[0, 0]
    np.testing.assert_array_equal(counts, ones.numpy().astype(int))
    # the footprint of one pixel = the transposed conv of a one-hot input with the tap numbers as kernel
    onehot = torch.zeros(1, 1, size, size)
    onehot[0, 0, 1 % size, 0] = 1
    taps = torch.arange(1.0, k * k + 1).reshape(1, 1, k, k)
    np.testing.assert_array_equal(footprint, F.conv_transpose2d(onehot, taps, stride=s, padding=p)[0, 0].numpy())
    with pytest.raises(ValueError, match="pixel"):
        transposed_conv_footprint(size, k, s, p, (size, 0))


def test_checkerboard_when_kernel_not_a_multiple_of_stride():
    _, uneven = transposed_conv_footprint(4, 3, 2, 0, (0, 0))
    _, even = transposed_conv_footprint(4, 4, 2, 1, (0, 0))
    assert len(np.unique(uneven[2:-2, 2:-2])) > 1
    assert len(np.unique(even[2:-2, 2:-2])) == 1


def test_figures_draw():
    figs = [plot_conv_steps(4, 3, 1, 1, steps=3), plot_transposed_conv_steps(3, 3, 2, 1, steps=2),
            plot_conv_matrix(4, 3), plot_bilinear_upsampling(np.random.default_rng(0).random((3, 4)), 4),
            draw_transposed_conv_stepper(3, 3, 2, 1, pixel=4), draw_metrics_playground(2, 1, 4, True, True)]
    assert all(isinstance(f, Figure) for f in figs)
    assert len(figs[0].axes) == 3 and len(figs[1].axes) == 2
    with pytest.raises(ValueError, match="small"):
        plot_bilinear_upsampling(np.zeros(4), 2)


def test_fcn_outputs_grid():
    labels = np.zeros((2, 16, 16), np.uint8)
    labels[:, 4:10, 4:10] = 15
    labels[:, 3, :] = 255
    images = np.zeros((2, 16, 16, 3), np.uint8)
    fig = plot_fcn_outputs(images, labels, {"FCN-32s": labels, "FCN-8s": labels}, voc_palette(), VOC_CLASSES)
    assert len(fig.axes) == 8
    with pytest.raises(ValueError, match="same number"):
        plot_fcn_outputs(images, labels, {"x": labels[:1]}, voc_palette(), VOC_CLASSES)


def test_playground_scores_react_to_each_control():
    truth, pred, perfect = playground_scores()
    assert np.array_equal(truth, pred) and perfect["mean_iu"] == 1.0 and perfect["pixel_acc"] == 1.0
    assert set(np.unique(truth)) == {0, 5, 7, 15}
    for kw in ({"shift": 3}, {"grow": 2}, {"grow": -1}, {"coarse": 16}, {"drop_small": True}, {"false_blob": True}):
        _, _, sc = playground_scores(**kw)
        assert sc["mean_iu"] < 1.0, kw
    _, _, missed = playground_scores(drop_small=True)
    assert missed["pixel_acc"] > 0.98 and missed["class_iu"][5] == 0.0  # tiny pixel loss, a whole class lost
    _, _, invented = playground_scores(false_blob=True)
    assert invented["class_iu"][1] == 0.0  # a predicted-only class counts with IU 0


def test_widget_builders_return_containers():
    import ipywidgets as widgets

    for builder in (transposed_conv_stepper, metrics_playground):
        box = builder()
        assert isinstance(box, widgets.VBox)
        sliders = [c for c in box.children if isinstance(c, widgets.IntSlider)]
        assert sliders
        sliders[0].value = sliders[0].max  # redraws without error
