"""The README's checkpoint figures are generated from the registry, never typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils.train import report

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_checkpoint_section_is_current():
    assert report.update_readme(README, check=True), (
        "README.md's checkpoint section differs from the registry: run "
        "python -m course_utils.train report --write README.md")


def test_report_rewrites_only_between_markers_and_refuses_a_file_without_them(tmp_path):
    f = tmp_path / "README.md"
    f.write_text(f"intro\n{report.BEGIN}\nold table 12.3 %\n{report.END}\noutro\n")
    assert not report.update_readme(f, check=True)
    assert "old table" in f.read_text()  # --check writes nothing
    assert not report.update_readme(f)
    text = f.read_text()
    assert text.startswith("intro\n") and text.endswith("\noutro\n") and "old table" not in text
    assert report.update_readme(f, check=True)
    for name in report.REGISTRY:
        assert f"`{name}`" in text
    bare = tmp_path / "bare.md"
    bare.write_text("no markers here\n")
    with pytest.raises(ValueError, match="markers"):
        report.update_readme(bare)
    assert bare.read_text() == "no markers here\n"


def test_parameter_counts_leave_out_the_fixed_bilinear_upsampling():
    from course_utils.checkpoints import REGISTRY

    assert report.parameter_count(REGISTRY["fcn-32s"]) == report.parameter_count(REGISTRY["fcn-32s-fixed"])
    assert report.parameter_count(REGISTRY["deeplab-vgg_aspp"]) > 1.5 * report.parameter_count(
        REGISTRY["deeplab-largefov"])


def test_network_widths_are_read_from_the_architecture_not_typed():
    import dataclasses

    from course_utils.checkpoints import REGISTRY

    for name, entry in REGISTRY.items():
        width = entry.architecture["kwargs"]["width"]
        text = report.network_text(name, entry)
        assert "{" not in text and "?" not in text, text
        if name in ("fcn-32s", "fcn-32s-fixed", "deeplab-largefov", "deeplab-aspp"):
            assert f"x1/{round(1 / width)}" in text, text
    entry = REGISTRY["fcn-32s"]
    narrower = dataclasses.replace(entry, architecture={**entry.architecture,
                                                        "kwargs": {**entry.architecture["kwargs"], "width": 0.0625}})
    assert report.network_text("fcn-32s", narrower) == "FCN-32s, VGG16-BN x1/16"
    assert report.network_text("deeplab-aspp", REGISTRY["deeplab-aspp"]).startswith("DeepLab-ASPP, ResNet-18 ")


def test_the_table_follows_the_course_order_whatever_order_the_registry_dict_holds(monkeypatch):
    from course_utils.checkpoints import REGISTRY

    before = report.readme_section()
    names = [r["name"] for r in report.checkpoint_rows()]
    known = [n for n in report._NETWORKS if n in REGISTRY]
    assert names[:len(known)] == known and sorted(names) == sorted(REGISTRY)
    for name in reversed(list(REGISTRY)):  # the same entries, inserted in the opposite order
        entry = REGISTRY[name]
        monkeypatch.delitem(REGISTRY, name)
        monkeypatch.setitem(REGISTRY, name, entry)
    assert list(REGISTRY) != names
    assert report.readme_section() == before


def test_readme_types_no_measured_figure_outside_the_generated_section():
    """Measured figures (a share with decimals, a time in seconds) come from the registry's generated section
    or from a command the README names, never typed beside them."""
    import re

    text = README.read_text(encoding="utf-8")
    outside = text[:text.index(report.BEGIN)] + text[text.index(report.END):]
    found = re.findall(r"\b\d+\.\d+\s?(?:%|s\b)", outside)
    assert not found, f"README.md types measured figures {found}: generate them or name the command that measures them"


def test_the_note_names_the_data_the_fcn_entries_were_trained_on(monkeypatch):
    import dataclasses

    from course_utils.checkpoints import REGISTRY

    styles = {e.data["style"] for e in REGISTRY.values() if e.family == "fcn"}
    assert all(("clipart" in report.readme_section()) == (s == "clipart") for s in styles)
    for name, entry in list(REGISTRY.items()):  # as if the FCN were shipped on the scenes
        if entry.family == "fcn":
            monkeypatch.setitem(REGISTRY, name, dataclasses.replace(entry, data={**entry.data, "style": "scenes"}))
    text = report.readme_section()
    assert "the VOC-like scenes, 200 validation images" in text and "clipart" not in text
