"""DeepLab's epochs re-chosen on held-out training frames: the rule, the record, and its re-measurement."""

from __future__ import annotations

import pytest

from course_utils.checkpoints import REGISTRY, WEIGHTS_DIR, checkpoint_curves, sha256_file
from course_utils.config import DEEPLAB_EPOCH_CHECK
from course_utils.train import epoch_check
from course_utils.train.deeplab import COURSE_DEEPLAB

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_rule_takes_the_fewest_epochs_within_the_margin_on_every_network():
    choose = epoch_check.choose_epochs
    assert choose({"a": {40: 0.500, 60: 0.505}, "b": {40: 0.40, 60: 0.40}}, 0.01) == 40
    assert choose({"a": {40: 0.500, 60: 0.505}, "b": {40: 0.38, 60: 0.40}}, 0.01) == 60  # one network needs 60
    assert choose({"a": {40: 0.52, 60: 0.50}}, 0.01) == 40  # the best is the fewest
    assert choose({"a": {40: 0.40, 60: 0.45, 80: 0.455}}, 0.01) == 60
    with pytest.raises(ValueError, match=r"scores\['b'\] has candidates \[40\]"):
        choose({"a": {40: 0.5, 60: 0.5}, "b": {40: 0.5}}, 0.01)
    with pytest.raises(ValueError, match=r"scores\['a'\]\[60\]"):
        choose({"a": {40: 0.5, 60: 1.5}}, 0.01)
    with pytest.raises(ValueError, match="margin"):
        choose({"a": {40: 0.5}}, -0.1)


def test_the_check_frames_are_training_scenes_that_no_run_trained_on_nor_the_crf_search_used():
    from course_utils.data.minicity import COURSE_MINICITY

    first, count = DEEPLAB_EPOCH_CHECK["first_frame"], DEEPLAB_EPOCH_CHECK["frames"]
    assert first >= COURSE_MINICITY["train_images"] + 8  # 0..999 trained on, 1000..1007 the CRF search's
    record = epoch_check.read_record()
    assert record["frames"].startswith(f"training-split scenes {first}..{first + count - 1}")


def test_the_record_is_of_the_shipped_weights_and_the_rule_in_config():
    record = epoch_check.read_record()
    assert record["rule"] == {k: list(v) if isinstance(v, tuple) else v for k, v in DEEPLAB_EPOCH_CHECK.items()}
    assert sorted(record["networks"]) == sorted(DEEPLAB_EPOCH_CHECK["networks"])
    for name, by_epochs in record["networks"].items():
        assert sorted(int(e) for e in by_epochs) == sorted(DEEPLAB_EPOCH_CHECK["candidates"])
        for epochs, candidate in by_epochs.items():
            assert sha256_file(WEIGHTS_DIR / candidate["file"]) == candidate["sha256"], (name, epochs)
        shipped = by_epochs[str(len(checkpoint_curves(name)["train_loss"]))]
        assert shipped["sha256"] == REGISTRY[name].sha256  # retrained checkpoints make the record stale
    scores = {n: {int(e): c["heldout_mean_iou"] for e, c in by.items()} for n, by in record["networks"].items()}
    assert record["chosen_epochs"] == epoch_check.choose_epochs(scores, DEEPLAB_EPOCH_CHECK["margin"])
    # the finding: the recipe's epochs are what the held-out frames choose
    assert record["chosen_epochs"] == COURSE_DEEPLAB["vgg_aspp"]["epochs"]


def test_a_replaced_candidate_file_is_refused(tmp_path, monkeypatch):
    name = DEEPLAB_EPOCH_CHECK["networks"][0]
    earlier = min(DEEPLAB_EPOCH_CHECK["candidates"])
    with pytest.raises(ValueError, match="another SHA-256"):
        epoch_check.candidate_net(name, earlier, sha256="0" * 64)
    monkeypatch.setattr(epoch_check, "EPOCH_CHECK_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=f"{earlier}-epoch {name}"):
        epoch_check.candidate_net(name, earlier)


@pytest.mark.slow
def test_every_recorded_held_out_figure_is_measured_again():
    record = epoch_check.read_record()
    frames = epoch_check.check_frames()
    for name, by_epochs in record["networks"].items():
        for epochs, candidate in by_epochs.items():
            net = epoch_check.candidate_net(name, int(epochs), sha256=candidate["sha256"])
            got = epoch_check.heldout_mean_iou(net, frames, REGISTRY[name].architecture.get("input_scale", 1.0))
            assert got == pytest.approx(candidate["heldout_mean_iou"], abs=1e-4), (name, epochs)
