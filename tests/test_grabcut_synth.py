"""The synthetic GrabCut benchmark: deterministic images with exact masks, on disk in the GrabCut layout."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.core import all_benchmarks
from course_utils.data.grabcut_synth import (
    load_benchmark,
    make_benchmark,
    make_grabcut_image,
    prepare_offline,
    read_benchmark,
    rect_around,
    write_benchmark,
)
from course_utils.graphcut.strokes import simulated_click, stroke_mask


def test_images_are_deterministic_textured_and_multicoloured():
    a, b = make_benchmark(2, size=(96, 128), seed=3), make_benchmark(2, size=(96, 128), seed=3)
    for x, y in zip(a, b):
        assert np.array_equal(x.image, y.image) and np.array_equal(x.mask, y.mask) and x.rect == y.rect
    assert not np.array_equal(a[0].image, a[1].image)
    for item in a:
        assert item.image.shape == (96, 128, 3) and item.image.dtype == np.uint8
        assert item.mask.dtype == bool and 0.08 <= item.mask.mean() <= 0.4
        x, y, w, h = item.rect
        inside = np.zeros_like(item.mask)
        inside[y:y + h, x:x + w] = True
        assert item.mask[inside].sum() == item.mask.sum() and (~inside).any()  # rect holds the object, not all
        for region in (item.mask, ~item.mask):  # textured: colours vary a lot inside each region
            colours = item.image[region].astype(float)
            assert colours.std(axis=0).mean() > 15
            assert len(np.unique(colours // 32, axis=0)) >= 4  # several distinct colours


def test_rect_around_grows_the_bounding_box_and_clips():
    mask = np.zeros((50, 40), bool)
    mask[10:20, 5:30] = True
    assert rect_around(mask, margin=0.1) == (1, 6, 33, 18)  # 4 pixels (0.1 of the shorter side) each way
    assert rect_around(mask, margin=0.15) == (0, 4, 36, 22)  # clipped at the left border
    with pytest.raises(ValueError, match="empty"):
        rect_around(np.zeros((5, 5), bool))


def test_write_read_roundtrip_never_overwrites(tmp_path):
    items = make_benchmark(2, size=(64, 64))
    directory = write_benchmark(items, tmp_path / "bench")
    assert sorted(p.name for p in (directory / "data_GT").iterdir()) == ["synth_000.png", "synth_001.png"]
    assert sorted(p.name for p in (directory / "boundary_GT").iterdir()) == ["synth_000.bmp", "synth_001.bmp"]
    back = read_benchmark(directory)
    for x, y in zip(items, back):
        assert np.array_equal(x.image, y.image) and np.array_equal(x.mask, y.mask) and x.rect == y.rect
    user_file = directory / "data_GT" / "synth_000.png"
    user_file.write_bytes(b"mine")
    write_benchmark(items, directory)
    assert user_file.read_bytes() == b"mine"


def test_prepare_offline_is_idempotent_and_load_uses_it(tmp_path):
    path = prepare_offline(tmp_path, False)
    names = sorted(p.name for p in (path / "data_GT").iterdir())
    stamp = [(p / "data_GT" / n).stat().st_mtime_ns for p, n in [(path, n) for n in names]]
    assert prepare_offline(tmp_path, False) == path
    assert [(path / "data_GT" / n).stat().st_mtime_ns for n in names] == stamp
    side = np.asarray(read_benchmark(path)[0].image).shape[0]
    loaded = load_benchmark(2, size=(side, side), root=tmp_path)
    made = make_benchmark(2, size=(side, side))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(loaded, made))
    assert len(load_benchmark(1, size=(48, 48), root=tmp_path / "absent")) == 1  # generated on the fly


def test_bad_input():
    with pytest.raises(ValueError, match="size"):
        make_grabcut_image(0, size=(16, 64))
    with pytest.raises(TypeError, match="rng"):
        make_grabcut_image("x")
    with pytest.raises(ValueError, match="count"):
        make_benchmark(0)
    with pytest.raises(FileNotFoundError):
        read_benchmark("/nonexistent/place")


def test_strokes_and_simulated_clicks():
    stroke = stroke_mask((20, 30), [(0.0, 0.5), (1.0, 0.5)], width=3, relative=True)
    assert stroke[9:12].all(axis=1).any() and stroke.sum() >= 30 * 3 - 5
    with pytest.raises(ValueError, match="relative"):
        stroke_mask((20, 30), [(2.0, 0.5)], relative=True)
    truth = np.zeros((20, 20), bool)
    truth[4:16, 4:16] = True
    pred = truth.copy()
    pred[4:16, 10:16] = False  # missed a 12x6 strip
    pred[0:2, 0:3] = True  # and took a small bit of background
    fg, bg = simulated_click(pred, truth, radius=1)
    assert fg.any() and not bg.any() and (fg <= (truth & ~pred)).all()
    assert simulated_click(truth, truth)[0].sum() == 0


@pytest.mark.parametrize("name", ["grabcut_synthetic", "grabcut_coffee", "graph_cut_build"])
def test_benchmark_rows_run_at_tiny_size(name):
    row = all_benchmarks()[name].run(True)
    assert row.ours_s > 0 and row.reference_s > 0 and row.ratio is not None
    assert 0.8 <= row.agreement <= 1.0
