"""Issue 16: bounded allocations and no silent nonsense, one test per reported case."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch


def _fast(fn, *args, **kwargs):
    """Call ``fn`` expecting a refusal that comes before any big allocation (well under a second)."""
    start = time.perf_counter()
    try:
        fn(*args, **kwargs)
    finally:
        assert time.perf_counter() - start < 5.0


# --------------------------------------------------------------------------- bounded resources


def test_histogram_contrast_levels_bounded_by_bytes():
    from course_utils.saliency.bottom_up import histogram_contrast

    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"levels=1000 would allocate about .*GiB"):
        _fast(histogram_contrast, image, levels=1000)
    assert histogram_contrast(image, levels=64).shape == (32, 32)  # 64**3 bins are fine


def test_confusion_matrix_num_classes_bounded_by_bytes():
    from course_utils.evaluate.segmentation import confusion_matrix

    y = np.zeros((4, 4), np.int64)
    with pytest.raises(ValueError, match=r"num_classes=1000000 would allocate about .*TiB"):
        _fast(confusion_matrix, y, y, num_classes=10**6)
    assert confusion_matrix(y, y, num_classes=3)[0, 0] == 16


def test_conv_matrix_size_bounded_by_bytes():
    from course_utils.ops.transposed_conv import conv_matrix

    with pytest.raises(ValueError, match=r"input_size=\(1000, 1000\) would allocate about .*TiB"):
        _fast(conv_matrix, torch.ones(3, 3), (1000, 1000))
    assert conv_matrix(torch.ones(3, 3), (4, 4)).shape == (4, 16)


@pytest.mark.parametrize("build", ["largefov", "aspp", "fcn", "saliency"])
def test_network_widths_bounded_by_bytes(build):
    from course_utils.nets.deeplab import deeplab_resnet_aspp, deeplab_vgg16_largefov
    from course_utils.nets.fcn import fcn_vgg16
    from course_utils.nets.saliency import saliency_vgg

    fn = {"largefov": lambda: deeplab_vgg16_largefov(21, width=100.0),
          "aspp": lambda: deeplab_resnet_aspp(19, width=1e4),
          "fcn": lambda: fcn_vgg16("32s", 21, width=1e9),
          "saliency": lambda: saliency_vgg(64 * 1000)}[build]
    with pytest.raises(ValueError, match="width"):
        _fast(fn)


def test_budget_follows_the_environment(monkeypatch):
    from course_utils._shared import check_bytes, memory_budget

    monkeypatch.setenv("SEGCOURSE_MAX_BYTES", "1e6")
    assert memory_budget() == 10**6
    with pytest.raises(ValueError, match=r"n=9 .*SEGCOURSE_MAX_BYTES"):
        check_bytes(2e6, name="n", value=9, what="x")
    monkeypatch.setenv("SEGCOURSE_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="SEGCOURSE_MAX_BYTES"):
        memory_budget()


# --------------------------------------------------------------------------- no silent nonsense


@pytest.mark.parametrize("value", [0.0, 0.1, 0.3, 0.7, 1.0, 1 / 3])
def test_nss_and_cc_refuse_constant_maps(value):
    from course_utils.saliency.metrics import cc, nss

    sal = np.full((37, 41), value)
    fix = np.zeros((37, 41), bool)
    fix[3, 4] = fix[20, 30] = True
    with pytest.raises(ValueError, match="constant"):
        nss(sal, fix)
    with pytest.raises(ValueError, match="constant"):
        cc(sal, np.random.default_rng(0).random((37, 41)))
    with pytest.raises(ValueError, match="constant"):
        cc(np.random.default_rng(0).random((37, 41)), np.full((37, 41), value + 0.2))


def _crf_inputs(h=12, w=16):
    image = np.zeros((h, w, 3), np.uint8)
    image[:, w // 2:] = 200
    probs = torch.full((2, h, w), 0.5)
    probs[0, :, : w // 2] = 0.7
    probs[1, :, : w // 2] = 0.3
    return image, probs


def test_crf_refuses_overflowing_weights_and_nan_unaries():
    from course_utils.crf import CRFParams, DenseCRF, dense_crf, unary_from_probs

    image, probs = _crf_inputs()
    for w in (1e308, float(np.finfo(np.float32).max)):
        with pytest.raises(ValueError, match="w1.*too large"):
            dense_crf(image, probs, params=CRFParams(w1=w))
    unary = unary_from_probs(probs)
    unary[0, 3, 4] = float("nan")
    with pytest.raises(ValueError, match="unary contains NaN"):
        DenseCRF(image).inference(unary)
    unary[0, 3, 4] = float("inf")
    with pytest.raises(ValueError, match="unary contains NaN or infinite"):
        DenseCRF(image).inference(unary)
    big = dense_crf(image, probs, params=CRFParams(w1=1e29, w2=1e29))  # the largest allowed: finite
    assert bool(torch.isfinite(big.probs).all())


def test_crf_refuses_negative_iterations():
    from course_utils.crf import DenseCRF, dense_crf, unary_from_probs

    image, probs = _crf_inputs()
    with pytest.raises(ValueError, match="iterations"):
        DenseCRF(image).inference(unary_from_probs(probs), iterations=-3)
    with pytest.raises(ValueError, match="iterations"):
        dense_crf(image, probs, iterations=-1)


def test_crf_positive_unaries_do_not_overflow_the_fast_softmax():
    from course_utils.crf import DenseCRF

    image, _ = _crf_inputs()
    unary = torch.zeros(2, 12, 16)
    unary[0] = -200.0  # negative energies: probabilities far above the clip
    result = DenseCRF(image).inference(unary, iterations=2)
    assert bool(torch.isfinite(result.probs).all()) and bool((result.labels == 0).all())


def test_segmentation_transform_float_image_not_divided_again():
    from course_utils.data.voc import SegmentationTransform

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    labels = rng.integers(0, 21, (20, 30)).astype(np.uint8)
    as_uint8, y8 = SegmentationTransform(None)(image, labels)
    as_float, yf = SegmentationTransform(None)(image.astype(np.float32) / 255, labels)
    assert torch.allclose(as_uint8, as_float, atol=1e-5) and torch.equal(y8, yf)
    with pytest.raises(ValueError, match=r"image is float.*\[0, 1\]"):
        SegmentationTransform(None)(image.astype(np.float32), labels)  # 0-255 floats


def test_segmentation_transform_refuses_size_mismatch_and_non_voc_labels():
    from course_utils.data.voc import SegmentationTransform

    image = np.zeros((20, 30, 3), np.uint8)
    with pytest.raises(ValueError, match="same size"):
        SegmentationTransform(32)(image, np.zeros((10, 30), np.uint8))
    labels = np.zeros((20, 30), np.uint8)
    labels[2, 3] = 50
    with pytest.raises(ValueError, match="value 50"):
        SegmentationTransform(32)(image, labels)


def test_voc_dataset_refuses_label_value_50(tmp_path):
    from PIL import Image

    from course_utils.data.voc import VOCSegmentationDataset, write_synthetic_voc

    root = write_synthetic_voc(tmp_path / "voc", n_train=2, n_val=1, size=(32, 40), seed=1)
    ds = VOCSegmentationDataset(root, "train")
    image, labels = ds[0]
    assert labels.max() <= 20 or labels.max() == 255
    with Image.open(ds.label_path(0)) as im:
        palette = im.getpalette()
    bad = labels.copy()
    bad[0, 0] = 50
    png = Image.fromarray(bad, mode="P")
    png.putpalette(palette)
    png.save(ds.label_path(0))
    with pytest.raises(ValueError, match=r"values \[50\].*not VOC classes"):
        ds[0]
    ds.label_path(1).write_bytes(ds.label_path(1).read_bytes()[:50])  # truncated
    with pytest.raises(ValueError, match=ds.label_path(1).name):
        ds[1]


def test_strokes_outside_the_image_are_refused():
    from course_utils.graphcut.strokes import stroke_mask

    with pytest.raises(ValueError, match=r"inside the 40x30 .*\(45, 10\)"):
        stroke_mask((30, 40), [(10, 10), (45, 10)])
    with pytest.raises(ValueError, match="inside"):
        stroke_mask((30, 40), [(-5, -5)])
    with pytest.raises(ValueError, match="finite"):
        stroke_mask((30, 40), [(float("nan"), 3)])
    assert stroke_mask((30, 40), [(0, 0), (39, 29)]).any()


def test_grabcut_correct_refuses_another_image():
    from course_utils.graphcut.grabcut import grabcut, grabcut_correct

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    a[6:18, 6:18] = (220, 40, 40)
    b = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    first = grabcut(a, (4, 4, 16, 16), iterations=1, n_components=2)
    fg = np.zeros((24, 24), bool)
    fg[12, 12] = True
    with pytest.raises(ValueError, match="not the image previous was computed on"):
        grabcut_correct(b, first, fg_strokes=fg)
    again = grabcut_correct(a.astype(np.float64) / 255, first, fg_strokes=fg)  # the same picture as float
    assert again.mask[12, 12]


def test_bilinear_deconv_weight_refuses_integer_dtypes():
    from course_utils.ops.bilinear import bilinear_deconv_weight

    for dtype in (torch.int64, torch.uint8, torch.bool):
        with pytest.raises(TypeError, match="dtype"):
            bilinear_deconv_weight(3, 4, dtype=dtype)
    assert bilinear_deconv_weight(3, 4, dtype=torch.float64).dtype == torch.float64


def test_library_device_argument_without_cuda():
    from course_utils.env import DeviceError, get_device

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(DeviceError, match=r"device='cuda' but CUDA is not available"):
        get_device("cuda", name="device")


# --------------------------------------------------------------------------- threads


def test_cpu_threads_follows_the_environment_and_the_idle_cores(monkeypatch):
    import course_utils.env as env

    monkeypatch.setenv("SEGCOURSE_THREADS", "3")
    assert env.cpu_threads() == 3 and env.cpu_threads(limit=2) == 2
    monkeypatch.setenv("SEGCOURSE_THREADS", "zero")
    with pytest.raises(ValueError, match="SEGCOURSE_THREADS"):
        env.cpu_threads()
    monkeypatch.delenv("SEGCOURSE_THREADS")
    monkeypatch.setattr(env, "cpu_cores", lambda: 2)
    monkeypatch.setattr(env, "_other_runnable", lambda: 1)  # another process is busy on one of two cores
    assert env.cpu_threads() == 1
    monkeypatch.setattr(env, "_other_runnable", lambda: 0)
    assert env.cpu_threads() == 2
    monkeypatch.setattr(env, "_other_runnable", lambda: 7)
    assert env.cpu_threads() == 1


def test_busy_own_threads_are_not_counted_as_other_processes():
    import threading

    import course_utils.env as env

    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    before = env._other_runnable()
    workers = [threading.Thread(target=spin, daemon=True) for _ in range(3)]
    for t in workers:
        t.start()
    try:
        assert env._other_runnable() <= before + 2  # our 3 spinning threads are not "other processes"
    finally:
        stop.set()
        for t in workers:
            t.join()


def test_dense_crf_restores_the_thread_count():
    from course_utils.crf import dense_crf

    image, probs = _crf_inputs()
    torch.set_num_threads(2)
    dense_crf(image, probs, threads=1)
    assert torch.get_num_threads() == 2
    with pytest.raises(ValueError, match="threads"):
        dense_crf(image, probs, threads=0)
