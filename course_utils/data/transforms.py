"""Joint image/label transforms for segmentation training (random scale, crop, flip).

Each transform is called as ``t(image, labels, generator=None)`` with an RGB
``image`` (H, W, 3) uint8 and ``labels`` (H, W) integer (255 = ignore) and
returns the pair transformed the same way: images are resized bilinearly (area
averaging when shrinking), labels with nearest neighbour, so no label value is
invented. Random draws come from ``generator`` (a ``torch.Generator``) or, when
it is None, from torch's global generator, which :func:`course_utils.train.fit`
re-seeds every epoch, so runs are reproducible.

This is the augmentation of DeepLab (Chen et al., TPAMI 2018): random scaling
(0.5-1.5 or 0.5-2.0), random crops padded with the ignore label, horizontal flips.
"""

from __future__ import annotations

import numpy as np

from course_utils._shared import (IMAGENET_MEAN, IMAGENET_STD, check_array, check_bytes, check_int, check_number,
                                  check_probability, check_sequence)
from course_utils.images import check_image, check_labels, resize_image, resize_labels

__all__ = ["Compose", "RandomScale", "RandomCrop", "RandomHorizontalFlip", "to_tensors"]

_MAX_SCALE = 64.0  # a random scale beyond this is a typo, not an augmentation


def _check_pair(image: np.ndarray, labels: np.ndarray) -> None:
    check_image(image, "image", allow_float=False)
    check_labels(labels, "labels")
    if image.shape[:2] != labels.shape:
        raise ValueError(f"image is {image.shape[:2]} but labels is {labels.shape}: they must have the same (H, W)")


def _check_transform(t, name: str):
    if not callable(t):
        raise ValueError(f"{name} must be a callable t(image, labels, generator=None), got {t!r}")
    return t


def _uniform(low: float, high: float, generator) -> float:
    import torch

    return low + (high - low) * float(torch.rand((), generator=generator))


def _randint(high: int, generator) -> int:
    """An int in [0, high]."""
    import torch

    return int(torch.randint(0, high + 1, (), generator=generator))


class Compose:
    """Apply transforms in order (each gets the same ``generator``)."""

    def __init__(self, transforms) -> None:
        self.transforms = check_sequence(transforms, "transforms", _check_transform, min_length=0,
                                         what="callables t(image, labels, generator=None)")

    def __call__(self, image, labels, generator=None):
        for t in self.transforms:
            image, labels = t(image, labels, generator=generator)
        return image, labels

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(map(repr, self.transforms)) + ")"


class RandomScale:
    """Resize by a factor drawn uniformly from ``scale_range``.

    Parameters
    ----------
    scale_range : (low, high)
        Positive factors, ``low <= high``.
    """

    def __init__(self, scale_range: tuple[float, float] = (0.5, 2.0)) -> None:
        values = check_sequence(scale_range, "scale_range",
                                lambda s, n: check_number(s, n, 0.0, _MAX_SCALE, open_min=True), what="factors")
        if len(values) != 2 or values[0] > values[1]:
            raise ValueError(f"scale_range must be (low, high) with 0 < low <= high, got {scale_range!r}")
        self.scale_range = values

    def __call__(self, image, labels, generator=None):
        _check_pair(image, labels)
        s = _uniform(*self.scale_range, generator)
        h, w = labels.shape
        size = (max(1, round(h * s)), max(1, round(w * s)))
        if size == (h, w):
            return image, labels
        return resize_image(image, size), resize_labels(labels, size)

    def __repr__(self) -> str:
        return f"RandomScale({self.scale_range})"


class RandomCrop:
    """Crop a random ``size = (H, W)`` window; smaller inputs are padded first.

    The padding is ``fill`` for the image and ``ignore_index`` for the labels,
    so padded pixels never count in the loss.
    """

    def __init__(self, size: tuple[int, int], *, ignore_index: int = 255, fill: tuple[int, int, int] = (124, 116, 104)) -> None:
        size = check_sequence(size, "size", lambda s, n: check_int(s, n, 1, 2**31 - 1), what="positive ints (H, W)")
        if len(size) != 2:
            raise ValueError(f"size must be a pair of positive ints (H, W), got {size!r}")
        check_bytes(float(size[0]) * size[1] * 11, name="size", value=size, what="the padded crop (image + int64 labels)")
        self.size = size
        # checked against each label map's dtype when padding (uint8 labels cannot hold -1)
        self.ignore_index = check_int(ignore_index, "ignore_index", -2**63, 2**63 - 1)
        self.fill = check_sequence(fill, "fill", lambda f, n: check_int(f, n, 0, 255), what="ints in [0, 255]")
        if len(self.fill) != 3:
            raise ValueError(f"fill must be an RGB triple of ints in [0, 255], got {fill!r}")

    def __call__(self, image, labels, generator=None):
        _check_pair(image, labels)
        ch, cw = self.size
        h, w = labels.shape
        ph, pw = max(ch - h, 0), max(cw - w, 0)
        if ph or pw:
            image = np.pad(image, ((0, ph), (0, pw), (0, 0)))
            if ph:
                image[h:, :] = self.fill
            if pw:
                image[:, w:] = self.fill
            if not np.can_cast(np.min_scalar_type(self.ignore_index), labels.dtype):
                raise ValueError(f"ignore_index={self.ignore_index} does not fit labels of dtype {labels.dtype}: "
                                 "the padding would be another label value")
            labels = np.pad(labels, ((0, ph), (0, pw)), constant_values=self.ignore_index)
            h, w = labels.shape
        top, left = _randint(h - ch, generator), _randint(w - cw, generator)
        return image[top:top + ch, left:left + cw], labels[top:top + ch, left:left + cw]

    def __repr__(self) -> str:
        return f"RandomCrop({self.size}, ignore_index={self.ignore_index})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = check_probability(p, "p")

    def __call__(self, image, labels, generator=None):
        _check_pair(image, labels)
        if _uniform(0.0, 1.0, generator) < self.p:
            return image[:, ::-1], labels[:, ::-1]
        return image, labels

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


def to_tensors(image: np.ndarray, labels: np.ndarray | None = None, *, mean=None, std=None):
    """``image`` (H, W, 3) uint8 -> normalised float tensor (3, H, W); ``labels`` -> int64 tensor (H, W).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8
    labels : ndarray, shape (H, W), integer dtype, optional
        Class ids (255 = ignore), the image's size; float or RGB labels are refused.
    mean, std : three finite numbers, optional
        Per-channel statistics of images in [0, 1]; ``std`` positive. Default ImageNet's
        (``course_utils._shared.IMAGENET_MEAN``/``STD``).

    Returns
    -------
    The image tensor alone when ``labels`` is None, else ``(image tensor, labels tensor)``.
    """
    import torch

    check_image(image, "image", allow_float=False)
    mean = _check_stats(IMAGENET_MEAN if mean is None else mean, "mean", positive=False)
    std = _check_stats(IMAGENET_STD if std is None else std, "std", positive=True)
    if labels is not None:
        _check_pair(image, labels)
    mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
    x = torch.from_numpy(np.ascontiguousarray(image).transpose(2, 0, 1).copy()).float().div_(255).sub_(mean).div_(std)
    if labels is None:
        return x
    return x, torch.from_numpy(np.ascontiguousarray(labels).astype(np.int64))


def _check_stats(values, name: str, *, positive: bool) -> tuple[float, float, float]:
    if isinstance(values, np.ndarray):
        values = check_array(values, name, ndim=1, kinds="iuf").tolist()
    values = check_sequence(values, name, lambda v, n: check_number(v, n, 0.0 if positive else None, open_min=positive),
                            what="positive numbers" if positive else "numbers")
    if len(values) != 3:
        raise ValueError(f"{name} must hold 3 numbers (R, G, B), got {len(values)}")
    return values
