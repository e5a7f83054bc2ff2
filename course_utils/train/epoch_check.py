"""DeepLab's epochs re-chosen on held-out training frames, by the rule of :data:`course_utils.config.DEEPLAB_EPOCH_CHECK`.

The course's DeepLab recipe trained 40 epochs first and was raised to 60 after ASPP-VGG missed its target on
the validation frames that lesson 7 reports: a choice made after looking. This check makes the choice again
where no report looks. Each candidate's seed-0 networks exist: the 40-epoch ones (shipped at the commit the
config names, kept in ``course_utils/weights/epoch_check/``) and the 60-epoch course checkpoints. Each is
scored, DCNN alone, on training-split scenes that no run trained on and no report uses; the rule takes the
fewest epochs within the margin of the best on every network.

``python -m course_utils.train epoch-check [--write]`` measures, prints and (``--write``) records the
figures in ``course_utils/weights/epoch_check.json``, which lesson 7 renders and the tests re-check.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from course_utils._shared import check_int, check_number
from course_utils.checkpoints import (REGISTRY, WEIGHTS_DIR, build_net, checkpoint_curves, load_checkpoint,
                                     sha256_file)
from course_utils.cli import command, write_text_atomic
from course_utils.config import DEEPLAB_EPOCH_CHECK
from course_utils.data.minicity import COURSE_MINICITY, course_heldout_frames
from course_utils.evaluate.checkpoints import dcnn_frame_scores

__all__ = ["EPOCH_CHECK_DIR", "EPOCH_CHECK_RECORD", "check_frames", "candidate_file", "candidate_net",
           "heldout_mean_iou", "choose_epochs", "measure", "read_record", "main"]

#: The earlier candidates' weights (float16 course-checkpoint files, as shipped at ``from_commit``).
EPOCH_CHECK_DIR = WEIGHTS_DIR / "epoch_check"
#: What ``epoch-check --write`` recorded: every candidate's held-out mean IoU and file hash, and the choice.
EPOCH_CHECK_RECORD = WEIGHTS_DIR / "epoch_check.json"


def check_frames(check: dict[str, Any] = DEEPLAB_EPOCH_CHECK) -> list[tuple[np.ndarray, np.ndarray]]:
    """The held-out training scenes the check scores on: ``[(image (H, W, 3) uint8, train ids (H, W))]``."""
    return course_heldout_frames(int(check["frames"]), int(check["first_frame"]))


def _shipped_epochs(name: str) -> int:
    """Epochs of the shipped network ``name`` (its recorded training curve)."""
    return len(checkpoint_curves(name)["train_loss"])


def candidate_file(name: str, epochs: int) -> Path:
    """The weights of ``name`` trained ``epochs`` epochs: the course checkpoint, or an earlier candidate's file."""
    if epochs == _shipped_epochs(name):
        return REGISTRY[name].path
    return EPOCH_CHECK_DIR / f"{name}-e{epochs}.pt"


def candidate_net(name: str, epochs: int, sha256: str | None = None) -> nn.Module:
    """The seed-0 network ``name`` trained ``epochs`` epochs, float32 in eval mode.

    The course checkpoint is loaded as every checkpoint is (SHA-256 from the registry); an earlier candidate's
    file is built with the registry's architecture and, if ``sha256`` is given, refused when its hash differs.

    Raises
    ------
    FileNotFoundError
        No file for that candidate.
    ValueError
        A hash or an architecture that does not match.
    """
    path = candidate_file(name, epochs)
    if path == REGISTRY[name].path:
        return load_checkpoint(name)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the {epochs}-epoch {name} (from commit "
                                f"{DEEPLAB_EPOCH_CHECK['from_commit'][:12]})")
    if sha256 is not None and sha256_file(path) != sha256:
        raise ValueError(f"{path} has another SHA-256 than the one recorded ({sha256[:12]}...): damaged or replaced")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = build_net(REGISTRY[name].architecture)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["net"].items()})
    return net.eval()


def heldout_mean_iou(net: nn.Module, frames: list[tuple[np.ndarray, np.ndarray]], input_scale: float = 1.0) -> float:
    """Mean IoU (Cityscapes' definition, a fraction) of ``net``'s DCNN alone on ``frames``."""
    return float(dcnn_frame_scores(net, frames, input_scale=input_scale, widths=(0,))["mean_iou"])


def choose_epochs(scores: dict[str, dict[int, float]], margin: float) -> int:
    """The rule: the fewest epochs whose mean IoU is within ``margin`` of the best candidate's on every network.

    ``scores`` is ``{network: {epochs: mean IoU in [0, 1]}}``, the same candidates for every network.

    Raises
    ------
    ValueError
        No network, networks with other candidates, or a score outside [0, 1].
    """
    margin = check_number(margin, "margin", 0.0)
    if not scores:
        raise ValueError("scores must hold at least one network")
    candidates = sorted(next(iter(scores.values())))
    for name, by_epochs in scores.items():
        if sorted(by_epochs) != candidates:
            raise ValueError(f"scores[{name!r}] has candidates {sorted(by_epochs)}, expected {candidates}")
        for epochs, value in by_epochs.items():
            check_number(value, f"scores[{name!r}][{epochs}]", 0.0, 1.0)
    return next(e for e in candidates
                if all(by_epochs[e] >= max(by_epochs.values()) - margin for by_epochs in scores.values()))


def measure(check: dict[str, Any] = DEEPLAB_EPOCH_CHECK, log=print) -> dict[str, Any]:
    """Score every candidate on the held-out frames; the record ``epoch-check --write`` stores."""
    frames = check_frames(check)
    networks: dict[str, dict[str, Any]] = {}
    for name in check["networks"]:
        networks[name] = {}
        for epochs in check["candidates"]:
            path = candidate_file(name, epochs)
            net = candidate_net(name, epochs)
            miou = heldout_mean_iou(net, frames, REGISTRY[name].architecture.get("input_scale", 1.0))
            networks[name][str(epochs)] = {"file": path.relative_to(WEIGHTS_DIR).as_posix(),
                                           "sha256": sha256_file(path), "heldout_mean_iou": miou}
            if log:
                log(f"{name:<18} {epochs:>3} epochs: held-out mean IoU {100 * miou:.1f}")
    chosen = choose_epochs({n: {int(e): c["heldout_mean_iou"] for e, c in by.items()} for n, by in networks.items()},
                           check["margin"])
    first, count = int(check["first_frame"]), int(check["frames"])
    return {"rule": {k: list(v) if isinstance(v, tuple) else v for k, v in check.items()},
            "frames": f"training-split scenes {first}..{first + count - 1} (seed {COURSE_MINICITY['seed']}), "
                      "never trained on, never reported",
            "networks": networks, "chosen_epochs": chosen}


def read_record(path: Path = EPOCH_CHECK_RECORD) -> dict[str, Any]:
    """The recorded check (see :func:`measure`); FileNotFoundError if it was never written."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run python -m course_utils.train epoch-check --write")
    return json.loads(path.read_text())


@command
def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train epoch-check [--write]``; the exit status."""
    p = argparse.ArgumentParser(prog="python -m course_utils.train epoch-check",
                                description="Re-choose the DeepLab recipe's epochs on held-out training frames "
                                            "(config.DEEPLAB_EPOCH_CHECK) and print the figures.")
    p.add_argument("--write", action="store_true", help=f"record them in {EPOCH_CHECK_RECORD.name}")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    args = p.parse_args(argv)
    torch.set_num_threads(check_int(args.threads, "--threads", 1))
    record = measure()
    recipe = _shipped_epochs(DEEPLAB_EPOCH_CHECK["networks"][0])
    print(f"the rule picks {record['chosen_epochs']} epochs; the recipe trains {recipe}")
    if args.write:
        write_text_atomic(EPOCH_CHECK_RECORD, json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"recorded in {EPOCH_CHECK_RECORD}")
    return 0
