"""MiniCity: the Cityscapes layout, label ids and colours from cityscapesscripts, determinism."""

import json

import numpy as np
import pytest
from PIL import Image

from course_utils.data.minicity import (
    CITIES,
    FRAME,
    minicity_stem,
    prepare_offline,
    render_scene,
    scene_rng,
    write_minicity,
)

SIZE = (64, 128)


@pytest.fixture(scope="module")
def minicity(tmp_path_factory):
    root = tmp_path_factory.mktemp("minicity")
    return write_minicity(root, train_images=4, val_images=2, size=SIZE, seed=3, progress=False)


def test_layout_names_and_file_formats(minicity):
    from cityscapesscripts.helpers.csHelpers import getCsFileInfo

    images = sorted(minicity.glob("leftImg8bit/*/*/*_leftImg8bit.png"))
    assert len(images) == 6
    assert {p.parts[-3] for p in images} == {"train", "val"}
    for path in images:
        split, city = path.parts[-3], path.parts[-2]
        assert city in CITIES[split]
        info = getCsFileInfo(str(path))  # the official parser of Cityscapes names
        assert (info.city, info.frameNb, info.type) == (city, f"{FRAME:06d}", "leftImg8bit")
        stem = path.name[: -len("_leftImg8bit.png")]
        assert stem == minicity_stem(city, int(info.sequenceNb))
        gt = minicity / "gtFine" / split / city
        with Image.open(path) as im:
            assert im.mode == "RGB" and im.size == (SIZE[1], SIZE[0])
        with Image.open(gt / f"{stem}_gtFine_labelIds.png") as im:
            assert im.mode == "L"
            label_ids = np.asarray(im)
        with Image.open(gt / f"{stem}_gtFine_color.png") as im:
            assert im.mode == "RGBA"
            color = np.asarray(im)
        with Image.open(gt / f"{stem}_gtFine_instanceIds.png") as im:
            instances = np.asarray(im)
            assert instances.dtype in (np.uint16, np.int32) and instances.max() < 2**16
        polygons = json.loads((gt / f"{stem}_gtFine_polygons.json").read_text())
        assert (polygons["imgHeight"], polygons["imgWidth"]) == SIZE
        _check_ids(label_ids, color, instances)


def _check_ids(label_ids, color, instances):
    from cityscapesscripts.helpers.labels import id2label

    ids = np.unique(label_ids)
    assert all(int(i) in id2label and id2label[int(i)].id >= 0 for i in ids), ids
    for i in ids:  # colours are the official ones, alpha 255
        assert (color[label_ids == i] == (*id2label[int(i)].color, 255)).all()
    # instances: id*1000+k on classes with instances, the label id elsewhere
    has = np.array([id2label[int(i)].hasInstances if int(i) in id2label else False for i in range(256)])
    inst_pixels = has[label_ids]
    assert (instances[~inst_pixels] == label_ids[~inst_pixels]).all()
    assert (instances[inst_pixels] // 1000 == label_ids[inst_pixels]).all()


def test_scenes_are_deterministic_and_varied():
    a = render_scene(scene_rng(0, "train", 5), SIZE)
    b = render_scene(scene_rng(0, "train", 5), SIZE)
    c = render_scene(scene_rng(0, "train", 6), SIZE)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.label_ids, b.label_ids)
    assert np.array_equal(a.instance_ids, b.instance_ids) and a.polygons == b.polygons
    assert not np.array_equal(a.label_ids, c.label_ids)
    assert not np.array_equal(render_scene(scene_rng(1, "train", 5), SIZE).image, a.image)
    assert not np.array_equal(render_scene(scene_rng(0, "val", 5), SIZE).image, a.image)
    assert a.image.dtype == np.uint8 and a.label_ids.dtype == np.uint8 and a.instance_ids.dtype == np.uint16


def test_the_same_scene_at_two_sizes():
    from course_utils.images import resize_labels

    small = render_scene(scene_rng(0, "train", 2), (64, 128)).label_ids
    large = render_scene(scene_rng(0, "train", 2), (128, 256)).label_ids
    assert (resize_labels(large, (64, 128)) == small).mean() > 0.85


def test_classes_perspective_and_colour_ambiguity():
    from course_utils.data.cityscapes import labels_to_train_ids

    scenes = [render_scene(scene_rng(0, "train", i), SIZE) for i in range(16)]
    train = [labels_to_train_ids(s.label_ids) for s in scenes]
    seen = set(np.unique(np.concatenate([t.ravel() for t in train])).tolist())
    common = {0, 1, 2, 5, 6, 7, 8, 10, 11, 13}  # road ... car appear in most frames
    assert common <= seen and len(seen - {255}) >= 15
    # perspective: the sky is above the road; the road widens towards the bottom of the frame
    for t in train[:4]:
        rows_sky, rows_road = np.nonzero(t == 10)[0], np.nonzero(t == 0)[0]
        assert rows_sky.mean() < rows_road.mean()
        h = t.shape[0]
        assert (t[h - 8] == 0).sum() > (t[h // 2 + 4] == 0).sum()
    # colour alone does not give the class: the best per-colour-bin class is often wrong
    img = np.concatenate([s.image.reshape(-1, 3) for s in scenes]) // 32
    lab = np.concatenate([t.ravel() for t in train])
    keep = lab < 19
    key = (img[keep, 0].astype(int) * 64 + img[keep, 1] * 8 + img[keep, 2]) * 19 + lab[keep]
    counts = np.bincount(key, minlength=512 * 19).reshape(512, 19)
    assert counts.max(axis=1).sum() / keep.sum() < 0.8  # even this lookup table errs on > 20% of pixels


def test_polygons_render_to_the_label_image(minicity):
    from cityscapesscripts.helpers.annotation import Annotation
    from cityscapesscripts.preparation.json2labelImg import createLabelImage

    for path in sorted(minicity.glob("gtFine/*/*/*_gtFine_polygons.json"))[:3]:
        annotation = Annotation()
        annotation.fromJsonFile(str(path))
        drawn = np.asarray(createLabelImage(annotation, "ids"))
        ours = np.asarray(Image.open(str(path).replace("_polygons.json", "_labelIds.png")))
        assert (drawn == ours).mean() > 0.9  # the official drawing (PIL, integer vertices) differs only at edges


def test_write_is_idempotent_and_refuses_other_parameters(minicity):
    files = sorted(minicity.rglob("*.png"))
    stamps = [p.stat().st_mtime_ns for p in files]
    write_minicity(minicity, train_images=4, val_images=2, size=SIZE, seed=3, progress=False)
    assert [p.stat().st_mtime_ns for p in files] == stamps
    with pytest.raises(FileExistsError, match="refusing"):
        write_minicity(minicity, train_images=4, val_images=2, size=SIZE, seed=4, progress=False)


def test_prepare_offline_is_registered():
    from course_utils.data.offline import offline_preparers

    assert offline_preparers()["minicity"] is prepare_offline


def test_prepare_offline_renders_full_size_on_every_core(tmp_path, monkeypatch):
    """Full size (3475 frames of 1024 x 2048, ~0.5 s each) renders in parallel; quick mode in-process."""
    import course_utils.data.minicity as mc

    calls = []
    monkeypatch.setattr(mc, "write_minicity", lambda folder, **kw: calls.append((folder.name, kw)) or folder)
    monkeypatch.setattr(mc, "cpu_cores", lambda: 12)
    prepare_offline(tmp_path, full=True, progress=False)
    prepare_offline(tmp_path, full=False, progress=False)
    (full_name, full), (quick_name, quick) = calls
    assert (full_name, full["workers"], full["size"], full["train_images"]) == ("minicity_full", 12, (1024, 2048), 2975)
    assert (quick_name, quick["workers"]) == ("minicity", 1)
    monkeypatch.setattr(mc, "cpu_cores", lambda: 64)
    prepare_offline(tmp_path, full=True, progress=False)
    assert calls[-1][1]["workers"] == 16  # capped at 16 processes


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="size"):
        render_scene(0, (8, 1000))
    with pytest.raises(ValueError, match="seed"):
        render_scene(-1)
    with pytest.raises(ValueError, match="split"):
        scene_rng(0, "test", 0)
    with pytest.raises(ValueError, match="train_images"):
        write_minicity(tmp_path, train_images=-1, progress=False)
