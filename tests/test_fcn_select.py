"""Choosing the FCN recipe for the scenes: candidates trained and scored on held-out training images only."""

from __future__ import annotations

import json

import pytest
import torch

from course_utils.config import FCN_RECIPE_SELECTION
from course_utils.data.voc import write_synthetic_voc
from course_utils.train import fcn, fcn_select

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = {"heldout": 2, "widths": (0.03125, 0.0625), "epochs_32s": (1, 2), "epochs_16s": 1, "epochs_8s": 1,
        "margin": 0.01}


def test_the_candidates_are_the_grid_cheapest_first():
    found = fcn_select.candidates(FCN_RECIPE_SELECTION)
    assert len(found) == len(FCN_RECIPE_SELECTION["widths"]) * len(FCN_RECIPE_SELECTION["epochs_32s"])
    costs = [fcn_select.candidate_cost(c) for c in found]
    assert costs == sorted(costs)
    assert found[0]["width"] == min(FCN_RECIPE_SELECTION["widths"])
    assert found[0]["epochs"] == {"32s": min(FCN_RECIPE_SELECTION["epochs_32s"]), "16s": 8, "8s": 8}
    # twice the width costs four times the multiply-adds per epoch
    assert fcn_select.candidate_cost({"width": 0.25, "epochs": {"32s": 1}}) == 4 * fcn_select.candidate_cost(
        {"width": 0.125, "epochs": {"32s": 1}})


def test_the_rule_takes_the_cheapest_candidate_within_the_margin_of_the_best():
    names = [c["name"] for c in fcn_select.candidates(TINY)]  # cheapest first
    assert fcn_select.choose_recipe(dict(zip(names, [0.30, 0.40, 0.495, 0.50])), TINY)["name"] == names[2]
    assert fcn_select.choose_recipe(dict(zip(names, [0.50, 0.50, 0.50, 0.50])), TINY)["name"] == names[0]
    assert fcn_select.choose_recipe(dict(zip(names, [0.10, 0.20, 0.30, 0.60])), TINY)["name"] == names[3]
    chosen = fcn_select.choose_recipe(dict(zip(names, [0.30, 0.40, 0.495, 0.50])), TINY)
    assert chosen["best_heldout_mean_iu"] == 0.50 and chosen["heldout_mean_iu"] == 0.495
    with pytest.raises(ValueError, match="one held-out mean IU per candidate"):
        fcn_select.choose_recipe(dict(zip(names[:3], [0.1, 0.2, 0.3])), TINY)
    with pytest.raises(ValueError, match=r"scores\['w0.03125-e1'\]"):
        fcn_select.choose_recipe(dict(zip(names, [float("nan"), 0.2, 0.3, 0.4])), TINY)


@pytest.mark.slow
def test_a_selection_trains_every_candidate_on_training_images_only_and_resumes(tmp_path, monkeypatch, capsys):
    root = write_synthetic_voc(tmp_path / "scenes", n_train=6, n_val=2, size=(32, 32), seed=3, style="scenes")
    monkeypatch.setattr(fcn_select, "FCN_RECIPE_SELECTION", TINY)
    trained = []
    real = fcn.train_fcn_course

    def spy(root, **kw):
        trained.append((kw["width"], kw["epochs"], kw["heldout"]))
        assert kw["score_val"] is False  # the validation split is never scored
        return real(root, **kw)

    monkeypatch.setattr(fcn_select, "train_fcn_course", spy)
    out = tmp_path / "select"
    argv = ["--data-root", str(root), "--out", str(out), "--device", "cpu", "--threads", "1"]
    assert fcn_select.main(argv) == 0
    assert sorted(trained, key=str) == sorted([(w, {"32s": e, "16s": 1, "8s": 1}, 2) for w in TINY["widths"]
                                               for e in TINY["epochs_32s"]], key=str)
    saved = json.loads((out / "selection.json").read_text())
    scores = {name: held["8s"] for name, held in saved["heldout_mean_iu"].items()}
    assert saved["chosen"]["name"] == fcn_select.choose_recipe(scores, TINY)["name"]
    one = json.loads((out / "w0.0625-e2" / "result.json").read_text())
    assert one["heldout"] == 2 and len(one["stages"]["32s"]["heldout_mean_iu"]) == 2
    assert not any("val_loss" in stage or "val_mean_iu" in stage for stage in one["stages"].values())
    assert one["stages"]["8s"]["heldout_mean_iu"][-1] == saved["heldout_mean_iu"]["w0.0625-e2"]["8s"]
    printed = capsys.readouterr().out
    assert "chosen: " in printed and "val" not in printed  # the validation split is never shown
    trained.clear()
    (out / "w0.0625-e2" / "result.json").unlink()  # a selection stopped during its last candidate
    assert fcn_select.main(argv) == 0
    assert trained == [(0.0625, {"32s": 2, "16s": 1, "8s": 1}, 2)]  # only that candidate is trained again


def test_bad_arguments_are_refused_before_anything_trains(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fcn_select, "train_fcn_course", lambda *a, **k: pytest.fail("trained"))
    assert fcn_select.main(["--data", "photos", "--out", str(tmp_path / "x")]) == 2
    assert "--data" in capsys.readouterr().err
    assert fcn_select.main(["--threads", "0", "--out", str(tmp_path / "y")]) == 2
    assert "--threads" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # argparse refuses both at once, even --data at its default
        fcn_select.main(["--data", "scenes", "--data-root", str(tmp_path), "--out", str(tmp_path / "z")])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in ("x", "y", "z"))
    with pytest.raises(ValueError, match="width must be"):
        fcn.train_fcn_course(tmp_path, epochs={"32s": 1}, width=0.0)


@pytest.mark.slow
def test_a_candidate_stopped_inside_a_stage_resumes_after_its_last_finished_epoch(tmp_path, monkeypatch):
    root = write_synthetic_voc(tmp_path / "scenes", n_train=6, n_val=2, size=(32, 32), seed=3, style="scenes")
    one = {**TINY, "widths": (0.0625,), "epochs_32s": (3,)}
    monkeypatch.setattr(fcn_select, "FCN_RECIPE_SELECTION", one)
    out = tmp_path / "select"
    argv = ["--data-root", str(root), "--out", str(out), "--device", "cpu", "--threads", "1"]
    real = fcn.train_fcn
    calls = []

    def stop_in_the_third_32s_epoch(net, loader, **kw):
        seen = kw["on_epoch"]
        calls.append(kw["desc"])

        def on_epoch(epoch):
            seen(epoch)
            if kw["desc"] == "FCN-32s" and epoch == 2:
                raise KeyboardInterrupt("stopped")
        return real(net, loader, **{**kw, "on_epoch": on_epoch})

    monkeypatch.setattr(fcn, "train_fcn", stop_in_the_third_32s_epoch)
    with pytest.raises(KeyboardInterrupt):
        fcn_select.main(argv)
    folder = out / "w0.0625-e3"
    saved = torch.load(folder / "fcn-32s.ckpt", weights_only=True)
    assert saved["epoch"] == 1 and len(saved["curves"]["heldout_mean_iu"]) == 2
    assert json.loads((folder / "settings.json").read_text())["recipe"]["width"] == 0.0625
    monkeypatch.setattr(fcn, "train_fcn", real)
    assert fcn_select.main(argv) == 0
    result = json.loads((folder / "result.json").read_text())
    assert result["stages"]["32s"]["epochs"] == 3 and len(result["stages"]["32s"]["heldout_mean_iu"]) == 3
    assert [len(result["stages"][v]["train_loss"]) for v in ("32s", "16s", "8s")] == [3, 1, 1]
    assert sorted(p.name for p in folder.glob("fcn-*.pt")) == ["fcn-16s.pt", "fcn-32s.pt", "fcn-8s.pt"]
    # another selection (other epochs) in the same folder would resume a checkpoint of another schedule
    (folder / "result.json").unlink()
    monkeypatch.setattr(fcn_select, "FCN_RECIPE_SELECTION", {**one, "epochs_16s": 2})
    monkeypatch.setattr(fcn_select, "candidates", lambda selection: [{"name": "w0.0625-e3", "width": 0.0625,
                                                                      "epochs": {"32s": 3, "16s": 2, "8s": 1}}])
    with pytest.raises(ValueError, match="fcn-16s.pt of another run"):
        fcn_select._train_candidate(fcn_select.candidates(None)[0], root, folder, device="cpu", seed=0, heldout=2,
                                    argv=["x"], code=(None, None))


@pytest.mark.slow
def test_jobs_train_the_candidates_in_processes_of_their_own(tmp_path, monkeypatch):
    root = write_synthetic_voc(tmp_path / "scenes", n_train=6, n_val=2, size=(32, 32), seed=3, style="scenes")
    out = tmp_path / "select"
    commands = []

    def run(cmd, log):  # the children, trained here (one process) as the real ones would train
        commands.append(cmd)
        assert cmd[1:4] == ["-m", "course_utils.train", "fcn-select"] and log.parent == out
        return fcn_select.main(cmd[4:])

    from course_utils.train import seeds
    monkeypatch.setattr(fcn_select, "FCN_RECIPE_SELECTION", TINY)
    monkeypatch.setattr(seeds, "_run_logged", run)
    real_run_jobs = seeds.run_jobs
    monkeypatch.setattr(seeds, "run_jobs", lambda jobs, parallel: real_run_jobs(jobs, parallel=parallel, run=run))
    trained = []
    real = fcn.train_fcn_course
    monkeypatch.setattr(fcn_select, "train_fcn_course", lambda root, **kw: trained.append(kw["width"]) or real(root, **kw))
    assert fcn_select.main(["--data-root", str(root), "--out", str(out), "--device", "cpu", "--jobs", "2"]) == 0
    names = [c["name"] for c in fcn_select.candidates(TINY)]
    assert sorted(cmd[cmd.index("--candidate") + 1] for cmd in commands) == sorted(names)
    assert all(cmd[cmd.index("--threads") + 1] == "1" and cmd[cmd.index("--out") + 1] == str(out) for cmd in commands)
    assert len(trained) == len(names)  # each candidate once, by its own process; the selection only reads them
    assert json.loads((out / "selection.json").read_text())["chosen"]["name"] in names
    prov = json.loads((out / names[0] / "provenance.json").read_text())
    assert prov["argv"][4:6] == ["--data-root", str(root)] and "--candidate" in prov["argv"]


def test_a_candidate_that_fails_in_its_process_is_named_and_nothing_is_chosen(tmp_path, monkeypatch, capsys):
    root = write_synthetic_voc(tmp_path / "scenes", n_train=6, n_val=2, size=(32, 32), seed=3, style="scenes")
    from course_utils.train import seeds
    monkeypatch.setattr(fcn_select, "FCN_RECIPE_SELECTION", TINY)
    real_run_jobs = seeds.run_jobs  # every child process fails
    monkeypatch.setattr(seeds, "run_jobs", lambda jobs, parallel: real_run_jobs(jobs, parallel=parallel, log=lambda m: None,
                                                                                run=lambda cmd, log: 1))
    monkeypatch.setattr(fcn_select, "train_fcn_course", lambda *a, **k: pytest.fail("trained in the selecting process"))
    out = tmp_path / "select"
    assert fcn_select.main(["--data-root", str(root), "--out", str(out), "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    assert "not chosen" in err and all(c["name"] in err for c in fcn_select.candidates(TINY))
    assert not (out / "selection.json").exists()


def test_the_recorded_selection_on_the_scenes_is_what_the_rule_picks():
    """``course_utils/weights/fcn_selection.json`` records the run of ``fcn-select --data scenes``: the rule of
    the config applied to its held-out figures picks the candidate it names, and every candidate ran clean."""
    record = fcn_select.read_selection_record()
    assert record["selection"] == json.loads(json.dumps(FCN_RECIPE_SELECTION))  # the rule as committed
    names = [c["name"] for c in fcn_select.candidates(FCN_RECIPE_SELECTION)]
    assert sorted(record["candidates"]) == sorted(names)
    for name, candidate in record["candidates"].items():
        assert set(candidate["heldout_mean_iu"]) == {"32s", "16s", "8s"}, name
        assert all(0 < m < 1 for m in candidate["heldout_mean_iu"].values()), name
        assert candidate["seconds"] > 0 and candidate["commits"] and candidate["dirty"] is False, name
    chosen = fcn_select.choose_recipe({n: c["heldout_mean_iu"]["8s"] for n, c in record["candidates"].items()})
    assert chosen["name"] == record["chosen"]["name"]
    assert chosen["width"] == record["chosen"]["width"] and chosen["epochs"] == record["chosen"]["epochs"]
    with pytest.raises(FileNotFoundError, match="fcn-select"):
        fcn_select.read_selection_record(fcn_select.SELECTION_RECORD.with_name("missing.json"))
