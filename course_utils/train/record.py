"""Shipping a course run as a checkpoint: float16 weights, figures and a registry entry.

``python -m course_utils.train record deeplab --run DIR --device-note TEXT`` and
``python -m course_utils.train record fcn --run DIR --device-note TEXT`` turn the folder of a
``--recipe course`` training run (:mod:`course_utils.train.deeplab`, :mod:`course_utils.train.fcn`)
into a checkpoint of :mod:`course_utils.checkpoints`:

* :func:`record_deeplab` -- the float16 file, the CRF's temperature and parameters chosen on held-out
  training scenes (:func:`search_checkpoint_crf` over :data:`CRF_SEARCH_GRID`), the validation
  figures with and without the CRF, the registry entry;
* :func:`record_deeplab_seed` -- another training seed of a shipped DeepLab's recipe: its own held-out
  CRF search and validation figures, added to the entry's ``seed_runs`` (its weights are not shipped);
* :func:`record_unseen` -- a checkpoint's figures on data drawn with seeds the training never used
  (:data:`~course_utils.evaluate.unseen.UNSEEN_DATA_SEEDS`), the entry's ``unseen``;
* :func:`record_fcn` -- every stage's float16 file (without the fixed bilinear layer), curves,
  validation scores and registry entry.

Every DeepLab record reads the run folder's provenance (:func:`run_provenance`: commit, arguments as
run, settings, epochs, data) and refuses a run whose settings differ from the recipe it names unless
its arguments carried them (:func:`recipe_command`).

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
from course_utils.checkpoints import (REGISTRY, WEIGHTS_DIR, CheckpointEntry, build_net, load_checkpoint,
                                      save_checkpoint_file, update_entry, write_entry)
from course_utils.cli import command
from course_utils.crf.deeplab import fit_temperature
from course_utils.crf.dense_crf import CRFParams
from course_utils.data.minicity import (COURSE_MINICITY, GENERATOR_VERSION, course_heldout_frames,
                                        course_minicity_val_root)
from course_utils.data.voc import course_synthetic_root
from course_utils.evaluate.checkpoints import evaluate_deeplab_checkpoint, evaluate_fcn_checkpoint
from course_utils.evaluate.crf import search_crf_params
from course_utils.evaluate.predict import dcnn_logits
from course_utils.evaluate.unseen import UNSEEN_DATA_SEEDS, unseen_minicity_root, unseen_voc_root
from course_utils.train.deeplab import COURSE_DEEPLAB, course_deeplab_overrides, deeplab_architecture, deeplab_settings
from course_utils.train.fcn import COURSE_FCN, STAGES, STARTS_FROM, course_fcn_data, fcn_architecture

__all__ = ["CRF_SEARCH_GRID", "search_checkpoint_crf", "run_provenance", "recipe_command", "record_deeplab",
           "record_deeplab_seed", "record_unseen", "record_fcn", "record_deeplab_main", "record_fcn_main",
           "record_unseen_main"]

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


# settings that do not change the trained weights, or that the model makes irrelevant
_NOT_COMPARED = ("data", "model", "workers", "cache_frames")


def run_provenance(run_dir: str | Path) -> dict[str, Any]:
    """What a DeepLab run folder records of how it was made.

    Returns
    -------
    dict
        ``commit`` (the code's git commit, or None if the run did not record it), ``dirty`` (uncommitted
        changes), ``argv`` (the arguments as run, or None), ``epochs``, ``settings`` (``settings.json``),
        ``data`` (the parameters in the manifest of the data root the run trained on); for a resumed run
        ``commits`` (one per process, in order), and a ``note`` if the folder's provenance carries one.
    """
    run_dir = Path(run_dir)
    settings = json.loads((run_dir / "settings.json").read_text())
    prov_file = run_dir / "provenance.json"
    prov = json.loads(prov_file.read_text()) if prov_file.is_file() else {}
    data: dict[str, Any] = {"folder": settings.get("data")}
    root = Path(str(settings.get("data", "")).split("#")[0])
    manifest = root / "minicity.json"
    if manifest.is_file():
        raw = json.loads(manifest.read_text())
        data.update({k: raw[k] for k in ("generator", "seed", "train_images", "val_images", "size") if k in raw})
    record = {"commit": prov.get("commit"), "dirty": prov.get("dirty"), "argv": prov.get("argv"),
              "epochs": settings["epochs"], "settings": settings, "data": data}
    if len(prov.get("commits") or []) > 1:  # a resumed run: the commit of every process that trained it
        record["commits"] = list(prov["commits"])
    if prov.get("note"):
        record["note"] = str(prov["note"])
    return record


def _normal(value):
    return list(value) if isinstance(value, tuple) else value


def recipe_command(settings: dict[str, Any], argv: Sequence[str] | None, *, device: str = "cpu") -> str:
    """The command that reproduces a ``--recipe course`` run, checked against the recipe it names.

    Every setting that differs from :data:`COURSE_DEEPLAB` must have been given on the command line
    (``argv``, e.g. ``--seed 1``); it is then part of the returned command. A run without a recorded
    ``argv`` may differ only in ``seed`` and ``epochs``.

    Raises
    ------
    ValueError
        Naming the settings that differ from the recipe without the arguments that carried them.
    """
    model = settings["model"]
    recipe = {k: _normal(v) for k, v in deeplab_settings(model, **course_deeplab_overrides(model)).items()}
    ignored = set(_NOT_COMPARED) | ({"depth"} if model != "aspp" else set())
    differ = sorted(k for k in settings if k not in ignored and _normal(settings[k]) != recipe.get(k))
    given = {a.split("=")[0][2:].replace("-", "_") for a in (argv or []) if a.startswith("--")}
    allowed = given if argv is not None else {"seed", "epochs"}
    missing = [k for k in differ if k not in allowed]
    if missing:
        raise ValueError(f"the run's settings differ from the course recipe of {model} in {missing} "
                         f"({', '.join(f'{k}={settings[k]!r}, recipe {recipe.get(k)!r}' for k in missing)}) and its "
                         "recorded arguments do not carry them: record only runs of the recipe, or give the "
                         "setting on the command line")
    where = "--device cuda" if device.startswith("cuda") else "--threads 1"
    flags = "".join(f" --{k.replace('_', '-')} {' '.join(map(str, settings[k])) if isinstance(settings[k], list) else settings[k]}"
                    for k in differ)
    return f"python -m course_utils.train deeplab --recipe course --model {model} {where}{flags}"


def _as_shipped(net: nn.Module) -> nn.Module:
    """``net`` with its floating weights rounded to float16 and back, as a shipped checkpoint holds them."""
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().float())
    return net.eval()


def _deeplab_figures(ev: dict, val_frames: int) -> dict[str, Any]:
    return {"split": "val", "frames": val_frames, "data": "course MiniCity (seed 0)",
            "mean_iou": ev["dcnn"]["mean_iou"], "crf_mean_iou": ev["crf"]["mean_iou"],
            "class_iou": ev["dcnn"]["class_iou"], "crf_class_iou": ev["crf"]["class_iou"],
            "trimap_width": ev["dcnn"]["trimap"]["width"], "trimap_acc": ev["dcnn"]["trimap"]["pixel_acc"],
            "crf_trimap_acc": ev["crf"]["trimap"]["pixel_acc"], "gain": ev["gain"]}


def _seed_run(entry_fields: dict[str, Any]) -> dict[str, Any]:
    """The ``seed_runs`` record of a shipped run, from its registry fields."""
    crf = entry_fields.get("crf") or {}
    return {"seed": entry_fields["seed"], "command": entry_fields["command"], "device": entry_fields["device"],
            "train_seconds": entry_fields["train_seconds"], "provenance": entry_fields.get("provenance", {}),
            "crf": {k: crf[k] for k in ("temperature", "iterations", "params") if k in crf},
            "figures": {k: v for k, v in entry_fields["figures"].items() if k not in ("split", "data")}}


def _with_seed_run(fields: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with ``run`` in its ``seed_runs`` (replacing the same seed; sorted by seed)."""
    runs = [r for r in fields.get("seed_runs") or [] if r["seed"] != run["seed"]] + [run]
    return {**fields, "seed_runs": sorted(runs, key=lambda r: r["seed"])}


def _add_seed_run(name: str, run: dict[str, Any]) -> None:
    """Add ``run`` to the ``seed_runs`` of entry ``name`` as the registry file holds it now (another
    record command may be adding its own seed to the same entry); the shipped seed's record comes first."""
    def change(fields: dict[str, Any]) -> dict[str, Any]:
        if not fields.get("seed_runs"):
            fields = {**fields, "seed_runs": [_seed_run(fields)]}
        return _with_seed_run(fields, run)

    update_entry(name, change)


def _fields(entry: CheckpointEntry) -> dict[str, Any]:
    return {k: v for k, v in entry.__dict__.items() if k != "name"}


def _heldout_search(net: nn.Module, arch: dict, heldout: int, log) -> dict:
    log(f"searching the CRF on {heldout} held-out training scenes")
    first = COURSE_MINICITY["train_images"]
    frames = course_heldout_frames(heldout, first)
    search = search_checkpoint_crf(net, frames, input_scale=arch["input_scale"])
    search["heldout"] = (f"training-split scenes {first}..{first + heldout - 1} (seed {COURSE_MINICITY['seed']}), "
                         "never trained on")
    search["frame_width"] = int(COURSE_MINICITY["size"][1])
    return search


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
    provenance = run_provenance(run_dir)
    command = recipe_command(settings, provenance["argv"], device=str(result.get("device", "cpu")))
    arch = deeplab_architecture(settings)
    net = build_net(arch)
    net.load_state_dict(state["net"])
    sha = save_checkpoint_file(net, arch, WEIGHTS_DIR / f"{name}.pt", curves={"train_loss": list(state["history"])})
    earlier = _fields(REGISTRY[name]).get("seed_runs", []) if name in REGISTRY else []
    fields = {"family": "deeplab", "file": f"{name}.pt", "sha256": sha, "command": command, "seed": settings["seed"],
              "data": {"generator": "MiniCity", "version": GENERATOR_VERSION,
                       **{k: _normal(v) for k, v in COURSE_MINICITY.items()}},
              "architecture": arch, "train_seconds": round(float(result.get("seconds", 0.0)), 1),
              "device": device_note, "figures": {}, "tolerance": 0.005, "crf": {}, "seed_runs": [], "unseen": {},
              "provenance": provenance}
    write_entry(name, fields)
    shipped = load_checkpoint(name)  # the float16 weights, as users get them
    fields["crf"] = _heldout_search(shipped, arch, heldout, lambda m: log(f"{name}: {m}"))
    write_entry(name, fields)
    log(f"{name}: scoring {val_frames} validation frames with and without the CRF")
    root = Path(data_root) if data_root is not None else course_minicity_val_root(val_frames)
    ev = evaluate_deeplab_checkpoint(name, root, frames=val_frames, crf=True, net=shipped)
    fields["figures"] = _deeplab_figures(ev, val_frames)
    fields["seed_runs"] = [r for r in earlier if r["seed"] != settings["seed"]]
    fields = _with_seed_run(fields, _seed_run(fields))
    write_entry(name, fields)
    log(f"{name}: mean IoU {ev['dcnn']['mean_iou']:.4f} -> {ev['crf']['mean_iou']:.4f} with the CRF; "
        f"trimap gain (<= 4 px) {ev['gain']['trimap_small']:+.4f}")
    return fields


def record_deeplab_seed(run_dir: str | Path, *, device_note: str, val_frames: int = 100, heldout: int = 8,
                        data_root: str | Path | None = None, log=print) -> dict[str, Any]:
    """Add another training seed of a shipped DeepLab's recipe to its entry's ``seed_runs``.

    The run is scored as the shipped one was (its weights rounded to float16, its own held-out CRF
    search, the same validation frames); its weights are not shipped. Returns the seed run's record.

    Raises
    ------
    ValueError
        If the model has no shipped entry yet, the run has the shipped seed, or its settings differ
        from the recipe (see :func:`recipe_command`).
    """
    run_dir = Path(run_dir)
    state = torch.load(run_dir / "final.pt", map_location="cpu", weights_only=False)
    result = json.loads((run_dir / "result.json").read_text())
    settings = state["settings"]
    name = f"deeplab-{settings['model']}"
    if name not in REGISTRY:
        raise ValueError(f"{name} has no shipped checkpoint yet: record its shipped run first "
                         "(python -m course_utils.train record deeplab --run DIR ...)")
    entry = REGISTRY[name]
    if settings["seed"] == entry.seed:
        raise ValueError(f"run {run_dir} has seed {entry.seed}, the shipped checkpoint's: record it with "
                         "`record deeplab` (which replaces the shipped weights), not as another seed")
    provenance = run_provenance(run_dir)
    command = recipe_command(settings, provenance["argv"], device=str(result.get("device", "cpu")))
    arch = deeplab_architecture(settings)
    if arch != entry.architecture:
        raise ValueError(f"run {run_dir} builds {arch}, the shipped {name} {entry.architecture}")
    net = build_net(arch)
    net.load_state_dict(state["net"])
    net = _as_shipped(net)
    search = _heldout_search(net, arch, heldout, lambda m: log(f"{name} seed {settings['seed']}: {m}"))
    root = Path(data_root) if data_root is not None else course_minicity_val_root(val_frames)
    ev = evaluate_deeplab_checkpoint(name, root, frames=val_frames, crf=True, net=net, crf_settings=search)
    run = {"seed": settings["seed"], "command": command, "device": device_note,
           "train_seconds": round(float(result.get("seconds", 0.0)), 1), "provenance": provenance,
           "crf": {k: search[k] for k in ("temperature", "iterations", "params")},
           "figures": {k: v for k, v in _deeplab_figures(ev, val_frames).items() if k not in ("split", "data")}}
    _add_seed_run(name, run)
    log(f"{name} seed {settings['seed']}: mean IoU {ev['dcnn']['mean_iou']:.4f} -> {ev['crf']['mean_iou']:.4f} "
        "with its CRF")
    return run


def record_unseen(name: str, *, seeds: Sequence[int] = UNSEEN_DATA_SEEDS, frames: int = 100, log=print) -> dict:
    """Score a shipped checkpoint on data drawn with ``seeds`` (never used in training); store them as ``unseen``.

    DeepLab: the first ``frames`` MiniCity validation frames of each seed, without and with the CRF;
    FCN: the synthetic VOC's validation images of each seed. Returns the ``unseen`` dict.
    """
    if name not in REGISTRY:
        raise ValueError(f"checkpoint={name!r} is unknown; expected one of {sorted(REGISTRY)}")
    entry = REGISTRY[name]
    training_seed = entry.data.get("seed", 0)
    if training_seed in seeds:
        raise ValueError(f"seeds must be data seeds the training never used; {name} was trained on seed {training_seed}")
    unseen = {}
    for seed in seeds:
        if entry.family == "deeplab":
            ev = evaluate_deeplab_checkpoint(name, unseen_minicity_root(seed, frames), frames=frames, crf=True)
            unseen[str(seed)] = {"frames": frames, "mean_iou": ev["dcnn"]["mean_iou"], "crf_mean_iou": ev["crf"]["mean_iou"]}
        else:
            style = entry.data.get("style", "clipart")  # entries from before the scenes: the clipart
            unseen[str(seed)] = evaluate_fcn_checkpoint(name, unseen_voc_root(seed, style=style))
        log(f"{name} on data seed {seed}: {unseen[str(seed)]}")

    def change(fields: dict[str, Any]) -> dict[str, Any]:  # added to the entry as it is on disk now
        if fields["sha256"] != entry.sha256:
            raise ValueError(f"{name} was shipped again while its unseen figures were measured: run record unseen "
                             "again")
        merged = {**(fields.get("unseen") or {}), **unseen}
        return {**fields, "unseen": dict(sorted(merged.items(), key=lambda kv: int(kv[0])))}

    return update_entry(name, change).unseen


def _fcn_run(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The stage files of an FCN run folder, ``{variant: state}``; the four staged nets must be there,
    every stage of one seed and one data."""
    states = {v: torch.load(run_dir / f"fcn-{v}.pt", map_location="cpu", weights_only=False)
              for v in STAGES if (run_dir / f"fcn-{v}.pt").is_file()}
    missing = [f"fcn-{v}.pt" for v in ("32s", "16s", "8s", "32s-fixed") if v not in states]
    if missing:
        raise ValueError(f"run {run_dir} lacks {missing}: record a finished `python -m course_utils.train fcn` run")
    kinds = {(s.get("recipe", {}).get("seed"), json.dumps(s.get("data"), sort_keys=True)) for s in states.values()}
    if len(kinds) > 1:
        raise ValueError(f"run {run_dir} mixes stages of several seeds or data: {sorted(kinds)}")
    return states


def _fcn_recipe_differences(states: dict[str, dict[str, Any]]) -> list[str]:
    """How the stage files of a run differ from :data:`COURSE_FCN` (seed and data aside), one line each."""
    ours = {k: v for k, v in COURSE_FCN.items() if k not in ("epochs", "seed", "data")}
    differ = []
    for variant, state in states.items():
        theirs = {k: v for k, v in (state.get("recipe") or {}).items() if k not in ("epochs", "seed", "data")}
        keys = sorted(k for k in set(ours) | set(theirs) if theirs.get(k) != ours.get(k))
        if keys:
            differ.append(f"fcn-{variant}.pt has " + ", ".join(f"{k}={theirs.get(k)!r} (recipe {ours.get(k)!r})"
                                                                for k in keys))
        want = COURSE_FCN["epochs"][variant]
        if state.get("epochs") != want:
            differ.append(f"fcn-{variant}.pt was trained {state.get('epochs')} epochs (recipe {want})")
    return differ


def _fcn_command(seed: int, style: str, device: str) -> str:
    """The command that trains a course FCN run of ``seed`` on ``style``."""
    return ("python -m course_utils.train fcn --recipe course" + (f" --data {style}" if style != "clipart" else "")
            + (f" --seed {seed}" if seed != COURSE_FCN["seed"] else "") + (" --device cuda" if device == "cuda" else ""))


def _fcn_provenance(run_dir: Path, state: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    prov_file = run_dir / "provenance.json"
    prov = json.loads(prov_file.read_text()) if prov_file.is_file() else {}
    record = {"commit": prov.get("commit"), "dirty": prov.get("dirty"), "argv": prov.get("argv"),
              "epochs": int(state["epochs"]), "settings": state.get("recipe"), "data": data}
    if len(prov.get("commits") or []) > 1:
        record["commits"] = list(prov["commits"])
    return record


def record_fcn(run_dir: str | Path, *, device_note: str, data_root: str | Path | None = None, seed_run: bool = False,
               log=print) -> dict[str, dict[str, Any]]:
    """Ship the stages of a ``python -m course_utils.train fcn --recipe course`` folder as checkpoints
    (float16 files without the fixed bilinear layer, curves, validation scores, registry entries), or
    with ``seed_run`` add another training seed's scores to the shipped entries' ``seed_runs``.

    Every stage is scored on the validation split of the data it was trained on (``data_root``: default
    the course's synthetic VOC of that drawing). A shipped run has the recipe's seed and data
    (``COURSE_FCN["seed"]``, ``["data"]``); a seed run another seed on the shipped entries' data (its
    weights are not shipped).

    Raises
    ------
    ValueError
        A run of other data or seed than asked, a stage file missing, or (seed run) a stage that has
        no shipped entry.
    """
    run_dir = Path(run_dir)
    states = _fcn_run(run_dir)
    first = states["32s"]
    seed = first.get("recipe", {}).get("seed", COURSE_FCN["seed"])
    data = first.get("data")
    style = data.get("style") if isinstance(data, dict) else None
    if seed_run:
        shipped = REGISTRY.get("fcn-8s")
        shipped_data = ({k: v for k, v in shipped.data.items() if k not in ("generator", "initialised_from")}
                        if shipped is not None else None)
        if shipped_data is not None and "style" not in shipped_data:
            shipped_data = {"style": "clipart", **shipped_data, "max_objects": 4}  # entries from before the scenes
        if shipped is None or seed == shipped.seed or data != shipped_data:
            raise ValueError(f"run {run_dir} has seed {seed} on {data}: a seed run needs another seed than the "
                             f"shipped FCN checkpoints' ({None if shipped is None else shipped.seed}) on their data "
                             f"({shipped_data})")
        unshipped = [f"fcn-{v}" for v in states if f"fcn-{v}" not in REGISTRY]
        if unshipped:
            raise ValueError(f"run {run_dir} has stages with no shipped checkpoint ({unshipped}): ship them from "
                             f"the seed-{shipped.seed} run first (record fcn without --seed-run)")
    elif seed != COURSE_FCN["seed"] or data != course_fcn_data(COURSE_FCN["data"]):
        raise ValueError(f"run {run_dir} was trained with seed {seed} on {data}: only the course's recipe (seed "
                         f"{COURSE_FCN['seed']}, {course_fcn_data(COURSE_FCN['data'])}) is shipped as the FCN "
                         "checkpoints; record other seeds with --seed-run")
    differ = _fcn_recipe_differences(states)
    if differ:
        raise ValueError(f"run {run_dir} was not trained with the course recipe: {'; '.join(differ)}. Record only "
                         "runs of `python -m course_utils.train fcn --recipe course` as given (its --seed and --data "
                         "aside), so that every recorded figure is the recipe's")
    root = Path(data_root) if data_root is not None else course_synthetic_root(style)
    out = {}
    for variant, state in states.items():
        name = f"fcn-{variant}"
        arch = fcn_architecture(variant)
        net = build_net(arch)
        net.load_state_dict(state["net"])
        figures_extra = {"epochs": int(state["epochs"])}
        if state.get("cycles"):
            figures_extra["cycles"] = [int(c) for c in state["cycles"]]
        if seed_run:
            scores = evaluate_fcn_checkpoint(name, root, net=_as_shipped(net))
            run = {"seed": int(seed), "command": _fcn_command(seed, style, state.get("device", "cpu")), "device": device_note,
                   "train_seconds": round(float(state["seconds"]), 1),
                   "provenance": _fcn_provenance(run_dir, state, data), "crf": {},
                   "figures": {**scores, **figures_extra}}
            _add_seed_run(name, run)
            out[name] = run
        else:
            curves = {k: [float(x) for x in state[k]] for k in ("train_loss", "val_loss", "val_mean_iu")}
            sha = save_checkpoint_file(net, arch, WEIGHTS_DIR / f"{name}.pt", curves=curves)
            entry_data = {"generator": "synthetic VOC", **data}
            if variant in STARTS_FROM:
                entry_data["initialised_from"] = f"fcn-{STARTS_FROM[variant]}"
            fields = {"family": "fcn", "file": f"{name}.pt", "sha256": sha,
                      "command": _fcn_command(seed, style, state.get("device", "cpu")), "seed": int(seed), "data": entry_data, "architecture": arch,
                      "train_seconds": round(float(state["seconds"]), 1), "device": device_note, "figures": {},
                      "tolerance": 0.005, "crf": {}, "provenance": _fcn_provenance(run_dir, state, data)}
            old = REGISTRY.get(name)
            write_entry(name, fields)
            scores = evaluate_fcn_checkpoint(name, root)
            fields["figures"] = {"split": "val", **scores, **figures_extra}
            # the other seeds recorded on the same data stay; those of other data are dropped with the old weights
            same_data = old is not None and {k: v for k, v in old.data.items() if k != "initialised_from"} == \
                {k: v for k, v in entry_data.items() if k != "initialised_from"}
            fields["seed_runs"] = [r for r in (old.seed_runs if same_data else []) if r["seed"] != seed]
            fields = _with_seed_run(fields, _seed_run(fields))
            write_entry(name, fields)
            out[name] = fields
        log(f"{name}{f' seed {seed}' if seed_run else ''}: "
            + ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if k != "images"))
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
    p.add_argument("--seed-run", action="store_true",
                   help="another training seed of a shipped checkpoint: add its figures to the entry's seed_runs "
                        "(its weights are not shipped)")
    args = p.parse_args(argv)
    record = record_deeplab_seed if args.seed_run else record_deeplab
    record(args.run, device_note=args.device_note, val_frames=check_int(args.val_frames, "--val-frames", 1),
           heldout=check_int(args.heldout, "--heldout", 1))
    return 0


@command
def record_fcn_main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train record fcn --run DIR --device-note TEXT``: ship a course run."""
    p = _parser("fcn", "Ship a --recipe course FCN run as checkpoints: float16 files, validation scores, "
                       "registry entries.", "fcn-<variant>.pt")
    p.add_argument("--seed-run", action="store_true",
                   help="another training seed of the shipped checkpoints: add its scores to each stage's seed_runs "
                        "(its weights are not shipped)")
    args = p.parse_args(argv)
    record_fcn(args.run, device_note=args.device_note, seed_run=args.seed_run)
    return 0


@command
def record_unseen_main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train record unseen --checkpoint NAME [--data-seeds S ...]``."""
    p = argparse.ArgumentParser(prog="python -m course_utils.train record unseen",
                                description="Score shipped checkpoints on data drawn with seeds the training never "
                                            "used and store the figures in the registry (unseen).")
    p.add_argument("--checkpoint", nargs="+", required=True, help="registry names, or 'all'")
    p.add_argument("--data-seeds", type=int, nargs="+", default=list(UNSEEN_DATA_SEEDS))
    args = p.parse_args(argv)
    seeds = [check_int(s, "--data-seeds", 0) for s in args.data_seeds]
    names = sorted(REGISTRY) if args.checkpoint == ["all"] else args.checkpoint
    for name in names:
        record_unseen(name, seeds=seeds)
    return 0
