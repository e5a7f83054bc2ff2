"""Every training seed the course's figures need, trained and recorded by one command.

``python -m course_utils.train seeds [--seeds 1 2] [--device cuda] [--jobs N] [--dry-run]`` plans what
the registry still lacks and runs it:

* each DeepLab checkpoint's recipe with every seed of ``--seeds`` missing from its ``seed_runs``
  (``train deeplab --recipe course --model M --seed S``, then ``record deeplab --seed-run``);
* the FCN stages on the recipe's data (``COURSE_FCN["data"]``): if the shipped FCN checkpoints were
  trained on other data, the recipe's seed (``train fcn``, ``record fcn``, ``record unseen``) and every
  missing seed (``record fcn --seed-run``); they all train at once, and the other seeds are recorded
  after the recipe's seed is shipped.

Each run has its own folder ``<data root>/runs/seeds/<family>-<name>-s<seed>``. A run stopped halfway
resumes where it stopped when the command is given again (DeepLab after its last epoch, FCN after its
last finished epoch); a finished run (``result.json``) is only recorded. Runs go ``--jobs`` at a time, each
in its own process with its log beside its folder; the registry is written under a lock, so records may
overlap. On a CPU, ``--jobs`` above the number of cores still pays: every run has one thread, so the
cores are shared and all the runs end together, instead of the last one training alone on one core.
The command then says what to regenerate (README table, lessons 4 and 7).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from course_utils._shared import check_int
from course_utils.checkpoints import REGISTRY
from course_utils.cli import command
from course_utils.paths import data_root

__all__ = ["Job", "plan_seed_jobs", "run_jobs", "main"]

_TRAIN = [sys.executable, "-m", "course_utils.train"]


@dataclass
class Job:
    """One run: its folder, the commands that train and record it, and the jobs whose records must be done
    before its own (``record_after``; its training does not wait for them)."""

    name: str
    folder: Path
    train: list[str]
    record: list[list[str]]
    record_after: list[str] = field(default_factory=list)

    def finished(self) -> bool:
        """Whether the training already finished (only the records remain)."""
        return (self.folder / "result.json").is_file()


def _where(device: str) -> list[str]:
    return ["--device", device] if device != "cpu" else ["--threads", "1"]


def _fcn_shipped_style() -> str | None:
    entry = REGISTRY.get("fcn-8s")
    return None if entry is None else entry.data.get("style", "clipart")


def plan_seed_jobs(seeds: Sequence[int], *, device: str = "cpu", device_note: str, runs: Path | None = None,
                   families: Sequence[str] = ("deeplab", "fcn")) -> list[Job]:
    """The runs the registry lacks for ``seeds`` (see the module docstring), in the order they may start."""
    from course_utils.train.fcn import COURSE_FCN

    runs = Path(runs) if runs is not None else data_root() / "runs" / "seeds"
    note = ["--device-note", device_note]
    jobs: list[Job] = []
    if "deeplab" in families:
        for name, entry in sorted(REGISTRY.items()):
            if entry.family != "deeplab":
                continue
            model = name.removeprefix("deeplab-")
            have = {int(r["seed"]) for r in entry.seed_runs} | {int(entry.seed)}
            for seed in (s for s in seeds if s not in have):
                folder = runs / f"{name}-s{seed}"
                jobs.append(Job(f"{name} seed {seed}", folder,
                                [*_TRAIN, "deeplab", "--recipe", "course", "--model", model, "--seed", str(seed),
                                 "--out", str(folder), "--no-eval", *_where(device)],
                                [[*_TRAIN, "record", "deeplab", "--run", str(folder), "--seed-run", *note]]))
    if "fcn" in families:
        style = COURSE_FCN["data"]
        shipped = REGISTRY.get("fcn-8s")
        ship_seed = int(COURSE_FCN["seed"])
        reship = _fcn_shipped_style() != style or "fcn-32s-long" not in REGISTRY
        have = set() if reship else {int(r["seed"]) for r in shipped.seed_runs} | {int(shipped.seed)}
        first: list[str] = []
        fcn_names = ["fcn-32s", "fcn-16s", "fcn-8s", "fcn-32s-fixed", "fcn-32s-long"]
        if reship:  # the recipe's seed on the recipe's data, shipped before other seeds can join it
            folder = runs / f"fcn-{style}-s{ship_seed}"
            jobs.append(Job(f"fcn ({style}) seed {ship_seed}, shipped", folder,
                            [*_TRAIN, "fcn", "--recipe", "course", "--data", style, "--seed", str(ship_seed),
                             "--out", str(folder), *_where(device)],
                            [[*_TRAIN, "record", "fcn", "--run", str(folder), *note],
                             [*_TRAIN, "record", "unseen", "--checkpoint", *fcn_names]]))
            first = [jobs[-1].name]
            have = {ship_seed}
        for seed in (s for s in seeds if s not in have):
            folder = runs / f"fcn-{style}-s{seed}"
            jobs.append(Job(f"fcn ({style}) seed {seed}", folder,
                            [*_TRAIN, "fcn", "--recipe", "course", "--data", style, "--seed", str(seed),
                             "--out", str(folder), *_where(device)],
                            [[*_TRAIN, "record", "fcn", "--run", str(folder), "--seed-run", *note]],
                            record_after=list(first)))
    return jobs


def _run_logged(cmd: list[str], log: Path) -> int:
    with open(log, "a") as out:
        out.write(f"$ {shlex.join(cmd)}\n")
        out.flush()
        return subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode


def run_jobs(jobs: Sequence[Job], *, parallel: int = 1, run: Callable[[list[str], Path], int] = _run_logged,
             log=print) -> dict[str, str]:
    """Run ``jobs``, ``parallel`` at a time, in their order; return ``{name: outcome}``.

    A job's training is skipped if it already finished. Its records run only if its training succeeded and
    every job of its ``record_after`` (each listed before it) is done; otherwise it stays trained and
    unrecorded, and the command given again records it. ``run(cmd, log_file)`` runs one command (its exit
    status).
    """
    check_int(parallel, "parallel", 1)
    earlier: set[str] = set()
    for job in jobs:
        late = [a for a in job.record_after if a not in earlier]
        if late:
            raise ValueError(f"jobs: {job.name!r} is recorded after {late}, which must be listed before it")
        earlier.add(job.name)
    outcome: dict[str, str] = {}
    ended = {job.name: threading.Event() for job in jobs}

    def one(job: Job) -> str:
        job.folder.parent.mkdir(parents=True, exist_ok=True)
        log_file = job.folder.parent / f"{job.folder.name}.log"  # beside, not inside: the run claims its folder
        if not job.finished():
            log(f"training {job.name} (log: {log_file})")
            if run(job.train, log_file) != 0:
                return f"training failed (see {log_file})"
        for name in job.record_after:  # started earlier (the pool takes jobs in order), so this ends
            ended[name].wait()
        failed = [a for a in job.record_after if outcome[a] != "done"]
        if failed:
            return f"trained, not recorded: {', '.join(failed)} did not finish"
        for cmd in job.record:
            log(f"recording {job.name}: {shlex.join(cmd[3:5])}")
            if run(cmd, log_file) != 0:
                return f"recording failed (see {log_file})"
        return "done"

    def ran(job: Job) -> None:
        try:
            outcome[job.name] = one(job)
        except Exception as error:  # reported as the job's outcome; the others go on
            outcome[job.name] = f"failed: {error!r}"
        finally:
            outcome.setdefault(job.name, "failed")
            ended[job.name].set()
        log(f"{job.name}: {outcome[job.name]}")

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for job in jobs:
            pool.submit(ran, job)
    return {job.name: outcome[job.name] for job in jobs}


def _default_note(device: str, jobs: int) -> str:
    if device.startswith("cuda"):
        import torch

        return f"cuda: {torch.cuda.get_device_name(0)} ({jobs} run(s) at once)"
    return f"cpu: {os.cpu_count()} cores (one thread per run, {jobs} run(s) at once)"


@command
def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train seeds [--seeds S ...] [--device D] [--jobs N] [--dry-run]``."""
    p = argparse.ArgumentParser(prog="python -m course_utils.train seeds",
                                description="Train and record every training seed the course's figures lack.")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                   help="training seeds every course network should have (default 0 1 2)")
    p.add_argument("--family", choices=("deeplab", "fcn"), nargs="+", default=["deeplab", "fcn"])
    p.add_argument("--device", default="cpu", help="cpu (one thread per run) or cuda")
    p.add_argument("--jobs", type=int, default=None, help="runs at once (default: the CPU's cores, 4 on cuda)")
    p.add_argument("--device-note", default=None, help="where the runs train, for the registry (default: measured)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    args = p.parse_args(argv)
    seeds = sorted({check_int(s, "--seeds", 0) for s in args.seeds})
    if args.device != "cpu":
        from course_utils.env import get_device

        get_device(args.device, name="--device")  # a clear error when CUDA is missing, before anything runs
    jobs_at_once = check_int(args.jobs, "--jobs", 1) if args.jobs is not None else (
        4 if args.device.startswith("cuda") else max(1, os.cpu_count() or 1))
    note = args.device_note or _default_note(args.device, jobs_at_once)
    jobs = plan_seed_jobs(seeds, device=args.device, device_note=note, families=args.family)
    for job in jobs:
        print(f"{job.name}: {'record only' if job.finished() else 'train and record'} in {job.folder}"
              + (f" (recorded after {', '.join(job.record_after)})" if job.record_after else ""))
    if not jobs:
        print("nothing to do: every course network has the seeds asked for")
        return 0
    if args.dry_run:
        return 0
    outcome = run_jobs(jobs, parallel=jobs_at_once)
    failed = {k: v for k, v in outcome.items() if v != "done"}
    print("then: python -m course_utils.train report --write README.md, and re-execute lessons 4 and 7 "
          "(jupyter nbconvert --execute) so that they show the new seeds")
    for name, why in failed.items():
        print(f"error: {name}: {why}", file=sys.stderr)
    return 1 if failed else 0
