"""Lesson 07 library parts: class statistics, dataset pictures, the lecture's dataset facts."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.data.class_stats import (
    class_frequencies,
    class_image_counts,
    class_pixel_counts,
    median_frequency_weights,
)
from course_utils.evaluate.segmentation import confusion_matrix, segmentation_scores
from course_utils.palettes import VOC_CLASSES, voc_palette
from course_utils.viz import datasets as vd


def _maps():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(6, 9)).astype(np.uint8)
    a[0] = 255
    b = rng.integers(0, 3, size=(4, 4)).astype(np.int64)
    return [a, b]


def test_pixel_counts_are_the_confusion_matrix_row_sums():
    maps = _maps()
    counts = class_pixel_counts(maps, 5)
    cm = sum(confusion_matrix(m, np.where(m == 255, 0, m), 5) for m in maps)
    np.testing.assert_array_equal(counts, cm.sum(axis=1))  # t_i of the FCN paper
    assert counts.sum() == sum(int((m != 255).sum()) for m in maps)
    np.testing.assert_array_equal(class_pixel_counts(maps[1], 5), np.bincount(maps[1].ravel(), minlength=5))


def test_image_counts_and_frequencies():
    maps = _maps()
    images = class_image_counts(maps, 6)
    assert images[5] == 0 and images[0] == 2 and images.max() <= 2
    freq = class_frequencies(class_pixel_counts(maps, 6))
    assert freq.dtype == np.float64 and abs(freq.sum() - 1) < 1e-12 and freq[5] == 0


def test_statistics_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"labels\[1\] holds the label 7"):
        class_pixel_counts([np.zeros((2, 2), np.uint8), np.full((2, 2), 7)], 5)
    with pytest.raises(ValueError, match="num_classes"):
        class_pixel_counts(np.zeros((2, 2), np.uint8), 0)
    with pytest.raises(ValueError, match=r"labels\[0\] must be an \(H, W\) integer array"):
        class_image_counts([np.zeros((2, 2), np.float32)], 3)
    with pytest.raises(ValueError, match="sums to zero"):
        class_frequencies(np.zeros(3))
    assert class_pixel_counts(np.full((2, 2), 9), 3, ignore_index=9).sum() == 0


def test_median_frequency_weights_by_hand():
    # image 1: 6 px of class 0, 2 px of class 1; image 2: 8 px of class 0 (8 px each)
    a = np.array([[0, 0, 0, 0], [0, 0, 1, 1]])
    b = np.zeros((2, 4), int)
    weights = median_frequency_weights([a, b], 3)
    # freq(0) = 14 / 16, freq(1) = 2 / 8 (only image 1 has class 1) -> median 0.5625
    np.testing.assert_allclose(weights, [0.5625 / (14 / 16), 0.5625 / 0.25, 0.0])
    with pytest.raises(ValueError, match="no labelled pixel"):
        median_frequency_weights([np.full((2, 2), 255)], 3)


def test_majority_prediction_shows_why_mean_iu_exists():
    """Predicting the frequent class everywhere: pixel accuracy and f.w. IU look fine, mean IU does not."""
    labels = np.zeros((40, 40), np.int64)
    labels[:4, :4] = 1
    labels[30:, 30:] = 2
    scores = segmentation_scores(confusion_matrix(labels, np.zeros_like(labels), 3))
    assert scores["pixel_acc"] > 0.9 and scores["fw_iu"] > 0.8
    assert scores["mean_iu"] < 0.35


def test_voc_groups_are_the_twenty_classes():
    grouped = [n for names in vd.VOC_CLASS_GROUPS.values() for n in names]
    assert sorted(grouped) == sorted(VOC_CLASSES[1:]) and len(grouped) == 20
    assert [len(v) for v in vd.VOC_CLASS_GROUPS.values()] == [1, 6, 7, 6]


def test_coco_stuff_palette_and_instance_colours():
    pal = vd.coco_stuff_palette()
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    assert len({tuple(c) for c in pal[:182]}) == 182  # every id its own colour
    assert tuple(pal[0]) == tuple(voc_palette()[1]) and tuple(pal[255]) == (0, 0, 0)
    inst = np.array([[0, 1, 1], [2, 2, 0]])
    rgb = vd.instance_colors(inst)
    assert rgb.shape == (2, 3, 3) and (rgb[0, 0] == 0).all() and (rgb[0, 1] == rgb[0, 2]).all()
    assert not (rgb[0, 1] == rgb[1, 0]).all()
    with pytest.raises(ValueError, match="instances"):
        vd.instance_colors(np.array([[-1]]))


def test_figures_draw_and_check_their_input():
    import matplotlib.figure

    pal = voc_palette()
    fig = vd.plot_class_legend(VOC_CLASSES, pal, ncols=3, title="VOC")
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes[0].patches) == 21
    fig = vd.plot_grouped_legend(vd.VOC_CLASS_GROUPS, VOC_CLASSES, pal)
    assert len(fig.axes) == 4 and sum(len(ax.patches) for ax in fig.axes) == 20
    counts = np.array([100, 0, 5, 50])
    fig = vd.plot_class_frequencies(counts, ["a", "b", "c", "d"], pal[:4], title="t")
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["a", "d", "c", "b"]  # most frequent first, absent last
    image = np.zeros((10, 20, 3), np.uint8)
    lab = np.zeros((10, 20), np.uint8)
    fig = vd.plot_annotation_kinds(image, lab, pal, instances=lab.astype(int),
                                   polygons=[("car", np.array([[1, 1], [5, 1], [5, 5]]))])
    assert len(fig.axes) == 4 and len(fig.axes[3].patches) == 1
    fig = vd.plot_palette_png(lab, pal)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="ids"):
        vd.plot_class_legend(VOC_CLASSES, pal, ids=[30])
    with pytest.raises(ValueError, match="pixel_counts"):
        vd.plot_class_frequencies(counts, ["a"])
    with pytest.raises(ValueError, match="groups names classes"):
        vd.plot_grouped_legend({"x": ("unicorn",)}, VOC_CLASSES, pal)
    with pytest.raises(ValueError, match="polygon"):
        vd.plot_annotation_kinds(image, lab, pal, polygons=[("car", np.array([[1, 1]]))])


def test_cityscapes_numbers_from_the_official_table():
    from cityscapesscripts.helpers.labels import labels

    classes = [lab for lab in labels if lab.id >= 4]  # without unlabeled, ego vehicle, border, out of roi, plate
    assert len(classes) == 30
    assert len({lab.category for lab in classes}) == 8
    assert len([lab for lab in labels if 0 <= lab.trainId < 255]) == 19


def _street_ids() -> np.ndarray:
    lab = np.full((64, 128), 23, np.uint8)  # sky
    lab[30:] = 7  # road
    lab[40:55, 20:50] = 26  # car
    lab[20:60, 90:94] = 17  # pole
    lab[50:60, 100:110] = 24  # person
    return lab


def test_fine_polygons_rasterise_back_to_the_label_map_with_the_official_tool():
    from cityscapesscripts.helpers.labels import id2label

    from course_utils.data.polygons import labels_to_polygons, polygons_to_annotation, rasterize_polygons

    lab = _street_ids()
    names = {k: v.name for k, v in id2label.items()}
    polygons = labels_to_polygons(lab, names, epsilon=0.5)
    assert [p["label"] for p in polygons][:2] == ["road", "sky"]  # largest first: painter's order
    annotation = polygons_to_annotation(polygons, lab.shape)
    np.testing.assert_array_equal(rasterize_polygons(annotation), lab)
    train = rasterize_polygons(annotation, "trainIds")
    lut = np.full(256, 255, np.uint8)
    for k, v in id2label.items():
        if k >= 0:
            lut[k] = v.trainId
    np.testing.assert_array_equal(train, lut[lab])


def test_coarse_polygons_leave_boundaries_unlabeled():
    from cityscapesscripts.helpers.labels import id2label

    from course_utils.data.polygons import labels_to_polygons, polygons_to_annotation, rasterize_polygons

    lab = _street_ids()
    names = {k: v.name for k, v in id2label.items()}
    coarse = rasterize_polygons(polygons_to_annotation(labels_to_polygons(lab, names, epsilon=3, shrink=2), lab.shape))
    labelled = coarse != 0
    assert 0.5 < labelled.mean() < 0.95
    assert (coarse == lab)[labelled].mean() > 0.9


def test_polygon_errors():
    from course_utils.data.polygons import labels_to_polygons, polygons_to_annotation, rasterize_polygons

    with pytest.raises(ValueError, match="does not name"):
        labels_to_polygons(np.full((8, 8), 3), {1: "road"})
    with pytest.raises(ValueError, match="labels must be"):
        labels_to_polygons(np.zeros((8, 8), np.float32), {0: "x"})
    with pytest.raises(ValueError, match="at least 3 points"):
        polygons_to_annotation([{"label": "road", "polygon": [[0, 0]]}], (4, 4))
    with pytest.raises(ValueError, match="does not define"):
        rasterize_polygons(polygons_to_annotation([{"label": "unicorn", "polygon": [[0, 0], [3, 0], [3, 3]]}], (4, 4)))
    with pytest.raises(ValueError, match="encoding"):
        rasterize_polygons({"imgHeight": 2, "imgWidth": 2, "objects": []}, "color")


def test_cityscapes_label_id_palette_and_instances():
    from cityscapesscripts.helpers.labels import name2label

    pal = vd.cityscapes_label_id_palette()
    assert tuple(pal[name2label["road"].id]) == name2label["road"].color == (128, 64, 128)
    assert tuple(pal[name2label["car"].id]) == name2label["car"].color
    ids = np.array([[7, 26000, 26000], [26001, 24000, 11]], dtype=np.uint16)  # road, 2 cars, a person, building
    inst = vd.cityscapes_instances(ids)
    np.testing.assert_array_equal(inst, [[0, 2, 2], [3, 1, 0]])
    with pytest.raises(ValueError, match="instance_ids"):
        vd.cityscapes_instances(np.zeros(3))
