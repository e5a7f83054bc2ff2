"""Property suite (Hypothesis), base and ops layers: image helpers, metrics, convolution arithmetic."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.property_utils import any_array, assert_finite, attempt, image_like

INTS = st.one_of(st.integers(-3, 12), st.sampled_from([0, 10**12, True, 2.5, float("nan"), None, "3"]))


@given(image_like())
def test_image_helpers(image):
    from course_utils import images

    for fn in (images.check_image, images.to_float, images.to_uint8, images.image_to_tensor):
        ok, out = attempt(fn, image, names=["image"])
        if ok:
            assert_finite(out)
    attempt(images.hwc_to_chw, image, names=["array"])  # a reshuffle of any array: only its errors are checked
    ok, out = attempt(images.to_float, image, names=["image"])
    if ok:
        assert out.dtype == np.float32 and out.shape == image.shape and 0 <= out.min() <= out.max() <= 1


@given(image_like(max_side=8), st.tuples(INTS, INTS))
def test_resize_image(image, size):
    from course_utils.images import resize_image

    ok, out = attempt(resize_image, image, size, names=["image", "size"])
    if ok:
        assert out.shape == (size[0], size[1], 3) and out.dtype == image.dtype
        assert_finite(out)


@given(any_array(min_dims=2, max_dims=3), st.tuples(INTS, INTS))
def test_resize_labels(labels, size):
    from course_utils.images import resize_labels

    ok, out = attempt(resize_labels, labels, size, names=["labels", "size"])
    if ok:
        assert out.shape == tuple(size) and set(np.unique(out)) <= set(np.unique(labels))


@given(any_array(max_dims=3), any_array(max_dims=3), INTS)
def test_confusion_matrix(labels_true, labels_pred, num_classes):
    from course_utils.evaluate.segmentation import confusion_matrix, segmentation_scores

    ok, cm = attempt(confusion_matrix, labels_true, labels_pred, num_classes,
                     names=["labels_true", "labels_pred", "num_classes"])
    if ok:
        assert cm.shape == (num_classes, num_classes) and cm.sum() <= labels_true.size
        ok, scores = attempt(segmentation_scores, cm, names=["cm"])
        if ok and cm.sum():
            assert_finite({k: v for k, v in scores.items() if k in ("pixel_acc", "fw_iu")})


@given(any_array(min_dims=2, max_dims=2, max_side=5))
def test_segmentation_scores_any_matrix(cm):
    from course_utils.evaluate.segmentation import segmentation_scores

    ok, scores = attempt(segmentation_scores, cm, names=["cm"])
    if ok:
        for key in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu"):
            v = scores[key]
            assert np.isnan(v) or 0 <= v <= 1, (key, v)


@given(INTS, INTS, INTS, INTS, INTS)
def test_conv_arithmetic(n, kernel, stride, padding, dilation):
    from course_utils.ops.receptive_field import conv_output_size as rf_size
    from course_utils.ops.transposed_conv import conv_output_size, conv_transpose_output_size

    names = ["n", "size", "kernel", "stride", "padding", "dilation", "output_padding"]
    for fn in (conv_output_size, rf_size):
        ok, out = attempt(fn, n, kernel, stride, padding, dilation, names=names)
        if ok:
            assert isinstance(out, int) and out >= 1
    ok, out = attempt(conv_transpose_output_size, n, kernel, stride, padding, names=names)
    if ok:
        assert isinstance(out, int) and out >= 1


@given(any_array(min_dims=1, max_dims=4, max_side=4, dtypes=[np.float32, np.float64, np.int64]),
       st.tuples(INTS, INTS), INTS, INTS)
def test_conv_matrix_and_friends(weight, input_size, stride, padding):
    from course_utils.ops.transposed_conv import conv_matrix, insert_zeros

    w = torch.from_numpy(weight)
    names = ["weight", "input_size", "stride", "padding"]
    ok, m = attempt(conv_matrix, w, input_size, stride, padding, names=names)
    if ok:
        assert m.ndim == 2
        if bool(torch.isfinite(w).all()):  # the matrix rearranges the weights: finite in, finite out
            assert_finite(m)
    x = torch.from_numpy(np.ascontiguousarray(weight))
    ok, z = attempt(insert_zeros, x, stride, names=["x", "stride"])
    if ok:
        assert z.shape[:2] == x.shape[:2]


@given(INTS, INTS, st.booleans(), st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool, "float"]))
def test_bilinear(channels, size, depthwise, dtype):
    from course_utils.ops.bilinear import bilinear_deconv_weight, bilinear_kernel, bilinear_kernel_size

    ok, k = attempt(bilinear_kernel, size, names=["size"])
    if ok:
        assert k.shape == (size, size) and 0 < k.min() <= k.max() <= 1
    ok, s = attempt(bilinear_kernel_size, size, names=["factor"])
    if ok:
        assert s >= 1
    ok, w = attempt(bilinear_deconv_weight, channels, size, depthwise=depthwise, dtype=dtype,
                    names=["channels", "size", "dtype"])
    if ok:
        assert w.dtype == dtype and w.shape[0] == channels and float(w.sum()) > 0


@given(any_array(min_dims=2, max_dims=4, max_side=6), INTS, st.one_of(st.none(), INTS))
def test_pool_unpool_round_trip(x, kernel, stride):
    from course_utils.ops.unpooling import max_pool_with_positions, max_unpool

    ok, out = attempt(max_pool_with_positions, x, kernel, stride, names=["x", "kernel", "stride"])
    if ok:
        values, positions = out
        ok, back = attempt(max_unpool, values, positions, x.shape[-2:], names=["values", "positions", "output_size"])
        assert ok and back.shape == x.shape


@given(any_array(min_dims=2, max_dims=4, max_side=4, dtypes=[np.float32, np.float64]), INTS)
def test_dilate_kernel(weight, rate):
    from course_utils.ops.dilated_conv import dilate_kernel

    w = torch.from_numpy(weight)
    ok, out = attempt(dilate_kernel, w, rate, names=["weight", "rate"])
    if ok:
        assert torch.equal(out[..., ::rate, ::rate], w) or bool(torch.isnan(w).any())


@given(st.lists(st.tuples(INTS, INTS, INTS), max_size=4))
def test_receptive_field(layers):
    from course_utils.ops.receptive_field import Layer, output_stride, receptive_field_size

    try:
        built = [Layer(k, s, d) for k, s, d in layers]
    except (ValueError, TypeError):
        return
    ok, size = attempt(receptive_field_size, built, names=["layers"])
    if ok:
        assert size >= 1
        assert attempt(output_stride, built, names=["layers"])[1] >= 1
