"""The permutohedral lattice in tensor operations: fast high-dimensional Gaussian filtering.

Adams, Baek & Davis, "Fast High-Dimensional Filtering Using the Permutohedral
Lattice", Eurographics 2010.  Filtering ``values`` (N, C) with the Gaussian
kernel ``k(f_i, f_j) = exp(-|f_i - f_j|^2 / 2)`` over features ``f`` (N, d)
costs O(N d C) per filtering instead of O(N^2 C):

1. **embed**: each feature vector is lifted onto the hyperplane ``x . 1 = 0`` of
   R^(d+1), scaled so that the lattice's blur has unit width, and the enclosing
   simplex of the permutohedral lattice is found: its d+1 vertices and the
   barycentric weights of the point inside it;
2. **splat**: every value is spread over its simplex's d+1 vertices with the
   barycentric weights;
3. **blur**: along each of the d+1 lattice directions, each vertex takes
   ``v + (v_prev + v_next) / 2`` (a [1 2 1] kernel);
4. **slice**: every point reads the blurred values back with the same weights.

Steps 2-4 are linear maps that do not depend on the values, so the lattice is
built once per image (:class:`PermutohedralLattice`) and then applied once per
mean-field iteration.  Everything is tensor code, so the same code runs on the
CPU and on CUDA:

* the hash table of the C++ implementations becomes a sort: points that fall in
  the same simplex are grouped with one ``torch.sort`` of packed integer keys,
  and the vertices of the (far fewer) simplices with ``torch.unique``;
* splat and slice are sparse products with N (d+1) non-zeros each, built once and
  run as weighted ``embedding_bag`` sums;
* the blur gathers rows by neighbour indices found once with ``torch.searchsorted``.

The scaling conventions (feature scaling, unnormalised [1 2 1] blur, final
factor ``1 / (1 + 2^-d)``) are those of Krähenbühl's ``densecrf`` library
(used by ``pydensecrf``), so both compute the same filter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["PermutohedralLattice", "LatticeFilter", "permutohedral_filter"]

_INT62 = 2**62


def _elevation_matrix(d: int, device: torch.device) -> torch.Tensor:
    """The (d, d+1) float32 matrix that lifts features onto the plane ``x . 1 = 0`` (Adams et al., p. 5).

    Column 0 sums all scaled coordinates; column j >= 1 holds ``sum_{k >= j} c_k - j c_{j-1}``.  Each
    coordinate is pre-scaled by ``sqrt(2/3) (d+1) / sqrt((k+1)(k+2))`` so that the blur of step 3 has
    unit standard deviation in feature units (p. 6).
    """
    inv_std = math.sqrt(2.0 / 3.0) * (d + 1)
    scale = torch.tensor([inv_std / math.sqrt((k + 1) * (k + 2)) for k in range(d)], dtype=torch.float64)
    lift = torch.zeros(d, d + 1, dtype=torch.float64)
    lift[:, 0] = 1.0
    for j in range(1, d + 1):
        lift[j:, j] = 1.0
        lift[j - 1, j] = -float(j)
    return (scale[:, None] * lift).to(dtype=torch.float32, device=device)


class PermutohedralLattice:
    """A permutohedral lattice over ``features`` (N, d): built once, applied many times.

    Parameters
    ----------
    features : torch.Tensor, shape (N, d), float
        One feature vector per point, already divided by the kernel widths, so that the
        kernel is ``exp(-|f_i - f_j|^2 / 2)``.  The lattice lives on the features' device.

    Attributes
    ----------
    num_points : int
        N.
    dim : int
        d.
    num_vertices : int
        M, the number of lattice vertices the points touch (the C++ hash table's size).
    num_simplices : int
        The number of distinct simplices the points fall in.
    vertices : torch.Tensor, shape (N, d+1), int64
        The vertex ids of each point's simplex, in ``1 .. M`` (0 is an always-empty vertex).
    weights : torch.Tensor, shape (N, d+1), float32
        The barycentric weights of each point in its simplex (they sum to one).
    neighbours : list of d+1 torch.Tensor, each (2, M+1), int64
        For each lattice direction, the ids of each vertex's two neighbours (0 where absent).

    Notes
    -----
    Construction sorts N packed keys once and S (d+1) vertex keys once (S simplices), so it costs
    about two sorts; the filter itself is two sparse products with N (d+1) non-zeros each and
    (d+1) gathers over the M+1 lattice rows.

    Examples
    --------
    >>> import torch
    >>> f = torch.rand(1000, 3) * 4
    >>> lattice = PermutohedralLattice(f)
    >>> lattice.filter(torch.ones(1000, 1)).shape
    torch.Size([1000, 1])
    """

    def __init__(self, features: torch.Tensor) -> None:
        if not isinstance(features, torch.Tensor):
            raise TypeError(f"features must be a torch.Tensor of shape (N, d), got {type(features).__name__}")
        if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] == 0:
            raise ValueError(f"features must have shape (N, d) with N, d >= 1, got {tuple(features.shape)}")
        if not features.is_floating_point():
            raise TypeError(f"features must be a float tensor, got dtype {features.dtype}")
        if not bool(torch.isfinite(features).all()):
            raise ValueError("features contain NaN or infinite values")
        self.device = features.device
        self.num_points, self.dim = int(features.shape[0]), int(features.shape[1])
        self.alpha = 1.0 / (1.0 + 2.0 ** (-self.dim))  # densecrf's scaling constant for the [1 2 1] blur
        self._filter: LatticeFilter | None = None
        self._build(features.to(torch.float32))

    # ------------------------------------------------------------------ construction
    def _embed(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Enclosing simplex of every point, coordinates-first ((d+1, N) rows vectorise best).

        Returns the remainder-0 vertex divided by d+1 (d, N) int64, the ranks (d+1, N) int64 and
        the barycentric weights (d+1, N) float32.
        """
        n, d = self.num_points, self.dim
        dev = features.device
        elevated = _elevation_matrix(d, dev).t() @ features.t()  # (d+1, N), on the plane x . 1 = 0
        # The nearest remainder-0 lattice point: every coordinate rounded to a multiple of d+1.
        quot = torch.round(elevated * (1.0 / (d + 1)))
        shift = quot.sum(dim=0)  # how far that point is off the plane, in units of d+1
        delta = torch.addcmul(elevated, quot, torch.tensor(-(d + 1.0), device=dev))
        # rank[i]: the place of residual i in decreasing order (ties: the lower index first).
        counts = torch.zeros(d + 1, n, dtype=torch.uint8, device=dev)  # bytes: 4x less memory traffic
        for i in range(d + 1):
            for j in range(i + 1, d + 1):
                later_bigger = delta[i] < delta[j]
                counts[i] += later_bigger
                counts[j] += ~later_bigger
        del delta
        rank = counts.to(torch.float32)
        del counts
        # Bring the point back onto the plane: wrap ranks into [0, d], moving the remainder-0 point.
        rank += shift
        wrap = (rank < 0).to(torch.float32)
        wrap -= (rank > d).to(torch.float32)
        rank.add_(wrap, alpha=d + 1)
        quot += wrap
        del wrap, shift
        # Barycentric coordinates (p. 10): the sorted residuals' successive differences.
        resid = torch.addcmul(elevated, quot, torch.tensor(-(d + 1.0), device=dev)).mul_(1.0 / (d + 1))
        del elevated
        rank_i = rank.to(torch.int64)
        bary = torch.zeros(d + 2, n, dtype=torch.float32, device=dev)
        slot = d - rank_i
        bary.scatter_add_(0, slot, resid)
        bary.scatter_add_(0, slot + 1, resid.neg_())
        bary[0] += 1.0 + bary[d + 1]
        return quot[:d].to(torch.int64), rank_i, bary[: d + 1]

    def _build(self, features: torch.Tensor) -> None:
        n, d = self.num_points, self.dim
        dev = features.device
        quot, rank, bary = self._embed(features)
        self.weights = bary.t().contiguous()  # (N, d+1)
        del bary
        # Vertex keys are d integers; they are packed into one int64 (mixed radix) wherever they fit.
        # A vertex of remainder r of the simplex (quot, rank) has key_i = (d+1) quot_i + r - (d+1) [rank_i > d - r],
        # so key_i lies in [(d+1) min quot_i - d, (d+1) max quot_i + d]; neighbours are at most d + 1 further.
        q_lo, q_hi = quot.amin(dim=1).tolist(), quot.amax(dim=1).tolist()
        lo = [(d + 1) * q - d - (d + 1) for q in q_lo]
        span = [(d + 1) * (h - q) + 2 * d + 2 * (d + 1) + 1 for q, h in zip(q_lo, q_hi, strict=True)]
        packable = math.prod(span) < _INT62
        radix = [math.prod(span[k + 1:]) for k in range(d)]
        # 1. Group the points by simplex with one sort: all points of a simplex share its d+1 vertices.
        code = torch.zeros(n, dtype=torch.int64, device=dev)  # the rank permutation, base d+1
        for i in range(d):
            code.add_(rank[i], alpha=(d + 1) ** i)
        if packable:
            base = torch.full((n,), -sum(r * l for r, l in zip(radix, lo, strict=True)), dtype=torch.int64, device=dev)
            for i in range(d):
                base.add_(quot[i], alpha=(d + 1) * radix[i])  # the packed key of the remainder-0 vertex
            if math.prod(span) * (d + 1) ** d < _INT62:
                simplex_key = base * (d + 1) ** d + code
            else:  # pragma: no cover - huge feature ranges
                simplex_key = torch.unique(torch.stack([base, code], 1), dim=0, return_inverse=True)[1]
        else:  # pragma: no cover - huge feature ranges
            base = None
            simplex_key = torch.unique(torch.cat([quot, rank[:d]]).t(), dim=0, return_inverse=True)[1]
        del code
        sorted_key, order = torch.sort(simplex_key, stable=True)  # stable: points ascending within a simplex
        del simplex_key
        first = torch.ones(n, dtype=torch.bool, device=dev)
        torch.ne(sorted_key[1:], sorted_key[:-1], out=first[1:])
        del sorted_key
        starts = first.nonzero().squeeze(1)
        # Number the simplices by their first point, so that splat rows read points in memory order.
        lead = order.index_select(0, starts)
        by_lead = torch.argsort(lead)
        renumber = torch.empty_like(by_lead)
        renumber[by_lead] = torch.arange(by_lead.numel(), device=dev)
        simplex_of = torch.empty(n, dtype=torch.int64, device=dev)
        simplex_of[order] = renumber.index_select(0, torch.cumsum(first, 0) - 1)
        del first, renumber
        counts = torch.diff(starts, append=torch.tensor([n], device=dev)).index_select(0, by_lead)
        order = order.index_select(0, _expand_ranges(starts.index_select(0, by_lead), counts))  # grouped, renumbered
        rep = lead.index_select(0, by_lead)  # one point of each simplex
        del starts, lead, by_lead
        self.num_simplices = int(counts.numel())
        self._order, self._simplex_counts, self._simplex_of = order, counts, simplex_of
        rank = rank.index_select(1, rep)  # (d+1, S)
        # 2. The simplices' vertices, hashed by sorting (each distinct key is one lattice vertex).
        if packable:
            base = base.index_select(0, rep)
            keys = torch.empty(self.num_simplices, d + 1, dtype=torch.int64, device=dev)
            radix_t = torch.tensor(radix, dtype=torch.int64, device=dev)[:, None]
            for r in range(d + 1):
                wrapped = ((rank[:d] > d - r) * radix_t).sum(dim=0)
                keys[:, r] = base + r * sum(radix) - (d + 1) * wrapped
            unique_keys, vertex_of = torch.unique(keys.reshape(-1), sorted=True, return_inverse=True)
            neighbours = self._neighbours_packed(unique_keys, radix)
        else:  # pragma: no cover - huge feature ranges
            quot = quot.index_select(1, rep)
            r = torch.arange(d + 1, device=dev)
            keys = ((d + 1) * quot.t()[:, None, :] + r[None, :, None]
                    - (d + 1) * (rank[:d].t()[:, None, :] > d - r[None, :, None])).reshape(-1, d)
            unique_keys, vertex_of = torch.unique(keys, dim=0, sorted=True, return_inverse=True)
            neighbours = self._neighbours_rows(unique_keys)
        del keys, quot, rank
        self.num_vertices = int(unique_keys.shape[0])
        # Vertex ids start at 1: row 0 of the value table is an always-empty vertex.
        self._simplex_vertices = vertex_of.reshape(-1, d + 1) + 1  # (S, d+1)
        self._vertices = None
        zero = torch.zeros(2, 1, dtype=torch.int64, device=dev)
        self.neighbours = [torch.cat([zero, nb + 1], dim=1) for nb in neighbours]

    def _neighbours_packed(self, unique_keys: torch.Tensor, radix_list: list[int]) -> list[torch.Tensor]:
        """For each direction j, the (2, M) indices of each vertex's two neighbours (-1: absent)."""
        d = self.dim
        m = unique_keys.numel()
        out = []
        for j in range(d + 1):
            # n1 = key - 1 on every coordinate except j, which gets + d; n2 = key + 1 with j - d.
            step = -sum(radix_list) + ((d + 1) * radix_list[j] if j < d else 0)
            pair = torch.stack([unique_keys + step, unique_keys - step]).reshape(-1)
            pos = torch.searchsorted(unique_keys, pair).clamp_(max=m - 1)
            found = unique_keys[pos] == pair
            out.append(torch.where(found, pos, -1).reshape(2, m))
        return out

    def _neighbours_rows(self, rows: torch.Tensor) -> list[torch.Tensor]:  # pragma: no cover - fallback
        d, m = self.dim, rows.shape[0]
        out = []
        for j in range(d + 1):
            step = torch.full((d,), -1, dtype=torch.int64, device=rows.device)
            if j < d:
                step[j] = d
            both = torch.cat([rows, rows + step, rows - step])
            _, inverse = torch.unique(both, dim=0, return_inverse=True)
            vertex = torch.full((int(inverse.max()) + 1,), -1, dtype=torch.int64, device=rows.device)
            vertex[inverse[:m]] = torch.arange(m, device=rows.device)
            out.append(vertex[inverse[m:]].reshape(2, m))
        return out

    # ------------------------------------------------------------------ the linear maps
    @property
    def vertices(self) -> torch.Tensor:
        """(N, d+1) int64: the vertex ids (1 .. M) of each point's simplex."""
        if self._vertices is None:
            self._vertices = self._simplex_vertices.index_select(0, self._simplex_of)
        return self._vertices

    def splat_entries(self, dtype: torch.dtype = torch.int64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The splat matrix's non-zeros in vertex order: ``(counts (M+1,), points (N (d+1),), flat (N (d+1),))``.

        ``counts[v]`` is the number of (point, slot) pairs that splat onto vertex ``v``; ``points`` lists
        the points vertex by vertex and ``flat = points * (d+1) + slot`` indexes ``weights.reshape(-1)``.
        Built without sorting the N (d+1) entries: the points of one simplex are contiguous in the
        simplex order, so only the S (d+1) (simplex, slot) blocks are sorted by vertex.  ``dtype``: the
        integer type of ``points`` and ``flat`` (int32 halves their memory).
        """
        d1 = self.dim + 1
        dev = self.device
        block_vertex = self._simplex_vertices.reshape(-1)  # (S (d+1),)
        block_order = torch.sort(block_vertex, stable=True).indices
        block_simplex = torch.div(block_order, d1, rounding_mode="floor")
        block_len = self._simplex_counts.index_select(0, block_simplex)
        simplex_start = torch.cumsum(self._simplex_counts, 0) - self._simplex_counts
        total = self.num_points * d1
        # Expand the blocks: entry e of block b is point order[start_b + e].
        entries = _expand_ranges(simplex_start.index_select(0, block_simplex).to(dtype), block_len, total=total)
        points = self._order.to(dtype).index_select(0, entries)
        del entries
        flat = torch.repeat_interleave((block_order - block_simplex * d1).to(dtype), block_len, output_size=total)
        flat.add_(points, alpha=d1)
        counts = torch.zeros(self.num_vertices + 1, dtype=torch.int64, device=dev)
        counts.index_add_(0, block_vertex, self._simplex_counts.repeat_interleave(d1))
        return counts, points, flat

    def blur(self, lattice_values: torch.Tensor) -> torch.Tensor:
        """Blur lattice values (M+1, C) with ``v + (v_prev + v_next) / 2`` along each lattice direction."""
        return _blur(lattice_values, self.neighbours)

    def filter(self, values: torch.Tensor) -> torch.Tensor:
        """Gaussian-filter ``values`` (N, C): ``out_i ~= sum_j exp(-|f_i - f_j|^2 / 2) v_j`` (j = i included).

        Returns a float32 (N, C) tensor, scaled like ``densecrf``'s lattice (about 0.9 of the exact
        sum for d = 2 and 0.5 for d = 5; the dense CRF normalises it away).
        """
        if not isinstance(values, torch.Tensor) or values.ndim != 2 or values.shape[0] != self.num_points:
            raise ValueError(f"values must be a tensor of shape ({self.num_points}, C), "
                             f"got {tuple(getattr(values, 'shape', ()))}")
        if self._filter is None:
            self._filter = LatticeFilter([self])
        return self._filter(values.to(device=self.device, dtype=torch.float32))

    def filter_ones(self) -> torch.Tensor:
        """``filter`` of a column of ones, (N,) float32, without building the sparse matrices."""
        return self.filter_column(torch.ones(self.num_points, device=self.device))

    def filter_column(self, values: torch.Tensor) -> torch.Tensor:
        """``filter`` of one column ``values`` (N,), returned as (N,) float32 (no sparse matrices needed)."""
        table = torch.zeros(self.num_vertices + 1, dtype=torch.float32, device=self.device)
        table.index_add_(0, self.vertices.reshape(-1), (self.weights * values.to(torch.float32)[:, None]).reshape(-1))
        table = _blur(table[:, None], self.neighbours)[:, 0]
        return (table[self.vertices] * self.weights).sum(dim=1) * self.alpha


def _expand_ranges(starts: torch.Tensor, lengths: torch.Tensor, total: int | None = None) -> torch.Tensor:
    """Concatenate ``arange(starts[k], starts[k] + lengths[k])`` over k, without a Python loop (dtype of ``starts``)."""
    total = int(lengths.sum()) if total is None else total
    offsets = torch.cumsum(lengths, 0) - lengths  # where each range begins in the output
    shift = torch.repeat_interleave(starts - offsets.to(starts.dtype), lengths, output_size=total)
    return shift.add_(torch.arange(total, dtype=starts.dtype, device=starts.device))


def _blur(table: torch.Tensor, neighbours: Sequence[torch.Tensor], out: torch.Tensor | None = None) -> torch.Tensor:
    """``v + (v_prev + v_next) / 2`` along each direction in turn; the last result goes to ``out`` if given."""
    last = len(neighbours) - 1
    for k, index in enumerate(neighbours):
        new = torch.index_select(table, 0, index[0], out=out) if (k == last and out is not None) \
            else table.index_select(0, index[0])
        new += table.index_select(0, index[1])
        new.mul_(0.5).add_(table)
        table = new
    return table


class LatticeFilter:
    """One or more lattice filterings of the same points fused into one linear map.

    ``out = sum_k out_scale[k] * filter_k(in_scale[k] * values)``, computed as one splat onto the
    stacked lattice tables, one blur pass over all of them and one slice (the dense CRF's message:
    both kernels and their normalisations in a single pass).

    Splat and slice are weighted sums of gathered rows, i.e. sparse matrix products with N (d+1)
    non-zeros; they run as ``torch.nn.functional.embedding_bag(mode="sum", per_sample_weights=...)``
    (on the CPU the FBGEMM kernels, faster here than ``torch.sparse.mm`` on CSR matrices; on CUDA
    the native kernel).

    Parameters
    ----------
    lattices : sequence of PermutohedralLattice
        Lattices over the same N points (e.g. the bilateral and the Gaussian kernel's).
    in_scales, out_scales : sequence of (N,) float tensors or None
        Per-point factors applied before splatting and after slicing, per lattice (None: 1).
    """

    def __init__(self, lattices: Sequence[PermutohedralLattice], in_scales: Sequence[torch.Tensor | None] | None = None,
                 out_scales: Sequence[torch.Tensor | None] | None = None) -> None:
        if not lattices:
            raise ValueError("lattices must hold at least one PermutohedralLattice")
        n = lattices[0].num_points
        if any(lat.num_points != n for lat in lattices):
            raise ValueError("lattices must all be built over the same number of points")
        in_scales = list(in_scales) if in_scales is not None else [None] * len(lattices)
        out_scales = list(out_scales) if out_scales is not None else [None] * len(lattices)
        dev = lattices[0].device
        self.num_points = n
        width = sum(lat.dim + 1 for lat in lattices)
        self.table_rows = sum(lat.num_vertices + 1 for lat in lattices)
        index_dtype = torch.int32 if max(self.table_rows + n, n * width) < 2**31 - 1 else torch.int64
        # Splat: bag r (a table row) sums weight * values[point] over its entries, lattice after lattice.
        # Slice: bag i (a point) sums weight * table[vertex] over all its lattices' vertices; one more
        # column reads row ``table_rows + i`` of an extended table, used to add a fixed (N, C) term.
        self._splat_index = torch.empty(n * width, dtype=index_dtype, device=dev)
        self._splat_weights = torch.empty(n * width, dtype=torch.float32, device=dev)
        self._slice_index = torch.empty(n, width + 1, dtype=index_dtype, device=dev)
        self._slice_weights = torch.empty(n, width + 1, dtype=torch.float32, device=dev)
        splat_counts = []
        base = col = entry = 0
        for lat, s_in, s_out in zip(lattices, in_scales, out_scales, strict=True):
            d1 = lat.dim + 1
            counts, points, flat = lat.splat_entries(index_dtype)
            w = lat.weights if s_in is None else lat.weights * s_in.to(torch.float32)[:, None]
            torch.index_select(w.reshape(-1), 0, flat, out=self._splat_weights[entry: entry + n * d1])
            self._splat_index[entry: entry + n * d1] = points
            del points, flat, w
            splat_counts.append(counts)
            sw = lat.alpha if s_out is None else s_out.to(torch.float32)[:, None] * lat.alpha
            torch.mul(lat.weights, sw, out=self._slice_weights[:, col: col + d1])
            torch.add(lat.vertices, base, out=self._slice_index[:, col: col + d1])
            base += lat.num_vertices + 1
            col += d1
            entry += n * d1
        self._slice_index[:, width] = torch.arange(base, base + n, dtype=index_dtype, device=dev)
        self._slice_weights[:, width] = 1.0
        counts = torch.cat(splat_counts)
        self._splat_offsets = (torch.cumsum(counts, 0) - counts).to(index_dtype)
        # Blur: each lattice's rows on their own, one weighted 3-row sum per direction
        # (v + v_prev / 2 + v_next / 2, as a bag of 3 with weights 1, 1/2, 1/2).
        self._segments = []
        start = 0
        for lat in lattices:
            rows = lat.num_vertices + 1
            own = torch.arange(rows, dtype=index_dtype, device=dev)[:, None]
            bags = [torch.cat([own, nb.t().to(index_dtype)], dim=1).contiguous() for nb in lat.neighbours]
            half = torch.tensor([1.0, 0.5, 0.5], device=dev).expand(rows, 3).contiguous()
            self._segments.append((start, start + rows, bags, half))
            start += rows
        self._extended: torch.Tensor | None = None
        self._addend: tuple | None = None
        self._plain: tuple[torch.Tensor, torch.Tensor] | None = None

    def splat(self, values: torch.Tensor) -> torch.Tensor:
        """Stacked lattice tables (table_rows, C) from ``values`` (N, C)."""
        return torch.nn.functional.embedding_bag(self._splat_index, values, self._splat_offsets, mode="sum",
                                                 per_sample_weights=self._splat_weights)

    def blur(self, table: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Blur the stacked tables (table_rows, C) along every lattice direction (into ``out`` if given)."""
        result = torch.empty_like(table) if out is None else out
        for start, stop, bags, half in self._segments:
            seg = table[start:stop]
            for bag in bags:
                seg = torch.nn.functional.embedding_bag(bag, seg, mode="sum", per_sample_weights=half)
            result[start:stop] = seg
        return result

    def slice(self, table: torch.Tensor, add: torch.Tensor | None = None) -> torch.Tensor:
        """Read the tables back at the points: (N, C); plus ``add`` (N, C) if given, in the same pass.

        ``add`` is copied once into an extended table and reused while the same unchanged tensor is
        passed again (as the dense CRF does with its unaries every iteration).
        """
        emb = torch.nn.functional.embedding_bag
        if add is None:
            if self._plain is None:  # the slice without the extra column, made contiguous once
                self._plain = (self._slice_index[:, :-1].contiguous(), self._slice_weights[:, :-1].contiguous())
            return emb(self._plain[0], table, mode="sum", per_sample_weights=self._plain[1])
        key = self._key(add, table)
        if self._extended is None or self._addend != key:
            self._extended = torch.empty(self.table_rows + self.num_points, table.shape[1], dtype=table.dtype,
                                         device=table.device)
            self._extended[self.table_rows:] = add
            self._addend = key
        if table.data_ptr() != self._extended.data_ptr():
            self._extended[: self.table_rows] = table
        return emb(self._slice_index, self._extended, mode="sum", per_sample_weights=self._slice_weights)

    def release(self) -> None:
        """Drop the extended table kept for ``add`` (frees N x C floats)."""
        self._extended, self._addend = None, None

    def __call__(self, values: torch.Tensor, *, add: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the fused filter to ``values`` (N, C) float32: (N, C) float32, plus ``add`` if given."""
        if values.ndim != 2 or values.shape[0] != self.num_points:
            raise ValueError(f"values must have shape ({self.num_points}, C), got {tuple(values.shape)}")
        if add is not None and add.shape != values.shape:
            raise ValueError(f"add must have the shape of values {tuple(values.shape)}, got {tuple(add.shape)}")
        table = self.splat(values)
        if add is not None and self._extended is not None and self._addend == self._key(add, table):
            # Blur straight into the extended table that already holds ``add`` below the lattice rows.
            table = self.blur(table, out=self._extended[: self.table_rows])
        else:
            table = self.blur(table)
        return self.slice(table, add)

    @staticmethod
    def _key(add: torch.Tensor, table: torch.Tensor) -> tuple:
        return (add.data_ptr(), add._version, table.shape[1], table.dtype)


def permutohedral_filter(features: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """One-shot Gaussian filtering of ``values`` (N, C) over ``features`` (N, d); see :class:`PermutohedralLattice`."""
    return PermutohedralLattice(features).filter(values)
