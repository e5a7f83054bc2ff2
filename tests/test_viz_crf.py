"""CRF figures: the pure draw functions of course_utils.viz.crf."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.crf import CRFParams, coarse_probs, dense_crf, photo_labels
from course_utils.data.samples import sample_image
from course_utils.evaluate.boundary import trimap_scores
from course_utils.images import resize_image
from course_utils.palettes import voc_palette
from course_utils.viz.crf import draw_crf_refinement, plot_mean_field_iterations, plot_trimap


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def case():
    image = resize_image(sample_image("coffee"), (48, 72))
    labels = photo_labels(image, 4, segments=12, rng=0)
    return image, labels, coarse_probs(labels, 4, rng=0)[0]


def test_iterations_figure_shows_one_class_before_and_after_softmax(case):
    image, _, probs = case
    result = dense_crf(image, probs, params=CRFParams(w1=4, sigma_alpha=10, sigma_beta=8), iterations=4,
                       history=True, history_classes=[2])
    fig = plot_mean_field_iterations(result, 2, class_name="cup", image=image)
    images = [ax.images for ax in fig.axes if ax.images]
    assert len(images) == 1 + 2 * 5  # the photo, then 5 iterations x (scores, probabilities)
    shown = fig.axes[6 + 1 + 4].images[0].get_array()  # bottom row (6 panels a row), last iteration
    assert np.allclose(np.asarray(shown), result.probs_history[4, 0].numpy(), atol=1e-6)
    assert "cup" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="class_index"):
        plot_mean_field_iterations(result, 1)
    with pytest.raises(ValueError, match="history"):
        plot_mean_field_iterations(dense_crf(image, probs, iterations=1), 0)
    with pytest.raises(ValueError, match="iterations"):
        plot_mean_field_iterations(result, 2, iterations=[7])


def test_trimap_plot_has_one_curve_per_method(case):
    image, labels, probs = case
    coarse = probs.argmax(0).numpy()
    refined = dense_crf(image, probs, params=CRFParams(w1=4, sigma_alpha=10, sigma_beta=8), iterations=3).labels
    curves = {"DCNN": trimap_scores(labels, coarse, 4, widths=(1, 2, 4)),
              "DCNN + CRF": trimap_scores(labels, refined.numpy(), 4, widths=(1, 2, 4))}
    fig = plot_trimap(curves, metric="mean_iu")
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["DCNN", "DCNN + CRF"]
    assert np.allclose(lines[1].get_ydata(), 100 * curves["DCNN + CRF"]["mean_iu"])
    with pytest.raises(ValueError, match="metric"):
        plot_trimap(curves, metric="f1")
    with pytest.raises(ValueError, match="curves"):
        plot_trimap({})


def test_refinement_panel_runs_the_crf_with_the_slider_values(case):
    image, labels, probs = case
    fig = draw_crf_refinement(image, probs, voc_palette(), w1=4, w2=3, sigma_alpha=10, sigma_beta=8,
                              sigma_gamma=1, iterations=3, labels_true=labels)
    assert len(fig.axes) == 4
    title = fig.axes[2].get_title()
    want = dense_crf(image, probs, params=CRFParams(w1=4, sigma_alpha=10, sigma_beta=8, w2=3, sigma_gamma=1),
                     iterations=3).labels.numpy()
    assert f"{100 * (want == labels).mean():.1f}%" in title
    with pytest.raises(ValueError, match="sigma_alpha"):
        draw_crf_refinement(image, probs, voc_palette(), w1=4, w2=3, sigma_alpha=-1, sigma_beta=8,
                            sigma_gamma=1, iterations=3)


def test_slider_builder_wires_six_controls(case):
    pytest.importorskip("ipywidgets")
    from course_utils.viz.crf import crf_sliders

    image, labels, probs = case
    box = crf_sliders(image, probs, voc_palette(), labels_true=labels, iterations=2)
    names = [c.description for c in box.children[:-1]]
    assert names == ["w1", "sigma_alpha", "sigma_beta", "w2", "sigma_gamma", "iterations"]


def test_class_overlay_colours_only_the_chosen_classes(case):
    from course_utils.viz.crf import class_overlay_toggle, draw_class_overlay

    image, labels, probs = case
    names = ["a", "b", "c", "d"]
    fig = draw_class_overlay(image, {"truth": labels, "coarse": probs.argmax(0)}, voc_palette(), names,
                             classes=[1], alpha=1.0)
    shown = np.asarray(fig.axes[0].images[0].get_array())
    palette = voc_palette()
    assert np.allclose(shown[labels == 1], palette[1] / 255.0)
    assert np.allclose(shown[labels != 1], image[labels != 1] / 255.0, atol=1e-6)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["1 b"]
    with pytest.raises(ValueError, match="classes"):
        draw_class_overlay(image, {"truth": labels}, palette, names, classes=[7])
    pytest.importorskip("ipywidgets")
    box = class_overlay_toggle(image, {"truth": labels}, palette, names)
    assert [c.description for c in box.children[:-1]] == ["classes", "opacity"]
