"""The fully connected CRF (Krähenbühl & Koltun 2011) in PyTorch, as DeepLab uses it.

permutohedral
    The permutohedral lattice (Adams et al. 2010) for fast Gaussian filtering, in tensor
    operations (CPU and CUDA).
dense_crf
    Mean-field inference with the appearance and smoothness kernels and the Potts
    compatibility (``pydensecrf``'s conventions).
exact
    The same inference with the O(N^2) kernel sums, for tiny images.
unaries
    Realistic test unaries from a real photo (``coarse_logits`` here: synthetic, from labels).
deeplab
    DeepLab's module 2 on a network's logits: temperature scaling, kernel widths scaled to the
    frame, refined labels, the energy of a labelling.

Scoring with and without the CRF is in :mod:`course_utils.evaluate.crf` (boundary accuracy:
:mod:`course_utils.evaluate.boundary`).
"""

from course_utils.crf.dense_crf import (
    check_probs,
    CRFParams,
    CRFResult,
    dense_crf,
    DenseCRF,
    unary_from_probs,
)
from course_utils.crf.permutohedral import (
    LatticeFilter,
    permutohedral_filter,
    PermutohedralLattice,
)
from course_utils.crf.unaries import (
    coarse_logits,
    coarse_probs,
    photo_labels,
)
from course_utils.crf.exact import (
    exact_dense_crf,
    exact_filter,
    ExactDenseCRF,
    gaussian_kernel_matrix,
)
from course_utils.crf.deeplab import (
    crf_labels,
    fit_temperature,
    labelling_energy,
    REFERENCE_WIDTH,
    scaled_crf_params,
)

__all__ = [
    "check_probs",
    "coarse_logits",
    "coarse_probs",
    "crf_labels",
    "CRFParams",
    "CRFResult",
    "dense_crf",
    "DenseCRF",
    "exact_dense_crf",
    "exact_filter",
    "ExactDenseCRF",
    "fit_temperature",
    "gaussian_kernel_matrix",
    "labelling_energy",
    "LatticeFilter",
    "permutohedral_filter",
    "PermutohedralLattice",
    "photo_labels",
    "REFERENCE_WIDTH",
    "scaled_crf_params",
    "unary_from_probs",
]
