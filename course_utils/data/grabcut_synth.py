"""A procedural GrabCut benchmark: textured, multi-coloured objects on textured scenes, exact masks.

No package ships real photos with object masks, so the GrabCut lessons score
segmentations on generated images whose ground truth is known exactly.  Each
image has

* a background of 3-4 colour regions (a random Voronoi-like partition with
  smooth borders), each with its own texture (stripes, blotches or fine noise)
  and a global illumination gradient;
* one object: a smooth random blob (union of ellipses deformed by smooth
  noise), painted with 2-3 colours of its own in a pattern (spots or bands),
  with noise, blended into the scene with a one-pixel soft edge;
* the rectangle a user would draw: the object's bounding box grown by a margin.

On disk the benchmark uses the layout of the GrabCut database (Rother et al.
2004, as distributed for interactive-segmentation benchmarks):
``<root>/grabcut_synth/data_GT/<name>.png`` (RGB) and
``<root>/grabcut_synth/boundary_GT/<name>.bmp`` (0 background, 255 object).
The rectangle is recomputed from the mask by :func:`rect_around`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils._shared import as_generator
from course_utils.cli import atomic_file
from course_utils.config import SETTINGS
from course_utils.images import check_mask
from course_utils.paths import data_root

__all__ = [
    "SynthImage",
    "make_grabcut_image",
    "make_benchmark",
    "rect_around",
    "write_benchmark",
    "read_benchmark",
    "load_benchmark",
    "prepare_offline",
]

_DIR = "grabcut_synth"


@dataclass(frozen=True)
class SynthImage:
    """One benchmark image.

    Attributes
    ----------
    name : str
    image : ndarray, shape (H, W, 3), uint8
    mask : ndarray, shape (H, W), bool
        The exact object mask (True = object).
    rect : (x, y, width, height)
        The user's rectangle (OpenCV's order).
    """

    name: str
    image: np.ndarray
    mask: np.ndarray
    rect: tuple[int, int, int, int]


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Gaussian-filtered white noise with correlation length ``scale`` pixels, normalised to std 1."""
    from scipy.ndimage import gaussian_filter

    field = gaussian_filter(rng.standard_normal(shape), sigma=max(scale, 0.5), mode="wrap")
    return (field - field.mean()) / (field.std() + 1e-12)


def _random_colours(rng: np.random.Generator, count: int, avoid: np.ndarray | None, min_dist: float) -> np.ndarray:
    """``count`` RGB colours (float, 0-255) at least ``min_dist`` apart from ``avoid`` and each other."""
    chosen: list[np.ndarray] = []
    others = [] if avoid is None else list(avoid)
    for _ in range(2000):
        c = rng.uniform(20, 235, size=3)
        if all(np.linalg.norm(c - o) >= min_dist for o in others + chosen):
            chosen.append(c)
            if len(chosen) == count:
                break
    while len(chosen) < count:  # pragma: no cover - the palette space is large enough in practice
        chosen.append(rng.uniform(20, 235, size=3))
    return np.array(chosen)


def _texture(rng: np.random.Generator, shape: tuple[int, int], kind: int) -> np.ndarray:
    """A zero-mean texture of unit scale: 0 stripes, 1 blotches, 2 fine noise."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    if kind == 0:
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(4, 12) * max(h, w) / 160
        return np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    if kind == 1:
        return _smooth_noise(rng, shape, 2.5 * max(h, w) / 160)
    return rng.standard_normal(shape) * 0.7


def _blob(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A smooth random object mask covering roughly 10-35% of the image, away from the border."""
    from scipy.ndimage import label

    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    for _ in range(50):
        cy, cx = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w
        field = np.full(shape, -np.inf)
        for _ in range(rng.integers(2, 5)):
            oy, ox = cy + rng.normal(0, 0.08) * h, cx + rng.normal(0, 0.08) * w
            ry, rx = rng.uniform(0.1, 0.25) * h, rng.uniform(0.1, 0.25) * w
            t = rng.uniform(0, np.pi)
            dy, dx = yy - oy, xx - ox
            u = (dx * np.cos(t) + dy * np.sin(t)) / rx
            v = (-dx * np.sin(t) + dy * np.cos(t)) / ry
            field = np.maximum(field, 1.0 - (u * u + v * v))
        field += 0.25 * _smooth_noise(rng, shape, 0.06 * max(h, w))
        mask = field > 0
        labels, count = label(mask)
        if count == 0:
            continue
        largest = 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
        mask = labels == largest
        margin = max(2, int(0.04 * min(h, w)))
        inside = not (mask[:margin].any() or mask[-margin:].any() or mask[:, :margin].any() or mask[:, -margin:].any())
        if inside and 0.08 <= mask.mean() <= 0.4:
            return mask
    raise RuntimeError("could not draw an object mask")  # pragma: no cover


def rect_around(mask: np.ndarray, *, margin: float = 0.06) -> tuple[int, int, int, int]:
    """The rectangle ``(x, y, width, height)`` a user would draw around ``mask``.

    The bounding box grown by ``margin`` times the image's shorter side on
    every side, clipped to the image.

    Parameters
    ----------
    mask : ndarray, shape (H, W), bool
        Must contain at least one True pixel.
    margin : float
        In units of ``min(H, W)``.
    """

    check_mask(mask, "mask")
    if not mask.any():
        raise ValueError("mask is empty: there is no object to draw a rectangle around")
    h, w = mask.shape
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    pad = int(round(margin * min(h, w)))
    y0, y1 = max(0, rows[0] - pad), min(h, rows[-1] + 1 + pad)
    x0, x1 = max(0, cols[0] - pad), min(w, cols[-1] + 1 + pad)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def make_grabcut_image(rng=0, *, size: tuple[int, int] = (256, 256), name: str = "synth") -> SynthImage:
    """Draw one benchmark image with its exact object mask and rectangle.

    Parameters
    ----------
    rng : int or numpy.random.Generator
    size : (H, W)
        At least 32 x 32.
    name : str

    Returns
    -------
    SynthImage
    """
    from scipy.ndimage import gaussian_filter

    rng = as_generator(rng)
    h, w = (int(s) for s in size)
    if h < 32 or w < 32:
        raise ValueError(f"size must be at least (32, 32), got {size!r}")
    shape = (h, w)
    scale = max(h, w) / 160
    # background: 3-4 regions, each a colour with its own texture
    n_bg = int(rng.integers(3, 5))
    bg_colours = _random_colours(rng, n_bg, None, 60.0)
    fields = np.stack([_smooth_noise(rng, shape, 12 * scale) for _ in range(n_bg)])
    region = np.argmax(fields, axis=0)
    background = np.zeros(shape + (3,))
    for k in range(n_bg):
        tex = _texture(rng, shape, int(rng.integers(0, 3)))
        amp = rng.uniform(8, 22)
        layer = bg_colours[k] + amp * tex[..., None] * rng.uniform(0.6, 1.0, size=3)
        background[region == k] = layer[region == k]
    gradient = np.linspace(-1, 1, w)[None, :, None] * rng.uniform(-15, 15)
    background = gaussian_filter(background, sigma=(0.7, 0.7, 0)) + gradient
    # object: 2-3 colours far from the background's, in spots or bands
    mask = _blob(rng, shape)
    n_fg = int(rng.integers(2, 4))
    fg_colours = _random_colours(rng, n_fg, bg_colours, 70.0)
    pattern = _smooth_noise(rng, shape, 5 * scale) if rng.random() < 0.5 else _texture(rng, shape, 0)
    cuts = np.quantile(pattern[mask], np.linspace(0, 1, n_fg + 1)[1:-1])
    part = np.digitize(pattern, cuts)
    foreground = fg_colours[part] + rng.uniform(6, 14) * rng.standard_normal(shape + (3,))
    # one-pixel soft edge; the ground truth is the hard mask
    alpha = np.clip(gaussian_filter(mask.astype(np.float64), 0.6), 0, 1)[..., None]
    image = alpha * foreground + (1 - alpha) * background
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return SynthImage(name, image, mask, rect_around(mask))


def make_benchmark(count: int, *, size: tuple[int, int] = (256, 256), seed: int = 0) -> list[SynthImage]:
    """``count`` images named ``synth_000``, ``synth_001``, ...; image ``i`` is drawn with seed ``(seed, i)``."""
    if not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    return [make_grabcut_image(np.random.default_rng([seed, i]), size=size, name=f"synth_{i:03d}")
            for i in range(int(count))]


def write_benchmark(items: list[SynthImage], directory: Path) -> Path:
    """Write images and masks in the GrabCut database layout under ``directory``.

    Existing files are never overwritten (a file already there is left as it is).
    """
    from PIL import Image

    directory = Path(directory)
    (directory / "data_GT").mkdir(parents=True, exist_ok=True)
    (directory / "boundary_GT").mkdir(parents=True, exist_ok=True)
    for item in items:
        image_path = directory / "data_GT" / f"{item.name}.png"
        mask_path = directory / "boundary_GT" / f"{item.name}.bmp"
        if not image_path.exists():  # through a temporary file: an interrupted run leaves no half image
            with atomic_file(image_path) as tmp:
                Image.fromarray(item.image).save(tmp)
        if not mask_path.exists():
            with atomic_file(mask_path) as tmp:
                Image.fromarray(np.where(item.mask, 255, 0).astype(np.uint8)).save(tmp)
    return directory


def read_benchmark(directory: Path) -> list[SynthImage]:
    """Read a benchmark in the GrabCut database layout (``data_GT/*``, ``boundary_GT/*.bmp``).

    Mask pixels of value 128 (the real database's unsure border) count as
    background here; our generated masks have none.
    """
    from PIL import Image

    directory = Path(directory)
    images = sorted(p for p in (directory / "data_GT").glob("*") if p.suffix.lower() in {".png", ".jpg", ".bmp"})
    if not images:
        raise FileNotFoundError(f"no images under {directory / 'data_GT'}")
    items = []
    for path in images:
        mask_path = directory / "boundary_GT" / f"{path.stem}.bmp"
        if not mask_path.exists():
            raise FileNotFoundError(f"{path.name} has no mask {mask_path}")
        image = np.asarray(Image.open(path).convert("RGB"))
        mask = np.asarray(Image.open(mask_path).convert("L")) > 128
        items.append(SynthImage(path.stem, image, mask, rect_around(mask)))
    return items


def load_benchmark(count: int, *, size: tuple[int, int] = (256, 256), root: Path | None = None,
                   seed: int = 0) -> list[SynthImage]:
    """The first ``count`` benchmark images: read from disk when prepared there, generated otherwise.

    Parameters
    ----------
    count : int
    size : (H, W)
        Used when generating; images read from disk keep their size.
    root : Path, optional
        Defaults to :func:`course_utils.paths.data_root`.
    seed : int
    """

    directory = Path(root if root is not None else data_root()) / _DIR
    if (directory / "data_GT").is_dir():
        items = [item for item in read_benchmark(directory) if item.image.shape[:2] == tuple(size)]
        if len(items) >= count:
            return items[:count]
    return make_benchmark(count, size=size, seed=seed)


def prepare_offline(root: Path, full: bool) -> Path:
    """Write the benchmark under ``root/grabcut_synth`` (idempotent; never overwrites files).

    Quick mode: the notebook's images (``grabcut.benchmark_images`` of side
    ``grabcut.benchmark_side``); full mode: the full-mode count and side.
    """

    pick = 1 if full else 0
    count = SETTINGS["grabcut"]["benchmark_images"][pick]
    side = SETTINGS["grabcut"]["benchmark_side"][pick]
    directory = Path(root) / _DIR
    return write_benchmark(make_benchmark(count, size=(side, side)), directory)
