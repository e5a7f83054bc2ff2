"""Lesson 3: GrabCut against cv2.grabCut, its energy, the colour models, corrections, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from course_utils.data.grabcut_synth import make_benchmark
from course_utils.data.samples import sample_image
from course_utils.graphcut.grabcut import (
    GC_BGD,
    GC_FGD,
    GC_PR_BGD,
    GC_PR_FGD,
    colour_features,
    fit_colour_model,
    gmm_neg_log_likelihood,
    grabcut,
    grabcut_correct,
    grabcut_energy,
    grabcut_unary,
    mask_iou,
    rect_trimap,
)
from course_utils.graphcut.graph_cut import image_as_colours
from course_utils.images import resize_image


def _opencv(image: np.ndarray, rect, iterations: int = 5) -> np.ndarray:
    mask = np.zeros(image.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(0)
    cv2.grabCut(image, mask, tuple(int(v) for v in rect), bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


@pytest.fixture(scope="module")
def synth():
    return make_benchmark(3, size=(128, 128), seed=7)


@pytest.fixture(scope="module")
def flower():
    """sklearn's flower photo at 160x240 and a rectangle around the dahlia (stable under cv2's own seeds)."""
    image = resize_image(sample_image("flower"), (160, 240))
    return image, (45, 37, 90, 90)


def test_trimap_codes_are_opencvs():
    assert (GC_BGD, GC_FGD, GC_PR_BGD, GC_PR_FGD) == (cv2.GC_BGD, cv2.GC_FGD, cv2.GC_PR_BGD, cv2.GC_PR_FGD)
    trimap = rect_trimap((6, 8), (2, 1, 3, 4))
    assert trimap.dtype == np.uint8 and trimap.shape == (6, 8)
    assert (trimap[1:5, 2:5] == GC_PR_FGD).all() and (trimap == GC_PR_FGD).sum() == 12
    assert (trimap[trimap != GC_PR_FGD] == GC_BGD).all()


def test_vectorised_log_likelihood_equals_sklearns_score_samples():
    rng = np.random.default_rng(0)
    colours = np.concatenate([rng.normal(m, s, (400, 3)) for m, s in ((40, 10), (120, 25), (200, 6))])
    model = fit_colour_model(colours, n_components=5, em_steps=5, rng=0)
    assert model.n_components == 5 and model.covariance_type == "full"
    ours = gmm_neg_log_likelihood(colours, model)
    assert np.allclose(ours, -model.score_samples(colours), rtol=1e-10, atol=1e-9)
    image = colours[:300].reshape(10, 30, 3)
    assert gmm_neg_log_likelihood(image, model, features=colour_features(image)).shape == (10, 30)
    with pytest.raises(ValueError, match="features"):
        gmm_neg_log_likelihood(image, model, features=colour_features(image)[:, :5])


def test_warm_started_em_step_never_lowers_the_likelihood():
    rng = np.random.default_rng(1)
    colours = np.concatenate([rng.normal(m, 15, (500, 3)) for m in (30, 90, 160, 220)])
    model = fit_colour_model(colours, n_components=5, em_steps=1, rng=3)
    previous = gmm_neg_log_likelihood(colours, model).sum()
    for _ in range(4):
        model = fit_colour_model(colours, previous=model, em_steps=1)
        current = gmm_neg_log_likelihood(colours, model).sum()
        assert current <= previous + 1e-6
        previous = current


def test_energy_never_increases_and_matches_a_recomputation(synth, flower):
    cases = [(item.image, item.rect) for item in synth] + [flower]
    for image, rect in cases:
        for max_fit_pixels in (2000, None):
            result = grabcut(image, rect, iterations=6, max_fit_pixels=max_fit_pixels)
            energies = np.array(result.energies)
            assert len(energies) == len(result.masks) == 6
            assert np.all(np.diff(energies) <= 0), energies
            recomputed = grabcut_energy(image, result.mask, result.fg_model, result.bg_model)
            assert recomputed == pytest.approx(energies[-1], rel=1e-9)
            assert result.data_energies[-1] + result.smoothness_energies[-1] == pytest.approx(energies[-1])
            assert not result.mask[rect_trimap(image.shape[:2], rect) == GC_BGD].any()  # outside rect: background


def test_agrees_with_opencv_on_synthetic_images_and_a_photo(synth, flower):
    for item in synth:
        ours = grabcut(item.image, item.rect).mask
        theirs = _opencv(item.image, item.rect)
        assert mask_iou(ours, theirs) >= 0.9
        assert mask_iou(ours, item.mask) >= mask_iou(theirs, item.mask) - 0.05
    image, rect = flower
    assert mask_iou(grabcut(image, rect).mask, _opencv(image, rect)) >= 0.95


def test_unary_terms_are_the_negative_log_likelihoods(flower):
    image, rect = flower
    result = grabcut(image, rect, iterations=2)
    colours = image_as_colours(image)
    unary = grabcut_unary(colours, result.fg_model, result.bg_model)
    assert unary.shape == image.shape[:2] + (2,)
    assert np.allclose(unary[..., 1].ravel(), -result.fg_model.score_samples(colours.reshape(-1, 3)))
    assert np.allclose(unary[..., 0].ravel(), -result.bg_model.score_samples(colours.reshape(-1, 3)))


def _capped_disk():
    """A red disk with a blue cap (the blue of the background): GrabCut alone leaves the cap out."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:64]
    disk = (yy - 36) ** 2 + (xx - 32) ** 2 < 14**2
    cap = ((yy - 20) ** 2 + (xx - 32) ** 2 < 7**2) & ~disk
    image = np.where((xx < 32)[..., None], [60, 160, 60], [40, 60, 200]).astype(np.float64)
    image[disk] = [210, 40, 40]
    image[cap] = [40, 60, 200]
    image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    return image, disk | cap, cap, (12, 8, 40, 48)


def test_corrections_are_obeyed_fix_the_mistake_and_keep_the_energy_monotone():
    image, truth, cap, rect = _capped_disk()
    first = grabcut(image, rect, iterations=4)
    assert first.mask[cap].mean() < 0.5  # the cap looks like background
    fg_strokes = np.zeros_like(truth)
    fg_strokes[18:23, 29:36] = True  # a short stroke inside the cap
    bg_strokes = np.zeros_like(truth)
    bg_strokes[9, 13:20] = True
    corrected = grabcut_correct(image, first, fg_strokes=fg_strokes, bg_strokes=bg_strokes, iterations=3)
    assert corrected.mask[fg_strokes].all() and not corrected.mask[bg_strokes].any()
    assert (corrected.trimap[fg_strokes] == GC_FGD).all() and (corrected.trimap[bg_strokes] == GC_BGD).all()
    assert np.all(np.diff(corrected.energies) <= 0)
    assert corrected.mask[cap].mean() > 0.6  # the stroke pulled most of the cap in, not only itself
    assert mask_iou(corrected.mask, truth) > mask_iou(first.mask, truth) + 0.05
    # strokes can be given from the start as well
    direct = grabcut(image, rect, iterations=2, fg_strokes=fg_strokes, bg_strokes=bg_strokes)
    assert direct.mask[fg_strokes].all() and not direct.mask[bg_strokes].any()


def test_trimap_initialisation_like_gc_init_with_mask(synth):
    item = synth[1]
    trimap = rect_trimap(item.image.shape[:2], item.rect)
    by_rect = grabcut(item.image, item.rect, iterations=2)
    by_trimap = grabcut(item.image, trimap=trimap, iterations=2)
    assert np.array_equal(by_rect.mask, by_trimap.mask)
    assert set(np.unique(by_rect.trimap)) <= {GC_BGD, GC_PR_BGD, GC_PR_FGD}
    assert np.array_equal(by_rect.trimap == GC_PR_FGD, by_rect.mask)


def test_grey_content_and_float_images_work():
    rng = np.random.default_rng(0)
    grey = np.repeat(rng.integers(0, 60, (48, 48, 1)), 3, axis=2).astype(np.uint8)  # R = G = B: singular covariances
    grey[12:36, 12:36] += 150
    result = grabcut(grey, (8, 8, 32, 32), iterations=3)
    assert mask_iou(result.mask, np.pad(np.ones((24, 24), bool), 12)) > 0.9
    as_float = grabcut(grey / 255.0, (8, 8, 32, 32), iterations=3)
    assert np.array_equal(as_float.mask, result.mask)


def test_mask_iou():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    assert mask_iou(a, b) == 1.0  # both empty: identical
    a[:2] = True
    b[1:3] = True
    assert mask_iou(a, b) == pytest.approx(4 / 12)
    with pytest.raises(ValueError, match="b has shape"):
        mask_iou(a, np.zeros((3, 4), bool))


def test_bad_input_gives_clear_errors(synth):
    image = synth[0].image
    h, w = image.shape[:2]
    with pytest.raises(ValueError, match="image.*grey"):
        grabcut(image[..., 0], (5, 5, 20, 20))
    with pytest.raises(ValueError, match="rect.*outside the image"):
        grabcut(image, (w - 10, 5, 20, 20))
    with pytest.raises(ValueError, match="rect.*outside the image"):
        grabcut(image, (-1, 5, 20, 20))
    with pytest.raises(ValueError, match="rect.*empty"):
        grabcut(image, (5, 5, 0, 20))
    with pytest.raises(ValueError, match="rect.*whole image"):
        grabcut(image, (0, 0, w, h))
    with pytest.raises(ValueError, match="rect"):
        grabcut(image, (5.5, 5, 20, 20))
    with pytest.raises(ValueError, match="exactly one"):
        grabcut(image)
    with pytest.raises(ValueError, match="trimap has shape"):
        grabcut(image, trimap=np.zeros((h + 1, w), np.uint8))
    with pytest.raises(ValueError, match="trimap has value 7"):
        grabcut(image, trimap=np.full((h, w), 7, np.uint8))
    with pytest.raises(ValueError, match="no foreground seeds"):
        grabcut(image, trimap=np.zeros((h, w), np.uint8))
    with pytest.raises(ValueError, match="no background seeds"):
        grabcut(image, trimap=np.full((h, w), GC_PR_FGD, np.uint8))
    with pytest.raises(ValueError, match="fg_strokes has shape"):
        grabcut(image, (5, 5, 20, 20), fg_strokes=np.zeros((h, w + 2), bool))
    with pytest.raises(ValueError, match="overlap"):
        grabcut(image, (5, 5, 20, 20), fg_strokes=np.ones((h, w), bool), bg_strokes=np.ones((h, w), bool))
    with pytest.raises(ValueError, match="iterations"):
        grabcut(image, (5, 5, 20, 20), iterations=0)
    with pytest.raises(TypeError, match="rng"):
        grabcut(image, (5, 5, 20, 20), rng="seed")
    result = grabcut(image, (5, 5, 20, 20), iterations=1)
    with pytest.raises(ValueError, match="at least one stroke"):
        grabcut_correct(image, result)
    with pytest.raises(ValueError, match="shape"):
        grabcut_correct(image[:-1], result, fg_strokes=np.zeros((h - 1, w), bool))
