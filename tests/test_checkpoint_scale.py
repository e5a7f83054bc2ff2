"""A checkpoint trained on 256x512 MiniCity meets full-size (1024x2048) Cityscapes frames at its own scale."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_utils.checkpoints import REGISTRY
from course_utils.crf.dense_crf import CRFParams
from course_utils.evaluate import checkpoints as ev


@pytest.fixture(scope="module")
def full_size_root(tmp_path_factory):
    from course_utils.data.minicity import write_minicity

    return write_minicity(tmp_path_factory.mktemp("cityscapes") / "full", train_images=0, val_images=1,
                          size=(1024, 2048), seed=3, progress=False)


def test_full_size_frames_are_seen_at_the_training_scale_and_the_crf_widths_scaled(full_size_root, monkeypatch):
    name = "deeplab-aspp"
    entry = REGISTRY[name]
    seen = {}
    real_logits = ev.dcnn_logits

    def spy_logits(net, image, *, input_scale=1.0, device=None):
        seen.setdefault("input_scale", input_scale)
        seen.setdefault("image", image.shape)
        return real_logits(net, image, input_scale=input_scale, device=device)

    def fake_crf(image, logits, params, **kwargs):  # the real CRF at 1024x2048 takes seconds: record the call
        seen["params"] = params
        seen["crf_image"] = image.shape
        return logits.argmax(0).numpy().astype(np.uint8), None

    monkeypatch.setattr(ev, "dcnn_logits", spy_logits)
    monkeypatch.setattr(ev, "crf_labels", fake_crf)
    out = ev.evaluate_deeplab_checkpoint(name, full_size_root, frames=1, crf=True)
    trained_w = entry.data["size"][1]
    assert seen["image"] == (1024, 2048, 3) and seen["crf_image"] == (1024, 2048, 3)
    assert seen["input_scale"] == pytest.approx(entry.architecture["input_scale"] * trained_w / 2048)
    searched = CRFParams(**entry.crf["params"])
    assert seen["params"].sigma_alpha == pytest.approx(searched.sigma_alpha * 2048 / trained_w)
    assert seen["params"].sigma_beta == searched.sigma_beta and seen["params"].w1 == searched.w1
    assert "trained on 256x512" in out["scale_note"] and "1024x2048" in out["scale_note"]
    assert 0.0 <= out["dcnn"]["mean_iou"] <= 1.0


def test_frames_of_the_training_size_get_no_note(tmp_path):
    from course_utils.evaluate.unseen import unseen_minicity_root

    out = ev.evaluate_deeplab_checkpoint("deeplab-largefov", unseen_minicity_root(5, 2, tmp_path / "m"), frames=2)
    assert "scale_note" not in out


def test_evaluate_command_generates_unseen_data_by_seed(tmp_path, monkeypatch, capsys):
    from course_utils.evaluate.__main__ import main

    monkeypatch.setenv("SEGCOURSE_DATA", str(tmp_path))
    assert main(["deeplab", "--checkpoint", "deeplab-largefov", "--data-seed", "5", "--frames", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frames"] == 3 and (tmp_path / "minicity_seed5_val3").is_dir()
    assert 0.0 < result["mean_iou"] < 1.0
    # the same frames by folder give the same figure
    assert main(["deeplab", "--checkpoint", "deeplab-largefov", "--data-root", str(tmp_path / "minicity_seed5_val3"),
                 "--frames", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mean_iou"] == result["mean_iou"]
    # both or neither of --data-root / --data-seed: a usage error
    with pytest.raises(SystemExit) as usage:
        main(["fcn", "--checkpoint", "fcn-8s", "--json"])
    assert usage.value.code == 2
    assert main(["deeplab", "--checkpoint", "deeplab-largefov", "--data-seed", "-1"]) == 2
