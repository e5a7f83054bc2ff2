"""Shipping a course run as a checkpoint: float16 weights, figures and a registry entry.

``python -m course_utils.train record deeplab --run DIR --device-note TEXT`` and
``python -m course_utils.train record fcn --run DIR --device-note TEXT`` turn the folder of a
``--recipe course`` training run (:mod:`course_utils.train.deeplab`, :mod:`course_utils.train.fcn`)
into a checkpoint of :mod:`course_utils.checkpoints`:

* :func:`record_deeplab` -- the float16 file, the CRF's temperature and parameters chosen on held-out
  training scenes (:func:`search_checkpoint_crf` over :data:`CRF_SEARCH_GRID`), the validation
  figures with and without the CRF, the registry entry;
* :func:`record_fcn` -- every stage's float16 file (without the fixed bilinear layer), curves,
  validation scores and registry entry.

The figures are measured by :mod:`course_utils.evaluate.checkpoints` on the shipped float16 weights.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from course_utils._shared import check_int
from course_utils.checkpoints import WEIGHTS_DIR, build_net, load_checkpoint, save_checkpoint_file, write_entry
from course_utils.cli import command
from course_utils.crf.deeplab import fit_temperature
from course_utils.crf.dense_crf import CRFParams
from course_utils.data.cityscapes import labels_to_train_ids
from course_utils.data.minicity import COURSE_MINICITY, GENERATOR_VERSION, course_minicity_val_root, heldout_frames
from course_utils.data.voc import COURSE_VOC, course_voc_root
from course_utils.evaluate.checkpoints import evaluate_deeplab_checkpoint, evaluate_fcn_checkpoint
from course_utils.evaluate.crf import search_crf_params
from course_utils.evaluate.predict import dcnn_logits
from course_utils.train.deeplab import COURSE_DEEPLAB, deeplab_architecture
from course_utils.train.fcn import COURSE_FCN, fcn_architecture

__all__ = ["CRF_SEARCH_GRID", "search_checkpoint_crf", "record_deeplab", "record_fcn", "record_deeplab_main",
           "record_fcn_main"]

#: What the held-out CRF search tries: (w1, sigma_alpha, sigma_beta, w2, sigma_gamma), the widths
#: in pixels of the 256 x 512 frames themselves (not rescaled from PASCAL VOC's values). Each axis
#: doubles from a light or narrow value to one past what helps, so that the choice is not at the grid's edge.
CRF_SEARCH_GRID: tuple[tuple[float, float, float, float, float], ...] = tuple(
    (w1, sa, sb, 3.0, 2.0) for w1 in (4.0, 8.0, 16.0, 32.0, 64.0) for sa in (15.0, 30.0, 60.0, 120.0, 240.0)
    for sb in (4.0, 8.0, 16.0))


def search_checkpoint_crf(net: nn.Module, frames: Sequence[tuple[np.ndarray, np.ndarray]], *,
                          input_scale: float = 1.0, iterations: int = 5,
                          grid: Sequence[tuple[float, ...]] = CRF_SEARCH_GRID) -> dict:
    """Choose the CRF's temperature and kernel parameters for ``net`` on held-out ``frames``.

    ``frames`` are ``(image (H, W, 3) uint8, labels (H, W) train ids)``. The temperature minimises
    the held-out negative log-likelihood of the network's softmax; then every candidate of ``grid``
    is scored (mean IoU, ties broken by the 4-px trimap accuracy) and the best is kept, as DeepLab
    chose its CRF parameters by cross-validation.

    Returns
    -------
    dict
        ``temperature``, ``iterations``, ``params`` (the chosen CRFParams as a dict), ``rows`` (each
        candidate's ``params``, ``mean_iou``, ``trimap``; the first row is the network alone).
    """
    images = [im for im, _ in frames]
    labels = [lab for _, lab in frames]
    logits = [dcnn_logits(net, im, input_scale=input_scale) for im in images]
    temperature = fit_temperature(logits, labels)
    best, rows = search_crf_params(images, logits, labels, [CRFParams(*g) for g in grid], temperature=temperature,
                                   iterations=iterations)
    return {"temperature": float(temperature), "iterations": int(iterations), "params": asdict(best),
            "rows": [{"params": None if r["params"] is None else asdict(r["params"]), "mean_iou": float(r["mean_iou"]),
                      "trimap": float(r["trimap"])} for r in rows]}


def record_deeplab(run_dir: str | Path, *, device_note: str, val_frames: int = 100, heldout: int = 8,
                   data_root: str | Path | None = None, log=print) -> dict[str, Any]:
    """Ship a ``--recipe course`` run: float16 file, held-out CRF search, validation figures, registry entry.

    ``run_dir`` holds the run's ``final.pt`` and ``result.json``. The CRF is searched on training-split
    scenes the run never saw (:func:`course_utils.data.minicity.heldout_frames`); the figures are
    measured on the first ``val_frames`` validation frames with the shipped float16 weights.
    """
    run_dir = Path(run_dir)
    state = torch.load(run_dir / "final.pt", map_location="cpu", weights_only=False)
    result = json.loads((run_dir / "result.json").read_text())
    settings = state["settings"]
    model = settings["model"]
    name = f"deeplab-{model}"
    arch = deeplab_architecture(settings)
    net = build_net(arch)
    net.load_state_dict(state["net"])
    sha = save_checkpoint_file(net, arch, WEIGHTS_DIR / f"{name}.pt", curves={"train_loss": list(state["history"])})
    changed = {k: settings[k] for k in ("epochs",) if settings[k] != COURSE_DEEPLAB[model][k]}
    # the device the run used: one thread per process on a shared CPU, or the GPU
    where = "--device cuda" if str(result.get("device", "cpu")).startswith("cuda") else "--threads 1"
    command = f"python -m course_utils.train deeplab --recipe course --model {model} {where}" + "".join(
        f" --{k} {v}" for k, v in changed.items())
    fields = {"family": "deeplab", "file": f"{name}.pt", "sha256": sha, "command": command, "seed": settings["seed"],
              "data": {"generator": "MiniCity", "version": GENERATOR_VERSION,
                       **{k: list(v) if isinstance(v, tuple) else v for k, v in COURSE_MINICITY.items()}},
              "architecture": arch, "train_seconds": round(float(result.get("seconds", 0.0)), 1),
              "device": device_note, "figures": {}, "tolerance": 0.005, "crf": {}}
    write_entry(name, fields)
    shipped = load_checkpoint(name)  # the float16 weights, as users get them
    log(f"{name}: searching the CRF on {heldout} held-out training scenes")
    first = COURSE_MINICITY["train_images"]
    frames = [(im, labels_to_train_ids(ids)) for im, ids in
              heldout_frames(heldout, seed=COURSE_MINICITY["seed"], first=first, size=tuple(COURSE_MINICITY["size"]))]
    search = search_checkpoint_crf(shipped, frames, input_scale=arch["input_scale"])
    search["heldout"] = (f"training-split scenes {first}..{first + heldout - 1} (seed {COURSE_MINICITY['seed']}), "
                         "never trained on")
    fields["crf"] = search
    write_entry(name, fields)
    log(f"{name}: scoring {val_frames} validation frames with and without the CRF")
    root = Path(data_root) if data_root is not None else course_minicity_val_root(val_frames)
    ev = evaluate_deeplab_checkpoint(name, root, frames=val_frames, crf=True, net=shipped)
    fields["figures"] = {"split": "val", "frames": val_frames, "data": "course MiniCity (seed 0)",
                         "mean_iou": ev["dcnn"]["mean_iou"], "crf_mean_iou": ev["crf"]["mean_iou"],
                         "class_iou": ev["dcnn"]["class_iou"], "crf_class_iou": ev["crf"]["class_iou"],
                         "trimap_width": ev["dcnn"]["trimap"]["width"], "trimap_acc": ev["dcnn"]["trimap"]["pixel_acc"],
                         "crf_trimap_acc": ev["crf"]["trimap"]["pixel_acc"], "gain": ev["gain"]}
    write_entry(name, fields)
    log(f"{name}: mean IoU {ev['dcnn']['mean_iou']:.4f} -> {ev['crf']['mean_iou']:.4f} with the CRF; "
        f"trimap gain (<= 4 px) {ev['gain']['trimap_small']:+.4f}")
    return fields


def record_fcn(run_dir: str | Path, *, device_note: str, data_root: str | Path | None = None,
               log=print) -> dict[str, dict[str, Any]]:
    """Ship the stages of a ``python -m course_utils.train fcn --recipe course`` folder as checkpoints
    (float16 files without the fixed bilinear layer, curves, validation scores, registry entries)."""
    run_dir = Path(run_dir)
    root = Path(data_root) if data_root is not None else course_voc_root()
    out = {}
    for variant in COURSE_FCN["epochs"]:
        state = torch.load(run_dir / f"fcn-{variant}.pt", map_location="cpu", weights_only=False)
        name = f"fcn-{variant}"
        arch = fcn_architecture(variant)
        net = build_net(arch)
        net.load_state_dict(state["net"])
        curves = {k: [float(x) for x in state[k]] for k in ("train_loss", "val_loss", "val_mean_iu")}
        sha = save_checkpoint_file(net, arch, WEIGHTS_DIR / f"{name}.pt", curves=curves)
        data = {"generator": "synthetic VOC", **{k: list(v) if isinstance(v, tuple) else v for k, v in COURSE_VOC.items()}}
        init = {"16s": "fcn-32s", "8s": "fcn-16s"}.get(variant)
        if init:
            data["initialised_from"] = init
        fields = {"family": "fcn", "file": f"{name}.pt", "sha256": sha,
                  "command": "python -m course_utils.train fcn --recipe course", "seed": COURSE_FCN["seed"],
                  "data": data, "architecture": arch, "train_seconds": round(float(state["seconds"]), 1),
                  "device": device_note, "figures": {}, "tolerance": 0.005, "crf": {}}
        write_entry(name, fields)
        scores = evaluate_fcn_checkpoint(name, root)
        fields["figures"] = {"split": "val", **scores, "epochs": int(state["epochs"])}
        write_entry(name, fields)
        log(f"{name}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if k != "images"))
        out[name] = fields
    return out


# --------------------------------------------------------------------------- command lines


def _parser(family: str, description: str, run_files: str) -> argparse.ArgumentParser:
    """The arguments every ``record`` command takes: the run's folder and where it was trained."""
    p = argparse.ArgumentParser(prog=f"python -m course_utils.train record {family}", description=description)
    p.add_argument("--run", required=True, help=f"the training run's folder ({run_files})")
    p.add_argument("--device-note", required=True, help="where it was trained, e.g. 'cpu (2 cores)'")
    return p


@command
def record_deeplab_main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train record deeplab --run DIR --device-note TEXT``: ship a course run."""
    p = _parser("deeplab", "Ship a --recipe course DeepLab run as a checkpoint: float16 file, held-out CRF search, "
                           "validation figures, registry entry.", "final.pt, result.json")
    p.add_argument("--val-frames", type=int, default=100, help="validation frames scored")
    p.add_argument("--heldout", type=int, default=8, help="held-out training scenes for the CRF search")
    args = p.parse_args(argv)
    record_deeplab(args.run, device_note=args.device_note, val_frames=check_int(args.val_frames, "--val-frames", 1),
                   heldout=check_int(args.heldout, "--heldout", 1))
    return 0


@command
def record_fcn_main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train record fcn --run DIR --device-note TEXT``: ship a course run."""
    p = _parser("fcn", "Ship a --recipe course FCN run as checkpoints: float16 files, validation scores, "
                       "registry entries.", "fcn-<variant>.pt")
    args = p.parse_args(argv)
    record_fcn(args.run, device_note=args.device_note)
    return 0
