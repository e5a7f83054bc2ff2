"""Choosing the FCN recipe for a synthetic VOC on held-out *training* images, by a rule fixed beforehand.

``python -m course_utils.train fcn-select --data scenes [--device cuda] [--out DIR]`` trains every
candidate of :data:`course_utils.config.FCN_RECIPE_SELECTION` (widths x FCN-32s epochs; FCN-16s and
FCN-8s as the recipe) on the training images minus the last ``heldout``, scores each stage on those
held-out images after every epoch, and applies the rule: the cheapest candidate whose held-out FCN-8s
mean IU is within ``margin`` of the best. The validation split the lessons report is never scored
(``score_val=False``; candidates trained before that was so record its curves, never printed or used).

Each candidate has its own folder under ``--out`` (default ``<data root>/runs/fcn-select-<data>``) with
its curves (``result.json``); a finished candidate is not trained again, and a stopped one resumes after
its last finished epoch, so a selection can run in pieces (on a CPU it takes many hours). ``--jobs N``
trains N candidates at once, each in a process of its own with one CPU thread
(``--candidate NAME``, which trains that one only).
The choice goes to ``selection.json`` and is printed; shipping it is an edit of
:data:`course_utils.train.fcn.COURSE_FCN` (width, epochs, data) by hand, then
``python -m course_utils.train seeds``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

from course_utils._shared import check_choice, check_int, check_number
from course_utils.checkpoints import WEIGHTS_DIR
from course_utils.cli import command, write_text_atomic
from course_utils.config import FCN_RECIPE_SELECTION
from course_utils.data.voc import course_synthetic_root, synthetic_voc_parameters
from course_utils.env import cpu_threads, get_device
from course_utils.paths import data_root
from course_utils.train.fcn import COURSE_FCN, FCN_DATA, completed_stages, save_stage, train_fcn_course
from course_utils.train.run_folder import claim_run_folder, code_commit, match_run_settings, write_provenance

__all__ = ["SELECTION_RECORD", "candidates", "candidate_cost", "choose_recipe", "read_selection_record", "main"]

#: The record of the selection run on the VOC-like scenes (its candidates' held-out figures and the choice).
SELECTION_RECORD = WEIGHTS_DIR / "fcn_selection.json"


def candidates(selection: dict[str, Any] = FCN_RECIPE_SELECTION) -> list[dict[str, Any]]:
    """The candidate recipes, ``[{"name", "width", "epochs": {"32s", "16s", "8s"}}]``, cheapest first."""
    found = [{"name": f"w{w:g}-e{e}", "width": float(w),
              "epochs": {"32s": int(e), "16s": int(selection["epochs_16s"]), "8s": int(selection["epochs_8s"])}}
             for w in selection["widths"] for e in selection["epochs_32s"]]
    return sorted(found, key=candidate_cost)


def candidate_cost(candidate: dict[str, Any]) -> float:
    """Relative training cost: width^2 (the convolutions' multiply-adds) x epochs of all stages."""
    return candidate["width"] ** 2 * sum(candidate["epochs"].values())


def choose_recipe(scores: dict[str, float], selection: dict[str, Any] = FCN_RECIPE_SELECTION) -> dict[str, Any]:
    """The rule: the cheapest candidate whose held-out FCN-8s mean IU is within ``margin`` of the best.

    Parameters
    ----------
    scores : dict
        ``{candidate name: held-out FCN-8s mean IU in [0, 1]}``, one per candidate of ``selection``.

    Raises
    ------
    ValueError
        A candidate without a score, a name that is not a candidate, or a score outside [0, 1].
    """
    names = [c["name"] for c in candidates(selection)]
    if sorted(scores) != sorted(names):
        raise ValueError(f"scores must have one held-out mean IU per candidate {names}, got {sorted(scores)}")
    for name, score in scores.items():
        check_number(score, f"scores[{name!r}]", 0.0, 1.0)
    best = max(scores.values())
    margin = check_number(selection["margin"], "margin", 0.0)
    chosen = next(c for c in candidates(selection) if scores[c["name"]] >= best - margin)
    return {**chosen, "heldout_mean_iu": scores[chosen["name"]], "best_heldout_mean_iu": best, "margin": margin}


def read_selection_record(path: Path = SELECTION_RECORD) -> dict[str, Any]:
    """The recorded selection run (:data:`SELECTION_RECORD`): ``{"selection", "candidates", "chosen", ...}``."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: it records python -m course_utils.train fcn-select")
    return json.loads(path.read_text())


_COMMAND = "python -m course_utils.train fcn-select"


def _train_candidate(candidate: dict[str, Any], root: Path, folder: Path, *, device, seed: int,
                     heldout: int, argv: list[str], code: tuple[str | None, bool | None]) -> dict[str, Any]:
    """Train one candidate in ``folder`` (or read its finished folder); its held-out curves per stage.

    A stopped candidate resumes: its finished stages (``fcn-<variant>.pt``) are loaded, a stage stopped
    partway goes on after its last finished epoch.
    """
    done = folder / "result.json"
    if done.is_file():
        return json.loads(done.read_text())
    claim_run_folder(folder, _COMMAND, name="--out", finished="result.json")
    data = {**(synthetic_voc_parameters(root) or {"root": str(root)}), "heldout": heldout}
    recipe = {**COURSE_FCN, "epochs": candidate["epochs"], "width": candidate["width"], "seed": seed,
              "data": data.get("style", str(root))}
    completed = completed_stages(folder, recipe, data, candidate["epochs"])
    match_run_settings(folder, {"recipe": recipe, "data": data})
    write_provenance(folder, argv, code)
    runs = train_fcn_course(root, device=device, epochs=candidate["epochs"], seed=seed, heldout=heldout,
                            width=candidate["width"], log=None, completed=completed, checkpoints=folder,
                            score_val=False,
                            on_stage=lambda variant, run: save_stage(folder, variant, run, recipe, data))
    result = {"candidate": candidate, "seed": seed, "heldout": heldout,
              "stages": {v: {k: r[k] for k in ("heldout_loss", "heldout_mean_iu", "train_loss", "val_loss",
                                                "val_mean_iu", "seconds", "epochs", "device") if k in r}
                         for v, r in runs.items()}}
    write_text_atomic(done, json.dumps(result, indent=1, default=float))
    return result


def _train_in_parallel(todo: list[dict[str, Any]], out: Path, where: list[str], jobs: int) -> dict[str, str]:
    """Train the candidates ``todo``, ``jobs`` at a time, each in a process of its own (``--candidate``,
    one thread on the CPU; ``where``: its ``--data-root`` and ``--device``); each logs to
    ``out/<name>.log``. Returns ``{name: what went wrong}`` of the candidates that failed."""
    from course_utils.train.seeds import Job, run_jobs

    plan = [Job(c["name"], out / c["name"],
                [sys.executable, "-m", "course_utils.train", "fcn-select", *where, "--out", str(out),
                 "--candidate", c["name"], "--threads", "1"], []) for c in todo]
    return {name: what for name, what in run_jobs(plan, parallel=jobs).items() if what != "done"}


@command
def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train fcn-select --data scenes [--device cuda] [--out DIR]``; the exit status."""
    p = argparse.ArgumentParser(prog="python -m course_utils.train fcn-select",
                                description="Train the candidate FCN recipes of FCN_RECIPE_SELECTION on held-out "
                                            "training images and choose one by its fixed rule.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--data", default=None,  # None: argparse sees a --data equal to its default as given
                       help=f"the course's synthetic VOC: {' or '.join(FCN_DATA)} (default scenes)")
    where.add_argument("--data-root", default=None, help="another VOC-layout root")
    p.add_argument("--out", default=None, help="folder for the candidates' folders and selection.json")
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: the free cores, at most 8)")
    p.add_argument("--jobs", type=int, default=1,
                   help="candidates trained at once, each in its own process with one CPU thread (default 1)")
    p.add_argument("--candidate", default=None,
                   help="train only this candidate (its folder under --out), without choosing")
    args = p.parse_args(argv)
    code = code_commit()
    style = check_choice("scenes" if args.data is None else args.data, "--data", list(FCN_DATA))
    if args.threads is not None:
        check_int(args.threads, "--threads", 1)
    jobs = check_int(args.jobs, "--jobs", 1)
    selection = FCN_RECIPE_SELECTION
    every = {c["name"]: c for c in candidates(selection)}
    if args.candidate is not None:
        check_choice(args.candidate, "--candidate", list(every))
    device = get_device(args.device, name="--device") if args.device is not None else get_device()
    if args.data_root is not None and not Path(args.data_root).is_dir():
        raise FileNotFoundError(f"--data-root {args.data_root} is not a folder")
    out = Path(args.out) if args.out else data_root() / "runs" / f"fcn-select-{style}"
    as_run = ["python", "-m", "course_utils.train", "fcn-select", *(sys.argv[2:] if argv is None else argv)]
    root = Path(args.data_root) if args.data_root else course_synthetic_root(style)
    torch.set_num_threads(cpu_threads(limit=8) if args.threads is None else args.threads)
    if args.candidate is not None:  # one candidate, in its own folder (the selection's process holds --out)
        claim_run_folder(out, _COMMAND, name="--out", hold=False)
        _train_candidate(every[args.candidate], root, out / args.candidate, device=device,
                         seed=COURSE_FCN["seed"], heldout=selection["heldout"], argv=as_run, code=code)
        return 0
    claim_run_folder(out, _COMMAND, name="--out")
    write_provenance(out, as_run, code)
    todo = [c for c in every.values() if not (out / c["name"] / "result.json").is_file()]
    if jobs > 1 and len(todo) > 1:
        failed = _train_in_parallel(todo, out, ["--data-root", str(root),
                                                *(["--device", args.device] if args.device else [])], jobs)
        if failed:
            print("not chosen: " + "; ".join(f"{name}: {what}" for name, what in failed.items()), file=sys.stderr)
            return 1
    table = {}
    for candidate in every.values():
        result = _train_candidate(candidate, root, out / candidate["name"], device=device, seed=COURSE_FCN["seed"],
                                  heldout=selection["heldout"], argv=as_run, code=code)
        held = {v: result["stages"][v]["heldout_mean_iu"][-1] for v in ("32s", "16s", "8s")}
        table[candidate["name"]] = held
        print(f"{candidate['name']:>12}: held-out mean IU " + ", ".join(f"FCN-{v} {m:.3f}" for v, m in held.items())
              + f" ({sum(result['stages'][v]['seconds'] for v in held):.0f} s on {result['stages']['32s']['device']})")
    chosen = choose_recipe({name: held["8s"] for name, held in table.items()}, selection)
    write_text_atomic(out / "selection.json", json.dumps({"selection": selection, "heldout_mean_iu": table,
                                                          "chosen": chosen}, indent=1, default=float))
    print(f"chosen: {chosen['name']} (width {chosen['width']:g}, epochs {chosen['epochs']}): held-out FCN-8s mean IU "
          f"{chosen['heldout_mean_iu']:.3f}, best {chosen['best_heldout_mean_iu']:.3f}, margin {chosen['margin']:g}")
    return 0
