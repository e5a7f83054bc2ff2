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

import math

import numpy as np

from course_utils._shared import IMAGENET_MEAN, IMAGENET_STD
from course_utils.images import check_image, check_labels, resize_image, resize_labels

__all__ = ["Compose", "RandomScale", "RandomCrop", "RandomHorizontalFlip", "to_tensors"]


def _check_pair(image: np.ndarray, labels: np.ndarray) -> None:
    check_image(image, "image", allow_float=False)
    check_labels(labels, "labels")
    if image.shape[:2] != labels.shape:
        raise ValueError(f"image is {image.shape[:2]} but labels is {labels.shape}: they must have the same (H, W)")


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
        self.transforms = list(transforms)

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
        if (not isinstance(scale_range, (tuple, list)) or len(scale_range) != 2
                or not all(isinstance(s, (int, float)) and not isinstance(s, bool) and s > 0 for s in scale_range)
                or scale_range[0] > scale_range[1]):
            raise ValueError(f"scale_range must be (low, high) with 0 < low <= high, got {scale_range!r}")
        self.scale_range = (float(scale_range[0]), float(scale_range[1]))

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
        if (not isinstance(size, (tuple, list)) or len(size) != 2
                or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
            raise ValueError(f"size must be a pair of positive ints (H, W), got {size!r}")
        self.size = (int(size[0]), int(size[1]))
        self.ignore_index = int(ignore_index)
        self.fill = tuple(int(f) for f in fill)

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
            labels = np.pad(labels, ((0, ph), (0, pw)), constant_values=self.ignore_index)
            h, w = labels.shape
        top, left = _randint(h - ch, generator), _randint(w - cw, generator)
        return image[top:top + ch, left:left + cw], labels[top:top + ch, left:left + cw]

    def __repr__(self) -> str:
        return f"RandomCrop({self.size}, ignore_index={self.ignore_index})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1 or math.isnan(p):
            raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def __call__(self, image, labels, generator=None):
        _check_pair(image, labels)
        if _uniform(0.0, 1.0, generator) < self.p:
            return image[:, ::-1], labels[:, ::-1]
        return image, labels

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


def to_tensors(image: np.ndarray, labels: np.ndarray | None = None, *, mean=None, std=None):
    """``image`` (H, W, 3) uint8 -> normalised float tensor (3, H, W); ``labels`` -> int64 tensor (H, W).

    ``mean``/``std`` default to ImageNet's (``course_utils._shared.IMAGENET_MEAN``/``STD``).
    Returns the image tensor alone when ``labels`` is None.
    """
    import torch

    check_image(image, "image", allow_float=False)
    mean = torch.tensor(IMAGENET_MEAN if mean is None else mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD if std is None else std, dtype=torch.float32).view(3, 1, 1)
    x = torch.from_numpy(np.ascontiguousarray(image).transpose(2, 0, 1).copy()).float().div_(255).sub_(mean).div_(std)
    if labels is None:
        return x
    return x, torch.from_numpy(np.ascontiguousarray(labels).astype(np.int64))
