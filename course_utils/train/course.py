"""The course recipes: the settings that trained the checkpoints shipped with the course.

Quick mode trains tiny networks for minutes in a notebook; these recipes train
the same architectures at a scale that converges (thousands of generated frames,
tens of epochs), once, on a GPU, and the results are shipped as checkpoints.

``deeplab``  DeepLab-LargeFOV and DeepLab-ASPP-L on the *same* dilated VGG16
             (BatchNorm, an eighth of the channels), and DeepLab-ASPP on a dilated
             ResNet-18 (a quarter of the channels); MiniCity frames of 256 x 512 seen
             at full size (output stride 8: 32 x 64 score maps).
``fcn``      FCN-32s, then FCN-16s from it, then FCN-8s from that (the paper's
             stages), and FCN-32s-fixed, on the synthetic VOC layout at 128 x 128,
             VGG16 (BatchNorm) at 1/16 of the channels; a validation loss per epoch.

Command line::

    python -m course_utils.train deeplab --recipe course --model vgg_aspp [--epochs N]
    python -m course_utils.train fcn --recipe course [--epochs-32s N ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "COURSE_MINICITY",
    "COURSE_VOC",
    "COURSE_DEEPLAB",
    "COURSE_FCN",
    "course_minicity_root",
    "course_minicity_val_root",
    "course_voc_root",
    "course_deeplab_overrides",
]

#: The MiniCity the DeepLab checkpoints were trained on (Cityscapes' split sizes).
COURSE_MINICITY: dict[str, Any] = {"train_images": 1000, "val_images": 200, "size": (256, 512), "seed": 0}
#: The synthetic VOC the FCN checkpoints were trained on.
COURSE_VOC: dict[str, Any] = {"n_train": 800, "n_val": 200, "size": (128, 128), "seed": 0}

_DEEPLAB_COMMON: dict[str, Any] = {
    "input_scale": 1.0,  # MiniCity frames are 256 x 512: the network sees them at full size
    "crop": (256, 256),
    "scale_range": (0.75, 1.25),
    "batch_size": 8,
    "lr": 0.02,
    "epochs": 12,
    "batch_norm": True,
    "seed": 0,
    "amp": True,
    "cache_frames": True,
    "workers": 0,
}
#: Per model: :func:`course_utils.train.deeplab.deeplab_settings` overrides.
COURSE_DEEPLAB: dict[str, dict[str, Any]] = {
    "largefov": {**_DEEPLAB_COMMON, "width": 0.125},
    "vgg_aspp": {**_DEEPLAB_COMMON, "width": 0.125},
    "aspp": {**_DEEPLAB_COMMON, "width": 0.25, "depth": 18, "lr": 0.01},
}
#: FCN: epochs per stage (16s starts from the trained 32s, 8s from 16s), and the rest of the recipe.
COURSE_FCN: dict[str, Any] = {
    "epochs": {"32s": 20, "16s": 12, "8s": 12, "32s-fixed": 6},
    "lr": 0.05,
    "batch_size": 20,  # the paper's minibatch
    "width": 0.0625,
    "batch_norm": True,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "schedule": "poly",
    "seed": 0,
}


def course_minicity_root(root: str | Path | None = None, *, workers: int = 1, progress: bool = True) -> Path:
    """The course's MiniCity (:data:`COURSE_MINICITY`), generated under ``root`` if incomplete.

    Default ``root``: ``<data root>/minicity_course``.
    """
    from course_utils.data.minicity import write_minicity
    from course_utils.paths import data_root

    folder = Path(root) if root is not None else data_root() / "minicity_course"
    return write_minicity(folder, progress=progress, workers=workers, **COURSE_MINICITY)


def course_minicity_val_root(frames: int = 100, root: str | Path | None = None, *, progress: bool = False) -> Path:
    """The first ``frames`` validation frames of the course's MiniCity, without its training frames.

    MiniCity draws frame ``i`` of a split from ``(seed, split, i)`` alone, so these are exactly the
    validation frames the checkpoints' figures were measured on; generating them takes seconds.
    Default ``root``: ``<data root>/minicity_course_val<frames>``.
    """
    from course_utils.data.minicity import write_minicity
    from course_utils.paths import data_root

    folder = Path(root) if root is not None else data_root() / f"minicity_course_val{frames}"
    return write_minicity(folder, train_images=0, val_images=frames, size=COURSE_MINICITY["size"],
                          seed=COURSE_MINICITY["seed"], progress=progress)


def course_voc_root(root: str | Path | None = None, *, workers: int = 1) -> Path:
    """The course's synthetic VOC (:data:`COURSE_VOC`), generated under ``root`` if incomplete.

    Default ``root``: ``<data root>/voc_synthetic/course-128px-800+200-seed0``.
    """
    from course_utils.data.voc import write_synthetic_voc
    from course_utils.paths import data_root

    c = COURSE_VOC
    name = f"course-{c['size'][0]}px-{c['n_train']}+{c['n_val']}-seed{c['seed']}"
    folder = Path(root) if root is not None else data_root() / "voc_synthetic" / name
    return write_synthetic_voc(folder, workers=workers, **COURSE_VOC)


def course_deeplab_overrides(model: str, **changes: Any) -> dict[str, Any]:
    """The course recipe's settings for ``model`` (see :data:`COURSE_DEEPLAB`), with ``changes`` applied
    (``None`` values keep the recipe's)."""
    if model not in COURSE_DEEPLAB:
        raise ValueError(f"model={model!r} has no course recipe; expected one of {sorted(COURSE_DEEPLAB)}")
    out = dict(COURSE_DEEPLAB[model])
    out.update({k: v for k, v in changes.items() if v is not None})
    return out


def train_fcn_course(root: str | Path | None = None, *, device=None, epochs: dict[str, int] | None = None,
                     log=print, on_stage=None) -> dict[str, dict[str, Any]]:
    """Train the course's FCN stages (:data:`COURSE_FCN`) on the course's synthetic VOC.

    FCN-32s first, FCN-16s initialised from it, FCN-8s from FCN-16s, then FCN-32s-fixed
    (frozen backbone). After every epoch the validation loss and mean IU are recorded,
    so the curves show whether a stage has converged.

    Parameters
    ----------
    root : path, optional
        A folder holding the course's synthetic VOC (default :func:`course_voc_root`).
    device : optional
        Default :func:`course_utils.env.get_device`.
    epochs : dict, optional
        Epochs per stage; default ``COURSE_FCN["epochs"]``.
    on_stage : callable, optional
        ``on_stage(variant, result)`` as soon as a stage is trained (e.g. to save it).

    Returns
    -------
    dict
        ``{variant: {"net", "train_loss", "val_loss", "val_mean_iu", "seconds", "epochs"}}``.
    """
    import time

    import torch

    from course_utils.data.voc import voc_loaders
    from course_utils.env import get_device
    from course_utils.metrics import confusion_matrix, segmentation_scores
    from course_utils.nets.fcn import fcn_loss, fcn_vgg16, freeze_backbone, load_matching_weights, train_fcn

    recipe = COURSE_FCN
    epochs = dict(recipe["epochs"] if epochs is None else epochs)
    device = torch.device(device) if device is not None else get_device()
    root = Path(root) if root is not None else course_voc_root()
    train_loader, val_loader = voc_loaders(root, batch_size=recipe["batch_size"], in_memory=True)

    def build(variant: str):
        torch.manual_seed(recipe["seed"])
        return fcn_vgg16(variant, 21, width=recipe["width"], batch_norm=recipe["batch_norm"])

    @torch.no_grad()
    def validate(net) -> tuple[float, float]:
        net.eval()
        total, count, cm = 0.0, 0, None
        for images, labels in val_loader:
            logits = net(images.to(device))
            total += float(fcn_loss(logits, labels.to(device))) * images.shape[0]
            count += images.shape[0]
            part = confusion_matrix(labels, logits.argmax(1).cpu(), 21, 255)
            cm = part if cm is None else cm + part
        return total / count, float(segmentation_scores(cm)["mean_iu"])

    results: dict[str, dict[str, Any]] = {}
    previous = None
    for variant in ("32s", "16s", "8s", "32s-fixed"):
        if variant not in epochs:
            continue
        net = build("32s" if variant == "32s-fixed" else variant)
        if variant == "32s-fixed":
            freeze_backbone(net)
        elif previous is not None:
            load_matching_weights(net, previous)
        net = net.to(device)
        val_loss: list[float] = []
        val_miu: list[float] = []

        def on_epoch(_epoch: int, net=net, val_loss=val_loss, val_miu=val_miu) -> None:
            loss, miu = validate(net)
            val_loss.append(loss)
            val_miu.append(miu)

        start = time.perf_counter()
        history = train_fcn(net, train_loader, epochs=epochs[variant], lr=recipe["lr"], momentum=recipe["momentum"],
                            weight_decay=recipe["weight_decay"], schedule=recipe["schedule"], device=device,
                            seed=recipe["seed"], desc=f"FCN-{variant}", log=None, on_epoch=on_epoch)
        seconds = time.perf_counter() - start
        net.eval()
        if log is not None:
            log(f"FCN-{variant}: {epochs[variant]} epochs in {seconds:.0f} s; train loss {history[-1]:.4f}, "
                f"val loss {val_loss[-1]:.4f}, val mean IU {val_miu[-1]:.4f}")
        results[variant] = {"net": net, "train_loss": history, "val_loss": val_loss, "val_mean_iu": val_miu,
                            "seconds": seconds, "epochs": epochs[variant]}
        if on_stage is not None:
            on_stage(variant, results[variant])
        if variant != "32s-fixed":
            previous = net
    return results


def fcn_main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train fcn --recipe course [--out DIR] ...``; returns the exit status."""
    import argparse
    import json
    import sys

    import torch

    from course_utils.paths import data_root
    from course_utils.train import _save_atomic

    p = argparse.ArgumentParser(prog="python -m course_utils.train fcn",
                                description="Train the course's FCN-32s/16s/8s (staged) and FCN-32s-fixed.")
    p.add_argument("--recipe", choices=("course",), default="course")
    p.add_argument("--data-root", default=None, help="synthetic VOC root (default: the course's, generated)")
    p.add_argument("--data-workers", type=int, default=1, help="processes generating the synthetic VOC")
    p.add_argument("--out", default=None, help="folder for fcn-<variant>.pt and result.json")
    p.add_argument("--device", default=None)
    for v in COURSE_FCN["epochs"]:
        p.add_argument(f"--epochs-{v}", type=int, default=None, help=f"epochs of FCN-{v}")
    args = p.parse_args(argv)
    epochs = {v: getattr(args, f"epochs_{v.replace('-', '_')}") or e for v, e in COURSE_FCN["epochs"].items()}
    out = Path(args.out) if args.out else data_root() / "runs" / "fcn-course"
    try:
        root = Path(args.data_root) if args.data_root else course_voc_root(workers=args.data_workers)
        summary: dict[str, Any] = {}

        def save(variant: str, run: dict[str, Any]) -> None:
            record = {k: v for k, v in run.items() if k != "net"}
            _save_atomic({"net": run["net"].state_dict(), **record, "recipe": COURSE_FCN, "data": COURSE_VOC},
                         out / f"fcn-{variant}.pt")
            summary[variant] = record

        train_fcn_course(root, device=args.device, epochs=epochs, on_stage=save)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    (out / "result.json").write_text(json.dumps(summary, indent=1, default=float))
    return 0


# --------------------------------------------------------------------------- recording a checkpoint

_DEEPLAB_BUILDERS = {"largefov": "deeplab_vgg16_largefov", "vgg_aspp": "deeplab_vgg16_aspp",
                     "aspp": "deeplab_resnet101_aspp"}


def deeplab_architecture(settings: dict[str, Any], num_classes: int = 19) -> dict[str, Any]:
    """The registry's ``architecture`` of a DeepLab run (see :func:`course_utils.checkpoints.build_net`)."""
    model = settings["model"]
    if model == "aspp":
        kwargs = {"width": settings["width"], "rates": list(settings["rates"]), "depth": settings["depth"]}
    else:
        kwargs = {"width": settings["width"], "dropout": settings["dropout"], "batch_norm": settings["batch_norm"]}
        if model == "largefov":
            kwargs["rate"] = settings["rate"]
        else:
            kwargs["rates"] = list(settings["rates"])
    return {"builder": _DEEPLAB_BUILDERS[model], "args": [num_classes], "kwargs": kwargs,
            "input_scale": settings["input_scale"]}


def fcn_architecture(variant: str) -> dict[str, Any]:
    """The registry's ``architecture`` of a course FCN stage (32s-fixed is an FCN-32s)."""
    return {"builder": "fcn_vgg16", "args": ["32s" if variant == "32s-fixed" else variant],
            "kwargs": {"num_classes": 21, "width": COURSE_FCN["width"], "batch_norm": COURSE_FCN["batch_norm"]}}


def _write_entry(name: str, fields: dict[str, Any]) -> None:
    import json

    from course_utils.checkpoints import WEIGHTS_DIR

    path = WEIGHTS_DIR / "registry.json"
    entries = json.loads(path.read_text()) if path.is_file() else {}
    entries[name] = fields
    tmp = path.with_name("registry.json.tmp")
    tmp.write_text(json.dumps(dict(sorted(entries.items())), indent=1) + "\n")
    tmp.replace(path)


def record_deeplab(run_dir: str | Path, *, device_note: str, val_frames: int = 100, heldout: int = 8,
                   data_root: str | Path | None = None, log=print) -> dict[str, Any]:
    """Ship a trained DeepLab run: float16 file, held-out CRF search, validation figures, registry entry.

    ``run_dir`` is a ``python -m course_utils.train deeplab --recipe course`` output folder
    (``final.pt`` and ``result.json``).
    """
    import json

    import torch

    from course_utils import checkpoints
    from course_utils.checkpoints import WEIGHTS_DIR, build_net, save_checkpoint_file
    from course_utils.data.minicity import _GENERATOR
    from course_utils.evaluate.checkpoints import (evaluate_deeplab_checkpoint, heldout_minicity_frames,
                                                   search_checkpoint_crf)

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
    command = f"python -m course_utils.train deeplab --recipe course --model {model} --threads 1" + "".join(
        f" --{k} {v}" for k, v in changed.items())
    fields = {"family": "deeplab", "file": f"{name}.pt", "sha256": sha, "command": command, "seed": settings["seed"],
              "data": {"generator": "MiniCity", "version": _GENERATOR, **{k: list(v) if isinstance(v, tuple) else v
                                                                            for k, v in COURSE_MINICITY.items()}},
              "architecture": arch, "train_seconds": round(float(result.get("seconds", 0.0)), 1),
              "device": device_note, "figures": {}, "tolerance": 0.005, "crf": {}}
    _write_entry(name, fields)
    checkpoints.REGISTRY.update(checkpoints.registry())
    shipped = checkpoints.load_checkpoint(name)  # the float16 weights, as users get them
    log(f"{name}: searching the CRF on {heldout} held-out training scenes")
    search = search_checkpoint_crf(shipped, heldout_minicity_frames(heldout, seed=COURSE_MINICITY["seed"],
                                                                   first=COURSE_MINICITY["train_images"],
                                                                   size=tuple(COURSE_MINICITY["size"])),
                                   input_scale=arch["input_scale"])
    search["heldout"] = (f"training-split scenes {COURSE_MINICITY['train_images']}.."
                         f"{COURSE_MINICITY['train_images'] + heldout - 1} (seed {COURSE_MINICITY['seed']}), not trained on")
    fields["crf"] = search
    _write_entry(name, fields)
    checkpoints.REGISTRY.update(checkpoints.registry())
    log(f"{name}: evaluating {val_frames} validation frames with and without the CRF")
    root = Path(data_root) if data_root is not None else course_minicity_root(progress=False)
    ev = evaluate_deeplab_checkpoint(name, root, frames=val_frames, crf=True, net=shipped)
    fields["figures"] = {"split": "val", "frames": val_frames, "data_root": "course MiniCity (seed 0)",
                         "mean_iou": ev["dcnn"]["mean_iou"], "crf_mean_iou": ev["crf"]["mean_iou"],
                         "trimap_width": ev["dcnn"]["trimap"]["width"],
                         "trimap_acc": ev["dcnn"]["trimap"]["pixel_acc"],
                         "crf_trimap_acc": ev["crf"]["trimap"]["pixel_acc"], "gain": ev["gain"]}
    _write_entry(name, fields)
    checkpoints.REGISTRY.update(checkpoints.registry())
    log(f"{name}: mean IoU {ev['dcnn']['mean_iou']:.4f} -> {ev['crf']['mean_iou']:.4f} with the CRF; "
        f"trimap gain (<= 4 px) {ev['gain']['trimap_small']:+.4f}")
    return fields


def record_fcn(run_dir: str | Path, *, device_note: str, data_root: str | Path | None = None,
               log=print) -> dict[str, dict[str, Any]]:
    """Ship the course FCN stages of a ``python -m course_utils.train fcn --recipe course`` folder."""
    import torch

    from course_utils import checkpoints
    from course_utils.checkpoints import WEIGHTS_DIR, build_net, save_checkpoint_file
    from course_utils.evaluate.checkpoints import evaluate_fcn_checkpoint

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
        init = {"16s": "fcn-32s", "8s": "fcn-16s"}.get(variant)
        fields = {"family": "fcn", "file": f"{name}.pt", "sha256": sha,
                  "command": "python -m course_utils.train fcn --recipe course", "seed": COURSE_FCN["seed"],
                  "data": {"generator": "synthetic VOC", **{k: list(v) if isinstance(v, tuple) else v
                                                            for k, v in COURSE_VOC.items()}},
                  "architecture": arch, "train_seconds": round(float(state["seconds"]), 1), "device": device_note,
                  "figures": {}, "tolerance": 0.005,
                  "crf": {}}
        if init:
            fields["data"]["initialised_from"] = init
        _write_entry(name, fields)
        checkpoints.REGISTRY.update(checkpoints.registry())
        scores = evaluate_fcn_checkpoint(name, root)
        fields["figures"] = {"split": "val", **scores, "epochs": int(state["epochs"])}
        _write_entry(name, fields)
        checkpoints.REGISTRY.update(checkpoints.registry())
        log(f"{name}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if k != "images"))
        out[name] = fields
    return out


def record_main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train record {deeplab,fcn} --run DIR --device-note TEXT``."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m course_utils.train record",
                                description="Ship a course training run as a checkpoint: float16 file, figures, "
                                            "registry entry (course_utils/weights/registry.json).")
    p.add_argument("family", choices=("deeplab", "fcn"))
    p.add_argument("--run", required=True, help="the training command's output folder")
    p.add_argument("--device-note", required=True, help="where it was trained, e.g. 'cpu (2 cores)'")
    p.add_argument("--val-frames", type=int, default=100, help="DeepLab: validation frames scored")
    args = p.parse_args(argv)
    try:
        if args.family == "deeplab":
            record_deeplab(args.run, device_note=args.device_note, val_frames=args.val_frames)
        else:
            record_fcn(args.run, device_note=args.device_note)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
