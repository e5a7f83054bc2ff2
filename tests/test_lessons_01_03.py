"""The library behind lessons 1-3's new pictures: Edmonds-Karp steps, the paper's GrabCut iteration,
hard GrabCut images with simulated strokes, and the top-down class prior."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from course_utils.graphcut import add_hard_constraints, grid_capacity_matrix, lecture_example_3x3, smoothness_weights
from course_utils.graphcut.augmenting_paths import edmonds_karp_steps
from course_utils.graphcut.flow_network import cut_capacity, pymaxflow_max_flow, random_capacity_matrix


# ------------------------------------------------------------------ Edmonds-Karp steps
def _lecture_capacity():
    ex = lecture_example_3x3()
    sm = smoothness_weights(ex.image, lam=2.0, connectivity=8)
    return ex, grid_capacity_matrix(add_hard_constraints(ex.unary, sm, ex.fg_seeds, ex.bg_seeds), sm)


@pytest.mark.parametrize("seed", range(6))
def test_edmonds_karp_steps_match_pymaxflow_on_random_networks(seed):
    n = 5 + seed
    capacity = random_capacity_matrix(n, density=0.45, rng=seed)
    given = capacity.copy()
    run = edmonds_karp_steps(capacity, 0, n - 1)
    flow, _ = pymaxflow_max_flow(capacity, 0, n - 1)
    assert np.array_equal(capacity, given)  # not modified
    assert run.flow == pytest.approx(flow, rel=1e-9, abs=1e-9)
    assert cut_capacity(capacity, run.source_side) == pytest.approx(flow, rel=1e-9, abs=1e-9)
    assert run.source_side[0] and not run.source_side[-1]
    lengths = [len(s.path) - 1 for s in run.steps]
    assert lengths == sorted(lengths)  # shortest augmenting paths never get shorter (Edmonds-Karp)
    pushed = np.cumsum([s.bottleneck for s in run.steps])
    assert np.allclose(pushed, [s.flow for s in run.steps])
    for step in run.steps:
        assert step.path[0] == 0 and step.path[-1] == n - 1 and step.bottleneck > 0
        assert step.residual.min() >= -1e-9
        # capacity - residual is the net flow u -> v: antisymmetric, and conserved at every inner node
        net = capacity - step.residual
        assert np.allclose(net, -net.T, atol=1e-9)
        assert np.allclose(net.sum(axis=1)[1:-1], 0, atol=1e-9)
        assert net[0].sum() == pytest.approx(step.flow)


def test_edmonds_karp_on_the_lecture_graph_gives_the_lecture_cut():
    ex, capacity = _lecture_capacity()
    run = edmonds_karp_steps(capacity, 9, 10)
    assert np.array_equal(run.source_side[:9].reshape(3, 3), ex.expected)
    assert len(run.steps) >= 3


def test_draw_augmenting_steps_draws_one_panel_per_step_and_the_cut():
    from course_utils.viz.graphcut import draw_augmenting_steps

    ex, capacity = _lecture_capacity()
    run = edmonds_karp_steps(capacity, 9, 10)
    fig = draw_augmenting_steps(ex.image, capacity, run, steps=[0, 1, 2], ncols=2)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == 4 and "minimum cut" in titled[-1].get_title()
    with pytest.raises(ValueError, match="steps"):
        draw_augmenting_steps(ex.image, capacity, run, steps=[len(run.steps)])


# ------------------------------------------------------------------ the paper's GrabCut iteration
def _photo_case(name="coffee", side=80):
    from course_utils.data.samples import sample_image
    from course_utils.graphcut.grabcut import PHOTO_RECTS, rect_from_fractions, rect_trimap
    from course_utils.graphcut.graph_cut import image_as_colours
    from course_utils.images import resize_longest_side

    image = resize_longest_side(sample_image(name), side)
    trimap = rect_trimap(image.shape[:2], rect_from_fractions(image.shape[:2], PHOTO_RECTS[name]))
    return image, image_as_colours(image), trimap, smoothness_weights(image, lam=50.0, connectivity=8)


def test_refit_gmm_is_the_weighted_mean_and_covariance_of_each_component():
    from course_utils.graphcut.grabcut_hard import REG_COVAR, refit_gmm

    rng = np.random.default_rng(0)
    z = rng.uniform(0, 255, (60, 3))
    k = np.repeat([0, 1, 3], 20)  # component 2 is empty
    gmm = refit_gmm(z, k, 4)
    assert np.allclose(gmm.weights, [1 / 3, 1 / 3, 0, 1 / 3])
    assert np.allclose(gmm.means[1], z[20:40].mean(0))
    assert np.allclose(gmm.covariances[3], np.cov(z[40:].T, bias=True) + REG_COVAR * np.eye(3))
    with pytest.raises(ValueError, match="assignment"):
        refit_gmm(z, np.full(60, 4), 4)


def test_component_densities_match_scipy():
    from scipy.stats import multivariate_normal

    from course_utils.graphcut.grabcut_hard import ColourGMM, component_log_densities, gmm_data_term

    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 3, 3))
    gmm = ColourGMM(np.array([0.2, 0.5, 0.3]), rng.uniform(0, 255, (3, 3)), a @ a.transpose(0, 2, 1) * 50 + np.eye(3))
    z = rng.uniform(0, 255, (10, 3))
    expected = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(z)
                         for w, m, c in zip(gmm.weights, gmm.means, gmm.covariances)], axis=1)
    assert np.allclose(component_log_densities(z, gmm), expected)
    assert np.allclose(gmm_data_term(z, gmm), -np.logaddexp.reduce(expected, axis=1))


def test_hard_grabcut_energies_never_increase_and_agree_with_opencv():
    from course_utils.graphcut.grabcut import mask_iou, opencv_grabcut
    from course_utils.graphcut.grabcut_hard import hard_grabcut_loop, initial_gmms

    image, colours, trimap, sm = _photo_case("coffee", 96)
    fg, bg = initial_gmms(colours, trimap)
    mask, energies = hard_grabcut_loop(colours, trimap, sm, fg, bg, 4)
    assert all(b <= a + 1e-6 * abs(a) for a, b in zip(energies, energies[1:]))
    assert not mask[trimap == 0].any()  # outside the rectangle stays background
    rect = (int(np.flatnonzero((trimap == 3).any(0))[0]), int(np.flatnonzero((trimap == 3).any(1))[0]),
            int((trimap == 3).any(0).sum()), int((trimap == 3).any(1).sum()))
    assert mask_iou(mask, opencv_grabcut(image, rect, iterations=4)) > 0.97  # the same algorithm as OpenCV's


# ------------------------------------------------------------------ hard images and simulated strokes
def test_hard_cases_have_exact_masks_inside_their_rectangles():
    from course_utils.data.grabcut_hard import HARD_KINDS, hard_cases, make_hard_case

    cases = hard_cases(per_kind=1, size=64)
    assert [c.kind for c in cases] == list(HARD_KINDS)
    for case in cases:
        x, y, w, h = case.rect
        assert case.image.shape == (64, 64, 3) and case.image.dtype == np.uint8
        assert case.mask.any() and not case.mask[:y].any() and not case.mask[y + h:].any()
        assert not case.mask[:, :x].any() and not case.mask[:, x + w:].any()
    assert np.array_equal(make_hard_case("camouflage", 3).image, make_hard_case("camouflage", 3).image)
    with pytest.raises(ValueError, match="kind"):
        make_hard_case("easy")


def test_simulated_stroke_lies_in_the_largest_error_region_with_the_right_label():
    from course_utils.graphcut.corrections import largest_error_region, simulated_stroke

    truth = np.zeros((30, 30), bool)
    truth[5:25, 5:25] = True
    pred = truth.copy()
    pred[5:25, 5:8] = False  # a missed strip (60 px)
    pred[0:3, 0:5] = True  # a small false alarm (15 px)
    region, missed = largest_error_region(pred, truth)
    assert missed and region.sum() == 60
    fg, bg = simulated_stroke(pred, truth, width=3)
    assert fg.any() and not bg.any() and not (fg & ~region).any()
    assert fg.sum() >= 15  # a stroke along the strip, not a click
    fg, bg = simulated_stroke(truth, truth)
    assert not fg.any() and not bg.any()


def test_two_strokes_recover_what_the_rectangle_loses():
    from course_utils.data.grabcut_hard import make_hard_case
    from course_utils.graphcut.corrections import simulated_stroke
    from course_utils.graphcut.grabcut import grabcut, grabcut_correct, mask_iou

    case = make_hard_case("background colours inside", np.random.default_rng([0, 0, 0]), size=112)
    run = grabcut(case.image, case.rect, iterations=4)
    before = mask_iou(run.mask, case.mask)
    for _ in range(2):
        fg, bg = simulated_stroke(run.mask, case.mask, width=3)
        if not (fg.any() or bg.any()):
            break
        run = grabcut_correct(case.image, run, fg_strokes=fg, bg_strokes=bg, iterations=2)
    assert before < 0.9 and mask_iou(run.mask, case.mask) > before + 0.15


def test_draw_corrections_checks_its_inputs():
    from course_utils.data.grabcut_hard import hard_cases
    from course_utils.viz.graphcut import draw_corrections

    cases = hard_cases(per_kind=1, size=48)
    strokes = [([], c.mask) for c in cases]
    fig = draw_corrections(cases, np.ones((3, 1)), strokes)
    assert len(fig.axes) == 9
    with pytest.raises(ValueError, match="match"):
        draw_corrections(cases, np.ones((2, 1)), strokes)


# ------------------------------------------------------------------ top-down class prior
def test_class_prior_learns_the_class_colour_and_steers_the_map():
    from course_utils.saliency.top_down import class_prior_map, fit_class_prior, task_driven_map

    rng = np.random.default_rng(0)
    images, labels = [], []
    for _ in range(5):
        image = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
        label = np.zeros((16, 16), np.uint8)
        label[4:8, 4:8] = 7
        image[4:8, 4:8] = (30, 60, 220)  # the class's own colour
        label[0, 0] = 255
        images.append(image)
        labels.append(label)
    prior = fit_class_prior(images, labels, 7, bins=8, smoothing=1.0)
    pm = class_prior_map(images[0], prior)
    assert pm[4:8, 4:8].min() > 0.9 and np.median(pm[~(labels[0] == 7)]) < 0.2
    bottom_up = np.full((16, 16), 0.5)
    bottom_up[10:14, 10:14] = 1.0  # a distractor that stands out
    td = task_driven_map(bottom_up, pm, weight=0.5)
    assert td[4:8, 4:8].mean() > td[10:14, 10:14].mean()
    assert np.allclose(task_driven_map(bottom_up, pm, weight=0.0), bottom_up / bottom_up.max())
    with pytest.raises(ValueError, match="class_id"):
        fit_class_prior(images, labels, 3)
    with pytest.raises(ValueError, match="uint8"):
        class_prior_map(images[0].astype(float), prior)


# ------------------------------------------------------------------ lessons 1-3: numbering, no answer before its exercise
LESSONS_01_03 = ["01_saliency", "02_graph_cuts", "03_grabcut"]


def _solution_lines(source: str) -> list[str]:
    from course_utils.exercises.notebook import BEGIN, END

    body = source.split(BEGIN, 1)[1].split(END, 1)[0]
    lines = [line.split("#", 1)[0].strip() for line in body.splitlines()]
    return [line for line in lines if len(line) >= 25]  # the algorithm's lines, not `return x` or `costs = []`


@pytest.mark.parametrize("stem", LESSONS_01_03)
def test_exercise_headings_and_no_key_line_before_its_exercise(stem):
    import re

    from course_utils.exercises.notebook import find_exercise_cells
    from tests.notebook_utils import ROOT, read

    path = ROOT / "notebooks" / f"{stem}.ipynb"
    nb = read(path)
    cells = find_exercise_cells(nb, path)
    lesson = int(stem[:2])
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not re.search(r"Exercise 0\d", text), f"{stem}: use 'Exercise {lesson}.k (name)', not 'Exercise 0{lesson}...'"
    for k, cell in enumerate(cells, 1):
        heading = f"Exercise {lesson}.{k} ({cell.exercise_id.split('.', 1)[1]})"
        before = [c for c in nb.cells[:cell.cell_index] if c.cell_type == "markdown"]
        assert before and heading in before[-1].source, f"{stem}: the markdown before {cell.exercise_id} lacks {heading!r}"
        exercise_cells = {c.cell_index for c in cells}  # the student sees stubs there, not solutions
        earlier = "\n".join(c.source for i, c in enumerate(nb.cells[:cell.cell_index])
                             if c.cell_type == "code" and i not in exercise_cells)
        shown = [line for line in _solution_lines(cell.source) if line in earlier]
        assert not shown, f"{stem}: cells before {cell.exercise_id} already show its key lines {shown}"
