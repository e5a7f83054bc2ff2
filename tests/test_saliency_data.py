"""The procedural salient-object data set (DUTS layout) and the synthetic eye tracking."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_utils.data import saliency_synth as S
from course_utils.saliency import fixations as FX
from course_utils.saliency.metrics import auc_judd, cc, nss


# --- the data set -------------------------------------------------------------------------------

@pytest.mark.parametrize("cue", S.CUES)
def test_each_cue_makes_the_object_differ_from_its_surroundings(cue):
    from scipy import ndimage
    from skimage.color import rgb2lab

    for seed in range(8):
        sample = S.make_salient_image(64, seed, cue=cue)
        image, mask = sample.image, sample.mask
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8 and mask.shape == (64, 64)
        assert mask.dtype == bool and 0.02 < mask.mean() < 0.45 and sample.cue == cue
        lab = rgb2lab(image / 255.0)
        ring = ndimage.binary_dilation(mask, iterations=4) & ~mask  # what surrounds the object
        inside, around = lab[mask].mean(0), lab[ring].mean(0)
        if cue == "colour":  # chroma (a*, b*) differs
            assert np.linalg.norm(inside[1:] - around[1:]) > 20
        elif cue == "contrast":  # lightness differs
            assert abs(inside[0] - around[0]) > 12
        else:  # the local (5x5) spread of lightness is larger inside, away from the border
            light = lab[..., 0]
            local_std = np.sqrt(np.maximum(ndimage.uniform_filter(light**2, 5) - ndimage.uniform_filter(light, 5) ** 2, 0))
            core = ndimage.binary_erosion(mask, iterations=3)
            far = ~ndimage.binary_dilation(mask, iterations=3)
            assert local_std[core].mean() > 1.15 * local_std[far].mean()


def test_generation_is_deterministic_and_seed_dependent():
    a = S.make_salient_image(48, 3)
    b = S.make_salient_image(48, np.random.default_rng(3))
    c = S.make_salient_image(48, 4)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, c.image)
    images, masks, cues = S.make_salient_dataset(6, 32, seed=1)
    assert images.shape == (6, 32, 32, 3) and masks.shape == (6, 32, 32) and len(cues) == 6
    assert all(m.any() for m in masks)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="cue"):
        S.make_salient_image(32, 0, cue="shape")
    with pytest.raises(ValueError, match="size"):
        S.make_salient_image(8, 0)
    with pytest.raises(TypeError, match="rng"):
        S.make_salient_image(32, rng=-1)
    with pytest.raises(ValueError, match="n must"):
        S.make_salient_dataset(0)


def test_written_in_the_duts_layout_and_read_back(tmp_path):
    folder = S.write_dataset(tmp_path / "sal", n_train=4, n_test=2, size=32, seed=0)
    tr = folder / "DUTS-TR"
    assert sorted(p.name for p in (tr / "DUTS-TR-Image").iterdir())[0] == "synth_train_000000.jpg"
    assert sorted(p.name for p in (tr / "DUTS-TR-Mask").iterdir())[0] == "synth_train_000000.png"
    assert len(list((folder / "DUTS-TE" / "DUTS-TE-Mask").glob("*.png"))) == 2
    images, masks = S.load_split(folder, "train")
    assert images.shape == (4, 32, 32, 3) and masks.dtype == bool
    # Masks are exact (PNG); images are JPEG, so close to the generated ones.
    sample = S.make_salient_image(32, np.random.default_rng([0, 0, 1]))
    assert np.array_equal(masks[1], sample.mask)
    assert np.abs(images[1].astype(int) - sample.image).mean() < 6
    import cv2

    raw = cv2.imread(str(tr / "DUTS-TR-Mask" / "synth_train_000001.png"), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint8 and raw.ndim == 2 and set(np.unique(raw)) <= {0, 255}


def test_writing_is_idempotent_and_never_overwrites(tmp_path):
    folder = tmp_path / "sal"
    S.write_dataset(folder, n_train=2, n_test=1, size=32)
    mask_file = folder / "DUTS-TR" / "DUTS-TR-Mask" / "synth_train_000000.png"
    mask_file.write_bytes(b"user edit")
    with pytest.raises(ValueError, match="synth_train_000000.png differs from what segcourse wrote"):
        S.write_dataset(folder, n_train=3, n_test=1, size=32)  # adds the missing one, keeps the edited file, says so
    assert mask_file.read_bytes() == b"user edit"
    assert len(list((folder / "DUTS-TR" / "DUTS-TR-Image").glob("*.jpg"))) == 3
    assert json.loads((folder / "SYNTHETIC.json").read_text())["n_train"] == 3
    with pytest.raises(FileExistsError, match="other settings"):
        S.write_dataset(folder, n_train=2, n_test=1, size=48)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not a segcourse"):
        S.write_dataset(foreign, n_train=1, n_test=1, size=32)


def test_load_split_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        S.load_split(tmp_path, "train")
    with pytest.raises(ValueError, match="split"):
        S.load_split(tmp_path, "val")


def test_prepare_offline_is_discovered_and_uses_the_config(tmp_path, monkeypatch):
    from course_utils.config import SETTINGS
    from course_utils.data.offline import offline_preparers

    assert offline_preparers()["saliency_synth"] is S.prepare_offline
    monkeypatch.setitem(SETTINGS, "saliency", {**SETTINGS["saliency"], "train_images": (3, 3), "val_images": (2, 2),
                                               "image_size": (32, 32)})
    folder = S.prepare_offline(tmp_path, False)
    assert folder == S.dataset_folder(tmp_path, 32)
    assert len(S.load_split(folder, "test")[0]) == 2
    assert S.prepare_offline(tmp_path, False) == folder  # second call: nothing to do


# --- synthetic eye tracking ------------------------------------------------------------------------

def test_attention_prior_is_a_distribution_peaking_on_the_object():
    mask = np.zeros((40, 60), bool)
    mask[5:15, 40:55] = True
    prior = FX.attention_prior(mask)
    assert prior.shape == mask.shape and prior.sum() == pytest.approx(1.0) and prior.min() >= 0
    assert prior[mask].mean() > 5 * prior[~mask].mean()
    centre_only = FX.attention_prior(np.zeros((40, 60), bool))
    assert np.unravel_index(centre_only.argmax(), centre_only.shape) in {(19, 29), (19, 30), (20, 29), (20, 30)}
    with pytest.raises(ValueError, match="object_weight"):
        FX.attention_prior(mask, object_weight=2)
    with pytest.raises(TypeError, match="bool"):
        FX.attention_prior(mask.astype(int))


def test_simulated_fixations_follow_the_prior():
    mask = np.zeros((60, 80), bool)
    mask[10:30, 50:75] = True
    prior = FX.attention_prior(mask, object_weight=0.9)
    points = FX.simulate_eye_tracking(prior, observers=10, fixations_per_observer=20, rng=0)
    assert points.shape == (200, 2) and points.dtype == np.int64
    assert np.array_equal(points, FX.simulate_eye_tracking(prior, observers=10, fixations_per_observer=20, rng=0))
    on_object = mask[points[:, 0], points[:, 1]].mean()
    assert on_object > 0.6  # 90% of the non-first fixations are drawn to the object (blurred)
    firsts = points[::20]  # each observer starts near the centre
    assert np.all(np.abs(firsts - [29.5, 39.5]) < [15, 20])
    with pytest.raises(ValueError, match="observers"):
        FX.simulate_eye_tracking(prior, observers=0)
    with pytest.raises(ValueError, match="prior"):
        FX.simulate_eye_tracking(np.zeros((4, 4)))


def test_fixation_map_and_density():
    points = np.array([[1, 2], [1, 2], [5, 7]])
    fmap = FX.fixation_map(points, (8, 10))
    assert fmap.dtype == bool and fmap.sum() == 2 and fmap[1, 2] and fmap[5, 7]
    density = FX.fixation_density(points, (8, 10), sigma=1.0)
    assert density.max() == pytest.approx(1.0) and density.argmax() == 1 * 10 + 2  # the repeated fixation
    with pytest.raises(ValueError, match="outside"):
        FX.fixation_map(np.array([[8, 0]]), (8, 10))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        FX.fixation_map(np.array([1, 2]), (8, 10))
    with pytest.raises(ValueError, match="empty"):
        FX.fixation_density(np.zeros((0, 2), int), (8, 10))


def test_fixation_metrics_rank_the_prior_above_chance():
    rng = np.random.default_rng(0)
    mask = np.zeros((48, 64), bool)
    mask[8:24, 36:60] = True
    prior = FX.attention_prior(mask)
    points = FX.simulate_eye_tracking(prior, observers=8, fixations_per_observer=8, rng=rng)
    fmap = FX.fixation_map(points, mask.shape)
    density = FX.fixation_density(points, mask.shape)
    good = prior / prior.max()
    noise = rng.random(mask.shape)
    assert nss(good, fmap) > 1.0 > abs(nss(noise, fmap))
    assert auc_judd(good, fmap) > 0.8 and abs(auc_judd(noise, fmap) - 0.5) < 0.15
    assert cc(good, density) > 0.5 and abs(cc(noise, density)) < 0.15


def test_observer_prior_comes_from_the_image_not_the_mask():
    """Synthetic fixations must not follow the object mask by construction (issue 15)."""
    import inspect

    from course_utils.data.saliency_synth import make_salient_image

    assert "mask" not in inspect.signature(FX.observer_prior).parameters
    sample = make_salient_image(64, np.random.default_rng([0, 1, 2]))
    prior = FX.observer_prior(sample.image)
    assert prior.shape == (64, 64) and np.isclose(prior.sum(), 1.0) and (prior > 0).all()
    # the uniform share keeps every pixel possible; the centre bias and the contrast add to it
    assert prior.min() >= 0.15 / prior.size * 0.99
    points = FX.simulate_eye_tracking(prior, observers=20, fixations_per_observer=10, rng=0)
    on_object = sample.mask[points[:, 0], points[:, 1]].mean()
    assert on_object < 0.9  # some fixations land off the object
    flat = FX.observer_prior(np.full((32, 48, 3), 128, np.uint8))  # no contrast: centre bias + uniform only
    centre = FX.centre_bias((32, 48))
    assert np.unravel_index(flat.argmax(), flat.shape) == np.unravel_index(centre.argmax(), centre.shape)
    with pytest.raises(ValueError, match="weight"):
        FX.observer_prior(sample.image, centre_weight=-1)


def test_contrast_map_finds_the_odd_patch():
    image = np.zeros((48, 48, 3), np.uint8)
    image[:] = (40, 90, 200)
    image[20:28, 30:38] = (250, 220, 0)
    c = FX.contrast_map(image)
    assert c.max() == 1.0 and c[24, 34] > 0.5 and c[5, 5] < 0.2
