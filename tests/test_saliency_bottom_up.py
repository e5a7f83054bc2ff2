"""Bottom-up saliency: spectral residual against OpenCV contrib, FT / HC / RC against their papers' definitions."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.data.samples import sample_image
from course_utils.images import resize_longest_side
from course_utils.saliency.bottom_up import (
    METHODS,
    frequency_tuned,
    histogram_contrast,
    quantize_colors,
    region_contrast,
    spectral_residual,
    spectral_residual_core,
)

cv2 = pytest.importorskip("cv2")
PHOTOS = ["astronaut", "chelsea", "coffee", "china", "flower", "rocket", "coins", "immunohistochemistry"]


def _opencv_spectral_residual(image: np.ndarray) -> np.ndarray:
    if not hasattr(cv2, "saliency"):
        pytest.skip("OpenCV without the contrib saliency module")
    detector = cv2.saliency.StaticSaliencySpectralResidual_create()
    ok, saliency = detector.computeSaliency(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))  # OpenCV wants BGR
    assert ok
    return saliency


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def _scene(rng=0, size=(96, 128)) -> tuple[np.ndarray, np.ndarray]:
    """A grey, slightly noisy background with one red disc: the disc is the salient object."""
    rng = np.random.default_rng(rng)
    h, w = size
    image = np.full((h, w, 3), 120.0) + rng.normal(0, 4, (h, w, 3))
    yy, xx = np.mgrid[0:h, 0:w]
    mask = (yy - 40) ** 2 + (xx - 80) ** 2 <= 14**2
    image[mask] = (220, 40, 40)
    return np.clip(image, 0, 255).astype(np.uint8), mask


@pytest.mark.parametrize("name", PHOTOS)
def test_spectral_residual_agrees_with_opencv_on_photos(name):
    image = sample_image(name)
    ours = spectral_residual(image)
    ref = _opencv_spectral_residual(image)
    assert ours.shape == ref.shape == image.shape[:2]
    assert _corr(ours, ref) > 0.93, f"correlation with OpenCV on {name}: {_corr(ours, ref):.3f}"


def test_spectral_residual_mean_agreement_and_opencv_variant_is_nearly_exact():
    """Averaged over the photos the agreement is high; switching to OpenCV's two choices makes it ~exact."""
    import cv2 as _cv2

    corrs = [_corr(spectral_residual(sample_image(n)), _opencv_spectral_residual(sample_image(n))) for n in PHOTOS]
    assert np.mean(corrs) > 0.96, corrs
    # OpenCV's variant: mirrored (not periodic) mean filter, blur the magnitude *then* square.
    image = sample_image("chelsea")
    grey = _cv2.cvtColor(image, _cv2.COLOR_RGB2GRAY)
    small = _cv2.resize(grey, (64, 64), interpolation=_cv2.INTER_LINEAR).astype(np.float64)
    spectrum = np.fft.fft2(small)
    log_amp = np.log(np.abs(spectrum))
    residual = log_amp - _cv2.blur(log_amp, (3, 3))
    magnitude = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum))))
    variant = _cv2.GaussianBlur(magnitude, (5, 5), 8) ** 2
    variant = _cv2.resize((variant / variant.max()).astype(np.float32), image.shape[1::-1])
    assert _corr(variant, _opencv_spectral_residual(image)) > 0.999


def test_spectral_residual_core_matches_the_paper_formula():
    rng = np.random.default_rng(0)
    grey = rng.random((16, 20))
    spectrum = np.fft.fft2(grey)
    log_amp = np.log(np.abs(spectrum))
    padded = np.pad(log_amp, 1, mode="wrap")  # the spectrum is periodic
    mean3 = sum(padded[1 + dy:17 + dy, 1 + dx:21 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)) / 9
    expected = np.abs(np.fft.ifft2(np.exp(log_amp - mean3 + 1j * np.angle(spectrum)))) ** 2
    np.testing.assert_allclose(spectral_residual_core(grey), expected, rtol=1e-10, atol=1e-12)


def test_log_spectrum_pieces_rebuild_the_core():
    from course_utils.saliency.bottom_up import log_spectrum

    grey = np.random.default_rng(1).random((12, 10))
    log_amp, averaged, phase = log_spectrum(grey)
    np.testing.assert_allclose(np.exp(log_amp + 1j * phase), np.fft.fft2(grey), rtol=1e-10)
    np.testing.assert_allclose(averaged.mean(), log_amp.mean(), rtol=1e-10)  # a wrapped mean filter keeps the mean
    rebuilt = np.abs(np.fft.ifft2(np.exp(log_amp - averaged + 1j * phase))) ** 2
    np.testing.assert_allclose(rebuilt, spectral_residual_core(grey), rtol=1e-12)
    with pytest.raises(ValueError, match="average_size"):
        spectral_residual_core(grey, average_size=2)


def test_spectral_residual_core_of_flat_image_is_finite():
    out = spectral_residual_core(np.full((8, 8), 3.0))
    assert np.all(np.isfinite(out))
    assert spectral_residual(np.full((20, 30, 3), 90, np.uint8)).max() == 0.0  # nothing is salient


@pytest.mark.parametrize("method", list(METHODS.values()), ids=list(METHODS))
def test_every_method_returns_a_unit_map_of_the_image_size(method):
    image, _ = _scene()
    for img in (image, image.astype(np.float32) / 255.0):
        sal = method(img)
        assert sal.shape == image.shape[:2] and sal.dtype == np.float32
        assert sal.min() >= 0.0 and sal.max() <= 1.0 and sal.max() == pytest.approx(1.0)


@pytest.mark.parametrize("method", list(METHODS.values()), ids=list(METHODS))
def test_every_method_finds_the_odd_disc(method):
    image, mask = _scene()
    sal = method(image)
    assert sal[mask].mean() > 2.0 * sal[~mask].mean()


@pytest.mark.parametrize("method", list(METHODS.values()), ids=list(METHODS))
@pytest.mark.parametrize("bad, match", [
    (np.zeros((10, 10), np.uint8), "grey"),
    (np.zeros((10, 10, 4), np.uint8), "RGBA"),
    (np.zeros((10, 10, 3), np.int32), "dtype"),
    (np.full((10, 10, 3), 2.0), r"\[0, 1\]"),
])
def test_bad_images_are_refused_with_the_argument_name(method, bad, match):
    with pytest.raises((ValueError, TypeError), match=match) as err:
        method(bad)
    assert "image" in str(err.value)


def test_spectral_residual_checks_its_parameters():
    image, _ = _scene()
    with pytest.raises(ValueError, match="size"):
        spectral_residual(image, size=(64,))
    with pytest.raises(ValueError, match="average_size"):
        spectral_residual(image, average_size=4)
    with pytest.raises(ValueError, match="sigma"):
        spectral_residual(image, sigma=0)
    with pytest.raises(ValueError, match="grey"):
        spectral_residual_core(np.zeros((4, 4, 3)))


def test_frequency_tuned_is_the_lab_distance_to_the_mean_colour():
    from skimage.color import rgb2lab

    image, _ = _scene(1, (40, 50))
    f = image.astype(np.float64) / 255
    k = np.array([1, 4, 6, 4, 1]) / 16.0
    padded = np.pad(f, ((2, 2), (2, 2), (0, 0)), mode="symmetric")
    rows = sum(k[i] * padded[i:i + 40] for i in range(5))
    blurred = sum(k[j] * rows[:, j:j + 50] for j in range(5))
    dist = np.linalg.norm(rgb2lab(blurred) - rgb2lab(f).reshape(-1, 3).mean(0), axis=2)
    expected = (dist - dist.min()) / (dist.max() - dist.min())
    np.testing.assert_allclose(frequency_tuned(image), expected, atol=1e-5)


def test_quantize_colors_keeps_95_percent_and_merges_rare_colours():
    rng = np.random.default_rng(0)
    image = np.zeros((50, 40, 3), np.uint8)
    image[:, :20] = (200, 30, 30)
    image[:, 20:] = (30, 30, 200)
    noise = rng.random((50, 40)) < 0.03
    image[noise] = rng.integers(0, 256, (noise.sum(), 3))
    index, colours = quantize_colors(image)
    assert index.shape == image.shape[:2] and index.min() >= 0 and index.max() < len(colours)
    counts = np.bincount(index.ravel())
    # The two dominant colours cover ~97%: the rare noise colours are merged into them.
    assert len(colours) <= 4 and np.sort(counts)[-2:].sum() >= 0.95 * index.size
    with pytest.raises(ValueError, match="levels"):
        quantize_colors(image, levels=1)
    with pytest.raises(ValueError, match="coverage"):
        quantize_colors(image, coverage=0)


def test_histogram_contrast_without_smoothing_is_frequency_weighted_colour_distance():
    image = np.zeros((10, 10, 3), np.uint8)
    image[:, :] = (0, 0, 255)
    image[:2, :5] = (255, 255, 0)  # 10% yellow on blue
    sal = histogram_contrast(image, smooth=False, coverage=1.0)
    # S(c) = sum_j f_j D(c, c_j): yellow 0.9 D, blue 0.1 D -> after min-max, yellow 1 and blue 0.
    assert np.all(sal[:2, :5] == 1.0) and np.all(sal[2:] == 0.0)


def test_region_contrast_prefers_the_compact_odd_region():
    image, mask = _scene(2)
    sal = region_contrast(image)
    assert sal[mask].mean() > 0.6 and sal[~mask].mean() < 0.2
    with pytest.raises(ValueError, match="sigma_s2"):
        region_contrast(image, sigma_s2=0)


def test_methods_work_on_every_real_photo_size():
    for name in ("coffee", "camera"):
        image = resize_longest_side(sample_image(name), 96)
        for method in METHODS.values():
            assert method(image).shape == image.shape[:2]
