"""Realistic test unaries: a label map that follows a real photo and a coarse, noisy "DCNN" softmax of it.

No package ships photos with segmentation ground truth, so tests, benchmarks and
demos of the dense CRF make one: :func:`photo_labels` cuts a sample photo into
SLIC superpixels (Achanta et al., 2012) and gives each a class, so label
boundaries lie on image edges as real annotations do; :func:`coarse_probs`
then imitates what DeepLab's network hands to the CRF (Chen et al., 2015): class
scores at 1/``stride`` resolution, noisy, upsampled bilinearly, so the
boundaries are blurred and shifted and some regions are wrong.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from course_utils._shared import as_generator, check_int, check_number
from course_utils.images import check_image, check_labels

__all__ = ["photo_labels", "coarse_logits", "coarse_probs"]


def photo_labels(image: np.ndarray, num_classes: int, *, segments: int = 60, rng=0) -> np.ndarray:
    """A label map whose regions follow the photo's edges (SLIC superpixels, each given a class).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8 or float in [0, 1]
        The photo.
    num_classes : int
        Classes are drawn from ``0 .. num_classes - 1``; every class appears when
        ``segments >= num_classes``.
    segments : int
        Approximate number of superpixels.
    rng : numpy.random.Generator or int
        Source of the class draw.

    Returns
    -------
    labels : ndarray, shape (H, W), uint8
    """
    from skimage.segmentation import slic

    check_image(image)
    if not isinstance(num_classes, (int, np.integer)) or not 2 <= num_classes <= 255:
        raise ValueError(f"num_classes must be an int in [2, 255], got {num_classes!r}")
    if not isinstance(segments, (int, np.integer)) or segments < 1:
        raise ValueError(f"segments must be a positive int, got {segments!r}")
    gen = as_generator(rng)
    sp = slic(image, n_segments=int(segments), compactness=10.0, start_label=0)
    count = int(sp.max()) + 1
    classes = gen.integers(0, num_classes, count)
    if count >= num_classes:  # every class appears at least once
        classes[gen.permutation(count)[:num_classes]] = np.arange(num_classes)
    return classes[sp].astype(np.uint8)


def coarse_logits(labels: np.ndarray, num_classes: int, *, stride: int = 8, noise: float = 1.0,
                  confidence: float = 4.0, blur: float = 1.0, rng=0) -> torch.Tensor:
    """Class scores like a DCNN's: computed at 1/``stride`` resolution, noisy, upsampled bilinearly.

    Parameters
    ----------
    labels : ndarray, shape (H, W), int
        Ground truth, ``0 .. num_classes - 1`` (255 = ignore: such pixels get no class evidence).
    num_classes : int
    stride : int
        Output stride of the imitated network (DeepLab: 8).
    noise : float
        Standard deviation of the Gaussian noise added to the coarse scores.
    confidence : float
        Score of the true class before noise (the others get 0).
    blur : float
        Standard deviation, in coarse cells, of a Gaussian blur of the coarse scores.
    rng : numpy.random.Generator or int

    Returns
    -------
    logits : torch.Tensor, shape (1, num_classes, H, W), float32
    """
    num_classes = check_int(num_classes, "num_classes", 2, 255)
    check_labels(labels, num_classes=num_classes)
    stride = check_int(stride, "stride", 1, 2**15)
    for name, value in (("noise", noise), ("confidence", confidence), ("blur", blur)):
        check_number(value, name)
    if noise < 0 or blur < 0:
        raise ValueError(f"noise and blur must be >= 0, got noise={noise!r}, blur={blur!r}")
    if labels.size == 0:
        raise ValueError(f"labels is empty: shape {labels.shape}")
    if blur > 0 and 3 * blur > 4 * max(labels.shape):
        raise ValueError(f"blur={blur!r} coarse cells is wider than the image ({labels.shape[0]}x{labels.shape[1]})")
    gen = as_generator(rng)
    h, w = labels.shape
    lab = torch.from_numpy(labels.astype(np.int64))
    valid = lab != 255
    onehot = F.one_hot(torch.where(valid, lab, 0), num_classes).permute(2, 0, 1).float()
    onehot = (onehot * valid).unsqueeze(0)
    hc, wc = max(1, -(-h // stride)), max(1, -(-w // stride))
    coarse = F.adaptive_avg_pool2d(onehot, (hc, wc)) * confidence
    if blur > 0:
        radius = max(1, int(round(3 * blur)))
        x = torch.arange(-radius, radius + 1, dtype=torch.float32)
        k = torch.exp(-x**2 / (2 * blur**2))
        k = k / k.sum()
        c = num_classes
        coarse = F.pad(coarse, (radius, radius, radius, radius), mode="replicate")
        coarse = F.conv2d(coarse, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        coarse = F.conv2d(coarse, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    coarse = coarse + noise * torch.from_numpy(gen.standard_normal(coarse.shape).astype(np.float32))
    return F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)


def coarse_probs(labels: np.ndarray, num_classes: int, **kwargs) -> torch.Tensor:
    """``softmax`` of :func:`coarse_logits` over the classes: (1, num_classes, H, W) float32, summing to one."""
    return torch.softmax(coarse_logits(labels, num_classes, **kwargs), dim=1)
