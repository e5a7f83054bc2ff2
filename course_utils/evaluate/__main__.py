"""Evaluate predictions in a benchmark's official format.

    python -m course_utils.evaluate cityscapes --pred DIR --gt DIR [--pred-ids {label,train}] [--json]

``--pred``: label-id PNGs named ``{city}_{seq}_{frame}*.png`` (``--pred-ids train``: train ids 0-18, 255); ``--gt``: a
folder of ``*_gtFine_labelIds.png`` (e.g. ``<root>/gtFine/val``). Prints a table,
or with ``--json`` ``{"mean_iou": ..., "class_iou": {...}, "category_iou": {...}}``
(IoUs in [0, 1]; null where a class is absent from both). Exit status 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from course_utils.cli import command
from course_utils.evaluate.cityscapes import evaluate_cityscapes


def _clean(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def _json_result(scores: dict) -> dict:
    return {
        "mean_iou": None if math.isnan(scores["mean_iou"]) else scores["mean_iou"],
        "class_iou": _clean(scores["class_iou"]),
        "mean_category_iou": None if math.isnan(scores["mean_category_iou"]) else scores["mean_category_iou"],
        "category_iou": _clean(scores["category_iou"]),
        "frames": scores["frames"],
    }


def _table(scores: dict) -> str:
    def fmt(v):
        return "   n/a" if math.isnan(v) else f"{v:6.3f}"

    lines = [f"{'class':<16}{'IoU':>6}"]
    lines += [f"{name:<16}{fmt(v)}" for name, v in scores["class_iou"].items()]
    lines += ["-" * 22, f"{'mean IoU':<16}{fmt(scores['mean_iou'])}", "", f"{'category':<16}{'IoU':>6}"]
    lines += [f"{name:<16}{fmt(v)}" for name, v in scores["category_iou"].items()]
    lines += ["-" * 22, f"{'mean':<16}{fmt(scores['mean_category_iou'])}", f"({scores['frames']} frames)"]
    return "\n".join(lines)


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.evaluate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="benchmark", required=True)
    cs = sub.add_parser("cityscapes", help="Cityscapes pixel-level semantic labelling (class/category IoU)")
    cs.add_argument("--pred", required=True, help="folder of label-id PNG predictions")
    cs.add_argument("--gt", required=True, help="folder of *_gtFine_labelIds.png (e.g. <root>/gtFine/val)")
    cs.add_argument("--pred-ids", choices=("label", "train"), default="label",
                    help="what the PNGs hold: label ids 0-33 (official, default) or train ids 0-18 (a network's argmax)")
    cs.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)
    scores = evaluate_cityscapes(args.pred, args.gt, pred_ids=args.pred_ids)
    print(json.dumps(_json_result(scores), indent=1) if args.json else _table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
