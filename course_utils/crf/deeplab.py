"""DeepLab's module 2: the fully connected CRF on a network's logits (calibrate, scale, refine, energy).

DeepLab (Chen et al., *Semantic Image Segmentation with Deep Convolutional Nets
and Fully Connected CRFs*, ICLR 2015; TPAMI 2018) is two modules: a DCNN gives
coarse stride-8 class scores, bilinearly upsampled to the image
(:func:`course_utils.evaluate.predict.dcnn_logits`); the fully connected CRF
(:mod:`course_utils.crf.dense_crf`) refines them on the image's colours:

* :func:`fit_temperature` -- temperature scaling (Guo et al., ICML 2017): the
  CRF's unaries are ``-log softmax(logits / T)``, so their scale matters as much
  as the kernel weights; ``T`` minimises the held-out negative log-likelihood;
* :func:`scaled_crf_params` -- kernel widths given in pixels of a full-size
  (2048-wide) Cityscapes frame, scaled to the frame at hand;
* :func:`crf_labels` -- the refined labelling;
* :func:`labelling_energy` -- the CRF energy of any labelling.

Scoring with and without the CRF, the parameter search and the lecture's results table are in
:mod:`course_utils.evaluate.crf`; a trained net's evaluation is
:func:`course_utils.evaluate.checkpoints.score_with_crf`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch

from course_utils._shared import IGNORE_INDEX, as_generator, check_int, check_number
from course_utils.crf.dense_crf import CRFParams, CRFResult, DenseCRF, dense_crf, unary_from_probs

__all__ = ["REFERENCE_WIDTH", "crf_labels", "fit_temperature", "labelling_energy", "scaled_crf_params"]

#: Width in pixels of a Cityscapes frame; the ``"crf"`` settings' spatial widths refer to it.
REFERENCE_WIDTH = 2048


def _labelled(logits: torch.Tensor, labels: np.ndarray, ignore_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    lab = torch.from_numpy(np.asarray(labels).astype(np.int64)).reshape(-1)
    flat = logits.reshape(logits.shape[0], -1).t()
    keep = lab != ignore_index
    return flat[keep], lab[keep]


def fit_temperature(logits: Sequence[torch.Tensor], labels: Sequence[np.ndarray], *, ignore_index: int = IGNORE_INDEX,
                    bounds: tuple[float, float] = (0.05, 20.0), max_pixels: int = 200_000, rng=0) -> float:
    """Temperature scaling: the ``T`` that minimises the negative log-likelihood of ``softmax(logits / T)``.

    Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern Neural Networks", ICML 2017.
    Use frames the network was not trained on. The NLL is convex in ``1/T``; a
    golden-section search on ``log T`` within ``bounds`` finds the minimum.

    Parameters
    ----------
    logits : sequence of (C, H, W) float tensors
    labels : sequence of (H, W) int arrays (train ids, ``ignore_index`` skipped)
    bounds : (low, high)
        Search interval of ``T``.
    max_pixels : int
        Pixels drawn at random (``rng``) from all labelled ones, to bound the cost.

    Returns
    -------
    float
        ``T > 0``; ``T > 1`` softens over-confident scores, ``T < 1`` sharpens under-confident ones.
    """
    if len(logits) != len(labels) or not logits:
        raise ValueError(f"logits and labels must be non-empty and of the same length, got {len(logits)} "
                         f"and {len(labels)}")
    lo, hi = bounds
    if not 0 < lo < hi:
        raise ValueError(f"bounds must be (low, high) with 0 < low < high, got {bounds!r}")
    xs, ys = [], []
    for k, (lg, lab) in enumerate(zip(logits, labels, strict=True)):
        if tuple(lg.shape[1:]) != np.asarray(lab).shape:
            raise ValueError(f"logits[{k}] has shape {tuple(lg.shape)} but labels[{k}] has shape {np.asarray(lab).shape}")
        x, y = _labelled(lg.float(), lab, ignore_index)
        xs.append(x)
        ys.append(y)
    x, y = torch.cat(xs), torch.cat(ys)
    if len(y) == 0:
        raise ValueError("labels holds no labelled pixel (all are ignore_index)")
    if len(y) > max_pixels:
        gen = as_generator(rng)
        pick = torch.from_numpy(gen.choice(len(y), size=max_pixels, replace=False))
        x, y = x[pick], y[pick]
    x = x.double()

    def nll(log_t: float) -> float:
        return float(torch.nn.functional.cross_entropy(x / math.exp(log_t), y))

    a, b = math.log(lo), math.log(hi)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nll(c), nll(d)
    for _ in range(40):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nll(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nll(d)
    return float(math.exp((a + b) / 2))


def scaled_crf_params(params: CRFParams, width: int, reference_width: int) -> CRFParams:
    """``params`` with the spatial widths (``sigma_alpha``, ``sigma_gamma``) scaled from ``reference_width`` to ``width``.

    ``reference_width`` is the width in pixels of the frames ``params`` were chosen for (no default: the
    course checkpoints' settings are in pixels of 512-wide MiniCity frames, DeepLab's in pixels of
    Cityscapes' :data:`REFERENCE_WIDTH`, and a silent default would mix them up).

    Kernel widths are lengths in pixels: a 256x512 frame is a 1024x2048 one at a quarter of the
    resolution, so its kernels are a quarter as wide. Weights and the colour width do not change.
    """
    if not isinstance(params, CRFParams):
        raise TypeError(f"params must be a CRFParams, got {type(params).__name__}")
    for name, value in (("width", width), ("reference_width", reference_width)):
        check_int(value, name, 1)
    f = width / reference_width
    return replace(params, sigma_alpha=params.sigma_alpha * f, sigma_gamma=params.sigma_gamma * f)


def crf_labels(image: np.ndarray, logits: torch.Tensor, params: CRFParams, *, temperature: float = 1.0,
               iterations: int = 5, **kwargs) -> tuple[np.ndarray, CRFResult]:
    """Module 2 of DeepLab: refine ``logits`` (C, H, W) with the dense CRF on ``image``.

    The unaries are ``-log softmax(logits / temperature)``. Extra keyword arguments go to
    :func:`course_utils.crf.dense_crf` (``history``, ``history_classes``, ``objective``, ``device``).

    Returns
    -------
    labels : ndarray (H, W) uint8
        The refined labelling (argmax of the CRF's marginals).
    result : CRFResult
    """
    temperature = check_number(temperature, "temperature", 0.0, 1e6, open_min=True)
    result = dense_crf(image, logits=logits / float(temperature), params=params, iterations=iterations, **kwargs)
    return result.labels.cpu().numpy().astype(np.uint8), result


def labelling_energy(image: np.ndarray, logits: torch.Tensor, labels, params: CRFParams, *,
                     temperature: float = 1.0, crf=None) -> dict[str, float]:
    """The CRF energy ``E(x)`` of a labelling ``x`` (the lecture's formula, the kernels normalised as in inference).

    ``E(x) = sum_i theta_i(x_i) + sum_{i<j} mu(x_i, x_j) k(f_i, f_j)`` with
    ``theta = -log softmax(logits / temperature)`` (clipped at 1e-5 as the CRF's unaries) and the
    Potts ``mu``; the pair sum is ``1/2 sum_i [(K 1)_i - (K onehot(x))_i(x_i)]``, two filterings.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
    logits : (C, H, W) float tensor
    labels : (H, W) int array or tensor, values in 0..C-1
    params : CRFParams
    crf : DenseCRF, optional
        The CRF of this image (e.g. an :class:`~course_utils.crf.exact.ExactDenseCRF`); built if not given.

    Returns
    -------
    dict
        ``unary``, ``pairwise`` and ``total`` (floats, nats).
    """
    lab = torch.as_tensor(np.asarray(labels)).to(torch.int64)
    c, h, w = (int(v) for v in logits.shape)
    if tuple(lab.shape) != (h, w):
        raise ValueError(f"labels has shape {tuple(lab.shape)} but logits has shape {(c, h, w)}")
    if int(lab.min()) < 0 or int(lab.max()) >= c:
        raise ValueError(f"labels must lie in 0..{c - 1}, got values in [{int(lab.min())}, {int(lab.max())}]")
    unary = unary_from_probs(torch.softmax(logits.float() / float(temperature), dim=0))
    flat = lab.reshape(-1)
    unary_sum = float(unary.reshape(c, -1).t().gather(1, flat[:, None]).to(torch.float64).sum())
    crf = DenseCRF(image, params) if crf is None else crf
    onehot = torch.nn.functional.one_hot(flat, c).to(torch.float32)
    both = torch.cat([onehot, torch.ones(h * w, 1)], dim=1)
    msg = crf.message(both).to(torch.float64)
    agree = msg[:, :c].gather(1, flat[:, None]).sum()
    pairwise = float(0.5 * (msg[:, c].sum() - agree))
    return {"unary": unary_sum, "pairwise": pairwise, "total": unary_sum + pairwise}


