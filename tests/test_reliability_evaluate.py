"""Issue 16: `python -m course_utils.evaluate cityscapes` on train-id predictions and damaged PNGs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from course_utils.data.cityscapes import labels_to_train_ids, list_frames, read_label_ids
from course_utils.data.minicity import write_minicity
from course_utils.evaluate.__main__ import main
from course_utils.evaluate.cityscapes import evaluate_cityscapes, write_prediction


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = write_minicity(tmp_path_factory.mktemp("ev16"), train_images=0, val_images=3, size=(64, 128), seed=3,
                          progress=False)
    as_train, as_label = root / "pred_train", root / "pred_label"
    for k, frame in enumerate(list_frames(root, "val")):
        train = labels_to_train_ids(read_label_ids(frame.label_ids)).astype(np.uint8)
        train = np.roll(train, k + 1, axis=1)  # imperfect: a network's argmax
        train[train == 255] = 0
        (as_train / frame.city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(train).save(as_train / frame.city / f"{frame.stem}_leftImg8bit.png")  # the mistake
        write_prediction(as_label / frame.city / f"{frame.stem}_leftImg8bit.png", train)  # the right way
    return root


def _run(capsys, *args):
    code = main(["cityscapes", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()


def test_train_id_predictions_are_recognised(city, capsys):
    gt = city / "gtFine" / "val"
    code, out, err = _run(capsys, "--pred", city / "pred_train", "--gt", gt)
    assert code == 2 and out == "" and len(err) == 1
    assert "train ids" in err[0] and "--pred-ids train" in err[0] and "write_prediction" in err[0]
    with pytest.raises(ValueError, match="looks like train ids"):
        evaluate_cityscapes(city / "pred_train", gt)


def test_pred_ids_train_scores_as_the_converted_predictions(city, capsys):
    gt = city / "gtFine" / "val"
    code, out, _ = _run(capsys, "--pred", city / "pred_train", "--gt", gt, "--pred-ids", "train", "--json")
    assert code == 0
    ref = evaluate_cityscapes(city / "pred_label", gt)
    assert json.loads(out)["mean_iou"] == pytest.approx(ref["mean_iou"]) and ref["mean_iou"] > 0.3
    # label-id predictions given as train ids: values 19-33 are refused with the flag's name
    code, _, err = _run(capsys, "--pred", city / "pred_label", "--gt", gt, "--pred-ids", "train")
    assert code == 2 and len(err) == 1 and "--pred-ids train" in err[0]


@pytest.mark.parametrize("damage", ["empty", "truncated", "not a png"])
def test_damaged_prediction_png_is_named(city, tmp_path, capsys, damage):
    import shutil

    pred = tmp_path / "pred"
    shutil.copytree(city / "pred_label", pred)
    victim = sorted(pred.rglob("*.png"))[1]
    data = victim.read_bytes()
    victim.write_bytes({"empty": b"", "truncated": data[: len(data) // 2], "not a png": b"hello" * 20}[damage])
    code, out, err = _run(capsys, "--pred", pred, "--gt", city / "gtFine" / "val")
    assert code == 2 and out == "" and len(err) == 1 and victim.name in err[0], err


def test_gt_naming_a_file(city, capsys):
    code, _, err = _run(capsys, "--pred", city / "pred_label", "--gt", city / "minicity.json")
    assert code == 2 and len(err) == 1 and "minicity.json" in err[0]
