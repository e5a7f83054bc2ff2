"""Issue 25, in the scoring, training and MiniCity modules: silent wrong results made errors or made right,
and folders a user made never taken over."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

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


# --------------------------------------------------------------------------- training commands claim their folder


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from course_utils.data.minicity import write_minicity

    return write_minicity(tmp_path_factory.mktemp("city"), train_images=4, val_images=2, size=(64, 128), progress=False)


def _deeplab_args(root, out):
    return ["--model", "largefov", "--data-root", str(root), "--out", str(out), "--epochs", "1", "--batch-size", "4",
            "--width", "0.0625", "--crop", "32", "64", "--input-scale", "0.5", "--device", "cpu", "--threads", "1",
            "--no-eval", "--no-cache"]


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_train_deeplab_refuses_a_folder_it_did_not_write(tiny_city, tmp_path, capsys):
    from course_utils.train.deeplab import main

    user = tmp_path / "mine"
    user.mkdir()
    (user / "result.json").write_text('{"my": "result"}')
    assert main(_deeplab_args(tiny_city, user)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not write" in err[0] and "result.json" in err[0]
    assert _snapshot(user) == {"result.json": b'{"my": "result"}'}
    # a folder another command claimed
    other = tmp_path / "fcn-run"
    other.mkdir()
    (other / "segcourse-run.json").write_text(json.dumps({"command": "python -m course_utils.train fcn"}))
    before = _snapshot(other)
    assert main(_deeplab_args(tiny_city, other)) == 2
    assert "python -m course_utils.train fcn" in capsys.readouterr().err
    assert _snapshot(other) == before


def test_train_deeplab_claims_its_folder_and_resumes_runs_from_before_the_marker(tmp_path):
    from course_utils.train.deeplab import _claim_out_dir, _json_ready, deeplab_settings

    settings = deeplab_settings("largefov", epochs=1)
    new = tmp_path / "new"
    assert _claim_out_dir(new, settings, True) == new / "checkpoint.pt"
    assert json.loads((new / "segcourse-run.json").read_text()) == {"command": "python -m course_utils.train deeplab"}
    assert json.loads((new / "settings.json").read_text()) == _json_ready(settings)
    _claim_out_dir(new, settings, True)  # its own folder: claimed again
    # a run folder written before the marker existed (settings.json, checkpoint) is this command's
    old = tmp_path / "old"
    old.mkdir()
    (old / "settings.json").write_text(json.dumps(_json_ready(settings), indent=1, sort_keys=True))
    (old / "checkpoint.pt").write_bytes(b"weights")
    _claim_out_dir(old, settings, True)
    assert (old / "segcourse-run.json").is_file() and (old / "checkpoint.pt").read_bytes() == b"weights"
    with pytest.raises(ValueError, match="other settings"):
        _claim_out_dir(old, deeplab_settings("largefov", epochs=2), True)


def test_train_fcn_refuses_a_folder_it_did_not_write_and_a_finished_run(tmp_path, capsys, monkeypatch):
    import course_utils.train.fcn as fcn

    def never(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(fcn, "train_fcn_course", never)
    monkeypatch.setattr(fcn, "course_synthetic_root", never)
    user = tmp_path / "mine"
    user.mkdir()
    (user / "result.json").write_text("{}")
    (user / "fcn-32s.pt").write_bytes(b"my weights")
    before = _snapshot(user)
    assert fcn.main(["--out", str(user)]) == 2
    assert "did not write" in capsys.readouterr().err
    assert _snapshot(user) == before
    finished = tmp_path / "finished"
    finished.mkdir()
    (finished / "segcourse-run.json").write_text(json.dumps({"command": "python -m course_utils.train fcn"}))
    (finished / "result.json").write_text("{}")
    assert fcn.main(["--out", str(finished)]) == 2
    assert "finished run" in capsys.readouterr().err


@pytest.mark.parametrize("flag, value", [("--epochs-32s", "0"), ("--epochs-8s", "-1"), ("--epochs-32s-fixed", "0")])
def test_train_fcn_checks_every_stage_before_training(tmp_path, capsys, monkeypatch, flag, value):
    import course_utils.train.fcn as fcn

    def never(*args, **kwargs):
        raise AssertionError("training or data generation started")

    monkeypatch.setattr(fcn, "train_fcn_course", never)
    monkeypatch.setattr(fcn, "course_synthetic_root", never)
    assert fcn.main(["--out", str(tmp_path / "run"), flag, value]) == 2
    assert f"{flag} must be an int >= 1, got {value}" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # refused before the folder was claimed


def test_train_fcn_takes_zero_epochs_as_given_not_as_the_default(tmp_path, monkeypatch):
    import course_utils.train.fcn as fcn

    seen = {}
    monkeypatch.setattr(fcn, "course_synthetic_root", lambda style, workers=1: tmp_path / "voc")
    monkeypatch.setattr(fcn, "train_fcn_course",
                        lambda root, *, device, epochs, seed, on_stage, completed, heldout, checkpoints: seen.update(epochs, seed=seed))
    assert fcn.main(["--out", str(tmp_path / "run"), "--epochs-16s", "3"]) == 0
    # the long FCN-32s control follows the later stages: as long as FCN-16s and FCN-8s together
    assert seen == {**fcn.COURSE_FCN["epochs"], "16s": 3, "32s-long": 3 + fcn.COURSE_FCN["epochs"]["8s"],
                    "seed": fcn.COURSE_FCN["seed"]}
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"epochs\['32s'\] must be an int >= 1, got 0"):
        fcn.train_fcn_course(tmp_path, epochs={"32s": 0})


def test_train_fcn_seed_flag_is_checked_passed_on_and_kept_out_of_the_shipped_checkpoints(tmp_path, capsys,
                                                                                           monkeypatch):
    import course_utils.train.fcn as fcn
    from course_utils.train import record

    def never(*args, **kwargs):
        raise AssertionError("training or data generation started")

    monkeypatch.setattr(fcn, "train_fcn_course", never)
    monkeypatch.setattr(fcn, "course_synthetic_root", never)
    assert fcn.main(["--out", str(tmp_path / "bad"), "--seed", "-1"]) == 2
    assert "--seed" in capsys.readouterr().err and not (tmp_path / "bad").exists()

    def one_stage(root, *, device, epochs, seed, on_stage, completed, heldout, checkpoints):  # a stand-in: tiny stages
        for variant in ("32s", "16s", "8s", "32s-fixed"):
            net = fcn.fcn_vgg16(variant.replace("-fixed", ""), 21, width=fcn.COURSE_FCN["width"], batch_norm=True)
            on_stage(variant, {"net": net, "train_loss": [1.0], "val_loss": [1.0], "val_mean_iu": [0.1],
                               "seconds": 1.0, "epochs": 1, "seed": seed})

    monkeypatch.setattr(fcn, "course_synthetic_root", lambda style, workers=1: tmp_path / "voc")
    monkeypatch.setattr(fcn, "train_fcn_course", one_stage)
    run = tmp_path / "seed3"
    assert fcn.main(["--out", str(run), "--seed", "3"]) == 0
    state = torch.load(run / "fcn-32s.pt", map_location="cpu", weights_only=False)
    assert state["recipe"]["seed"] == 3 and state["seed"] == 3
    with pytest.raises(ValueError, match="seed 3"):  # another seed never replaces the shipped FCN checkpoints
        record.record_fcn(run, device_note="cpu", data_root=tmp_path / "voc", log=None)


# --------------------------------------------------------------------------- make_minicity checks what it generated


def _bytes_under(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_make_minicity_refuses_a_root_holding_a_dataset_it_did_not_write(tmp_path, capsys):
    from data_scripts.make_minicity import main

    real = tmp_path / "cityscapes"
    image = real / "leftImg8bit" / "train" / "aachen" / "aachen_000000_000019_leftImg8bit.png"
    image.parent.mkdir(parents=True)
    image.write_bytes(b"a real photo")
    (real / "license.txt").write_text("Cityscapes")
    before = _bytes_under(real)
    assert main(["--root", str(real), "--train", "1", "--val", "1", "--size", "32", "64"]) == 2
    err = capsys.readouterr().err
    assert "did not write" in err and str(real) in err
    assert _bytes_under(real) == before


@pytest.mark.parametrize("records", ["kept", "lost"])
def test_make_minicity_rerun_writes_a_damaged_frame_again(tmp_path, capsys, records):
    from data_scripts.make_minicity import main

    root = tmp_path / "mc"
    args = ["--root", str(root), "--train", "2", "--val", "1", "--size", "32", "64"]
    assert main(args) == 0
    files = json.loads((root / "minicity-files.json").read_text())
    original = _bytes_under(root)
    frames = {k: v for k, v in original.items() if k.startswith(("leftImg8bit", "gtFine"))}
    assert set(files) == set(frames) and len(frames) == 15
    import hashlib

    assert all(files[k] == [len(v), hashlib.sha256(v).hexdigest()] for k, v in frames.items())
    image = root / "leftImg8bit" / "train" / "aurora" / "aurora_000000_000019_leftImg8bit.png"
    image.write_bytes(original[image.relative_to(root).as_posix()][:200])  # truncated
    polygons = next(root.rglob("*_polygons.json"))
    polygons.write_text(polygons.read_text()[:-5])  # truncated JSON
    if records == "lost":  # a folder from before the checksums: a damaged file must still be found
        (root / "minicity-files.json").unlink()
    capsys.readouterr()
    assert main(args) == 0
    assert "2 damaged file(s) written again" in capsys.readouterr().err
    assert _bytes_under(root) == original  # byte-identical again, the records included


# --------------------------------------------------------------------------- evaluate cityscapes


def test_a_label_id_prediction_with_many_void_pixels_is_scored_not_refused(tmp_path, capsys):
    from course_utils.data.cityscapes import labels_to_train_ids, list_frames, read_label_ids
    from course_utils.data.minicity import write_minicity
    from course_utils.evaluate.__main__ import main
    from course_utils.evaluate.cityscapes import evaluate_cityscapes

    root = write_minicity(tmp_path / "city", train_images=0, val_images=2, size=(64, 128), progress=False)
    frames = list_frames(root, "val")
    label_dir = tmp_path / "pred_label"
    for frame in frames:
        ids = read_label_ids(frame.label_ids)
        # a valid label-id prediction: ground, road, sidewalk, building, ... kept; every class with an id >= 19
        # (sky, vegetation, cars, people) left unlabeled (0): many void pixels, every value below 19
        pred = np.where(ids < 19, ids, 0).astype(np.uint8)
        pred[pred <= 6] = 0
        assert pred.max() < 19 and (pred == 0).mean() > 0.3
        path = label_dir / frame.city / f"{frame.stem}_leftImg8bit.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        import cv2

        assert cv2.imwrite(str(path), pred)
    scores = evaluate_cityscapes(label_dir, root / "gtFine" / "val")
    assert scores["class_iou"]["road"] == pytest.approx(1.0) and scores["class_iou"]["sky"] == 0.0
    assert main(["cityscapes", "--pred", str(label_dir), "--gt", str(root / "gtFine" / "val"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["class_iou"]["road"] == pytest.approx(1.0)
    # train ids written as label ids by mistake are still refused (road = 0 read as "unlabeled")
    raw = tmp_path / "raw_train"
    for frame in frames:
        path = raw / frame.city / f"{frame.stem}_leftImg8bit.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        t = labels_to_train_ids(read_label_ids(frame.label_ids))
        assert cv2.imwrite(str(path), np.where(t == 255, 0, t).astype(np.uint8))
    with pytest.raises(ValueError, match="looks like train ids"):
        evaluate_cityscapes(raw, root / "gtFine" / "val")
