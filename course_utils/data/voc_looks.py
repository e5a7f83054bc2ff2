"""How the objects of the VOC scenes look: colours per class and part, textures, shading.

:func:`paint_object` colours one rasterised object (a map of its part ids, from
:mod:`course_utils.data.voc_shapes`): each part gets a colour drawn from its class's choices, a
texture (fur, wool, wood grain, metal sheen, glass highlights, leaves, fabric, a picture on a
screen) and a shading that makes it look solid: brighter towards the scene's light, darker
near its outline.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["paint_object", "smooth_field"]

RGB = tuple[int, int, int]
# part -> (colour choices, texture); a colour may be ("like", other part, factor)
_COMMON: dict[str, tuple[list, str]] = {
    "tyre": ([(28, 28, 30), (45, 42, 40)], "plain"),
    "hub": ([(165, 165, 170), (120, 120, 128)], "metal"),
    "window": ([(55, 75, 95), (35, 45, 60), (80, 105, 125)], "glass"),
    "light": ([(250, 240, 190), (255, 250, 230)], "plain"),
    "chrome": ([(190, 190, 198)], "metal"),
    "eye": ([(18, 18, 18)], "plain"),
    "nose": ([(45, 32, 32), (200, 140, 140)], "plain"),
    "hoof": ([(45, 38, 32)], "plain"),
    "stripe": ([(210, 40, 40), (30, 70, 170), (240, 200, 40), (240, 240, 240), (30, 140, 80)], "plain"),
    "under": ([(45, 45, 50)], "plain"),
    "leg": ([(45, 38, 36), (70, 60, 55)], "plain"),
    "ear": ([("like", "body", 0.75)], "fur"),
    "wing": ([("like", "body", 0.7)], "feather"),
    "screen": ([(90, 150, 210), (60, 90, 140), (140, 170, 200)], "screen"),
    "frame": ([(25, 25, 28), (60, 60, 65), (170, 170, 175)], "metal"),
}
_LOOKS: dict[int, dict[str, tuple[list, str]]] = {
    1: {"body": ([(232, 234, 240), (205, 210, 220), (245, 245, 245), (180, 190, 205)], "metal"),
        "tail": ([(200, 30, 40), (30, 60, 160), (240, 240, 240), (240, 150, 30)], "plain"),
        "engine": ([(150, 155, 165)], "metal")},
    2: {"frame": ([(200, 30, 30), (30, 90, 200), (25, 25, 25), (230, 200, 40), (40, 150, 70), (230, 230, 230)],
                  "metal"),
        "saddle": ([(30, 25, 25), (90, 60, 40)], "plain")},
    3: {"body": ([(120, 90, 60), (60, 60, 65), (230, 230, 225), (200, 70, 40), (240, 200, 40), (70, 110, 170),
                  (150, 140, 120)], "feather"),
        "beak": ([(240, 170, 40), (60, 50, 40), (230, 200, 60)], "plain"),
        "leg": ([(200, 140, 60), (60, 50, 45)], "plain")},
    4: {"hull": ([(240, 240, 240), (200, 40, 35), (30, 60, 130), (40, 40, 45), (150, 90, 50)], "plain"),
        "cabin": ([(235, 235, 230), (200, 200, 195)], "plain"),
        "sail": ([(245, 242, 230), (230, 225, 210), (220, 80, 60)], "fabric"),
        "mast": ([(120, 90, 60), (170, 170, 175)], "plain")},
    5: {"glass": ([(40, 120, 60), (110, 60, 20), (150, 190, 210), (30, 80, 40)], "glass"),
        "cap": ([(210, 180, 60), (200, 40, 40), (235, 235, 235), (40, 40, 40)], "metal"),
        "label": ([(240, 235, 220), (200, 40, 40), (240, 220, 120), (30, 60, 120)], "plain")},
    6: {"body": ([(240, 190, 40), (200, 40, 40), (235, 235, 235), (40, 90, 180), (40, 140, 80)], "metal")},
    7: {"body": ([(200, 30, 35), (30, 60, 160), (230, 230, 230), (30, 30, 35), (150, 155, 160), (240, 200, 40),
                  (40, 120, 70)], "metal")},
    8: {"body": ([(120, 120, 125), (215, 140, 60), (35, 32, 32), (235, 230, 220), (130, 100, 70)], "tabby"),
        "ear": ([(230, 160, 160)], "plain"), "eye": ([(140, 170, 60), (210, 180, 50)], "plain"),
        "nose": ([(220, 140, 140)], "plain")},
    9: {"wood": ([(130, 80, 40), (90, 55, 30), (180, 130, 80), (40, 40, 40), (230, 230, 225)], "wood"),
        "seat": ([("like", "wood", 1.1), (160, 40, 40), (50, 90, 150), (60, 110, 60)], "fabric")},
    10: {"body": ([(245, 245, 240), (120, 70, 40), (60, 45, 40)], "patches"),
         "face": ([("like", "body", 1.0)], "patches"), "udder": ([(230, 170, 160)], "plain"),
         "horn": ([(225, 215, 190)], "plain"), "nose": ([(220, 160, 150), (50, 40, 40)], "plain")},
    11: {"wood": ([(130, 80, 40), (90, 55, 30), (180, 130, 80), (60, 40, 25)], "wood"),
         "top": ([("like", "wood", 1.15)], "wood"),
         "cloth": ([(245, 245, 240), (200, 50, 50), (220, 200, 150), (90, 130, 180)], "fabric")},
    12: {"body": ([(140, 90, 45), (200, 160, 90), (30, 28, 28), (235, 230, 220), (110, 105, 100),
                   (170, 110, 60)], "fur")},
    13: {"body": ([(120, 70, 40), (150, 85, 40), (40, 35, 35), (210, 205, 195), (90, 60, 40)], "fur"),
         "mane": ([("like", "body", 0.5), (30, 25, 25), (230, 220, 190)], "fur")},
    14: {"body": ([(200, 30, 30), (25, 25, 28), (30, 70, 180), (240, 140, 20), (230, 230, 230)], "metal"),
         "engine": ([(110, 110, 115)], "metal"), "seat": ([(28, 25, 25)], "plain")},
    15: {"skin": ([(240, 200, 170), (210, 160, 120), (170, 115, 80), (110, 70, 45)], "plain"),
         "hair": ([(30, 25, 20), (90, 60, 30), (200, 170, 100), (120, 120, 120), (150, 70, 30)], "fur"),
         "shirt": ([(200, 40, 40), (40, 80, 170), (240, 240, 240), (40, 140, 80), (240, 190, 40), (30, 30, 35),
                    (200, 110, 170), (240, 140, 40)], "fabric"),
         "trousers": ([(40, 60, 110), (30, 30, 35), (170, 150, 110), (110, 110, 115), (70, 50, 40)], "fabric"),
         "shoe": ([(25, 22, 20), (240, 240, 240), (90, 50, 30)], "plain")},
    16: {"leaf": ([(50, 130, 50), (80, 150, 40), (30, 100, 60), (100, 140, 60)], "leaf"),
         "pot": ([(180, 90, 50), (230, 230, 225), (60, 90, 150), (150, 110, 70)], "plain"),
         "rim": ([("like", "pot", 0.85)], "plain"),
         "flower": ([(220, 40, 60), (245, 210, 40), (240, 140, 180), (250, 250, 250), (150, 60, 180)], "plain")},
    17: {"wool": ([(230, 225, 210), (215, 210, 195), (200, 195, 180)], "wool"),
         "face": ([(40, 35, 35), (225, 215, 200), (90, 70, 55)], "plain")},
    18: {"fabric": ([(170, 40, 40), (50, 80, 140), (120, 120, 125), (200, 185, 150), (60, 110, 70), (90, 55, 35)],
                    "fabric"),
         "cushion": ([("like", "fabric", 1.25)], "fabric"), "leg": ([(60, 40, 25)], "wood")},
    19: {"body": ([(235, 235, 235), (200, 40, 40), (30, 70, 160), (240, 200, 40), (170, 175, 180),
                   (40, 110, 70)], "metal")},
    20: {},
}


@functools.lru_cache(maxsize=16)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy.flags.writeable = xx.flags.writeable = False
    return yy, xx


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: int, sigma: float = 0.0) -> np.ndarray:
    """Smooth random field in [0, 1] with about ``cells`` bumps across the shorter side."""
    import cv2

    h, w = shape
    k = max(2, int(cells))
    small = rng.random((k * h // min(h, w) + 1, k * w // min(h, w) + 1)).astype(np.float32)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    if sigma:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    return out


def _texture(kind: str, rng: np.random.Generator, shape: tuple[int, int], size: float, colour: np.ndarray,
             ) -> np.ndarray:
    """(H, W, 3) float RGB: ``colour`` modulated by the texture ``kind``; ``size`` the object's height in pixels."""
    import cv2

    h, w = shape
    yy, xx = _grid(h, w)
    fine = rng.normal(0, 1, (h, w)).astype(np.float32)
    mod = np.ones((h, w), np.float32)
    cells = max(3.0, size / 6)
    if kind == "fur":
        streak = cv2.GaussianBlur(fine, (0, 0), sigmaX=2.0, sigmaY=0.6)
        mod += 0.35 * streak + 0.25 * (smooth_field(rng, shape, cells / 3) - 0.5)
    elif kind == "tabby":
        a = rng.uniform(0, np.pi)
        mod += 0.22 * np.sin(2 * np.pi * (xx * np.cos(a) + yy * np.sin(a)) / max(3.0, size / 8)) \
            + 0.25 * cv2.GaussianBlur(fine, (0, 0), 1.0)
    elif kind == "feather":
        mod += 0.2 * cv2.GaussianBlur(fine, (0, 0), 0.8) + 0.2 * (smooth_field(rng, shape, cells / 3) - 0.5)
    elif kind == "wool":
        mod += 0.45 * cv2.GaussianBlur(fine, (0, 0), max(0.8, size / 60))
    elif kind == "patches":  # black-and-white coats: blotches of a second colour
        blot = smooth_field(rng, shape, max(2.0, 128 / max(size, 1) * 1.5), sigma=0.5) > rng.uniform(0.5, 0.65)
        second = np.array([30, 28, 28] if colour.mean() > 128 else [240, 238, 232], np.float32)
        out = np.where(blot[..., None], second, colour)
        return out * (1 + 0.12 * cv2.GaussianBlur(fine, (0, 0), 1.0))[..., None]
    elif kind == "wood":
        warp = 6 * smooth_field(rng, shape, 3)
        mod += 0.18 * np.sin(2 * np.pi * (yy + warp) / max(2.5, size / 14)) + 0.08 * fine
    elif kind == "metal":
        a = rng.uniform(-0.5, 0.5)
        band = np.exp(-(((yy - h * rng.uniform(0.2, 0.8)) + a * (xx - w / 2)) / max(2.0, size / 5)) ** 2)
        mod += 0.35 * band + 0.03 * fine
    elif kind == "glass":
        band = np.exp(-((xx - w * rng.uniform(0.2, 0.8)) / max(1.5, size / 25)) ** 2)
        mod += 0.8 * band + 0.04 * fine
    elif kind == "leaf":
        mod += 0.35 * (smooth_field(rng, shape, cells) - 0.5) + 0.15 * cv2.GaussianBlur(fine, (0, 0), 0.7)
    elif kind == "fabric":
        mod += 0.05 * np.sin(xx * 2.2) * np.sin(yy * 2.2) + 0.12 * (smooth_field(rng, shape, cells / 2) - 0.5) \
            + 0.05 * fine
    elif kind == "screen":  # a picture on the screen: a few soft coloured blocks on a bright gradient
        pic = colour + 60 * (1 - yy / h)[..., None]
        for _ in range(int(rng.integers(2, 5))):
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            pic[y0:y0 + int(rng.integers(4, max(5, h // 6))), x0:x0 + int(rng.integers(4, max(5, w // 6)))] = \
                rng.uniform(20, 255, 3)
        return cv2.GaussianBlur(pic.astype(np.float32), (0, 0), max(0.8, size / 40))
    else:  # plain
        mod += 0.04 * fine
    return colour * mod[..., None]


def _choose(rng: np.random.Generator, cls: int, parts: list[str]) -> dict[str, tuple[np.ndarray, str]]:
    looks = {**_COMMON, **_LOOKS[cls]}
    chosen: dict[str, tuple[np.ndarray, str]] = {}
    pending = list(parts)
    while pending:  # parts coloured "like" another part wait for it
        name = pending.pop(0)
        choices, kind = looks.get(name, looks.get("body", _COMMON["frame"]))
        c = choices[int(rng.integers(len(choices)))]
        if isinstance(c[0], str):
            _, other, factor = c
            if other not in chosen:
                if other not in pending:
                    pending.append(other)
                pending.append(name)
                continue
            colour = np.clip(chosen[other][0] * factor, 0, 255)
        else:
            colour = np.clip(np.asarray(c, np.float64) + rng.normal(0, 10, 3), 0, 255)
        chosen[name] = (colour.astype(np.float32), kind)
    return chosen


def paint_object(rng: np.random.Generator, cls: int, parts: list[str], part_map: np.ndarray, *,
                 light: tuple[float, float], size: float) -> np.ndarray:
    """The colours of one object, shaded and textured.

    Parameters
    ----------
    rng : numpy.random.Generator
    cls : int
        VOC class id 1..20.
    parts : list of str
        Part names; ``part_map == k`` is part ``parts[k - 1]``.
    part_map : ndarray (H, W) uint8
        0 outside the object.
    light : (float, float)
        Unit vector (x, y) in image coordinates pointing towards the light.
    size : float
        The object's height in pixels (sets the texture scale).

    Returns
    -------
    ndarray (H, W, 3) float32
        RGB in [0, 255]; meaningful where ``part_map > 0``.
    """
    import cv2

    colours = _choose(rng, cls, parts)
    full = np.zeros((*part_map.shape, 3), np.float32)
    ys, xs = np.nonzero(part_map)
    if not len(ys):
        return full
    y0, x0 = max(int(ys.min()) - 1, 0), max(int(xs.min()) - 1, 0)
    crop = part_map[y0:int(ys.max()) + 2, x0:int(xs.max()) + 2]  # the work is done on the object's box
    h, w = crop.shape
    out = full[y0:y0 + h, x0:x0 + w]
    for k, name in enumerate(parts, start=1):
        where = crop == k
        if where.any():
            colour, kind = colours[name]
            out[where] = _texture(kind, rng, (h, w), size, colour)[where]
    mask = (crop > 0).astype(np.uint8)
    cy, cx = ys.mean() - y0, xs.mean() - x0
    yy, xx = _grid(h, w)
    towards = ((xx - cx) * light[0] + (yy - cy) * light[1]) / max(size / 2, 1.0)
    depth = cv2.distanceTransform(mask, cv2.DIST_L2, 3) / max(1.0, 0.12 * size)
    shade = (0.75 + 0.25 * np.sqrt(np.clip(depth, 0, 1))) * (1 + 0.22 * np.clip(towards, -1.5, 1.5))
    out *= shade[..., None]
    return np.clip(full, 0, 255)
