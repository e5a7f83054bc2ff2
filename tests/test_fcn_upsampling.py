"""Bilinear deconvolution, unpooling and convolutionalization vs torch / OpenCV / torchvision."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from course_utils.nets.convolutionalize import convolutionalize_classifier, convolutionalize_linear, fully_convolutional
from course_utils.ops.bilinear import (BilinearDeconv, bilinear_deconv_weight, bilinear_kernel,
                                       bilinear_kernel_size, bilinear_upsample, interior_slice)
from course_utils.ops.unpooling import max_pool_with_positions, max_unpool


# --------------------------------------------------------------------------------------------- bilinear
def test_bilinear_kernel_values_and_sums():
    k4 = bilinear_kernel(4)
    np.testing.assert_allclose(k4[0], [0.0625, 0.1875, 0.1875, 0.0625])
    np.testing.assert_allclose(k4, k4.T)
    k3 = bilinear_kernel(3)  # factor 2, odd: centre 1
    np.testing.assert_allclose(k3[1], [0.5, 1.0, 0.5])
    for f in (2, 3, 4, 8, 16, 32):
        k = bilinear_kernel(2 * f)
        # separable, and each output phase receives weights summing to 1 (a partition of unity)
        tent = np.sqrt(np.diag(k))
        np.testing.assert_allclose(k, np.outer(tent, tent))
        np.testing.assert_allclose([tent[r::f].sum() for r in range(f)], np.ones(f))
    assert bilinear_kernel_size(32) == 64 and bilinear_kernel_size(3) == 5
    with pytest.raises(ValueError, match="size"):
        bilinear_kernel(0)


@pytest.mark.parametrize("factor", [2, 3, 4, 5, 8, 16, 32])
def test_deconvolution_reproduces_bilinear_interpolation(factor, device):
    gen = torch.Generator().manual_seed(factor)
    x = torch.randn(2, 3, 5, 7, dtype=torch.float64, generator=gen).to(device)
    ref = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
    # plain deconvolution (kernel 2f - f % 2, stride f, padding f // 2): equal on the interior only
    plain = bilinear_upsample(x, factor, replicate_edges=False)
    assert plain.shape == ref.shape
    rows, cols = interior_slice(5, factor), interior_slice(7, factor)
    torch.testing.assert_close(plain[..., rows, cols], ref[..., rows, cols])
    border = torch.ones_like(ref, dtype=torch.bool)
    border[..., rows, cols] = False
    assert (plain - ref)[border].abs().max() > 1e-3  # the border really differs (zeros beyond the image)
    # with one edge-replicated pixel of padding: equal everywhere
    torch.testing.assert_close(bilinear_upsample(x, factor), ref)
    # and align_corners=True is a different interpolation
    other = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=True)
    assert (other - ref).abs().max() > 1e-3


def test_deconvolution_matches_opencv_inter_linear():
    rng = np.random.default_rng(0)
    image = rng.random((6, 9, 3)).astype(np.float64)
    for f in (2, 4, 8):
        ours = bilinear_upsample(torch.from_numpy(image).permute(2, 0, 1)[None], f)[0].permute(1, 2, 0).numpy()
        ref = cv2.resize(image, (9 * f, 6 * f), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(ours, ref, atol=1e-9)


def test_bilinear_deconv_layer_is_fcn_upscore():
    layer = BilinearDeconv(21, 32, trainable=False)
    assert layer.weight.shape == (21, 21, 64, 64) and layer.bias is None and not layer.weight.requires_grad
    assert layer.stride == (32, 32) and layer.padding == (0, 0)
    w = layer.weight.detach()
    assert torch.equal(w[3, 3], torch.from_numpy(bilinear_kernel(64)).float())
    assert w[3, 4].abs().sum() == 0  # off-diagonal zeros: classes are not mixed at the start
    assert BilinearDeconv(21, 2).weight.requires_grad
    out = layer(torch.zeros(1, 21, 16, 16))
    assert out.shape == (1, 21, 544, 544)
    depthwise = bilinear_deconv_weight(4, 4, depthwise=True)
    assert depthwise.shape == (4, 1, 4, 4)


# --------------------------------------------------------------------------------------------- unpooling
def test_unpooling_worked_example():
    x = np.array([[1, 5, 2, 0],
                  [3, 4, 8, 1],
                  [0, 2, 6, 7],
                  [9, 1, 3, 2]], dtype=np.float32)
    values, positions = max_pool_with_positions(x, 2)
    np.testing.assert_array_equal(values, [[5, 8], [9, 7]])
    np.testing.assert_array_equal(positions, [[1, 6], [12, 11]])
    up = max_unpool(values, positions, x.shape)
    expected = np.zeros_like(x)
    expected.flat[[1, 6, 12, 11]] = [5, 8, 9, 7]
    np.testing.assert_array_equal(up, expected)
    # the same with torch's MaxPool2d(return_indices=True) and MaxUnpool2d
    t = torch.from_numpy(x)[None, None]
    tv, ti = nn.MaxPool2d(2, return_indices=True)(t)
    np.testing.assert_array_equal(ti[0, 0].numpy(), positions)
    np.testing.assert_array_equal(nn.MaxUnpool2d(2)(tv, ti)[0, 0].numpy(), up)


@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 2), (3, 3), (2, 1)])
def test_unpooling_matches_torch_on_random_planes(kernel, stride):
    rng = np.random.default_rng(kernel * 10 + stride)
    x = rng.standard_normal((3, 9, 11)).astype(np.float32)  # no ties
    values, positions = max_pool_with_positions(x, kernel, stride)
    tv, ti = F.max_pool2d(torch.from_numpy(x)[None], kernel, stride, return_indices=True)
    np.testing.assert_array_equal(values, tv[0].numpy())
    np.testing.assert_array_equal(positions, ti[0].numpy())
    if stride >= kernel:  # MaxUnpool2d is only the inverse placement for non-overlapping windows
        ref = F.max_unpool2d(tv, ti, kernel, stride, output_size=x.shape[-2:])[0].numpy()
        np.testing.assert_array_equal(max_unpool(values, positions, x.shape[-2:]), ref)


def test_unpooling_bad_input():
    with pytest.raises(ValueError, match="kernel"):
        max_pool_with_positions(np.zeros((4, 4)), 0)
    with pytest.raises(ValueError, match="positions"):
        max_unpool(np.zeros((2, 2)), np.zeros((2, 3), np.int64), (4, 4))
    with pytest.raises(ValueError, match="positions must lie"):
        max_unpool(np.zeros((1, 1)), np.array([[16]]), (4, 4))
    with pytest.raises(ValueError, match="x must be a 2-D or 3-D array"):
        max_pool_with_positions(np.zeros(4), 2)


# --------------------------------------------------------------------------------------------- convolutionalization
def test_convolutionalized_linear_gives_the_same_outputs():
    torch.manual_seed(0)
    linear = nn.Linear(4 * 3 * 3, 5)
    conv = convolutionalize_linear(linear, (4, 3, 3))
    x = torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(conv(x).flatten(1), linear(x.flatten(1)))
    big = conv(torch.randn(2, 4, 7, 9))
    assert big.shape == (2, 5, 5, 7)
    with pytest.raises(ValueError, match="in_features"):
        convolutionalize_linear(linear, (4, 2, 2))
    with pytest.raises(TypeError, match="linear"):
        convolutionalize_linear(nn.Conv2d(1, 1, 1), (1, 1, 1))


def test_alexnet_becomes_fully_convolutional():
    torch.manual_seed(0)
    model = torchvision.models.alexnet(weights=None).eval()
    fcn = fully_convolutional(model).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        scores = model(x)
        maps = fcn(x)
        assert maps.shape == (1, 1000, 1, 1)
        torch.testing.assert_close(maps.flatten(1), scores, rtol=1e-4, atol=1e-4)
        # a larger input gives a spatial map of scores: one per 32 pixels (AlexNet's stride)
        big = fcn(torch.randn(1, 3, 288, 320))
    assert big.shape == (1, 1000, 3, 4)
    # each score-map cell is the classifier applied to that window of features
    feats = model.features(torch.randn(1, 3, 288, 320))
    with torch.no_grad():
        win = model.classifier(feats[:, :, 2:8, 1:7].flatten(1))
        torch.testing.assert_close(fcn[1](feats)[:, :, 2, 1], win, rtol=1e-4, atol=1e-4)


def test_classifier_conversion_keeps_indices_and_rejects_other_layers():
    classifier = nn.Sequential(nn.Linear(8 * 2 * 2, 6), nn.ReLU(), nn.Dropout(), nn.Linear(6, 3))
    conv = convolutionalize_classifier(classifier, (8, 2, 2))
    assert isinstance(conv[0], nn.Conv2d) and conv[0].kernel_size == (2, 2)
    assert isinstance(conv[3], nn.Conv2d) and conv[3].kernel_size == (1, 1)
    with pytest.raises(TypeError, match="BatchNorm1d"):
        convolutionalize_classifier(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)), (4, 1, 1))
    with pytest.raises(TypeError, match="torchvision AlexNet or VGG"):
        fully_convolutional(nn.Linear(2, 2))
