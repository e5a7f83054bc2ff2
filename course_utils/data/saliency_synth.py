"""A procedural salient-object data set with exact masks, in the DUTS on-disk layout.

Salient-object data sets (DUTS, ECSSD, PASCAL-S, ...) pair photos with
pixel masks that human annotators drew around the object that draws the eye.
None can be downloaded here, so this module draws images whose salient object
is known exactly: one object that differs from a cluttered background in one
**cue**

* ``"colour"``: another hue, similar brightness;
* ``"contrast"``: the same hue, much brighter or darker;
* ``"texture"``: a similar mean colour, but striped or checkered on a smooth
  background;

and writes them like DUTS (``DUTS-TR/DUTS-TR-Image/*.jpg`` with
``DUTS-TR/DUTS-TR-Mask/*.png``, masks 0/255; the same for ``DUTS-TE``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils._shared import as_generator, check_bytes, check_int
from course_utils.cli import read_json, write_text_atomic
from course_utils.config import SETTINGS
from course_utils.data.manifest import Manifest

__all__ = [
    "CUES",
    "SPLITS",
    "SalientSample",
    "make_salient_image",
    "make_salient_dataset",
    "dataset_folder",
    "write_dataset",
    "load_split",
    "ensure_dataset",
    "prepare_offline",
]

CUES = ("colour", "contrast", "texture")
SPLITS = {"train": "DUTS-TR", "test": "DUTS-TE"}
_MARKER = "SYNTHETIC.json"
_VERSION = 1


@dataclass(frozen=True)
class SalientSample:
    """One generated sample: ``image`` (H, W, 3) uint8, ``mask`` (H, W) bool, and the ``cue`` used."""

    image: np.ndarray
    mask: np.ndarray
    cue: str


def _check_size(size) -> int:
    size = check_int(size, "size", 16, 2**15)
    check_bytes(64.0 * size * size, name="size", value=size, what=f"a {size}x{size} scene and its layers")
    return size


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    import colorsys

    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v)) * 255.0


def _smooth_noise(rng: np.random.Generator, size: int, scale: float) -> np.ndarray:
    """Zero-mean, unit-std noise smoothed at ``scale`` (fraction of the side)."""
    import cv2

    noise = cv2.GaussianBlur(rng.standard_normal((size, size)), (0, 0), max(1.0, scale * size),
                             borderType=cv2.BORDER_REFLECT)
    return (noise - noise.mean()) / (noise.std() + 1e-12)


def _shape_mask(rng: np.random.Generator, size: int, area: float, centre: tuple[float, float]) -> np.ndarray:
    """A random ellipse, rotated rectangle, polygon or smooth blob of about ``area`` (fraction of the image)."""
    from skimage.draw import polygon as draw_polygon

    cy, cx = centre
    radius = np.sqrt(area / np.pi) * size
    kind = rng.choice(["ellipse", "rectangle", "polygon", "blob"])
    # Every shape lies within 2 radii of its centre: evaluate only that window.
    reach = int(np.ceil(2.0 * radius)) + 1
    r0, r1 = max(0, int(cy) - reach), min(size, int(cy) + reach + 1)
    c0, c1 = max(0, int(cx) - reach), min(size, int(cx) + reach + 1)
    full = np.zeros((size, size), dtype=bool)
    if r1 <= r0 or c1 <= c0:
        return full
    yy, xx = np.mgrid[r0:r1, c0:c1].astype(np.float64)
    angle = rng.uniform(0, np.pi)
    dy, dx = yy - cy, xx - cx
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    aspect = rng.uniform(0.5, 1.0)
    if kind == "ellipse":
        a, b = radius / np.sqrt(aspect), radius * np.sqrt(aspect)
        full[r0:r1, c0:c1] = (u / a) ** 2 + (v / b) ** 2 <= 1.0
        return full
    if kind == "rectangle":
        half = radius * np.sqrt(np.pi) / 2
        full[r0:r1, c0:c1] = (np.abs(u) <= half / np.sqrt(aspect)) & (np.abs(v) <= half * np.sqrt(aspect))
        return full
    theta = np.arctan2(v, u)
    r = np.hypot(u, v)
    if kind == "blob":
        bound = np.ones_like(theta)
        for k in (2, 3, 5):
            bound += rng.uniform(0.0, 0.25) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        full[r0:r1, c0:c1] = r <= radius * bound
        return full
    n = int(rng.integers(5, 9))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = radius * rng.uniform(0.7, 1.3, n)
    rows = cy + radii * np.sin(angles + angle)
    cols = cx + radii * np.cos(angles + angle)
    rr, cc = draw_polygon(rows, cols, shape=(size, size))
    full[rr, cc] = True
    return full


def make_salient_image(size: int = 128, rng: np.random.Generator | int = 0, cue: str | None = None) -> SalientSample:
    """Draw one image with a salient object and its exact mask.

    Parameters
    ----------
    size : int
        Side of the square image in pixels (>= 16).
    rng : numpy Generator or int
        The random source.
    cue : {"colour", "contrast", "texture"}, optional
        How the object differs from the background; random if None.

    Returns
    -------
    SalientSample
        ``image`` (size, size, 3) uint8, ``mask`` (size, size) bool (the
        object's pixels, never empty), ``cue``.
    """
    size = _check_size(size)
    rng = as_generator(rng)
    if cue is None:
        cue = str(rng.choice(CUES))
    if cue not in CUES:
        raise ValueError(f"cue must be one of {CUES} or None, got {cue!r}")

    # Background: a smooth gradient between two close colours, low-frequency shading and fine grain.
    hue, sat, val = rng.uniform(0, 1), rng.uniform(0.15, 0.6), rng.uniform(0.35, 0.75)
    c0 = _hsv_to_rgb(hue, sat, val)
    c1 = _hsv_to_rgb(hue + rng.uniform(-0.05, 0.05), sat * rng.uniform(0.8, 1.2), val * rng.uniform(0.85, 1.15))
    t = np.linspace(0, 1, size)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * t[None, :] + np.sin(direction) * t[:, None])
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min() + 1e-12)
    image = c0 + ramp[..., None] * (c1 - c0)
    image = image + 12.0 * _smooth_noise(rng, size, 0.08)[..., None]
    layout = rng.choice(["plain", "split", "textured"])
    if layout == "split":  # two large regions (sky / ground) meeting at a wavy horizon
        horizon = size * (rng.uniform(0.35, 0.75) + 0.06 * _smooth_noise(rng, size, 0.15)[0])
        lower = np.arange(size)[:, None] > horizon[None, :]
        other = _hsv_to_rgb(hue + rng.uniform(-0.25, 0.25), rng.uniform(0.1, 0.5), rng.uniform(0.3, 0.8))
        image[lower] += other - c0
    elif layout == "textured":  # fine grain everywhere (grass, gravel)
        import cv2

        grain = cv2.GaussianBlur(rng.standard_normal((size, size)), (0, 0), 0.7)
        image = image + 25.0 * grain[..., None] / (grain.std() + 1e-12)
    # Clutter: small blobs of near-background colour, and a few small colourful distractors.
    for _ in range(int(rng.integers(3, 8))):
        centre = rng.uniform(0, size, 2)
        blob = _shape_mask(rng, size, rng.uniform(0.002, 0.01), (centre[0], centre[1]))
        image[blob] += rng.normal(0.0, 18.0, 3)
    for _ in range(int(rng.integers(0, 4))):
        centre = rng.uniform(0, size, 2)
        blob = _shape_mask(rng, size, rng.uniform(0.001, 0.004), (centre[0], centre[1]))
        image[blob] = _hsv_to_rgb(rng.uniform(0, 1), rng.uniform(0.5, 1.0), rng.uniform(0.3, 1.0))

    # The object: 5%-30% of the image, anywhere but the very border.
    area = rng.uniform(0.05, 0.30)
    margin = np.sqrt(area / np.pi) * size * 0.8
    centre = (rng.uniform(margin, size - margin), rng.uniform(margin, size - margin))
    mask = _shape_mask(rng, size, area, centre)
    if not mask.any():  # pragma: no cover - the area is far above one pixel
        mask[int(centre[0]), int(centre[1])] = True
    # The object is made to differ from what surrounds it (a band a few pixels wide), not from the whole image.
    import colorsys

    from scipy import ndimage

    ring = ndimage.binary_dilation(mask, iterations=max(2, size // 16)) & ~mask
    background_mean = np.clip(image[ring].mean(axis=0) if ring.any() else c0, 0, 255)
    hue, sat, val = colorsys.rgb_to_hsv(*(background_mean / 255.0))
    if cue == "colour":
        colour = _hsv_to_rgb(hue + rng.uniform(0.3, 0.7), rng.uniform(0.6, 1.0), min(1.0, max(0.3, val) * rng.uniform(0.9, 1.2)))
        fill = colour[None, None, :] + 6.0 * _smooth_noise(rng, size, 0.05)[..., None]
    elif cue == "contrast":
        # A dark background gets a bright object and a bright one a dark object.
        v_obj = min(1.0, val + rng.uniform(0.3, 0.45)) if val < 0.55 else max(0.0, val - rng.uniform(0.35, 0.45))
        colour = _hsv_to_rgb(hue, sat, v_obj)
        fill = colour[None, None, :] + 6.0 * _smooth_noise(rng, size, 0.05)[..., None]
    else:  # texture: same mean colour, strong stripes or checks
        period = rng.uniform(0.04, 0.1) * size
        a = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:size, 0:size]
        phase = 2 * np.pi * (xx * np.cos(a) + yy * np.sin(a)) / period
        if rng.random() < 0.5:
            pattern = np.sign(np.sin(phase))
        else:
            phase2 = 2 * np.pi * (-xx * np.sin(a) + yy * np.cos(a)) / period
            pattern = np.sign(np.sin(phase) * np.sin(phase2))
        # Half of the stripes have the background's own colour: colour alone finds only the other half.
        amplitude = rng.uniform(60.0, 90.0) * rng.choice([-1.0, 1.0])
        fill = background_mean[None, None, :] + amplitude * (pattern[..., None] > 0)
    image = np.where(mask[..., None], fill, image)
    image = image + rng.normal(0.0, 3.0, image.shape)  # sensor noise
    return SalientSample(np.clip(np.round(image), 0, 255).astype(np.uint8), mask, cue)


def make_salient_dataset(n: int, size: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n`` samples in memory; sample ``i`` uses the generator seeded by ``(seed, i)``.

    Returns
    -------
    images : ndarray, shape (n, size, size, 3), uint8
    masks : ndarray, shape (n, size, size), bool
    cues : list of str
    """
    n = check_int(n, "n", 1)
    size = _check_size(size)
    check_int(seed, "seed", 0)
    check_bytes(4.0 * n * size * size, name="n", value=n, what=f"{n} images and masks of {size}x{size}")
    samples = [make_salient_image(size, np.random.default_rng([seed, i])) for i in range(n)]
    return (np.stack([s.image for s in samples]), np.stack([s.mask for s in samples]), [s.cue for s in samples])


def dataset_folder(root: str | Path, size: int) -> Path:
    """``<root>/saliency_synth/DUTS-synth-<size>``: the folder that holds ``DUTS-TR`` and ``DUTS-TE``."""
    return Path(root) / "saliency_synth" / f"DUTS-synth-{_check_size(size)}"


def _split_paths(folder: Path, split: str) -> tuple[Path, Path]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    name = SPLITS[split]
    return folder / name / f"{name}-Image", folder / name / f"{name}-Mask"


def write_dataset(folder: str | Path, *, n_train: int, n_test: int, size: int = 128, seed: int = 0) -> Path:
    """Write the data set in the DUTS layout under ``folder`` (idempotent; never overwrites).

    Training sample ``i`` is drawn with seed ``(seed, 0, i)``, test sample
    ``i`` with ``(seed, 1, i)``, so the files do not depend on the counts.
    Files that already exist are left alone; a folder that holds a data set
    made with other settings, or files this module did not write, is refused.

    Returns
    -------
    Path
        ``folder``.

    Raises
    ------
    FileExistsError
        If ``folder`` holds something that is not this data set with these settings.
    """
    import cv2

    folder = Path(folder)
    size = _check_size(size)
    n_train, n_test = check_int(n_train, "n_train", 1), check_int(n_test, "n_test", 1)
    seed = check_int(seed, "seed", 0)
    settings = {"version": _VERSION, "size": size, "seed": seed, "n_train": int(n_train), "n_test": int(n_test)}
    marker = folder / _MARKER
    if marker.exists():
        found = read_json(marker, "marker")
        if {k: found.get(k) for k in ("version", "size", "seed")} != {k: settings[k] for k in ("version", "size", "seed")}:
            raise FileExistsError(f"{folder} holds a synthetic data set made with other settings {found}; "
                                  f"expected {settings}: choose another folder")
    elif folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} exists and is not a segcourse synthetic data set: not writing into it")
    folder.mkdir(parents=True, exist_ok=True)
    # The marker goes first, so that an interrupted run is recognised (and completed) next time.
    if marker.exists():
        found = read_json(marker, "marker")
        settings["n_train"] = max(settings["n_train"], int(found.get("n_train", 0)))
        settings["n_test"] = max(settings["n_test"], int(found.get("n_test", 0)))
    write_text_atomic(marker, json.dumps(settings, indent=1) + "\n")
    manifest = Manifest(folder)
    try:
        for split_id, (split, count) in enumerate((("train", n_train), ("test", n_test))):
            image_dir, mask_dir = _split_paths(folder, split)
            for i in range(count):
                stem = f"synth_{split}_{i:06d}"
                image_rel = (image_dir / f"{stem}.jpg").relative_to(folder).as_posix()
                mask_rel = (mask_dir / f"{stem}.png").relative_to(folder).as_posix()
                drawn = []

                def sample(split_id=split_id, i=i, drawn=drawn):
                    if not drawn:
                        drawn.append(make_salient_image(size, np.random.default_rng([seed, split_id, i])))
                    return drawn[0]

                manifest.ensure(image_rel, lambda tmp: _imwrite(tmp, cv2.cvtColor(sample().image, cv2.COLOR_RGB2BGR),
                                                               [cv2.IMWRITE_JPEG_QUALITY, 95]),
                                lambda path: _decodes(path, size, 3))
                manifest.ensure(mask_rel, lambda tmp: _imwrite(tmp, sample().mask.astype(np.uint8) * 255),
                                lambda path: _decodes(path, size, 2))
    except BaseException:
        manifest.save()
        raise
    manifest.close()
    return folder


def _imwrite(path: Path, array: np.ndarray, params=()) -> None:
    import cv2

    if not cv2.imwrite(str(path), array, list(params)):
        raise OSError(f"could not write {path}")


def _decodes(path: Path, size: int, ndim: int) -> bool:
    """Whether ``path`` decodes fully as a ``size x size`` image (``ndim`` 3: colour, 2: grey)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            return im.size == (size, size) and (im.mode == "RGB") == (ndim == 3)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def load_split(folder: str | Path, split: str = "train", limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read a DUTS-layout split: images as RGB uint8 and masks as bool (mask pixel > 127).

    Works on the real DUTS as well as on :func:`write_dataset`'s output, as
    long as all images share one size.

    Parameters
    ----------
    folder : path
        The folder holding ``DUTS-TR`` / ``DUTS-TE``.
    split : {"train", "test"}
    limit : int, optional
        Read only the first ``limit`` pairs (sorted by name).

    Returns
    -------
    images : ndarray, shape (N, H, W, 3), uint8
    masks : ndarray, shape (N, H, W), bool

    Raises
    ------
    FileNotFoundError
        If the split's folders are missing or an image has no mask.
    """
    import cv2

    image_dir, mask_dir = _split_paths(Path(folder), split)
    if not image_dir.is_dir() or not mask_dir.is_dir():
        raise FileNotFoundError(f"{image_dir} or {mask_dir} is missing: run ensure_dataset() or prepare_offline()")
    image_paths = sorted(image_dir.glob("*.jpg"))
    if limit is not None:
        image_paths = image_paths[:limit]
    if not image_paths:
        raise FileNotFoundError(f"no .jpg image in {image_dir}")
    images, masks = [], []
    for path in image_paths:
        mask_path = mask_dir / f"{path.stem}.png"
        if not mask_path.exists():
            raise FileNotFoundError(f"{path.name} has no mask {mask_path}")
        images.append(cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
        masks.append(cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE) > 127)
    return np.stack(images), np.stack(masks)


def ensure_dataset(root: str | Path, *, full: bool = False) -> Path:
    """Make sure the data set of the current mode exists under ``root``; return its folder.

    The sizes come from ``course_utils.config`` (lesson ``"saliency"``):
    ``image_size``, ``train_images`` and ``val_images`` of quick or full mode.
    """

    pick = 1 if full else 0
    section = SETTINGS["saliency"]
    size = section["image_size"][pick]
    return write_dataset(dataset_folder(root, size), n_train=section["train_images"][pick],
                         n_test=section["val_images"][pick], size=size, seed=0)


def prepare_offline(root: Path, full: bool) -> Path:
    """The offline default: the synthetic DUTS-layout set of quick (or full) mode under ``root``."""
    return ensure_dataset(root, full=full)
