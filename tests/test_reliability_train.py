"""Issue 16: the DeepLab trainer never loses a run, and its command fails with one line and exit 2."""

from __future__ import annotations

import json

import pytest
import torch


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from course_utils.data.minicity import write_minicity

    return write_minicity(tmp_path_factory.mktemp("city"), train_images=4, val_images=2, size=(64, 128), progress=False)


def _args(root, out, *extra):
    return ["--model", "largefov", "--data-root", str(root), "--out", str(out), "--epochs", "1", "--batch-size", "4",
            "--width", "0.0625", "--crop", "32", "64", "--input-scale", "0.5", "--device", "cpu", "--threads", "1",
            "--no-eval", *extra]


def test_cache_hit_never_overwrites_another_runs_folder(tiny_city, tmp_path, monkeypatch, capsys):
    """The reproduction of the issue: a, then b, then b's settings into a's folder (a cache hit)."""
    from course_utils.train.deeplab import main

    monkeypatch.setenv("SEGCOURSE_DATA", str(tmp_path / "data"))  # the shared cache lives here
    a, b = tmp_path / "runs" / "a", tmp_path / "runs" / "b"
    assert main(_args(tiny_city, a, "--lr", "0.01")) == 0
    assert main(_args(tiny_city, b, "--lr", "0.02")) == 0
    before = {p.name: p.read_bytes() for p in a.iterdir()}
    capsys.readouterr()
    assert main(_args(tiny_city, a, "--lr", "0.02")) == 2  # b's settings are cached, but a's folder is a's
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "other settings" in err[0] and "lr" in err[0] and str(a) in err[0]
    assert {p.name: p.read_bytes() for p in a.iterdir()} == before  # nothing of a was touched
    state_a, state_b = (torch.load(f / "final.pt", weights_only=False) for f in (a, b))
    assert state_a["settings"]["lr"] == 0.01 and state_b["settings"]["lr"] == 0.02
    assert json.loads((a / "settings.json").read_text())["lr"] == 0.01
    assert not list(a.glob("*.tmp*")) and not list(a.glob(".*tmp*"))


def test_cache_hit_claims_a_new_folder(tiny_city, tmp_path, monkeypatch):
    from course_utils.train.deeplab import train_deeplab

    monkeypatch.setenv("SEGCOURSE_DATA", str(tmp_path / "data"))
    kw = dict(data_root=tiny_city, progress=False, log=None, device="cpu", epochs=1, batch_size=4, width=0.0625,
              crop=(32, 64), input_scale=0.5)
    torch.set_num_threads(1)
    train_deeplab("largefov", out_dir=tmp_path / "a", **kw)
    train_deeplab("largefov", out_dir=tmp_path / "c", **kw)  # cache hit: c now records its settings too
    assert (tmp_path / "c" / "settings.json").read_text() == (tmp_path / "a" / "settings.json").read_text()
    with pytest.raises(ValueError, match="other settings"):
        train_deeplab("largefov", out_dir=tmp_path / "c", **{**kw, "lr": 0.5})


def test_damaged_run_files_are_named(tiny_city, tmp_path, monkeypatch, capsys):
    from course_utils.train.deeplab import main

    monkeypatch.setenv("SEGCOURSE_DATA", str(tmp_path / "data"))
    run = tmp_path / "run"
    assert main(_args(tiny_city, run, "--no-cache")) == 0
    capsys.readouterr()
    settings = (run / "settings.json").read_text()
    (run / "settings.json").write_text(settings[: len(settings) // 2])  # truncated
    assert main(_args(tiny_city, run, "--no-cache")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "settings.json" in err[0] and "not valid JSON" in err[0]
    (run / "settings.json").write_text(settings)
    ck = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(ck[: len(ck) // 2])  # truncated
    assert main(_args(tiny_city, run, "--no-cache")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "checkpoint.pt" in err[0] and "truncated" in err[0]
    (run / "checkpoint.pt").write_bytes(b"")  # empty
    assert main(_args(tiny_city, run, "--no-cache")) == 2
    assert "checkpoint.pt" in capsys.readouterr().err


def test_command_flags_naming_the_wrong_thing(tiny_city, tmp_path, capsys):
    from course_utils.train.deeplab import main

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert main(_args(tiny_city, a_file)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0] and "is a file" in err[0]
    assert a_file.read_text() == "x"
    assert main(_args(a_file, tmp_path / "r")) == 2  # --data-root naming a file
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(a_file) in err[0]
    if not torch.cuda.is_available():
        args = _args(tiny_city, tmp_path / "r")
        args[args.index("--device") + 1] = "cuda"
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--device" in err[0] and "CUDA is not available" in err[0]


def test_provenance_records_the_commit_the_run_started_from(tiny_city, tmp_path, monkeypatch):
    """A long run records the code it imported, even when the checkout moves on before it finishes."""
    from course_utils.train import deeplab

    monkeypatch.setenv("SEGCOURSE_DATA", str(tmp_path / "data"))
    moved = []  # the checkout moves on (a new commit, uncommitted edits) while the network trains
    train = deeplab.train_deeplab

    def train_then_move(*args, **kwargs):
        result = train(*args, **kwargs)
        moved.append(True)
        return result

    monkeypatch.setattr(deeplab, "train_deeplab", train_then_move)
    monkeypatch.setattr(deeplab, "code_commit", lambda: ("b" * 40, True) if moved else ("a" * 40, False))
    run = tmp_path / "run"
    assert deeplab.main(_args(tiny_city, run, "--no-cache")) == 0
    prov = json.loads((run / "provenance.json").read_text())
    assert prov["commit"] == "a" * 40 and prov["dirty"] is False and prov["commits"] == ["a" * 40]


def test_a_stopped_run_keeps_the_commit_it_started_from_when_resumed(tiny_city, tmp_path, monkeypatch):
    """provenance.json is written when the folder is claimed, before the first epoch: a run stopped partway
    and finished by a later process records both processes' commits."""
    from course_utils.train import deeplab
    from course_utils.train.loop import checkpoint_seconds

    monkeypatch.setenv("SEGCOURSE_DATA", str(tmp_path / "data"))
    real_dataset = deeplab._train_dataset

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # the run is stopped before its first epoch ends

    monkeypatch.setattr(deeplab, "_train_dataset", stopped)
    monkeypatch.setattr(deeplab, "code_commit", lambda: ("a" * 40, False))
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        deeplab.main(_args(tiny_city, run, "--no-cache"))
    prov = json.loads((run / "provenance.json").read_text())
    assert prov["commits"] == ["a" * 40] and "--no-cache" in prov["argv"]
    assert not (run / "result.json").exists()
    (run / "provenance.json").write_text(json.dumps({**prov, "note": "written by hand"}))  # e.g. from a log
    monkeypatch.setattr(deeplab, "_train_dataset", real_dataset)
    monkeypatch.setattr(deeplab, "code_commit", lambda: ("b" * 40, False))
    assert deeplab.main(_args(tiny_city, run, "--no-cache")) == 0
    prov = json.loads((run / "provenance.json").read_text())
    assert prov["commit"] == "b" * 40 and prov["commits"] == ["a" * 40, "b" * 40]
    assert prov["note"] == "written by hand"  # kept
    result = json.loads((run / "result.json").read_text())  # the time the checkpoint sums over the processes
    assert result["seconds"] == checkpoint_seconds(run / "checkpoint.pt") > 0


def test_a_recorded_registry_does_not_make_the_code_dirty(tmp_path):
    """``train seeds`` records one run (writing the registry) while the next one starts: that run's code is
    still the commit's. A change to any other tracked file is uncommitted code."""
    import subprocess

    from course_utils.train.run_folder import RECORDED_DATA, code_commit

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True,
                       capture_output=True)

    registry = tmp_path / RECORDED_DATA / "registry.json"
    registry.parent.mkdir(parents=True)
    registry.write_text("{}")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "c")
    commit, dirty = code_commit(tmp_path)
    assert len(commit) == 40 and dirty is False
    registry.write_text('{"a": 1}')
    assert code_commit(tmp_path) == (commit, False)
    (tmp_path / "code.py").write_text("x = 2\n")
    assert code_commit(tmp_path) == (commit, True)
    assert code_commit(tmp_path / "nowhere") == (None, None)
