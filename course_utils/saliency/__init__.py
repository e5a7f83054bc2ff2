"""Saliency detection (显著性检测), lesson 1: bottom-up methods, SOD and fixation metrics, synthetic eye tracking.

bottom_up
    Spectral residual, frequency-tuned, histogram and region contrast.
metrics
    Salient-object metrics (MAE, F-measure, S-measure, E-measure) and fixation metrics
    (NSS, AUC-Judd, CC). They stay here rather than in :mod:`course_utils.evaluate`: they score
    saliency maps, not label maps, and only lesson 1 uses them.
fixations
    Synthetic eye-tracking (眼动): an observer model computed from the image (centre bias,
    bottom-up contrast, noise), fixation points, fixation maps, density maps.

numpy only. The saliency network is :mod:`course_utils.nets.saliency`, its training
:mod:`course_utils.train.saliency`, its inference :func:`course_utils.evaluate.predict.predict_saliency`.
"""

from course_utils.saliency.bottom_up import (
    frequency_tuned,
    histogram_contrast,
    log_spectrum,
    METHODS,
    quantize_colors,
    region_contrast,
    spectral_residual,
    spectral_residual_core,
)
from course_utils.saliency.metrics import (
    adaptive_threshold,
    auc_judd,
    BETA2,
    cc,
    check_saliency,
    e_measure,
    e_measure_curve,
    evaluate_sod,
    evaluate_sod_dataset,
    f_measure,
    f_measure_curve,
    mae,
    nss,
    precision_recall,
    s_measure,
)
from course_utils.saliency.fixations import (
    attention_prior,
    centre_bias,
    contrast_map,
    observer_prior,
    fixation_density,
    fixation_map,
    simulate_eye_tracking,
)

__all__ = [
    "adaptive_threshold",
    "attention_prior",
    "auc_judd",
    "BETA2",
    "cc",
    "centre_bias",
    "check_saliency",
    "contrast_map",
    "e_measure",
    "e_measure_curve",
    "evaluate_sod",
    "evaluate_sod_dataset",
    "f_measure",
    "f_measure_curve",
    "fixation_density",
    "fixation_map",
    "frequency_tuned",
    "histogram_contrast",
    "log_spectrum",
    "mae",
    "METHODS",
    "nss",
    "observer_prior",
    "precision_recall",
    "quantize_colors",
    "region_contrast",
    "s_measure",
    "simulate_eye_tracking",
    "spectral_residual",
    "spectral_residual_core",
]
