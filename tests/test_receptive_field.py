"""Receptive fields and output strides: the lecture's numbers, torch's sizes, and back-propagation checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from course_utils.nets.deeplab import DeepLabVGG16Features, deeplab_vgg16_largefov
from course_utils.ops.receptive_field import (Layer, conv_output_size, deeplab_vgg16_layers,
                                              effective_kernel_size, footprint, gradient_footprint,
                                              layers_from_module, output_stride, receptive_field,
                                              receptive_field_size, vgg16_layers)


def _extent(mask: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(mask)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def _linear_probe(layers: list[Layer]) -> nn.Sequential:
    """One-channel ones-kernel convolutions: every path has a positive weight, nothing cancels."""
    mods = []
    for layer in layers:
        conv = nn.Conv2d(1, 1, layer.kernel, layer.stride, layer.padding, layer.dilation, bias=False)
        nn.init.ones_(conv.weight)
        mods.append(conv)
    return nn.Sequential(*mods).double()


pytestmark = pytest.mark.usefixtures("one_thread")


def test_aspp_rates_give_the_lecture_fields():
    assert [effective_kernel_size(3, r) for r in (6, 12, 18, 24)] == [13, 25, 37, 49]
    assert [receptive_field_size([Layer.same(3, r)]) for r in (6, 12, 18, 24)] == [13, 25, 37, 49]
    assert [effective_kernel_size(3, r) for r in (1, 2, 4)] == [3, 5, 9]
    assert effective_kernel_size(7, 2) == 13


def test_fcn_vgg16_receptive_field_is_404():
    table = receptive_field(vgg16_layers())
    by_name = {f.name: f for f in table}
    assert by_name["pool5"].size == 212 and by_name["pool5"].jump == 32
    assert by_name["fc6"].size == 404 and by_name["fc7"].size == 404
    assert output_stride(vgg16_layers()) == 32
    assert receptive_field_size(vgg16_layers(fcn=False)) == 212


def test_deeplab_vgg16_output_stride_and_field():
    layers = deeplab_vgg16_layers(12)
    assert output_stride(layers) == 8
    by_name = {f.name: f for f in receptive_field(layers, input_size=513)}
    assert by_name["pool5"].size == 227 and by_name["fc6"].size == 227 + 24 * 8
    assert by_name["fc7"].output_size == 65  # 513 -> 65, DeepLab's crop size
    assert all(f.start == 0 for f in by_name.values())  # 'same' padding keeps pixel 0 centred on pixel 0
    # the module and the hand-written list agree
    assert layers_from_module(DeepLabVGG16Features(0.0625)) == layers[:-2]
    head = deeplab_vgg16_largefov(3, width=0.0625).classifier
    assert layers_from_module(head) == [Layer(3, 1, 12, 12, "fc6"), Layer(1, 1, 1, 0, "fc7"), Layer(1, 1, 1, 0, "fc8")]


def test_layers_from_torchvision_vgg16():
    layers = layers_from_module(torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"]))
    assert len(layers) == 18 and receptive_field_size(layers) == 212 and output_stride(layers) == 32


@pytest.mark.parametrize("size", [1, 2, 7, 32, 33, 500, 513])
@pytest.mark.parametrize("k,s,p,d", [(3, 1, 1, 1), (3, 1, 2, 2), (3, 2, 1, 1), (7, 1, 0, 1), (3, 1, 12, 12),
                                     (2, 2, 0, 1), (3, 3, 1, 4), (5, 2, 2, 3)])
def test_conv_output_size_matches_torch(size, k, s, p, d):
    x = torch.zeros(1, 1, size, 1 + 2 * d * (k // 2))
    conv = nn.Conv2d(1, 1, (k, 1), (s, 1), (p, 0), (d, 1))
    if size + 2 * p < d * (k - 1) + 1:
        with pytest.raises(ValueError, match="size"):
            conv_output_size(size, k, s, p, d)
        return
    assert conv_output_size(size, k, s, p, d) == conv(x).shape[2]
    if p <= k // 2 and d == 1:
        pool = nn.MaxPool2d((k, 1), (s, 1), (p, 0), ceil_mode=True)
        assert conv_output_size(size, k, s, p, d, ceil_mode=True) == pool(x).shape[2]


@pytest.mark.parametrize("layers", [
    vgg16_layers(fcn=False),
    deeplab_vgg16_layers(4),
    [Layer(3, 2, 1, 1), Layer(3, 1, 2, 2), Layer(5, 3, 3, 0), Layer(3, 1, 1, 1)],
])
def test_receptive_field_matches_backpropagation(layers):
    rf = receptive_field_size(layers)
    size = rf + 3 * output_stride(layers) + 40
    grad = gradient_footprint(_linear_probe(layers), size, in_channels=1)
    assert _extent(grad > 0) == (rf, rf)
    # and the predicted centre: output pixel (i, j) is centred at start + i * jump
    last = receptive_field(layers)[-1]
    out = _linear_probe(layers)(torch.zeros(1, 1, size, size, dtype=torch.float64))
    i = out.shape[2] // 2
    rows = np.nonzero((grad > 0).any(1))[0]
    assert (rows.min() + rows.max()) / 2 == pytest.approx(last.start + i * last.jump)


def test_gradient_footprint_of_the_real_network():
    """Random weights, ReLU and max pooling: the seen region stays inside the predicted square."""
    net = DeepLabVGG16Features(0.0625).eval()
    grad = gradient_footprint(net, 128)
    rows, cols = _extent(grad > 0)
    assert rows <= 227 and cols <= 227 and rows > 100  # clipped by the 128-pixel probe only


@pytest.mark.parametrize("rates", [[2, 2, 2], [1, 2, 3], [1, 2, 5, 9], [4], [1, 1]])
def test_footprint_counts_paths(rates):
    layers = [Layer.same(3, r) for r in rates]
    fp = footprint(layers)
    rf = receptive_field_size(layers)
    assert fp.shape == (rf, rf) and fp.dtype == np.int64
    assert fp.sum() == 9 ** len(rates)  # every tap of every layer is one path
    probe = _linear_probe(layers)
    grad = gradient_footprint(probe, rf + 10, in_channels=1)
    c = (rf + 10) // 2
    np.testing.assert_array_equal(grad[c - rf // 2: c + rf // 2 + 1, c - rf // 2: c + rf // 2 + 1], fp)


def test_gridding_of_equal_rates():
    fp = footprint([Layer.same(3, 2)] * 3)
    assert fp.shape == (13, 13)
    assert (fp[1::2, :] == 0).all() and (fp[:, 1::2] == 0).all()  # odd rows/cols never seen
    assert (fp > 0).mean() == pytest.approx(49 / 169)
    assert (footprint([Layer.same(3, r) for r in (1, 2, 3)]) > 0).all()  # HDC-style rates see every pixel


def test_bad_arguments():
    with pytest.raises(ValueError, match="kernel"):
        Layer(0)
    with pytest.raises(ValueError, match="dilation"):
        Layer(3, dilation=0)
    with pytest.raises(ValueError, match="padding"):
        Layer(3, padding=-1)
    with pytest.raises(ValueError, match="kernel"):
        Layer.same(4)
    with pytest.raises(ValueError, match="layers"):
        receptive_field([])
    with pytest.raises(ValueError, match="layers"):
        receptive_field([(3, 1, 1, 1)])
    with pytest.raises(ValueError, match="stride"):
        footprint([Layer(3, 2)])
    with pytest.raises(ValueError, match="size"):
        conv_output_size(0, 3)
    with pytest.raises(ValueError, match="not square"):
        layers_from_module(nn.Conv2d(1, 1, (3, 5)))
    with pytest.raises(ValueError, match="position"):
        gradient_footprint(_linear_probe([Layer(3)]), 8, in_channels=1, position=(9, 0))
