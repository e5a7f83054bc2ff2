"""The FCN recipe's stages: the long FCN-32s control, resuming a run stage by stage, recording other seeds."""

from __future__ import annotations

import json
import re

import pytest
import torch

from course_utils import checkpoints
from course_utils.checkpoints import REGISTRY
from course_utils.data.voc import synthetic_voc_parameters, write_synthetic_voc
from course_utils.train import fcn, record

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = {"32s": 2, "16s": 1, "8s": 1, "32s-fixed": 1, "32s-long": 2}


@pytest.fixture(scope="module")
def tiny_scenes(tmp_path_factory):
    return write_synthetic_voc(tmp_path_factory.mktemp("scenes"), n_train=6, n_val=2, size=(32, 32), seed=3,
                               style="scenes")


def test_the_long_control_needs_the_staged_nets_and_their_length():
    assert fcn.long_control_cycles(fcn.COURSE_FCN["epochs"]) == [8, 8]
    # the recipe's own numbers: FCN-32s-long sees as many epochs as FCN-8s in all
    e = fcn.COURSE_FCN["epochs"]
    assert e["32s"] + e["32s-long"] == e["32s"] + e["16s"] + e["8s"]
    with pytest.raises(ValueError, match=r"epochs\['32s-long'\] must be .* = 2 .*got 3"):
        fcn._check_stage_epochs({**TINY, "32s-long": 3}, "epochs[")
    with pytest.raises(ValueError, match=r"needs the stages \['8s'\]"):
        fcn._check_stage_epochs({"32s": 1, "16s": 1, "32s-long": 1}, "epochs[")


@pytest.mark.slow
def test_the_long_control_continues_the_trained_32s_in_the_staged_nets_cycles(tiny_scenes, monkeypatch):
    calls = []
    real = fcn.train_fcn

    def spy(net, loader, **kw):
        calls.append((kw["desc"], kw["epochs"], {k: v.detach().clone() for k, v in net.state_dict().items()}))
        return real(net, loader, **kw)

    monkeypatch.setattr(fcn, "train_fcn", spy)
    runs = fcn.train_fcn_course(tiny_scenes, device="cpu", epochs=TINY, seed=1, log=None)
    assert [(d, e) for d, e, _ in calls] == [("FCN-32s", 2), ("FCN-16s", 1), ("FCN-8s", 1), ("FCN-32s-fixed", 1),
                                             ("FCN-32s-long", 1), ("FCN-32s-long", 1)]
    trained_32s = runs["32s"]["net"].state_dict()
    start_long = calls[4][2]
    assert all(torch.equal(start_long[k], trained_32s[k]) for k in trained_32s)  # starts from the trained FCN-32s
    long = runs["32s-long"]
    assert long["cycles"] == [1, 1] and long["epochs"] == 2
    assert len(long["train_loss"]) == len(long["val_loss"]) == len(long["val_mean_iu"]) == 2
    moved = long["net"].state_dict()
    assert any(not torch.equal(moved[k], trained_32s[k]) for k in trained_32s if moved[k].is_floating_point())


@pytest.mark.slow
def test_a_stopped_run_resumes_stage_by_stage(tiny_scenes, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    argv = ["--data-root", str(tiny_scenes), "--out", str(out), "--seed", "2", "--threads", "1",
            *[x for v, e in TINY.items() for x in (f"--epochs-{v}", str(e))]]
    real = fcn.train_fcn

    def stop_at_8s(net, loader, **kw):
        if kw["desc"] == "FCN-8s":
            raise KeyboardInterrupt("stopped")
        return real(net, loader, **kw)

    monkeypatch.setattr(fcn, "train_fcn", stop_at_8s)
    with pytest.raises(KeyboardInterrupt):
        fcn.main(argv)
    assert sorted(p.name for p in out.glob("fcn-*.pt")) == ["fcn-16s.pt", "fcn-32s.pt"]
    before = {p.name: p.read_bytes() for p in out.glob("fcn-*.pt")}
    monkeypatch.undo()
    trained = []
    monkeypatch.setattr(fcn, "train_fcn", lambda net, loader, **kw: trained.append(kw["desc"]) or real(net, loader, **kw))
    assert fcn.main(argv) == 0
    assert "resuming" in capsys.readouterr().out
    assert trained == ["FCN-8s", "FCN-32s-fixed", "FCN-32s-long", "FCN-32s-long"]  # 32s and 16s loaded, not retrained
    assert all((out / name).read_bytes() == data for name, data in before.items())
    result = json.loads((out / "result.json").read_text())
    assert sorted(result) == sorted(TINY) and result["32s-long"]["cycles"] == [1, 1]
    state = torch.load(out / "fcn-8s.pt", map_location="cpu", weights_only=False)
    assert state["data"] == synthetic_voc_parameters(tiny_scenes) and state["data"]["style"] == "scenes"
    assert state["recipe"]["seed"] == 2 and state["recipe"]["epochs"] == TINY
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["argv"][:4] == ["python", "-m", "course_utils.train", "fcn"] and "--seed" in prov["argv"]


@pytest.mark.slow
def test_a_run_stopped_inside_a_stage_goes_on_after_its_last_finished_epoch(tiny_scenes, tmp_path, monkeypatch):
    epochs = {"32s": 3, "16s": 1, "8s": 1, "32s-long": 2}
    whole = fcn.train_fcn_course(tiny_scenes, device="cpu", epochs=epochs, seed=1, log=None, heldout=2,
                                 checkpoints=tmp_path / "a")
    real = fcn.train_fcn

    def stop(at_stage, at_call, at_epoch):  # stop during an epoch of one stage's cycle, before its checkpoint
        calls = []

        def spy(net, loader, **kw):
            seen = kw["on_epoch"]
            calls.append(kw["desc"])
            call = calls.count(kw["desc"])

            def on_epoch(epoch):
                seen(epoch)
                if kw["desc"] == at_stage and call == at_call and epoch == at_epoch:
                    raise KeyboardInterrupt("stopped")
            return real(net, loader, **{**kw, "on_epoch": on_epoch})
        return spy

    folder = tmp_path / "b"
    folder.mkdir()
    done = {}
    for stage, call, epoch in (("FCN-32s", 1, 1), ("FCN-32s-long", 2, 0)):  # in FCN-32s, then in the long
        monkeypatch.setattr(fcn, "train_fcn", stop(stage, call, epoch))      # control's second cycle
        with pytest.raises(KeyboardInterrupt):
            fcn.train_fcn_course(tiny_scenes, device="cpu", epochs=epochs, seed=1, log=None, heldout=2,
                                 checkpoints=folder, completed=done,
                                 on_stage=lambda v, r: done.__setitem__(v, r) if v != "32s-long" else None)
        if stage == "FCN-32s-long":
            assert (folder / "fcn-32s-long.ckpt").is_file() and not (folder / "fcn-32s-long-cycle2.ckpt").exists()
    monkeypatch.undo()
    trained = []
    monkeypatch.setattr(fcn, "train_fcn", lambda net, loader, **kw: trained.append(kw["desc"]) or real(net, loader, **kw))
    resumed = fcn.train_fcn_course(tiny_scenes, device="cpu", epochs=epochs, seed=1, log=None, heldout=2,
                                   checkpoints=folder, completed=done)
    assert trained == ["FCN-32s-long", "FCN-32s-long"]  # its finished first cycle is read back, not trained
    for variant in epochs:
        a, b = whole[variant], resumed[variant]
        for key in ("train_loss", "val_loss", "val_mean_iu", "heldout_loss", "heldout_mean_iu"):
            assert len(a[key]) == epochs[variant] and b[key] == pytest.approx(a[key]), (variant, key)
        assert all(torch.equal(x, y) for x, y in zip(a["net"].state_dict().values(), b["net"].state_dict().values()))
        assert b["seconds"] > 0


def test_a_run_folder_with_other_settings_is_refused_before_training(tiny_scenes, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    monkeypatch.setattr(fcn, "train_fcn_course", lambda *a, **k: None)  # settings only; nothing trains
    argv = ["--data-root", str(tiny_scenes), "--out", str(out), "--threads", "1", "--epochs-32s", "3"]
    assert fcn.main(argv) == 0
    assert json.loads((out / "settings.json").read_text())["recipe"]["epochs"]["32s"] == 3
    (out / "result.json").unlink()
    assert fcn.main([*argv[:-1], "4"]) == 2  # its stopped stage's checkpoint is of 3 epochs' schedule
    assert "other settings" in capsys.readouterr().err


@pytest.mark.slow
def test_heldout_training_images_are_never_trained_on_and_get_their_own_curves(tiny_scenes, monkeypatch):
    seen = []
    real = fcn.train_fcn

    def spy(net, loader, **kw):
        seen.append(sum(images.shape[0] for images, _ in loader))  # images per training epoch
        return real(net, loader, **kw)

    monkeypatch.setattr(fcn, "train_fcn", spy)
    runs = fcn.train_fcn_course(tiny_scenes, device="cpu", epochs={"32s": 2}, seed=0, log=None, heldout=2)
    assert seen == [6 - 2]  # the tiny set has 6 training images; the last 2 are held out
    run = runs["32s"]
    assert run["heldout"] == 2 and len(run["heldout_loss"]) == len(run["heldout_mean_iu"]) == 2
    assert len(run["val_mean_iu"]) == 2 and run["heldout_loss"] != run["val_loss"]  # curves on other images
    with pytest.raises(ValueError, match="heldout must be smaller than the 6 training images"):
        fcn.train_fcn_course(tiny_scenes, device="cpu", epochs={"32s": 1}, log=None, heldout=6)


@pytest.mark.slow
def test_a_run_chosen_on_heldout_images_never_scores_the_validation_split(tiny_scenes, monkeypatch):
    real = fcn.voc_loaders

    class Untouchable:
        def __iter__(self):
            raise AssertionError("the validation split was scored")

    monkeypatch.setattr(fcn, "voc_loaders", lambda *a, **kw: (real(*a, **kw)[0], Untouchable()))
    lines = []
    runs = fcn.train_fcn_course(tiny_scenes, device="cpu", epochs={"32s": 2, "16s": 1}, seed=0, log=lines.append,
                                heldout=2, score_val=False)
    for run in runs.values():
        assert "val_loss" not in run and "val_mean_iu" not in run and len(run["heldout_mean_iu"]) == run["epochs"]
    assert all("held-out mean IU" in line and "val" not in line for line in lines)
    with pytest.raises(AssertionError, match="validation split was scored"):  # the default scores it
        fcn.train_fcn_course(tiny_scenes, device="cpu", epochs={"32s": 1}, seed=0, log=None, heldout=2)
    with pytest.raises(ValueError, match="score_val=False needs heldout"):
        fcn.train_fcn_course(tiny_scenes, device="cpu", epochs={"32s": 1}, log=None, score_val=False)


def test_a_heldout_run_is_never_recorded_as_the_course_data(tmp_path, monkeypatch, tiny_clipart):
    _fake_registry(tmp_path, monkeypatch)

    def heldout_run(seed):
        run = _fake_run(tmp_path / f"held{seed}", seed=seed, style="clipart")
        for path in run.glob("fcn-*.pt"):  # the run's data as `train fcn --heldout 100` records it
            state = torch.load(path, map_location="cpu", weights_only=False)
            torch.save({**state, "data": {**state["data"], "heldout": 100}}, path)
        return run

    with pytest.raises(ValueError, match="on their data"):
        record.record_fcn(heldout_run(4), device_note="x", seed_run=True, data_root=tiny_clipart, log=None)
    with pytest.raises(ValueError, match=r"seed 0 on .*'heldout': 100.*only the course's recipe"):
        record.record_fcn(heldout_run(0), device_note="x", data_root=tiny_clipart, log=None)


def test_a_resumed_run_refuses_stages_of_another_run(tmp_path):
    net = fcn._stage_net("32s")
    recipe = {**fcn.COURSE_FCN, "epochs": TINY, "seed": 0, "data": "scenes"}
    data = fcn.course_fcn_data("scenes")
    torch.save({"net": net.state_dict(), "recipe": recipe, "data": data, "epochs": 2, "train_loss": [1.0, 0.5],
                "val_loss": [1.0, 0.6], "val_mean_iu": [0.1, 0.2], "seconds": 1.0, "seed": 0}, tmp_path / "fcn-32s.pt")
    done = fcn.completed_stages(tmp_path, recipe, data, TINY)
    assert list(done) == ["32s"] and done["32s"]["val_mean_iu"] == [0.1, 0.2] and not done["32s"]["net"].training
    with pytest.raises(ValueError, match="fcn-32s.pt of another run"):
        fcn.completed_stages(tmp_path, {**recipe, "seed": 1}, data, TINY)
    with pytest.raises(ValueError, match="fcn-32s.pt of another run"):
        fcn.completed_stages(tmp_path, recipe, fcn.course_fcn_data("clipart"), TINY)
    with pytest.raises(ValueError, match="fcn-32s.pt of another run"):
        fcn.completed_stages(tmp_path, recipe, data, {**TINY, "32s": 3})
    (tmp_path / "fcn-32s.pt").rename(tmp_path / "fcn-16s.pt")
    with pytest.raises(ValueError, match="not fcn-32s.pt"):
        fcn.completed_stages(tmp_path, recipe, data, {**TINY, "16s": 2})


# --------------------------------------------------------------------------- recording


def _fake_registry(tmp_path, monkeypatch):
    weights = tmp_path / "weights"
    weights.mkdir()
    for entry in REGISTRY.values():
        (weights / entry.file).write_bytes(entry.path.read_bytes())
    monkeypatch.setattr(checkpoints, "WEIGHTS_DIR", weights)
    monkeypatch.setattr(record, "WEIGHTS_DIR", weights)
    monkeypatch.setattr(checkpoints, "_REGISTRY_FILE", weights / "registry.json")
    for name, entry in list(REGISTRY.items()):
        monkeypatch.setitem(REGISTRY, name, entry)
    for name in (f"fcn-{v}" for v in fcn.STAGES if f"fcn-{v}" not in REGISTRY):
        monkeypatch.setitem(REGISTRY, name, None)  # an entry a test adds is removed again afterwards
        del REGISTRY[name]
    (weights / "registry.json").write_text(json.dumps(
        {k: {f: v for f, v in e.__dict__.items() if f != "name"} for k, e in REGISTRY.items()}))


def _fake_run(folder, *, seed, style, stages=("32s", "16s", "8s", "32s-fixed"), device="cpu"):
    """A run folder as `train fcn --recipe course` writes it (untrained nets, the recipe's epochs)."""
    folder.mkdir()
    epochs = fcn.COURSE_FCN["epochs"]
    for variant in stages:
        torch.manual_seed(seed)
        net = fcn._stage_net(variant)
        torch.save({"net": net.state_dict(), "recipe": {**fcn.COURSE_FCN, "seed": seed, "data": style},
                    "data": fcn.course_fcn_data(style), "epochs": epochs[variant], "train_loss": [1.0],
                    "val_loss": [1.0], "val_mean_iu": [0.1], "seconds": 3.0, "seed": seed, "device": device,
                    **({"cycles": fcn.long_control_cycles(epochs)} if variant == "32s-long" else {})},
                   folder / f"fcn-{variant}.pt")
    (folder / "provenance.json").write_text(json.dumps({"commit": "c" * 40, "dirty": False, "commits": ["c" * 40],
                                                        "argv": ["python", "-m", "course_utils.train", "fcn"]}))
    return folder


def _shipped_style() -> str:
    """The data the shipped FCN checkpoints learnt (an entry from before the scenes: the clipart)."""
    return REGISTRY["fcn-8s"].data.get("style", "clipart")


def _other_style() -> str:
    """The synthetic style the shipped FCN checkpoints did not learn."""
    return "clipart" if _shipped_style() == "scenes" else "scenes"


@pytest.fixture(scope="module")
def tiny_clipart(tmp_path_factory):
    return write_synthetic_voc(tmp_path_factory.mktemp("clipart"), n_train=0, n_val=2, size=(32, 32), seed=5)


def test_an_fcn_seed_run_joins_every_stage_without_touching_the_shipped_weights(tmp_path, monkeypatch,
                                                                              tiny_clipart):
    _fake_registry(tmp_path, monkeypatch)
    shipped = {n: REGISTRY[n] for n in ("fcn-32s", "fcn-16s", "fcn-8s", "fcn-32s-fixed")}
    run = _fake_run(tmp_path / "s4", seed=4, style=_shipped_style())
    out = record.record_fcn(run, device_note="test cpu", data_root=tiny_clipart, seed_run=True, log=lambda m: None)
    assert sorted(out) == sorted(shipped)
    for name, old in shipped.items():
        entry = REGISTRY[name]
        assert entry.sha256 == old.sha256 and entry.figures == old.figures  # the shipped weights and figures stay
        before = [r["seed"] for r in old.seed_runs] or [old.seed]
        assert [r["seed"] for r in entry.seed_runs] == sorted(before + [4])  # added beside the recorded seeds
        assert entry.seed_runs[0]["figures"]["mean_iu"] == old.figures["mean_iu"]
        new = next(r for r in entry.seed_runs if r["seed"] == 4)
        assert new["command"].endswith("--seed 4") and new["provenance"]["commit"] == "c" * 40
        assert new["figures"]["images"] == 2 and 0.0 <= new["figures"]["mean_iu"] <= 1.0
    n_before = len(shipped["fcn-8s"].seed_runs) or 1
    assert checkpoints.seed_summary("fcn-8s", "mean_iu").n == n_before + 1
    on_disk = json.loads((tmp_path / "weights" / "registry.json").read_text())
    assert [r["seed"] for r in on_disk["fcn-8s"]["seed_runs"]][-1] == 4 and len(on_disk["fcn-8s"]["seed_runs"]) == n_before + 1
    # the shipped seed, other data, and a stage with no shipped entry are refused
    with pytest.raises(ValueError, match="another seed than the shipped"):
        record.record_fcn(_fake_run(tmp_path / "s0", seed=0, style=_shipped_style()), device_note="x", seed_run=True,
                          data_root=tiny_clipart, log=None)
    with pytest.raises(ValueError, match="on their data"):
        record.record_fcn(_fake_run(tmp_path / "sc", seed=5, style=_other_style()), device_note="x", seed_run=True,
                          data_root=tiny_clipart, log=None)
    monkeypatch.delitem(REGISTRY, "fcn-32s-long", raising=False)  # as before the control was first shipped
    with pytest.raises(ValueError, match=r"no shipped checkpoint \(\['fcn-32s-long'\]\)"):
        record.record_fcn(_fake_run(tmp_path / "lg", seed=6, style=_shipped_style(),
                                    stages=("32s", "16s", "8s", "32s-fixed", "32s-long")),
                          device_note="x", seed_run=True, data_root=tiny_clipart, log=None)
    with pytest.raises(ValueError, match="lacks"):
        record.record_fcn(_fake_run(tmp_path / "part", seed=7, style=_shipped_style(), stages=("32s",)),
                          device_note="x", seed_run=True, data_root=tiny_clipart, log=None)


def test_shipping_an_fcn_run_of_other_data_needs_the_recipe_to_name_them(tmp_path, monkeypatch, tiny_scenes):
    _fake_registry(tmp_path, monkeypatch)
    other = _other_style()  # data the shipped checkpoints did not learn
    run = _fake_run(tmp_path / "s0", seed=0, style=other, stages=fcn.STAGES, device="cuda")
    monkeypatch.setitem(fcn.COURSE_FCN, "data", _shipped_style())
    with pytest.raises(ValueError, match="only the course's recipe"):  # the recipe's data is still the shipped one
        record.record_fcn(run, device_note="x", data_root=tiny_scenes, log=None)
    monkeypatch.setitem(fcn.COURSE_FCN, "data", other)
    out = record.record_fcn(run, device_note="cuda (test)", data_root=tiny_scenes, log=lambda m: None)
    assert sorted(out) == sorted(f"fcn-{v}" for v in fcn.STAGES)
    long = REGISTRY["fcn-32s-long"]
    assert long.data["initialised_from"] == "fcn-32s" and long.data["style"] == other
    assert long.figures["cycles"] == [8, 8] and long.figures["epochs"] == 16
    assert long.command == ("python -m course_utils.train fcn --recipe course"
                            + ("" if other == "clipart" else f" --data {other}") + " --device cuda")
    assert long.architecture == fcn.fcn_architecture("32s-long") and long.architecture["args"] == ["32s"]
    assert [r["seed"] for r in REGISTRY["fcn-8s"].seed_runs] == [0]  # the other data's seeds are not kept beside
    assert long.unseen == {}  # nor its figures on unseen data (recorded again by `record unseen`)
    assert checkpoints.load_checkpoint("fcn-32s-long") is not None


def test_a_run_of_other_settings_than_the_recipe_is_never_recorded(tmp_path, monkeypatch, tiny_clipart):
    _fake_registry(tmp_path, monkeypatch)
    shipped = {n: (REGISTRY[n].sha256, len(REGISTRY[n].seed_runs)) for n in ("fcn-32s", "fcn-8s")}

    def edited(name, variant, **change):
        run = _fake_run(tmp_path / name, seed=4, style=_shipped_style())
        state = torch.load(run / f"fcn-{variant}.pt", map_location="cpu", weights_only=False)
        recipe = {**state["recipe"], **{k: v for k, v in change.items() if k != "epochs"}}
        torch.save({**state, "recipe": recipe, "epochs": change.get("epochs", state["epochs"])},
                   run / f"fcn-{variant}.pt")
        return run

    with pytest.raises(ValueError, match=r"fcn-8s.pt was trained 3 epochs \(recipe 8\)"):
        record.record_fcn(edited("short", "8s", epochs=3), device_note="x", seed_run=True, data_root=tiny_clipart,
                          log=None)
    with pytest.raises(ValueError, match=r"fcn-32s.pt has lr=0.1 \(recipe 0.05\)"):
        record.record_fcn(edited("lr", "32s", lr=0.1), device_note="x", seed_run=True, data_root=tiny_clipart,
                          log=None)
    width = fcn.COURSE_FCN["width"]
    with pytest.raises(ValueError, match=re.escape(f"fcn-16s.pt has width={2 * width} (recipe {width})")):
        record.record_fcn(edited("wide", "16s", width=2 * width), device_note="x", seed_run=True,
                          data_root=tiny_clipart, log=None)
    assert {n: (REGISTRY[n].sha256, len(REGISTRY[n].seed_runs)) for n in shipped} == shipped  # nothing written


def test_no_entry_a_recording_test_added_is_left_behind():
    # the tests above ran in this process and wrote entries; the registry in memory is the one on disk again
    on_disk = json.loads((checkpoints.WEIGHTS_DIR / "registry.json").read_text())
    assert {name: e.sha256 for name, e in REGISTRY.items()} == {name: e["sha256"] for name, e in on_disk.items()}


def test_unseen_data_seeds_are_drawn_in_the_checkpoints_own_style(tmp_path, monkeypatch):
    from course_utils.data.voc import COURSE_VOC_SCENES
    from course_utils.evaluate import __main__ as evaluate_main
    from course_utils.evaluate import unseen

    seen = []
    monkeypatch.setattr(unseen, "write_synthetic_voc", lambda folder, **kw: seen.append((folder.name, kw)) or folder)
    unseen.unseen_voc_root(7, style="scenes")
    unseen.unseen_voc_root(7)
    assert seen[0] == (f"scenes-seed7-val{COURSE_VOC_SCENES['n_val']}",
                       {"n_train": 0, "n_val": COURSE_VOC_SCENES["n_val"], "size": tuple(COURSE_VOC_SCENES["size"]),
                        "seed": 7, "style": "scenes"})
    assert seen[1][0] == "seed7-val200" and seen[1][1]["style"] == "clipart"  # the folder the clipart always had
    with pytest.raises(ValueError, match="style"):
        unseen.unseen_voc_root(7, style="photos")
    # the command draws the data of the checkpoint's own style (an entry from before the scenes: clipart)
    _fake_registry(tmp_path, monkeypatch)
    for name, data in (("fcn-8s", {**REGISTRY["fcn-8s"].data, "style": "scenes"}),
                       ("fcn-16s", {k: v for k, v in REGISTRY["fcn-16s"].data.items() if k != "style"})):
        fields = {**REGISTRY[name].__dict__, "data": data}
        fields.pop("name")
        checkpoints.write_entry(name, fields)
    asked = []
    monkeypatch.setattr(unseen, "unseen_voc_root", lambda seed, style="clipart": asked.append(style) or tmp_path)
    monkeypatch.setattr("course_utils.evaluate.checkpoints.evaluate_fcn_checkpoint",
                        lambda name, root: {"mean_iu": 0.5})
    assert evaluate_main.main(["fcn", "--checkpoint", "fcn-8s", "--data-seed", "7", "--json"]) == 0
    assert evaluate_main.main(["fcn", "--checkpoint", "fcn-16s", "--data-seed", "7", "--json"]) == 0
    assert asked == ["scenes", "clipart"]
    assert evaluate_main.main(["fcn", "--checkpoint", "fcn-9s", "--data-seed", "7"]) == 2


def test_record_commands_that_run_at_once_keep_each_others_figures(tmp_path, monkeypatch, tiny_clipart):
    """Two record processes adding to one entry: each change lands on what the other wrote, not on the copy
    of the registry it read at start."""
    _fake_registry(tmp_path, monkeypatch)
    monkeypatch.setattr(record, "unseen_voc_root", lambda seed, style: tiny_clipart)
    monkeypatch.setattr(record, "evaluate_fcn_checkpoint", lambda name, root, net=None: {"mean_iu": 0.123, "images": 2})
    at_start = dict(REGISTRY)  # what a second process read when it started

    record.record_fcn(_fake_run(tmp_path / "s4", seed=4, style=_shipped_style()), device_note="x", seed_run=True,
                      data_root=tiny_clipart, log=lambda m: None)
    monkeypatch.setitem(REGISTRY, "fcn-8s", at_start["fcn-8s"])  # the second process: its registry predates seed 4
    record.record_unseen("fcn-8s", seeds=[13], log=lambda m: None)
    on_disk = json.loads((tmp_path / "weights" / "registry.json").read_text())["fcn-8s"]
    assert 4 in [r["seed"] for r in on_disk["seed_runs"]]  # the seed run survived the unseen record
    assert on_disk["unseen"]["13"]["mean_iu"] == 0.123
    assert set(on_disk["unseen"]) == set(at_start["fcn-8s"].unseen) | {"13"}  # added to the others

    monkeypatch.setitem(REGISTRY, "fcn-8s", at_start["fcn-8s"])  # and the other way round
    record.record_fcn(_fake_run(tmp_path / "s5", seed=5, style=_shipped_style()), device_note="x", seed_run=True,
                      data_root=tiny_clipart, log=lambda m: None)
    on_disk = json.loads((tmp_path / "weights" / "registry.json").read_text())["fcn-8s"]
    assert [r["seed"] for r in on_disk["seed_runs"]][-2:] == [4, 5] and "13" in on_disk["unseen"]
    assert REGISTRY["fcn-8s"].unseen == on_disk["unseen"]  # memory follows the file
