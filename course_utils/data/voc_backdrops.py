"""Backgrounds of the VOC scenes: a room (wall and floor) or outdoors (sky over grass, road or water).

:func:`draw_backdrop` paints the background (label 0 everywhere) of one setting and returns where
objects may stand: the horizon (or the foot of the wall) and, at the shore, where the water ends.
Each background has structure the network has to learn is *not* an object: a horizon, light
falling across it, wall paper, floor boards or tiles, clouds, a road with lane marks, ripples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.data.voc_looks import smooth_field

__all__ = ["SETTINGS", "Backdrop", "draw_backdrop"]

#: The settings and the classes that may appear in each (VOC class ids).
SETTINGS: dict[str, tuple[int, ...]] = {
    "indoor": (5, 8, 9, 11, 12, 15, 16, 18, 20),
    "grass": (1, 2, 3, 6, 7, 8, 10, 12, 13, 14, 15, 17, 19),
    "road": (2, 3, 6, 7, 12, 14, 15, 19),
    "water": (1, 3, 4, 12, 15),
}


@dataclass(frozen=True)
class Backdrop:
    """Where things go in a painted background (pixel rows, from the top).

    ``horizon``: where the sky (or the wall) meets the ground (or the floor).  ``shore``: below
    it the ground; between ``horizon`` and ``shore`` water (equal to ``horizon`` without water).
    ``light``: unit vector (x, y) towards the light, in image coordinates.
    """

    setting: str
    horizon: float
    shore: float
    light: tuple[float, float]


def _sky(rng: np.random.Generator, h: int, w: int, horizon: int) -> np.ndarray:
    t = np.linspace(0, 1, max(horizon, 1), dtype=np.float32)[:, None, None]
    kind = rng.integers(3)
    top, low = [((60, 110, 190), (170, 200, 230)), ((120, 125, 135), (190, 190, 195)),
                ((70, 90, 160), (240, 170, 110))][kind]
    sky = np.asarray(top, np.float32) * (1 - t) + np.asarray(low, np.float32) * t
    sky = np.broadcast_to(sky, (max(horizon, 1), w, 3)).copy()
    cloud = np.clip((smooth_field(rng, (max(horizon, 1), w), 4, sigma=1.0) - rng.uniform(0.45, 0.65)) * 3, 0, 1)
    sky = sky * (1 - 0.8 * cloud[..., None]) + 245 * 0.8 * cloud[..., None]
    if rng.random() < 0.6 and horizon > 8:  # far hills or a tree line on the horizon
        xs = np.arange(w)
        ridge = horizon - (0.1 + 0.25 * smooth_field(rng, (1, w), 3)[0]) * horizon * rng.uniform(0.2, 0.6)
        colour = np.asarray([(70, 100, 70), (100, 110, 130), (60, 80, 50)][int(rng.integers(3))], np.float32)
        below = np.arange(horizon)[:, None] >= ridge[None, xs]
        sky[below] = colour + rng.normal(0, 6, (int(below.sum()), 3))
    return sky[:horizon]


def _ground(rng: np.random.Generator, h: int, w: int, top: int, kind: str) -> np.ndarray:
    rows = h - top
    if rows <= 0:
        return np.zeros((0, w, 3), np.float32)
    yy, xx = np.mgrid[0:rows, 0:w].astype(np.float32)
    near = yy / max(rows, 1)  # 0 at the horizon, 1 at the bottom
    fine = rng.normal(0, 1, (rows, w)).astype(np.float32)
    if kind == "grass":
        base = np.asarray([(80, 130, 50), (100, 140, 60), (130, 140, 70), (70, 110, 45)][int(rng.integers(4))],
                          np.float32)
        mod = 0.85 + 0.25 * near + 0.25 * (smooth_field(rng, (rows, w), 5) - 0.5) + 0.1 * fine * near
        return base * mod[..., None]
    if kind == "road":
        verge = np.asarray([90, 125, 60], np.float32) * (0.9 + 0.15 * fine[..., None] * 0.5)
        half = (0.12 + 0.75 * near) * w / 2
        centre = w * rng.uniform(0.35, 0.65)
        on_road = np.abs(xx - centre - (w / 2 - centre) * near) < half
        asphalt = np.asarray([95, 95, 100], np.float32) * (0.9 + 0.1 * near + 0.05 * fine)[..., None]
        out = np.where(on_road[..., None], asphalt, verge)
        period = 6 + 20 * near
        dash = (np.abs(xx - centre - (w / 2 - centre) * near) < 0.6 + 1.5 * near) & \
               ((yy + 3 * yy * near) % (2 * period.mean()) < period.mean())
        out[dash] = (235, 230, 200)
        return out
    # water: ripples and a brighter band of reflected sky
    base = np.asarray([(40, 90, 140), (50, 110, 130), (30, 70, 110)][int(rng.integers(3))], np.float32)
    ripples = np.sin(yy * (0.8 + 0.7 * (1 - near)) * 2 + 3 * smooth_field(rng, (rows, w), 6)) * (0.08 + 0.04 * near)
    return base * (1.2 - 0.35 * near + ripples)[..., None]


def _room(rng: np.random.Generator, h: int, w: int, floor: int, light: tuple[float, float]) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wall = np.asarray([(225, 215, 190), (200, 210, 215), (230, 200, 170), (190, 200, 175), (240, 235, 225)]
                      [int(rng.integers(5))], np.float32)
    out = np.broadcast_to(wall, (h, w, 3)).astype(np.float32).copy()
    if rng.random() < 0.4:  # striped wall paper
        out *= (1 + 0.06 * np.sign(np.sin(2 * np.pi * xx / rng.uniform(6, 14))))[..., None]
    if rng.random() < 0.5 and floor > 16:  # a window or a picture on the wall
        x0, y0 = int(rng.uniform(0.05, 0.6) * w), int(rng.uniform(0.05, 0.3) * floor)
        x1, y1 = x0 + int(rng.uniform(0.15, 0.35) * w), y0 + int(rng.uniform(0.3, 0.6) * floor)
        inner = np.asarray([(150, 190, 230), (90, 120, 80), (180, 120, 90)][int(rng.integers(3))], np.float32)
        out[y0:y1, x0:x1] = (110, 85, 60)
        out[y0 + 2:y1 - 2, x0 + 2:x1 - 2] = inner * (0.9 + 0.2 * smooth_field(rng, (max(y1 - y0 - 4, 1),
                                                                            max(x1 - x0 - 4, 1)), 2)[..., None])
    fl = np.asarray([(150, 100, 60), (120, 80, 50), (190, 180, 165), (110, 110, 120), (170, 130, 90)]
                    [int(rng.integers(5))], np.float32)
    rows = h - floor
    if rows > 0:
        y, x = yy[floor:] - floor, xx[floor:]
        near = y / rows
        kind = rng.integers(3)
        if kind == 0:  # boards running away from the viewer
            u = (x - w / 2) / (0.3 + 0.7 * near)
            mod = 1 + 0.08 * np.sign(np.sin(2 * np.pi * u / (w / 6)))
        elif kind == 1:  # tiles
            u = (x - w / 2) / (0.3 + 0.7 * near)
            grout = (np.abs(np.sin(np.pi * u / (w / 5))) < 0.08) | (np.abs(np.sin(np.pi * near ** 0.7 * 4)) < 0.08)
            mod = np.where(grout, 0.75, 1.0)
        else:  # carpet
            mod = 1 + 0.1 * (smooth_field(rng, (rows, w), 8) - 0.5)
        out[floor:] = fl * (mod * (0.85 + 0.25 * near))[..., None] + 6 * rng.normal(0, 1, (rows, w, 1))
        out[max(floor - max(1, h // 60), 0):floor] = (240, 240, 235) if rng.random() < 0.5 else (90, 65, 45)
    glow = np.exp(-(((xx / w - 0.5 - 0.6 * light[0]) ** 2) + ((yy / h - 0.5 - 0.6 * light[1]) ** 2)) / 0.25)
    return out * (0.75 + 0.4 * glow)[..., None]


def draw_backdrop(rng: np.random.Generator, size: tuple[int, int], setting: str) -> tuple[np.ndarray, Backdrop]:
    """Paint the background of one ``setting`` (a key of :data:`SETTINGS`).

    Returns
    -------
    image : ndarray (H, W, 3) float32, RGB in [0, 255] (not clipped)
    backdrop : Backdrop
    """
    h, w = size
    a = rng.uniform(0.2, 0.8) * np.pi
    light = (float(np.cos(a)) * (1 if rng.random() < 0.5 else -1), -float(np.sin(a)))
    if setting == "indoor":
        floor = int(round(rng.uniform(0.45, 0.7) * h))
        return _room(rng, h, w, floor, light).astype(np.float32), Backdrop(setting, floor, floor, light)
    horizon = int(round(rng.uniform(0.3, 0.55) * h))
    image = np.zeros((h, w, 3), np.float32)
    image[:horizon] = _sky(rng, h, w, horizon)
    if setting == "water":
        shore = int(round(horizon + rng.uniform(0.55, 0.85) * (h - horizon)))
        image[horizon:shore] = _ground(rng, shore, w, horizon, "water")
        sand = np.asarray([(200, 185, 150), (110, 140, 70)][int(rng.integers(2))], np.float32)
        image[shore:] = sand * (0.9 + 0.1 * rng.normal(0, 1, (h - shore, w, 1)))
        return image, Backdrop(setting, horizon, shore, light)
    image[horizon:] = _ground(rng, h, w, horizon, setting)
    return image, Backdrop(setting, horizon, horizon, light)
