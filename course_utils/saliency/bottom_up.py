"""Bottom-up (自底而上) saliency: three classical methods, each from its paper.

Every method takes an RGB ``image`` ``(H, W, 3)`` (uint8, or float in [0, 1])
and returns a float32 saliency map ``(H, W)`` in [0, 1] (min-max scaled; a
constant map comes back as zeros).  None of them learns anything: saliency is
computed from how a pixel or region differs from the rest of the image.

* :func:`spectral_residual` -- Hou & Zhang, "Saliency Detection: A Spectral
  Residual Approach", CVPR 2007.
* :func:`frequency_tuned` -- Achanta, Hemami, Estrada & Süsstrunk,
  "Frequency-tuned Salient Region Detection", CVPR 2009.
* :func:`histogram_contrast` and :func:`region_contrast` -- Cheng, Zhang,
  Mitra, Huang & Hu, "Global Contrast based Salient Region Detection",
  CVPR 2011 (HC and RC).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils._shared import check_array, check_bytes, check_choice, check_int, check_number, check_probability
from course_utils.images import check_image, check_size, to_float

__all__ = [
    "METHODS",
    "spectral_residual",
    "spectral_residual_core",
    "log_spectrum",
    "frequency_tuned",
    "histogram_contrast",
    "region_contrast",
    "quantize_colors",
]


def _normalize(saliency: np.ndarray) -> np.ndarray:
    """Min-max scale to [0, 1] as float32; a constant map becomes all zeros."""
    saliency = np.asarray(saliency)
    lo, hi = float(saliency.min()), float(saliency.max())
    if not hi > lo:
        return np.zeros(saliency.shape, np.float32)
    out = saliency.astype(np.float32)  # a copy, scaled in place
    out -= np.float32(lo)
    out *= np.float32(1.0 / (hi - lo))
    return np.clip(out, 0.0, 1.0, out=out)


def _grey(image: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma of an RGB image as float64 in [0, 255] (what ``cv2.COLOR_RGB2GRAY`` computes)."""
    rgb = to_float(image).astype(np.float64) * 255.0
    return rgb @ np.array([0.299, 0.587, 0.114])


def _check_odd(value: int, name: str) -> int:
    value = check_int(value, name, 1, 2**15)
    if value % 2 == 0:
        raise ValueError(f"{name} must be a positive odd int, got {value!r}")
    return value


def spectral_residual_core(grey: np.ndarray, average_size: int = 3) -> np.ndarray:
    """The heart of the spectral residual method, on an already downsampled grey image.

    With ``A(f)`` and ``P(f)`` the amplitude and phase of the 2-D Fourier
    transform of ``grey``, the paper computes

    * the log spectrum ``L(f) = log A(f)``;
    * the spectral residual ``R(f) = L(f) - h_n * L(f)`` (``h_n``: an ``n x n``
      mean filter, ``n = average_size``; the spectrum is periodic, so the
      filter wraps around its border);
    * the map ``|F^-1[exp(R(f) + i P(f))]|^2`` (smoothed afterwards by
      :func:`spectral_residual`).

    Parameters
    ----------
    grey : ndarray, shape (h, w), float
        Intensities (any scale).
    average_size : int
        ``n``, the side of the mean filter (odd; the paper uses 3).

    Returns
    -------
    ndarray, shape (h, w), float64
        The unsmoothed, unnormalised saliency (all zeros for a constant image).
    """
    grey = _check_grey(grey)
    _check_odd(average_size, "average_size")
    if np.ptp(grey) == 0:  # a flat image has no structure, so nothing is salient
        return np.zeros(grey.shape, np.float64)
    log_amplitude, averaged, phase = log_spectrum(grey, average_size)
    residual = log_amplitude - averaged
    return np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2


def _check_grey(grey: np.ndarray) -> np.ndarray:
    grey = check_array(grey, "grey", ndim=2, kinds="f", finite=True)
    if grey.size == 0:
        raise ValueError(f"grey must be a non-empty 2-D float array, got shape {grey.shape}")
    return grey


def log_spectrum(grey: np.ndarray, average_size: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pieces of the spectral residual: ``L(f)``, ``h_n * L(f)`` and ``P(f)`` of a grey image.

    Parameters
    ----------
    grey : ndarray, shape (h, w), float
    average_size : int
        ``n`` of the ``n x n`` mean filter (odd); it wraps around the periodic spectrum.

    Returns
    -------
    log_amplitude, averaged, phase : ndarray, shape (h, w), float64
        In NumPy's FFT order (zero frequency at ``[0, 0]``; ``np.fft.fftshift`` centres it).
        The spectral residual is ``log_amplitude - averaged``.
    """
    from scipy import ndimage

    grey = _check_grey(grey)
    _check_odd(average_size, "average_size")
    spectrum = np.fft.fft2(grey.astype(np.float64))
    # A zero amplitude has log -inf: floor it at a tiny positive value.
    log_amplitude = np.log(np.maximum(np.abs(spectrum), 1e-12))
    averaged = ndimage.uniform_filter(log_amplitude, size=average_size, mode="wrap")
    return log_amplitude, averaged, np.angle(spectrum)


def spectral_residual(image: np.ndarray, *, size: tuple[int, int] = (64, 64), average_size: int = 3,
                      sigma: float = 8.0, blur_size: int = 5) -> np.ndarray:
    """Spectral residual saliency (Hou & Zhang, CVPR 2007).

    The image is converted to grey and downsampled to ``size`` (the paper works
    at a 64-pixel scale; OpenCV's ``StaticSaliencySpectralResidual`` uses 64x64
    with bilinear resizing, as here), :func:`spectral_residual_core` gives
    ``|F^-1[exp(R + iP)]|^2``, which is smoothed with a Gaussian ``g`` of
    standard deviation ``sigma = 8`` (the paper's value) in a
    ``blur_size x blur_size`` window (the paper gives no window; 5 is
    OpenCV's), scaled to [0, 1] and resized back to the image's size.

    Differences from OpenCV's implementation: the paper squares and then
    blurs (OpenCV blurs the magnitude, then squares), and the 3x3 mean filter
    here wraps around the periodic spectrum (OpenCV mirrors it).  The maps
    agree closely (correlation about 0.94-0.99 on the sample photos; see
    ``tests/test_saliency_bottom_up.py``).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB, uint8 or float in [0, 1].
    size : (int, int)
        ``(h, w)`` of the downsampled image the spectrum is computed on.
    average_size : int
        Side of the mean filter on the log spectrum (odd).
    sigma : float
        Standard deviation of the Gaussian smoothing, in pixels of the downsampled map.
    blur_size : int
        Side of the Gaussian window (odd).

    Returns
    -------
    ndarray, shape (H, W), float32 in [0, 1]
    """
    import cv2

    check_image(image, "image")
    h, w = check_size(size, "size", 4)
    _check_odd(average_size, "average_size")
    sigma = check_number(sigma, "sigma", 0.0, 1e4, open_min=True)
    _check_odd(blur_size, "blur_size")
    check_bytes(64.0 * h * w, name="size", value=size, what="the complex spectra")
    # Resizing and the grey conversion are both linear, so resizing the colour image first is the same
    # (up to uint8 rounding, as in OpenCV) and much cheaper than converting every pixel of a large photo.
    small = _grey(cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR))
    saliency = spectral_residual_core(small, average_size)
    saliency = cv2.GaussianBlur(saliency, (blur_size, blur_size), sigma).astype(np.float32)
    return _normalize(cv2.resize(saliency, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR))


def _lab(image: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of an RGB image, float64 ``(H, W, 3)``."""
    from skimage.color import rgb2lab

    return rgb2lab(to_float(image).astype(np.float64))


def frequency_tuned(image: np.ndarray) -> np.ndarray:
    """Frequency-tuned saliency (Achanta et al., CVPR 2009).

    ``S(x, y) = || I_mu - I_whc(x, y) ||``: the Euclidean distance in CIE Lab
    between the image's mean colour ``I_mu`` and each pixel of the image
    blurred with the paper's 5x5 binomial kernel ``[1, 4, 6, 4, 1] / 16``
    (separable), which removes the highest frequencies (noise, texture) while
    keeping object-sized ones.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB, uint8 or float in [0, 1].

    Returns
    -------
    ndarray, shape (H, W), float32 in [0, 1]
    """
    import cv2

    check_image(image, "image")
    kernel = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    blurred = cv2.sepFilter2D(to_float(image).astype(np.float64), -1, kernel, kernel, borderType=cv2.BORDER_REFLECT)
    lab = _lab(np.clip(blurred, 0.0, 1.0))
    mean_colour = _lab(image).reshape(-1, 3).mean(axis=0)
    return _normalize(np.linalg.norm(lab - mean_colour, axis=2))


def quantize_colors(image: np.ndarray, levels: int = 12, coverage: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Cheng et al.'s colour quantisation: ``levels`` values per RGB channel, rare colours merged.

    Each channel is quantised to ``levels`` values (12 in the paper, so at
    most 1728 colours); the most frequent colours that together cover
    ``coverage`` (95%) of the pixels are kept and every other pixel takes the
    kept colour nearest to it in Lab.  A colour's value is the mean Lab colour
    of its pixels.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB, uint8 or float in [0, 1].
    levels : int
        Quantisation levels per channel (>= 2).
    coverage : float
        Fraction of pixels the kept colours must cover, in (0, 1].

    Returns
    -------
    index : ndarray, shape (H, W), int64
        The colour index of each pixel, in ``[0, n)``.
    colours : ndarray, shape (n, 3), float64
        The Lab colour of each index.
    """
    check_image(image, "image")
    levels = check_int(levels, "levels", 2)
    coverage = check_probability(coverage, "coverage", open_min=True)
    check_bytes(72.0 * float(levels) ** 3, name="levels", value=levels, what=f"{levels}**3 colour bins")
    rgb = to_float(image).astype(np.float64)
    q = np.minimum((rgb * levels).astype(np.int64), levels - 1)
    bins = (q[..., 0] * levels + q[..., 1]) * levels + q[..., 2]
    lab = _lab(image).reshape(-1, 3)
    bins = bins.ravel()
    counts = np.bincount(bins, minlength=levels**3)
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] > 0]
    cumulative = np.cumsum(counts[order])
    n_keep = int(np.searchsorted(cumulative, coverage * bins.size - 1e-9) + 1)
    n_keep = max(1, min(n_keep, len(order)))
    kept = order[:n_keep]
    # Mean Lab colour of every (non-empty) bin.
    sums = np.zeros((levels**3, 3))
    np.add.at(sums, bins, lab)
    bin_lab = sums / np.maximum(counts, 1)[:, None]
    lut = np.full(levels**3, -1, dtype=np.int64)
    lut[kept] = np.arange(n_keep)
    dropped = order[n_keep:]
    check_bytes(32.0 * len(dropped) * n_keep, name="coverage", value=coverage,
                what=f"the distances between {len(dropped)} rare and {n_keep} kept colours")
    if len(dropped):
        d = np.linalg.norm(bin_lab[dropped][:, None, :] - bin_lab[kept][None, :, :], axis=2)
        lut[dropped] = np.argmin(d, axis=1)
    index = lut[bins]
    # Re-estimate each kept colour as the mean of the pixels now assigned to it.
    n_per = np.bincount(index, minlength=n_keep)
    colour_sums = np.zeros((n_keep, 3))
    np.add.at(colour_sums, index, lab)
    colours = colour_sums / np.maximum(n_per, 1)[:, None]
    return index.reshape(image.shape[:2]), colours


def _smooth_colour_saliency(saliency: np.ndarray, colours: np.ndarray, neighbours: float = 0.25) -> np.ndarray:
    """Cheng et al.'s colour-space smoothing: each colour averages its ``m = n/4`` nearest colours.

    ``S'(c) = 1 / ((m - 1) T) * sum_i (T - D(c, c_i)) S(c_i)`` over the ``m``
    nearest colours ``c_i`` (``c`` itself included), ``T = sum_i D(c, c_i)``.
    """
    n = len(colours)
    m = max(2, int(round(n * neighbours)))
    if n < 2:
        return saliency
    m = min(m, n)
    dist = np.linalg.norm(colours[:, None, :] - colours[None, :, :], axis=2)
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :m]
    d = np.take_along_axis(dist, nearest, axis=1)
    total = d.sum(axis=1, keepdims=True)
    weights = np.where(total > 0, (total - d) / np.where(total > 0, (m - 1) * total, 1.0), 1.0 / m)
    return (weights * saliency[nearest]).sum(axis=1)


def histogram_contrast(image: np.ndarray, *, levels: int = 12, coverage: float = 0.95,
                       smooth: bool = True) -> np.ndarray:
    """Histogram-based contrast saliency, HC (Cheng et al., CVPR 2011).

    A pixel's saliency is its colour's contrast to all other pixels,
    ``S(c_l) = sum_j f_j D(c_l, c_j)``, with ``f_j`` the frequency of colour
    ``c_j`` and ``D`` the Lab distance, computed on the colour histogram of
    :func:`quantize_colors` instead of pixel pairs; then smoothed over similar
    colours (:func:`_smooth_colour_saliency`).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB, uint8 or float in [0, 1].
    levels, coverage :
        See :func:`quantize_colors`.
    smooth : bool
        Apply the colour-space smoothing step.

    Returns
    -------
    ndarray, shape (H, W), float32 in [0, 1]
    """
    check_choice(smooth, "smooth", (True, False))
    index, colours = quantize_colors(image, levels, coverage)
    check_bytes(48.0 * len(colours) ** 2, name="levels", value=levels,
                what=f"the distances between its {len(colours)} colours")
    freq = np.bincount(index.ravel(), minlength=len(colours)) / index.size
    dist = np.linalg.norm(colours[:, None, :] - colours[None, :, :], axis=2)
    saliency = dist @ freq
    if smooth:
        saliency = _smooth_colour_saliency(saliency, colours)
    return _normalize(saliency[index])


def region_contrast(image: np.ndarray, *, sigma_s2: float = 0.4, levels: int = 12, coverage: float = 0.95,
                    segment_scale: float = 50.0, segment_sigma: float = 0.5, min_size: int = 50) -> np.ndarray:
    """Region-based contrast saliency, RC (Cheng et al., CVPR 2011).

    The image is over-segmented (Felzenszwalb & Huttenlocher's graph-based
    segmentation, ``skimage.segmentation.felzenszwalb``); a region's saliency
    is its colour contrast to every other region, weighted by that region's
    size ``w(r_i)`` (pixels) and by spatial closeness::

        S(r_k) = sum_{i != k} exp(-D_s(r_k, r_i) / sigma_s^2) w(r_i) D_r(r_k, r_i)

    where ``D_s`` is the distance between region centroids (coordinates scaled
    to [0, 1]; ``sigma_s^2 = 0.4`` in the paper) and ``D_r`` the expected Lab
    distance between the two regions' quantised colour histograms.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB, uint8 or float in [0, 1].
    sigma_s2 : float
        ``sigma_s^2``, the strength of the spatial weighting (> 0).
    levels, coverage :
        See :func:`quantize_colors`.
    segment_scale, segment_sigma, min_size :
        ``scale``, ``sigma`` and ``min_size`` of the graph-based segmentation.

    Returns
    -------
    ndarray, shape (H, W), float32 in [0, 1]
    """
    from skimage.segmentation import felzenszwalb

    check_image(image, "image")
    sigma_s2 = check_number(sigma_s2, "sigma_s2", 0.0, open_min=True)
    check_int(levels, "levels", 2)
    check_probability(coverage, "coverage", open_min=True)
    segment_scale = check_number(segment_scale, "segment_scale", 0.0, 1e9, open_min=True)
    segment_sigma = check_number(segment_sigma, "segment_sigma", 0.0, 1e6)
    min_size = check_int(min_size, "min_size", 0)
    index, colours = quantize_colors(image, levels, coverage)
    regions = felzenszwalb(to_float(image), scale=segment_scale, sigma=segment_sigma, min_size=min_size)
    _, regions = np.unique(regions, return_inverse=True)
    regions = regions.reshape(index.shape)
    n_regions, n_colours = int(regions.max()) + 1, len(colours)
    check_bytes(8.0 * (n_regions * n_colours + n_colours**2 + 6 * n_regions**2), name="min_size", value=min_size,
                what=f"the histograms and distances of {n_regions} regions and {n_colours} colours")
    hist = np.zeros((n_regions, n_colours))
    np.add.at(hist, (regions.ravel(), index.ravel()), 1.0)
    sizes = hist.sum(axis=1)
    hist /= sizes[:, None]
    colour_dist = np.linalg.norm(colours[:, None, :] - colours[None, :, :], axis=2)
    region_dist = hist @ colour_dist @ hist.T  # D_r, (R, R)
    h, w = index.shape
    rows, cols = np.mgrid[0:h, 0:w]
    cy = np.bincount(regions.ravel(), weights=rows.ravel() / max(h - 1, 1), minlength=n_regions) / sizes
    cx = np.bincount(regions.ravel(), weights=cols.ravel() / max(w - 1, 1), minlength=n_regions) / sizes
    spatial = np.hypot(cy[:, None] - cy[None, :], cx[:, None] - cx[None, :])
    weight = np.exp(-spatial / sigma_s2) * sizes[None, :]
    np.fill_diagonal(weight, 0.0)
    saliency = (weight * region_dist).sum(axis=1)
    return _normalize(saliency[regions])


METHODS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "spectral residual": spectral_residual,
    "frequency-tuned": frequency_tuned,
    "histogram contrast": histogram_contrast,
    "region contrast": region_contrast,
}
"""The bottom-up methods by display name (each ``image -> saliency map``)."""
