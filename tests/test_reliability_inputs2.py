"""Issue 25: silent wrong results made errors or made right, one test per reported case (library modules)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

# --------------------------------------------------------------------------- one definition of resizing


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.int64, np.uint64])
@pytest.mark.parametrize("size", [(3, 4), (10, 14), (7, 9), (5, 7), (1, 1), (13, 2)])
def test_resize_labels_same_for_every_integer_dtype(dtype, size):
    from course_utils.images import resize_labels

    labels = (np.arange(35).reshape(5, 7) % 100).astype(dtype)
    out = resize_labels(labels, size)
    # independent: the source pixel whose centre is nearest each output pixel's centre
    rows = [min(int(np.floor((i + 0.5) * 5 / size[0])), 4) for i in range(size[0])]
    cols = [min(int(np.floor((j + 0.5) * 7 / size[1])), 6) for j in range(size[1])]
    assert out.dtype == labels.dtype
    assert np.array_equal(out, labels[np.ix_(rows, cols)])


@pytest.mark.parametrize("size", [(8, 12), (8, 5), (8, 3), (8, 20), (16, 16)])
def test_resize_labels_aligned_with_resize_image(size):
    from course_utils.images import resize_image, resize_labels

    mask = np.zeros((8, 8), np.uint8)
    mask[:, 3:] = 1
    image = np.repeat(mask[..., None] * 255, 3, axis=2)
    grey = resize_image(image, size)[0, :, 0].astype(int)
    lab = resize_labels(mask, size)[0]
    # the label edge sits where the resized image crosses half grey
    assert np.array_equal(lab == 1, grey > 128) or np.all((lab == 1) == (grey >= 128))


# --------------------------------------------------------------------------- tensors and images


@pytest.mark.parametrize("bad", [lambda: torch.full((3, 4, 4), 200.0), lambda: torch.full((3, 4, 4), float("nan")),
                                 lambda: torch.full((3, 4, 4), -2.0), lambda: torch.full((3, 4, 4), float("inf"))])
def test_tensor_to_image_refuses_out_of_range_and_nan(bad):
    from course_utils.images import tensor_to_image

    with pytest.raises(ValueError, match="tensor"):
        tensor_to_image(bad())


def test_tensor_to_image_clips_a_small_overshoot_only():
    from course_utils.images import tensor_to_image

    t = torch.tensor([0.0, 0.5, 1.02]).view(3, 1, 1)
    assert tensor_to_image(t)[0, 0].tolist() == [0, 128, 255]
    with pytest.raises(ValueError, match="tolerance"):
        tensor_to_image(t, tolerance=float("nan"))


def test_to_tensors_refuses_bad_labels_and_std():
    from course_utils.data.transforms import to_tensors

    image = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(ValueError, match="labels"):
        to_tensors(image, np.zeros((4, 5, 3), np.uint8))  # RGB labels
    with pytest.raises(TypeError, match="labels"):
        to_tensors(image, np.full((4, 5), 2.7))  # float labels
    with pytest.raises(ValueError, match="labels"):
        to_tensors(image, np.zeros((4, 6), np.uint8))  # another size
    for std in [(0, 1, 1), (1, -1, 1), (1, 1), (1, float("nan"), 1), ()]:
        with pytest.raises(ValueError, match="std"):
            to_tensors(image, std=std)
    with pytest.raises(ValueError, match="mean"):
        to_tensors(image, mean=(0.5, float("inf"), 0.5))
    x, y = to_tensors(image, np.ones((4, 5), np.uint8), mean=(0, 0, 0), std=(1, 1, 1))
    assert x.abs().max() == 0 and y.dtype == torch.int64 and y.sum() == 20


def test_random_crop_padding_fits_the_label_dtype():
    from course_utils.data.transforms import RandomCrop

    image, labels = np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.uint8)
    with pytest.raises(ValueError, match="ignore_index=-1"):
        RandomCrop((4, 4), ignore_index=-1)(image, labels)
    _, out = RandomCrop((4, 4), ignore_index=-1)(image, labels.astype(np.int64))
    assert (out == -1).sum() == 12 and (out == 0).sum() == 4
    for kwargs in [dict(fill=(0, 0, 256)), dict(fill=(0, 0)), dict(ignore_index=1.5)]:
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            RandomCrop((4, 4), **kwargs)


@pytest.mark.parametrize("scale_range", [(0.5, float("inf")), (float("nan"), 1.0), (0, 1), (2, 1), (1,)])
def test_random_scale_refuses_bad_ranges(scale_range):
    from course_utils.data.transforms import RandomScale

    with pytest.raises(ValueError, match="scale_range"):
        RandomScale(scale_range)


# --------------------------------------------------------------------------- unpooling


def test_max_unpool_refuses_an_output_size_that_disagrees():
    from course_utils.ops.unpooling import max_pool_with_positions, max_unpool

    x = np.random.default_rng(0).random((2, 4, 6))
    values, positions = max_pool_with_positions(x, 2)
    ref = torch.nn.functional.max_unpool2d(torch.from_numpy(values)[None], torch.from_numpy(positions)[None], 2,
                                           output_size=(4, 6))[0].numpy()
    assert np.array_equal(max_unpool(values, positions, (4, 6)), ref)
    for size in [(6, 4), (4, 7), (4, 5), (3, 6), (12, 2)]:
        with pytest.raises(ValueError, match="output_size"):
            max_unpool(values, positions, size)
    with pytest.raises(ValueError, match="output_size"):
        max_unpool(values, positions, (6, 6), kernel=2)  # two extra rows: known only with the pooling
    assert max_unpool(values, positions, (5, 6), kernel=2).shape == (2, 5, 6)  # floor mode drops the last row


# --------------------------------------------------------------------------- receptive fields


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x):
        return x + self.conv(x)


class _Reordered(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.conv = nn.Conv2d(1, 1, 5)

    def forward(self, x):
        return self.pool(torch.relu(self.conv(x)))


class _Dynamic(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        return self.conv(x) if x.sum() > 0 else x


@pytest.mark.parametrize("module", [_Residual(), nn.Sequential(nn.Conv2d(1, 1, 3), nn.ConvTranspose2d(1, 1, 4, 2)),
                                    nn.Sequential(nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2)), _Dynamic(),
                                    nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1))])
def test_layers_from_module_refuses_what_it_cannot_follow(module):
    from course_utils.ops.receptive_field import layers_from_module, module_receptive_field

    with pytest.raises(ValueError, match="gradient_footprint|no receptive-field rule"):
        layers_from_module(module)
    with pytest.raises(ValueError, match="gradient_footprint|no receptive-field rule"):
        module_receptive_field(module)


def test_layers_from_module_follows_call_order():
    from course_utils.ops.receptive_field import gradient_footprint, layers_from_module, receptive_field_size

    net = _Reordered()
    layers = layers_from_module(net)
    assert [layer.name for layer in layers] == ["conv", "pool"]
    # the conv before the pool: 5 + (2 - 1) = 6 pixels; pool before conv would give 2 + 4 * 2 = 10
    assert receptive_field_size(layers) == 6
    with torch.no_grad():
        net.conv.weight.fill_(1.0)
        net.conv.bias.fill_(1.0)
    seen = gradient_footprint(nn.Sequential(net.conv, nn.AvgPool2d(2)), 16, in_channels=1) > 0
    assert seen.any(axis=1).sum() == 6
