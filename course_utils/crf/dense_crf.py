"""Mean-field inference in the fully connected CRF, in PyTorch (CPU and CUDA, one code path).

Krähenbühl & Koltun, "Efficient Inference in Fully Connected CRFs with Gaussian
Edge Potentials", NIPS 2011; used by DeepLab (Chen et al., ICLR 2015) to refine
the network's coarse output.  The energy of a labelling ``x`` is

    E(x) = sum_i theta_i(x_i) + sum_{i<j} mu(x_i, x_j) k(f_i, f_j),    theta_i(x_i) = -log P(x_i)
    k(f_i, f_j) = w1 exp(-|p_i - p_j|^2 / (2 sigma_alpha^2) - |I_i - I_j|^2 / (2 sigma_beta^2))
                + w2 exp(-|p_i - p_j|^2 / (2 sigma_gamma^2))

with positions ``p`` in pixels, colours ``I`` in 0-255 units and the Potts
compatibility ``mu(a, b) = [a != b]``.  Mean field approximates the posterior by
a product ``Q`` of per-pixel distributions and iterates

    Q_i(l)  <-  softmax_l( -theta_i(l) + sum_m w_m sum_j k_m(f_i, f_j) Q_j(l) )

(``sum_j k (1 - Q_j(l))``, the Potts cost of disagreeing, differs from
``-sum_j k Q_j(l)`` by a term that does not depend on ``l`` and cancels in the
softmax, so the Potts model appears as a *reward* ``+w k Q`` for agreeing: this
is the sign convention of ``pydensecrf``, whose ``PottsCompatibility(w)`` multiplies
the filtered ``Q`` by ``-w`` inside an energy that is subtracted).  Both sums over
``j`` are Gaussian filterings of ``Q``, done on permutohedral lattices
(:mod:`course_utils.crf.permutohedral`) built once per image.

Conventions follow ``pydensecrf`` (the Python binding of Krähenbühl's C++ code) so
that the same unaries and parameters give the same labels:

* parameter names: ``addPairwiseBilateral(sxy=sigma_alpha, srgb=sigma_beta, compat=w1)``,
  ``addPairwiseGaussian(sxy=sigma_gamma, compat=w2)`` (see :meth:`CRFParams.to_pydensecrf`);
  the Gaussian (smoothness) kernel uses positions only;
* each kernel is normalised symmetrically (``NORMALIZE_SYMMETRIC``):
  ``K~ = D^-1/2 K D^-1/2`` with ``D = diag(K 1)``, and the sums include ``j = i``;
* unaries from probabilities are ``-log(max(p, 1e-5))`` (``unary_from_softmax``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from course_utils.config import setting
from course_utils.crf.permutohedral import LatticeFilter, PermutohedralLattice
from course_utils.env import cpu_threads, get_device
from course_utils._shared import check_bytes, check_int, check_number, check_sequence
from course_utils.images import check_image

__all__ = ["CRFParams", "CRFResult", "DenseCRF", "dense_crf", "unary_from_probs", "check_probs"]


#: The largest kernel weight: messages ``w * K~ Q`` (float32, at most 3.4e38) stay finite with room to spare.
_MAX_WEIGHT = 1e30
#: The largest feature (position / sigma, colour / sigma): lattice coordinates stay exact integers in float32.
_MAX_FEATURE = 1e6


@dataclass(frozen=True)
class CRFParams:
    """The dense CRF's kernel weights and widths, with the lecture's names.

    Parameters
    ----------
    w1 : float
        Weight of the appearance (bilateral) kernel; ``pydensecrf``: ``addPairwiseBilateral(compat=w1)``.
    sigma_alpha : float
        Spatial width of the appearance kernel, pixels (``sxy`` of the bilateral term).
    sigma_beta : float
        Colour width of the appearance kernel, 0-255 units (``srgb``).
    w2 : float
        Weight of the smoothness (Gaussian) kernel; ``addPairwiseGaussian(compat=w2)``.
    sigma_gamma : float
        Width of the smoothness kernel, pixels (``sxy`` of the Gaussian term).

    The defaults are DeepLab's values for PASCAL VOC (Chen et al. 2015, DeepLab-LargeFOV:
    ``bi_w=4, bi_xy_std=121, bi_rgb_std=5, pos_w=3, pos_xy_std=3``); :meth:`pydensecrf_example`
    gives ``pydensecrf``'s README values.  Weights must be >= 0 (0 switches a kernel off);
    widths must be > 0.
    """

    w1: float = 4.0
    sigma_alpha: float = 121.0
    sigma_beta: float = 5.0
    w2: float = 3.0
    sigma_gamma: float = 3.0

    def __post_init__(self) -> None:
        for name in ("w1", "sigma_alpha", "sigma_beta", "w2", "sigma_gamma"):
            value = check_number(getattr(self, name), name)
            if name.startswith("sigma") and value <= 0:
                raise ValueError(f"{name} is a kernel width and must be > 0, got {value}")
            if name.startswith("w") and value < 0:
                raise ValueError(f"{name} is a kernel weight and must be >= 0 (0 switches it off), got {value}")
            if name.startswith("w") and value > _MAX_WEIGHT:
                raise ValueError(f"{name}={value} is too large: the CRF's messages (float32) would overflow; "
                                 f"kernel weights must be at most {_MAX_WEIGHT:g} (DeepLab uses 3-5)")

    def to_pydensecrf(self) -> dict[str, dict[str, float]]:
        """The same parameters as ``pydensecrf`` keyword arguments.

        Returns ``{"gaussian": {"sxy": sigma_gamma, "compat": w2},
        "bilateral": {"sxy": sigma_alpha, "srgb": sigma_beta, "compat": w1}}``.
        """
        return {
            "gaussian": {"sxy": float(self.sigma_gamma), "compat": float(self.w2)},
            "bilateral": {"sxy": float(self.sigma_alpha), "srgb": float(self.sigma_beta), "compat": float(self.w1)},
        }

    @classmethod
    def from_config(cls) -> CRFParams:
        """The values of the ``"crf"`` section of :mod:`course_utils.config` (quick or full mode)."""

        return cls(**{name: setting("crf", name) for name in ("w1", "sigma_alpha", "sigma_beta", "w2", "sigma_gamma")})

    @classmethod
    def pydensecrf_example(cls) -> CRFParams:
        """``pydensecrf``'s README values: bilateral sxy=80, srgb=13, compat=10; Gaussian sxy=3, compat=3."""
        return cls(w1=10.0, sigma_alpha=80.0, sigma_beta=13.0, w2=3.0, sigma_gamma=3.0)

    @classmethod
    def from_pydensecrf(cls, *, gaussian_sxy: float, gaussian_compat: float, bilateral_sxy: float,
                        bilateral_srgb: float, bilateral_compat: float) -> CRFParams:
        """Build from ``pydensecrf``'s ``addPairwiseGaussian`` / ``addPairwiseBilateral`` arguments."""
        return cls(w1=bilateral_compat, sigma_alpha=bilateral_sxy, sigma_beta=bilateral_srgb,
                   w2=gaussian_compat, sigma_gamma=gaussian_sxy)


@dataclass
class CRFResult:
    """What :func:`dense_crf` returns.

    Attributes
    ----------
    probs : torch.Tensor, (C, H, W) or (N, C, H, W), float32
        The refined marginals ``Q`` after the last iteration (batched like the input).
    scores_history, probs_history : torch.Tensor or None
        With ``history=True``: the scores before the softmax and the probabilities after it, for
        iteration 0 (the unaries alone: ``-theta`` and ``softmax(-theta)``) and each iteration;
        shape (T+1, K, H, W), or (N, T+1, K, H, W) for a batch, K = the recorded classes.
    history_classes : list of int or None
        The classes kept in the histories (all when ``history_classes`` was not given).
    objective : torch.Tensor or None
        With ``objective=True``: the mean-field objective (the KL divergence to the CRF's
        distribution up to a constant; see :meth:`DenseCRF.objective`) for iterations 0..T,
        shape (T+1,) or (N, T+1), float64.
    """

    probs: torch.Tensor
    scores_history: torch.Tensor | None = None
    probs_history: torch.Tensor | None = None
    history_classes: list[int] | None = None
    objective: torch.Tensor | None = None
    params: CRFParams = field(default_factory=CRFParams)

    @property
    def labels(self) -> torch.Tensor:
        """The most probable class per pixel, (H, W) or (N, H, W) int64."""
        return self.probs.argmax(dim=-3)


def _image_tensor(image, name: str, device: torch.device) -> torch.Tensor:
    """(H, W, 3) numpy/torch RGB -> float32 tensor in 0-255 units on ``device``."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    check_image(image, name)
    arr = image.astype(np.float32) if image.dtype == np.uint8 else image.astype(np.float32) * 255.0
    return torch.from_numpy(np.ascontiguousarray(arr)).to(device)


def crf_bytes(height: int, width: int, num_classes: int, params: "CRFParams | None" = None, *,
              iterations: int = 5, history: bool = False, history_classes: int | None = None) -> float:
    """An upper estimate of the bytes :func:`dense_crf` allocates for one ``height x width`` image.

    Each lattice of dimension ``d`` (5 for the appearance kernel, 2 for the smoothness kernel) has
    at most ``(d + 1)`` vertices per pixel: building it sorts ``(d + 1)``-long int64 keys, and each
    filtering holds about three ``(vertices, C)`` float32 tables; mean field keeps about eight
    ``(pixels, C)`` float32 arrays, and the histories two more per iteration.
    """
    params = CRFParams() if params is None else params
    n, c = float(height) * float(width), float(num_classes)
    total = 32.0 * n * c
    for d, on in ((5, params.w1 > 0), (2, params.w2 > 0)):
        if on:
            total += n * (d + 1) * ((d + 1) * 32 + 96) + n * (d + 1) * c * 12
    if history:
        total += 8.0 * n * (c if history_classes is None else history_classes) * (iterations + 1)
    return total


def check_probs(probs: torch.Tensor, name: str = "probs", *, atol: float = 1e-3) -> torch.Tensor:
    """Check that ``probs`` (..., C, H, W) holds probabilities over dim -3 and return it.

    Raises
    ------
    ValueError
        Naming ``name``, if values lie outside [0, 1], are not finite, or do not sum to one over
        the class axis (within ``atol``); the message points at the first bad pixel.
    """
    if not bool(torch.isfinite(probs).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    lo, hi = float(probs.min()), float(probs.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(f"{name} must hold probabilities in [0, 1], got values in [{lo:.3g}, {hi:.3g}]; "
                         "pass logits=... for unnormalised scores")
    total = probs.sum(dim=-3)
    bad = (total - 1).abs() > atol
    if bool(bad.any()):
        where = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(f"{name} must sum to one over the class axis (dim -3), but at pixel {where} "
                         f"it sums to {float(total[where]):.4f}; pass logits=... for unnormalised scores, "
                         "or apply a softmax first")
    return probs


def unary_from_probs(probs: torch.Tensor, clip: float = 1e-5) -> torch.Tensor:
    """Unary energies ``theta = -log(max(p, clip))``, same shape and device as ``probs`` (float32).

    As ``pydensecrf.utils.unary_from_softmax`` (which clips at 1e-5 too).
    """
    clip = check_number(clip, "clip", 0.0, 1.0, open_min=True, open_max=True)
    return -torch.log(probs.to(torch.float32).clamp(min=clip))


class DenseCRF:
    """The fully connected CRF of one image: kernels built once, mean-field steps applied many times.

    Parameters
    ----------
    image : ndarray (H, W, 3), uint8 (or float in [0, 1], multiplied by 255)
        The RGB image the appearance kernel compares colours on.
    params : CRFParams
        Kernel weights and widths.
    device : torch.device or str, optional
        Where to build and run (default: CPU).

    Notes
    -----
    The bilateral lattice has d = 5 features ``(x/sigma_alpha, y/sigma_alpha, r/sigma_beta,
    g/sigma_beta, b/sigma_beta)``, the Gaussian one d = 2 (``(x, y)/sigma_gamma``), x being the
    column.  Both kernels, their symmetric normalisation and weights are fused into one
    :class:`~course_utils.crf.permutohedral.LatticeFilter`, so each iteration costs two sparse
    products, one blur and one softmax.
    """

    def __init__(self, image, params: CRFParams | None = None, *, device: torch.device | str | None = None) -> None:
        rgb, pos = self._setup(image, params, device)
        n = self.num_pixels
        params = self.params
        lattices, norms, weights = [], [], []
        if params.w1 > 0:
            features = torch.cat([pos / params.sigma_alpha, rgb.reshape(n, 3) / params.sigma_beta], dim=1)
            lattices.append(PermutohedralLattice(features))
            weights.append(float(params.w1))
        if params.w2 > 0:
            lattices.append(PermutohedralLattice(pos / params.sigma_gamma))
            weights.append(float(params.w2))
        bound = 0.0
        for lattice, w in zip(lattices, weights, strict=True):
            norm = torch.rsqrt(lattice.filter_ones() + 1e-20)
            norms.append(norm)
            # The largest message this kernel can send (Q <= 1): w max_i (K~ 1)_i.
            bound += w * float((norm * lattice.filter_column(norm)).max())
        self._message_bound = bound
        self._filter = (LatticeFilter(lattices, norms, [w * nm for w, nm in zip(weights, norms, strict=True)])
                        if lattices else None)
        # The fused filter holds all it needs; keep only the lattices' sizes (their index arrays are big).
        self.lattice_sizes = [{"dim": lat.dim, "simplices": lat.num_simplices, "vertices": lat.num_vertices}
                              for lat in lattices]

    def _setup(self, image, params: CRFParams | None, device) -> tuple[torch.Tensor, torch.Tensor]:
        """Check and store ``params``, ``device`` and the image size; return the image (H, W, 3) float32
        in [0, 255] and the pixels' ``(x, y)`` positions (H*W, 2), the features both kernels start from."""
        params = CRFParams() if params is None else params
        if not isinstance(params, CRFParams):
            raise TypeError(f"params must be a CRFParams, got {type(params).__name__}")
        self.params = params
        self.device = get_device(device, name="device") if device is not None else torch.device("cpu")
        rgb = _image_tensor(image, "image", self.device)
        self.height, self.width = int(rgb.shape[0]), int(rgb.shape[1])
        # lattice coordinates are features rounded to int64 through float32: keep them well inside
        extent = {"sigma_alpha": max(self.height, self.width) if params.w1 > 0 else 0,
                  "sigma_beta": 255.0 if params.w1 > 0 else 0,
                  "sigma_gamma": max(self.height, self.width) if params.w2 > 0 else 0}
        for name, span in extent.items():
            sigma = float(getattr(params, name))
            if span / sigma > _MAX_FEATURE:
                raise ValueError(f"params.{name}={sigma:g} is too small: features up to {span:g} / {name} exceed "
                                 f"{_MAX_FEATURE:g} (kernel widths are in pixels or 0-255 colour units; "
                                 "to switch a kernel off, set its weight to 0)")
        ys = torch.arange(self.height, dtype=torch.float32, device=self.device)
        xs = torch.arange(self.width, dtype=torch.float32, device=self.device)
        pos = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(self.num_pixels, 2)  # (x, y) per pixel
        return rgb, pos

    @property
    def num_pixels(self) -> int:
        return self.height * self.width

    def message(self, probs: torch.Tensor) -> torch.Tensor:
        """The pairwise term ``sum_m w_m K~_m Q``, (H*W, C) float32, for ``probs`` ``Q`` (H*W, C)."""
        if self._filter is None:
            return torch.zeros_like(probs)
        return self._filter(probs)

    def _scores(self, probs: torch.Tensor, neg_unary: torch.Tensor) -> torch.Tensor:
        """``-theta + message(Q)`` as a new (N, C) tensor (the unary is added inside the slice)."""
        if self._filter is None:
            return neg_unary.clone()
        return self._filter(probs, add=neg_unary)

    def _release(self) -> None:
        if self._filter is not None:
            self._filter.release()

    def step(self, unary: torch.Tensor, probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One mean-field update (all pixels in parallel).

        Parameters
        ----------
        unary : (H*W, C) float32
            ``theta``, the unary energies.
        probs : (H*W, C) float32
            The current ``Q``.

        Returns
        -------
        scores, new_probs : (H*W, C) float32
            ``-theta + message(Q)`` (before the softmax) and its softmax over the classes.
        """
        scores = self.message(probs)
        scores -= unary
        return scores, torch.softmax(scores, dim=1)

    def objective(self, unary: torch.Tensor, probs: torch.Tensor, message: torch.Tensor | None = None) -> float:
        """The mean-field objective ``sum Q log Q + sum theta Q - 1/2 sum Q * message(Q)``.

        It is ``KL(Q || P)`` up to constants (``log Z`` and the Potts term's ``sum_{i<j} k_ij``)
        for the energy with the normalised kernels; with concave (positive-definite) kernels the
        parallel updates never increase it (Krähenbühl & Koltun, ICML 2013).  Computed in float64.
        """
        if message is None:
            message = self.message(probs)
        q = probs.to(torch.float64)
        entropy_term = torch.special.xlogy(q, q).sum()
        return float(entropy_term + (unary.to(torch.float64) * q).sum() - 0.5 * (q * message.to(torch.float64)).sum())

    def inference(self, unary: torch.Tensor, iterations: int = 5, *, history: bool = False,
                  history_classes: Sequence[int] | None = None, objective: bool = False) -> CRFResult:
        """Mean field on this image from unary energies ``unary`` (C, H, W); see :func:`dense_crf`.

        Raises
        ------
        ValueError
            If ``unary`` has the wrong shape or NaN/infinite values, or ``iterations`` is not an int >= 0.
        """
        if not isinstance(unary, torch.Tensor) or unary.ndim != 3:
            raise ValueError(f"unary must be a tensor of shape (C, {self.height}, {self.width}), "
                             f"got {tuple(unary.shape) if isinstance(unary, torch.Tensor) else type(unary).__name__}")
        c = int(unary.shape[0])
        if tuple(unary.shape[1:]) != (self.height, self.width):
            raise ValueError(f"unary must have shape (C, {self.height}, {self.width}), got {tuple(unary.shape)}")
        iterations = check_int(iterations, "iterations", 0, 10**5)
        if c < 1:
            raise ValueError(f"unary must have at least one class, got shape {tuple(unary.shape)}")
        if not bool(torch.isfinite(unary).all()):
            raise ValueError("unary contains NaN or infinite values: energies must be finite "
                             "(use unary_from_probs, which clips probabilities before the log)")
        neg_u = (-unary.to(device=self.device, dtype=torch.float32)).permute(1, 2, 0).reshape(-1, c).contiguous()
        keep = list(range(c)) if history_classes is None else list(check_sequence(
            history_classes, "history_classes", lambda k, n: check_int(k, n, 0, c - 1), what="class indices"))
        scores = neg_u
        q = torch.softmax(scores, dim=1) if history else _softmax_rows_(neg_u.clone(), False)
        scores_hist, probs_hist, obj = [], [], []

        def record(s: torch.Tensor, p: torch.Tensor) -> None:
            if history:
                scores_hist.append(s[:, keep].t().reshape(len(keep), self.height, self.width).clone())
                probs_hist.append(p[:, keep].t().reshape(len(keep), self.height, self.width).clone())

        record(scores, q)
        # Without overflow risk the softmax needs no max subtraction: scores <= message bound.
        fast = (self._message_bound + max(float(neg_u.max()), 0.0) + math.log(c) < 80.0
                and float(neg_u.min()) > -80.0)
        buf = q  # Q, then the scores computed from it, then (in place) the new Q
        del scores
        for _ in range(iterations):
            if objective:
                message = self.message(buf)
                obj.append(self.objective(-neg_u, buf, message))
                buf = message.add_(neg_u)
                del message
            else:
                buf = self._scores(buf, neg_u)
            if history:
                scores = buf.clone()
            _softmax_rows_(buf, fast)
            if history:
                record(scores, buf)
                del scores
        q = buf
        self._release()
        if not bool(torch.isfinite(q).all()):  # defensive: never hand back NaN marginals whose argmax is 0
            raise ValueError(f"the mean field produced non-finite probabilities with params={self.params}: "
                             "the kernel weights or unaries are too extreme for float32")
        if objective:
            obj.append(self.objective(-neg_u, q))
        probs = q.t().reshape(c, self.height, self.width).contiguous()
        return CRFResult(
            probs=probs,
            scores_history=torch.stack(scores_hist) if history else None,
            probs_history=torch.stack(probs_hist) if history else None,
            history_classes=keep if history else None,
            objective=torch.tensor(obj, dtype=torch.float64) if objective else None,
            params=self.params,
        )


@contextmanager
def _cpu_threads(threads: int, on_cpu: bool):
    """Run the block with ``torch.set_num_threads(threads)`` (CPU only), then restore the count."""
    before = torch.get_num_threads()
    change = on_cpu and threads != before
    if change:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if change:
            torch.set_num_threads(before)


def _softmax_rows_(x: torch.Tensor, fast: bool) -> torch.Tensor:
    """Softmax over dim 1 in place (no new (N, C) buffer); ``fast`` skips the max subtraction."""
    if not fast:
        x.sub_(x.amax(dim=1, keepdim=True))
    x.exp_()
    x.div_(x.sum(dim=1, keepdim=True))
    return x


def _as_tensor(x, name: str, device: torch.device | None) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array of shape (C, H, W) or (N, C, H, W), "
                        f"got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a float tensor, got dtype {x.dtype}")
    if x.device.type == "meta":
        raise ValueError(f"{name} is on the meta device: it has a shape but no values")
    return x.to(device) if device is not None else x


def dense_crf(image, probs=None, *, logits=None, params: CRFParams | None = None, iterations: int = 5,
              history: bool = False, history_classes: Sequence[int] | None = None, objective: bool = False,
              clip: float = 1e-5, device: torch.device | str | None = None, threads: int | None = None) -> CRFResult:
    """Refine a segmentation's class probabilities with the fully connected CRF (mean field).

    Parameters
    ----------
    image : ndarray, (H, W, 3) or (N, H, W, 3), uint8 (or float in [0, 1])
        The RGB image(s); colour distances are in 0-255 units, as in ``pydensecrf``.
    probs : torch.Tensor or ndarray, (C, H, W) or (N, C, H, W), float
        Class probabilities (each pixel's sum to one), e.g. a network's upsampled softmax.
    logits : torch.Tensor or ndarray, same shapes
        Unnormalised class scores instead of ``probs`` (give exactly one of the two).
    params : CRFParams, optional
        Kernel weights and widths (default: ``CRFParams()``).
    iterations : int
        Number of mean-field iterations (``pydensecrf``'s ``inference(n)``).
    history : bool
        Keep the scores before and the probabilities after the softmax of every iteration.
    history_classes : sequence of int, optional
        Keep only these classes in the histories (saves memory on large images).
    objective : bool
        Compute the mean-field objective after every iteration (one extra filtering at the end).
    clip : float
        Probabilities are clipped at ``clip`` before ``-log`` (as ``pydensecrf.utils.unary_from_softmax``).
    device : torch.device or str, optional
        Where to run; default: the device of ``probs``/``logits`` (CPU for arrays).
    threads : int, optional
        torch CPU threads for this call (restored afterwards); default
        :func:`course_utils.env.cpu_threads`, the cores no other process is busy on, because two
        threads sharing a core with another process make the CRF ~10x slower than one. Ignored on CUDA.

    Returns
    -------
    CRFResult
        ``probs`` (C, H, W) or (N, C, H, W) float32, plus the optional histories and objective.

    Raises
    ------
    ValueError
        Naming the argument: both or neither of ``probs``/``logits``; ``probs`` outside [0, 1] or not
        summing to one; image and unaries of different sizes or batch sizes; a non-RGB image;
        a negative kernel width (from :class:`CRFParams`); ``iterations`` < 0; bad ``history_classes``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> image = np.zeros((20, 30, 3), np.uint8); image[:, 15:] = 255
    >>> probs = torch.full((2, 20, 30), 0.5)
    >>> probs[0, :, :14] = 0.6; probs[1, :, :14] = 0.4
    >>> dense_crf(image, probs, iterations=5).labels.shape
    torch.Size([20, 30])
    """
    if (probs is None) == (logits is None):
        raise ValueError("give exactly one of probs=... (probabilities) or logits=... (unnormalised scores)")
    name = "probs" if probs is not None else "logits"
    x = _as_tensor(probs if probs is not None else logits, name, get_device(device, name="device") if device is not None else None)
    iterations = check_int(iterations, "iterations", 0, 10**5)
    clip = check_number(clip, "clip", 0.0, 1.0, open_min=True, open_max=True)
    for flag, flag_name in ((history, "history"), (objective, "objective")):
        if not isinstance(flag, (bool, np.bool_)):  # a flag: 0/1 or a string would be a silent yes/no
            raise ValueError(f"{flag_name} must be True or False, got {flag!r}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{name} must have shape (C, H, W) or (N, C, H, W), got {tuple(x.shape)}")
    batched = x.ndim == 4
    xb = x if batched else x.unsqueeze(0)
    num_classes = int(xb.shape[1])
    if num_classes < 2:
        raise ValueError(f"{name} must have at least 2 classes along dim {-3}, got shape {tuple(x.shape)}")
    if history_classes is not None:
        history_classes = check_sequence(history_classes, "history_classes",
                                         lambda k, n: check_int(k, n, 0, num_classes - 1), what="class indices")
    params = CRFParams() if params is None else params
    if not isinstance(params, CRFParams):
        raise TypeError(f"params must be a CRFParams, got {type(params).__name__}")
    check_bytes(crf_bytes(xb.shape[2], xb.shape[3], num_classes, params, iterations=iterations, history=history,
                          history_classes=None if history_classes is None else len(history_classes)),
                name=name, value=f"<shape {tuple(x.shape)}>",
                what=f"the CRF's lattices and mean-field arrays of one {xb.shape[2]}x{xb.shape[3]} image with "
                     f"{num_classes} classes")
    images = image if not isinstance(image, (list, tuple)) else np.stack([np.asarray(im) for im in image])
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    if not isinstance(images, np.ndarray):
        raise TypeError(f"image must be a numpy array (H, W, 3) or (N, H, W, 3), got {type(image).__name__}")
    if batched:
        if images.ndim != 4:
            raise ValueError(f"image must have shape (N, H, W, 3) for batched {name} of shape {tuple(x.shape)}, "
                             f"got {images.shape}")
        if images.shape[0] != xb.shape[0]:
            raise ValueError(f"image holds {images.shape[0]} images but {name} holds {xb.shape[0]}")
        image_list = list(images)
    else:
        if images.ndim == 4:
            raise ValueError(f"image has shape {images.shape} (a batch) but {name} has shape {tuple(x.shape)} "
                             "(one image); give (N, C, H, W) unaries for a batch")
        image_list = [images]
    for k, im in enumerate(image_list):
        check_image(im, "image" if not batched else f"image[{k}]")
        if im.shape[:2] != tuple(xb.shape[2:]):
            raise ValueError(f"image and {name} must have the same size: image is {im.shape[0]}x{im.shape[1]}, "
                             f"{name} is {xb.shape[2]}x{xb.shape[3]} (H x W); upsample the scores to the image first")
    if probs is not None:
        check_probs(xb, "probs")
        p = xb
    else:
        if not bool(torch.isfinite(xb).all()):
            raise ValueError("logits contains NaN or infinite values")
        # the softmax in the logits' precision (at least float32): float64 logits beyond float32's range stay finite
        p = torch.softmax(xb if xb.dtype == torch.float64 else xb.to(torch.float32), dim=1).to(torch.float32)
    if threads is not None:
        threads = check_int(threads, "threads", 1, 4096)
    results = []
    with _cpu_threads(int(threads) if threads is not None else cpu_threads(), p.device.type == "cpu"):
        for im, pk in zip(image_list, p, strict=True):
            crf = DenseCRF(im, params, device=pk.device)
            results.append(crf.inference(unary_from_probs(pk, clip), iterations, history=history,
                                         history_classes=history_classes, objective=objective))
    if not batched:
        return results[0]
    return CRFResult(
        probs=torch.stack([r.probs for r in results]),
        scores_history=torch.stack([r.scores_history for r in results]) if history else None,
        probs_history=torch.stack([r.probs_history for r in results]) if history else None,
        history_classes=results[0].history_classes,
        objective=torch.stack([r.objective for r in results]) if objective else None,
        params=params,
    )
