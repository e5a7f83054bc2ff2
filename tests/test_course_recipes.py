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
    with pytest.raises(ValueError, match="workers must be a positive int"):
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
