"""The synthetic PASCAL VOC: real on-disk layout, read identically by torchvision and by our loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.datasets import VOCSegmentation

from course_utils.data.voc import (SYNTHETIC_CLASSES, SegmentationTransform, VOCSegmentationDataset,
                                   add_void_band, draw_scene, find_voc_root, load_arrays, prepare_offline,
                                   synthetic_voc_root, write_synthetic_voc)
from course_utils.palettes import voc_palette


@pytest.fixture(scope="module")
def voc_root(tmp_path_factory):
    return write_synthetic_voc(tmp_path_factory.mktemp("voc"), n_train=6, n_val=3, size=(64, 80), seed=3)


def test_layout_is_pascal_voc_2012(voc_root):
    voc = voc_root / "VOCdevkit" / "VOC2012"
    lists = {s: (voc / "ImageSets" / "Segmentation" / f"{s}.txt").read_text().split() for s in ("train", "val", "trainval")}
    assert len(lists["train"]) == 6 and len(lists["val"]) == 3
    assert lists["trainval"] == lists["train"] + lists["val"] and not set(lists["train"]) & set(lists["val"])
    for name in lists["trainval"]:
        assert (voc / "JPEGImages" / f"{name}.jpg").is_file()
        png = Image.open(voc / "SegmentationClass" / f"{name}.png")
        assert png.mode == "P" and png.format == "PNG"
        palette = np.array(png.getpalette()[:768], np.uint8).reshape(256, 3)
        np.testing.assert_array_equal(palette, voc_palette())
        jpg = Image.open(voc / "JPEGImages" / f"{name}.jpg")
        assert jpg.format == "JPEG" and jpg.mode == "RGB" and jpg.size == (80, 64)


def test_torchvision_reads_it_and_our_loader_agrees(voc_root):
    for split in ("train", "val"):
        tv = VOCSegmentation(str(voc_root), year="2012", image_set=split, download=False)
        ours = VOCSegmentationDataset(voc_root, split)
        assert len(tv) == len(ours) > 0
        for i in range(len(ours)):
            image, target = tv[i]
            our_image, our_labels = ours[i]
            np.testing.assert_array_equal(np.asarray(image), our_image)
            np.testing.assert_array_equal(np.asarray(target), our_labels)
            assert our_image.dtype == np.uint8 and our_image.shape == (64, 80, 3)
            assert our_labels.dtype == np.uint8 and our_labels.shape == (64, 80)


def test_labels_hold_voc_classes_and_a_void_band(voc_root):
    _, labels = load_arrays(VOCSegmentationDataset(voc_root, "trainval"))
    values = set(np.unique(labels).tolist())
    assert values <= {0, 255, *SYNTHETIC_CLASSES}
    assert 255 in values and values & set(SYNTHETIC_CLASSES)
    # the void band separates classes: no two 4-neighbours carry different real classes
    for lab in labels:
        a, b = lab[:, :-1], lab[:, 1:]
        assert not np.any((a != b) & (a != 255) & (b != 255))
        a, b = lab[:-1], lab[1:]
        assert not np.any((a != b) & (a != 255) & (b != 255))


def test_root_may_be_devkit_or_year_folder(voc_root):
    a = VOCSegmentationDataset(voc_root, "val")
    b = VOCSegmentationDataset(voc_root / "VOCdevkit", "val")
    c = VOCSegmentationDataset(voc_root / "VOCdevkit" / "VOC2012", "val")
    assert a.ids == b.ids == c.ids
    assert find_voc_root(voc_root) == voc_root / "VOCdevkit" / "VOC2012"


def test_generation_is_deterministic_idempotent_and_never_overwrites(tmp_path, voc_root):
    again = write_synthetic_voc(tmp_path / "again", n_train=6, n_val=3, size=(64, 80), seed=3)
    for name in ("2012_000001", "2012_000009"):
        for sub, ext in (("JPEGImages", "jpg"), ("SegmentationClass", "png")):
            rel = f"VOCdevkit/VOC2012/{sub}/{name}.{ext}"
            assert (again / rel).read_bytes() == (voc_root / rel).read_bytes()
    # a user's edited file is kept on a re-run, and the rerun says so instead of "ready" (issue 25)
    target = again / "VOCdevkit/VOC2012/SegmentationClass/2012_000001.png"
    target.write_bytes(b"edited")
    with pytest.raises(ValueError, match="2012_000001.png differs from what segcourse wrote"):
        write_synthetic_voc(tmp_path / "again", n_train=6, n_val=3, size=(64, 80), seed=3)
    assert target.read_bytes() == b"edited"
    with pytest.raises(FileExistsError, match="other arguments"):
        write_synthetic_voc(tmp_path / "again", n_train=7, n_val=3, size=(64, 80), seed=3)
    # a real VOC (no marker) is never written into
    real = tmp_path / "real" / "VOCdevkit" / "VOC2012" / "JPEGImages"
    real.mkdir(parents=True)
    (real / "2007_000032.jpg").write_bytes(b"jpeg")
    with pytest.raises(FileExistsError, match="did not generate"):
        write_synthetic_voc(tmp_path / "real", n_train=1, n_val=1)


def test_prepare_offline_location(tmp_path, monkeypatch):
    from course_utils import config

    monkeypatch.setitem(config.SETTINGS["fcn"], "train_images", (2, 2))
    monkeypatch.setitem(config.SETTINGS["fcn"], "val_images", (1, 1))
    monkeypatch.setitem(config.SETTINGS["fcn"], "data_size", (32, 32))
    out = prepare_offline(tmp_path, False)
    assert out == synthetic_voc_root(tmp_path, False)
    ds = VOCSegmentationDataset(out, "trainval")
    assert len(ds) == 3 and ds[0][0].shape == (32, 32, 3)
    assert prepare_offline(tmp_path, False) == out  # idempotent


def test_scenes_have_thin_parts_and_small_objects():
    # fine detail matters: many object pixels lie within 4 px of the background
    import cv2

    near, total, small = 0, 0, 0
    for seed in range(30):
        _, labels = draw_scene(seed, (128, 128))
        obj = ((labels != 0) & (labels != 255)).astype(np.uint8)
        total += int(obj.sum())
        inner = cv2.erode(obj, np.ones((9, 9), np.uint8))
        near += int(obj.sum() - inner.sum())
        n, _, stats, _ = cv2.connectedComponentsWithStats(obj)
        small += int((stats[1:, cv2.CC_STAT_AREA] < 0.02 * labels.size).sum())
    assert near / total > 0.3
    assert small >= 10


def test_void_band_width():
    labels = np.zeros((10, 10), np.uint8)
    labels[:, 5:] = 7
    band = add_void_band(labels, 1)
    assert (band == 255).sum() == 20 and set(np.unique(band[:, 4:6])) == {255}
    assert (add_void_band(labels, 2) == 255).sum() == 40
    np.testing.assert_array_equal(add_void_band(labels, 0), labels)
    with pytest.raises(ValueError, match="radius"):
        add_void_band(labels, -1)


def test_transform_pads_crops_and_normalises():
    image = np.full((20, 30, 3), 128, np.uint8)
    labels = np.ones((20, 30), np.uint8)
    x, y = SegmentationTransform(32)(image, labels)
    assert x.shape == (3, 32, 32) and y.shape == (32, 32) and y.dtype == torch.int64
    assert (y[20:] == 255).all() and (y[:20, :30] == 1).all()
    assert torch.allclose(x[:, 25, 5], torch.zeros(3))  # padding = the mean colour = 0 after normalising
    rng = np.random.default_rng(0)
    xs = [SegmentationTransform(16, train=True, generator=rng)(image, labels)[1].shape for _ in range(5)]
    assert all(s == (16, 16) for s in xs)
    x, y = SegmentationTransform(None)(image, labels)
    assert x.shape == (3, 20, 30)
    with pytest.raises(ValueError, match="size"):
        SegmentationTransform(0)


def test_bad_arguments(tmp_path, voc_root):
    with pytest.raises(FileNotFoundError, match="root="):
        VOCSegmentationDataset(tmp_path, "train")
    with pytest.raises(ValueError, match="image_set='test'"):
        VOCSegmentationDataset(voc_root, "test")
    with pytest.raises(ValueError, match="n_train"):
        write_synthetic_voc(tmp_path / "x", n_train=-1, n_val=1)
    with pytest.raises(ValueError, match="size"):
        draw_scene(0, (8, 8))
    with pytest.raises(IndexError, match="out of range"):
        VOCSegmentationDataset(voc_root, "val")[10]
