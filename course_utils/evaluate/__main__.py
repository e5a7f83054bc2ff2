"""Evaluate predictions in a benchmark's official format.

    python -m course_utils.evaluate cityscapes --pred DIR --gt DIR [--pred-ids {label,train}] [--json]
    python -m course_utils.evaluate deeplab --checkpoint NAME (--data-root DIR | --data-seed S) [--crf] [--frames N] [--json]
    python -m course_utils.evaluate fcn --checkpoint NAME (--data-root DIR | --data-seed S) [--json]

``--pred``: label-id PNGs named ``{city}_{seq}_{frame}*.png`` (``--pred-ids train``: train ids 0-18, 255); ``--gt``: a
folder of ``*_gtFine_labelIds.png`` (e.g. ``<root>/gtFine/val``). Prints a table,
or with ``--json`` ``{"mean_iou": ..., "class_iou": {...}, "category_iou": {...}}``
(IoUs in [0, 1]; null where a class is absent from both). Exit status 2 on bad input.

``deeplab`` scores a course checkpoint (:mod:`course_utils.checkpoints`) on the ``val`` split of
a Cityscapes-layout folder and prints ``{"mean_iou", "class_iou", "trimap"}`` (with ``--crf``: of the
network refined by the dense CRF with the course's searched settings); ``fcn`` scores an FCN
checkpoint on the ``val`` split of a VOC-layout folder (the four FCN scores). ``--data-seed S``
scores on data the course's generators draw with seed ``S`` (generated under the data folder if missing,
:mod:`course_utils.evaluate.unseen`) instead of a folder.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

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
    dl = sub.add_parser("deeplab", help="score a course DeepLab checkpoint on a Cityscapes-layout folder")
    dl.add_argument("--checkpoint", required=True, help="e.g. deeplab-vgg_aspp (python -m course_utils.checkpoints)")
    where = dl.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-root", help="a Cityscapes-layout root (its val split is scored)")
    where.add_argument("--data-seed", type=int, help="MiniCity validation frames drawn with this seed "
                                                      "(generated under the data folder if missing)")
    dl.add_argument("--crf", action="store_true", help="refine with the dense CRF (the course's searched settings)")
    dl.add_argument("--frames", type=int, default=None, help="score the first N validation frames (default: all)")
    dl.add_argument("--json", action="store_true", help="print the scores as JSON")
    fc = sub.add_parser("fcn", help="score a course FCN checkpoint on a VOC-layout folder")
    fc.add_argument("--checkpoint", required=True, help="e.g. fcn-8s")
    where = fc.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-root", help="the folder holding VOCdevkit/VOC2012 (its val split is scored)")
    where.add_argument("--data-seed", type=int, help="synthetic VOC validation images drawn with this seed "
                                                      "(generated under the data folder if missing)")
    fc.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)
    if args.benchmark == "cityscapes":
        scores = evaluate_cityscapes(args.pred, args.gt, pred_ids=args.pred_ids)
        print(json.dumps(_json_result(scores), indent=1) if args.json else _table(scores))
        return 0
    # scoring a checkpoint runs a network (torch): imported only for these two commands
    from course_utils.evaluate.checkpoints import evaluate_deeplab_checkpoint, evaluate_fcn_checkpoint

    if args.data_seed is not None and args.data_seed < 0:
        raise ValueError(f"--data-seed must be a non-negative int, got {args.data_seed}")
    if args.data_root is not None and not Path(args.data_root).is_dir():
        raise FileNotFoundError(f"--data-root {args.data_root} is not a folder")
    if args.benchmark == "deeplab":
        if args.frames is not None and args.frames < 1:
            raise ValueError(f"--frames must be >= 1, got {args.frames}")
        root = args.data_root
        if args.data_seed is not None:
            from course_utils.evaluate.unseen import unseen_minicity_root

            root = unseen_minicity_root(args.data_seed, args.frames or 100)
        ev = evaluate_deeplab_checkpoint(args.checkpoint, root, frames=args.frames, crf=args.crf)
        result = {"checkpoint": args.checkpoint, "data": str(root), "frames": ev["frames"], "crf": args.crf,
                  **ev["crf" if args.crf else "dcnn"]}
        if ev.get("scale_note"):
            result["scale_note"] = ev["scale_note"]
            if not args.json:
                print(ev["scale_note"])
        if args.crf:
            result["without_crf"] = {"mean_iou": ev["dcnn"]["mean_iou"], "trimap": ev["dcnn"]["trimap"]}
    else:
        root = args.data_root
        if args.data_seed is not None:
            from course_utils.checkpoints import REGISTRY
            from course_utils.evaluate.unseen import unseen_voc_root

            if args.checkpoint not in REGISTRY:  # before any data is drawn
                raise ValueError(f"--checkpoint {args.checkpoint!r} is unknown; expected one of "
                                 f"{sorted(k for k, e in REGISTRY.items() if e.family == 'fcn')}")
            # the drawing of the data the checkpoint was trained on (entries before the scenes: clipart)
            root = unseen_voc_root(args.data_seed, style=REGISTRY[args.checkpoint].data.get("style", "clipart"))
        result = {"checkpoint": args.checkpoint, "data": str(root), **evaluate_fcn_checkpoint(args.checkpoint, root)}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for key, value in result.items():
            if not isinstance(value, dict):
                print(f"{key:<12} {value}")
        if "class_iou" in result:
            print("\n".join(f"  {k:<14} {'n/a' if v is None else f'{v:.3f}'}" for k, v in result["class_iou"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
