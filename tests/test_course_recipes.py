"""The course recipes behind the shipped checkpoints: data generated in parallel, staged FCN training
with validation curves, the DeepLab course settings, the commands' errors."""

from __future__ import annotations

import hashlib

import pytest

from course_utils.data.minicity import heldout_frames, write_minicity
from course_utils.data.voc import write_synthetic_voc


def _digest(root):
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        h.update(p.relative_to(root).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def test_parallel_generation_writes_the_same_files(tmp_path):
    a = write_minicity(tmp_path / "a", train_images=3, val_images=2, size=(64, 128), seed=5, progress=False)
    b = write_minicity(tmp_path / "b", train_images=3, val_images=2, size=(64, 128), seed=5, progress=False, workers=2)
    assert _digest(a) == _digest(b)
    c = write_synthetic_voc(tmp_path / "c", n_train=4, n_val=2, size=(32, 32), seed=1)
    d = write_synthetic_voc(tmp_path / "d", n_train=4, n_val=2, size=(32, 32), seed=1, workers=2)
    assert _digest(c) == _digest(d)
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        write_minicity(tmp_path / "e", train_images=1, val_images=0, size=(64, 128), workers=0)


def test_heldout_frames_are_training_scenes_beyond_the_trained_ones(tmp_path):
    root = write_minicity(tmp_path / "m", train_images=0, val_images=1, size=(64, 128), seed=0, progress=False)
    (image, ids), = heldout_frames(1, first=7, size=(64, 128))
    assert image.shape == (64, 128, 3) and ids.shape == (64, 128)
    from course_utils.data.minicity import render_scene, scene_rng

    scene = render_scene(scene_rng(0, "train", 7), (64, 128))
    assert (scene.image == image).all() and (scene.label_ids == ids).all()
    assert root.is_dir()


def test_course_deeplab_overrides():
    from course_utils.train.deeplab import COURSE_DEEPLAB, course_deeplab_overrides, deeplab_settings

    # LargeFOV and ASPP-L are compared on the same backbone and width, as the DeepLab paper does
    assert COURSE_DEEPLAB["largefov"]["width"] == COURSE_DEEPLAB["vgg_aspp"]["width"]
    s = course_deeplab_overrides("vgg_aspp", epochs=3, lr=None)
    assert s["epochs"] == 3 and s["lr"] == COURSE_DEEPLAB["vgg_aspp"]["lr"]
    assert deeplab_settings("vgg_aspp", **s)["input_scale"] == 1.0
    with pytest.raises(ValueError, match="model='unet' has no course recipe"):
        course_deeplab_overrides("unet")


def test_enet_class_weights_follow_the_formula_and_refuse_bad_shares():
    import numpy as np

    from course_utils.train.deeplab import enet_class_weights

    shares = np.array([0.5, 0.3, 0.2, 0.0])
    w = enet_class_weights(shares)
    np.testing.assert_allclose(w, 1 / np.log(1.02 + shares))
    assert np.all(np.diff(w) > 0)  # rarer class, larger weight
    assert w[-1] == pytest.approx(1 / np.log(1.02)) and w[-1] < 51  # bounded: an absent class weighs ~50.5
    with pytest.raises(ValueError, match="shares must be"):
        enet_class_weights(np.array([0.5, -0.1]))
    with pytest.raises(ValueError, match="c must be > 1"):
        enet_class_weights(shares, c=1.0)


def test_train_class_shares_count_train_ids_of_the_training_frames(tmp_path):
    import numpy as np
    from PIL import Image

    from course_utils.data.cityscapes import labels_to_train_ids, list_frames
    from course_utils.train.deeplab import deeplab_settings, train_class_shares

    root = write_minicity(tmp_path / "m", train_images=2, val_images=1, size=(64, 128), seed=3, progress=False)
    shares = train_class_shares(root)
    assert shares.shape == (19,) and shares.sum() == pytest.approx(1.0)
    # recount the first frame by hand: shares of frames[:1] are its own class histogram
    ids = labels_to_train_ids(np.asarray(Image.open(list_frames(root, "train")[0].label_ids)))
    counts = np.bincount(ids[ids != 255].ravel(), minlength=19)[:19]
    np.testing.assert_allclose(train_class_shares(root, frames=1), counts / counts.sum())
    with pytest.raises(ValueError, match="class_weights must be one of"):
        deeplab_settings("largefov", class_weights="inverse")


@pytest.mark.slow
def test_course_fcn_stages_record_validation_curves(tmp_path, one_thread):
    from course_utils.train.fcn import train_fcn_course

    root = write_synthetic_voc(tmp_path / "voc", n_train=8, n_val=4, size=(32, 32), seed=0)
    seen = []
    runs = train_fcn_course(root, device="cpu", epochs={"32s": 2, "16s": 1}, log=None,
                            on_stage=lambda v, r: seen.append(v))
    assert seen == ["32s", "16s"]
    assert len(runs["32s"]["val_loss"]) == 2 and len(runs["32s"]["val_mean_iu"]) == 2
    assert len(runs["16s"]["train_loss"]) == 1
    # FCN-16s starts from the trained FCN-32s: the shared backbone weights were copied before training moved them
    assert not runs["16s"]["net"].training


def test_train_command_names_its_subcommands(capsys):
    from course_utils.train.__main__ import main

    assert main(["nothing"]) == 2
    assert "record deeplab" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["record", "fcn"])  # argparse: --run and --device-note are required


def test_evaluate_command_refuses_a_missing_folder(capsys, tmp_path):
    from course_utils.evaluate.__main__ import main

    assert main(["deeplab", "--checkpoint", "deeplab-vgg_aspp", "--data-root", str(tmp_path / "nope")]) == 2
    assert "--data-root" in capsys.readouterr().err
    assert main(["fcn", "--checkpoint", "fcn-9s", "--data-root", str(tmp_path)]) == 2
    assert "fcn-9s" in capsys.readouterr().err


@pytest.mark.parametrize("style", ["clipart", "scenes"])
def test_make_voc_synthetic_draws_the_course_fcn_data_by_default(tmp_path, monkeypatch, style):
    import data_scripts.make_voc_synthetic as command
    from course_utils.data.voc import synthetic_voc_parameters

    monkeypatch.setitem(command.COURSE_FCN, "data", style)  # the recipe's data decides the default
    assert command.main(["--root", str(tmp_path), "--train", "1", "--val", "1", "--size", "32", "32"]) == 0
    made = synthetic_voc_parameters(tmp_path)
    assert made["style"] == style and made["seed"] == 0 and made["n_train"] == 1 and made["size"] == [32, 32]


def test_make_voc_synthetic_command(tmp_path, capsys):
    from data_scripts.make_voc_synthetic import main

    assert main(["--root", str(tmp_path / "voc"), "--seed", "3", "--train", "2", "--val", "1", "--size", "32", "32"]) == 0
    assert (tmp_path / "voc" / "VOCdevkit" / "VOC2012" / "ImageSets" / "Segmentation" / "val.txt").read_text().count("\n") == 1
    # other arguments into the same folder: refused, one line, exit 2
    assert main(["--root", str(tmp_path / "voc"), "--seed", "4", "--train", "2", "--val", "1", "--size", "32", "32"]) == 2
    assert "error:" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["--root", str(tmp_path / "file")]) == 2
    assert "--root" in capsys.readouterr().err
