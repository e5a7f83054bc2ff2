"""Property suite (Hypothesis), data layer: transforms, label-id tables, class statistics, fixations, scoring."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.property_utils import any_array, assert_finite, attempt, image_like

SIZES = st.one_of(st.tuples(st.integers(-1, 12), st.integers(-1, 12)), st.sampled_from([None, 5, (3,), "big"]))


@st.composite
def image_and_labels(draw):
    image = draw(image_like(max_side=10))
    if isinstance(image, np.ndarray) and image.ndim >= 2 and draw(st.booleans()):
        shape = image.shape[:2]
    else:
        shape = (draw(st.integers(0, 10)), draw(st.integers(0, 10)))
    labels = draw(st.one_of(
        hnp.arrays(np.uint8, shape, elements=st.sampled_from([0, 1, 5, 20, 255])),
        hnp.arrays(np.int64, shape, elements=st.integers(-2, 300)),
        any_array(min_dims=1, max_dims=3),
    ))
    return image, labels


@given(image_and_labels(), SIZES, st.tuples(st.floats(-1, 3), st.floats(-1, 3)))
def test_joint_transforms(pair, size, scale_range):
    from course_utils.data.transforms import Compose, RandomCrop, RandomHorizontalFlip, RandomScale, to_tensors

    image, labels = pair
    ok, crop = attempt(RandomCrop, size, names=["size"])
    ok2, scale = attempt(RandomScale, scale_range, names=["scale_range"])
    steps = [t for t, good in ((scale, ok2), (crop, ok), (RandomHorizontalFlip(0.5), True)) if good]
    g = torch.Generator().manual_seed(0)
    ok, out = attempt(Compose(steps), image, labels, generator=g, names=["image", "labels"])
    if ok:
        im, lab = out
        assert im.shape[:2] == lab.shape and (not crop or im.shape[:2] == tuple(size))
        assert set(np.unique(lab)) <= set(np.unique(labels)) | {255}
    ok, x = attempt(to_tensors, image, names=["image"])
    if ok:
        assert_finite(x)


@given(image_and_labels(), st.one_of(st.none(), st.integers(-1, 12)), st.booleans())
def test_segmentation_transform(pair, size, train):
    from course_utils.data.voc import SegmentationTransform

    image, labels = pair
    ok, t = attempt(SegmentationTransform, size, train=train, generator=np.random.default_rng(0), names=["size"])
    if not ok:
        return
    ok, out = attempt(t, image, labels, names=["image", "labels"])
    if ok:
        x, y = out
        assert_finite(x)
        assert x.shape[1:] == y.shape and int(y.max()) <= 255 and int(y.min()) >= 0


@given(any_array(max_dims=3))
def test_cityscapes_id_tables(ids):
    from course_utils.data.cityscapes import labels_to_train_ids, train_ids_to_label_ids

    ok, train = attempt(labels_to_train_ids, ids, names=["label_ids"])
    if ok:
        assert train.shape == ids.shape and set(np.unique(train)) <= set(range(19)) | {255}
    ok, label = attempt(train_ids_to_label_ids, ids, names=["train_ids"])
    if ok:
        assert label.shape == ids.shape and (label.size == 0 or label.max() <= 33)


@given(any_array(min_dims=1, max_dims=3), any_array(min_dims=1, max_dims=3))
def test_label_confusion_and_scores(pred, gt):
    from course_utils.evaluate.cityscapes import cityscapes_scores, label_confusion

    ok, cm = attempt(label_confusion, pred, gt, names=["prediction", "ground truth"])
    if ok:
        assert cm.shape == (34, 34) and cm.sum() == gt.size
        scores = cityscapes_scores(cm)
        for v in scores["class_iou"].values():
            assert np.isnan(v) or 0 <= v <= 1


@given(st.lists(any_array(min_dims=1, max_dims=3), min_size=0, max_size=3), st.integers(-1, 30),
       st.sampled_from([255, None, -1]))
def test_class_stats(labels, num_classes, ignore_index):
    from course_utils.data import class_stats as cs

    names = ["labels", "num_classes", "ignore_index", "pixel_counts"]
    ok, counts = attempt(cs.class_pixel_counts, labels, num_classes, ignore_index=ignore_index, names=names)
    if ok:
        assert counts.shape == (num_classes,) and counts.min() >= 0
        ok, freq = attempt(cs.class_frequencies, counts, names=names)
        if ok:
            assert_finite(freq)
    ok, w = attempt(cs.median_frequency_weights, labels, num_classes, ignore_index=ignore_index, names=names)
    if ok:
        assert_finite(w) and (w >= 0).all()


@given(any_array(min_dims=1, max_dims=3, max_side=8), st.tuples(st.integers(-1, 9), st.integers(-1, 9)),
       st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
def test_fixations(points, shape, sigma):
    from course_utils.saliency.fixations import fixation_density, fixation_map

    ok, fmap = attempt(fixation_map, points, shape, names=["points", "shape"])
    if ok:
        assert fmap.shape == shape and fmap.dtype == bool
    ok, dens = attempt(fixation_density, points, shape, sigma=sigma, names=["points", "shape", "sigma"])
    if ok:
        assert dens.shape == shape
        assert_finite(dens)


@given(any_array(min_dims=2, max_dims=2, max_side=8),
       st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_attention_prior_and_eye_tracking(mask, object_weight, center_sigma):
    from course_utils.saliency.fixations import attention_prior, simulate_eye_tracking

    ok, prior = attempt(attention_prior, mask, object_weight=object_weight, center_sigma=center_sigma,
                        names=["mask", "object_weight", "center_sigma"])
    if ok:
        assert_finite(prior)
        ok, pts = attempt(simulate_eye_tracking, prior, observers=2, fixations_per_observer=2, names=["prior"])
        assert ok and len(pts) and (pts >= 0).all()
