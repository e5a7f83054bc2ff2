"""GrabCut: iterated graph cuts with Gaussian-mixture colour models.

C. Rother, V. Kolmogorov and A. Blake, "GrabCut: interactive foreground
extraction using iterated graph cuts", ACM SIGGRAPH 2004.

The user draws a rectangle (交互, interaction): outside it every pixel is
background (背景) for certain; inside, foreground (前景) or background is to be
decided.  Foreground and background colours each get a Gaussian mixture model
(高斯混合模型, GMM) of ``K = 5`` full-covariance components, initialised by
k-means.  Then, repeatedly:

1. *assign and re-fit*: one EM step of each GMM (scikit-learn's
   ``GaussianMixture``, warm-started from the previous components) on the
   pixels currently labelled with its label.  The E-step assigns each pixel
   softly to the components (Rother et al. assign it to the single best one;
   OpenCV does too); the M-step re-estimates weights, means and covariances;
2. *graph cut*: data terms ``D_p(alpha) = -log p(z_p | GMM_alpha)`` plus the
   contrast-sensitive smoothness of :mod:`course_utils.graphcut.graph_cut`
   with ``gamma = 50`` over the 8-neighbourhood (diagonals divided by
   ``sqrt(2)``, ``beta`` from the mean over the 8-neighbour pairs), as in
   OpenCV's ``cv2.grabCut``; the minimum cut gives the new labelling.

The energy ``E(alpha, theta) = sum_p D_p(alpha_p) + sum_pq w_pq [alpha_p !=
alpha_q]`` (over all pixels, the fixed ones included) never increases: EM
never lowers the likelihood of a fixed labelling and the cut is the exact
minimum for fixed models.  Two safeguards make that hold in floating point and
with a fitting subset as well: a re-fit that would raise the energy of the
current labelling is discarded, and so is a cut that is not better than the
current labelling.

Speed (the target is ``cv2.grabCut``'s time):

* the models are fitted on a fixed random subset of at most
  ``max_fit_pixels`` pixels per label (nested across iterations), while the
  data terms and the energy use every pixel;
* the data terms of all K components come from one matrix product over
  quadratic colour features (:func:`gmm_neg_log_likelihood`);
* the graph's n-links are built once and every later cut re-uses the previous
  flow (dynamic graph cuts, :class:`course_utils.graphcut.graph_cut.GridGraph`);
* BLAS/OpenMP run on one thread: the problems are small, and threads only add
  overhead (a lot of it on busy cores).

User corrections (fg/bg strokes) become hard constraints; :func:`grabcut_correct`
continues from a previous result with them.

Label codes of ``trimap`` are OpenCV's: ``GC_BGD = 0``, ``GC_FGD = 1``,
``GC_PR_BGD = 2``, ``GC_PR_FGD = 3``, so a trimap can be passed to
``cv2.grabCut`` unchanged.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np

from course_utils._shared import as_generator, check_array, check_int, check_number, check_probability, check_sequence
from course_utils.graphcut.graph_cut import (
    GridGraph,
    Smoothness,
    _energy_terms,
    add_hard_constraints,
    check_smoothness_weight,
    energy_terms,
    image_as_colours,
    neighbour_offsets,
    smoothness_weights,
)
from course_utils.images import check_image, check_mask, check_size

__all__ = [
    "GC_BGD",
    "GC_FGD",
    "GC_PR_BGD",
    "GC_PR_FGD",
    "GrabCutResult",
    "check_rect",
    "rect_from_fractions",
    "rect_trimap",
    "fit_colour_model",
    "colour_features",
    "gmm_neg_log_likelihood",
    "grabcut_unary",
    "grabcut_energy",
    "grabcut",
    "grabcut_correct",
    "mask_iou",
    "PHOTO_RECTS",
    "opencv_grabcut",
]

GC_BGD, GC_FGD, GC_PR_BGD, GC_PR_FGD = 0, 1, 2, 3

#: Sensible rectangles for sample photos (:func:`course_utils.data.samples.sample_image`), as fractions
#: ``(x, y, width, height)`` of the photo (see :func:`rect_from_fractions`).  For each, cv2.grabCut returns
#: the same mask whatever its random seed; looser rectangles are not stable (GrabCut finds a local minimum
#: that depends on its k-means initialisation).
PHOTO_RECTS: dict[str, tuple[float, float, float, float]] = {
    "astronaut": (0.293, 0.029, 0.371, 0.391),  # the head
    "coffee": (0.217, 0.025, 0.45, 0.575),  # the cup
    "china": (0.047, 0.14, 0.484, 0.843),  # the pagoda
    "flower": (0.1875, 0.234, 0.375, 0.562),  # the dahlia
    "chelsea": (0.155, 0.033, 0.732, 0.95),  # the cat's head
}
_LOG_2PI = float(np.log(2.0 * np.pi))
_REG_COVAR = 0.01  # added to covariance diagonals (0-255 units squared), as OpenCV does for singular ones


@dataclass
class GrabCutResult:
    """The outcome of :func:`grabcut` / :func:`grabcut_correct`.

    Attributes
    ----------
    mask : ndarray, shape (H, W), bool
        The final segmentation, True = foreground.
    trimap : ndarray, shape (H, W), uint8
        OpenCV codes: the user's hard labels (0 / 1) and the probable labels of
        the rest (2 / 3) after the last cut.
    energies : list of float
        ``E(alpha_t, theta_t)`` after every iteration ``t`` (non-increasing).
    masks : list of ndarray
        The segmentation after every iteration.
    fg_model, bg_model : sklearn.mixture.GaussianMixture
        The colour models used by the last cut.
    smoothness : Smoothness
        The n-link weights (``gamma`` and ``beta`` included).
    data_energies, smoothness_energies : list of float
        The two parts of each energy.
    """

    mask: np.ndarray
    trimap: np.ndarray
    energies: list[float]
    masks: list[np.ndarray]
    fg_model: object
    bg_model: object
    smoothness: Smoothness
    data_energies: list[float] = field(default_factory=list)
    smoothness_energies: list[float] = field(default_factory=list)
    seed: int = 0
    max_fit_pixels: int | None = None
    _graph: GridGraph | None = field(default=None, repr=False)
    #: A digest of the image's pixels: :func:`grabcut_correct` refuses another image (whose smoothness differs).
    image_digest: str | None = field(default=None, repr=False)


def _image_digest(colours: np.ndarray) -> str:
    import hashlib

    arr = np.ascontiguousarray(np.round(colours, 3))  # the same picture as uint8 or float [0, 1] agrees
    return hashlib.blake2b(arr.tobytes(), digest_size=12, person=str(arr.shape).encode()[:16]).hexdigest()


def check_rect(rect, shape: tuple[int, int], name: str = "rect") -> tuple[int, int, int, int]:
    """Validate ``rect = (x, y, width, height)`` (OpenCV's order) against an image of ``shape = (H, W)``.

    The rectangle must have positive size, lie inside the image, and leave at
    least one pixel outside it (the background model needs samples).

    Returns
    -------
    tuple of int
        ``(x, y, width, height)``.
    """
    values = check_sequence(rect, name, check_int, what="ints (x, y, width, height)")
    if len(values) != 4:
        raise ValueError(f"{name} must be a tuple (x, y, width, height) of 4 ints, got {rect!r}")
    x, y, w, h = values
    height, width = check_size(shape, "shape")
    if w <= 0 or h <= 0:
        raise ValueError(f"{name}={rect!r} is empty: width and height must be positive")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise ValueError(f"{name}=(x={x}, y={y}, width={w}, height={h}) reaches outside the image of width {width} "
                         f"and height {height}: need 0 <= x, x + width <= {width}, 0 <= y, y + height <= {height}")
    if w == width and h == height:
        raise ValueError(f"{name}={rect!r} covers the whole image: leave background outside it for the "
                         "background colour model")
    return x, y, w, h


def rect_from_fractions(shape: tuple[int, int], fractions) -> tuple[int, int, int, int]:
    """A rectangle given as fractions ``(x, y, width, height)`` of the image, in pixels for ``shape = (H, W)``.

    The same fractions describe the same rectangle at any resolution.  The
    result is clipped to the image and validated by :func:`check_rect`.
    """
    h, w = check_size(shape, "shape")
    values = check_sequence(fractions, "fractions", check_probability, what="fractions (x, y, width, height)")
    if len(values) != 4:
        raise ValueError(f"fractions must hold 4 numbers (x, y, width, height), got {fractions!r}")
    fx, fy, fw, fh = values
    if fx + fw > 1 + 1e-9 or fy + fh > 1 + 1e-9:
        raise ValueError(f"fractions={fractions!r} must describe a rectangle inside [0, 1] x [0, 1]")
    x, y = int(round(fx * w)), int(round(fy * h))
    rect = (x, y, max(1, min(int(round(fw * w)), w - x)), max(1, min(int(round(fh * h)), h - y)))
    return check_rect(rect, shape)


def rect_trimap(shape: tuple[int, int], rect) -> np.ndarray:
    """The initial trimap of a rectangle: ``GC_PR_FGD`` inside, ``GC_BGD`` outside.

    Parameters
    ----------
    shape : (H, W)
    rect : (x, y, width, height)
        See :func:`check_rect`.

    Returns
    -------
    ndarray, shape (H, W), uint8
    """
    x, y, w, h = check_rect(rect, shape)
    trimap = np.full(shape, GC_BGD, np.uint8)
    trimap[y:y + h, x:x + w] = GC_PR_FGD
    return trimap


def _check_trimap(trimap: np.ndarray, shape: tuple[int, int], name: str = "trimap") -> np.ndarray:
    if not isinstance(trimap, np.ndarray) or trimap.ndim != 2:
        raise ValueError(f"{name} must be an (H, W) uint8 array of OpenCV codes 0..3, got "
                         f"{getattr(trimap, 'shape', type(trimap).__name__)}")
    if trimap.shape != tuple(shape):
        raise ValueError(f"{name} has shape {trimap.shape} but the image is {tuple(shape)}")
    if not np.issubdtype(trimap.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype (OpenCV codes 0..3), got {trimap.dtype}")
    bad = (trimap < 0) | (trimap > 3)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"{name} has value {trimap[i, j]} at ({i}, {j}); expected GC_BGD=0, GC_FGD=1, "
                         "GC_PR_BGD=2 or GC_PR_FGD=3")
    return trimap.astype(np.uint8)


def _seed_int(rng) -> int:
    """An int seed for scikit-learn's ``random_state`` from ``rng`` (accepted as :func:`as_generator` does)."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**31 - 1))
    as_generator(rng)  # the one policy: raises TypeError unless rng is a non-negative int
    return int(rng)


def fit_colour_model(colours: np.ndarray, *, n_components: int = 5, previous=None, em_steps: int = 1,
                     reg_covar: float = _REG_COVAR, rng=0):
    """Fit (or re-fit) a full-covariance GMM to colours.

    Without ``previous``: k-means initialisation (scikit-learn's
    ``GaussianMixture(init_params="kmeans")``: the components are the k-means
    clusters' weights, means and covariances), then ``em_steps`` EM steps.
    With ``previous``: a copy of it, warm-started, moved by ``em_steps`` EM
    steps on ``colours`` (each step never lowers their likelihood).

    Parameters
    ----------
    colours : ndarray, shape (N, 3), float64
        In 0-255 units.
    n_components : int
        K (GrabCut uses 5); lowered to N when there are fewer samples.
    previous : GaussianMixture, optional
    em_steps : int
        EM iterations of this call (>= 1).
    reg_covar : float
        Added to the covariance diagonals (0-255 units squared): keeps the
        covariance of a single flat colour invertible (OpenCV adds 0.01 then).
    rng : int or numpy.random.Generator
        Seeds k-means.

    Returns
    -------
    sklearn.mixture.GaussianMixture
    """
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    colours = check_array(colours, "colours", ndim=2, kinds="iuf", shape=(None, 3), finite=True)
    if len(colours) == 0:
        raise ValueError(f"colours must have shape (N, 3) with N >= 1, got {colours.shape}")
    n_components = check_int(n_components, "n_components", 1, 1000)
    em_steps = check_int(em_steps, "em_steps", 1, 10**4)
    reg_covar = check_number(reg_covar, "reg_covar", 0.0, 1e6, open_min=True)
    _seed_int(rng)
    if previous is not None and not isinstance(previous, GaussianMixture):
        raise TypeError(f"previous must be a fitted GaussianMixture, got {type(previous).__name__}")
    # One thread: these problems are small (N x 3), and OpenMP/BLAS threads cost far more than they
    # save here (k-means on 20k colours: ~30 ms on one thread, ~1 s on two busy cores).
    with threadpool_limits(limits=1):
        return _fit(colours, previous, int(n_components), int(em_steps), float(reg_covar), _seed_int(rng))


def _fit(colours: np.ndarray, previous, n_components: int, em_steps: int, reg_covar: float, seed: int):
    """:func:`fit_colour_model` without checks (the caller limits the threads)."""
    from sklearn.mixture import GaussianMixture

    if previous is None:
        # a single k-means run (as OpenCV): more restarts find other local optima, not better agreement
        model = GaussianMixture(n_components=min(n_components, len(colours)), covariance_type="full",
                                init_params="kmeans", max_iter=em_steps, n_init=1, reg_covar=reg_covar,
                                random_state=seed, warm_start=True)
    else:
        model = copy.deepcopy(previous)
        model.max_iter = em_steps
        model.warm_start = True
    _fit_quietly(model, colours)
    return model


def colour_features(colours: np.ndarray) -> np.ndarray:
    """Quadratic features ``(r^2, g^2, b^2, rg, rb, gb, r, g, b, 1)`` of colours, shape ``(10, N)``.

    Any quadratic form ``(z - mu)^T P (z - mu)`` is a dot product of these with
    a 10-vector, so one matrix product evaluates every Gaussian component of a
    GMM on every pixel (see :func:`gmm_neg_log_likelihood`).  Compute them
    once per image.  Stored feature-major (one contiguous row per feature),
    which keeps the reductions over components fast.

    Parameters
    ----------
    colours : ndarray, shape (..., 3), float
    """
    x = colours.reshape(-1, 3).astype(np.float64, copy=False)
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    return np.stack([r * r, g * g, b * b, r * g, r * b, g * b, r, g, b, np.ones_like(r)])


def _quadratic_coefficients(model) -> tuple[np.ndarray, np.ndarray]:
    """``(10, K)`` coefficients of ``log pi_k + log N(z | mu_k, Sigma_k)`` in :func:`colour_features`."""
    chol = model.precisions_cholesky_  # (K, 3, 3), L_k L_k^T = Sigma_k^{-1}
    precision = chol @ chol.transpose(0, 2, 1)
    mu = model.means_
    p_mu = np.einsum("kij,kj->ki", precision, mu)
    with np.errstate(divide="ignore"):
        log_weights = np.log(model.weights_)
    log_det = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)  # = -1/2 log det Sigma_k
    const = log_weights + log_det - 1.5 * _LOG_2PI - 0.5 * np.einsum("ki,ki->k", mu, p_mu)
    coef = np.empty((10, len(mu)))
    coef[0], coef[1], coef[2] = -0.5 * precision[:, 0, 0], -0.5 * precision[:, 1, 1], -0.5 * precision[:, 2, 2]
    coef[3], coef[4], coef[5] = -precision[:, 0, 1], -precision[:, 0, 2], -precision[:, 1, 2]
    coef[6:9] = p_mu.T
    coef[9] = const
    return coef


def _fit_quietly(model, colours: np.ndarray) -> None:
    """``model.fit(colours)`` without the ConvergenceWarning that a deliberately short EM run raises."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(colours)


def gmm_neg_log_likelihood(colours: np.ndarray, model, *, features: np.ndarray | None = None) -> np.ndarray:
    """``-log p(z | GMM)`` for every colour, vectorised (one matrix product for all components).

    ``log p(z) = logsumexp_k [log pi_k + log N(z | mu_k, Sigma_k)]`` with
    ``log N = -3/2 log 2 pi - 1/2 log det Sigma_k - 1/2 (z - mu_k)^T Sigma_k^{-1} (z - mu_k)``.
    The quadratic form is expanded over :func:`colour_features`, so all K
    components cost one ``(K, 10) @ (10, N)`` product.  Equals
    ``-model.score_samples(colours)`` to rounding.

    Parameters
    ----------
    colours : ndarray, shape (..., 3), float
        In the units the model was fitted in (0-255 here).
    model : fitted sklearn.mixture.GaussianMixture, covariance_type="full"
    features : ndarray, shape (10, N), optional
        ``colour_features(colours)``, if already computed.

    Returns
    -------
    ndarray, shape (...), float64
    """
    if getattr(model, "covariance_type", None) != "full" or not hasattr(model, "precisions_cholesky_"):
        raise ValueError("model must be a fitted GaussianMixture with covariance_type='full'")
    shape = colours.shape[:-1]
    if features is None:
        features = colour_features(colours)
    elif features.shape != (10, int(np.prod(shape))):
        raise ValueError(f"features must have shape (10, {int(np.prod(shape))}), got {features.shape}")
    log_prob = _quadratic_coefficients(model).T @ features  # (K, N)
    top = log_prob.max(axis=0)
    log_prob -= top
    np.exp(log_prob, out=log_prob)
    out = np.log(log_prob.sum(axis=0))
    out += top
    np.negative(out, out=out)
    return out.reshape(shape)


def grabcut_unary(colours: np.ndarray, fg_model, bg_model) -> np.ndarray:
    """Data terms ``(H, W, 2)``: ``[..., 0] = -log p(z | bg GMM)``, ``[..., 1] = -log p(z | fg GMM)``.

    Parameters
    ----------
    colours : ndarray, shape (H, W, 3), float
        See :func:`course_utils.graphcut.graph_cut.image_as_colours`.
    fg_model, bg_model : fitted GaussianMixture
    """
    features = colour_features(colours)
    return np.stack([gmm_neg_log_likelihood(colours, bg_model, features=features),
                     gmm_neg_log_likelihood(colours, fg_model, features=features)], axis=-1)


def grabcut_energy(image: np.ndarray, mask: np.ndarray, fg_model, bg_model, *, gamma: float = 50.0,
                   connectivity: int = 8) -> float:
    """The GrabCut energy ``E(alpha, theta)`` of any labelling ``mask`` under given colour models.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
    mask : ndarray, shape (H, W), bool
    fg_model, bg_model : fitted GaussianMixture
    gamma : float
    connectivity : {4, 8}
    """
    colours = image_as_colours(image)
    gamma = check_smoothness_weight(gamma, "gamma")
    smoothness = smoothness_weights(image, lam=gamma, connectivity=connectivity)
    data, smooth = energy_terms(mask, grabcut_unary(colours, fg_model, bg_model), smoothness)
    return data + smooth


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks ``(H, W)`` bool; 1.0 when both are empty."""
    check_mask(a, "a")
    check_mask(b, "b", shape=a.shape)
    union = int(np.count_nonzero(a | b))
    return 1.0 if union == 0 else int(np.count_nonzero(a & b)) / union


def opencv_grabcut(image: np.ndarray, rect, *, iterations: int = 5, seed: int = 0) -> np.ndarray:
    """The reference: ``cv2.grabCut`` from a rectangle, as a foreground mask (definite or probable).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8
    rect : (x, y, width, height)
    iterations : int
    seed : int
        OpenCV's random seed (``cv2.setRNGSeed``), which drives its k-means initialisation.
    """
    import cv2

    check_image(image, allow_float=False)
    rect = check_rect(rect, image.shape[:2])
    mask = np.zeros(image.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(int(seed))
    cv2.grabCut(image, mask, rect, bgd, fgd, int(iterations), cv2.GC_INIT_WITH_RECT)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def _apply_strokes(trimap: np.ndarray, fg_strokes, bg_strokes) -> np.ndarray:
    shape = trimap.shape
    trimap = trimap.copy()
    fg = None if fg_strokes is None else _check_stroke(fg_strokes, "fg_strokes", shape)
    bg = None if bg_strokes is None else _check_stroke(bg_strokes, "bg_strokes", shape)
    if fg is not None and bg is not None and (fg & bg).any():
        raise ValueError(f"fg_strokes and bg_strokes overlap on {int((fg & bg).sum())} pixels")
    if fg is not None:
        trimap[fg] = GC_FGD
    if bg is not None:
        trimap[bg] = GC_BGD
    return trimap


def _check_stroke(stroke, name: str, shape) -> np.ndarray:
    if isinstance(stroke, np.ndarray) and stroke.ndim == 2 and stroke.shape != tuple(shape):
        raise ValueError(f"{name} has shape {stroke.shape} but the image is {tuple(shape)}")
    return check_mask(stroke, name, shape=shape)


def _check_labels_present(trimap: np.ndarray) -> None:
    fg = (trimap == GC_FGD) | (trimap == GC_PR_FGD)
    if not fg.any():
        raise ValueError("no foreground seeds: the rectangle/trimap/strokes leave no pixel that may be foreground")
    if fg.all():
        raise ValueError("no background seeds: every pixel is (probably) foreground, so there is nothing to "
                         "learn the background colour model from")


def grabcut(image: np.ndarray, rect=None, *, trimap: np.ndarray | None = None, iterations: int = 5,
            n_components: int = 5, gamma: float = 50.0, connectivity: int = 8, fg_strokes=None, bg_strokes=None,
            em_steps: int = 1, max_fit_pixels: int | None = 20000, rng=0) -> GrabCutResult:
    """Segment the object in ``rect`` (or described by ``trimap``) with GrabCut.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB, uint8 or float in [0, 1]; grey (H, W) arrays are refused.
    rect : (x, y, width, height), optional
        OpenCV's order; inside: probably foreground, outside: background.
    trimap : ndarray, shape (H, W), optional
        Instead of ``rect``: OpenCV codes 0..3 (``cv2.GC_INIT_WITH_MASK``).
    iterations : int
        Graph cuts to perform (each after one re-fit of the colour models).
    n_components : int
        K, components per GMM (5 in the paper).
    gamma : float
        Smoothness weight (50 in the paper and in OpenCV).
    connectivity : {4, 8}
    fg_strokes, bg_strokes : ndarray, shape (H, W), bool, optional
        User corrections: pixels fixed to foreground / background.
    em_steps : int
        EM steps per re-fit.
    max_fit_pixels : int or None
        Fit each GMM on at most about this many of its pixels (a fixed random
        subset, nested across iterations); ``None`` fits on all of them.  The
        data terms and the energy always use every pixel; a re-fit that does
        not lower the energy on all pixels is discarded.
    rng : int or numpy.random.Generator
        Seeds the k-means initialisation and the fitting subset.

    Returns
    -------
    GrabCutResult
    """
    colours = image_as_colours(image)
    shape = colours.shape[:2]
    gamma = check_smoothness_weight(gamma, "gamma")
    neighbour_offsets(connectivity)
    _seed_int(rng)
    if (rect is None) == (trimap is None):
        raise ValueError("give exactly one of rect=(x, y, width, height) and trimap=(H, W) array")
    trimap = rect_trimap(shape, rect) if rect is not None else _check_trimap(trimap, shape)
    trimap = _apply_strokes(trimap, fg_strokes, bg_strokes)
    _check_labels_present(trimap)
    iterations = check_int(iterations, "iterations", 1)
    n_components = check_int(n_components, "n_components", 1)
    em_steps = check_int(em_steps, "em_steps", 1)
    n_fg = int(((trimap == GC_FGD) | (trimap == GC_PR_FGD)).sum())
    n_bg = trimap.size - n_fg
    if min(n_fg, n_bg) < max(2, n_components):
        raise ValueError(f"the rect/trimap leaves {n_fg} possible-foreground and {n_bg} background pixels; each "
                         f"colour model needs at least max(2, n_components={n_components}) of them")
    if max_fit_pixels is not None:
        max_fit_pixels = check_int(max_fit_pixels, "max_fit_pixels", 1)
    smoothness = smoothness_weights(image, lam=gamma, connectivity=connectivity)
    alpha = (trimap == GC_FGD) | (trimap == GC_PR_FGD)
    state = GrabCutResult(alpha, trimap, [], [], None, None, smoothness, seed=_seed_int(rng),
                          max_fit_pixels=max_fit_pixels, image_digest=_image_digest(colours))
    return _iterate(colours, state, iterations=iterations, n_components=n_components, em_steps=em_steps)


def grabcut_correct(image: np.ndarray, previous: GrabCutResult, *, fg_strokes=None, bg_strokes=None,
                    iterations: int = 1, em_steps: int = 1) -> GrabCutResult:
    """Continue GrabCut after user corrections (Rother et al., section 3.1 "user editing").

    The strokes become hard constraints on top of ``previous.trimap``; the
    colour models are warm-started from ``previous``.  The returned energies
    are those of the corrected problem (they are non-increasing; the first can
    be higher than ``previous.energies[-1]`` because the constraints changed).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        The image ``previous`` was computed on.
    previous : GrabCutResult
    fg_strokes, bg_strokes : ndarray, shape (H, W), bool, optional
        At least one of them.
    iterations, em_steps : int
    """
    colours = image_as_colours(image)
    if not isinstance(previous, GrabCutResult):
        raise TypeError(f"previous must be a GrabCutResult, got {type(previous).__name__}")
    if previous.mask.shape != colours.shape[:2]:
        raise ValueError(f"previous was computed on an image of shape {previous.mask.shape}, "
                         f"but image has shape {colours.shape[:2]}")
    digest = _image_digest(colours)
    if previous.image_digest is not None and previous.image_digest != digest:
        raise ValueError("image is not the image previous was computed on (same size, other pixels): its colour "
                         "models and smoothness belong to that image; run grabcut(image, ...) on this one")
    if fg_strokes is None and bg_strokes is None:
        raise ValueError("give fg_strokes and/or bg_strokes: a correction needs at least one stroke")
    trimap = _apply_strokes(previous.trimap, fg_strokes, bg_strokes)
    _check_labels_present(trimap)
    alpha = previous.mask.copy()
    alpha[trimap == GC_FGD] = True
    alpha[trimap == GC_BGD] = False
    state = GrabCutResult(alpha, trimap, [], [], previous.fg_model, previous.bg_model, previous.smoothness,
                          seed=previous.seed, max_fit_pixels=previous.max_fit_pixels, _graph=previous._graph,
                          image_digest=digest)
    return _iterate(colours, state, iterations=check_int(iterations, "iterations", 1),
                    n_components=previous.fg_model.n_components, em_steps=check_int(em_steps, "em_steps", 1))


def _fit_subset(select: np.ndarray, priority: np.ndarray | None, max_pixels: int | None) -> np.ndarray:
    """``select`` thinned to about ``max_pixels`` pixels: those of lowest fixed random priority."""
    count = int(select.sum())
    if max_pixels is None or priority is None or count <= max_pixels:
        return select
    return select & (priority < max_pixels / count)


def _refit(colours: np.ndarray, select: np.ndarray, model, n_components: int, em_steps: int, seed: int):
    """Fit (``model`` None) or warm-start re-fit a GMM on ``colours[select]`` (the caller limits threads)."""
    pixels = colours[select]
    if model is not None and len(pixels) < model.n_components:  # too few pixels to re-fit: keep the model
        return model
    return _fit(pixels, model, n_components, em_steps, _REG_COVAR, seed)


def _iterate(colours: np.ndarray, state: GrabCutResult, *, iterations: int, n_components: int,
             em_steps: int) -> GrabCutResult:
    from threadpoolctl import threadpool_limits

    # one BLAS/OpenMP thread: every product here is skinny (N x 10 by 10 x K); extra threads only add overhead
    with threadpool_limits(limits=1):
        return _iterate_single_thread(colours, state, iterations=iterations, n_components=n_components,
                                      em_steps=em_steps)


def _iterate_single_thread(colours: np.ndarray, state: GrabCutResult, *, iterations: int, n_components: int,
                           em_steps: int) -> GrabCutResult:
    trimap, alpha, smoothness = state.trimap, state.mask.copy(), state.smoothness
    fg_model, bg_model = state.fg_model, state.bg_model
    hard_fg, hard_bg = trimap == GC_FGD, trimap == GC_BGD
    graph = state._graph if state._graph is not None else GridGraph(smoothness)
    priority = None
    if state.max_fit_pixels is not None:
        priority = np.random.default_rng(state.seed).random(alpha.shape)
    features = colour_features(colours)
    nll_fg = None if fg_model is None else gmm_neg_log_likelihood(colours, fg_model, features=features)
    nll_bg = None if bg_model is None else gmm_neg_log_likelihood(colours, bg_model, features=features)
    energies, data_energies, smooth_energies, masks = [], [], [], []
    for _ in range(iterations):
        # 1. assign + re-fit the colour models on the current labelling (kept only if they do not raise the energy)
        for is_fg in (True, False):
            select = alpha if is_fg else ~alpha
            old_model, old_nll = (fg_model, nll_fg) if is_fg else (bg_model, nll_bg)
            subset = _fit_subset(select, priority, state.max_fit_pixels)
            new_model = _refit(colours, subset, old_model, n_components, em_steps, state.seed)
            if new_model is old_model:
                continue
            new_nll = gmm_neg_log_likelihood(colours, new_model, features=features)
            if old_nll is None or new_nll[select].sum() <= old_nll[select].sum():
                if is_fg:
                    fg_model, nll_fg = new_model, new_nll
                else:
                    bg_model, nll_bg = new_model, new_nll
        # 2. graph cut with the new data terms (kept only if it improves on the current labelling)
        unary = add_hard_constraints(np.stack([nll_bg, nll_fg], axis=-1), smoothness, hard_fg, hard_bg)
        cut = graph.cut(unary)
        data, smooth = cut.data_energy, cut.smoothness_energy
        current = _energy_terms(alpha, unary, smoothness)
        if sum(current) <= data + smooth:
            data, smooth = current
        else:
            alpha = cut.mask
        energies.append(data + smooth)
        data_energies.append(data)
        smooth_energies.append(smooth)
        masks.append(alpha.copy())
    out = trimap.copy()
    soft = (trimap == GC_PR_BGD) | (trimap == GC_PR_FGD)
    out[soft] = np.where(alpha[soft], GC_PR_FGD, GC_PR_BGD)
    return GrabCutResult(alpha.copy(), out, energies, masks, fg_model, bg_model, smoothness, data_energies,
                         smooth_energies, state.seed, state.max_fit_pixels, graph, state.image_digest)
