"""Checks for lesson 02 (interactive graph cuts): the smoothness weights and the data terms."""

from __future__ import annotations

import numpy as np

from course_utils.exercises.compare import call_answer, expect_array
from course_utils.exercises.core import Incorrect, exercise
from course_utils.graphcut.graph_cut import beta_from_image, colour_cells, histogram_data_terms, smoothness_weights


def _image_case(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (5, 7, 3))  # not square, to catch swapped axes
    base[:, 4:] = base[:, 4:] // 4 + 180  # a brighter region: some contrast, some similar neighbours
    return base.astype(np.uint8)


# Typical wrong answers for 02.smoothness_weights, kept beside the check.
def _wrong_abs_difference(image, lam, beta):
    right = lam * np.exp(-beta * np.abs(image[:, 1:] - image[:, :-1]).sum(-1))
    down = lam * np.exp(-beta * np.abs(image[1:] - image[:-1]).sum(-1))
    return right, down


def _wrong_no_lambda(image, lam, beta):
    right = np.exp(-beta * ((image[:, 1:] - image[:, :-1]) ** 2).sum(-1))
    down = np.exp(-beta * ((image[1:] - image[:-1]) ** 2).sum(-1))
    return right, down


def _wrong_swapped(image, lam, beta):
    right = lam * np.exp(-beta * ((image[:, 1:] - image[:, :-1]) ** 2).sum(-1))
    down = lam * np.exp(-beta * ((image[1:] - image[:-1]) ** 2).sum(-1))
    return down, right


def _wrong_grows_with_contrast(image, lam, beta):
    right = lam * (1 - np.exp(-beta * ((image[:, 1:] - image[:, :-1]) ** 2).sum(-1)))
    down = lam * (1 - np.exp(-beta * ((image[1:] - image[:-1]) ** 2).sum(-1)))
    return right, down


@exercise(
    "02.smoothness_weights",
    hint="neighbours p, q get lam * exp(-beta * ||I_p - I_q||^2): the squared colour distance sums over the "
         "three channels; slicing image[:, 1:] against image[:, :-1] pairs every pixel with its right neighbour.",
    wrong_answers=[_wrong_abs_difference, _wrong_no_lambda, _wrong_swapped, _wrong_grows_with_contrast],
    success="similar neighbours are expensive to separate, so the cut runs along colour edges.",
)
def check_smoothness_weights(smoothness_4) -> None:
    for seed, lam in ((0, 5.0), (1, 0.7)):
        image = _image_case(seed)
        colours = image.astype(np.float64)
        beta = beta_from_image(image, connectivity=4)
        expected = smoothness_weights(image, lam=lam, connectivity=4, beta=beta)
        got = call_answer(smoothness_4, colours.copy(), lam, beta)
        if not isinstance(got, tuple) or len(got) != 2:
            raise Incorrect("smoothness_4 should return a tuple (right, down) of two arrays")
        right, down = got
        expect_array(right, expected.weights[0][:, :-1], "right (weights to the right neighbour)", atol=1e-9,
                     check_dtype=False, index_names="pixel")
        expect_array(down, expected.weights[1][:-1, :], "down (weights to the neighbour below)", atol=1e-9,
                     check_dtype=False, index_names="pixel")


def _seed_case(seed: int):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (6, 9, 3)).astype(np.uint8)
    image[:, :4] = image[:, :4] // 3  # darker on the left
    fg = np.zeros((6, 9), bool)
    bg = np.zeros((6, 9), bool)
    fg[1:4, 5:8] = True
    bg[:, 0] = True
    return image, fg, bg


# Typical wrong answers for 02.data_terms.
def _wrong_no_smoothing(cells, seeds, n_cells):
    counts = np.bincount(cells[seeds], minlength=n_cells).astype(float)
    with np.errstate(divide="ignore"):
        return -np.log(counts / counts.sum())[cells]


def _wrong_not_normalised(cells, seeds, n_cells):
    counts = np.bincount(cells[seeds], minlength=n_cells) + 1.0
    return -np.log(counts)[cells]


def _wrong_positive_log(cells, seeds, n_cells):
    counts = np.bincount(cells[seeds], minlength=n_cells) + 1.0
    return np.log(counts / counts.sum())[cells]


def _wrong_counts_all_pixels(cells, seeds, n_cells):
    counts = np.bincount(cells.ravel(), minlength=n_cells) + 1.0
    return -np.log(counts / counts.sum())[cells]


@exercise(
    "02.data_terms",
    hint="count how often each cell occurs among the seed pixels (np.bincount with minlength), add 1 to every "
         "count so no colour is impossible, divide by the total, and take minus the log at each pixel's cell.",
    wrong_answers=[_wrong_no_smoothing, _wrong_not_normalised, _wrong_positive_log, _wrong_counts_all_pixels],
    success="a pixel pays little for a label whose seeds share its colour: -ln Pr(I_p | seeds).",
)
def check_data_terms(seed_costs) -> None:
    for seed in (0, 1):
        image, fg, bg = _seed_case(seed)
        cells = colour_cells(image, bins=4)
        expected = histogram_data_terms(image, fg, bg, bins=4, smoothing=1.0)
        for label, seeds, name in ((1, fg, "foreground"), (0, bg, "background")):
            with np.errstate(divide="ignore"):
                got = call_answer(seed_costs, cells.copy(), seeds.copy(), 4**3)
            if isinstance(got, np.ndarray) and np.issubdtype(got.dtype, np.floating) and np.isinf(got).any():
                raise Incorrect(f"the {name} costs contain infinity: a colour no seed has gets probability 0 "
                                "(add 1 to every count)")
            expect_array(got, expected[..., label], f"the {name} costs", atol=1e-9, check_dtype=False,
                         index_names="pixel")
