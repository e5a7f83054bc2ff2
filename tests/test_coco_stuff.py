"""COCO-stuff label sets, the 182 -> 171 mapping, the loader and the procedural sample."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from course_utils.data import coco_stuff as cs

# Entries of mmsegmentation's tools/convert_datasets/coco_stuff164k.py ``clsID_to_trID``
# (the reference 182 -> 171 table), at every gap and both ends.
MMSEG_SPOT_CHECKS = {0: 0, 10: 10, 12: 11, 24: 23, 26: 24, 27: 25, 30: 26, 43: 39, 45: 40, 64: 59, 66: 60, 69: 61,
                     71: 62, 81: 72, 83: 73, 89: 79, 91: 80, 92: 81, 150: 139, 181: 170, 255: 255}


def test_class_counts_are_the_lectures():
    assert len(cs.COCO_STUFF_ID_NAMES) == cs.NUM_IDS == 182
    assert len(cs.COCO_STUFF_CLASSES) == cs.NUM_CLASSES == 171
    things = [i for i in range(182) if cs.is_thing_id(i) and i not in cs.UNUSED_THING_IDS]
    stuff = [i for i in range(182) if not cs.is_thing_id(i)]
    assert len(things) == 80 and len(stuff) == 91
    assert len(things) + len(stuff) + 1 == 172  # + 'unlabeled'


def test_names_follow_labels_txt():
    # labels.txt (github.com/nightrome/cocostuff): "1: person", "91: hair brush", "92: banner", "157: sky-other", "182: wood"
    names = cs.COCO_STUFF_ID_NAMES
    assert (names[0], names[90], names[91], names[156], names[181]) == ("person", "hair brush", "banner", "sky-other", "wood")
    assert len(set(names)) == 182


def test_unused_thing_ids_are_the_eleven_without_segmentations():
    assert cs.UNUSED_THING_IDS == (11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90)
    assert {cs.COCO_STUFF_ID_NAMES[i] for i in cs.UNUSED_THING_IDS} == {
        "blender", "desk", "door", "eye glasses", "hair brush", "hat", "mirror", "plate", "shoe", "street sign", "window"}


def test_mapping_agrees_with_mmsegmentation_and_is_order_preserving():
    lut = cs.id_to_class_lut()
    for src, dst in MMSEG_SPOT_CHECKS.items():
        assert lut[src] == dst, (src, lut[src], dst)
    used = [i for i in range(182) if i not in cs.UNUSED_THING_IDS]
    np.testing.assert_array_equal(lut[used], np.arange(171))
    assert (lut[list(cs.UNUSED_THING_IDS)] == 255).all() and (lut[182:] == 255).all()
    assert [cs.COCO_STUFF_CLASSES[lut[i]] for i in used] == [cs.COCO_STUFF_ID_NAMES[i] for i in used]
    lut[0] = 7  # a copy: the module's table is not changed
    assert cs.id_to_class_lut()[0] == 0


def test_to_171_classes_and_its_errors():
    labels = np.array([[0, 12, 255], [91, 181, 11]], dtype=np.uint8)
    np.testing.assert_array_equal(cs.to_171_classes(labels), [[0, 11, 255], [80, 170, 255]])
    assert cs.to_171_classes(labels.astype(np.int64)).dtype == np.uint8
    with pytest.raises(ValueError, match="labels holds the value 200"):
        cs.to_171_classes(np.array([[200]], dtype=np.uint8))
    with pytest.raises(ValueError, match="labels must be an"):
        cs.to_171_classes(np.zeros((2, 2, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="label_id"):
        cs.is_thing_id(182)


def test_read_stuffthingmap(tmp_path):
    ids = np.array([[0, 11, 92], [181, 255, 45]], dtype=np.uint8)
    Image.fromarray(ids, mode="L").save(tmp_path / "a.png")
    np.testing.assert_array_equal(cs.read_stuffthingmap(tmp_path / "a.png", classes=182), ids)
    np.testing.assert_array_equal(cs.read_stuffthingmap(tmp_path / "a.png"), [[0, 255, 81], [170, 255, 40]])
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match="RGB"):
        cs.read_stuffthingmap(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match="classes"):
        cs.read_stuffthingmap(tmp_path / "a.png", classes=172)


def test_render_sample_is_deterministic_and_consistent():
    image, labels, instances = cs.render_sample((64, 80), 3)
    image2, labels2, instances2 = cs.render_sample((64, 80), np.random.default_rng(3))
    np.testing.assert_array_equal(image, image2)
    np.testing.assert_array_equal(labels, labels2)
    assert image.shape == (64, 80, 3) and image.dtype == np.uint8
    assert labels.dtype == np.uint8 and instances.dtype == np.uint16
    thing = (labels <= 90)
    np.testing.assert_array_equal(instances > 0, thing)  # instances exist exactly on thing pixels
    present = np.unique(instances[instances > 0])
    np.testing.assert_array_equal(present, np.arange(1, len(present) + 1))  # numbered without gaps
    assert not set(np.unique(labels).tolist()) & set(cs.UNUSED_THING_IDS)
    with pytest.raises(ValueError, match="size"):
        cs.render_sample((16, 80), 0)


def test_written_layout_and_loader(tmp_path):
    rng = np.random.default_rng(0)
    samples = []
    for split, image_id in (("val", 285), ("val", 139), ("train", 9)):
        image, labels, _ = cs.render_sample((40, 56), rng)
        samples.append((split, image_id, image, labels))
    cs.write_coco_stuff_files(tmp_path, samples)
    assert (tmp_path / "images/val2017/000000000139.jpg").is_file()
    assert (tmp_path / "annotations/train2017/000000000009.png").is_file()
    ds = cs.CocoStuffSegmentation(tmp_path, "val", classes=182)
    assert len(ds) == 2 and [p[0].stem for p in ds.pairs] == ["000000000139", "000000000285"]
    image, labels = ds[0]
    assert image.shape == (40, 56, 3) and labels.shape == (40, 56)
    np.testing.assert_array_equal(labels, samples[1][3])  # PNG is lossless
    assert np.corrcoef(image.ravel(), samples[1][2].ravel())[0, 1] > 0.95  # JPEG is lossy but close
    ds171 = cs.CocoStuffSegmentation(tmp_path, "val", limit=1)
    assert len(ds171) == 1 and ds171.class_names == cs.COCO_STUFF_CLASSES
    np.testing.assert_array_equal(ds171[0][1], cs.to_171_classes(samples[1][3]))
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        cs.write_coco_stuff_files(tmp_path, samples[:1])


def test_loader_errors(tmp_path):
    with pytest.raises(ValueError, match="split"):
        cs.coco_stuff_pairs(tmp_path, "test")
    with pytest.raises(FileNotFoundError, match="not a COCO-stuff root"):
        cs.CocoStuffSegmentation(tmp_path, "val")
    (tmp_path / "images/val2017").mkdir(parents=True)
    (tmp_path / "annotations/val2017").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "images/val2017/000000000001.jpg")
    with pytest.raises(FileNotFoundError, match="has no label map"):
        cs.coco_stuff_pairs(tmp_path, "val")
    with pytest.raises(ValueError, match="limit"):
        cs.CocoStuffSegmentation(tmp_path, "val", limit=0)


def test_prepare_offline_is_idempotent_and_respects_foreign_folders(tmp_path):
    path = cs.prepare_offline(tmp_path, full=False)
    n_val = len(list((path / "images/val2017").glob("*.jpg")))
    from course_utils.config import SETTINGS

    assert n_val == SETTINGS["datasets"]["coco_stuff_val"][0]
    stamp = os.stat(path / "images/val2017").st_mtime_ns
    assert cs.prepare_offline(tmp_path, full=False) == path
    assert os.stat(path / "images/val2017").st_mtime_ns == stamp
    assert len(cs.CocoStuffSegmentation(path, "train")) == SETTINGS["datasets"]["coco_stuff_train"][0]
    other = tmp_path / "other"
    (other / "coco_stuff_sample").mkdir(parents=True)
    (other / "coco_stuff_sample" / "mine.txt").write_text("user data")
    with pytest.raises(FileExistsError, match="not written by prepare_offline"):
        cs.prepare_offline(other, full=False)
    assert (other / "coco_stuff_sample" / "mine.txt").read_text() == "user data"


def test_prepare_offline_is_listed_with_the_offline_datasets():
    from course_utils.data.offline import offline_preparers

    assert "coco_stuff" in offline_preparers()
