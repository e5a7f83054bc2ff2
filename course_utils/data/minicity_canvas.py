"""MiniCity's painting tools: the label table, the scene, the pinhole camera, the canvas, shapes, the photograph.

:mod:`course_utils.data.minicity_painter` lays out a street and paints it with these;
:mod:`course_utils.data.minicity` writes the frames in the Cityscapes layout.

* :func:`check_size` -- a frame size ``(H, W)``;
* :class:`Scene` -- one rendered frame (image, label ids, instance ids, polygons);
* :class:`Camera` -- a pinhole camera ``x = cx + f X / Z``, ``y = cy + f (h - Y) / Z`` above a
  (possibly curving) road;
* :class:`Canvas` -- label, instance and colour maps drawn polygon by polygon (``cv2.fillPoly``),
  recording the polygons as ``*_gtFine_polygons.json`` does;
* :func:`jitter`, :func:`shaded`, :func:`circle`, :func:`segment`, :func:`ring` -- colours and shapes;
* :func:`photograph` -- the camera's image of a painted canvas (textures, clouds, light, blur, noise).

Label ids, names and colours come from the official ``cityscapesscripts.helpers.labels`` table
(:func:`label_of`). Changing anything here changes the frames: bump
:data:`course_utils.data.minicity.GENERATOR_VERSION`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from course_utils._shared import check_int, check_sequence

__all__ = ["check_size", "Scene", "Camera", "Canvas", "label_of", "jitter", "shaded", "circle", "segment", "ring", "photograph",
           "BUILDING_COLORS", "CAR_COLORS", "BUS_COLORS", "CLOTHES", "SKIN"]


def check_size(size) -> tuple[int, int]:
    """``size`` as ``(H, W)`` ints, each >= 16 (a frame's size in pixels)."""
    pair = check_sequence(size, "size", lambda s, name: check_int(s, name, 16), min_length=2, what="ints (H, W)")
    if len(pair) != 2:
        raise ValueError(f"size must be a pair of ints (H, W), each >= 16, got {size!r}")
    return pair[0], pair[1]


# --------------------------------------------------------------------------- label table


def _label_table():
    from cityscapesscripts.helpers.labels import labels

    return {lab.name: lab for lab in labels if lab.id >= 0}


_LABELS = None


def label_of(name: str):
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
class Camera:
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


class Canvas:
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
        lab = label_of(name)
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
        lab = label_of(name)
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


def jitter(rng: np.random.Generator, color, amount: float = 18.0) -> np.ndarray:
    return np.clip(np.asarray(color, float) + rng.normal(0, amount, 3), 0, 255)


def shaded(color, factor: float) -> np.ndarray:
    return np.clip(np.asarray(color, float) * factor, 0, 255)


def circle(cx: float, cy: float, rx: float, ry: float | None = None, n: int = 16, rng=None, wobble: float = 0.0):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n) if rng is None or wobble == 0 else 1 + wobble * rng.uniform(-1, 1, n)
    ry = rx if ry is None else ry
    return np.stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)], axis=1)


def segment(p0, p1, width: float) -> np.ndarray:
    """A quad of ``width`` (pixels) around the segment p0-p1: a thin structure as a polygon."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    n = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-9) * (width / 2)
    return np.array([p0 + n, p1 + n, p1 - n, p0 - n])


def ring(cx: float, cy: float, r: float, width: float, n: int = 14) -> list[np.ndarray]:
    t = np.linspace(0, 2 * np.pi, n + 1)
    pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)
    return [segment(pts[i], pts[i + 1], width) for i in range(n)]


# --------------------------------------------------------------------------- palettes

BUILDING_COLORS = [(205, 185, 150), (160, 80, 60), (140, 140, 140), (190, 190, 185), (215, 205, 180),
                    (120, 110, 100), (175, 150, 120), (200, 160, 140), (150, 160, 170), (95, 95, 100)]
CAR_COLORS = [(20, 20, 22), (230, 230, 230), (140, 140, 145), (180, 182, 185), (150, 20, 20),
               (30, 50, 120), (60, 70, 60), (90, 90, 95), (200, 170, 40), (110, 30, 40)]
BUS_COLORS = [(230, 190, 30), (200, 40, 40), (235, 235, 235), (40, 90, 170), (60, 140, 80)]
CLOTHES = [(30, 30, 35), (200, 200, 200), (40, 60, 120), (120, 30, 30), (90, 80, 60), (60, 100, 60),
            (170, 120, 60), (150, 150, 160), (20, 30, 60), (180, 60, 110)]
SKIN = [(230, 190, 160), (200, 150, 110), (140, 95, 65), (90, 60, 40)]


# --------------------------------------------------------------------------- the photograph


def photograph(c: Canvas, rng: np.random.Generator, weather: str, px: float) -> np.ndarray:
    """The camera's image of a painted canvas: textures by class, clouds, shading, light, blur, noise.

    Parameters
    ----------
    c : Canvas
        The painted flat colours, labels and shading.
    rng : numpy.random.Generator
        Draws the textures and the light (the scene's generator, continued).
    weather : {'sunny', 'overcast', 'dusk'}
    px : float
        Pixels per pixel of the quick size (1 at 256 x 512): blur widths scale with it.

    Returns
    -------
    ndarray, (H, W, 3) uint8
    """
    import cv2

    h, w = c.labels.shape
    img = c.image.astype(np.float32)

    def noise(cells_y: int, cells_x: int) -> np.ndarray:
        small = rng.standard_normal((cells_y, cells_x), dtype=np.float32)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)

    low, mid = noise(4, 8), noise(max(h // 24, 2), max(w // 24, 2))
    fine = cv2.GaussianBlur(rng.standard_normal((h, w), dtype=np.float32), (0, 0), 0.6 * px)
    fine /= max(float(fine.std()), 1e-6)
    # multiplicative texture strength by label id: (low, mid, fine)
    amp = np.zeros((256, 3), np.float32)
    amp[:] = (0.05, 0.03, 0.03)
    for name, a in {"road": (0.10, 0.05, 0.07), "sidewalk": (0.08, 0.06, 0.06), "building": (0.08, 0.06, 0.04),
                    "vegetation": (0.12, 0.30, 0.22), "terrain": (0.10, 0.18, 0.14), "sky": (0.04, 0.0, 0.01),
                    "wall": (0.06, 0.08, 0.06), "parking": (0.1, 0.05, 0.07), "rail track": (0.1, 0.08, 0.1)}.items():
        amp[label_of(name).id] = a
    a = amp[c.labels]
    factor = 1 + a[..., 0] * low + a[..., 1] * mid + a[..., 2] * fine
    img *= factor[..., None]
    sky = c.labels == label_of("sky").id
    if weather != "overcast" or rng.random() < 0.5:  # clouds
        clouds = np.clip(noise(5, 10) * 0.6 + noise(10, 20) * 0.3 - rng.uniform(0.1, 0.6), 0, 1)[..., None]
        cloud_color = np.array((235, 235, 240) if weather != "dusk" else (250, 200, 170), np.float32)
        img = np.where(sky[..., None], img * (1 - clouds) + cloud_color * clouds, img)
    shade = cv2.GaussianBlur(c.shade, (0, 0), 0.8 * px)
    img *= shade[..., None]
    # light: exposure, white balance, a gradient across the frame, vignetting, gamma
    light = {"sunny": 1.05, "overcast": 0.92, "dusk": 0.75}[weather]
    gain = light * rng.uniform(0.75, 1.2) * np.exp(rng.normal(0, 0.05, 3)).astype(np.float32)
    xx = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
    yy = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
    grad = 1 + rng.uniform(-0.15, 0.15) * xx + rng.uniform(-0.1, 0.1) * yy
    vignette = 1 - rng.uniform(0.1, 0.35) * (xx ** 2 + yy ** 2)
    img *= (grad * vignette)[..., None] * gain.astype(np.float32)
    img = np.float32(255.0) * np.clip(img * np.float32(1 / 255.0), 0, 1) ** np.float32(rng.uniform(0.85, 1.15))
    blur = rng.uniform(0.3, 0.9) * px
    img = cv2.GaussianBlur(img, (0, 0), blur)
    img += rng.uniform(2, 7) * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)
