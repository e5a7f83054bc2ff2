"""Checks for lesson 00 (getting started)."""

from __future__ import annotations

import importlib

import numpy as np

from course_utils.exercises.compare import call_answer, expect_array
from course_utils.exercises.core import exercise
from course_utils.palettes import voc_palette


def _labels_case(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 21, size=(7, 5)).astype(np.uint8)  # not square, to catch transposes
    labels[0, 0] = 255  # the VOC ignore border
    return labels


# Typical wrong answers, kept beside the check (the tests prove the check rejects them).
def _wrong_transposed(labels, palette):
    return palette[labels.T]


def _wrong_scaled_float(labels, palette):
    return palette[labels] / 255.0


def _wrong_first_channel_only(labels, palette):
    return palette[labels][..., 0]


# Answers that hand the work to the library instead of writing it (each must be rejected). They stand for
# a student's code, which may import the viz package; this module sits beside viz in the layers (the
# import-linter contract), so it reaches viz the way a notebook would, through importlib.
def _delegates_imported_name(labels, palette):
    colorize = importlib.import_module("course_utils.viz.plots").colorize

    return colorize(labels, palette)


def _delegates_module_attribute(labels, palette):
    plots = importlib.import_module("course_utils.viz.plots")

    return plots.colorize(labels, palette)


@exercise(
    "00.colorize",
    hint="each pixel's colour is the palette row of its label: NumPy's integer-array indexing does it in one line.",
    wrong_answers=[_wrong_transposed, _wrong_scaled_float, _wrong_first_channel_only],
    forbidden=("course_utils.viz.plots:colorize", "course_utils.viz.plots:overlay_labels"),
    delegating=[_delegates_imported_name, _delegates_module_attribute],
    success="a label map indexes the palette, one row per class.",
)
def check_colorize(colorize_labels) -> None:
    palette = voc_palette()
    for seed in (0, 1):
        labels = _labels_case(seed)
        got = call_answer(colorize_labels, labels.copy(), palette.copy())
        expect_array(got, palette[labels], "colorize_labels(labels, palette)", index_names="pixel")
