"""The fully connected CRF (Krähenbühl & Koltun 2011) in PyTorch, as DeepLab uses it.

* :mod:`~course_utils.crf.permutohedral`: the permutohedral lattice (Adams et al. 2010) for fast
  Gaussian filtering, in tensor operations (CPU and CUDA);
* :mod:`~course_utils.crf.dense_crf`: mean-field inference with the appearance and smoothness
  kernels and the Potts compatibility (``pydensecrf``'s conventions);
* :mod:`~course_utils.crf.exact`: the same inference with the O(N^2) kernel sums, for tiny images;
* :mod:`course_utils.metrics_boundary`: accuracy in a band around object boundaries (DeepLab's trimap);
* :mod:`~course_utils.crf.unaries`: realistic test unaries from a real photo.
"""

from course_utils.crf.dense_crf import CRFParams, CRFResult, DenseCRF, check_probs, dense_crf, unary_from_probs
from course_utils.crf.permutohedral import LatticeFilter, PermutohedralLattice, permutohedral_filter
from course_utils.crf.unaries import coarse_logits, coarse_probs, photo_labels

__all__ = [
    "CRFParams",
    "CRFResult",
    "DenseCRF",
    "LatticeFilter",
    "PermutohedralLattice",
    "check_probs",
    "coarse_logits",
    "coarse_probs",
    "dense_crf",
    "permutohedral_filter",
    "photo_labels",
    "unary_from_probs",
]
