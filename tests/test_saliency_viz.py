"""Lesson 1 figures, the widget's draw function, and a tiny run of the saliency benchmark rows."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.viz import saliency as V


def _scene():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    mask = np.zeros((24, 32), bool)
    mask[6:14, 10:22] = True
    sal = np.clip(0.7 * mask + 0.3 * rng.random((24, 32)), 0, 1)
    return image, mask, sal


def _texts(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_show_saliency_maps_panels_and_checks():
    image, mask, sal = _scene()
    fig = V.show_saliency_maps(image, {"a": sal, "b": 1 - sal}, mask)
    assert _texts(fig) == ["image", "ground truth", "a", "b"]
    assert len(V.show_saliency_maps(image, {"a": sal}).axes) == 2
    with pytest.raises(ValueError, match="empty"):
        V.show_saliency_maps(image, {})
    with pytest.raises(ValueError, match="shape"):
        V.show_saliency_maps(image, {"a": sal[:-1]})
    with pytest.raises(ValueError, match="grey"):
        V.show_saliency_maps(image[..., 0], {"a": sal})


def test_threshold_view_reports_precision_recall_and_f():
    from course_utils.saliency.metrics import f_measure

    image, mask, sal = _scene()
    fig = V.draw_saliency_threshold(image, sal, 0.6, mask=mask, method="toy")
    title = _texts(fig)[2]
    assert title.startswith("S >= 0.60") and f"F={f_measure(sal, mask, 0.6):.2f}" in title
    assert _texts(fig)[1] == "toy map"
    adaptive = V.draw_saliency_threshold(image, sal)
    assert f"S >= {min(2 * sal.mean(), 1):.2f}" == _texts(adaptive)[2]
    with pytest.raises(ValueError, match="threshold"):
        V.draw_saliency_threshold(image, sal, 1.5)
    with pytest.raises(ValueError, match="shape"):
        V.draw_saliency_threshold(image, sal[:, :-1])


def test_fixation_and_pr_figures():
    image, mask, sal = _scene()
    points = np.array([[3, 4], [10, 12]])
    fig = V.show_fixations(image, points, sal, sal)
    assert _texts(fig) == ["2 fixations", "fixation density", "predicted saliency"]
    fig = V.plot_pr_curves({"m": (np.linspace(1, 0.5, 5), np.linspace(0, 1, 5))})
    assert fig.axes[0].get_xlabel() == "recall" and len(fig.axes[0].lines) == 1
    with pytest.raises(ValueError, match="differ"):
        V.plot_pr_curves({"m": (np.ones(3), np.ones(4))})


def test_widget_builds_and_redraws():
    pytest.importorskip("ipywidgets")
    image, mask, sal = _scene()
    calls = []

    def method(img):
        calls.append(1)
        return sal

    box = V.saliency_widget({"toy": image}, {"m": method}, masks={"toy": mask})
    photo, chosen, threshold, output = box.children
    assert threshold.value == 0.5 and chosen.value == "m"
    threshold.value = 0.3  # redraw from the cache: the method runs once
    assert len(calls) == 1
    with pytest.raises(ValueError, match="at least one"):
        V.saliency_widget({}, {"m": method})


def test_benchmark_rows_run_tiny():
    from benchmarks.bench_saliency import BENCHMARKS

    rows = {b.name: b.run(True) for b in BENCHMARKS}
    assert rows["spectral_residual"].agreement > 0.9 and rows["spectral_residual"].ratio > 0
    assert rows["spectral_residual_photos"].agreement > 0.9
    assert rows["auc_judd"].agreement > 0.9
