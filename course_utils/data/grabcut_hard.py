"""Images where GrabCut's rectangle alone fails, with exact masks: the cases corrections exist for.

Rother et al. (2004, section 3.1) add *user editing* because colour models plus a
boundary cost cannot separate every object from its surroundings. Three kinds of
failure, each generated procedurally with its exact mask and the rectangle a user
would draw (:func:`course_utils.data.grabcut_synth.rect_around`):

* ``"background colours inside"``: the object carries large patches of the
  background's own colour (a coat with a pattern in the wall's colour); the colour
  models give those patches to the background;
* ``"thin parts"``: a body with long thin limbs of its colour; cutting a limb off costs
  less boundary than following it, so the smoothness term removes it;
* ``"camouflage"``: the object is painted with the background's colours, only slightly
  shifted; neither colour model can tell them apart.

Every image has noise and a smooth illumination gradient, so no colour is exactly
repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils._shared import as_generator, check_choice, check_int
from course_utils.data.grabcut_synth import rect_around

__all__ = ["HARD_KINDS", "HardCase", "make_hard_case", "hard_cases"]

HARD_KINDS = ("background colours inside", "thin parts", "camouflage")


@dataclass(frozen=True)
class HardCase:
    """One hard image: ``image`` (H, W, 3) uint8, exact ``mask`` (H, W) bool, ``rect`` (x, y, w, h), its ``kind``."""

    name: str
    kind: str
    image: np.ndarray
    mask: np.ndarray
    rect: tuple[int, int, int, int]


def _ellipse(yy, xx, cy, cx, ry, rx, angle=0.0):
    c, s = np.cos(angle), np.sin(angle)
    y, x = yy - cy, xx - cx
    return ((c * x + s * y) / rx) ** 2 + ((-s * x + c * y) / ry) ** 2 <= 1.0


def _segment(yy, xx, p0, p1, half_width):
    (y0, x0), (y1, x1) = p0, p1
    d = np.array([y1 - y0, x1 - x0], float)
    t = np.clip(((yy - y0) * d[0] + (xx - x0) * d[1]) / (d @ d), 0, 1)
    return (yy - (y0 + t * d[0])) ** 2 + (xx - (x0 + t * d[1])) ** 2 <= half_width**2


def _stripes(yy, xx, rng, period):
    angle = rng.uniform(0, np.pi)
    return (np.sin((np.cos(angle) * xx + np.sin(angle) * yy) * 2 * np.pi / period) > 0)


def make_hard_case(kind: str, rng=0, *, size: int = 112, name: str = "hard") -> HardCase:
    """One image of the given ``kind`` (see :data:`HARD_KINDS`).

    Parameters
    ----------
    kind : str
        One of :data:`HARD_KINDS`.
    rng : int or numpy.random.Generator
    size : int
        Side of the square image (at least 48).
    name : str

    Returns
    -------
    HardCase
    """
    kind = check_choice(kind, "kind", HARD_KINDS)
    size = check_int(size, "size", 48)
    rng = as_generator(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    c = size / 2 + rng.uniform(-0.05, 0.05, 2) * size
    bg_a, bg_b = rng.uniform(40, 215, 3), rng.uniform(40, 215, 3)
    stripes = _stripes(yy, xx, rng, rng.uniform(10, 16) * size / 112)
    background = np.where(stripes[..., None], bg_a, bg_b)
    if kind == "background colours inside":
        mask = _ellipse(yy, xx, c[0], c[1], 0.30 * size, 0.24 * size, rng.uniform(0, np.pi))
        obj = np.clip(255 - (bg_a + bg_b) / 2 + rng.uniform(-20, 20, 3), 20, 235)
        patches = np.zeros_like(mask)
        for _ in range(3):
            py, px = c + rng.uniform(-0.15, 0.15, 2) * size
            patches |= _ellipse(yy, xx, py, px, 0.08 * size, 0.10 * size, rng.uniform(0, np.pi))
        paint = np.where(patches[..., None], bg_a, obj)
    elif kind == "thin parts":
        body = _ellipse(yy, xx, c[0], c[1], 0.14 * size, 0.18 * size)
        limbs = np.zeros_like(body)
        for angle in rng.uniform(0, 2 * np.pi, 1) + np.arange(4) * np.pi / 2 + rng.uniform(-0.3, 0.3, 4):
            end = c + 0.42 * size * np.array([np.sin(angle), np.cos(angle)])
            limbs |= _segment(yy, xx, c, end, 0.7 * size / 112)
        mask = body | limbs
        obj = np.clip(255 - (bg_a + bg_b) / 2 + rng.uniform(-20, 20, 3), 20, 235)
        limb_colour = 0.4 * obj + 0.6 * (bg_a + bg_b) / 2  # thin and faint: antennae, whiskers, cables
        paint = np.where((limbs & ~body)[..., None], limb_colour, obj)
    else:  # camouflage: the background's two colours, shifted a little, in stripes of another angle and period
        mask = _ellipse(yy, xx, c[0], c[1], 0.28 * size, 0.22 * size, rng.uniform(0, np.pi))
        shift = rng.normal(size=3)
        shift *= 14 / np.linalg.norm(shift)
        own = _stripes(yy, xx, rng, rng.uniform(6, 9) * size / 112)
        paint = np.where(own[..., None], bg_a + shift, bg_b + shift)
    image = np.where(mask[..., None], paint, background)
    image = image + 25 * (xx / size - 0.5)[..., None] * rng.uniform(-1, 1, 3) + rng.normal(0, 6, image.shape)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return HardCase(name, kind, image, mask, rect_around(mask))


def hard_cases(per_kind: int = 2, *, size: int = 112, seed: int = 0) -> list[HardCase]:
    """``per_kind`` images of every kind in :data:`HARD_KINDS`, named ``hard_<k>``, fixed seeds."""
    per_kind = check_int(per_kind, "per_kind", 1)
    cases = []
    for k, kind in enumerate(HARD_KINDS):
        for i in range(per_kind):
            cases.append(make_hard_case(kind, np.random.default_rng([seed, k, i]), size=size,
                                        name=f"hard_{len(cases)}"))
    return cases
