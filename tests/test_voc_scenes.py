"""The VOC-like scenes (``write_synthetic_voc(style="scenes")``): twenty classes, overlapping objects in
rooms and outdoors, VOC's layout read alike by torchvision and by us; the clipart default unchanged."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image
from torchvision.datasets import VOCSegmentation

import course_utils.data.voc as voc_module
from course_utils.data.voc import (VOCSegmentationDataset, course_voc_root, course_voc_scenes_root, draw_scene,
                                   write_synthetic_voc)
from course_utils.data.voc_scenes import MAX_BOX_FRACTION, MIN_BOX_FRACTION, draw_voc_scene
from course_utils.data.voc_shapes import SKETCHED_CLASSES, sketch_object
from course_utils.data.voc_stats import voc_scene_statistics
from course_utils.palettes import VOC_CLASSES, voc_palette

N_TRAIN, N_VAL, SIZE, SEED = 200, 100, (96, 96), 0


@pytest.fixture(scope="module")
def scenes_root(tmp_path_factory):
    return write_synthetic_voc(tmp_path_factory.mktemp("scenes"), n_train=N_TRAIN, n_val=N_VAL, size=SIZE,
                               seed=SEED, style="scenes")


@pytest.fixture(scope="module")
def stats(scenes_root):
    return voc_scene_statistics(scenes_root)


@pytest.fixture(scope="module")
def val_drawn():
    """The validation scenes redrawn with their objects (scene ``i`` is ``default_rng([seed, i])``)."""
    return [draw_voc_scene(np.random.default_rng([SEED, i]), SIZE, return_objects=True)
            for i in range(N_TRAIN, N_TRAIN + N_VAL)]


# --- determinism -----------------------------------------------------------------------------
def test_same_seed_same_bytes_different_seeds_differ(tmp_path):
    a, b = draw_voc_scene(5, (64, 80)), draw_voc_scene(np.random.default_rng(5), (64, 80))
    assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
    assert a[0].shape == (64, 80, 3) and a[0].dtype == np.uint8 and a[1].shape == (64, 80) and a[1].dtype == np.uint8
    c = draw_voc_scene(6, (64, 80))
    assert a[0].tobytes() != c[0].tobytes() and a[1].tobytes() != c[1].tobytes()
    roots = [write_synthetic_voc(tmp_path / name, n_train=2, n_val=1, size=(64, 64), seed=seed, style="scenes")
             for name, seed in (("a", 1), ("b", 1), ("c", 2))]
    for rel in ("JPEGImages/2012_000001.jpg", "SegmentationClass/2012_000003.png"):
        files = [(r / "VOCdevkit/VOC2012" / rel).read_bytes() for r in roots]
        assert files[0] == files[1] != files[2]


# --- the 200 + 100 set -----------------------------------------------------------------------
def test_every_class_occurs_in_train_and_in_val(stats):
    assert set(stats) == {"train", "val"}
    assert stats["train"].n_images == N_TRAIN and stats["val"].n_images == N_VAL
    for split, s in stats.items():
        missing = [VOC_CLASSES[c] for c in range(1, 21) if s.class_image_counts[c] == 0]
        assert not missing, f"{split} lacks {missing}"
        assert s.class_image_counts[0] == s.n_images  # every image shows background


def test_background_is_at_most_70_percent_of_labelled_pixels(stats):
    for s in stats.values():
        assert 0.3 < s.background_share <= 0.70
    pixels = stats["train"].class_pixel_counts + stats["val"].class_pixel_counts
    assert pixels[0] / pixels.sum() <= 0.70


def test_every_image_shows_two_to_four_objects_of_distinct_classes(stats, val_drawn):
    # classes are distinct within a scene, so the classes a label map shows count its objects
    for s in stats.values():
        assert set(s.objects_per_image) <= {2, 3, 4} and sum(s.objects_per_image.values()) == s.n_images
        assert len(s.objects_per_image) == 3  # each count occurs
    for _, labels, objects in val_drawn:
        classes = [o.cls for o in objects]
        assert 2 <= len(objects) <= 4 and len(set(classes)) == len(classes)
        assert set(np.unique(labels).tolist()) - {0, 255} == set(classes)
        assert [o.depth for o in objects] == list(range(len(objects)))


def test_the_recorded_objects_are_those_of_the_written_set(scenes_root, val_drawn):
    ours = VOCSegmentationDataset(scenes_root, "val")
    for i in (0, 37, N_VAL - 1):
        np.testing.assert_array_equal(ours[i][1], val_drawn[i][1])
        encoded = io.BytesIO()
        Image.fromarray(val_drawn[i][0]).save(encoded, format="JPEG", quality=92)  # as the writer saves it
        assert ours.image_path(i).read_bytes() == encoded.getvalue()


def test_object_sizes_span_about_5_to_60_percent_of_the_image(val_drawn):
    boxes = np.array([o.box_fraction for _, _, objects in val_drawn for o in objects])
    pixels = np.array([o.pixel_fraction for _, _, objects in val_drawn for o in objects])
    assert boxes.min() >= 0.6 * MIN_BOX_FRACTION and boxes.max() <= 1.2 * MAX_BOX_FRACTION
    assert boxes.min() < 0.09 and boxes.max() > 0.5  # small and large objects both occur
    assert np.all(pixels <= boxes + 1e-9) and np.all(pixels > 0)


def test_objects_overlap_and_nearer_ones_occlude(val_drawn):
    occluded = [max(o.occluded for o in objects) for _, _, objects in val_drawn]
    assert np.mean(np.array(occluded) > 0.05) > 0.3
    for _, labels, objects in val_drawn:
        for o in objects:
            assert 0 <= o.occluded <= 0.6 + 1e-9
            assert o.visible_fraction == pytest.approx(o.pixel_fraction * (1 - o.occluded))
            shown = np.count_nonzero(labels == o.cls) / labels.size  # after the void band
            assert 0 < shown <= o.visible_fraction


def test_layout_marker_and_palette(scenes_root):
    voc = scenes_root / "VOCdevkit" / "VOC2012"
    lists = {s: (voc / "ImageSets/Segmentation" / f"{s}.txt").read_text().split() for s in ("train", "val", "trainval")}
    assert len(lists["train"]) == N_TRAIN and len(lists["val"]) == N_VAL
    assert lists["trainval"] == lists["train"] + lists["val"]
    assert "style=scenes\n" in (voc / "SEGCOURSE_SYNTHETIC.txt").read_text()
    with Image.open(voc / "SegmentationClass" / f"{lists['val'][0]}.png") as png:
        assert png.mode == "P"
        np.testing.assert_array_equal(np.array(png.getpalette()[:768], np.uint8).reshape(256, 3), voc_palette())


def test_torchvision_and_our_loader_read_it_alike(scenes_root):
    for split in ("train", "val"):
        tv = VOCSegmentation(str(scenes_root), year="2012", image_set=split, download=False)
        ours = VOCSegmentationDataset(scenes_root, split)
        assert len(tv) == len(ours)
        for i in range(0, len(ours), 7):
            image, target = tv[i]
            our_image, our_labels = ours[i]
            np.testing.assert_array_equal(np.asarray(image), our_image)
            np.testing.assert_array_equal(np.asarray(target), our_labels)
            assert our_image.shape == (*SIZE, 3) and our_labels.shape == SIZE


def test_statistics_take_one_dataset_and_refuse_other_sources(scenes_root, stats):
    one = voc_scene_statistics(VOCSegmentationDataset(scenes_root, "val"))
    np.testing.assert_array_equal(one["val"].class_image_counts, stats["val"].class_image_counts)
    with pytest.raises(TypeError, match="source"):
        voc_scene_statistics(42)
    with pytest.raises(ValueError, match="splits"):
        voc_scene_statistics(scenes_root, splits="val")


# --- the clipart default ---------------------------------------------------------------------
# These hashes pin the shipped clipart dataset (the course's checkpoints were trained on it): they
# were computed from the code before the scenes style existed. The arrays' hashes depend on NumPy and
# OpenCV only; the files' also on Pillow's JPEG and PNG encoders.
_CLIPART_ARRAYS = {  # scene i of seed 0 at 128x128: sha256 of (image bytes, label bytes)
    0: ("672e0f00e0545124e891275de13b9b36220eb4a7ce5f8f86cb2ebd5496b12ea3",
        "28752fdbc99429f8f0b120b81637ae87841cf5d69eee0274087ebf20d3ada76b"),
    1: ("b9a21e5c7434e268c1b213522cd23b3a2e19aa732c4763d06e303ca8d34a3ecf",
        "b15725208cded4c8113c0a4d99fa1f10c6416349e320bd2563664291b49161a7"),
    2: ("87f19dec8059917899676a8bf317a2f5a3fe59660785a175c560d3bb36702b92",
        "c3e54733de979abec2f026c35d4f3edd37a777a7e6487da6a72dbf207e3e0a5f"),
}
_CLIPART_FILES = {  # write_synthetic_voc(root, n_train=3, n_val=2, size=(128, 128), seed=0), style omitted
    "SEGCOURSE_SYNTHETIC.txt": "7fcc0a7555d92cbd8b8490b87171540d2cd308287956efe6b4c4e4694b7d97b2",
    "ImageSets/Segmentation/trainval.txt": "fa458fe540fb46c97b77b4b6bd2b27f1c53396cd86e63d8a72a847d7827f6bfe",
    "JPEGImages/2012_000001.jpg": "c074f41b26c3919ddf8bdc2fe92a04cb013e8a2459c21144045e4b7428233320",
    "SegmentationClass/2012_000001.png": "82b205252e27bf4bf7815513f433decfbda523c44370d229e4f8c2c3764ed96e",
    "JPEGImages/2012_000005.jpg": "adbbea7cf63264068069416ab4959d6abd3e12c685bab678edf151786c526806",
    "SegmentationClass/2012_000005.png": "2b98c503237eeddd4c7fb49f59c310714b2365f93668a75eabd8cb7ecc86a48b",
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_clipart_default_is_unchanged(tmp_path):
    for i, (image_hash, labels_hash) in _CLIPART_ARRAYS.items():
        image, labels = draw_scene(np.random.default_rng([0, i]), (128, 128))
        assert (_sha(image.tobytes()), _sha(labels.tobytes())) == (image_hash, labels_hash)
    voc = write_synthetic_voc(tmp_path / "default", n_train=3, n_val=2, size=(128, 128), seed=0) / "VOCdevkit/VOC2012"
    for rel, digest in _CLIPART_FILES.items():
        assert _sha((voc / rel).read_bytes()) == digest, rel
    named = write_synthetic_voc(tmp_path / "named", n_train=3, n_val=2, size=(128, 128), seed=0, style="clipart")
    assert (named / "VOCdevkit/VOC2012/SEGCOURSE_SYNTHETIC.txt").read_text() == \
        (voc / "SEGCOURSE_SYNTHETIC.txt").read_text()
    with pytest.raises(FileExistsError, match="other arguments"):  # a clipart folder is not turned into scenes
        write_synthetic_voc(tmp_path / "default", n_train=3, n_val=2, size=(128, 128), seed=0, style="scenes")


# --- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["photo", "Scenes", None, 1])
def test_a_wrong_style_is_refused_naming_it(tmp_path, style):
    with pytest.raises(ValueError, match=r"style must be one of \['clipart', 'scenes'\]"):
        write_synthetic_voc(tmp_path, n_train=1, n_val=0, style=style)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("kwargs, name", [({"max_objects": 1}, "max_objects"), ({"max_objects": 5}, "max_objects"),
                                          ({"size": (16, 16)}, "size"), ({"void_radius": -1}, "void_radius")])
def test_draw_voc_scene_refuses_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        draw_voc_scene(0, **kwargs)
    with pytest.raises(TypeError, match="rng"):
        draw_voc_scene("seed")


def test_scenes_style_checks_its_own_bounds(tmp_path):
    with pytest.raises(ValueError, match="max_objects"):
        write_synthetic_voc(tmp_path, n_train=1, n_val=0, style="scenes", max_objects=1)
    with pytest.raises(ValueError, match="size"):
        write_synthetic_voc(tmp_path, n_train=1, n_val=0, style="scenes", size=(16, 16))


def test_every_class_has_a_silhouette():
    assert SKETCHED_CLASSES == tuple(range(1, 21))
    for cls in SKETCHED_CLASSES:
        for seed in range(3):
            sk = sketch_object(cls, seed)
            points = np.concatenate([p for k, p in sk.strokes if k > 0])
            assert np.allclose([points[:, 1].min(), points[:, 1].max()], [-0.5, 0.5])
            assert sk.aspect > 0.2 and sk.role in {"ground", "sky", "water"} and sk.parts
    with pytest.raises(ValueError, match="cls"):
        sketch_object(21, 0)


def test_course_voc_scenes_root_has_its_own_folder(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(voc_module, "data_root", lambda: tmp_path)
    monkeypatch.setattr(voc_module, "write_synthetic_voc", lambda folder, **kw: calls.append((folder, kw)) or folder)
    scenes, clipart = course_voc_scenes_root(), course_voc_root()
    assert scenes.parent == clipart.parent == tmp_path / "voc_synthetic" and scenes != clipart
    assert calls[0][1]["style"] == "scenes" and "style" not in calls[1][1]
    other = course_voc_scenes_root(n_train=10, n_val=5, size=(64, 64), seed=3)
    assert other != scenes and "64x64" in other.name
    with pytest.raises(ValueError, match="n_train"):
        course_voc_scenes_root(n_train=-1)


def test_plot_voc_scene_grid(val_drawn):
    from course_utils.viz.datasets import plot_voc_scene_grid

    images, labels = [d[0] for d in val_drawn[:5]], [d[1] for d in val_drawn[:5]]
    fig = plot_voc_scene_grid(images, labels, voc_palette(), class_names=VOC_CLASSES, ncols=3)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 6 and len(shown) == 5
    cell = shown[0].images[0].get_array()
    void = labels[0] == 255
    np.testing.assert_allclose(cell[void], np.broadcast_to(voc_palette()[255] / 255.0, cell[void].shape), atol=1e-6)
    background = labels[0] == 0
    np.testing.assert_allclose(cell[background], images[0][background] / 255.0, atol=1e-6)  # left untinted
    assert {VOC_CLASSES[o.cls] for o in val_drawn[0][2]} == set(shown[0].get_title().split(", "))
    with pytest.raises(ValueError, match="images and labels"):
        plot_voc_scene_grid(images, labels[:4], voc_palette())
    with pytest.raises(ValueError, match="ncols"):
        plot_voc_scene_grid(images, labels, voc_palette(), ncols=0)
    import matplotlib.pyplot as plt

    plt.close("all")
