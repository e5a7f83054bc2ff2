"""Issue 25, in the scoring, training and MiniCity modules: silent wrong results made errors or made right,
and folders a user made never taken over."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_utils.evaluate.boundary import pooled_trimap_scores, trimap_band, trimap_scores
from course_utils.evaluate.crf import frame_scores


def _frames(shapes, seed=0):
    rng = np.random.default_rng(seed)
    truth, pred = [], []
    for h, w in shapes:
        t = np.zeros((h, w), np.uint8)
        t[:, w // 3:] = 1
        t[h // 2:, : w // 2] = 2
        t[rng.random((h, w)) < 0.02] = 255
        p = t.copy()
        p[p == 255] = 0
        flip = rng.random((h, w)) < 0.25
        p[flip] = rng.integers(0, 4, flip.sum())
        truth.append(t)
        pred.append(p.astype(np.int64))
    return truth, pred


def _pooled_by_hand(truth, pred, widths, classes=19):
    """The trimap from confusion matrices summed over the frames, counted with bincount."""
    acc, miou = [], []
    for w in widths:
        cm = np.zeros((classes, classes), np.int64)
        for t, p in zip(truth, pred):
            keep = trimap_band(t, w) & (t != 255)
            cm += np.bincount(t[keep].astype(np.int64) * classes + p[keep], minlength=classes * classes).reshape(
                classes, classes)
        diag = np.diag(cm).astype(float)
        union = cm.sum(0) + cm.sum(1) - diag
        acc.append(diag.sum() / cm.sum())
        miou.append(np.mean(diag[union > 0] / union[union > 0]))
    return np.array(acc), np.array(miou)


@pytest.mark.parametrize("shapes", [[(24, 40), (24, 40), (24, 40)], [(24, 40), (40, 24), (16, 64)]])
def test_trimap_pools_confusion_matrices_whatever_the_frame_sizes(shapes):
    widths = (0, 1, 3)
    truth, pred = _frames(shapes)
    acc, miou = _pooled_by_hand(truth, pred, widths)
    scores = frame_scores(truth, pred, widths)["trimap"]
    np.testing.assert_allclose(scores["pixel_acc"], acc, rtol=1e-12)
    np.testing.assert_allclose(scores["mean_iu"], miou, rtol=1e-12)
    # the per-frame average (what frames of different sizes used to get) is another number
    per_frame = np.mean([trimap_scores(t, p, 19, widths)["mean_iu"] for t, p in zip(truth, pred)], axis=0)
    assert not np.allclose(per_frame, miou)
    if len(set(shapes)) == 1:  # one size: the same as scoring the stacked frames
        stacked = trimap_scores(np.stack(truth), np.stack(pred), 19, widths)
        np.testing.assert_allclose(stacked["mean_iu"], scores["mean_iu"], rtol=1e-12)


@pytest.mark.parametrize("widths", ["12", b"12", (), [1, "2"], [1, -1], [np.nan], {1: 2}])
def test_trimap_widths_must_be_a_sequence_of_widths(widths):
    truth, pred = _frames([(16, 16)])
    with pytest.raises(ValueError, match="widths"):
        trimap_scores(truth[0], pred[0], 19, widths)
    with pytest.raises(ValueError, match="widths"):
        pooled_trimap_scores(truth, pred, 19, widths)
    with pytest.raises(ValueError, match="widths"):
        frame_scores(truth, pred, widths)
