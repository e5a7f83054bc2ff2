"""GrabCut's iteration as the paper (and OpenCV) writes it: hard assignment of pixels to GMM components.

C. Rother, V. Kolmogorov and A. Blake, "GrabCut: interactive foreground
extraction using iterated graph cuts", ACM SIGGRAPH 2004, figure 3:

1. *assign*: every pixel of a label goes to the single component of that label's
   GMM under which it is most likely, ``k_p = argmax_k pi_k N(z_p | mu_k, Sigma_k)``;
2. *learn*: each component is re-estimated from its pixels (weight = share of
   the pixels, mean, covariance + ``0.01 I`` as OpenCV does);
3. *cut*: data terms ``D_p(alpha) = -log sum_k pi_k N(z_p | mu_k, Sigma_k)``
   under the new models, the user's pixels fixed, and the minimum cut.

:func:`course_utils.graphcut.grabcut.grabcut` replaces steps 1-2 by one soft
EM step (faster to converge, same energy); this module is the reference for
lesson 3's exercise ``03.grabcut_loop``, where the student writes steps 1-3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils._shared import check_int
from course_utils.graphcut.graph_cut import Smoothness, add_hard_constraints, graph_cut

__all__ = ["REG_COVAR", "ColourGMM", "initial_gmms", "component_log_densities", "assign_components", "refit_gmm",
           "gmm_data_term", "hard_grabcut_step", "hard_grabcut_loop"]

REG_COVAR = 0.01  # added to every covariance diagonal (0-255 units squared), as OpenCV does
_LOG_2PI = float(np.log(2 * np.pi))
GC_BGD, GC_FGD, GC_PR_BGD, GC_PR_FGD = 0, 1, 2, 3


@dataclass(frozen=True)
class ColourGMM:
    """A colour GMM as three arrays: ``weights`` (K,), ``means`` (K, 3), ``covariances`` (K, 3, 3), float64.

    A component with weight 0 holds no pixel; it is ignored everywhere.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(weights, means, covariances)``, copies (what the exercise's function receives)."""
        return self.weights.copy(), self.means.copy(), self.covariances.copy()


def _check_colours(colours: np.ndarray, name: str = "colours") -> np.ndarray:
    colours = np.asarray(colours)
    if colours.ndim != 2 or colours.shape[1] != 3 or len(colours) == 0 or not np.issubdtype(colours.dtype, np.floating):
        raise ValueError(f"{name} must be a float array of shape (N, 3) with N >= 1, got {colours.dtype} {colours.shape}")
    return colours.astype(np.float64, copy=False)


def refit_gmm(colours: np.ndarray, assignment: np.ndarray, n_components: int) -> ColourGMM:
    """Re-estimate each component from the colours assigned to it (the paper's step 2).

    Parameters
    ----------
    colours : ndarray, shape (N, 3), float
        0-255 units.
    assignment : ndarray, shape (N,), int in [0, n_components)
    n_components : int

    Returns
    -------
    ColourGMM
        ``weights[k] = n_k / N``; ``means[k]`` the mean colour; ``covariances[k]`` the
        maximum-likelihood covariance (divided by ``n_k``) plus ``REG_COVAR * I``. An empty
        component gets weight 0, mean 0 and the identity covariance.
    """
    colours = _check_colours(colours)
    k_max = check_int(n_components, "n_components", 1)
    assignment = np.asarray(assignment)
    if assignment.shape != (len(colours),) or not np.issubdtype(assignment.dtype, np.integer) \
            or (assignment < 0).any() or (assignment >= k_max).any():
        raise ValueError(f"assignment must be ({len(colours)},) ints in [0, {k_max}), got {assignment.dtype} "
                         f"{assignment.shape}")
    weights = np.zeros(k_max)
    means = np.zeros((k_max, 3))
    covariances = np.tile(np.eye(3), (k_max, 1, 1))
    for k in range(k_max):
        z = colours[assignment == k]
        if len(z) == 0:
            continue
        weights[k] = len(z) / len(colours)
        means[k] = z.mean(axis=0)
        diff = z - means[k]
        covariances[k] = diff.T @ diff / len(z) + REG_COVAR * np.eye(3)
    return ColourGMM(weights, means, covariances)


def initial_gmms(colours: np.ndarray, trimap: np.ndarray, *, n_components: int = 5,
                 rng: int = 0) -> tuple[ColourGMM, ColourGMM]:
    """GrabCut's start: k-means clusters of the colours inside (foreground) and outside the rectangle.

    Parameters
    ----------
    colours : ndarray, shape (H, W, 3), float
    trimap : ndarray, shape (H, W), uint8, OpenCV codes
        Foreground model from ``GC_FGD`` and ``GC_PR_FGD`` pixels, background from the rest.
    n_components : int
    rng : int
        Seeds k-means (scikit-learn's ``KMeans``, one run, as OpenCV).

    Returns
    -------
    fg, bg : ColourGMM
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    colours = np.asarray(colours, np.float64)
    if colours.ndim != 3 or colours.shape[2] != 3 or trimap.shape != colours.shape[:2]:
        raise ValueError(f"colours must be (H, W, 3) and trimap (H, W) of the same size, got {colours.shape} "
                         f"and {trimap.shape}")
    k = check_int(n_components, "n_components", 1)
    inside = (trimap == GC_FGD) | (trimap == GC_PR_FGD)
    models = []
    for select in (inside, ~inside):
        z = colours[select]
        if len(z) < k:
            raise ValueError(f"trimap leaves {len(z)} pixels for a label: need at least n_components = {k}")
        with threadpool_limits(limits=1):
            labels = KMeans(n_clusters=k, n_init=1, random_state=int(rng)).fit_predict(z)
        models.append(refit_gmm(z, labels, k))
    return models[0], models[1]


def component_log_densities(colours: np.ndarray, gmm: ColourGMM) -> np.ndarray:
    """``log pi_k + log N(z | mu_k, Sigma_k)`` for every colour and component: ``(N, K)`` float64.

    Components of weight 0 give ``-inf``.
    """
    colours = _check_colours(colours)
    diff = colours[:, None, :] - gmm.means[None]
    maha = np.einsum("nki,kij,nkj->nk", diff, np.linalg.inv(gmm.covariances), diff)
    log_norm = -0.5 * (3 * _LOG_2PI + np.log(np.linalg.det(gmm.covariances)))
    with np.errstate(divide="ignore"):
        return np.log(gmm.weights) + log_norm - 0.5 * maha


def assign_components(colours: np.ndarray, gmm: ColourGMM) -> np.ndarray:
    """The paper's step 1: each colour's most likely component, ``(N,)`` int64."""
    return np.argmax(component_log_densities(colours, gmm), axis=1)


def gmm_data_term(colours: np.ndarray, gmm: ColourGMM) -> np.ndarray:
    """``-log sum_k pi_k N(z | mu_k, Sigma_k)`` for every colour, ``(N,)`` float64."""
    return -np.logaddexp.reduce(component_log_densities(colours, gmm), axis=1)


def hard_grabcut_step(colours: np.ndarray, mask: np.ndarray, fg: ColourGMM, bg: ColourGMM, trimap: np.ndarray,
                      smoothness: Smoothness) -> tuple[np.ndarray, float, ColourGMM, ColourGMM]:
    """One GrabCut iteration: assign, re-fit, cut.

    Parameters
    ----------
    colours : ndarray, shape (H, W, 3), float
    mask : ndarray, shape (H, W), bool
        The current segmentation (True: foreground).
    fg, bg : ColourGMM
        The current models.
    trimap : ndarray, shape (H, W), OpenCV codes
        ``GC_FGD`` / ``GC_BGD`` pixels are fixed (hard constraints).
    smoothness : Smoothness
        The n-links (``gamma = 50`` in GrabCut).

    Returns
    -------
    mask : ndarray, shape (H, W), bool
    energy : float
        The energy of the new mask under the new models (data + smoothness).
    fg, bg : ColourGMM
        The re-fitted models.
    """
    colours = np.asarray(colours, np.float64)
    new_models = []
    for select, gmm in ((mask, fg), (~mask, bg)):
        z = colours[select]
        new_models.append(refit_gmm(z, assign_components(z, gmm), len(gmm.weights)))
    fg, bg = new_models
    flat = colours.reshape(-1, 3)
    unary = np.stack([gmm_data_term(flat, bg), gmm_data_term(flat, fg)], axis=-1).reshape(mask.shape + (2,))
    unary = add_hard_constraints(unary, smoothness, trimap == GC_FGD, trimap == GC_BGD)
    cut = graph_cut(unary, smoothness)
    return cut.mask, float(cut.energy), fg, bg


def hard_grabcut_loop(colours: np.ndarray, trimap: np.ndarray, smoothness: Smoothness, fg: ColourGMM,
                      bg: ColourGMM, iterations: int) -> tuple[np.ndarray, list[float]]:
    """``iterations`` steps of :func:`hard_grabcut_step` from the rectangle; ``(mask, energies)``.

    The start is the rectangle itself: ``GC_FGD`` and ``GC_PR_FGD`` pixels are foreground.
    The energies never increase (each step lowers or keeps the energy of the segmentation it
    starts from, and the cut is the exact minimum for the new models).
    """
    iterations = check_int(iterations, "iterations", 1)
    mask = (trimap == GC_FGD) | (trimap == GC_PR_FGD)
    energies = []
    for _ in range(iterations):
        mask, energy, fg, bg = hard_grabcut_step(colours, mask, fg, bg, trimap, smoothness)
        energies.append(energy)
    return mask, energies
