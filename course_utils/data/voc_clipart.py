"""The clipart scenes of the offline PASCAL VOC: six classes on a blurred background.

:func:`draw_scene` draws one to ``max_objects`` objects of six VOC classes (aeroplane, bicycle,
bottle, car, person, tvmonitor) with shapes and textures a small FCN can learn, designed so that
fine detail matters: thin parts (wings, spokes, limbs, frames), small objects, and a void band
along every boundary as in the real annotations.  The course's shipped checkpoints were trained
on these scenes: their output must not change (``tests/test_voc_scenes.py`` pins it).
:mod:`course_utils.data.voc_scenes` draws the richer, twenty-class scenes.
"""

from __future__ import annotations

import numpy as np

from course_utils.data.void_band import add_void_band

__all__ = ["SYNTHETIC_CLASSES", "draw_scene"]

SYNTHETIC_CLASSES: tuple[int, ...] = (1, 2, 5, 7, 15, 20)  # aeroplane, bicycle, bottle, car, person, tvmonitor


# class id -> (base RGB colour, texture kind)
_LOOKS: dict[int, tuple[tuple[int, int, int], str]] = {
    1: ((200, 205, 225), "sheen"),      # aeroplane: pale metallic
    2: ((170, 30, 40), "plain"),        # bicycle: red frame
    5: ((40, 150, 70), "vstripes"),     # bottle: green glass with highlights
    7: ((40, 80, 200), "hstripes"),     # car: blue, striped
    15: ((225, 160, 120), "dots"),      # person: warm skin/cloth tone with spots
    20: ((50, 50, 55), "screen"),       # tvmonitor: dark frame around a bright screen
}


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    import cv2

    small = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _background(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    base = rng.uniform(70, 170, size=3)
    tint = rng.uniform(-40, 40, size=3)
    field = _smooth_noise(rng, shape, 4)[..., None]
    grain = rng.normal(0, 6, size=(h, w, 1))
    bg = base + tint * (field - 0.5) * 2 + grain
    # desaturate towards grey-brown so objects stand out by colour AND texture
    grey = bg.mean(axis=2, keepdims=True)
    return 0.55 * bg + 0.45 * grey


def _texture(rng: np.random.Generator, cls: int, shape: tuple[int, int], scale: float) -> np.ndarray:
    h, w = shape
    colour, kind = _LOOKS[cls]
    colour = np.clip(np.asarray(colour, np.float32) + rng.normal(0, 12, size=3), 0, 255)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = max(3.0, 0.08 * scale)
    if kind == "sheen":
        pattern = 18 * np.sin(xx / (2 * period) + yy / (3 * period))
    elif kind == "vstripes":
        pattern = 35 * (np.sin(2 * np.pi * xx / period) > 0.6)
    elif kind == "hstripes":
        pattern = 40 * (np.sin(2 * np.pi * yy / period) > 0.3)
    elif kind == "dots":
        pattern = -45 * ((np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)) > 0.55)
    else:
        pattern = np.zeros_like(xx)
    return colour + pattern[..., None] + rng.normal(0, 5, size=(h, w, 1))


def _draw_object(rng: np.random.Generator, cls: int, shape: tuple[int, int], cx: float, cy: float,
                 s: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Mask of one object of class ``cls`` centred at (cx, cy) with size ``s`` pixels (and a screen mask)."""
    import cv2

    h, w = shape
    mask = np.zeros((h, w), np.uint8)
    extra = None
    thin = max(2, int(round(0.07 * s)))  # thin parts: a few pixels, wider than the void band
    p = lambda x, y: (int(round(cx + x * s)), int(round(cy + y * s)))  # noqa: E731
    flip = 1 if rng.random() < 0.5 else -1
    if cls == 1:  # aeroplane: fuselage, swept thin wings, tail fin
        cv2.ellipse(mask, p(0, 0), (int(0.5 * s), max(2, int(0.09 * s))), 0, 0, 360, 1, -1)
        wing = np.array([p(0.05 * flip, -0.02), p(-0.2 * flip, -0.45), p(-0.3 * flip, -0.45), p(-0.12 * flip, 0.0)])
        cv2.fillPoly(mask, [wing], 1)
        wing2 = np.array([p(0.05 * flip, 0.02), p(-0.2 * flip, 0.45), p(-0.3 * flip, 0.45), p(-0.12 * flip, 0.0)])
        cv2.fillPoly(mask, [wing2], 1)
        tail = np.array([p(-0.38 * flip, 0), p(-0.5 * flip, -0.22), p(-0.5 * flip, 0)])
        cv2.fillPoly(mask, [tail], 1)
    elif cls == 2:  # bicycle: two rings, a frame of thin bars
        r = max(3, int(0.22 * s))
        for x in (-0.3, 0.3):
            cv2.circle(mask, p(x, 0.15), r, 1, thin)
        for a, b in (((-0.3, 0.15), (0.0, 0.15)), ((0.0, 0.15), (0.2, -0.15)), ((-0.1, -0.15), (0.2, -0.15)),
                     ((-0.3, 0.15), (-0.1, -0.15)), ((0.2, -0.15), (0.3, 0.15)), ((0.2, -0.15), (0.22, -0.3))):
            cv2.line(mask, p(*a), p(*b), 1, thin)
    elif cls == 5:  # bottle: narrow body and neck
        cv2.rectangle(mask, p(-0.13, -0.1), p(0.13, 0.5), 1, -1)
        cv2.ellipse(mask, p(0, -0.1), (int(0.13 * s), int(0.08 * s)), 0, 180, 360, 1, -1)
        cv2.rectangle(mask, p(-0.05, -0.45), p(0.05, -0.1), 1, -1)
    elif cls == 7:  # car: body, cabin, round wheels (part of the car)
        cv2.rectangle(mask, p(-0.5, -0.05), p(0.5, 0.2), 1, -1)
        cabin = np.array([p(-0.3, -0.05), p(-0.18, -0.3), p(0.2, -0.3), p(0.32, -0.05)])
        cv2.fillPoly(mask, [cabin], 1)
        for x in (-0.3, 0.3):
            cv2.circle(mask, p(x, 0.22), max(2, int(0.12 * s)), 1, -1)
    elif cls == 15:  # person: head, torso, thin arms and legs
        cv2.circle(mask, p(0, -0.38), max(2, int(0.1 * s)), 1, -1)
        cv2.rectangle(mask, p(-0.1, -0.27), p(0.1, 0.1), 1, -1)
        arm = rng.uniform(-0.15, 0.15)
        for a, b in (((-0.1, -0.22), (-0.28, 0.05 + arm)), ((0.1, -0.22), (0.28, 0.05 - arm)),
                     ((-0.06, 0.1), (-0.14, 0.5)), ((0.06, 0.1), (0.14, 0.5))):
            cv2.line(mask, p(*a), p(*b), 1, thin)
    elif cls == 20:  # tvmonitor: frame, screen (both tvmonitor), small stand
        cv2.rectangle(mask, p(-0.45, -0.35), p(0.45, 0.25), 1, -1)
        cv2.rectangle(mask, p(-0.06, 0.25), p(0.06, 0.38), 1, -1)
        cv2.rectangle(mask, p(-0.2, 0.38), p(0.2, 0.44), 1, -1)
        extra = np.zeros((h, w), np.uint8)
        cv2.rectangle(extra, p(-0.37, -0.28), p(0.37, 0.18), 1, -1)
    else:  # pragma: no cover - guarded by the caller
        raise ValueError(f"class {cls} has no drawing")
    return mask.astype(bool), (extra.astype(bool) if extra is not None else None)


def draw_scene(rng: np.random.Generator | int, size: tuple[int, int] = (128, 128), *,
               max_objects: int = 4, void_radius: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic scene: a textured background with 1..``max_objects`` objects of VOC classes.

    Objects are drawn back to front (later ones occlude earlier ones) with sizes from about
    12 % to 55 % of the shorter side, so some are small; the label map gets a void band.

    Parameters
    ----------
    rng : numpy.random.Generator or int (seed)
    size : (H, W)
    max_objects : int
    void_radius : int, optional
        Half-width of the void band; default ``max(1, round(min(H, W) / 200))``.

    Returns
    -------
    image : ndarray (H, W, 3) uint8
    labels : ndarray (H, W) uint8, values in {0} | SYNTHETIC_CLASSES | {255}
    """
    import cv2

    rng = np.random.default_rng(rng)
    if len(size) != 2 or min(size) < 16:
        raise ValueError(f"size must be (H, W) with both >= 16, got {size!r}")
    h, w = int(size[0]), int(size[1])
    if void_radius is None:
        void_radius = max(1, int(round(min(h, w) / 200)))
    image = _background(rng, (h, w))
    labels = np.zeros((h, w), np.uint8)
    # background clutter (label 0): soft grey-brown blobs
    for _ in range(int(rng.integers(1, 4))):
        blob = np.zeros((h, w), np.uint8)
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(w // 16 + 1, w // 5 + 2)), int(rng.integers(h // 16 + 1, h // 5 + 2)))
        cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        image[blob.astype(bool)] = image[blob.astype(bool)] * 0.6 + rng.uniform(60, 150) * 0.4
    n_objects = int(rng.integers(1, max_objects + 1))
    short = min(h, w)
    for _ in range(n_objects):
        cls = int(rng.choice(SYNTHETIC_CLASSES))
        s = float(rng.uniform(0.22, 0.65) * short)
        cx, cy = rng.uniform(0.15 * w, 0.85 * w), rng.uniform(0.15 * h, 0.85 * h)
        mask, screen = _draw_object(rng, cls, (h, w), cx, cy, s)
        if not mask.any():
            continue
        tex = _texture(rng, cls, (h, w), s)
        image[mask] = tex[mask]
        if screen is not None:
            glow = np.asarray([120, 190, 235], np.float32) + rng.normal(0, 10, size=3)
            image[screen & mask] = glow + rng.normal(0, 8, size=(int((screen & mask).sum()), 1))
        labels[mask] = cls
    image = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.float32), (0, 0), 0.6)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), add_void_band(labels, void_radius)
