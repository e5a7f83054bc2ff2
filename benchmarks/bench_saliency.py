"""Lesson 1 rows: our spectral residual against OpenCV contrib's, and AUC-Judd against scikit-learn's ROC AUC."""

from __future__ import annotations

import numpy as np

from benchmarks.core import Benchmark, Row, compare


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def _spectral_residual(tiny: bool) -> Row:
    import cv2

    from course_utils.data.samples import sample_image
    from course_utils.images import resize_image
    from course_utils.saliency.bottom_up import spectral_residual

    image = sample_image("astronaut")
    if tiny:
        image = resize_image(image, (96, 96))
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    detector = cv2.saliency.StaticSaliencySpectralResidual_create()

    def reference():
        ok, saliency = detector.computeSaliency(bgr)
        return saliency

    return compare("spectral_residual", lambda: spectral_residual(image), reference,
                   "cv2.saliency SpectralResidual", _corr, repeats=3 if tiny else 30,
                   note=f"{image.shape[0]}x{image.shape[1]} RGB; agree = Pearson correlation of the maps")


def _spectral_residual_photos(tiny: bool) -> Row:
    """Time over all colour sample photos; agreement = the lowest correlation among them."""
    import cv2

    from course_utils.data.samples import sample_image
    from course_utils.images import resize_longest_side
    from course_utils.saliency.bottom_up import spectral_residual

    names = ["astronaut", "chelsea", "coffee", "china", "flower", "rocket"]
    images = [sample_image(n) for n in (names[:2] if tiny else names)]
    if tiny:
        images = [resize_longest_side(im, 96) for im in images]
    bgrs = [cv2.cvtColor(im, cv2.COLOR_RGB2BGR) for im in images]
    detector = cv2.saliency.StaticSaliencySpectralResidual_create()

    def ours():
        return [spectral_residual(im) for im in images]

    def reference():
        return [detector.computeSaliency(b)[1] for b in bgrs]

    def agreement(a, b) -> float:
        return min(_corr(x, y) for x, y in zip(a, b))

    return compare("spectral_residual_photos", ours, reference, "cv2.saliency SpectralResidual", agreement,
                   repeats=2 if tiny else 10, note=f"{len(images)} photos; agree = lowest correlation")


def _auc_judd(tiny: bool) -> Row:
    from sklearn.metrics import roc_auc_score

    from course_utils.saliency.metrics import auc_judd

    rng = np.random.default_rng(0)
    side = 64 if tiny else 512
    saliency = rng.random((side, side))
    fixations = rng.random((side, side)) < 0.002
    fixations[0, 0] = True

    def agreement(a, b) -> float:
        return 1.0 - abs(a - b)

    return compare("auc_judd", lambda: auc_judd(saliency, fixations),
                   lambda: roc_auc_score(fixations.ravel(), saliency.ravel()), "sklearn roc_auc_score", agreement,
                   repeats=3 if tiny else 20,
                   note=f"{side}x{side}, {int(fixations.sum())} fixations; agree = 1 - |AUC-Judd - ROC AUC|")


BENCHMARKS = [
    Benchmark("spectral_residual", _spectral_residual),
    Benchmark("spectral_residual_photos", _spectral_residual_photos),
    Benchmark("auc_judd", _auc_judd),
]
