"""Benchmark evaluations in the official formats: ``python -m course_utils.evaluate cityscapes --pred DIR --gt DIR``."""

from course_utils.evaluate.cityscapes import (
    cityscapes_scores,
    evaluate_cityscapes,
    match_predictions,
    official_cityscapes_scores,
    predict_cityscapes,
    write_prediction,
)

__all__ = ["cityscapes_scores", "evaluate_cityscapes", "match_predictions", "official_cityscapes_scores", "predict_cityscapes", "write_prediction"]
