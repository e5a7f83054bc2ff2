"""Lessons 2-3 rows: our GrabCut against cv2.grabCut, and the vectorised graph build against a per-pixel loop."""

from __future__ import annotations

import numpy as np

from benchmarks.core import Benchmark, Row, compare, median_time

ITERATIONS = 5


def _interleaved(name: str, ours, reference, reference_name: str, agreement, *, repeats: int, note: str) -> Row:
    """Like :func:`benchmarks.core.compare`, but alternating ours and the reference run by run.

    On shared, busy cores the load drifts; alternating exposes both to the same load, and the
    reported ratio is the median of the per-pair ratios.
    """
    import statistics
    import time

    ours_out, ref_out = ours(), reference()  # warm-up (imports, caches)
    ours_times, ref_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours_out = ours()
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ref_out = reference()
        ref_times.append(time.perf_counter() - start)
    ratio = statistics.median(a / b for a, b in zip(ours_times, ref_times))
    return Row(name, statistics.median(ours_times), reference_name, statistics.median(ref_times), ratio,
               agreement(ours_out, ref_out), "cpu", note)


def _photo_row(name: str, tiny: bool) -> Row:
    from course_utils.data.samples import sample_image
    from course_utils.graphcut.grabcut import PHOTO_RECTS, grabcut, mask_iou, opencv_grabcut, rect_from_fractions
    from course_utils.images import resize_image

    side = 96 if tiny else 512
    image = resize_image(sample_image(name), (side, side))
    rect = rect_from_fractions(image.shape[:2], PHOTO_RECTS[name])
    return _interleaved(f"grabcut_{name}", lambda: grabcut(image, rect, iterations=ITERATIONS).mask,
                        lambda: opencv_grabcut(image, rect), "cv2.grabCut", mask_iou, repeats=1 if tiny else 5,
                        note=f"{side}x{side}, rect {rect}, {ITERATIONS} iterations, alternating runs; "
                             "agreement = IoU with cv2")


def _synthetic_row(tiny: bool) -> Row:
    from course_utils.data.grabcut_synth import make_benchmark
    from course_utils.graphcut.grabcut import grabcut, mask_iou, opencv_grabcut

    count, side = (2, 64) if tiny else (8, 512)
    items = make_benchmark(count, size=(side, side))

    def ours():
        return [grabcut(item.image, item.rect, iterations=ITERATIONS).mask for item in items]

    def reference():
        return [opencv_grabcut(item.image, item.rect) for item in items]

    row = _interleaved("grabcut_synthetic", ours, reference, "cv2.grabCut",
                       lambda a, b: float(np.mean([mask_iou(x, y) for x, y in zip(a, b)])), repeats=1, note="")
    ours_gt = np.mean([mask_iou(m, item.mask) for m, item in zip(ours(), items)])
    ref_gt = np.mean([mask_iou(m, item.mask) for m, item in zip(reference(), items)])
    row.note = (f"{count} images {side}x{side}, {ITERATIONS} iterations; mean IoU with the ground truth: "
                f"ours {ours_gt:.4f}, cv2 {ref_gt:.4f}; agreement = mean IoU with cv2")
    return row


def _naive_n_links(smoothness):
    """The n-links of the s-t graph added edge by edge in a Python loop (what the grid API replaces)."""
    import maxflow

    h, w = smoothness.shape
    graph = maxflow.Graph[float]()
    graph.add_nodes(h * w)
    for (dy, dx), weight in zip(smoothness.offsets, smoothness.weights):
        for i in range(max(0, -dy), h - max(0, dy)):
            for j in range(max(0, -dx), w - max(0, dx)):
                c = float(weight[i, j])
                graph.add_edge(i * w + j, (i + dy) * w + j + dx, c, c)
    return graph


def _naive_graph_cut(unary: np.ndarray, smoothness) -> np.ndarray:
    """The whole cut with a per-pixel build (t-links in a loop too)."""
    h, w = smoothness.shape
    graph = _naive_n_links(smoothness)
    low = unary.min(axis=2)
    for n, (cost_b, cost_f) in enumerate((unary - low[..., None]).reshape(-1, 2)):
        graph.add_tedge(n, float(cost_b), float(cost_f))
    graph.maxflow()
    return np.array([graph.get_segment(n) == 0 for n in range(h * w)]).reshape(h, w)


def _graph_build_row(tiny: bool) -> Row:
    from course_utils.data.samples import sample_image
    from course_utils.graphcut.grabcut import grabcut, grabcut_unary
    from course_utils.graphcut.graph_cut import GridGraph, add_hard_constraints, graph_cut, image_as_colours
    from course_utils.images import resize_image

    side = 64 if tiny else 512
    image = resize_image(sample_image("astronaut"), (side, side))
    first = grabcut(image, (side // 5, side // 20, 3 * side // 5, 9 * side // 10), iterations=1)
    unary = add_hard_constraints(grabcut_unary(image_as_colours(image), first.fg_model, first.bg_model),
                                 first.smoothness, None, first.trimap == 0)
    row = compare("graph_cut_build", lambda: graph_cut(unary, first.smoothness).mask,
                  lambda: _naive_graph_cut(unary, first.smoothness), "PyMaxflow add_edge loop",
                  lambda a, b: float(np.mean(a == b)), repeats=1 if tiny else 3)
    repeats = 1 if tiny else 3
    ours_build, _ = median_time(lambda: GridGraph(first.smoothness), repeats=repeats)
    loop_build, _ = median_time(lambda: _naive_n_links(first.smoothness), repeats=repeats)
    row.note = (f"{side}x{side}, 8-neighbourhood, graph build + max-flow; n-link build alone: grid API "
                f"{ours_build:.3f} s, loop {loop_build:.3f} s; agreement = fraction of equal labels")
    return row


BENCHMARKS = [
    Benchmark("grabcut_astronaut", lambda tiny: _photo_row("astronaut", tiny)),
    Benchmark("grabcut_coffee", lambda tiny: _photo_row("coffee", tiny)),
    Benchmark("grabcut_synthetic", _synthetic_row),
    Benchmark("graph_cut_build", _graph_build_row),
]
