"""VOC-like scenes: two to four overlapping objects of the twenty PASCAL VOC classes in a room or outdoors.

The richer offline stand-in for PASCAL VOC 2012 (the ``"scenes"`` style of
:func:`course_utils.data.voc.write_synthetic_voc`).  A scene is composed in four steps:

1. a setting (indoor, or outdoors over grass, a road or water) and its background
   (:mod:`course_utils.data.voc_backdrops`): a horizon, light, texture;
2. two to ``max_objects`` objects of *different* classes that suit the setting, each a silhouette
   (:mod:`course_utils.data.voc_shapes`) with a random part variation, flipped, slightly rotated
   and stretched, placed where it belongs (standing on the ground, lower and larger when nearer;
   flying in the sky; floating on water) with a bounding box of about 5 % to 60 % of the image
   area;
3. drawn back to front (nearer objects occlude farther ones; each object stays at least 40 %
   visible), each with a shadow, colours, texture and shading (:mod:`course_utils.data.voc_looks`);
4. the label map gets VOC's void band along every boundary
   (:func:`course_utils.data.void_band.add_void_band`).

Background is on average well under 70 % of the labelled pixels (the scale range is designed
for it; ``tests/test_voc_scenes.py`` measures it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils._shared import as_generator, check_int
from course_utils.data.void_band import add_void_band
from course_utils.data.voc_backdrops import SETTINGS, Backdrop, draw_backdrop
from course_utils.data.voc_looks import paint_object
from course_utils.data.voc_shapes import Sketch, sketch_object
from course_utils.images import check_size

__all__ = ["SceneObject", "draw_voc_scene", "SCENE_SETTINGS", "MIN_BOX_FRACTION", "MAX_BOX_FRACTION"]

#: Probability of each setting (the classes each allows: :data:`~course_utils.data.voc_backdrops.SETTINGS`).
SCENE_SETTINGS: dict[str, float] = {"indoor": 0.35, "grass": 0.3, "road": 0.2, "water": 0.15}
#: The range of an object's drawn box, as a fraction of the image area (before truncation by the frame).
MIN_BOX_FRACTION, MAX_BOX_FRACTION = 0.05, 0.6
_MIN_VISIBLE = 0.4  # share of an object's pixels that nearer objects may not hide
#: How many objects a scene holds (2, 3, 4 when ``max_objects=4``; renormalised for fewer).
_COUNT_WEIGHTS = (0.25, 0.35, 0.4)


def _class_weights() -> dict[str, np.ndarray]:
    """Per setting, weights that make every class about equally frequent over all scenes.

    A class allowed in many settings (person, dog) would otherwise appear far more often than one
    allowed in one (boat, sofa): each is weighted by the inverse of how often it would be drawn.
    """
    often: dict[int, float] = {}
    for setting, p in SCENE_SETTINGS.items():
        for c in SETTINGS[setting]:
            often[c] = often.get(c, 0.0) + p / len(SETTINGS[setting])
    return {s: np.array([1 / often[c] for c in SETTINGS[s]]) / sum(1 / often[c] for c in SETTINGS[s])
            for s in SETTINGS}


_CLASS_WEIGHTS = _class_weights()


@dataclass(frozen=True)
class SceneObject:
    """One object of a scene, as drawn.

    Attributes
    ----------
    cls : int
        VOC class id (1..20).
    depth : int
        Drawing order (0 is drawn first, i.e. farthest).
    box : (x0, y0, x1, y1) ints
        Tight box of its silhouette inside the image, pixels (``x1``, ``y1`` exclusive).
    box_fraction : float
        Area of ``box`` / image area.
    pixel_fraction : float
        Its silhouette's pixels inside the image / image pixels (before occlusion).
    visible_fraction : float
        Pixels it keeps in the label map (before the void band) / image pixels.
    occluded : float
        Share of its silhouette hidden by nearer objects, in [0, 1 - 0.4].
    """

    cls: int
    depth: int
    box: tuple[int, int, int, int]
    box_fraction: float
    pixel_fraction: float
    visible_fraction: float
    occluded: float


@dataclass
class _Placed:
    cls: int
    sketch: Sketch
    parts: np.ndarray  # (H, W) uint8 part ids
    key: float  # larger is nearer: the bottom row of what stands or floats, far less for what flies
    height: float
    foot: tuple[float, float, float] | None  # (x, y, half width) of the shadow, for standing objects


def _rasterise(sk: Sketch, shape: tuple[int, int], centre: tuple[float, float], height: float, stretch: float,
               flip: int, angle: float) -> np.ndarray:
    import cv2

    out = np.zeros(shape, np.uint8)
    c, s = math.cos(angle), math.sin(angle)
    pts = np.concatenate([p for _, p in sk.strokes])  # one transform for all strokes, in 1/16 pixels
    u, v = pts[:, 0] * (flip * stretch * height), pts[:, 1] * height
    xy = np.round(np.stack([centre[0] + u * c - v * s, centre[1] + u * s + v * c], 1) * 16).astype(np.int32)
    lengths = np.array([len(p) for _, p in sk.strokes])
    ends = np.cumsum(lengths)
    for (k, _), start, end in zip(sk.strokes, ends - lengths, ends):
        cv2.fillPoly(out, [xy[start:end]], int(k), lineType=cv2.LINE_8, shift=4)
    return out


def _place(rng: np.random.Generator, cls: int, sk: Sketch, bd: Backdrop, shape: tuple[int, int],
           shrink: float) -> _Placed:
    h, w = shape
    area = (MIN_BOX_FRACTION + (MAX_BOX_FRACTION - MIN_BOX_FRACTION) * rng.random() ** 0.8) * shrink ** 2
    side, lo, hi = math.sqrt(area), math.sqrt(MIN_BOX_FRACTION), math.sqrt(MAX_BOX_FRACTION)
    stretch = rng.uniform(0.85, 1.15)
    aspect = sk.aspect * stretch
    height = math.sqrt(area * h * w / aspect)
    height = min(height, 1.0 * h, (2.0 if cls == 19 else 1.35) * w / aspect)  # trains may leave the frame
    width = aspect * height
    role = sk.role if bd.setting != "indoor" else "ground"
    if role == "water" and bd.setting != "water":
        role = "ground"
    flip = 1 if rng.random() < 0.5 else -1
    angle = math.radians(rng.uniform(-20, 20) if role == "sky" else float(np.clip(rng.normal(0, 4), -10, 10)))
    cx = rng.uniform(0.2 * width, w - 0.2 * width) if 0.4 * width < w else w / 2
    near = float(np.clip((side - lo) / (hi - lo) + rng.normal(0, 0.25), 0.05, 1.0))
    foot = None
    if role == "sky":
        cy = rng.uniform(0.12 * h + 0.25 * height, max(0.12 * h + 0.25 * height, bd.horizon - 0.1 * height) + 1)
        bottom = cy + height / 2
    else:
        top, end = (bd.horizon, bd.shore) if role == "water" else (bd.shore, 1.03 * h)
        bottom = top + 0.12 * (end - top) + (end - top) * 0.88 * near
        bottom = max(bottom, min(height * 0.7, end))  # not floating high above the frame
        cy = bottom - height / 2
        foot = (cx, bottom, width / 2)
    parts = _rasterise(sk, shape, (cx, cy), height, stretch, flip, angle)
    key = bottom if role != "sky" else bottom - 1.5 * h  # what flies is mostly far: drawn first
    return _Placed(cls, sk, parts, key, height, foot if role == "ground" else None)


def _owners(placed: list[_Placed], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) int: index into ``placed`` of the object seen at each pixel, -1 for background."""
    owner = np.full(shape, -1, np.int32)
    for i in sorted(range(len(placed)), key=lambda i: placed[i].key):
        owner[placed[i].parts > 0] = i
    return owner


def _all_visible(placed: list[_Placed], shape: tuple[int, int]) -> bool:
    owner = _owners(placed, shape)
    for i, p in enumerate(placed):
        own = int(np.count_nonzero(p.parts))
        if own < 0.004 * shape[0] * shape[1] or np.count_nonzero(owner == i) < _MIN_VISIBLE * own:
            return False
    return True


def _choose_objects(rng: np.random.Generator, bd: Backdrop, shape: tuple[int, int], n: int) -> list[_Placed]:
    """``n`` objects of different classes that suit ``bd.setting``, each still visible behind the others."""
    classes = SETTINGS[bd.setting]
    queue = [int(c) for c in rng.choice(classes, size=len(classes), replace=False, p=_CLASS_WEIGHTS[bd.setting])]
    placed: list[_Placed] = []
    while queue and len(placed) < n:
        cls = queue.pop(0)
        sk = sketch_object(cls, rng)
        for attempt in range(15):
            candidate = _place(rng, cls, sk, bd, shape, shrink=0.9 ** (attempt // 3))
            if _all_visible([*placed, candidate], shape):
                placed.append(candidate)
                break
    return placed


def _shadow(image: np.ndarray, foot: tuple[float, float, float], light: tuple[float, float]) -> None:
    import cv2

    x, y, half = foot
    mask = np.zeros(image.shape[:2], np.float32)
    centre = (int(round(x - 0.3 * half * light[0])), int(round(y - 1)))
    cv2.ellipse(mask, centre, (max(1, int(half * 0.95)), max(1, int(half * 0.12))), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.8, half * 0.08))
    image *= (1 - 0.45 * mask)[..., None]


def _rails(image: np.ndarray, y: float, height: float) -> None:
    """A railway track across the image whose rails lie at row ``y`` (under a train ``height`` tall)."""
    h, w = image.shape[:2]
    gap = max(2, int(round(0.05 * height)))
    top = int(round(y)) - gap
    if top >= h:
        return
    for x in range(int(gap * 0.5), w, max(3, 2 * gap)):
        image[max(top, 0):min(top + 2 * gap, h), x:x + max(1, gap // 2 + 1)] = (95, 75, 55)
    for row in (top, top + gap):
        if 0 <= row < h:
            image[row:row + max(1, gap // 3)] = (150, 150, 155)


def draw_voc_scene(rng: np.random.Generator | int, size: tuple[int, int] = (128, 128), *, max_objects: int = 4,
                   void_radius: int | None = None, return_objects: bool = False):
    """One VOC-like scene: 2..``max_objects`` overlapping objects of different VOC classes on a background.

    Objects are drawn back to front with bounding boxes of about 5 % to 60 % of the image *area*
    (:data:`MIN_BOX_FRACTION`, :data:`MAX_BOX_FRACTION`; the frame may cut them), of classes that
    suit the setting (aeroplanes and flying birds in the sky, boats on water, sofas indoors).

    Parameters
    ----------
    rng : numpy.random.Generator or int (seed)
        The only source of randomness: the same seed gives the same bytes.
    size : (H, W)
        Pixels; both at least 32.
    max_objects : int
        2..4.
    void_radius : int, optional
        Half-width of the void band in pixels; default ``max(1, round(min(H, W) / 200))`` (as the
        clipart scenes).
    return_objects : bool
        Also return the drawn objects.

    Returns
    -------
    image : ndarray (H, W, 3) uint8 RGB
    labels : ndarray (H, W) uint8
        0 background, 1..20 the VOC classes, 255 void.
    objects : list of SceneObject
        Only with ``return_objects=True``: the objects in drawing order (back to front).
    """
    import cv2

    rng = as_generator(rng)
    h, w = check_size(size, "size", 32)
    max_objects = check_int(max_objects, "max_objects", 2, 4)
    void_radius = max(1, int(round(min(h, w) / 200))) if void_radius is None else \
        check_int(void_radius, "void_radius", 0, min(h, w))
    names = list(SCENE_SETTINGS)
    setting = names[int(rng.choice(len(names), p=np.array(list(SCENE_SETTINGS.values()))))]
    image, bd = draw_backdrop(rng, (h, w), setting)
    counts = np.array(_COUNT_WEIGHTS[:max_objects - 1])
    placed = _choose_objects(rng, bd, (h, w), 2 + int(rng.choice(len(counts), p=counts / counts.sum())))
    order = sorted(range(len(placed)), key=lambda i: placed[i].key)
    for i in order:
        p = placed[i]
        if p.foot is not None:
            if p.cls == 19:
                _rails(image, p.foot[1], p.height)
            _shadow(image, p.foot, bd.light)
        colours = paint_object(rng, p.cls, p.sketch.parts, p.parts, light=bd.light, size=p.height)
        inside = p.parts > 0
        image[inside] = colours[inside]
    image = cv2.GaussianBlur(image, (0, 0), 0.5) + rng.normal(0, 2.5, (h, w, 1)).astype(np.float32)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    owner = _owners(placed, (h, w))
    labels = np.zeros((h, w), np.uint8)
    for i, p in enumerate(placed):
        labels[owner == i] = p.cls
    labels = add_void_band(labels, void_radius)
    if not return_objects:
        return image, labels
    objects = []
    for depth, i in enumerate(order):
        p = placed[i]
        ys, xs = np.nonzero(p.parts)
        own, seen = len(ys), int(np.count_nonzero(owner == i))
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        objects.append(SceneObject(p.cls, depth, box, (box[2] - box[0]) * (box[3] - box[1]) / (h * w),
                                   own / (h * w), seen / (h * w), 1 - seen / own))
    return image, labels, objects
