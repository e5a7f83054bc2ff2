"""Binary segmentation by an s-t graph cut (min-cut / max-flow, 最小割/最大流).

Every pixel is a node; two terminals stand for the labels: the source ``F``
(foreground, 前景) and the sink ``B`` (background, 背景).  The energy of a
labelling ``alpha`` (``mask``: True = foreground) is

.. math::

    E(\\alpha) = \\sum_p D_p(\\alpha_p)
               + \\sum_{(p, q)} w_{pq} \\, [\\alpha_p \\neq \\alpha_q],

    w_{pq} = \\lambda \\, \\frac{\\exp(-\\beta \\lVert I_p - I_q \\rVert^2)}{\\operatorname{dist}(p, q)},
    \\qquad \\beta = \\frac{1}{2 \\langle \\lVert I_p - I_q \\rVert^2 \\rangle},

with the data terms ``D`` on the t-links (pixel to terminal) and the
contrast-sensitive smoothness terms ``w`` on the n-links (pixel to
neighbour), as in Y. Boykov and M.-P. Jolly, "Interactive graph cuts for
optimal boundary & region segmentation of objects in N-D images", ICCV 2001,
and C. Rother, V. Kolmogorov and A. Blake, "GrabCut: interactive foreground
extraction using iterated graph cuts", SIGGRAPH 2004.  The minimum cut of the
graph is the labelling of minimum energy; PyMaxflow (Boykov-Kolmogorov's
max-flow) computes it.  The graph is built with PyMaxflow's grid API, one call
per neighbour direction, with no Python loop over pixels.

Conventions: ``unary`` is ``(H, W, 2)`` float, ``unary[..., 0]`` the cost of
labelling the pixel background and ``unary[..., 1]`` the cost of foreground
(so ``unary[i, j, mask[i, j]]`` is the pixel's data term).  Colour differences
are measured in 0-255 units (a float image in [0, 1] is scaled by 255), which
is what OpenCV's ``grabCut`` does; ``beta`` makes the weights independent of
that choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from course_utils._shared import check_array, check_bytes, check_choice, check_int, check_number
from course_utils.images import check_image, check_mask

__all__ = [
    "NEIGHBOUR_OFFSETS",
    "Smoothness",
    "GraphCutResult",
    "image_as_colours",
    "neighbour_offsets",
    "beta_from_image",
    "smoothness_weights",
    "colour_cells",
    "histogram_data_terms",
    "add_hard_constraints",
    "energy_terms",
    "labeling_energy",
    "GridGraph",
    "graph_cut",
    "segment_with_seeds",
    "brute_force_minimum",
    "ToyExample",
    "lecture_example_3x3",
]

#: The forward neighbour offsets ``(dy, dx)``: each undirected edge is stored once,
#: at the pixel it starts from.  4-connectivity uses the first two.
NEIGHBOUR_OFFSETS: tuple[tuple[int, int], ...] = ((0, 1), (1, 0), (1, 1), (1, -1))


def neighbour_offsets(connectivity: int) -> tuple[tuple[int, int], ...]:
    """The forward offsets ``(dy, dx)`` of a 4- or 8-neighbourhood (right, down[, down-right, down-left])."""
    connectivity = check_choice(check_int(connectivity, "connectivity"), "connectivity", (4, 8))
    return NEIGHBOUR_OFFSETS[: connectivity // 2]


#: The largest smoothness weight taken (lambda, GrabCut's gamma): far beyond any data cost (a
#: histogram or GMM cost is a few tens), and 8 such weights plus a hard constraint stay exact in float64.
MAX_SMOOTHNESS = 1e12


def check_smoothness_weight(value, name: str = "lam") -> float:
    """``value`` as a smoothness weight in ``[0, MAX_SMOOTHNESS]``, the error naming ``name``."""
    return check_number(value, name, 0.0, MAX_SMOOTHNESS)


@dataclass(frozen=True)
class Smoothness:
    """The n-link weights of a grid graph.

    Attributes
    ----------
    offsets : tuple of (dy, dx)
        One edge direction per entry (see :data:`NEIGHBOUR_OFFSETS`).
    weights : ndarray, shape (E, H, W), float64
        ``weights[e, i, j]`` is the weight of the edge between pixel ``(i, j)``
        and pixel ``(i + dy, j + dx)`` for ``(dy, dx) = offsets[e]``; 0 where
        that neighbour lies outside the image.
    """

    offsets: tuple[tuple[int, int], ...]
    weights: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.offsets, tuple) or self.offsets not in (NEIGHBOUR_OFFSETS[:2], NEIGHBOUR_OFFSETS):
            raise ValueError(f"offsets must be neighbour_offsets(4) or neighbour_offsets(8), got {self.offsets!r}")
        w = check_array(self.weights, "weights", ndim=3, kinds="iuf", finite=True)
        if not isinstance(self.weights, np.ndarray) or w.shape[0] != len(self.offsets):
            raise ValueError(f"weights must be an array of shape ({len(self.offsets)}, H, W), got "
                             f"{getattr(self.weights, 'shape', type(self.weights).__name__)}")
        if w.size and ((w < 0).any() or w.sum(axis=0).max() * 2 > 1e300):
            raise ValueError("weights must be finite and non-negative (a cut cannot have negative cost), "
                             "their sums too")

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the grid."""
        return (int(self.weights.shape[1]), int(self.weights.shape[2]))

    def scaled(self, factor: float) -> "Smoothness":
        """The same edges with every weight multiplied by ``factor`` (>= 0)."""
        factor = check_number(factor, "factor", 0.0)
        if self.weights.size and self.weights.max() * factor * 2 * len(self.offsets) > 1e300:
            raise ValueError(f"factor={factor!r} makes the weights overflow float64")
        return Smoothness(self.offsets, self.weights * factor)

    @cached_property
    def max_neighbour_sum(self) -> float:
        """The largest :meth:`neighbour_sums` value (0 for an empty grid); computed once."""
        return float(self.neighbour_sums().max(initial=0.0))

    def neighbour_sums(self) -> np.ndarray:
        """``(H, W)``: for every pixel, the sum of the weights of all its edges."""
        total = self.weights.sum(axis=0)
        h, w = self.shape
        for (dy, dx), weight in zip(self.offsets, self.weights):
            # each edge also touches the pixel at the other end
            total[_dst(dy, h), _dst(dx, w)] += weight[_src(dy, h), _src(dx, w)]
        return total


@dataclass(frozen=True)
class GraphCutResult:
    """The labelling of minimum energy and the numbers that certify it.

    Attributes
    ----------
    mask : ndarray, shape (H, W), bool
        True for the pixels on the source (foreground) side of the cut.
    energy : float
        :func:`labeling_energy` of ``mask``: the minimum over all labellings.
    flow : float
        The maximum flow plus the constant removed to keep the t-link
        capacities non-negative; equals ``energy`` (max-flow = min-cut).
    data_energy, smoothness_energy : float
        The two parts of ``energy``.
    """

    mask: np.ndarray
    energy: float
    flow: float
    data_energy: float
    smoothness_energy: float


def _src(d: int, n: int) -> slice:
    """Indices of the start pixels of edges with offset ``d`` along an axis of length ``n``."""
    return slice(0, n - d) if d >= 0 else slice(-d, n)


def _dst(d: int, n: int) -> slice:
    return slice(d, n) if d >= 0 else slice(0, n + d)


def image_as_colours(image: np.ndarray, name: str = "image") -> np.ndarray:
    """An RGB image as float64 colours in 0-255 units, shape ``(H, W, 3)``.

    Raises (via :func:`course_utils.images.check_image`) for grey ``(H, W)``
    arrays, RGBA, wrong dtypes and floats outside [0, 1].
    """
    check_image(image, name)
    colours = image.astype(np.float64)
    return colours if image.dtype == np.uint8 else colours * 255.0


def _squared_differences(colours: np.ndarray, offsets) -> list[np.ndarray]:
    """For each offset, ``||I_p - I_q||^2`` over the valid start pixels (a cropped array)."""
    h, w = colours.shape[:2]
    out = []
    for dy, dx in offsets:
        diff = colours[_src(dy, h), _src(dx, w)] - colours[_dst(dy, h), _dst(dx, w)]
        out.append(np.einsum("ijc,ijc->ij", diff, diff))
    return out


def beta_from_image(image: np.ndarray, *, connectivity: int = 8) -> float:
    """``beta = 1 / (2 <||I_p - I_q||^2>)``, the mean over all neighbour pairs of the image.

    As in Rother et al. (2004) and OpenCV's ``grabCut`` (which averages over
    the 8-neighbourhood).  Returns 0 for a constant image (all weights equal).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        uint8, or float in [0, 1] (measured in 0-255 units either way).
    connectivity : {4, 8}
    """
    colours = image_as_colours(image)
    sq = _squared_differences(colours, neighbour_offsets(connectivity))
    count = sum(s.size for s in sq)
    if count == 0:
        return 0.0
    mean = sum(float(s.sum()) for s in sq) / count
    return 0.0 if mean <= np.finfo(float).eps else 1.0 / (2.0 * mean)


def smoothness_weights(image: np.ndarray, *, lam: float = 50.0, connectivity: int = 8,
                       beta: float | None = None) -> Smoothness:
    """Contrast-sensitive n-link weights ``lam * exp(-beta ||I_p - I_q||^2) / dist(p, q)``.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        uint8, or float in [0, 1] (colours are compared in 0-255 units).
    lam : float
        The smoothness weight lambda (GrabCut's gamma; OpenCV uses 50).
    connectivity : {4, 8}
        Diagonal edges (8-neighbourhood) get ``1/sqrt(2)`` of the weight.
    beta : float, optional
        Defaults to :func:`beta_from_image` with the same connectivity.

    Returns
    -------
    Smoothness
        ``weights`` of shape ``(connectivity // 2, H, W)``, float64.
    """
    lam = check_smoothness_weight(lam, "lam")
    offsets = neighbour_offsets(connectivity)
    if beta is not None:
        beta = check_number(beta, "beta", 0.0)
    colours = image_as_colours(image)
    check_bytes(8.0 * len(offsets) * colours.shape[0] * colours.shape[1] * 3, name="image", value=colours.shape,
                what="the n-link weights")
    if beta is None:
        beta = beta_from_image(image, connectivity=connectivity)
    h, w = colours.shape[:2]
    weights = np.zeros((len(offsets), h, w))
    for e, ((dy, dx), sq) in enumerate(zip(offsets, _squared_differences(colours, offsets))):
        dist = np.hypot(dy, dx)
        weights[e, _src(dy, h), _src(dx, w)] = (lam / dist) * np.exp(-beta * sq)
    return Smoothness(offsets, weights)


def _check_smoothness(smoothness) -> "Smoothness":
    """``smoothness`` if it is a valid :class:`Smoothness` (its weights checked again: arrays can change)."""
    if not isinstance(smoothness, Smoothness):
        raise TypeError(f"smoothness must be a Smoothness, got {type(smoothness).__name__}")
    smoothness.__post_init__()
    return smoothness


def _check_unary(unary: np.ndarray, shape: tuple[int, int] | None = None, name: str = "unary") -> np.ndarray:
    if not isinstance(unary, np.ndarray) or unary.ndim != 3 or unary.shape[2] != 2:
        raise ValueError(f"{name} must be an array of shape (H, W, 2) (cost of background, cost of foreground), "
                         f"got {getattr(unary, 'shape', type(unary).__name__)}")
    if unary.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a float array, got {unary.dtype}")
    if unary.shape[0] == 0 or unary.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {unary.shape}")
    if shape is not None and unary.shape[:2] != tuple(shape):
        raise ValueError(f"{name} has shape {unary.shape[:2]} but the smoothness grid is {tuple(shape)}")
    if not np.all(np.isfinite(unary)) or (unary.size and np.abs(unary).max() > 1e300):
        raise ValueError(f"{name} has NaN or infinite costs; use add_hard_constraints for fixed pixels")
    return unary


def _check_seeds(seeds: np.ndarray, name: str, shape: tuple[int, int]) -> np.ndarray:
    if isinstance(seeds, np.ndarray) and seeds.ndim == 2 and seeds.shape != tuple(shape):
        raise ValueError(f"{name} has shape {seeds.shape} but the image is {tuple(shape)}; "
                         "seeds must be an (H, W) bool mask of the image's size")
    return check_mask(seeds, name, shape=shape)


def histogram_data_terms(image: np.ndarray, fg_seeds: np.ndarray, bg_seeds: np.ndarray, *, bins: int = 8,
                         smoothing: float = 1.0) -> np.ndarray:
    """Data terms ``-ln Pr(I_p | F)`` and ``-ln Pr(I_p | B)`` from colour histograms of the seeds.

    Boykov & Jolly (2001) learn the object and background intensity
    distributions from the user's seeds; here they are 3-D colour histograms
    with ``bins`` bins per channel and ``smoothing`` added to every bin
    (Laplace smoothing, so unseen colours get a finite cost).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
    fg_seeds, bg_seeds : ndarray, shape (H, W), bool
        Pixels the user marked foreground / background; each needs at least one.
    bins : int
        Histogram bins per colour channel (2..64).
    smoothing : float
        Pseudo-count per bin (> 0).

    Returns
    -------
    unary : ndarray, shape (H, W, 2), float64
        ``unary[..., 0] = -ln Pr(I | B)`` (cost of background),
        ``unary[..., 1] = -ln Pr(I | F)`` (cost of foreground).
    """
    colours = image_as_colours(image)
    shape = colours.shape[:2]
    fg_seeds = _check_seeds(fg_seeds, "fg_seeds", shape)
    bg_seeds = _check_seeds(bg_seeds, "bg_seeds", shape)
    _check_seed_content(fg_seeds, bg_seeds)
    bins = check_int(bins, "bins", 2, 64)
    smoothing = check_number(smoothing, "smoothing", 0.0, 1e12, open_min=True)
    cell = colour_cells(image, bins=bins)
    unary = np.empty(shape + (2,))
    for label, seeds in ((0, bg_seeds), (1, fg_seeds)):
        counts = np.bincount(cell[seeds], minlength=bins**3) + float(smoothing)
        unary[..., label] = -np.log(counts / counts.sum())[cell]
    return unary


def colour_cells(image: np.ndarray, *, bins: int = 8) -> np.ndarray:
    """The colour-histogram cell of every pixel: ``(H, W)`` int64 in ``[0, bins**3)``.

    Each channel (0-255 units) is cut into ``bins`` equal intervals; the cell of
    colour ``(r, g, b)`` with interval indices ``(i, j, k)`` is ``(i * bins + j) * bins + k``.
    """
    bins = check_int(bins, "bins", 2, 64)
    colours = image_as_colours(image)
    idx = np.minimum((colours * (bins / 256.0)).astype(np.int64), bins - 1)
    return (idx[..., 0] * bins + idx[..., 1]) * bins + idx[..., 2]


def _check_seed_content(fg_seeds: np.ndarray, bg_seeds: np.ndarray) -> None:
    if not fg_seeds.any():
        raise ValueError("fg_seeds marks no pixel: give at least one foreground seed")
    if not bg_seeds.any():
        raise ValueError("bg_seeds marks no pixel: give at least one background seed")
    both = fg_seeds & bg_seeds
    if both.any():
        i, j = np.argwhere(both)[0]
        raise ValueError(f"fg_seeds and bg_seeds overlap ({int(both.sum())} pixels, e.g. ({i}, {j})); "
                         "a pixel cannot be both")


def add_hard_constraints(unary: np.ndarray, smoothness: Smoothness, fg: np.ndarray | None = None,
                         bg: np.ndarray | None = None) -> np.ndarray:
    """Fix pixels to a label by making the other label cost ``K`` more.

    ``K = 1 + max_p sum_q w_pq`` (Boykov & Jolly 2001): more than any pixel
    can gain from its n-links, so every minimum cut obeys the constraints and
    the energy of a labelling that obeys them is unchanged.

    Parameters
    ----------
    unary : ndarray, shape (H, W, 2)
    smoothness : Smoothness
    fg, bg : ndarray, shape (H, W), bool, optional
        Pixels that must be foreground / background (disjoint).

    Returns
    -------
    ndarray, shape (H, W, 2), float64
        A new array; ``unary`` is not modified.
    """
    unary = _check_unary(unary, _check_smoothness(smoothness).shape).astype(np.float64, copy=True)
    shape = smoothness.shape
    fg = np.zeros(shape, bool) if fg is None else check_mask(fg, "fg", shape=shape)
    bg = np.zeros(shape, bool) if bg is None else check_mask(bg, "bg", shape=shape)
    if (fg & bg).any():
        raise ValueError("fg and bg overlap: a pixel cannot be fixed to both labels")
    k = 1.0 + smoothness.max_neighbour_sum
    unary[fg, 0] = unary[fg, 1] + k
    unary[bg, 1] = unary[bg, 0] + k
    return unary


def energy_terms(mask: np.ndarray, unary: np.ndarray, smoothness: Smoothness) -> tuple[float, float]:
    """The data energy and the smoothness energy of a labelling.

    Returns
    -------
    (data, smooth) : tuple of float
        ``sum_p unary[p, mask[p]]`` and the sum of the weights of the edges
        whose two pixels have different labels (the n-links the cut severs).
    """
    mask = check_mask(mask, "mask", shape=_check_smoothness(smoothness).shape)
    return _energy_terms(mask, _check_unary(unary, smoothness.shape), smoothness)


def _energy_terms(mask: np.ndarray, unary: np.ndarray, smoothness: Smoothness) -> tuple[float, float]:
    """:func:`energy_terms` without the input checks (for callers that made them)."""
    data = float(np.where(mask, unary[..., 1], unary[..., 0]).sum())
    h, w = smoothness.shape
    smooth = 0.0
    for (dy, dx), weight in zip(smoothness.offsets, smoothness.weights):
        differ = mask[_src(dy, h), _src(dx, w)] != mask[_dst(dy, h), _dst(dx, w)]
        smooth += float(weight[_src(dy, h), _src(dx, w)][differ].sum())
    return data, smooth


def labeling_energy(mask: np.ndarray, unary: np.ndarray, smoothness: Smoothness) -> float:
    """``E(mask) = sum_p D_p(mask_p) + sum_(p,q) w_pq [mask_p != mask_q]`` for any labelling.

    Parameters
    ----------
    mask : ndarray, shape (H, W), bool
        True = foreground.
    unary : ndarray, shape (H, W, 2)
        Cost of background (``[..., 0]``) and of foreground (``[..., 1]``).
    smoothness : Smoothness
    """
    data, smooth = energy_terms(mask, unary, smoothness)
    return data + smooth


def _structure(dy: int, dx: int) -> np.ndarray:
    structure = np.zeros((3, 3))
    structure[1 + dy, 1 + dx] = 1.0
    return structure


class GridGraph:
    """An s-t graph over a pixel grid whose n-links are built once and whose t-links can change.

    :meth:`cut` solves for one set of data terms; calling it again with new
    data terms re-uses the previous flow and search trees (dynamic graph cuts:
    P. Kohli and P. H. S. Torr, "Efficiently solving dynamic Markov random
    fields using graph cuts", ICCV 2005): only the difference of the t-links
    is added, the changed nodes are marked, and Boykov-Kolmogorov max-flow
    continues from where it stopped.  The result is the same exact minimum cut,
    found much faster when the data terms change little (GrabCut's later
    iterations).

    The source is the foreground terminal F and the sink the background
    terminal B.  For data terms ``D`` the t-links carry the reparametrised
    capacities ``source -> p = max(D_p(B) - D_p(F), 0)`` (paid when ``p`` ends
    on the background side) and ``p -> sink = max(D_p(F) - D_p(B), 0)``; the
    removed constant ``sum_p min(D_p(F), D_p(B))`` is added back to the flow.
    n-links are symmetric with the ``smoothness`` weights, added with
    PyMaxflow's grid API (one vectorised call per edge direction).

    Parameters
    ----------
    smoothness : Smoothness
    """

    def __init__(self, smoothness: Smoothness) -> None:
        import maxflow

        if not isinstance(smoothness, Smoothness):
            raise TypeError(f"smoothness must be a Smoothness, got {type(smoothness).__name__}")
        self.smoothness = smoothness
        self._graph = maxflow.Graph[float]()
        self._nodes = self._graph.add_grid_nodes(smoothness.shape)
        for (dy, dx), weight in zip(smoothness.offsets, smoothness.weights):
            self._graph.add_grid_edges(self._nodes, weights=weight, structure=_structure(dy, dx), symmetric=True)
        self._diff: np.ndarray | None = None  # D(B) - D(F) of the last cut
        self._source = np.zeros(smoothness.shape)  # cumulative t-link capacities given to the graph
        self._sink = np.zeros(smoothness.shape)
        self.cuts = 0

    def cut(self, unary: np.ndarray) -> GraphCutResult:
        """The labelling of minimum energy for data terms ``unary`` (``(H, W, 2)``, finite)."""
        unary = _check_unary(unary, self.smoothness.shape).astype(np.float64, copy=False)
        diff = unary[..., 0] - unary[..., 1]
        if self._diff is None:
            change = diff
            changed = None
        else:
            change = diff - self._diff
            changed = change != 0
        add_source, add_sink = np.maximum(change, 0.0), np.maximum(-change, 0.0)
        self._graph.add_grid_tedges(self._nodes, add_source, add_sink)
        self._source += add_source
        self._sink += add_sink
        if changed is None:
            raw_flow = self._graph.maxflow()
        else:
            if changed.any():
                self._graph.mark_grid_nodes(self._nodes[changed])
            raw_flow = self._graph.maxflow(reuse_trees=True)
        self._diff = diff
        self.cuts += 1
        # the graph's capacities exceed the reparametrised ones by min(source, sink) per node
        low = np.minimum(unary[..., 0], unary[..., 1])
        flow = raw_flow - float(np.minimum(self._source, self._sink).sum()) + float(low.sum())
        mask = ~self._graph.get_grid_segments(self._nodes)  # get_grid_segments: True = sink (background) side
        data, smooth = _energy_terms(mask, unary, self.smoothness)
        return GraphCutResult(mask, data + smooth, float(flow), data, smooth)


def graph_cut(unary: np.ndarray, smoothness: Smoothness) -> GraphCutResult:
    """The labelling of minimum energy, by min-cut / max-flow on the s-t graph.

    Builds a :class:`GridGraph` (PyMaxflow's grid API, no Python loop over
    pixels) and cuts it once.

    Parameters
    ----------
    unary : ndarray, shape (H, W, 2)
        Finite costs: ``[..., 0]`` background, ``[..., 1]`` foreground.
    smoothness : Smoothness

    Returns
    -------
    GraphCutResult
        ``energy`` is the minimum of :func:`labeling_energy`; ``flow`` the
        maximum flow (plus the removed constant), equal to it.
    """
    unary = _check_unary(unary, _check_smoothness(smoothness).shape)
    return GridGraph(smoothness).cut(unary)


def segment_with_seeds(image: np.ndarray, fg_seeds: np.ndarray, bg_seeds: np.ndarray, *, lam: float = 10.0,
                       connectivity: int = 8, bins: int = 8, beta: float | None = None) -> GraphCutResult:
    """Interactive graph-cut segmentation (交互式分割) from foreground and background seeds.

    Boykov & Jolly (2001): colour histograms of the seeds give the data terms
    (:func:`histogram_data_terms`), the seeds themselves are hard constraints
    (:func:`add_hard_constraints`), and ``lam`` weighs the contrast-sensitive
    smoothness terms (:func:`smoothness_weights`) against the data terms.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB, uint8 or float in [0, 1]; grey (H, W) arrays are refused.
    fg_seeds, bg_seeds : ndarray, shape (H, W), bool
        Disjoint; each must mark at least one pixel.
    lam : float
        Smoothness weight (0: each pixel takes its likelier colour model).
    connectivity : {4, 8}
    bins : int
        Histogram bins per channel.
    beta : float, optional
        Contrast parameter; defaults to :func:`beta_from_image`.

    Returns
    -------
    GraphCutResult
        ``mask`` True = foreground; ``energy`` includes the seeds' data terms.
    """
    lam = check_smoothness_weight(lam, "lam")
    neighbour_offsets(connectivity)
    if beta is not None:
        check_number(beta, "beta", 0.0)
    unary = histogram_data_terms(image, fg_seeds, bg_seeds, bins=bins)
    smoothness = smoothness_weights(image, lam=lam, connectivity=connectivity, beta=beta)
    return graph_cut(add_hard_constraints(unary, smoothness, fg_seeds, bg_seeds), smoothness)


def brute_force_minimum(unary: np.ndarray, smoothness: Smoothness, *, max_pixels: int = 16
                        ) -> tuple[np.ndarray, float, np.ndarray]:
    """The minimum energy by trying all ``2**(H*W)`` labellings (tiny images only).

    The check that a graph cut is optimal: its energy must equal this minimum.

    Parameters
    ----------
    unary : ndarray, shape (H, W, 2)
    smoothness : Smoothness
    max_pixels : int
        Refuse grids with more pixels (2**16 labellings take ~0.1 s).

    Returns
    -------
    mask : ndarray, shape (H, W), bool
        A labelling of minimum energy (the first in enumeration order).
    energy : float
    energies : ndarray, shape (2**(H*W),), float64
        The energy of every labelling; labelling ``k`` sets pixel ``n`` (row-major)
        to foreground when bit ``n`` of ``k`` is 1.
    """
    max_pixels = check_int(max_pixels, "max_pixels", 1, 24)
    _check_smoothness(smoothness)
    unary = _check_unary(unary, smoothness.shape).astype(np.float64, copy=False)
    h, w = smoothness.shape
    n = h * w
    if n > max_pixels:
        raise ValueError(f"the grid has {n} pixels; brute force tries 2**{n} labellings, "
                         f"more than max_pixels={max_pixels} allows")
    codes = np.arange(2**n, dtype=np.int64)
    labels = ((codes[:, None] >> np.arange(n)) & 1).astype(bool).reshape(-1, h, w)
    energies = np.where(labels, unary[..., 1], unary[..., 0]).reshape(len(codes), -1).sum(axis=1)
    for (dy, dx), weight in zip(smoothness.offsets, smoothness.weights):
        differ = labels[:, _src(dy, h), _src(dx, w)] != labels[:, _dst(dy, h), _dst(dx, w)]
        energies += (differ * weight[_src(dy, h), _src(dx, w)]).reshape(len(codes), -1).sum(axis=1)
    best = int(np.argmin(energies))
    return labels[best], float(energies[best]), energies


@dataclass(frozen=True)
class ToyExample:
    """The lecture's 3x3 example: an image, its seeds and its data terms.

    Attributes
    ----------
    image : ndarray, shape (3, 3, 3), uint8
    fg_seeds, bg_seeds : ndarray, shape (3, 3), bool
        One seed each: the top-left pixel is foreground, the bottom-right background.
    unary : ndarray, shape (3, 3, 2), float64
        Gaussian colour models centred on the seeds' colours (``sigma``):
        ``D_p(F) = ||I_p - I_F||^2 / (2 sigma^2)``, likewise for B; the seeds
        themselves are not yet fixed (see :func:`add_hard_constraints`).
    expected : ndarray, shape (3, 3), bool
        The lecture's segmentation ``F F B / F F B / F B B``.
    """

    image: np.ndarray
    fg_seeds: np.ndarray
    bg_seeds: np.ndarray
    unary: np.ndarray
    expected: np.ndarray


def lecture_example_3x3(*, sigma: float = 60.0) -> ToyExample:
    """The 3x3 image of the lecture's graph-cut figure, segmented ``F F B / F F B / F B B``.

    Orange foreground, blue background.  The centre pixel is a little closer
    in colour to the background seed than to the foreground seed, so its data
    terms alone say B; its foreground neighbours are more similar to it than
    its background neighbours, so enough smoothness (lambda) makes it F.

    Parameters
    ----------
    sigma : float
        Spread (0-255 units) of the two Gaussian colour models.
    """
    sigma = check_number(sigma, "sigma", 0.0, 1e6, open_min=True)
    level = np.array([[220, 170, 60],
                      [160, 120, 50],
                      [150, 45, 30]], dtype=np.float64)  # 220 = the foreground seed, 30 = the background seed
    orange, blue = np.array([235.0, 130.0, 40.0]), np.array([40.0, 70.0, 170.0])
    t = ((level - 30.0) / 190.0)[..., None]
    image = np.round(t * orange + (1 - t) * blue).astype(np.uint8)
    fg_seeds = np.zeros((3, 3), bool)
    bg_seeds = np.zeros((3, 3), bool)
    fg_seeds[0, 0] = bg_seeds[2, 2] = True
    colours = image.astype(np.float64)
    unary = np.stack([((colours - colours[2, 2]) ** 2).sum(-1), ((colours - colours[0, 0]) ** 2).sum(-1)], axis=-1)
    unary /= 2.0 * sigma**2
    expected = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 0]], dtype=bool)
    return ToyExample(image, fg_seeds, bg_seeds, unary, expected)
