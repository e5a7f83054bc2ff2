"""Lesson 6's worked steps: one mean-field update by hand on two pixels, the CRF's gain against a drawn truth.

* :func:`two_pixel_update` -- every number of one mean-field update on a 1x2 image with two labels
  (the lecture's plain kernels, no ``j = i`` term): distances, both kernels, the message, the Potts
  cost, the scores, the normaliser and the new ``Q``.
* :func:`crf_gain_on_scenes` -- the CRF's pixel accuracy against ground truth that was *drawn*, not
  derived from colour (the course's synthetic VOC scenes), next to the coarse input's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from course_utils.crf.dense_crf import CRFParams, dense_crf
from course_utils.crf.unaries import coarse_probs

__all__ = ["TwoPixelUpdate", "two_pixel_update", "SceneGain", "crf_gain_on_scenes"]


@dataclass(frozen=True)
class TwoPixelUpdate:
    """The numbers of one mean-field update on two pixels (index 0, 1) and two labels (index 0, 1).

    Attributes
    ----------
    colours : (2, 3) the pixels' RGB, 0-255; positions are (0, 0) and (1, 0) (x, y), one pixel apart
    unary : (2, 2) theta_i(l) = -log P_i(l)
    q : (2, 2) the current Q_i(l)
    d_pos2, d_rgb2 : squared distances between the two pixels (pixels^2, (0-255 units)^2)
    appearance, smoothness : the two Gaussians exp(-d_pos2/2sa^2 - d_rgb2/2sb^2) and exp(-d_pos2/2sg^2)
    k : w1 * appearance + w2 * smoothness, the pair's kernel (the same both ways)
    message : (2, 2) m_i(l) = k Q_j(l), j the other pixel
    cost : (2, 2) the Potts cost sum_{l' != l} m_i(l')
    score : (2, 2) -theta_i(l) - cost_i(l)
    z : (2,) sum_l exp(score_i(l))
    new_q : (2, 2) exp(score) / z
    """

    params: CRFParams
    colours: np.ndarray
    unary: np.ndarray
    q: np.ndarray
    d_pos2: float
    d_rgb2: float
    appearance: float
    smoothness: float
    k: float
    message: np.ndarray
    cost: np.ndarray
    score: np.ndarray
    z: np.ndarray
    new_q: np.ndarray

    @property
    def image(self) -> np.ndarray:
        """The (1, 2, 3) uint8 image the two pixels form."""
        return self.colours.astype(np.uint8)[None]


def two_pixel_update(colours: Sequence[Sequence[int]] = ((200, 40, 40), (190, 60, 50)),
                     probs: Sequence[Sequence[float]] = ((0.8, 0.2), (0.3, 0.7)),
                     params: CRFParams | None = None) -> TwoPixelUpdate:
    """One mean-field update by hand on two neighbouring pixels, starting from ``Q = P``.

    Parameters
    ----------
    colours : two RGB triples, 0-255
    probs : two (P(label 0), P(label 1)) pairs, each summing to one (the network's output)
    params : CRFParams, default ``w1=4, sigma_alpha=10, sigma_beta=20, w2=3, sigma_gamma=1``
    """
    params = params or CRFParams(w1=4.0, sigma_alpha=10.0, sigma_beta=20.0, w2=3.0, sigma_gamma=1.0)
    colours = np.asarray(colours, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    if colours.shape != (2, 3) or not ((colours >= 0) & (colours <= 255)).all():
        raise ValueError(f"colours must be two RGB triples in 0-255, got {colours.tolist()}")
    if p.shape != (2, 2) or not np.allclose(p.sum(1), 1.0) or (p <= 0).any():
        raise ValueError(f"probs must be two positive pairs summing to one, got {p.tolist()}")
    unary = -np.log(p)
    q = p.copy()
    d_pos2 = 1.0  # (0, 0) and (1, 0)
    d_rgb2 = float(((colours[0] - colours[1]) ** 2).sum())
    appearance = math.exp(-d_pos2 / (2 * params.sigma_alpha ** 2) - d_rgb2 / (2 * params.sigma_beta ** 2))
    smoothness = math.exp(-d_pos2 / (2 * params.sigma_gamma ** 2))
    k = params.w1 * appearance + params.w2 * smoothness
    message = k * q[::-1]  # pixel i hears the other pixel j
    cost = message.sum(1, keepdims=True) - message
    score = -unary - cost
    z = np.exp(score).sum(1)
    new_q = np.exp(score) / z[:, None]
    return TwoPixelUpdate(params, colours, unary, q, d_pos2, d_rgb2, appearance, smoothness, k, message, cost,
                          score, z, new_q)


@dataclass(frozen=True)
class SceneGain:
    """Pixel accuracy of the coarse input and of the CRF's output on scenes with drawn labels.

    ``coarse``, ``crf``: over all labelled pixels; ``per_image``: (n, 2) array of (coarse, crf);
    ``near``: the same two within ``radius`` pixels of a void outline pixel.
    """

    coarse: float
    crf: float
    per_image: np.ndarray
    near: tuple[float, float]
    radius: int

    @property
    def improved(self) -> int:
        """How many images the CRF made more accurate."""
        return int((self.per_image[:, 1] > self.per_image[:, 0]).sum())


def crf_gain_on_scenes(images: Sequence[np.ndarray], labels: Sequence[np.ndarray], num_classes: int,
                       params: CRFParams, *, iterations: int = 5, stride: int = 8, radius: int = 4) -> SceneGain:
    """Coarse scores from each scene's drawn labels (:func:`coarse_probs`, seed = image index), the CRF on top.

    Parameters
    ----------
    images : (H, W, 3) uint8 arrays
    labels : (H, W) int arrays, 255 = void (left out of every count)
    num_classes : int
    params : CRFParams, the CRF's settings (chosen elsewhere: nothing is tuned here)
    iterations, stride : mean-field iterations; the imitated network's output stride
    radius : pixels, the band around void outlines for ``near``
    """
    import cv2

    if len(images) != len(labels) or not len(images):
        raise ValueError("images and labels must be non-empty sequences of the same length")
    per_image, right, total = [], np.zeros(4), np.zeros(2)
    for i, (image, lab) in enumerate(zip(images, labels)):
        probs = coarse_probs(lab, num_classes, stride=stride, rng=i)[0]
        coarse = probs.argmax(0).numpy()
        refined = dense_crf(image, probs, params=params, iterations=iterations).labels.numpy()
        valid = lab != 255
        near = valid & cv2.dilate((~valid).astype(np.uint8), np.ones((2 * radius + 1,) * 2, np.uint8)).astype(bool)
        per_image.append(((coarse[valid] == lab[valid]).mean(), (refined[valid] == lab[valid]).mean()))
        right += [(coarse[valid] == lab[valid]).sum(), (refined[valid] == lab[valid]).sum(),
                  (coarse[near] == lab[near]).sum(), (refined[near] == lab[near]).sum()]
        total += [valid.sum(), near.sum()]
    return SceneGain(float(right[0] / total[0]), float(right[1] / total[0]), np.array(per_image),
                     (float(right[2] / total[1]), float(right[3] / total[1])), radius)
