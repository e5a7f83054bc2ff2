"""The shipped course checkpoints: present, verified, refused when wrong, and still as good as recorded."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from course_utils import checkpoints
from course_utils.checkpoints import REGISTRY, WEIGHTS_DIR, load_checkpoint, sha256_file

DEEPLAB = sorted(k for k, e in REGISTRY.items() if e.family == "deeplab")
FCN = sorted(k for k, e in REGISTRY.items() if e.family == "fcn")


def test_registry_lists_the_course_networks():
    assert set(DEEPLAB) >= {"deeplab-aspp", "deeplab-largefov", "deeplab-vgg_aspp"}
    assert set(DEEPLAB) <= {"deeplab-aspp", "deeplab-largefov", "deeplab-vgg_aspp", "deeplab-largefov_wide"}
    assert FCN == ["fcn-16s", "fcn-32s", "fcn-32s-fixed", "fcn-32s-long", "fcn-8s"]
    total = sum(p.stat().st_size for p in WEIGHTS_DIR.rglob("*.pt"))  # the epoch check's earlier candidates too
    assert total <= 30e6, f"the shipped weights take {total / 1e6:.1f} MB (budget 30 MB)"
    for entry in REGISTRY.values():
        assert entry.command.startswith("python -m course_utils.train ")
        assert entry.sha256 == sha256_file(entry.path)
        assert entry.figures and entry.train_seconds > 0 and entry.device


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_checkpoint_loads_float32_in_eval_mode(name):
    net = load_checkpoint(name)
    assert not net.training
    assert all(p.dtype == torch.float32 for p in net.parameters())
    stored = torch.load(REGISTRY[name].path, map_location="cpu", weights_only=True)["net"]
    assert all(v.dtype == torch.float16 for v in stored.values() if v.is_floating_point())


def _fake(tmp_path, monkeypatch, name, **changes):
    """Register a copy of entry ``name`` whose file lies in tmp_path, with ``changes``."""
    entry = REGISTRY[name]
    copy = tmp_path / entry.file
    copy.write_bytes(entry.path.read_bytes())
    monkeypatch.setattr(checkpoints, "WEIGHTS_DIR", tmp_path)
    fake = dataclasses.replace(entry, **changes)
    monkeypatch.setitem(REGISTRY, name, fake)
    return copy, fake


def test_missing_file_is_refused_with_the_rebuild_command(tmp_path, monkeypatch):
    copy, fake = _fake(tmp_path, monkeypatch, "fcn-8s")
    copy.unlink()
    with pytest.raises(FileNotFoundError, match="missing.*python -m course_utils.train fcn"):
        load_checkpoint("fcn-8s")


def test_damaged_file_is_refused(tmp_path, monkeypatch):
    copy, _ = _fake(tmp_path, monkeypatch, "fcn-8s")
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256.*rebuild it with"):
        load_checkpoint("fcn-8s")


def test_checkpoint_of_another_architecture_is_refused(tmp_path, monkeypatch):
    # the file of FCN-8s registered as an FCN-16s: the architecture recorded in the file disagrees
    entry16 = REGISTRY["fcn-16s"]
    copy, _ = _fake(tmp_path, monkeypatch, "fcn-8s", architecture=entry16.architecture)
    with pytest.raises(ValueError, match="architecture.*rebuild it with"):
        load_checkpoint("fcn-8s")
    # and weights that do not fit the network the (matching) architecture builds
    state = torch.load(copy, map_location="cpu", weights_only=True)
    state["net"].pop(next(iter(state["net"])))
    torch.save(state, copy)
    monkeypatch.setitem(REGISTRY, "fcn-8s", dataclasses.replace(REGISTRY["fcn-8s"], architecture=state["architecture"],
                                                               sha256=sha256_file(copy)))
    with pytest.raises(ValueError, match="does not fit"):
        load_checkpoint("fcn-8s")


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match="checkpoint='fcn-9s' is unknown"):
        load_checkpoint("fcn-9s")


@pytest.fixture(scope="module")
def minicity_val():
    from course_utils.data.minicity import course_minicity_val_root

    return course_minicity_val_root(100)


@pytest.mark.slow
@pytest.mark.parametrize("name", DEEPLAB)
def test_deeplab_checkpoint_keeps_its_recorded_mean_iou(name, minicity_val):
    from course_utils.evaluate.checkpoints import evaluate_deeplab_checkpoint

    entry = REGISTRY[name]
    frames = entry.figures["frames"]
    got = evaluate_deeplab_checkpoint(name, minicity_val, frames=frames)["dcnn"]["mean_iou"]
    assert got == pytest.approx(entry.figures["mean_iou"], abs=entry.tolerance), (
        f"{name}: mean IoU {got:.4f} on {frames} validation frames, recorded {entry.figures['mean_iou']:.4f}")


@pytest.mark.slow
@pytest.mark.parametrize("name", FCN)
def test_fcn_checkpoint_keeps_its_recorded_scores(name):
    from course_utils.data.voc import course_synthetic_root
    from course_utils.evaluate.checkpoints import evaluate_fcn_checkpoint

    entry = REGISTRY[name]
    got = evaluate_fcn_checkpoint(name, course_synthetic_root(entry.data.get("style", "clipart")))  # its own data
    for key in ("pixel_acc", "mean_iu"):
        assert got[key] == pytest.approx(entry.figures[key], abs=entry.tolerance), (name, key, got[key])


def test_registry_file_is_sorted_json():
    raw = json.loads((WEIGHTS_DIR / "registry.json").read_text())
    assert list(raw) == sorted(raw)


def test_seed_summary_statistics():
    from course_utils.checkpoints import SeedSummary, seed_summary, seed_values

    s = SeedSummary("x", "mean_iou", (0, 1, 2), (0.50, 0.54, 0.52))
    assert s.n == 3 and abs(s.mean - 0.52) < 1e-12 and abs(s.sd - 0.02) < 1e-12
    assert (s.min, s.max) == (0.50, 0.54)
    assert str(s) == "52.0 ± 2.0 (min 50.0, max 54.0, 3 seeds)"
    one = SeedSummary("x", "mean_iou", (0,), (0.5,))
    assert one.sd != one.sd and str(one) == "50.0 (1 seed)"
    for name in REGISTRY:
        values = seed_values(name, "mean_iou" if REGISTRY[name].family == "deeplab" else "mean_iu")
        assert REGISTRY[name].seed in values
        summary = seed_summary(name, "mean_iou" if REGISTRY[name].family == "deeplab" else "mean_iu")
        assert summary.min <= summary.mean <= summary.max
    with pytest.raises(ValueError, match="not a figure"):
        seed_values("fcn-8s", "no_such_figure")


def test_builders_are_named_for_what_they_build():
    # the ResNet builder takes the depth as an argument, so its name carries no depth
    builders = {e.architecture["builder"] for e in REGISTRY.values()}
    assert builders == {"deeplab_vgg16_largefov", "deeplab_vgg16_aspp", "deeplab_resnet_aspp", "fcn_vgg16"}
    assert REGISTRY["deeplab-aspp"].architecture["kwargs"]["depth"] == 18
    # a file written before the rename records the old name: it still loads, and an architecture
    # naming the old builder still builds (the same state_dict keys)
    stored = torch.load(REGISTRY["deeplab-aspp"].path, map_location="cpu", weights_only=True)["architecture"]
    assert stored["builder"] == "deeplab_resnet101_aspp"
    old = checkpoints.build_net(stored)
    new = checkpoints.build_net(REGISTRY["deeplab-aspp"].architecture)
    assert list(old.state_dict()) == list(new.state_dict())
    with pytest.raises(ValueError, match="builder='deeplab_resnet18_aspp' is unknown"):
        checkpoints.build_net({**stored, "builder": "deeplab_resnet18_aspp"})


@pytest.mark.parametrize("text", ['{"fcn-8s": {"family": "fcn", "fi', "", "[1, 2]", '{"fcn-8s": 3}'])
def test_a_damaged_registry_file_is_named_in_the_error(tmp_path, monkeypatch, text):
    registry_file = tmp_path / "registry.json"
    registry_file.write_text(text)
    monkeypatch.setattr(checkpoints, "_REGISTRY_FILE", registry_file)
    with pytest.raises(ValueError, match=f"checkpoint registry {registry_file}.*restore the file"):
        checkpoints.registry()


UNSEEN_CASES = [(name, seed) for name in sorted(REGISTRY) for seed in (7, 11)]


def test_every_checkpoint_records_two_unseen_data_seeds():
    from course_utils.evaluate.unseen import UNSEEN_DATA_SEEDS

    assert len(UNSEEN_DATA_SEEDS) == 2 and 0 not in UNSEEN_DATA_SEEDS
    for name, entry in REGISTRY.items():
        assert sorted(int(s) for s in entry.unseen) == sorted(UNSEEN_DATA_SEEDS), name


@pytest.mark.slow
@pytest.mark.parametrize("name,seed", UNSEEN_CASES)
def test_checkpoint_keeps_its_figures_on_unseen_data_seeds(name, seed):
    """The registry's figures on data seeds the training never used, re-measured (the CRF on the first seed)."""
    from course_utils.evaluate.checkpoints import evaluate_deeplab_checkpoint, evaluate_fcn_checkpoint
    from course_utils.evaluate.unseen import UNSEEN_DATA_SEEDS, unseen_minicity_root, unseen_voc_root

    entry = REGISTRY[name]
    recorded = entry.unseen[str(seed)]
    if entry.family == "deeplab":
        frames = recorded["frames"]
        crf = seed == UNSEEN_DATA_SEEDS[0]
        got = evaluate_deeplab_checkpoint(name, unseen_minicity_root(seed, frames), frames=frames, crf=crf)
        assert got["dcnn"]["mean_iou"] == pytest.approx(recorded["mean_iou"], abs=entry.tolerance)
        if crf:
            assert got["crf"]["mean_iou"] == pytest.approx(recorded["crf_mean_iou"], abs=entry.tolerance)
    else:
        got = evaluate_fcn_checkpoint(name, unseen_voc_root(seed, style=entry.data.get("style", "clipart")))
        for key in ("pixel_acc", "mean_iu"):
            assert got[key] == pytest.approx(recorded[key], abs=entry.tolerance), (name, seed, key)
