"""Checks for lesson 04 (FCN: transposed convolution, bilinear kernels, the four metrics)."""

from __future__ import annotations

import numpy as np

from course_utils.evaluate.segmentation import segmentation_scores
from course_utils.exercises.compare import call_answer, expect_array, expect_close
from course_utils.exercises.core import Incorrect, exercise
from course_utils.ops.bilinear import bilinear_kernel


# --------------------------------------------------------------------------------------------- 04.bilinear_kernel
def _wrong_even_centre_only(size):
    factor = (size + 1) // 2
    centre = factor - 0.5  # right for even sizes only
    tent = 1 - np.abs(np.arange(size) - centre) / factor
    return np.outer(tent, tent)


def _wrong_divide_by_size(size):
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    tent = 1 - np.abs(np.arange(size) - centre) / size
    return np.outer(tent, tent)


def _wrong_one_dimensional(size):
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    return 1 - np.abs(np.arange(size) - centre) / factor


def _wrong_sum_not_product(size):
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    tent = 1 - np.abs(np.arange(size) - centre) / factor
    return (tent[:, None] + tent[None, :]) / 2


@exercise(
    "04.bilinear_kernel",
    hint="the 2-D kernel is the outer product of a 1-D 'tent' that falls linearly from the kernel's centre; "
         "work out the upsampling factor and where the centre lies for even and for odd sizes.",
    wrong_answers=[_wrong_even_centre_only, _wrong_divide_by_size, _wrong_one_dimensional, _wrong_sum_not_product],
    success="this kernel makes a stride-f deconvolution compute bilinear interpolation (FCN's upscore layers).",
)
def check_bilinear_kernel(answer) -> None:
    for size in (4, 3, 1, 2, 5, 8, 16, 63, 64):
        got = call_answer(answer, size)
        if not isinstance(got, np.ndarray):
            got = np.asarray(got) if got is not None else got
        expect_array(got, bilinear_kernel(size), f"bilinear_kernel({size})", atol=1e-9, check_dtype=False,
                     index_names="position")


# --------------------------------------------------------------------------------------------- 04.conv_transpose_scatter
def _reference_scatter(x, kernel, stride, padding):
    import torch
    import torch.nn.functional as F

    out = F.conv_transpose2d(torch.from_numpy(x)[None, None], torch.from_numpy(kernel)[None, None],
                             stride=stride, padding=padding)
    return out[0, 0].numpy()


def _wrong_no_crop(x, kernel, stride, padding):
    h, w = x.shape
    k = kernel.shape[0]
    out = np.zeros(((h - 1) * stride + k, (w - 1) * stride + k))
    for i in range(h):
        for j in range(w):
            out[i * stride:i * stride + k, j * stride:j * stride + k] += x[i, j] * kernel
    return out


def _wrong_assign_not_add(x, kernel, stride, padding):
    h, w = x.shape
    k = kernel.shape[0]
    out = np.zeros(((h - 1) * stride + k, (w - 1) * stride + k))
    for i in range(h):
        for j in range(w):
            out[i * stride:i * stride + k, j * stride:j * stride + k] = x[i, j] * kernel
    return out[padding:out.shape[0] - padding, padding:out.shape[1] - padding]


def _wrong_flipped_kernel(x, kernel, stride, padding):
    return _reference_scatter(x, np.ascontiguousarray(kernel[::-1, ::-1]), stride, padding)


@exercise(
    "04.conv_transpose_scatter",
    hint="start from an output canvas big enough for every footprint; each input pixel adds its value times "
         "the whole kernel at a position that moves by `stride` per input step; the padding is removed at the end.",
    wrong_answers=[_wrong_no_crop, _wrong_assign_not_add, _wrong_flipped_kernel],
    success="a transposed convolution scatters and adds: one input pixel paints a whole kernel-sized patch.",
)
def check_conv_transpose_scatter(answer) -> None:
    rng = np.random.default_rng(4)
    cases = [((2, 2), 3, 1, 0), ((3, 3), 3, 2, 1), ((3, 4), 4, 2, 1), ((2, 3), 3, 3, 0), ((4, 2), 5, 2, 2)]
    for shape, k, s, p in cases:
        x = rng.integers(-3, 4, size=shape).astype(np.float64)
        kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float64)
        kernel[0, -1] = 5.0  # not symmetric: a flipped kernel gives a different result
        got = call_answer(answer, x.copy(), kernel.copy(), s, p)
        want = _reference_scatter(x, kernel, s, p)
        expect_array(np.asarray(got, dtype=np.float64) if isinstance(got, (np.ndarray, list)) else got, want,
                     f"conv_transpose_scatter(x {shape}, kernel {k}x{k}, stride={s}, padding={p})",
                     atol=1e-9, check_dtype=False, index_names="output pixel")


# --------------------------------------------------------------------------------------------- 04.mean_iu
def _wrong_mean_accuracy(cm):
    cm = np.asarray(cm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.nanmean(np.diag(cm) / cm.sum(axis=1)))


def _wrong_union_without_subtracting(cm):
    cm = np.asarray(cm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.nanmean(np.diag(cm) / (cm.sum(axis=1) + cm.sum(axis=0))))


def _wrong_absent_classes_count_as_zero(cm):
    cm = np.asarray(cm, dtype=np.float64)
    union = cm.sum(axis=1) + cm.sum(axis=0) - np.diag(cm)
    return float(np.mean(np.divide(np.diag(cm), union, out=np.zeros_like(union), where=union > 0)))


def _wrong_pixel_accuracy(cm):
    cm = np.asarray(cm, dtype=np.float64)
    return float(np.trace(cm) / cm.sum())


def _cm_cases() -> list[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(7)
    hand = np.array([[50, 2, 3], [4, 20, 1], [6, 0, 14]])  # rows: truth, columns: prediction
    absent = rng.integers(0, 30, size=(5, 5))
    absent[3, :] = 0
    absent[:, 3] = 0  # class 3 never appears: its IU is 0/0 and is left out
    predicted_only = rng.integers(1, 20, size=(4, 4))
    predicted_only[2, :] = 0  # class 2 is predicted but absent from the truth: IU 0, counted
    return [(hand, "a 3-class matrix with some confusion"),
            (absent, "a 5-class matrix where class 3 appears neither in the truth nor in the prediction"),
            (predicted_only, "a 4-class matrix where class 2 is predicted but absent from the truth"),
            (np.diag([5, 0, 7]), "a perfect prediction where class 1 is absent")]


@exercise(
    "04.mean_iu",
    hint="per class: intersection = correctly labelled pixels; union = pixels of the class in the truth or in the "
         "prediction, counted once. Average over the classes for which the ratio is defined.",
    wrong_answers=[_wrong_mean_accuracy, _wrong_union_without_subtracting, _wrong_absent_classes_count_as_zero,
                   _wrong_pixel_accuracy],
    success="mean IU, the FCN paper's headline score (62.2 for FCN-8s on VOC 2012 test).",
)
def check_mean_iu(answer) -> None:
    for cm, description in _cm_cases():
        got = call_answer(answer, cm.copy())
        want = segmentation_scores(cm)["mean_iu"]
        if got is not None and not isinstance(got, (int, float, np.floating, np.integer)) and np.ndim(got) != 0:
            raise Incorrect(f"mean_iu should return one number, got an array of shape {np.shape(got)}")
        expect_close(got, want, f"mean_iu(cm) for {description}", rel_tol=1e-9)
