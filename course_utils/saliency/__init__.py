"""Saliency detection (显著性检测): bottom-up methods, a VGG-style saliency net, SOD and fixation metrics.

Modules
-------
bottom_up
    Spectral residual, frequency-tuned, histogram and region contrast.
metrics
    Salient-object metrics (MAE, F-measure, S-measure, E-measure) and
    fixation metrics (NSS, AUC-Judd, CC).
fixations
    Synthetic eye-tracking: fixation points, fixation maps, density maps.
net
    A small saliency network modified from VGG (imports torch).
"""

from course_utils.saliency.bottom_up import (
    METHODS,
    frequency_tuned,
    histogram_contrast,
    region_contrast,
    spectral_residual,
)

__all__ = ["METHODS", "frequency_tuned", "histogram_contrast", "region_contrast", "spectral_residual"]
