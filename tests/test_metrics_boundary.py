"""The DeepLab trimap metric on hand-made label maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.evaluate.boundary import boundary_mask, trimap_band, trimap_scores


def _two_halves(h=10, w=12, split=6):
    labels = np.zeros((h, w), np.uint8)
    labels[:, split:] = 1
    return labels


def test_boundary_is_both_sides_of_a_label_change():
    labels = _two_halves()
    edge = boundary_mask(labels)
    assert edge[:, 5].all() and edge[:, 6].all() and edge.sum() == 20
    assert not boundary_mask(np.zeros((4, 5), np.int64)).any()
    ignore = np.zeros((5, 5), np.uint8)
    ignore[2, 2] = 255  # an ignore pixel is a region of its own
    assert boundary_mask(ignore).sum() == 5


def test_band_grows_with_width_in_euclidean_distance():
    labels = _two_halves()
    assert np.array_equal(trimap_band(labels, 0), boundary_mask(labels))
    band = trimap_band(labels, 2)
    assert np.array_equal(band.any(axis=0), np.isin(np.arange(12), [3, 4, 5, 6, 7, 8]))
    dot = np.zeros((21, 21), np.uint8)
    dot[10, 10] = 1
    band = trimap_band(dot, 3)
    # boundary = the dot and its 4 neighbours: (10, 14) lies 3 from (10, 11); (13, 13) lies sqrt(13) > 3
    # from its nearest boundary pixels (11, 10) and (10, 11); (12, 12) lies sqrt(5).
    assert band[10, 14] and not band[10, 15] and not band[13, 13] and band[12, 12]
    assert not trimap_band(np.zeros((3, 3), np.uint8), 5).any()
    batch = trimap_band(np.stack([labels, np.zeros_like(labels)]), 1)
    assert batch.shape == (2, 10, 12) and batch[0].sum() == 40 and not batch[1].any()
    with pytest.raises(ValueError, match="width"):
        trimap_band(labels, -1)


def test_scores_count_only_the_band_and_respect_ignore():
    truth = _two_halves()
    pred = truth.copy()
    pred[:, 6] = 0  # boundary shifted by one pixel
    pred[:, 0] = 1  # far from the boundary: invisible to narrow bands
    scores = trimap_scores(truth, pred, 2, widths=(0, 1, 20))
    assert scores["pixels"].tolist() == [20, 40, 120]
    assert scores["pixel_acc"][0] == pytest.approx(10 / 20)
    assert scores["pixel_acc"][1] == pytest.approx(30 / 40)
    assert scores["pixel_acc"][2] == pytest.approx(100 / 120)
    # IoU in the 1-pixel band (columns 4..7): class 0 tp 20 (cols 4, 5), fp 10, fn 0; class 1 tp 10, fn 10.
    assert scores["mean_iu"][1] == pytest.approx((20 / 30 + 10 / 20) / 2)
    truth_ignore = truth.copy()
    truth_ignore[:, 6] = 255  # the wrongly predicted column is not labelled
    s2 = trimap_scores(truth_ignore, pred, 2, widths=(1,))
    # band: pixels within 1 of the 5|255 and 255|1 edges: columns 4..8, column 6 not counted
    assert s2["pixels"][0] == 40 and s2["pixel_acc"][0] == pytest.approx(1.0)
    empty = trimap_scores(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8), 2, widths=(1,))
    assert empty["pixels"][0] == 0 and np.isnan(empty["pixel_acc"][0])
    t = trimap_scores(torch.from_numpy(truth), torch.from_numpy(pred), 2, widths=(1,))
    assert t["pixel_acc"][0] == pytest.approx(0.75)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="labels_pred"):
        trimap_scores(_two_halves(), _two_halves()[:5], 2)
    with pytest.raises(TypeError, match="labels_true"):
        trimap_scores(_two_halves().astype(float), _two_halves(), 2)
    with pytest.raises(ValueError, match="labels_pred"):
        trimap_scores(_two_halves(), _two_halves() + 5, 2, widths=(40,))
