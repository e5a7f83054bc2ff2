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
    from course_utils.metrics import confusion_matrix

    y = np.zeros((4, 4), np.int64)
    with pytest.raises(ValueError, match=r"num_classes=1000000 would allocate about .*TiB"):
        _fast(confusion_matrix, y, y, num_classes=10**6)
    assert confusion_matrix(y, y, num_classes=3)[0, 0] == 16


def test_conv_matrix_size_bounded_by_bytes():
    from course_utils.transposed_conv import conv_matrix

    with pytest.raises(ValueError, match=r"input_size=\(1000, 1000\) would allocate about .*TiB"):
        _fast(conv_matrix, torch.ones(3, 3), (1000, 1000))
    assert conv_matrix(torch.ones(3, 3), (4, 4)).shape == (4, 16)


@pytest.mark.parametrize("build", ["largefov", "aspp", "fcn", "saliency"])
def test_network_widths_bounded_by_bytes(build):
    from course_utils.nets.deeplab import deeplab_resnet101_aspp, deeplab_vgg16_largefov
    from course_utils.nets.fcn import fcn_vgg16
    from course_utils.saliency.net import saliency_vgg

    fn = {"largefov": lambda: deeplab_vgg16_largefov(21, width=100.0),
          "aspp": lambda: deeplab_resnet101_aspp(19, width=1e4),
          "fcn": lambda: fcn_vgg16("32s", 21, width=1e9),
          "saliency": lambda: saliency_vgg(64 * 1000)}[build]
    with pytest.raises(ValueError, match="width"):
        _fast(fn)


def test_budget_follows_the_environment(monkeypatch):
    from course_utils.limits import check_bytes, memory_budget

    monkeypatch.setenv("SEGCOURSE_MAX_BYTES", "1e6")
    assert memory_budget() == 10**6
    with pytest.raises(ValueError, match=r"n=9 .*SEGCOURSE_MAX_BYTES"):
        check_bytes(2e6, name="n", value=9, what="x")
    monkeypatch.setenv("SEGCOURSE_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="SEGCOURSE_MAX_BYTES"):
        memory_budget()
