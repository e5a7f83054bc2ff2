import numpy as np
import pytest
import torch

from course_utils.evaluate.segmentation import confusion_matrix, format_scores, segmentation_scores


def test_confusion_matrix_hand_case_with_ignore():
    gt = np.array([[0, 0, 1], [1, 2, 255]])
    pred = np.array([[0, 1, 1], [1, 2, 0]])
    cm = confusion_matrix(gt, pred, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [0, 0, 1]]
    assert np.array_equal(confusion_matrix(torch.from_numpy(gt), torch.from_numpy(pred), 3), cm)


def test_scores_hand_computed():
    cm = np.array([[1, 1, 0], [0, 2, 0], [0, 0, 1]])
    s = segmentation_scores(cm)
    assert s["pixel_acc"] == pytest.approx(4 / 5)
    assert s["mean_acc"] == pytest.approx((1 / 2 + 1 + 1) / 3)
    ius = [1 / 2, 2 / 3, 1]
    assert s["mean_iu"] == pytest.approx(np.mean(ius))
    assert s["fw_iu"] == pytest.approx((2 * 1 / 2 + 2 * 2 / 3 + 1 * 1) / 5)
    assert "80.0" in format_scores(s, "x")


def test_absent_class_is_left_out_but_false_positives_count():
    cm = np.array([[3, 0, 0], [0, 0, 0], [0, 0, 2]])  # class 1 absent everywhere
    s = segmentation_scores(cm)
    assert np.isnan(s["class_iu"][1]) and s["mean_iu"] == pytest.approx(1.0)
    cm = np.array([[2, 1, 0], [0, 0, 0], [0, 0, 2]])  # class 1 predicted but absent in gt
    s = segmentation_scores(cm)
    assert s["class_iu"][1] == 0.0 and s["mean_iu"] == pytest.approx((2 / 3 + 0 + 1) / 3)


def test_agrees_with_torchmetrics():
    from torchmetrics.functional.classification import multiclass_accuracy, multiclass_jaccard_index

    rng = np.random.default_rng(0)
    gt = rng.integers(0, 5, size=(4, 32, 32))
    pred = np.where(rng.random(gt.shape) < 0.7, gt, rng.integers(0, 5, size=gt.shape))
    gt[:, :2] = 255
    s = segmentation_scores(confusion_matrix(gt, pred, 5))
    tp, tg = torch.from_numpy(pred), torch.from_numpy(gt)
    jac = multiclass_jaccard_index(tp, tg, num_classes=5, ignore_index=255, average="macro")
    acc = multiclass_accuracy(tp, tg, num_classes=5, ignore_index=255, average="micro")
    macc = multiclass_accuracy(tp, tg, num_classes=5, ignore_index=255, average="macro")
    assert s["mean_iu"] == pytest.approx(float(jac), abs=1e-6)
    assert s["pixel_acc"] == pytest.approx(float(acc), abs=1e-6)
    assert s["mean_acc"] == pytest.approx(float(macc), abs=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 3), int), 2)
    with pytest.raises(ValueError, match="labels_pred has class id 7"):
        confusion_matrix(np.zeros((2, 2), int), np.full((2, 2), 7), 3)
    with pytest.raises(TypeError, match="integer"):
        confusion_matrix(np.zeros((2, 2)), np.zeros((2, 2)), 3)
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 2), int), 0)
    with pytest.raises(ValueError, match="empty"):
        segmentation_scores(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="square"):
        segmentation_scores(np.zeros((3, 2)))
