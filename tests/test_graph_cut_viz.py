"""Lessons 2-3 figures and widgets: pure draw functions called directly, builders smoke-tested."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.data.grabcut_synth import make_grabcut_image
from course_utils.graphcut.grabcut import grabcut
from course_utils.graphcut.graph_cut import add_hard_constraints, graph_cut, lecture_example_3x3, smoothness_weights
from course_utils.viz import graphcut as gviz


@pytest.fixture(scope="module")
def example():
    ex = lecture_example_3x3()
    sm = smoothness_weights(ex.image, lam=2.0)
    unary = add_hard_constraints(ex.unary, sm, ex.fg_seeds, ex.bg_seeds)
    return ex, sm, unary, graph_cut(unary, sm).mask


def test_st_graph_draws_every_edge_and_dashes_the_cut(example):
    ex, sm, unary, mask = example
    fig = gviz.draw_st_graph(ex.image, unary, sm, mask, title="cut")
    ax = fig.axes[0]
    n_links = 2 * 3 * 2 + 2 * 2 * 2  # 12 horizontal/vertical + 8 diagonal pairs in a 3x3 grid
    t_links = int(np.count_nonzero(unary[..., 0] != unary[..., 1]))
    lines = ax.get_lines()
    assert len(lines) == n_links + t_links
    dashed = [line for line in lines if line.get_linestyle() == "--"]
    differ = sum(int((mask[i, j] != mask[i + dy, j + dx]) and w[i, j] > 0)
                 for (dy, dx), w in zip(sm.offsets, sm.weights)
                 for i in range(3) for j in range(3) if 0 <= i + dy < 3 and 0 <= j + dx < 3)
    # a pixel's (reparametrised) t-link goes to the label its colour prefers; it is cut when the pixel
    # ends with the other label (here only the centre: its colour prefers B, the cut makes it F)
    t_cut = int(np.sum((unary[..., 0] > unary[..., 1]) & ~mask) + np.sum((unary[..., 1] > unary[..., 0]) & mask))
    assert t_cut == 1 and len(dashed) == differ + t_cut
    labels = sorted(t.get_text() for t in ax.texts if t.get_text() in ("F", "B"))
    assert labels.count("F") == 1 + int(mask.sum()) and labels.count("B") == 1 + int((~mask).sum())
    uncut = gviz.draw_st_graph(ex.image, unary, sm)
    assert not [line for line in uncut.axes[0].get_lines() if line.get_linestyle() == "--"]
    with pytest.raises(ValueError, match="tiny"):
        gviz.draw_st_graph(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 2)), smoothness_weights(np.zeros((8, 8, 3), np.uint8)))
    with pytest.raises(ValueError, match="must match"):
        gviz.draw_st_graph(ex.image, unary[:2], sm)


def test_seed_overlay_paints_seeds_and_tints_the_mask():
    image = np.full((4, 5, 3), 100, np.uint8)
    fg = np.zeros((4, 5), bool)
    bg = np.zeros((4, 5), bool)
    mask = np.zeros((4, 5), bool)
    fg[0, 0] = bg[3, 4] = True
    mask[:2] = True
    out = gviz.seed_overlay(image, fg, bg, mask)
    assert out.shape == (4, 5, 3) and out.dtype == np.float32
    assert np.allclose(out[0, 0], np.array(gviz.FG_COLOUR) / 255) and np.allclose(out[3, 4], np.array(gviz.BG_COLOUR) / 255)
    assert out[1, 1, 0] > out[1, 1, 2]  # tinted red
    assert np.all(out[2, 1] < 100 / 255)  # background darkened
    with pytest.raises(ValueError, match="mask has shape"):
        gviz.seed_overlay(image, mask=np.zeros((5, 4), bool))


def test_lambda_and_grabcut_figures():
    item = make_grabcut_image(1, size=(48, 64))
    fg = np.zeros(item.mask.shape, bool)
    bg = np.zeros(item.mask.shape, bool)
    ys, xs = np.nonzero(item.mask)
    fg[ys[len(ys) // 2], xs[len(xs) // 2]] = True
    bg[0] = True
    fig = gviz.draw_lambda_cut(item.image, fg, bg, 5.0)
    assert len(fig.axes) == 2 and "lambda = 5" in fig.axes[1].get_title()
    result = grabcut(item.image, item.rect, iterations=3)
    fig = gviz.draw_grabcut_iterations(item.image, result, item.rect)
    assert len(fig.axes) == 4
    assert np.allclose(fig.axes[-1].get_lines()[0].get_ydata(), result.energies)
    fig = gviz.draw_grabcut(item.image, *item.rect, iterations=2, n_components=3)
    assert len(fig.axes) == 3 and "K = 3" in fig.axes[1].get_title()
    fig = gviz.draw_mask_comparison(item.image, [item.mask, result.mask], ["truth", "ours"])
    assert [ax.get_title() for ax in fig.axes[:2]] == ["truth", "ours"]
    with pytest.raises(ValueError, match="titles"):
        gviz.draw_mask_comparison(item.image, [item.mask], ["a", "b"])


def test_widget_builders_wire_the_controls():
    item = make_grabcut_image(2, size=(40, 40))
    fg = np.zeros(item.mask.shape, bool)
    bg = np.zeros(item.mask.shape, bool)
    fg[20, 20] = True
    bg[0] = True
    box = gviz.lambda_slider(item.image, fg, bg, lam=3.0)
    assert box.children[0].description == "lambda" and box.children[0].value == pytest.approx(3.0)
    explorer = gviz.grabcut_explorer(item.image, item.rect, iterations=2, n_components=2)
    names = [c.description for c in explorer.children[:-1]]
    assert names == ["x", "y", "width", "height", "iterations", "K"]
    explorer.children[2].value = 40  # a width reaching past the image is clipped, not an error
    explorer.children[0].value = 0
    explorer.children[3].value = 40
    explorer.children[1].value = 0
