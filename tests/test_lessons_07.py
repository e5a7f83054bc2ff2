"""Lesson 7's library: figures over seeds, orderings claimed only where every run agrees, the capacity
control's verdict, the lecture pairing (256x512 is not Full), the pipeline figure."""

from __future__ import annotations

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import checkpoints  # noqa: E402
from course_utils.config import LESSON7_MARGINS, LESSON7_TARGETS  # noqa: E402
from course_utils.evaluate.crf import LECTURE_RESULTS  # noqa: E402
from course_utils.evaluate.lecture import format_pairing, lecture_frame_size, pair_with_lecture  # noqa: E402
from course_utils.evaluate.seeds import (capacity_verdict, class_iou_runs, class_iou_table, gain_values,  # noqa: E402
                                         ordering_verdict, parameter_count, run_values, spread_text)
from course_utils.viz.deeplab import plot_deeplab_pipeline  # noqa: E402

S = "training seed"


def _runs(*values, unseen=()):
    out = {f"{S} {k}": v for k, v in enumerate(values)}
    out.update({f"data seed {s}": v for s, v in unseen})
    return out


# ------------------------------------------------------------------ ordering_verdict


def test_ordering_that_holds_on_every_run_is_established():
    v = ordering_verdict(_runs(0.53, 0.54, 0.52, unseen=[(7, 0.53)]), _runs(0.48, 0.50, 0.47, unseen=[(7, 0.49)]),
                         better="A", worse="B", margin=0.03)
    assert v.holds and v.established and v.n_training_seeds == 3
    assert "every one of the 4 runs" in v.text and "3 training seeds and 1 unseen data seed" in v.text
    assert "+4.0 to +5.0 points" in v.text


def test_ordering_that_fails_on_one_run_is_not_claimed_and_names_the_run():
    v = ordering_verdict(_runs(0.53, 0.51, unseen=[(7, 0.50)]), _runs(0.48, 0.50, unseen=[(7, 0.493)]),
                         better="A", worse="B", margin=0.01)
    assert not v.holds and not v.established
    assert "does **not** hold" in v.text
    assert "training seed 1" in v.text and "data seed 7" in v.text and "training seed 0," not in v.text


def test_one_seed_is_said_plainly():
    v = ordering_verdict(_runs(0.55), _runs(0.53), better="A", worse="B", margin=0.01)
    assert v.holds and not v.established
    assert "only one training seed" in v.text and "noise" in v.text


def test_margin_is_strict_and_runs_are_paired_by_label():
    assert not ordering_verdict(_runs(0.52, 0.52), _runs(0.50, 0.515), better="A", worse="B", margin=0.01).holds
    # runs only one side has are not compared
    v = ordering_verdict({f"{S} 0": 0.6, f"{S} 1": 0.1}, {f"{S} 0": 0.5}, better="A", worse="B", margin=0.0)
    assert v.differences == pytest.approx({f"{S} 0": 0.1})
    none = ordering_verdict({f"{S} 0": 0.6}, {f"{S} 1": 0.5}, better="A", worse="B")
    assert not none.holds and "never measured on the same run" in none.text


@pytest.mark.parametrize("bad", [float("nan"), 2.0, True, "0.01"])
def test_bad_margin_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="margin"):
        ordering_verdict(_runs(0.5), _runs(0.4), better="A", worse="B", margin=bad)


def test_ordering_refuses_non_mappings():
    with pytest.raises(ValueError, match="better_values"):
        ordering_verdict([0.5], _runs(0.4), better="A", worse="B")


# ------------------------------------------------------------------ spread_text


def test_spread_text_mean_sd_min_max():
    values = [0.50, 0.52, 0.57]
    mean, sd = np.mean(values), np.std(values, ddof=1)
    assert spread_text(_runs(*values)) == (f"{100 * mean:.1f} ± {100 * sd:.1f} (min 50.0, max 57.0, 3 seeds)")
    assert spread_text(_runs(0.5321)) == "53.2 (1 seed)"
    assert spread_text({}) == "not recorded"
    assert spread_text(_runs(0.5, unseen=[(7, 0.9)])) == "50.0 (1 seed)"  # unseen data seeds are not training seeds


# ------------------------------------------------------------------ capacity_verdict


def test_capacity_not_recorded():
    v = capacity_verdict(_runs(0.48), {}, _runs(0.53), margin=0.01, parameters={"largefov": 324443, "aspp": 602900})
    assert v.status == "not recorded" and math.isnan(v.recovered)
    assert "has not been recorded yet" in v.text and "602,900" in v.text and "+5.0" in v.text


def test_capacity_context_capacity_undecided():
    lfov, aspp = _runs(0.48, 0.49, 0.47), _runs(0.53, 0.54, 0.52)
    context = capacity_verdict(lfov, _runs(0.50, 0.51, 0.49), aspp, margin=0.01)
    assert context.status == "context" and context.recovered == pytest.approx(0.4)
    assert "multi-scale context" in context.text and "40 %" in context.text
    capacity = capacity_verdict(lfov, _runs(0.528, 0.545, 0.519), aspp, margin=0.01)
    assert capacity.status == "capacity" and "**capacity**" in capacity.text
    undecided = capacity_verdict(lfov, _runs(0.50, 0.535, 0.515), aspp, margin=0.01)
    assert undecided.status == "undecided" and "do not settle it" in undecided.text


def test_capacity_on_one_seed_is_a_first_indication():
    v = capacity_verdict(_runs(0.48), _runs(0.49), _runs(0.53), margin=0.01)
    assert v.status == "context" and "one training seed only" in v.text


# ------------------------------------------------------------------ the registry: runs, gains, per-class IoU


def _with_runs(monkeypatch, name, seeds, unseen):
    entry = checkpoints.REGISTRY[name]
    runs = []
    for seed, shift in seeds:
        fig = dict(entry.figures)
        fig["mean_iou"] = entry.figures["mean_iou"] + shift
        fig["crf_mean_iou"] = entry.figures["crf_mean_iou"] + shift
        fig["class_iou"] = {c: (None if v is None else v + shift) for c, v in entry.figures["class_iou"].items()}
        runs.append({"seed": seed, "figures": fig})
    monkeypatch.setitem(checkpoints.REGISTRY, name, dataclasses.replace(entry, seed_runs=runs, unseen=unseen))
    return entry


def test_run_values_read_training_seeds_and_unseen_data_seeds(monkeypatch):
    name = "deeplab-vgg_aspp"
    shipped = checkpoints.REGISTRY[name]
    monkeypatch.setitem(checkpoints.REGISTRY, name, dataclasses.replace(shipped, seed_runs=[], unseen={}))
    assert run_values(name) == {f"{S} {shipped.seed}": pytest.approx(shipped.figures["mean_iou"])}  # the shipped seed
    entry = _with_runs(monkeypatch, name, [(0, 0.0), (1, -0.02), (2, 0.01)],
                       {"11": {"mean_iou": 0.5, "crf_mean_iou": 0.6}, "7": {"figures": {"mean_iou": 0.51}}})
    values = run_values(name)
    assert list(values) == [f"{S} 0", f"{S} 1", f"{S} 2", "data seed 7", "data seed 11"]
    assert values[f"{S} 1"] == pytest.approx(entry.figures["mean_iou"] - 0.02) and values["data seed 7"] == 0.51
    assert list(run_values(name, unseen=False)) == [f"{S} 0", f"{S} 1", f"{S} 2"]
    gains = gain_values(name)
    assert "data seed 7" not in gains and gains["data seed 11"] == pytest.approx(0.1)
    assert gains[f"{S} 2"] == pytest.approx(entry.figures["crf_mean_iou"] - entry.figures["mean_iou"])
    table = class_iou_table({name: "ASPP-VGG"})
    road = entry.figures["class_iou"]["road"]
    assert "ASPP-VGG (3 seeds)" in table
    assert f"| road | {100 * (road - 1 / 300):.1f} ({100 * (road - 0.02):.0f}–{100 * (road + 0.01):.0f})" in table
    assert len(class_iou_runs(name)["road"]) == 3


def test_run_values_of_an_unrecorded_checkpoint_is_empty_and_unknown_names_are_refused():
    assert run_values("deeplab-no_such_control") == {}
    with pytest.raises(ValueError, match="name="):
        parameter_count("deeplab-no_such_control")


def test_class_iou_table_with_one_seed_lists_every_class_without_and_with_crf(monkeypatch):
    names = {"deeplab-largefov": "LargeFOV", "deeplab-aspp": "ResNet-ASPP"}
    for name in names:  # the registry as shipped first: one seed, the figures of the shipped weights
        monkeypatch.setitem(checkpoints.REGISTRY, name,
                            dataclasses.replace(checkpoints.REGISTRY[name], seed_runs=[], unseen={}))
    table = class_iou_table(names).splitlines()
    assert len(table) == 2 + 19
    pole = next(line for line in table if line.startswith("| pole |")).split("|")[2:6]
    fig = checkpoints.REGISTRY["deeplab-largefov"].figures
    assert pole[0].strip() == f"{100 * fig['class_iou']['pole']:.1f}"
    assert pole[1].strip() == f"{100 * fig['crf_class_iou']['pole']:.1f}"


def test_parameter_count_matches_the_loaded_network():
    net = checkpoints.build_net(checkpoints.REGISTRY["deeplab-vgg_aspp"].architecture)
    assert parameter_count("deeplab-vgg_aspp") == sum(p.numel() for p in net.parameters())
    assert parameter_count("deeplab-vgg_aspp") > parameter_count("deeplab-largefov")


# ------------------------------------------------------------------ lecture pairing


def _ours(frame_aug=True):
    return [{"title": f"{name}{' + CRF' if crf else ''}", "backbone": bb, "largefov": lf, "aspp": not lf,
             "aug": frame_aug, "crf": crf, "miou": "50.0"}
            for name, bb, lf in (("LargeFOV", "VGG-16", True), ("ASPP", "ResNet-18", False)) for crf in (False, True)]


def test_our_256x512_frames_pair_with_no_lecture_row():
    pairs = pair_with_lecture(_ours(), frame_size=(256, 512))
    assert len(pairs) == len(LECTURE_RESULTS)
    assert all(p["ours"] is None for p in pairs)
    assert all("ours 256x512" in p["reasons"][0] for p in pairs)
    assert {p["reasons"][0].split(" (")[0] for p in pairs} == {"its frames are 1024x2048", "its frames are 512x1024"}
    text = format_pairing(pairs, _ours(), frame_size=(256, 512))
    assert text.count("not comparable") == len(LECTURE_RESULTS) and "no (256x512)" in text


def test_full_resolution_frames_pair_the_lecture_rows_of_the_same_configuration():
    pairs = pair_with_lecture(_ours(), frame_size=(1024, 2048))
    paired = [(p["backbone"], p["aug"], p["crf"], p["ours"]["title"]) for p in pairs if p["ours"] is not None]
    assert paired == [("ResNet-101", True, False, "ASPP"), ("ResNet-101", True, True, "ASPP + CRF")]
    vgg_full = [p for p in pairs if p["backbone"] == "VGG-16" and p["full"]]
    assert all(p["ours"] is None and "random scaling" in " ".join(p["reasons"]) for p in vgg_full)
    resnet_plain = [p for p in pairs if p["backbone"] == "ResNet-101" and not p["largefov"] and not p["aspp"]]
    assert all("we trained no ResNet with neither LargeFOV nor ASPP" in p["reasons"] for p in resnet_plain)


def test_lecture_frame_sizes_and_bad_input():
    assert lecture_frame_size(True) == (1024, 2048) and lecture_frame_size(False) == (512, 1024)
    with pytest.raises(ValueError, match="frame_size"):
        pair_with_lecture(_ours(), frame_size=(256, 512.0))
    with pytest.raises(ValueError, match="lacks"):
        pair_with_lecture([{"title": "x"}], frame_size=(256, 512))
    with pytest.raises(ValueError, match="full"):
        lecture_frame_size(1)


# ------------------------------------------------------------------ config and the pipeline figure


def test_lesson7_thresholds_live_in_config():
    assert set(LESSON7_TARGETS) == {"deeplab-largefov", "deeplab-vgg_aspp"}
    assert set(LESSON7_MARGINS) == {"aspp_over_largefov", "resnet_over_vgg", "crf_gain", "capacity"}
    assert all(0 < v < 1 for v in [*LESSON7_TARGETS.values(), *LESSON7_MARGINS.values()])


def test_pipeline_figure_draws_each_step_and_checks_shapes():
    from course_utils.palettes import cityscapes_palette

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)
    coarse = rng.normal(size=(4, 2, 4)).astype(np.float32)
    up = np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2)
    probs = np.exp(up) / np.exp(up).sum(0)
    fig = plot_deeplab_pipeline(image, coarse, up, probs, cityscapes_palette(), class_index=1, class_name="b",
                                labels_true=probs.argmax(0))
    assert len(fig.axes) == 6
    assert "2x4" in fig.axes[1].get_title() and "stride 8" in fig.axes[1].get_title()
    assert np.array_equal(fig.axes[2].images[0].get_array(), up[1])
    plt.close(fig)
    with pytest.raises(ValueError, match="crf_probs"):
        plot_deeplab_pipeline(image, coarse, up, probs[:, :8], cityscapes_palette(), class_index=1, class_name="b")
    with pytest.raises(ValueError, match="class_index"):
        plot_deeplab_pipeline(image, coarse, up, probs, cityscapes_palette(), class_index=4, class_name="b")
