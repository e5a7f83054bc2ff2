"""MiniCity: procedural driving scenes written in the exact Cityscapes layout.

Cityscapes (Cordts et al., *The Cityscapes Dataset for Semantic Urban Scene
Understanding*, CVPR 2016) cannot be downloaded without an account, so the
course generates a small stand-in with the same files, names, label ids,
colours and instance encoding::

    <root>/leftImg8bit/{train,val}/{city}/{city}_{seq:06d}_{frame:06d}_leftImg8bit.png   RGB uint8
    <root>/gtFine/{split}/{city}/{city}_{seq:06d}_{frame:06d}_gtFine_labelIds.png        uint8 label ids
    <root>/gtFine/{split}/{city}/..._gtFine_color.png                                    RGBA label colours
    <root>/gtFine/{split}/{city}/..._gtFine_instanceIds.png                              uint16, id*1000+k
    <root>/gtFine/{split}/{city}/..._gtFine_polygons.json                                the drawn polygons

Label ids, names and colours come from the official
``cityscapesscripts.helpers.labels`` table, so ``torchvision.datasets.Cityscapes``
and the official evaluation read MiniCity unchanged.

A scene is a street seen by a camera 1.2-1.6 m above a (possibly curving)
road, projected with a pinhole model (``x = cx + f X / Z``, ``y = cy + f (h - Y) / Z``)
so that the road, the sidewalks and the façades run to a vanishing point.
It holds buildings with windows (and sometimes a distant skyline), sky with
clouds, trees, hedges, grass verges, walls, fences, poles, street lights,
traffic signs and lights, cars, trucks, buses, trams on rails, pedestrians,
cyclists and motorcyclists (riders), parked bicycles, and void classes
(ego vehicle, parking, static objects, guard rails, bridges) that evaluation
ignores. Objects are painted far to near. Textures, shadows, weather (sunny,
overcast, dusk), exposure, white balance, blur and sensor noise vary from
image to image, so a pixel's colour alone does not give its class, and thin
structures (poles, bicycle frames, fences) and boundaries matter.

Every image is determined by ``(seed, split, index)``; quick (256 x 512) and
full (1024 x 2048) sizes show the same scene at two resolutions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course_utils.cli import atomic_file, check_output_folder, write_text_atomic
from course_utils.config import SETTINGS
from course_utils.env import cpu_cores, is_full_mode
from course_utils.paths import data_root

__all__ = [
    "QUICK_SIZE",
    "FULL_SIZE",
    "CITIES",
    "FRAME",
    "Scene",
    "render_scene",
    "scene_rng",
    "minicity_stem",
    "write_minicity",
    "minicity_root",
    "default_params",
    "prepare_offline",
    "GENERATOR_VERSION",
    "COURSE_MINICITY",
    "course_minicity_root",
    "course_minicity_val_root",
    "heldout_frames",
]

QUICK_SIZE: tuple[int, int] = (256, 512)
FULL_SIZE: tuple[int, int] = (1024, 2048)
#: Made-up city names (no underscores: Cityscapes file names are split on "_").
CITIES: dict[str, tuple[str, ...]] = {"train": ("aurora", "bayside", "cedarfield"), "val": ("dunmore", "elmhurst")}
#: Cityscapes' fine annotations are of the 20th frame of each 30-frame snippet.
FRAME = 19

_MANIFEST = "minicity.json"
_CLAIM = ".minicity-claim.json"  # written first: which parameters this folder is being filled with
_GENERATOR = "minicity-2"  # bumped whenever the drawing changes: older folders are refused, not mixed
#: The generator's version (recorded with the datasets and the checkpoints trained on them).
GENERATOR_VERSION = _GENERATOR
#: The MiniCity the course's DeepLab checkpoints were trained on (:mod:`course_utils.checkpoints`).
COURSE_MINICITY: dict = {"train_images": 1000, "val_images": 200, "size": (256, 512), "seed": 0}
_SPLIT_INDEX = {"train": 0, "val": 1}


# --------------------------------------------------------------------------- label table


def _label_table():
    from cityscapesscripts.helpers.labels import labels

    return {lab.name: lab for lab in labels if lab.id >= 0}


_LABELS = None


def _lab(name: str):
    global _LABELS
    if _LABELS is None:
        _LABELS = _label_table()
    return _LABELS[name]


def _color_lut() -> np.ndarray:
    """(256, 4) uint8: label id -> RGBA colour of ``*_gtFine_color.png``."""
    global _LABELS
    if _LABELS is None:
        _LABELS = _label_table()
    lut = np.zeros((256, 4), np.uint8)
    lut[:, 3] = 255
    for lab in _LABELS.values():
        lut[lab.id, :3] = lab.color
    return lut


# --------------------------------------------------------------------------- scene data


@dataclass
class Scene:
    """One rendered MiniCity frame.

    Attributes
    ----------
    image : ndarray, (H, W, 3) uint8
        The RGB camera image.
    label_ids : ndarray, (H, W) uint8
        Cityscapes label ids (0 = unlabeled ... 33 = bicycle).
    instance_ids : ndarray, (H, W) uint16
        ``label_id * 1000 + k`` on objects of classes with instances (k = 0, 1, ...
        per class), the label id elsewhere (Cityscapes' encoding).
    polygons : list of dict
        ``{"label": name, "polygon": [[x, y], ...]}`` in drawing order (later
        ones cover earlier ones), as in ``*_gtFine_polygons.json``.
    """

    image: np.ndarray
    label_ids: np.ndarray
    instance_ids: np.ndarray
    polygons: list = field(default_factory=list)

    @property
    def color(self) -> np.ndarray:
        """``(H, W, 4)`` uint8 RGBA label colours (``*_gtFine_color.png``)."""
        return _color_lut()[self.label_ids]

    def polygons_json(self) -> dict:
        """The ``*_gtFine_polygons.json`` content."""
        h, w = self.label_ids.shape
        return {"imgHeight": h, "imgWidth": w, "objects": self.polygons}


@dataclass
class _Camera:
    width: int
    height: int
    f: float  # focal length (pixels)
    cx: float  # x of the vanishing point
    cy: float  # y of the horizon
    h: float  # camera height above the road (metres)
    curve: float  # lateral bend of the street: X shifts by curve * Z**2

    def project(self, x, y, z):
        """World (X right, Y up, Z forward; metres) -> pixel (x, y) arrays, shape (..., 2)."""
        z = np.maximum(np.asarray(z, float), 0.05)
        px = self.cx + self.f * (np.asarray(x, float) + self.curve * z * z) / z
        py = self.cy + self.f * (self.h - np.asarray(y, float)) / z
        px, py = np.broadcast_arrays(px, py)
        return np.stack([px, py], axis=-1)

    def scale(self, z: float) -> float:
        """Pixels per metre at depth ``z``."""
        return self.f / max(z, 0.05)

    @property
    def z_bottom(self) -> float:
        """Depth of the ground seen at 1.6 image heights (safely below the bottom edge)."""
        return self.f * self.h / (1.6 * self.height - self.cy)


class _Canvas:
    """Label, instance and image maps drawn with ``cv2.fillPoly`` (sub-pixel precision)."""

    _SHIFT = 3

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self.image = np.zeros((height, width, 3), np.uint8)
        self.labels = np.zeros((height, width), np.uint8)
        self.instances = np.zeros((height, width), np.uint16)
        self.shade = np.ones((height, width), np.float32)
        self.polygons: list[dict] = []
        self._next_instance: dict[int, int] = {}

    def new_instance(self, name: str) -> int:
        lab = _lab(name)
        if not lab.hasInstances:
            return lab.id
        k = self._next_instance.get(lab.id, 0)
        self._next_instance[lab.id] = k + 1
        return lab.id * 1000 + k

    def _visible(self, pts: np.ndarray) -> bool:
        if len(pts) < 3 or not np.isfinite(pts).all():
            return False
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return not (hi[0] < -1 or hi[1] < -1 or lo[0] > self.width or lo[1] > self.height)

    def _int(self, pts: np.ndarray) -> np.ndarray:
        pts = np.clip(pts, -8 * self.width, 8 * self.width)  # far outside: harmless, keeps int32 safe
        return np.round(pts * (1 << self._SHIFT)).astype(np.int32).reshape(-1, 1, 2)

    def fill(self, pts: np.ndarray, name: str, color, instance: int | None = None) -> None:
        """Draw a labelled polygon ``pts`` (N, 2) into all maps and record it."""
        import cv2

        pts = np.asarray(pts, float)
        if len(pts) < 3 or not self._visible(pts):
            return
        p = self._int(pts)
        lab = _lab(name)
        cv2.fillPoly(self.labels, [p], int(lab.id), cv2.LINE_8, self._SHIFT)
        cv2.fillPoly(self.instances, [p], int(lab.id if instance is None else instance), cv2.LINE_8, self._SHIFT)
        cv2.fillPoly(self.image, [p], _rgb(color), cv2.LINE_AA, self._SHIFT)
        self.polygons.append({"label": name, "polygon": np.round(pts).astype(int).tolist()})

    def paint(self, polys, color) -> None:
        """Draw image-only polygons (windows, markings, lamps): the labels do not change."""
        import cv2

        polys = [np.asarray(p, float) for p in polys]
        polys = [self._int(p) for p in polys if len(p) >= 3 and self._visible(p)]
        if polys:
            cv2.fillPoly(self.image, polys, _rgb(color), cv2.LINE_AA, self._SHIFT)

    def lines(self, polylines, color, thickness: int = 1) -> None:
        """Image-only poly-lines."""
        import cv2

        polylines = [self._int(np.asarray(p, float)) for p in polylines if len(p) >= 2]
        if polylines:
            cv2.polylines(self.image, polylines, False, _rgb(color), thickness, cv2.LINE_AA, self._SHIFT)

    def darken(self, pts: np.ndarray, factor: float) -> None:
        """Multiply the final image by ``factor`` inside ``pts`` (a cast shadow)."""
        import cv2

        pts = np.asarray(pts, float)
        if len(pts) >= 3 and self._visible(pts):
            cv2.fillPoly(self.shade, [self._int(pts)], float(factor), cv2.LINE_8, self._SHIFT)


def _rgb(color) -> tuple[int, int, int]:
    c = np.clip(np.asarray(color, float), 0, 255)
    return (int(c[0]), int(c[1]), int(c[2]))


def _jitter(rng: np.random.Generator, color, amount: float = 18.0) -> np.ndarray:
    return np.clip(np.asarray(color, float) + rng.normal(0, amount, 3), 0, 255)


def _shaded(color, factor: float) -> np.ndarray:
    return np.clip(np.asarray(color, float) * factor, 0, 255)


def _circle(cx: float, cy: float, rx: float, ry: float | None = None, n: int = 16, rng=None, wobble: float = 0.0):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n) if rng is None or wobble == 0 else 1 + wobble * rng.uniform(-1, 1, n)
    ry = rx if ry is None else ry
    return np.stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)], axis=1)


def _segment(p0, p1, width: float) -> np.ndarray:
    """A quad of ``width`` (pixels) around the segment p0-p1: a thin structure as a polygon."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    n = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-9) * (width / 2)
    return np.array([p0 + n, p1 + n, p1 - n, p0 - n])


def _ring(cx: float, cy: float, r: float, width: float, n: int = 14) -> list[np.ndarray]:
    t = np.linspace(0, 2 * np.pi, n + 1)
    pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)
    return [_segment(pts[i], pts[i + 1], width) for i in range(n)]


# --------------------------------------------------------------------------- palettes

_BUILDING_COLORS = [(205, 185, 150), (160, 80, 60), (140, 140, 140), (190, 190, 185), (215, 205, 180),
                    (120, 110, 100), (175, 150, 120), (200, 160, 140), (150, 160, 170), (95, 95, 100)]
_CAR_COLORS = [(20, 20, 22), (230, 230, 230), (140, 140, 145), (180, 182, 185), (150, 20, 20),
               (30, 50, 120), (60, 70, 60), (90, 90, 95), (200, 170, 40), (110, 30, 40)]
_BUS_COLORS = [(230, 190, 30), (200, 40, 40), (235, 235, 235), (40, 90, 170), (60, 140, 80)]
_CLOTHES = [(30, 30, 35), (200, 200, 200), (40, 60, 120), (120, 30, 30), (90, 80, 60), (60, 100, 60),
            (170, 120, 60), (150, 150, 160), (20, 30, 60), (180, 60, 110)]
_SKIN = [(230, 190, 160), (200, 150, 110), (140, 95, 65), (90, 60, 40)]


# --------------------------------------------------------------------------- the scene


class _Street:
    """Random street layout for one frame; ``render`` paints it."""

    def __init__(self, rng: np.random.Generator, size: tuple[int, int]) -> None:
        self.rng = rng
        h, w = size
        self.size = size
        self.px = w / 512.0  # 1 at quick size
        self.cam = _Camera(
            width=w, height=h, f=w * rng.uniform(0.62, 0.95), cx=w * (0.5 + rng.uniform(-0.09, 0.09)),
            cy=h * rng.uniform(0.36, 0.48), h=rng.uniform(1.2, 1.6),
            curve=rng.uniform(-0.0018, 0.0018) if rng.random() < 0.6 else 0.0)
        self.weather = rng.choice(["sunny", "overcast", "dusk"], p=[0.45, 0.4, 0.15])
        self.sun_side = rng.choice([-1, 1])
        lane = rng.uniform(3.0, 3.6)
        n_right, n_left = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        self.lane = lane
        self.lanes = [(k - 0.5) * lane for k in range(-n_left, n_right + 1)]  # lane borders, X
        self.road = (self.lanes[0], self.lanes[-1])
        self.parking = rng.random() < 0.35
        right = self.road[1] + (2.3 if self.parking else 0.0)
        self.walk = (rng.uniform(2.0, 5.0), rng.uniform(2.0, 5.0))  # sidewalk widths (left, right)
        self.verge = tuple(rng.uniform(1.0, 5.0) if rng.random() < 0.5 else 0.0 for _ in range(2))
        self.curb = (self.road[0], right)
        self.facade = (self.curb[0] - self.walk[0] - self.verge[0], self.curb[1] + self.walk[1] + self.verge[1])
        self.z_end = rng.uniform(110, 260)
        self.tram = rng.random() < 0.15
        self.colors = self._colors()

    def _colors(self) -> dict:
        rng = self.rng
        grey = rng.uniform(70, 125)
        return {
            "road": _jitter(rng, (grey, grey, grey * rng.uniform(0.95, 1.08)), 6),
            "sidewalk": _jitter(rng, [(150, 150, 150), (175, 160, 140), (165, 120, 110), (190, 190, 185)][rng.integers(4)], 12),
            "terrain": _jitter(rng, [(95, 130, 55), (120, 140, 70), (140, 125, 85)][rng.integers(3)], 12),
            "vegetation": _jitter(rng, [(45, 85, 35), (65, 100, 40), (35, 70, 40)][rng.integers(3)], 10),
            "parking": _jitter(rng, (grey * 1.1, grey * 1.1, grey * 1.1), 8),
            "pole": _jitter(rng, [(120, 120, 125), (60, 70, 60), (40, 40, 45), (150, 150, 150)][rng.integers(4)], 8),
        }

    # ---- world helpers
    def strip(self, x0, x1, z0: float, z1: float, y: float = 0.0, n: int = 28) -> np.ndarray:
        """A ground strip between lateral offsets x0(z), x1(z) (floats or callables)."""
        z0 = max(z0, 0.3)
        if not z1 > z0:
            return np.zeros((0, 2))
        z = np.geomspace(z0, z1, n)
        a = x0(z) if callable(x0) else np.full(n, x0)
        b = x1(z) if callable(x1) else np.full(n, x1)
        return np.concatenate([self.cam.project(a, y, z), self.cam.project(b, y, z)[::-1]])

    def wall(self, x: float, y0: float, y1, z0: float, z1: float, n: int = 16) -> np.ndarray:
        """A vertical band along the street at lateral offset ``x``; ``y1`` may be a callable of z."""
        z = np.linspace(z0, z1, n) if z1 - z0 < 40 else np.geomspace(z0, z1, n)
        top = y1(z) if callable(y1) else np.full(n, y1)
        return np.concatenate([self.cam.project(x, y0, z), self.cam.project(x, top, z)[::-1]])

    def front(self, x0: float, x1: float, y0: float, y1: float, z: float) -> np.ndarray:
        """A rectangle facing the camera at depth ``z``."""
        return self.cam.project([x0, x1, x1, x0], [y0, y0, y1, y1], [z, z, z, z])

    # ---- rendering
    def render(self) -> Scene:
        cam, rng = self.cam, self.rng
        canvas = _Canvas(*self.size)
        self._sky(canvas)
        self._skyline(canvas)
        self._ground(canvas)
        layer2: list[tuple[float, Callable]] = []
        layer3: list[tuple[float, Callable]] = []
        for side in (-1, 1):
            self._roadside(side, layer2, layer3)
            self._street_furniture(side, layer3)
        self._traffic(layer3)
        self._people(layer3)
        for _, draw in sorted(layer2, key=lambda t: -t[0]):
            draw(canvas)
        for _, draw in sorted(layer3, key=lambda t: -t[0]):
            draw(canvas)
        if rng.random() < 0.1:
            self._bridge(canvas)
        if rng.random() < 0.5:
            self._ego_vehicle(canvas)
        image = self._appearance(canvas)
        return Scene(image, canvas.labels, canvas.instances, canvas.polygons)

    def _sky(self, c: _Canvas) -> None:
        h, w = self.size
        top, bottom = {
            "sunny": ((70, 120, 200), (175, 205, 235)),
            "overcast": ((165, 170, 178), (205, 208, 212)),
            "dusk": ((70, 80, 130), (240, 165, 110)),
        }[self.weather]
        top, bottom = _jitter(self.rng, top, 8), _jitter(self.rng, bottom, 8)
        c.fill(np.array([[0, 0], [w, 0], [w, h], [0, h]], float), "sky", bottom)
        t = np.clip(np.arange(h, dtype=np.float32) / max(self.cam.cy, 1), 0, 1)[:, None, None]
        grad = top[None, None, :] * (1 - t) + bottom[None, None, :] * t
        c.image[:] = np.broadcast_to(grad, c.image.shape).astype(np.uint8)

    def _skyline(self, c: _Canvas) -> None:
        rng, z = self.rng, self.z_end
        haze = {"sunny": 0.45, "overcast": 0.55, "dusk": 0.35}[self.weather]
        sky = c.image[max(int(self.cam.cy) - 1, 0), c.width // 2].astype(float)
        x = -90.0
        while x < 90:
            width = rng.uniform(8, 30)
            if rng.random() < 0.25:
                top = rng.uniform(6, 14)
                pts = np.concatenate([self.cam.project(np.linspace(x, x + width, 9), 0, z),
                                      self.cam.project(np.linspace(x + width, x, 9), top + rng.uniform(-2, 2, 9), z)])
                c.fill(pts, "vegetation", _shaded(self.colors["vegetation"], 1 - haze) + haze * sky)
            else:
                col = np.asarray(_BUILDING_COLORS[rng.integers(len(_BUILDING_COLORS))], float)
                c.fill(self.front(x, x + width, 0, rng.uniform(10, 45), z), "building", col * (1 - haze) + haze * sky)
            x += width + (rng.uniform(0, 10) if rng.random() < 0.3 else 0)

    def _ground(self, c: _Canvas) -> None:
        cam, rng, col = self.cam, self.rng, self.colors
        z0, z1 = cam.z_bottom, self.z_end
        far = 2 * z1
        # everything below the horizon starts as terrain / sidewalk far out
        c.fill(self.strip(-400, 400, z0, far), "terrain", col["terrain"])
        c.fill(self.strip(self.facade[0] - 30, self.curb[0], z0, z1), "sidewalk", col["sidewalk"])
        c.fill(self.strip(self.curb[1], self.facade[1] + 30, z0, z1), "sidewalk", col["sidewalk"])
        for side in (0, 1):
            if self.verge[side] > 0:
                s = -1 if side == 0 else 1
                inner = self.curb[side] + s * self.walk[side]
                a, b = sorted((inner, inner + s * self.verge[side]))
                c.fill(self.strip(a, b, z0, z1), "terrain", col["terrain"])
        c.fill(self.strip(self.road[0], self.road[1], z0, z1), "road", col["road"])
        if self.parking:
            c.fill(self.strip(self.road[1], self.curb[1], z0, z1), "parking", col["parking"])
            zs = np.arange(z0 - z0 % 5.5, min(z1, 80), 5.5)
            c.paint([self.strip(self.road[1] + 0.05, self.curb[1], z, z + 0.12, n=2) for z in zs], (215, 215, 215))
        if self.tram:
            for x in (-0.72, 0.72):
                c.fill(self.strip(x - 0.6, x + 0.6, z0, z1), "rail track", _shaded(col["road"], 0.85))
                for dx in (-0.3, 0.3):
                    c.paint([self.strip(x + dx - 0.04, x + dx + 0.04, z0, z1)], (170, 170, 175))
        # lane markings: dashed between lanes, solid at the edges, a zebra crossing now and then
        white = _jitter(rng, (225, 225, 220), 8)
        dash, gap = rng.uniform(2.5, 4), rng.uniform(5, 9)
        marks = []
        for k, x in enumerate(self.lanes):
            if k in (0, len(self.lanes) - 1):
                marks.append(self.strip(x + 0.2 * np.sign(-x) - 0.06, x + 0.2 * np.sign(-x) + 0.06, z0, z1))
            else:
                start = rng.uniform(0, dash + gap)
                for z in np.arange(z0 - start, min(z1, 150), dash + gap):
                    marks.append(self.strip(x - 0.07, x + 0.07, max(z, z0), z + dash, n=4))
        if rng.random() < 0.3:
            zc = rng.uniform(8, 25)
            for x in np.arange(self.road[0] + 0.3, self.road[1] - 0.3, 1.0):
                marks.append(self.strip(x, x + 0.5, zc, zc + 3.5, n=3))
        c.paint(marks, white)
        # asphalt patches, cracks and manholes (texture only)
        for _ in range(int(rng.integers(2, 7))):
            zc, xc = rng.uniform(z0, 60), rng.uniform(*self.road)
            c.paint([self.strip(xc - rng.uniform(0.5, 2), xc + rng.uniform(0.5, 2), zc, zc + rng.uniform(1, 6), n=3)],
                    _shaded(col["road"], rng.uniform(0.75, 1.15)))
        cracks = []
        for _ in range(int(rng.integers(0, 6))):
            zc, xc = rng.uniform(z0, 40), rng.uniform(*self.road)
            steps = rng.normal(0, 0.4, (6, 2)).cumsum(axis=0)
            cracks.append(cam.project(xc + steps[:, 0], 0, zc + np.abs(steps[:, 1]) * 3))
        c.lines(cracks, _shaded(col["road"], 0.55), max(1, int(self.px)))
        # sidewalk tiles and curbs
        tiles = []
        for side, s in ((0, -1), (1, 1)):
            inner, outer = self.curb[side], self.curb[side] + s * self.walk[side]
            for z in np.arange(z0 - z0 % 1.2, min(z1, 70), rng.uniform(0.9, 1.6)):
                tiles.append(cam.project(np.array([inner, outer]), 0, z))
            c.paint([self.strip(min(inner, inner + s * 0.25), max(inner, inner + s * 0.25), z0, z1)],
                    _shaded(col["sidewalk"], 1.18))
        c.lines(tiles, _shaded(col["sidewalk"], 0.75), 1)
        if self.weather == "sunny":  # building shadows on the sun-far side
            s = -self.sun_side
            side = 0 if s < 0 else 1
            width = rng.uniform(2, 9)
            a, b = sorted((self.facade[side], self.facade[side] - s * width))
            c.darken(self.strip(a, b, z0, z1), rng.uniform(0.5, 0.7))

    # ---- buildings, parks, walls and fences along one side
    def _roadside(self, side: int, layer2: list, layer3: list) -> None:
        rng = self.rng
        xf = self.facade[0 if side < 0 else 1]
        z = rng.uniform(-5, 3)
        while z < self.z_end:
            length = rng.uniform(8, 35)
            kind = rng.choice(["building", "park", "gap"], p=[0.7, 0.22, 0.08])
            z0, z1 = max(z, 0.5), min(z + length, self.z_end)
            if z1 - z0 > 1:
                if kind == "building":
                    layer2.append((z0, self._building_fn(side, xf, z0, z1)))
                elif kind == "park":
                    self._park(side, xf, z0, z1, layer2)
            z += length + (rng.uniform(1, 12) if rng.random() < 0.25 else 0)
        if rng.random() < 0.4:  # a low wall or a fence along the sidewalk's outer edge
            zs = sorted(rng.uniform(0.5, 60, 2))
            edge = self.curb[0 if side < 0 else 1] + side * (self.walk[0 if side < 0 else 1] + 0.05)
            if rng.random() < 0.5:
                layer3.append((zs[1] + 50, self._wall_fn(edge, zs[0], zs[1] + 5)))
            else:
                layer3.append((zs[1] + 50, self._fence_fn(edge, zs[0], zs[1] + 5)))

    def _building_fn(self, side: int, xf: float, z0: float, z1: float) -> Callable:
        rng = self.rng
        height = rng.uniform(7, 32)
        color = _jitter(rng, _BUILDING_COLORS[rng.integers(len(_BUILDING_COLORS))], 14)
        lit = 1.1 if side == self.sun_side else 0.8
        window = _jitter(rng, [(40, 50, 65), (70, 85, 100), (25, 25, 30), (120, 140, 160)][rng.integers(4)], 10)
        floor = rng.uniform(2.8, 3.6)
        spacing = rng.uniform(1.8, 3.5)
        shop = rng.random() < 0.5
        depth = rng.uniform(8, 20)

        def draw(c: _Canvas) -> None:
            face = self.wall(xf, 0, height, z0, z1)
            c.fill(face, "building", _shaded(color, lit))
            if shop:
                c.paint([self.wall(xf, 0, 3.2, z0, z1)], _shaded(_jitter(rng, (90, 80, 70), 30), lit))
            # windows: one vectorised grid per facade
            ys = np.arange(3.5 if shop else 1.0, height - 1.2, floor)
            zs = np.arange(z0 + 0.6, z1 - 1.0, spacing)
            if len(ys) and len(zs):
                yy, zz = np.meshgrid(ys, zs, indexing="ij")
                yy, zz = yy.ravel(), zz.ravel()
                wh, ww = floor * 0.5, spacing * 0.55
                quads = np.stack([self.cam.project(xf, yy, zz), self.cam.project(xf, yy + wh, zz),
                                  self.cam.project(xf, yy + wh, zz + ww), self.cam.project(xf, yy, zz + ww)], axis=1)
                keep = rng.random(len(quads)) < 0.93
                c.paint(list(quads[keep]), _shaded(window, lit))
                bright = rng.random(len(quads)) < (0.25 if self.weather == "dusk" else 0.06)
                c.paint(list(quads[bright & keep]), (230, 220, 170) if self.weather == "dusk" else _shaded(window, 1.8))
            # the front wall facing the camera when it is visible past the corner
            if z0 > 2:
                x_out = xf + side * depth
                front = self.front(min(xf, x_out), max(xf, x_out), 0, height, z0)
                c.fill(front, "building", _shaded(color, 0.9 * lit))
                xs = np.arange(min(xf, x_out) + 0.8, max(xf, x_out) - 1.0, spacing)
                ys2 = np.arange(1.0, height - 1.2, floor)
                if len(xs) and len(ys2):
                    xx, yy2 = np.meshgrid(xs, ys2, indexing="ij")
                    xx, yy2 = xx.ravel()[:, None], yy2.ravel()[:, None]
                    quads = self.cam.project(xx + np.array([0, 1, 1, 0]) * spacing * 0.55,
                                             yy2 + np.array([0, 0, 1, 1]) * floor * 0.5, z0)
                    c.paint(list(quads), _shaded(window, 0.9 * lit))
            c.lines([self.wall(xf, height - 0.4, height - 0.4, z0, z1, n=8)[:8]], _shaded(color, 0.6), 1)

        return draw

    def _park(self, side: int, xf: float, z0: float, z1: float, layer2: list) -> None:
        rng = self.rng
        col = self.colors
        if rng.random() < 0.6:  # hedge
            top = rng.uniform(0.8, 1.8)
            phase = rng.uniform(0, 6)

            def hedge(c: _Canvas, x=xf - side * 0.3) -> None:
                c.fill(self.wall(x, 0, lambda z: top + 0.15 * np.sin(z * 1.3 + phase), z0, z1, n=24),
                       "vegetation", _shaded(col["vegetation"], 1.05))

            layer2.append((z0 + 0.01, hedge))
        for z in np.arange(z0 + rng.uniform(0, 4), z1, rng.uniform(4, 9)):
            layer2.append((z, self._tree_fn(xf + side * rng.uniform(0, 6), z)))

    def _tree_fn(self, x: float, z: float) -> Callable:
        rng = self.rng
        trunk_h, crown = rng.uniform(1.8, 4), rng.uniform(1.3, 3.5)
        color = _jitter(rng, self.colors["vegetation"], 12)
        trunk = _jitter(rng, (80, 65, 50), 10)
        wobble = rng.uniform(0.08, 0.25)
        seed = int(rng.integers(1 << 30))

        def draw(c: _Canvas) -> None:
            s = self.cam.scale(z)
            bx, by = self.cam.project(x, 0, z)
            c.fill(_segment((bx, by), (bx, by - trunk_h * s), max(0.25 * s, 1.0)), "vegetation", trunk)
            cy = by - (trunk_h + crown * 0.8) * s
            blob = _circle(bx, cy, crown * s, crown * s * 0.9, n=22, rng=np.random.default_rng(seed), wobble=wobble)
            c.fill(blob, "vegetation", color)
            c.paint([_circle(bx - crown * s * 0.3, cy - crown * s * 0.25, crown * s * 0.45, n=10)], _shaded(color, 1.25))

        return draw

    def _wall_fn(self, x: float, z0: float, z1: float) -> Callable:
        top = self.rng.uniform(0.6, 2.0)
        color = _jitter(self.rng, [(160, 160, 155), (150, 120, 100), (110, 110, 115)][self.rng.integers(3)], 10)

        def draw(c: _Canvas) -> None:
            c.fill(self.wall(x, 0, top, z0, z1), "wall", color)
            c.lines([self.cam.project(x, top * np.array([0.33, 0.33]), np.array([z0, z1])),
                     self.cam.project(x, top * np.array([0.66, 0.66]), np.array([z0, z1]))], _shaded(color, 0.8), 1)

        return draw

    def _fence_fn(self, x: float, z0: float, z1: float) -> Callable:
        rng = self.rng
        top = rng.uniform(1.0, 2.0)
        color = _jitter(rng, [(70, 75, 70), (130, 100, 70), (160, 160, 165)][rng.integers(3)], 10)
        step = rng.uniform(1.5, 2.5)

        def draw(c: _Canvas) -> None:
            # labelled as a whole band (as Cityscapes annotators do); drawn as posts, rails and mesh
            band = self.wall(x, 0, top, z0, z1)
            pts = band.astype(np.float32)
            c.polygons.append({"label": "fence", "polygon": np.round(pts).astype(int).tolist()})
            import cv2

            cv2.fillPoly(c.labels, [c._int(band)], _lab("fence").id, cv2.LINE_8, c._SHIFT)
            cv2.fillPoly(c.instances, [c._int(band)], _lab("fence").id, cv2.LINE_8, c._SHIFT)
            c.darken(band, 0.85)
            zs = np.arange(z0, z1, step)
            posts = [self.cam.project(np.array([x, x]), np.array([0, top]), np.array([z, z])) for z in zs]
            rails = [self.cam.project(x, np.array([y, y]), np.array([z0, z1])) for y in (top * 0.1, top * 0.5, top)]
            mesh = [self.cam.project(x, np.array([0, top]), np.array([z, z + step / 2])) for z in np.arange(z0, z1, step / 4)]
            c.lines(mesh, color, 1)
            c.lines(posts + rails, _shaded(color, 0.8), max(1, int(round(self.px))))

        return draw

    # ---- poles, signs, lights, bins
    def _street_furniture(self, side: int, layer3: list) -> None:
        rng = self.rng
        i = 0 if side < 0 else 1
        x = self.curb[i] + side * rng.uniform(0.3, 0.7)
        for z in np.arange(rng.uniform(3, 15), 90, rng.uniform(9, 25)):
            kind = rng.choice(["lamp", "sign", "light", "plain"], p=[0.35, 0.35, 0.2, 0.1])
            layer3.append((z, self._pole_fn(x, z, kind, side)))
        if self.verge[i] > 0 or rng.random() < 0.4:  # trees on the sidewalk or verge
            xt = self.curb[i] + side * (self.walk[i] + self.verge[i] * 0.5 if self.verge[i] > 0 else self.walk[i] - 0.8)
            for z in np.arange(rng.uniform(4, 12), 100, rng.uniform(7, 15)):
                layer3.append((z, self._tree_fn(xt, z)))
        for _ in range(int(rng.integers(0, 3))):  # bins and benches: void "static"
            z = rng.uniform(6, 40)
            xs = self.curb[i] + side * rng.uniform(1.0, self.walk[i] - 0.3)
            color = _jitter(rng, [(60, 90, 60), (90, 90, 95), (140, 90, 50)][rng.integers(3)], 10)
            wd, ht = rng.uniform(0.5, 1.6), rng.uniform(0.5, 1.1)
            layer3.append((z, lambda c, xs=xs, z=z, color=color, wd=wd, ht=ht:
                           c.fill(self.front(xs - wd / 2, xs + wd / 2, 0, ht, z), "static", color)))

    def _pole_fn(self, x: float, z: float, kind: str, side: int) -> Callable:
        rng = self.rng
        height = {"lamp": rng.uniform(5, 9), "sign": rng.uniform(2.6, 3.5), "light": rng.uniform(3.5, 6),
                  "plain": rng.uniform(3, 7)}[kind]
        width = rng.uniform(0.1, 0.22)
        color = _jitter(rng, self.colors["pole"], 6)
        sign_kind = rng.choice(["round", "triangle", "square"])
        sign_color = [(200, 30, 30), (30, 70, 170), (230, 230, 230), (240, 200, 30), (30, 130, 60)][rng.integers(5)]
        sign_size = rng.uniform(0.5, 0.85)
        arm = rng.uniform(2, 5) if kind == "light" and rng.random() < 0.5 else 0.0
        lamp_on = int(rng.integers(3))

        def draw(c: _Canvas) -> None:
            s = self.cam.scale(z)
            (bx, by), (tx, ty) = self.cam.project(np.array([x, x]), np.array([0, height]), np.array([z, z]))
            c.fill(_segment((bx, by), (tx, ty), max(width * s, 0.8)), "pole", color)
            if kind == "lamp":
                head = self.cam.project(np.array([x, x - side * 1.2]), np.array([height, height + 0.2]), np.array([z, z]))
                c.fill(_segment(head[0], head[1], max(0.12 * s, 0.8)), "pole", color)
                c.paint([_circle(head[1][0], head[1][1] + 0.1 * s, 0.25 * s, 0.08 * s, n=8)], (235, 230, 200))
            elif kind == "sign":
                cx, cy = self.cam.project(x, height, z)
                r = sign_size * s / 2
                if sign_kind == "round":
                    poly = _circle(cx, cy, r, n=16)
                elif sign_kind == "triangle":
                    poly = np.array([[cx - r, cy + r * 0.8], [cx + r, cy + r * 0.8], [cx, cy - r * 0.9]])
                else:
                    poly = np.array([[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]])
                c.fill(poly, "traffic sign", (235, 235, 235) if sign_kind != "square" else sign_color)
                inner = cx + (poly[:, 0] - cx) * 0.7, cy + (poly[:, 1] - cy) * 0.7
                c.paint([np.stack(inner, 1)], sign_color if sign_kind != "square" else (240, 240, 240))
                if sign_kind == "square":
                    c.paint([np.stack([cx + (poly[:, 0] - cx) * 0.55, cy + (poly[:, 1] - cy) * 0.55], 1)], sign_color)
            elif kind == "light":
                lx = x - side * arm
                if arm:
                    seg = self.cam.project(np.array([x, lx]), np.array([height, height]), np.array([z, z]))
                    c.fill(_segment(seg[0], seg[1], max(0.12 * s, 0.8)), "pole", color)
                box = self.front(lx - 0.17, lx + 0.17, height - (0.95 if arm else 0.3), height + (0 if arm else 0.65), z)
                c.fill(box, "traffic light", _jitter(rng, (35, 35, 38), 4))
                (x0, y0), (x1, y1) = box[0], box[2]
                lamps = [(200, 30, 20), (230, 160, 20), (40, 200, 80)]
                for k in range(3):
                    ly = y1 + (y0 - y1) * (k + 0.5) / 3
                    col = lamps[k] if k == lamp_on else (55, 55, 55)
                    c.paint([_circle((x0 + x1) / 2, ly, abs(x1 - x0) * 0.3, n=10)], col)

        return draw

    # ---- vehicles
    def _box(self, c: _Canvas, x0, x1, y0, y1, z0, z1, name, color, instance, faces=None) -> dict:
        """Draw the faces of an axis-aligned box the camera sees; return them by name."""
        p = self.cam.project
        visible = {"back": p([x0, x1, x1, x0], [y0, y0, y1, y1], [z0] * 4)}
        if x0 > 0:
            visible["side"] = p([x0, x0, x0, x0], [y0, y0, y1, y1], [z0, z1, z1, z0])
        if x1 < 0:
            visible["side"] = p([x1, x1, x1, x1], [y0, y0, y1, y1], [z0, z1, z1, z0])
        if y1 < self.cam.h:
            visible["top"] = p([x0, x1, x1, x0], [y1] * 4, [z0, z0, z1, z1])
        shade = {"back": 0.9, "side": 1.0, "top": 1.15}
        for name_face, poly in visible.items():
            c.fill(poly, name, _shaded(color, shade[name_face]) if faces is None else faces.get(name_face, color), instance)
        return visible

    def _traffic(self, layer3: list) -> None:
        rng = self.rng
        n_lanes = len(self.lanes) - 1
        for k in range(n_lanes):
            xc = (self.lanes[k] + self.lanes[k + 1]) / 2
            oncoming = xc < -0.1
            z = rng.uniform(4, 14)
            while z < 90:
                kind = rng.choice(["car", "truck", "bus", "motorcycle"], p=[0.72, 0.1, 0.1, 0.08])
                if abs(xc) < 0.1 and z < 7:
                    z += 6
                    continue
                layer3.append((z, self._vehicle_fn(kind, xc + rng.normal(0, 0.25), z, oncoming)))
                z += rng.uniform(8, 35) * (1.5 if kind in ("truck", "bus") else 1)
        if self.parking:
            for z in np.arange(rng.uniform(3, 9), 70, 5.5):
                if rng.random() < 0.7:
                    layer3.append((z, self._vehicle_fn("car", self.road[1] + 1.15, z, False)))
        if self.tram and rng.random() < 0.7:
            layer3.append((rng.uniform(12, 45) + 0.1, self._vehicle_fn("train", 0.0, 0.0, False)))

    def _vehicle_fn(self, kind: str, xc: float, z: float, oncoming: bool) -> Callable:
        rng = self.rng
        dims = {"car": (rng.uniform(1.7, 1.95), rng.uniform(3.9, 4.8), rng.uniform(1.35, 1.6)),
                "truck": (2.45, rng.uniform(7, 10), rng.uniform(3.0, 3.8)),
                "bus": (2.55, rng.uniform(10, 13), rng.uniform(3.0, 3.3)),
                "train": (2.6, rng.uniform(25, 32), 3.4),
                "motorcycle": (0.8, 2.1, 1.2)}[kind]
        width, length, height = dims
        palette = {"car": _CAR_COLORS, "truck": _BUS_COLORS + [(235, 235, 235)] * 3, "bus": _BUS_COLORS,
                   "train": [(230, 230, 230), (200, 40, 40), (60, 140, 80)], "motorcycle": _CAR_COLORS}[kind]
        color = _jitter(rng, palette[rng.integers(len(palette))], 10)
        glass = _jitter(rng, (45, 55, 70), 10)
        if kind == "train":
            z = rng.uniform(12, 45)
        z0 = z
        rider = _jitter(rng, _CLOTHES[rng.integers(len(_CLOTHES))], 10)

        def draw(c: _Canvas) -> None:
            x0, x1 = xc - width / 2, xc + width / 2
            z1 = z0 + length
            # a soft shadow under the vehicle
            c.darken(self.strip(x0 - 0.1, x1 + 0.1, z0 - 0.2, z1, n=3), 0.55)
            if kind == "motorcycle":
                self._motorcycle(c, xc, z0, color, rider)
                return
            inst = c.new_instance(kind)
            if kind == "car":
                body = self._box(c, x0, x1, 0.2, height * 0.62, z0, z1, "car", color, inst)
                cab_z0, cab_z1 = z0 + length * 0.25, z1 - length * 0.3
                faces = {"back": glass, "side": glass, "top": _shaded(color, 1.1)}
                self._box(c, x0 + 0.12, x1 - 0.12, height * 0.62, height, cab_z0, cab_z1, "car", color, inst, faces)
                back = body["back"]
                (bx0, by0), (bx1, by1) = back[0], back[2]
                lh = (by0 - by1) * 0.25
                lamp = (200, 30, 25) if not oncoming else (240, 240, 210)
                w_ = (bx1 - bx0) * 0.18
                c.paint([np.array([[bx0 + 1, by1 + lh], [bx0 + w_, by1 + lh], [bx0 + w_, by1 + 2 * lh], [bx0 + 1, by1 + 2 * lh]]),
                         np.array([[bx1 - w_, by1 + lh], [bx1 - 1, by1 + lh], [bx1 - 1, by1 + 2 * lh], [bx1 - w_, by1 + 2 * lh]])], lamp)
                mx = (bx0 + bx1) / 2
                c.paint([np.array([[mx - w_, by0 - 1.6 * lh], [mx + w_, by0 - 1.6 * lh], [mx + w_, by0 - 0.9 * lh], [mx - w_, by0 - 0.9 * lh]])],
                        (225, 225, 225))
                self._wheels(c, body, inst, "car", z0, z1, x0, x1)
            elif kind == "truck":
                cargo_z0 = z0 if not oncoming else z0 + 2.4
                cab_z0 = z0 + length - 2.4 if not oncoming else z0
                cab = self._box(c, x0 + 0.05, x1 - 0.05, 0.5, 2.9, cab_z0, cab_z0 + 2.4, "truck", _shaded(color, 0.9), inst)
                body = self._box(c, x0, x1, 0.8, height, cargo_z0, cargo_z0 + length - 2.4, "truck", color, inst)
                if oncoming:
                    (bx0, by0), (bx1, by1) = cab["back"][0], cab["back"][2]
                    c.paint([np.array([[bx0 + 2, by1 + 2], [bx1 - 2, by1 + 2], [bx1 - 2, by1 + (by0 - by1) * 0.4], [bx0 + 2, by1 + (by0 - by1) * 0.4]])], glass)
                self._wheels(c, body, inst, "truck", z0, z1, x0, x1)
            else:  # bus, train
                body = self._box(c, x0, x1, 0.35, height, z0, z1, kind, color, inst)
                p = self.cam.project
                xs = x0 if x0 > 0 else x1
                if "side" in body:
                    band = p([xs] * 4, [1.2, 1.2, height - 0.5, height - 0.5], [z0 + 0.5, z1 - 0.5, z1 - 0.5, z0 + 0.5])
                    c.paint([band], glass)
                    pillars = [p([xs, xs], [1.2, height - 0.5], [zz, zz]) for zz in np.arange(z0 + 1.5, z1 - 0.5, 1.8)]
                    c.lines(pillars, color, max(1, int(self.px)))
                (bx0, by0), (bx1, by1) = body["back"][0], body["back"][2]
                c.paint([np.array([[bx0 + 2, by1 + 2], [bx1 - 2, by1 + 2], [bx1 - 2, by1 + (by0 - by1) * 0.45], [bx0 + 2, by1 + (by0 - by1) * 0.45]])], glass)
                if kind == "bus":
                    self._wheels(c, body, inst, "bus", z0, z1, x0, x1)

        return draw

    def _wheels(self, c: _Canvas, body: dict, inst: int, name: str, z0, z1, x0, x1) -> None:
        """Dark wheels at the bottom of the visible faces (part of the vehicle's label)."""
        p = self.cam.project
        tire = (25, 25, 28)
        r = 0.33 if name == "car" else 0.5
        if "side" in body:
            xs = x0 if x0 > 0 else x1
            for zw in (z0 + 0.8, z1 - 0.9):
                (cx, cy), = p([xs], [r], [zw])
                s = self.cam.scale(zw)
                k = abs(xs) / np.hypot(xs, zw)  # foreshortening of the wheel seen at an angle
                c.fill(_circle(cx, cy, r * s * max(k, 0.25), r * s, n=14), name, tire, inst)
        (bx0, by0), (bx1, _) = body["back"][0], body["back"][1]
        s = self.cam.scale(z0)
        ww, wh = 0.25 * s, 0.35 * s
        for x in (bx0 + 0.05 * s, bx1 - 0.05 * s - ww):
            c.fill(np.array([[x, by0 - 0.05 * s], [x + ww, by0 - 0.05 * s], [x + ww, by0 + wh - 0.2 * s], [x, by0 + wh - 0.2 * s]]),
                   name, tire, inst)

    def _motorcycle(self, c: _Canvas, xc: float, z: float, color, clothes) -> None:
        """Seen from behind/ahead: a narrow body, the wheel, and a rider sitting on it."""
        s = self.cam.scale(z)
        bx, by = self.cam.project(xc, 0, z)
        inst = c.new_instance("motorcycle")
        c.fill(_segment((bx, by), (bx, by - 0.65 * s), 0.14 * s), "motorcycle", (25, 25, 28), inst)
        c.fill(np.array([[bx - 0.3 * s, by - 0.45 * s], [bx + 0.3 * s, by - 0.45 * s], [bx + 0.25 * s, by - 0.85 * s],
                         [bx - 0.25 * s, by - 0.85 * s]]), "motorcycle", color, inst)
        c.fill(_segment((bx - 0.38 * s, by - 1.05 * s), (bx + 0.38 * s, by - 1.05 * s), 0.05 * s), "motorcycle", (40, 40, 40), inst)
        self._person_shape(c, bx, by - 0.75 * s, s, 1.0, clothes, "rider", seated=True)

    # ---- people and bicycles
    def _people(self, layer3: list) -> None:
        rng = self.rng
        for side in (-1, 1):
            i = 0 if side < 0 else 1
            for _ in range(int(rng.integers(0, 5))):
                z = rng.uniform(5, 45)
                x = self.curb[i] + side * rng.uniform(0.4, self.walk[i] - 0.2)
                layer3.append((z, self._person_fn(x, z)))
            if rng.random() < 0.35:  # parked bicycles along the sidewalk
                z = rng.uniform(5, 30)
                x = self.curb[i] + side * (self.walk[i] - 0.5)
                for k in range(int(rng.integers(1, 4))):
                    layer3.append((z + 0.7 * k, self._bicycle_fn(x, z + 0.7 * k, rider=False)))
        if rng.random() < 0.25:  # pedestrians crossing
            z = rng.uniform(7, 25)
            for _ in range(int(rng.integers(1, 4))):
                layer3.append((z, self._person_fn(rng.uniform(*self.road), z + rng.uniform(0, 2))))
        for _ in range(int(rng.integers(0, 3)) if rng.random() < 0.6 else 0):  # cyclists near the curb
            z = rng.uniform(6, 40)
            x = self.road[1] - 0.6 if not self.parking or rng.random() < 0.5 else self.road[0] + 0.6
            layer3.append((z, self._bicycle_fn(x, z, rider=True)))

    def _person_fn(self, x: float, z: float) -> Callable:
        rng = self.rng
        height = rng.uniform(1.5, 1.95)
        top = _jitter(rng, _CLOTHES[rng.integers(len(_CLOTHES))], 10)
        legs = _jitter(rng, _CLOTHES[rng.integers(len(_CLOTHES))], 10)
        skin = _SKIN[rng.integers(len(_SKIN))]
        stride = rng.uniform(-0.25, 0.25)

        def draw(c: _Canvas) -> None:
            s = self.cam.scale(z)
            bx, by = self.cam.project(x, 0, z)
            c.darken(_circle(bx, by, 0.35 * s, 0.06 * s, n=10), 0.65)
            self._person_shape(c, bx, by, s, height, (top, legs, skin), "person", stride=stride)

        return draw

    def _person_shape(self, c: _Canvas, bx, by, s, height, colors, name, stride=0.0, seated=False) -> None:
        if not isinstance(colors, tuple):
            colors = (colors, _shaded(colors, 0.6), _SKIN[0])
        top, legs, skin = colors
        inst = c.new_instance(name)
        h = height * s
        hip = by - (0.0 if seated else 0.52 * h)
        shoulder = hip - 0.3 * h * (1 if not seated else 0.85)
        lw = max(0.075 * h, 1.0)
        if seated:
            for dx in (-0.09, 0.09):
                c.fill(_segment((bx + dx * h, hip), (bx + dx * 1.4 * h, hip + 0.35 * h), lw), name, legs, inst)
        else:
            for dx, sgn in ((-0.05, -1), (0.05, 1)):
                c.fill(_segment((bx + dx * h, hip), (bx + (dx + sgn * stride * 0.3) * h, by), lw), name, legs, inst)
        c.fill(np.array([[bx - 0.12 * h, shoulder], [bx + 0.12 * h, shoulder], [bx + 0.095 * h, hip + 0.02 * h],
                         [bx - 0.095 * h, hip + 0.02 * h]]), name, top, inst)
        aw = max(0.05 * h, 0.8)
        for sgn in (-1, 1):
            hand = (bx + sgn * (0.15 + 0.1 * stride) * h, shoulder + (0.3 if not seated else 0.2) * h)
            c.fill(_segment((bx + sgn * 0.115 * h, shoulder + 0.02 * h), hand, aw), name, top, inst)
        c.fill(_circle(bx, shoulder - 0.085 * h, 0.065 * h, 0.075 * h, n=12), name, skin, inst)

    def _bicycle_fn(self, x: float, z: float, rider: bool) -> Callable:
        rng = self.rng
        frame = _jitter(rng, [(200, 30, 30), (30, 60, 160), (30, 30, 30), (220, 220, 220), (40, 140, 70)][rng.integers(5)], 10)
        direction = rng.choice([-1, 1])
        clothes = _jitter(rng, _CLOTHES[rng.integers(len(_CLOTHES))], 10)

        def draw(c: _Canvas) -> None:
            s = self.cam.scale(z)
            bx, by = self.cam.project(x, 0, z)
            inst = c.new_instance("bicycle")
            r, t = 0.34 * s, max(0.045 * s, 0.8)

            def at(u, v):
                return (bx + direction * u * s, by - v * s)

            for u in (-0.52, 0.52):
                for quad in _ring(*at(u, 0.34), r, t, n=14):
                    c.fill(quad, "bicycle", (25, 25, 25), inst)
            bb, seat, head, rear, front = at(-0.05, 0.3), at(-0.25, 0.9), at(0.38, 0.88), at(-0.52, 0.34), at(0.52, 0.34)
            for p0, p1 in ((rear, bb), (bb, seat), (seat, rear), (seat, head), (head, bb), (head, front)):
                c.fill(_segment(p0, p1, t), "bicycle", frame, inst)
            c.fill(_segment(head, at(0.42, 1.02), t), "bicycle", frame, inst)
            c.fill(_segment(at(0.34, 1.02), at(0.5, 1.02), t * 1.2), "bicycle", (30, 30, 30), inst)
            c.fill(_segment(at(-0.33, 0.93), at(-0.15, 0.93), t * 1.5), "bicycle", (30, 30, 30), inst)
            if rider:
                self._person_shape(c, seat[0], seat[1], s, 1.15, clothes, "rider", seated=True)

        return draw

    # ---- void classes
    def _bridge(self, c: _Canvas) -> None:
        z = self.rng.uniform(40, 90)
        y0 = self.rng.uniform(5, 7)
        c.fill(self.front(-60, 60, y0, y0 + 1.8, z), "bridge", _jitter(self.rng, (150, 145, 140), 10))

    def _ego_vehicle(self, c: _Canvas) -> None:
        h, w = self.size
        depth = h * self.rng.uniform(0.06, 0.12)
        xs = np.linspace(-2, w + 2, 24)
        ys = h - depth * (1 - 0.55 * ((xs - w / 2) / (w / 2)) ** 2)
        pts = np.concatenate([np.stack([xs, ys], 1), [[w + 2, h + 2], [-2, h + 2]]])
        c.fill(pts, "ego vehicle", _jitter(self.rng, (40, 42, 48), 10))

    # ---- appearance: textures, clouds, light, noise
    def _appearance(self, c: _Canvas) -> np.ndarray:
        import cv2

        rng = self.rng
        h, w = self.size
        img = c.image.astype(np.float32)

        def noise(cells_y: int, cells_x: int) -> np.ndarray:
            small = rng.standard_normal((cells_y, cells_x), dtype=np.float32)
            return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)

        low, mid = noise(4, 8), noise(max(h // 24, 2), max(w // 24, 2))
        fine = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 0.6 * self.px)
        fine /= max(float(fine.std()), 1e-6)
        # multiplicative texture strength by label id: (low, mid, fine)
        amp = np.zeros((256, 3), np.float32)
        amp[:] = (0.05, 0.03, 0.03)
        for name, a in {"road": (0.10, 0.05, 0.07), "sidewalk": (0.08, 0.06, 0.06), "building": (0.08, 0.06, 0.04),
                        "vegetation": (0.12, 0.30, 0.22), "terrain": (0.10, 0.18, 0.14), "sky": (0.04, 0.0, 0.01),
                        "wall": (0.06, 0.08, 0.06), "parking": (0.1, 0.05, 0.07), "rail track": (0.1, 0.08, 0.1)}.items():
            amp[_lab(name).id] = a
        a = amp[c.labels]
        factor = 1 + a[..., 0] * low + a[..., 1] * mid + a[..., 2] * fine
        img *= factor[..., None]
        sky = c.labels == _lab("sky").id
        if self.weather != "overcast" or rng.random() < 0.5:  # clouds
            clouds = np.clip(noise(5, 10) * 0.6 + noise(10, 20) * 0.3 - rng.uniform(0.1, 0.6), 0, 1)[..., None]
            cloud_color = np.array((235, 235, 240) if self.weather != "dusk" else (250, 200, 170), np.float32)
            img = np.where(sky[..., None], img * (1 - clouds) + cloud_color * clouds, img)
        shade = cv2.GaussianBlur(c.shade, (0, 0), 0.8 * self.px)
        img *= shade[..., None]
        # light: exposure, white balance, a gradient across the frame, vignetting, gamma
        light = {"sunny": 1.05, "overcast": 0.92, "dusk": 0.75}[self.weather]
        gain = light * rng.uniform(0.75, 1.2) * np.exp(rng.normal(0, 0.05, 3)).astype(np.float32)
        xx = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
        yy = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
        grad = 1 + rng.uniform(-0.15, 0.15) * xx + rng.uniform(-0.1, 0.1) * yy
        vignette = 1 - rng.uniform(0.1, 0.35) * (xx ** 2 + yy ** 2)
        img *= (grad * vignette)[..., None] * gain.astype(np.float32)
        img = np.float32(255.0) * np.clip(img * np.float32(1 / 255.0), 0, 1) ** np.float32(rng.uniform(0.85, 1.15))
        blur = rng.uniform(0.3, 0.9) * self.px
        img = cv2.GaussianBlur(img, (0, 0), blur)
        img += rng.uniform(2, 7) * rng.standard_normal(img.shape, dtype=np.float32)
        return np.clip(img + 0.5, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- public API


def _check_size(size) -> tuple[int, int]:
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 16 for s in size)):
        raise ValueError(f"size must be a pair of ints (H, W), each >= 16, got {size!r}")
    return int(size[0]), int(size[1])


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of image ``index`` of ``split``: independent of the dataset's size."""
    if split not in _SPLIT_INDEX:
        raise ValueError(f"split must be one of {sorted(_SPLIT_INDEX)}, got {split!r}")
    return np.random.default_rng([_check_seed(seed), _SPLIT_INDEX[split], int(index)])


def render_scene(rng: np.random.Generator | int, size: tuple[int, int] = QUICK_SIZE) -> Scene:
    """Render one street scene.

    Parameters
    ----------
    rng : numpy.random.Generator or int
        The randomness (an int seeds a new generator).
    size : (H, W)
        Image size in pixels; the scene's geometry scales with the width.

    Returns
    -------
    Scene
        Image (H, W, 3) uint8, label ids (H, W) uint8, instance ids (H, W) uint16 and polygons.
    """
    h, w = _check_size(size)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(_check_seed(rng))
    return _Street(rng, (h, w)).render()


def minicity_stem(city: str, index: int) -> str:
    """``{city}_{seq:06d}_{frame:06d}``: the Cityscapes name of a frame."""
    return f"{city}_{index:06d}_{FRAME:06d}"


def _frames(split: str, count: int) -> list[tuple[str, int, int]]:
    """(city, sequence number, global index) for ``count`` frames, spread over the split's cities."""
    cities = CITIES[split]
    return [(cities[i % len(cities)], i // len(cities), i) for i in range(count)]


def _file_paths(root: Path, split: str, city: str, seq: int) -> dict[str, Path]:
    stem = minicity_stem(city, seq)
    gt = root / "gtFine" / split / city
    return {
        "image": root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png",
        "labelIds": gt / f"{stem}_gtFine_labelIds.png",
        "color": gt / f"{stem}_gtFine_color.png",
        "instanceIds": gt / f"{stem}_gtFine_instanceIds.png",
        "polygons": gt / f"{stem}_gtFine_polygons.json",
    }


def _write_png(path: Path, array: np.ndarray) -> None:
    import cv2

    if array.ndim == 3:
        code = cv2.COLOR_RGB2BGR if array.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        array = cv2.cvtColor(array, code)
    with atomic_file(path) as tmp:  # a per-process temporary name: two writers of the same folder never collide
        if not cv2.imwrite(str(tmp), array, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
            raise OSError(f"could not write {path}")


def _write_frame(job: tuple) -> None:
    """Render and write one frame (a worker's task); files that exist are kept."""
    root, split, city, seq, i, seed, size = job
    paths = _file_paths(root, split, city, seq)
    if all(p.exists() for p in paths.values()):
        return
    scene = render_scene(scene_rng(seed, split, i), size)
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    writers = {
        "image": lambda p: _write_png(p, scene.image),
        "labelIds": lambda p: _write_png(p, scene.label_ids),
        "color": lambda p: _write_png(p, scene.color),
        "instanceIds": lambda p: _write_png(p, scene.instance_ids),
        "polygons": lambda p: write_text_atomic(p, json.dumps(scene.polygons_json())),
    }
    for key, p in paths.items():
        if not p.exists():
            writers[key](p)


def write_minicity(root: str | Path, *, train_images: int = 60, val_images: int = 20,
                   size: tuple[int, int] = QUICK_SIZE, seed: int = 0, progress: bool = True,
                   workers: int = 1) -> Path:
    """Generate MiniCity under ``root`` in the Cityscapes layout; return ``root``.

    Files that already exist are kept (nothing is overwritten), so an
    interrupted run continues where it stopped. A manifest ``minicity.json``
    records the parameters; a folder generated with other parameters is refused.

    Parameters
    ----------
    root : path
        The dataset root (it will hold ``leftImg8bit/`` and ``gtFine/``).
    train_images, val_images : int
        Number of frames per split (spread over the split's cities, see :data:`CITIES`).
    size : (H, W)
        Image size; Cityscapes' is (1024, 2048).
    seed : int
        Frame ``i`` of split ``s`` is drawn from ``scene_rng(seed, s, i)``.
    progress : bool
        Show a tqdm progress bar.
    workers : int
        Processes that render frames in parallel (the files do not depend on it).

    Raises
    ------
    FileExistsError
        If ``root`` holds a MiniCity manifest with different parameters.
    """
    from tqdm.auto import tqdm

    root = Path(root)
    size = _check_size(size)
    seed = _check_seed(seed)
    counts = {"train": train_images, "val": val_images}
    for split, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{split}_images must be a non-negative int, got {n!r}")
    if train_images == 0 and val_images == 0:
        raise ValueError("train_images and val_images are both 0: there is nothing to generate")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    params = {"format": "cityscapes", "generator": _GENERATOR, "size": list(size), "seed": seed,
              "train_images": int(train_images), "val_images": int(val_images)}
    check_output_folder(root, "root")
    # The claim is written before any frame and the manifest after the last one: a folder that an
    # interrupted run of other parameters left half-filled is refused, never completed with a mix.
    for record in (root / _MANIFEST, root / _CLAIM):
        if record.exists():
            try:
                old = json.loads(record.read_text())
            except (ValueError, UnicodeDecodeError) as err:
                raise ValueError(f"{record} is not valid JSON ({err}); it may be truncated: "
                                 "delete that folder and generate again") from err
            if old != params:
                raise FileExistsError(
                    f"{root} already holds MiniCity generated with {old}; refusing to mix it with {params}: "
                    "choose another root or delete that folder")
    manifest = root / _MANIFEST
    root.mkdir(parents=True, exist_ok=True)
    if not (root / _CLAIM).exists():
        write_text_atomic(root / _CLAIM, json.dumps(params, indent=1))
    jobs = [(root, split, city, seq, i, seed, size) for split, n in counts.items() for city, seq, i in _frames(split, n)]
    bar = tqdm(total=len(jobs), desc="MiniCity", unit="img", disable=None if progress else True)
    if workers == 1:
        for job in jobs:
            _write_frame(job)
            bar.update()
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            for _ in pool.map(_write_frame, jobs, chunksize=8):
                bar.update()
    bar.close()
    write_text_atomic(manifest, json.dumps(params, indent=1))
    return root


def default_params(full: bool) -> dict:
    """``size``, ``train_images``, ``val_images`` of quick or full mode (the ``"cityscapes"`` settings)."""

    pick = 1 if full else 0
    section = SETTINGS["cityscapes"]
    return {"size": tuple(section["image_size"][pick]), "train_images": section["train_images"][pick],
            "val_images": section["val_images"][pick]}


def minicity_root(full: bool | None = None, *, root: str | Path | None = None, progress: bool = False) -> Path:
    """The MiniCity folder of the current mode, generated on first use.

    Parameters
    ----------
    full : bool, optional
        Full-size data (default: follows ``SEGCOURSE_FULL``).
    root : path, optional
        The data folder (default :func:`course_utils.paths.data_root`).
    """

    full = is_full_mode() if full is None else full
    return prepare_offline(Path(root) if root is not None else data_root(), full, progress=progress)


def prepare_offline(root: Path, full: bool, progress: bool = True) -> Path:
    """Generate MiniCity under ``root/minicity`` (quick) or ``root/minicity_full`` (full size).

    Idempotent: a complete dataset is left as it is. Full size renders on every core (at most 16
    processes): 3475 frames of 1024 x 2048 take about half a second each, half an hour on one
    process; the quick frames take seconds and render in this process.
    """
    folder = Path(root) / ("minicity_full" if full else "minicity")
    params = default_params(full)
    manifest = folder / _MANIFEST
    if manifest.is_file():
        try:
            old = json.loads(manifest.read_text())
        except (ValueError, UnicodeDecodeError):
            old = None  # write_minicity names the damaged file
        if old == {"format": "cityscapes", "generator": _GENERATOR, "size": list(params["size"]), "seed": 0,
                   "train_images": params["train_images"], "val_images": params["val_images"]}:
            return folder
    workers = min(16, cpu_cores()) if full else 1  # the files do not depend on it
    return write_minicity(folder, progress=progress, workers=workers, **params)  # refuses other parameters


def course_minicity_root(root: str | Path | None = None, *, workers: int = 1, progress: bool = True) -> Path:
    """The course's MiniCity (:data:`COURSE_MINICITY`), generated under ``root`` if incomplete.

    Default ``root``: ``<data root>/minicity_course``.
    """
    folder = Path(root) if root is not None else data_root() / "minicity_course"
    return write_minicity(folder, progress=progress, workers=workers, **COURSE_MINICITY)


def course_minicity_val_root(frames: int = 100, root: str | Path | None = None, *, progress: bool = False) -> Path:
    """The first ``frames`` validation frames of the course's MiniCity, without its training frames.

    MiniCity draws frame ``i`` of a split from ``(seed, split, i)`` alone, so these are exactly the
    validation frames the checkpoints' figures were measured on; generating them takes seconds.
    Default ``root``: ``<data root>/minicity_course_val<frames>``.
    """
    folder = Path(root) if root is not None else data_root() / f"minicity_course_val{frames}"
    return write_minicity(folder, train_images=0, val_images=frames, size=COURSE_MINICITY["size"],
                          seed=COURSE_MINICITY["seed"], progress=progress)


def heldout_frames(count: int, *, seed: int = 0, first: int = 1000,
                   size: tuple[int, int] = QUICK_SIZE) -> list[tuple[np.ndarray, np.ndarray]]:
    """Training-split scenes ``first .. first + count - 1`` rendered in memory: ``(image, label ids)``.

    The course checkpoints were trained on scenes ``0 .. 999`` of the training split, so these
    scenes are held out: the CRF's temperature and parameters are chosen on them, never on the
    validation frames that are reported. Labels are Cityscapes label ids (uint8).
    """
    return [(scene.image, scene.label_ids) for scene in
            (render_scene(scene_rng(seed, "train", i), size) for i in range(first, first + int(count)))]
