"""The Cityscapes evaluation against the official cityscapesscripts script, and its command line."""

import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from course_utils.data.cityscapes import list_frames, read_label_ids
from course_utils.data.minicity import write_minicity
from course_utils.evaluate.__main__ import main
from course_utils.evaluate.cityscapes import (cityscapes_scores, evaluate_cityscapes, label_confusion,
                                              official_cityscapes_scores, write_prediction)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """MiniCity val frames and imperfect predictions: boundary shifts, swapped classes, ignored ids, noise."""
    root = write_minicity(tmp_path_factory.mktemp("ev"), train_images=0, val_images=5, size=(64, 128), seed=7,
                          progress=False)
    pred = root / "pred"
    rng = np.random.default_rng(0)
    for k, frame in enumerate(list_frames(root, "val")):
        gt = read_label_ids(frame.label_ids)
        p = np.roll(gt, shift=(k % 3, 2 - k % 3), axis=(0, 1))  # misplaced boundaries
        p[p == 26] = 27 if k % 2 else 26  # cars called trucks in some frames
        noise = rng.random(gt.shape) < 0.1
        p[noise] = rng.integers(0, 34, noise.sum())  # any label id, ignored ones included
        (pred / frame.city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(p.astype(np.uint8)).save(pred / frame.city / f"{frame.stem}_leftImg8bit.png")
    return root, pred


def _close(a, b):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-6


def test_matches_the_official_script(data):
    root, pred = data
    ours = evaluate_cityscapes(pred, root / "gtFine" / "val")
    ref = official_cityscapes_scores(pred, root / "gtFine" / "val")
    assert _close(ours["mean_iou"], ref["averageScoreClasses"])
    assert _close(ours["mean_category_iou"], ref["averageScoreCategories"])
    assert len(ours["class_iou"]) == 19
    for name, value in ours["class_iou"].items():
        assert _close(value, ref["classScores"][name]), name
    for name, value in ours["category_iou"].items():
        assert _close(value, ref["categoryScores"][name]), name
    assert np.array_equal(ours["confusion"], np.asarray(ref["confMatrix"], dtype=np.int64))
    assert 0.1 < ours["mean_iou"] < 0.95  # imperfect, so the comparison means something


def test_perfect_and_known_scores():
    gt = np.array([[7, 7, 8, 8], [7, 0, 8, 26]], np.uint8)  # road, sidewalk, car, one unlabeled pixel
    perfect = cityscapes_scores(label_confusion(gt, gt))
    assert perfect["mean_iou"] == 1.0 and perfect["class_iou"]["road"] == 1.0
    assert math.isnan(perfect["class_iou"]["bus"])  # absent from both: left out of the mean
    pred = gt.copy()
    pred[0, 0] = 8  # one road pixel called sidewalk
    pred[1, 1] = 26  # the unlabeled pixel called car: ignored ground truth never counts as a false positive
    s = cityscapes_scores(label_confusion(pred, gt))
    assert s["class_iou"]["road"] == pytest.approx(2 / 3) and s["class_iou"]["sidewalk"] == pytest.approx(3 / 4)
    assert s["class_iou"]["car"] == 1.0 and s["category_iou"]["flat"] == 1.0
    pred[0, 1] = 1  # a road pixel called "ego vehicle" (an ignored label) is still a false negative
    assert cityscapes_scores(label_confusion(pred, gt))["class_iou"]["road"] == pytest.approx(1 / 3)


def test_command_line_json(data, capsys):
    root, pred = data
    assert main(["cityscapes", "--pred", str(pred), "--gt", str(root / "gtFine" / "val"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"mean_iou", "class_iou", "category_iou"}
    assert 0 <= out["mean_iou"] <= 1
    assert all(v is None or 0 <= v <= 1 for v in list(out["class_iou"].values()) + list(out["category_iou"].values()))
    assert out["mean_iou"] == pytest.approx(evaluate_cityscapes(pred, root / "gtFine" / "val")["mean_iou"])
    run = subprocess.run([sys.executable, "-m", "course_utils.evaluate", "cityscapes", "--pred", str(pred),
                          "--gt", str(root / "gtFine" / "val")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "mean IoU" in run.stdout


def _broken(tmp_path, pred, what):
    bad = tmp_path / what
    shutil.copytree(pred, bad)
    files = sorted(bad.rglob("*.png"))
    if what == "missing":
        files[0].unlink()
    elif what == "extra":
        shutil.copy(files[0], bad / "nowhere_000000_000019_leftImg8bit.png")
    elif what == "twice":
        shutil.copy(files[0], files[0].with_name(files[0].name.replace(".png", "_copy.png")))
    elif what == "size":
        Image.fromarray(np.zeros((32, 64), np.uint8)).save(files[0])
    elif what == "trainids":
        Image.fromarray(np.full((64, 128), 255, np.uint8)).save(files[0])
    elif what == "rgb":
        Image.fromarray(np.zeros((64, 128, 3), np.uint8)).save(files[0])
    return bad


@pytest.mark.parametrize("what, error, match", [
    ("missing", FileNotFoundError, "no prediction for 1 of 5"),
    ("extra", ValueError, "match no ground-truth frame: nowhere_000000_000019"),
    ("twice", ValueError, "2 predictions for frame"),
    ("size", ValueError, "is 64x32 .* is 128x64: predictions must have the ground truth.s size"),
    ("trainids", ValueError, "not Cityscapes label ids.*not train ids"),
    ("rgb", ValueError, "single-channel"),
])
def test_bad_prediction_folders_fail_clearly(data, tmp_path, capsys, what, error, match):
    root, pred = data
    bad = _broken(tmp_path, pred, what)
    with pytest.raises(error, match=match):
        evaluate_cityscapes(bad, root / "gtFine" / "val")
    assert main(["cityscapes", "--pred", str(bad), "--gt", str(root / "gtFine" / "val")]) == 2
    assert "error:" in capsys.readouterr().err


def test_missing_folders_and_writer(data, tmp_path):
    root, pred = data
    with pytest.raises(FileNotFoundError, match="pred="):
        evaluate_cityscapes(tmp_path / "none", root / "gtFine" / "val")
    with pytest.raises(FileNotFoundError, match="gt=.*holds no"):
        evaluate_cityscapes(pred, tmp_path)
    train_ids = np.array([[0, 13], [18, 10]], np.uint8)
    path = write_prediction(tmp_path / "a" / "x_000000_000019_leftImg8bit.png", train_ids)
    with Image.open(path) as im:
        assert im.mode == "L" and np.asarray(im).tolist() == [[7, 26], [33, 23]]
    with pytest.raises(ValueError, match="train ids"):
        write_prediction(tmp_path / "b.png", np.array([[19]]))
