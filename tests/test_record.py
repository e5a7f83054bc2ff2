"""Recording runs: provenance from the run folder, the recipe check, extra training seeds, unseen data seeds."""

from __future__ import annotations

import json

import pytest
import torch

from course_utils import checkpoints
from course_utils.checkpoints import REGISTRY, build_net
from course_utils.train import record
from course_utils.train.deeplab import _json_ready, course_deeplab_overrides, deeplab_architecture, deeplab_settings


def _settings(model="largefov", **changes):
    s = _json_ready(deeplab_settings(model, **course_deeplab_overrides(model, **changes)))
    s["model"] = model
    s["data"] = "/nowhere/minicity_course#0"
    return s


def test_recipe_command_names_what_differs_and_refuses_what_the_arguments_do_not_carry():
    argv = ["python", "-m", "course_utils.train", "deeplab", "--recipe", "course", "--model", "vgg_aspp", "--seed", "2"]
    cmd = record.recipe_command(_settings("vgg_aspp", seed=2), argv)
    assert cmd == "python -m course_utils.train deeplab --recipe course --model vgg_aspp --threads 1 --seed 2"
    assert record.recipe_command(_settings("vgg_aspp"), None, device="cuda:0").endswith("--device cuda")
    # another learning rate, not given on the command line: refused, naming the setting
    with pytest.raises(ValueError, match=r"\['lr'\]"):
        record.recipe_command(_settings("vgg_aspp", lr=0.05), argv)
    # given on the command line: recorded in the command
    assert record.recipe_command(_settings("vgg_aspp", lr=0.05), argv + ["--lr", "0.05"]).endswith("--lr 0.05")
    # a run without recorded arguments may differ only in seed and epochs
    assert record.recipe_command(_settings("aspp", epochs=3), None).endswith("--epochs 3")
    with pytest.raises(ValueError, match="width"):
        record.recipe_command(_settings("aspp", width=0.5), None)


def test_run_provenance_reads_the_run_folder_and_the_data_manifest(tmp_path):
    data = tmp_path / "minicity"
    data.mkdir()
    (data / "minicity.json").write_text(json.dumps({"generator": "minicity-2", "seed": 0, "train_images": 1000,
                                                    "val_images": 200, "size": [256, 512], "files": {}}))
    run = tmp_path / "run"
    run.mkdir()
    settings = {**_settings(epochs=7), "data": f"{data}#abc"}
    (run / "settings.json").write_text(json.dumps(settings))
    (run / "provenance.json").write_text(json.dumps({"commit": "f" * 40, "dirty": False, "argv": ["python", "-m", "x"]}))
    prov = record.run_provenance(run)
    assert prov["commit"] == "f" * 40 and prov["argv"] == ["python", "-m", "x"] and prov["epochs"] == 7
    assert prov["data"]["train_images"] == 1000 and prov["data"]["size"] == [256, 512]
    assert "files" not in prov["data"] and "commits" not in prov and "note" not in prov
    (run / "provenance.json").write_text(json.dumps({"commit": "e" * 40, "dirty": False, "argv": ["python"],
                                                     "commits": ["d" * 40, "e" * 40], "note": "resumed"}))
    prov = record.run_provenance(run)  # a resumed run: every process's commit, and the folder's note
    assert prov["commits"] == ["d" * 40, "e" * 40] and prov["note"] == "resumed" and prov["commit"] == "e" * 40
    (run / "provenance.json").unlink()
    assert record.run_provenance(run)["argv"] is None


def _fake_registry(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(checkpoints, "_REGISTRY_FILE", tmp_path / "registry.json")
    (tmp_path / "registry.json").write_text(json.dumps(
        {k: {f: v for f, v in e.__dict__.items() if f != "name"} for k, e in REGISTRY.items()}))
    for name, entry in list(REGISTRY.items()):
        monkeypatch.setitem(REGISTRY, name, entry)


def _fake_run(tmp_path, seed, argv_seed=True):
    settings = _settings("largefov", seed=seed)
    net = build_net(deeplab_architecture(settings))
    run = tmp_path / f"run{seed}"
    run.mkdir()
    torch.save({"net": net.state_dict(), "history": [1.0], "settings": settings}, run / "final.pt")
    (run / "settings.json").write_text(json.dumps(settings))
    (run / "result.json").write_text(json.dumps({"seconds": 12.0, "device": "cpu"}))
    argv = ["python", "-m", "course_utils.train", "deeplab", "--recipe", "course", "--model", "largefov"]
    (run / "provenance.json").write_text(json.dumps({"commit": "a" * 40, "dirty": False,
                                                     "argv": argv + (["--seed", str(seed)] if argv_seed else [])}))
    return run


def test_a_seed_run_joins_the_entry_without_touching_the_shipped_weights(tmp_path, monkeypatch):
    from course_utils.data.minicity import write_minicity

    _fake_registry(tmp_path, monkeypatch)
    shipped = REGISTRY["deeplab-largefov"]
    before = sorted({int(r["seed"]) for r in shipped.seed_runs} | {shipped.seed})  # the seeds recorded already
    fixed = {"temperature": 1.0, "iterations": 2, "params": shipped.crf["params"], "rows": []}
    monkeypatch.setattr(record, "search_checkpoint_crf", lambda net, frames, **kw: dict(fixed))
    val = write_minicity(tmp_path / "val", train_images=0, val_images=2, size=(256, 512), seed=0, progress=False)
    run = record.record_deeplab_seed(_fake_run(tmp_path, 3), device_note="test cpu", val_frames=2, heldout=1,
                                     data_root=val, log=lambda m: None)
    entry = REGISTRY["deeplab-largefov"]
    assert entry.sha256 == shipped.sha256 and entry.figures == shipped.figures  # shipped weights and figures kept
    assert [r["seed"] for r in entry.seed_runs] == before + [3]
    assert next(r for r in entry.seed_runs if r["seed"] == shipped.seed)["figures"]["mean_iou"] == shipped.figures["mean_iou"]
    assert run["command"].endswith("--seed 3") and run["provenance"]["commit"] == "a" * 40
    assert 0.0 <= run["figures"]["mean_iou"] <= 1.0 and "crf_mean_iou" in run["figures"]
    assert checkpoints.seed_summary("deeplab-largefov").n == len(before) + 1
    on_disk = json.loads((tmp_path / "registry.json").read_text())["deeplab-largefov"]
    assert [r["seed"] for r in on_disk["seed_runs"]] == before + [3]
    # the shipped seed is not "another seed"; a seed the arguments did not carry is refused
    with pytest.raises(ValueError, match="shipped checkpoint's"):
        record.record_deeplab_seed(_fake_run(tmp_path, shipped.seed), device_note="x", log=lambda m: None)
    with pytest.raises(ValueError, match=r"\['seed'\]"):
        record.record_deeplab_seed(_fake_run(tmp_path, 4, argv_seed=False), device_note="x", log=lambda m: None)


def test_record_unseen_refuses_the_training_seed(tmp_path, monkeypatch):
    _fake_registry(tmp_path, monkeypatch)
    with pytest.raises(ValueError, match="never used"):
        record.record_unseen("fcn-8s", seeds=(0, 7), log=lambda m: None)
    with pytest.raises(ValueError, match="unknown"):
        record.record_unseen("fcn-9s", log=lambda m: None)
