"""Checks for lesson 01 (saliency detection)."""

from __future__ import annotations

import numpy as np

from course_utils.exercises.compare import call_answer, expect_array, expect_close
from course_utils.exercises.core import Incorrect, exercise
from course_utils.saliency.bottom_up import spectral_residual_core
from course_utils.saliency.metrics import auc_judd, f_measure, nss


# --- 01.spectral_residual ------------------------------------------------------------------------

def _grey_cases():
    rng = np.random.default_rng(1)
    smooth = np.cumsum(np.cumsum(rng.normal(size=(12, 16)), 0), 1)  # natural-image-like 1/f spectrum
    blob = np.zeros((10, 14))
    blob[3:6, 8:12] = 1.0
    return [rng.random((8, 10)), smooth, blob + 0.1 * rng.random((10, 14))]


def _wrong_no_log(grey):
    from scipy import ndimage

    f = np.fft.fft2(grey)
    amplitude = np.abs(f)
    residual = amplitude - ndimage.uniform_filter(amplitude, size=3, mode="wrap")
    return np.abs(np.fft.ifft2(residual * np.exp(1j * np.angle(f)))) ** 2


def _wrong_no_phase(grey):
    from scipy import ndimage

    log_amplitude = np.log(np.abs(np.fft.fft2(grey)))
    residual = log_amplitude - ndimage.uniform_filter(log_amplitude, size=3, mode="wrap")
    return np.abs(np.fft.ifft2(np.exp(residual))) ** 2


def _wrong_not_squared(grey):
    from scipy import ndimage

    f = np.fft.fft2(grey)
    log_amplitude = np.log(np.abs(f))
    residual = log_amplitude - ndimage.uniform_filter(log_amplitude, size=3, mode="wrap")
    return np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(f))))


def _wrong_smoothed_not_residual(grey):
    from scipy import ndimage

    f = np.fft.fft2(grey)
    log_amplitude = np.log(np.abs(f))
    smoothed = ndimage.uniform_filter(log_amplitude, size=3, mode="wrap")
    return np.abs(np.fft.ifft2(np.exp(smoothed + 1j * np.angle(f)))) ** 2


# Answers that hand the work to the library or OpenCV instead of writing it (each must be rejected).
def _delegates_core_imported_name(grey):
    return spectral_residual_core(grey)


def _delegates_log_spectrum_attribute(grey):
    from course_utils.saliency import bottom_up

    log_amplitude, averaged, phase = bottom_up.log_spectrum(grey)
    return np.abs(np.fft.ifft2(np.exp(log_amplitude - averaged + 1j * phase))) ** 2


def _delegates_opencv(grey):
    import cv2

    return cv2.saliency.StaticSaliencySpectralResidual_create().computeSaliency(grey.astype(np.float32))[1]


@exercise(
    "01.spectral_residual",
    hint="work in the frequency domain: split the spectrum into amplitude and phase, take what the local "
         "average of the log amplitude does not explain, and transform back keeping the phase.",
    wrong_answers=[_wrong_no_log, _wrong_no_phase, _wrong_not_squared, _wrong_smoothed_not_residual],
    success="the spectral residual keeps the phase and whitens the 'expected' 1/f part of the log spectrum.",
    forbidden=("course_utils.saliency.bottom_up:spectral_residual_core", "course_utils.saliency.bottom_up:log_spectrum",
               "course_utils.saliency.bottom_up:spectral_residual", "cv2:saliency"),
    delegating=[_delegates_core_imported_name, _delegates_log_spectrum_attribute, _delegates_opencv],
)
def check_spectral_residual(answer) -> None:
    for grey in _grey_cases():
        got = call_answer(answer, grey.copy())
        expected = spectral_residual_core(grey)
        arr = np.asarray(got) if isinstance(got, np.ndarray) else got
        if isinstance(arr, np.ndarray) and arr.shape == expected.shape and np.iscomplexobj(arr):
            raise Incorrect("the saliency map is complex: take the squared magnitude |.|^2 of the inverse FFT")
        if isinstance(arr, np.ndarray) and arr.shape == expected.shape and np.allclose(arr**2, expected, rtol=1e-6):
            raise Incorrect("close: the map is the magnitude of the inverse FFT *squared*")
        expect_array(got, expected, f"spectral_residual_map(grey) for a {grey.shape} image", rtol=1e-6, atol=1e-9,
                     check_dtype=False, index_names="pixel")


# --- 01.f_measure ---------------------------------------------------------------------------------

def _f_cases():
    rng = np.random.default_rng(7)
    sal = np.round(rng.random((9, 11)), 1)  # ties at the threshold on purpose
    mask = rng.random((9, 11)) < 0.4
    sal2 = np.clip(0.6 * mask + 0.5 * rng.random((9, 11)), 0, 1)
    return [(sal, mask, 0.5), (sal2, mask, 0.7), (sal2, mask, 0.3)]


def _wrong_beta_not_squared(saliency, mask, threshold):
    pred = saliency >= threshold
    tp = np.sum(pred & mask)
    p, r = tp / max(pred.sum(), 1), tp / mask.sum()
    b2 = 0.3**2
    return (1 + b2) * p * r / (b2 * p + r) if tp else 0.0


def _wrong_swapped(saliency, mask, threshold):
    pred = saliency >= threshold
    tp = np.sum(pred & mask)
    p, r = tp / max(pred.sum(), 1), tp / mask.sum()
    return 1.3 * p * r / (0.3 * r + p) if tp else 0.0


def _wrong_f1(saliency, mask, threshold):
    pred = saliency >= threshold
    tp = np.sum(pred & mask)
    p, r = tp / max(pred.sum(), 1), tp / mask.sum()
    return 2 * p * r / (p + r) if tp else 0.0


def _wrong_strict(saliency, mask, threshold):
    pred = saliency > threshold
    tp = np.sum(pred & mask)
    p, r = tp / max(pred.sum(), 1), tp / mask.sum()
    return 1.3 * p * r / (0.3 * p + r) if tp else 0.0


def _delegates_f_imported_name(saliency, mask, threshold):
    return f_measure(saliency, mask, threshold)


def _delegates_f_module_attribute(saliency, mask, threshold):
    from course_utils.saliency import metrics

    precision, recall = metrics.precision_recall(saliency, mask, threshold)
    return 1.3 * precision * recall / (0.3 * precision + recall) if precision + recall else 0.0


def _delegates_f_sklearn(saliency, mask, threshold):
    from sklearn.metrics import fbeta_score

    return fbeta_score(mask.ravel(), saliency.ravel() >= threshold, beta=0.3**0.5, zero_division=0.0)


@exercise(
    "01.f_measure",
    hint="binarise the map (pixels at or above the threshold count as salient), count the hits, then combine "
         "precision and recall with the weight the saliency literature uses.",
    wrong_answers=[_wrong_beta_not_squared, _wrong_swapped, _wrong_f1, _wrong_strict],
    success="with beta^2 = 0.3 precision weighs more than recall, as in every SOD benchmark.",
    forbidden=("course_utils.saliency.metrics:f_measure", "course_utils.saliency.metrics:precision_recall",
               "course_utils.saliency.metrics:f_measure_curve", "course_utils.saliency.metrics:evaluate_sod",
               "sklearn.metrics:fbeta_score", "sklearn.metrics:precision_recall_fscore_support"),
    delegating=[_delegates_f_imported_name, _delegates_f_module_attribute, _delegates_f_sklearn],
)
def check_f_measure(answer) -> None:
    for sal, mask, thr in _f_cases():
        got = call_answer(answer, sal.copy(), mask.copy(), thr)
        expect_close(got, f_measure(sal, mask, thr), f"f_measure_at(saliency, mask, threshold={thr})", rel_tol=1e-9)
    # Nothing predicted: precision is 0 and so is F (not NaN).
    got = call_answer(answer, np.zeros((3, 3)), np.eye(3, dtype=bool), 0.5)
    expect_close(got, 0.0, "f_measure_at(...) when no pixel reaches the threshold", abs_tol=1e-12)


# --- 01.nss: NSS and AUC-Judd, the two fixation scores that read the fixation map -------------------

def _nss_ok(saliency, fixations):
    return float(((saliency[fixations] - saliency.mean()) / saliency.std()).mean())


def _auc(saliency, fixations, *, all_pixels_as_negatives=False, strict=False, endpoints=True):
    positives = saliency[fixations]
    negatives = saliency.ravel() if all_pixels_as_negatives else saliency[~fixations]
    tpr, fpr = [], []
    for t in np.unique(positives)[::-1]:
        tpr.append(np.mean(positives > t) if strict else np.mean(positives >= t))
        fpr.append(np.mean(negatives > t) if strict else np.mean(negatives >= t))
    if endpoints:
        tpr, fpr = [0.0, *tpr, 1.0], [0.0, *fpr, 1.0]
    return float(np.trapezoid(tpr, fpr))


def _wrong_nss_no_std(saliency, fixations):
    return float(np.mean(saliency[fixations] - saliency.mean())), _auc(saliency, fixations)


def _wrong_nss_all_pixels(saliency, fixations):
    z = (saliency - saliency.mean()) / saliency.std()
    return float(np.mean(z * fixations)), _auc(saliency, fixations)


def _wrong_auc_all_pixels_negative(saliency, fixations):
    return _nss_ok(saliency, fixations), _auc(saliency, fixations, all_pixels_as_negatives=True)


def _wrong_auc_strict(saliency, fixations):
    return _nss_ok(saliency, fixations), _auc(saliency, fixations, strict=True)


def _wrong_auc_no_endpoints(saliency, fixations):
    return _nss_ok(saliency, fixations), _auc(saliency, fixations, endpoints=False)


# Answers that hand the work to the library or scikit-learn instead of writing it (each must be rejected).
def _delegates_nss_imported_name(saliency, fixations):
    return nss(saliency, fixations), auc_judd(saliency, fixations)


def _delegates_nss_module_attribute(saliency, fixations):
    from course_utils.saliency import metrics

    return _nss_ok(saliency, fixations), metrics.auc_judd(saliency, fixations)


def _delegates_sklearn_roc(saliency, fixations):
    from sklearn.metrics import roc_auc_score

    return _nss_ok(saliency, fixations), roc_auc_score(fixations.ravel(), saliency.ravel())


@exercise(
    "01.nss",
    hint="NSS: make the map comparable across images first (zero mean, unit spread), then look only where people "
         "looked. AUC-Judd: one point of the ROC curve per distinct value the map takes at a fixation; compare "
         "fixations with the pixels nobody fixated; close the curve at both corners before taking the area.",
    wrong_answers=[_wrong_nss_no_std, _wrong_nss_all_pixels, _wrong_auc_all_pixels_negative, _wrong_auc_strict,
                   _wrong_auc_no_endpoints],
    success="NSS = 0 and AUC = 0.5 are chance; NSS = 1 means fixations land one standard deviation above the "
            "map's mean, AUC = 1 that every fixation outranks every other pixel.",
    forbidden=("course_utils.saliency.metrics:nss", "course_utils.saliency.metrics:auc_judd",
               "sklearn.metrics:roc_auc_score", "sklearn.metrics:roc_curve", "sklearn.metrics:auc"),
    delegating=[_delegates_nss_imported_name, _delegates_nss_module_attribute, _delegates_sklearn_roc],
)
def check_nss(answer) -> None:
    rng = np.random.default_rng(3)
    for shape in ((6, 9), (12, 7)):
        sal = np.round(rng.random(shape) * 0.5, 2)  # rounded: ties between fixated values on purpose
        fix = rng.random(shape) < 0.2
        fix[0, 0] = True
        got = call_answer(answer, sal.copy(), fix.copy())
        if not isinstance(got, tuple) or len(got) != 2:
            raise Incorrect("fixation_scores should return a tuple (nss, auc)")
        expect_close(got[0], nss(sal, fix), f"the NSS on a {shape} map", rel_tol=1e-9)
        expect_close(got[1], auc_judd(sal, fix), f"the AUC-Judd on a {shape} map", rel_tol=1e-9, abs_tol=1e-12)
