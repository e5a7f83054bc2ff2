"""The dense CRF's mean field with exact O(N^2) kernel sums, for tiny images.

The permutohedral lattice (:mod:`course_utils.crf.permutohedral`) approximates the
Gaussian sums ``sum_j k(f_i, f_j) Q_j``; here they are computed exactly with the
full N x N kernel matrices, which is only possible for a few thousand pixels.
Comparing both shows the lattice's approximation error (tests, lesson 6).

By default the conventions are those of :class:`~course_utils.crf.dense_crf.DenseCRF`
(``pydensecrf``'s): each kernel normalised symmetrically, the ``j = i`` term included.
``normalization="none", include_self=False`` gives the plain energy of the lecture,
``sum_{j != i} w k(f_i, f_j)`` with unnormalised Gaussians.
"""

from __future__ import annotations

import torch

from course_utils.crf.dense_crf import CRFParams, CRFResult, DenseCRF, check_probs, unary_from_probs

__all__ = ["gaussian_kernel_matrix", "exact_filter", "ExactDenseCRF", "exact_dense_crf"]

_NORMALIZATIONS = ("symmetric", "none")


def gaussian_kernel_matrix(features: torch.Tensor) -> torch.Tensor:
    """``K_ij = exp(-|f_i - f_j|^2 / 2)`` for features (N, d): (N, N) float64 (features already divided by sigma)."""
    if not isinstance(features, torch.Tensor) or features.ndim != 2:
        raise ValueError(f"features must be a tensor of shape (N, d), got {getattr(features, 'shape', type(features))}")
    f = features.to(torch.float64)
    sq = (f * f).sum(dim=1)
    dist2 = (sq[:, None] + sq[None, :] - 2.0 * f @ f.t()).clamp_(min=0.0)
    return torch.exp(-0.5 * dist2)


def exact_filter(features: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``sum_j exp(-|f_i - f_j|^2 / 2) v_j`` exactly: (N, C) float64 for features (N, d), values (N, C)."""
    return gaussian_kernel_matrix(features) @ values.to(torch.float64)


class ExactDenseCRF(DenseCRF):
    """:class:`~course_utils.crf.dense_crf.DenseCRF` with exact kernel matrices instead of lattices.

    Parameters
    ----------
    image : ndarray (H, W, 3)
        At most ``max_pixels`` pixels.
    params : CRFParams, optional
    device : torch.device or str, optional
    normalization : {"symmetric", "none"}
        ``"symmetric"``: ``D^-1/2 K D^-1/2`` as ``pydensecrf``; ``"none"``: the raw Gaussians.
    include_self : bool
        Keep the ``j = i`` term of the sums (``pydensecrf`` does).
    max_pixels : int
        Refuse larger images (the kernel matrices take ``8 N^2`` bytes each).
    """

    def __init__(self, image, params: CRFParams | None = None, *, device: torch.device | str | None = None,
                 normalization: str = "symmetric", include_self: bool = True, max_pixels: int = 4096) -> None:
        if normalization not in _NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {_NORMALIZATIONS}, got {normalization!r}")
        rgb, pos = self._setup(image, params, device)
        params = self.params
        n = self.num_pixels
        if n > max_pixels:
            raise ValueError(f"image has {n} pixels; the exact CRF needs N^2 memory and allows at most "
                             f"max_pixels={max_pixels} (use DenseCRF for real images)")
        kernel = torch.zeros(n, n, dtype=torch.float64, device=self.device)
        for weight, features in ((params.w1, torch.cat([pos / params.sigma_alpha, rgb.reshape(n, 3) / params.sigma_beta], 1)),
                                 (params.w2, pos / params.sigma_gamma)):
            if weight <= 0:
                continue
            k = gaussian_kernel_matrix(features)
            if not include_self:
                k.fill_diagonal_(0.0)
            if normalization == "symmetric":
                norm = torch.rsqrt(k.sum(dim=1) + 1e-20)
                k = norm[:, None] * k * norm[None, :]
            kernel += float(weight) * k
        self.kernel = kernel  # (N, N) float64: the weighted, normalised sum of both kernels
        self.lattice_sizes = []
        self._filter = None
        self._message_bound = float(kernel.sum(dim=1).max())
        self.normalization, self.include_self = normalization, include_self

    def message(self, probs: torch.Tensor) -> torch.Tensor:
        """``sum_j K_ij Q_j`` exactly, (N, C) float32."""
        return (self.kernel @ probs.to(torch.float64)).to(torch.float32)

    def _scores(self, probs: torch.Tensor, neg_unary: torch.Tensor) -> torch.Tensor:
        return self.message(probs).add_(neg_unary)

    def _release(self) -> None:
        pass


def exact_dense_crf(image, probs, *, params: CRFParams | None = None, iterations: int = 5,
                    normalization: str = "symmetric", include_self: bool = True, history: bool = False,
                    objective: bool = False, clip: float = 1e-5) -> CRFResult:
    """Mean field with exact kernels for one tiny image: ``probs`` (C, H, W) -> :class:`CRFResult`.

    See :class:`ExactDenseCRF` for ``normalization`` and ``include_self``; the rest as
    :func:`~course_utils.crf.dense_crf.dense_crf` (single image, probabilities only).
    """
    if not isinstance(probs, torch.Tensor) or probs.ndim != 3:
        raise ValueError(f"probs must be a tensor of shape (C, H, W), got {getattr(probs, 'shape', type(probs))}")
    check_probs(probs, "probs")
    crf = ExactDenseCRF(image, params, device=probs.device, normalization=normalization, include_self=include_self)
    if tuple(probs.shape[1:]) != (crf.height, crf.width):
        raise ValueError(f"image and probs must have the same size: image is {crf.height}x{crf.width}, "
                         f"probs is {probs.shape[1]}x{probs.shape[2]}")
    return crf.inference(unary_from_probs(probs, clip), iterations, history=history, objective=objective)
