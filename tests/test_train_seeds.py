"""``python -m course_utils.train seeds``: the plan of missing seeds, the order runs start in, failures,
and the lock that keeps two processes out of one run folder."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import pytest

from course_utils.checkpoints import REGISTRY
from course_utils.train import fcn, seeds
from course_utils.train.run_folder import claim_run_folder


def _only_seed(monkeypatch, name, seed_runs):
    monkeypatch.setitem(REGISTRY, name, dataclasses.replace(REGISTRY[name], seed_runs=seed_runs))


def test_the_plan_trains_only_the_seeds_each_network_lacks(tmp_path, monkeypatch):
    for name, entry in list(REGISTRY.items()):
        if entry.family == "deeplab":
            _only_seed(monkeypatch, name, [{"seed": entry.seed, "figures": entry.figures}])
    _only_seed(monkeypatch, "deeplab-aspp", [{"seed": 0, "figures": {}}, {"seed": 1, "figures": {}}])
    jobs = seeds.plan_seed_jobs([0, 1, 2], device="cuda", device_note="gpu X", runs=tmp_path, families=["deeplab"])
    names = [j.name for j in jobs]
    assert "deeplab-aspp seed 1" not in names and "deeplab-aspp seed 2" in names
    assert not any(n.endswith("seed 0") for n in names)  # the shipped seed is there already
    job = next(j for j in jobs if j.name == "deeplab-vgg_aspp seed 1")
    assert job.folder == tmp_path / "deeplab-vgg_aspp-s1" and not job.record_after
    assert job.train[-5:] == ["--out", str(job.folder), "--no-eval", "--device", "cuda"]
    assert ["--model", "vgg_aspp", "--seed", "1"] == job.train[job.train.index("--model"):job.train.index("--seed") + 2]
    assert job.record == [[*seeds._TRAIN, "record", "deeplab", "--run", str(job.folder), "--seed-run",
                           "--device-note", "gpu X"]]
    cpu = seeds.plan_seed_jobs([1], device="cpu", device_note="cpu", runs=tmp_path, families=["deeplab"])
    assert all(j.train[-2:] == ["--threads", "1"] for j in cpu)


def test_fcn_seeds_are_recorded_after_the_recipes_data_is_shipped(tmp_path, monkeypatch):
    shipped = REGISTRY["fcn-8s"].data["style"]
    other = "clipart" if shipped == "scenes" else "scenes"
    monkeypatch.setitem(fcn.COURSE_FCN, "data", other)  # the shipped checkpoints learnt other data than the recipe's
    jobs = seeds.plan_seed_jobs([0, 1, 2], device_note="n", runs=tmp_path, families=["fcn"])
    assert [j.name for j in jobs] == [f"fcn ({other}) seed 0, shipped"] + [f"fcn ({other}) seed {s}" for s in (1, 2)]
    ship, later = jobs[0], jobs[1:]
    assert "--seed-run" not in ship.record[0] and ship.record[1][3:5] == ["record", "unseen"]
    assert "fcn-32s-long" in ship.record[1]
    assert all(j.record_after == [ship.name] and "--seed-run" in j.record[0] for j in later)
    assert all(j.train[j.train.index("--data") + 1] == other for j in jobs)


def test_fcn_seeds_on_the_shipped_data_are_only_the_missing_ones(tmp_path, monkeypatch):
    entry = REGISTRY["fcn-8s"]
    monkeypatch.setitem(fcn.COURSE_FCN, "data", entry.data["style"])  # the recipe's data is the shipped one
    have = {int(r["seed"]) for r in entry.seed_runs} | {int(entry.seed)}
    jobs = seeds.plan_seed_jobs([0, 1, 2, 3], device_note="n", runs=tmp_path, families=["fcn"])
    assert [j.name for j in jobs] == [f"fcn ({entry.data['style']}) seed {s}" for s in (0, 1, 2, 3) if s not in have]
    assert 3 not in have and all(j.record_after == [] and "--seed-run" in j.record[0] for j in jobs)
    assert jobs[-1].folder == tmp_path / f"fcn-{entry.data['style']}-s3"


def test_runs_train_at_once_and_are_recorded_after_what_they_wait_for(tmp_path):
    import threading

    ship = seeds.Job("ship", tmp_path / "ship", ["train", "ship"], [["rec", "ship"]])
    seed1 = seeds.Job("seed1", tmp_path / "s1", ["train", "s1"], [["rec", "s1"]], record_after=["ship"])
    other = seeds.Job("other", tmp_path / "other", ["train", "other"], [["rec", "other"]])
    done = tmp_path / "done"
    done.mkdir()
    (done / "result.json").write_text("{}")
    finished = seeds.Job("finished", done, ["train", "finished"], [["rec", "finished"]])
    ran = []

    def fake(cmd, log):
        ran.append(cmd)
        assert log.parent == tmp_path  # the log lies beside the run folder
        return 0

    outcome = seeds.run_jobs([ship, seed1, other, finished], parallel=1, run=fake, log=lambda m: None)
    assert outcome == dict.fromkeys(["ship", "seed1", "other", "finished"], "done")
    assert ran.index(["rec", "ship"]) < ran.index(["rec", "s1"])
    assert ["rec", "finished"] in ran and ["train", "finished"] not in ran  # the finished run: recorded only

    # with two at once, seed1 trains while ship trains (both trainings run before either record), and its
    # record still waits for ship's
    both_training = threading.Barrier(2, timeout=30)
    ran.clear()

    def meeting(cmd, log):
        if cmd[0] == "train":
            both_training.wait()  # breaks (and fails the run) unless the two trainings overlap
        ran.append(cmd)
        return 0

    outcome = seeds.run_jobs([ship, seed1], parallel=2, run=meeting, log=lambda m: None)
    assert outcome == {"ship": "done", "seed1": "done"}
    assert ran.index(["rec", "ship"]) < ran.index(["rec", "s1"])

    # a failed prerequisite leaves its follower trained but unrecorded; the others go on
    ran.clear()
    outcome = seeds.run_jobs([ship, seed1, other], parallel=2, run=lambda c, log: ran.append(c) or (
        1 if c == ["train", "ship"] else 0), log=lambda m: None)
    assert outcome["ship"].startswith("training failed") and outcome["other"] == "done"
    assert outcome["seed1"] == "trained, not recorded: ship did not finish"
    assert ["train", "s1"] in ran and ["rec", "s1"] not in ran
    with pytest.raises(ValueError, match="parallel"):
        seeds.run_jobs([ship], parallel=0, run=fake)
    with pytest.raises(ValueError, match="listed before"):  # a follower before its prerequisite could deadlock
        seeds.run_jobs([seed1, ship], parallel=1, run=fake)


def test_the_command_prints_its_plan_and_checks_its_arguments(capsys, monkeypatch):
    assert seeds.main(["--dry-run", "--seeds", "0", "--family", "deeplab"]) == 0
    assert "nothing to do" in capsys.readouterr().out  # every DeepLab has its shipped seed 0
    assert seeds.main(["--dry-run", "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err
    assert seeds.main(["--dry-run", "--seeds", "-1"]) == 2
    assert "--seeds" in capsys.readouterr().err


def test_two_processes_never_train_into_one_run_folder(tmp_path):
    folder = tmp_path / "run"
    claim_run_folder(folder, "python -m course_utils.train fcn")
    claim_run_folder(folder, "python -m course_utils.train fcn")  # this process again: still its folder
    code = textwrap.dedent(f"""
        from course_utils.train.run_folder import claim_run_folder
        claim_run_folder({str(folder)!r}, "python -m course_utils.train fcn")
    """)
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert other.returncode != 0 and "being trained by another process" in other.stderr
    fresh = tmp_path / "fresh"
    ok = subprocess.run([sys.executable, "-c", code.replace(str(folder), str(fresh))], capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stderr
    # the lock file alone does not make a folder someone else's: the lock is released with its process
    assert sorted(p.name for p in fresh.iterdir()) == [".segcourse-run.lock", "segcourse-run.json"]
    claim_run_folder(fresh, "python -m course_utils.train fcn")


def test_a_file_system_without_locks_trains_with_a_warning(tmp_path, monkeypatch):
    import errno
    import fcntl

    def no_locks(*args):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.warns(RuntimeWarning, match="cannot lock the run folder"):
        assert claim_run_folder(tmp_path / "nfs", "python -m course_utils.train fcn") == tmp_path / "nfs"
