"""Silhouettes of the twenty PASCAL VOC object classes, as vector sketches made of named parts.

:func:`sketch_object` returns a :class:`Sketch`: polygons in a local frame (``u`` to the right,
``v`` downwards, the object facing ``+u``), each painting one named part ("body", "window",
"wheel", ...; part 0 erases, e.g. the inside of a bicycle tyre).  The sketch is normalised to
height 1 and centred, so its box is ``u in [-aspect/2, aspect/2]``, ``v in [-0.5, 0.5]``, and it
stands on ``v = 0.5``.  :mod:`course_utils.data.voc_scenes` places, rotates, flips, stretches,
rasterises and colours it.

Each class has part variations drawn from ``rng`` (a cat walks or sits, a bird perches or flies,
a person walks or waves, a boat is a motorboat or a sailboat, a train is seen from the side or
the front, ...), so instances of a class differ in more than colour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course_utils._shared import as_generator, check_int

__all__ = ["Sketch", "sketch_object", "SKETCHED_CLASSES"]

Point = tuple[float, float]
_ANGLES = np.linspace(0, 2 * np.pi, 24, endpoint=False)  # the vertices of an ellipse
_COS, _SIN = np.cos(_ANGLES), np.sin(_ANGLES)


@dataclass
class Sketch:
    """An object as polygons of named parts in a local frame (see the module docstring).

    Attributes
    ----------
    parts : list of str
        Part names; stroke part ``k`` (1-based) is ``parts[k - 1]``, 0 erases.
    strokes : list of (int, ndarray (N, 2) float)
        Polygons ``(u, v)`` in drawing order (later ones paint over earlier ones).
    aspect : float
        Width / height of the normalised box.
    role : {"ground", "sky", "water"}
        Where the object goes: standing on the ground, flying, floating.
    """

    parts: list[str] = field(default_factory=list)
    strokes: list[tuple[int, np.ndarray]] = field(default_factory=list)
    aspect: float = 1.0
    role: str = "ground"

    def _part(self, name: str | None) -> int:
        if name is None:
            return 0
        if name not in self.parts:
            self.parts.append(name)
        return self.parts.index(name) + 1

    def poly(self, part: str | None, points, smooth: int = 0, closed: bool = True) -> Sketch:
        """A polygon; ``smooth`` rounds of Chaikin corner cutting make it organic."""
        pts = np.asarray(points, np.float64)
        for _ in range(smooth):
            pts = _chaikin(pts, closed)
        self.strokes.append((self._part(part), pts))
        return self

    def ellipse(self, part: str | None, centre: Point, rx: float, ry: float, angle: float = 0.0) -> Sketch:
        a = np.deg2rad(angle)
        x, y = rx * _COS, ry * _SIN
        pts = np.stack([centre[0] + x * np.cos(a) - y * np.sin(a), centre[1] + x * np.sin(a) + y * np.cos(a)], 1)
        return self.poly(part, pts)

    def circle(self, part: str | None, centre: Point, r: float) -> Sketch:
        return self.ellipse(part, centre, r, r)

    def rect(self, part: str | None, p0: Point, p1: Point, radius: float = 0.0) -> Sketch:
        (x0, y0), (x1, y1) = p0, p1
        if radius:
            return self.poly(part, _rounded_rect(x0, y0, x1, y1, radius))
        return self.poly(part, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])

    def line(self, part: str | None, points, width: float, width_end: float | None = None) -> Sketch:
        """A thick polyline with round joints, tapering from ``width`` to ``width_end``."""
        pts = np.asarray(points, np.float64)
        widths = np.linspace(width, width if width_end is None else width_end, len(pts))
        for (a, b, wa, wb) in zip(pts[:-1], pts[1:], widths[:-1], widths[1:]):
            d = b - a
            n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9)
            self.poly(part, [a + n * wa / 2, b + n * wb / 2, b - n * wb / 2, a - n * wa / 2])
        joints = range(len(pts)) if len(pts) <= 4 else (0, len(pts) - 1)  # a smooth curve needs no joints
        for i in joints:
            self.circle(part, (float(pts[i][0]), float(pts[i][1])), widths[i] / 2)
        return self

    def curve(self, part: str | None, points, width: float, width_end: float | None = None) -> Sketch:
        """A smooth thick curve through the control ``points`` (an open Chaikin curve)."""
        pts = np.asarray(points, np.float64)
        for _ in range(2):
            pts = _chaikin(pts, closed=False)
        return self.line(part, pts, width, width_end)

    def normalised(self) -> Sketch:
        """Scaled to height 1 and centred on (0, 0) (bounds of the painting strokes)."""
        painted = np.concatenate([p for k, p in self.strokes if k > 0])
        lo, hi = painted.min(0), painted.max(0)
        scale = 1.0 / max(float(hi[1] - lo[1]), 1e-9)
        centre = (lo + hi) / 2
        strokes = [(k, (p - centre) * scale) for k, p in self.strokes]
        return Sketch(list(self.parts), strokes, float((hi[0] - lo[0]) * scale), self.role)


def _chaikin(pts: np.ndarray, closed: bool) -> np.ndarray:
    a = pts if closed else pts[:-1]
    b = np.roll(pts, -1, axis=0) if closed else pts[1:]
    q, r = 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b
    out = np.stack([q, r], 1).reshape(-1, 2)
    return out if closed else np.concatenate([pts[:1], out, pts[-1:]])


def _rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> np.ndarray:
    r = min(r, abs(x1 - x0) / 2, abs(y1 - y0) / 2)
    t = np.linspace(0, np.pi / 2, 6)
    arcs = []
    for (cx, cy, start) in ((x1 - r, y1 - r, 0), (x0 + r, y1 - r, np.pi / 2), (x0 + r, y0 + r, np.pi),
                            (x1 - r, y0 + r, 1.5 * np.pi)):
        arcs.append(np.stack([cx + r * np.cos(start + t), cy + r * np.sin(start + t)], 1))
    return np.concatenate(arcs)


def _wheel(sk: Sketch, c: Point, r: float, *, tyre: float, hub: float, spokes: int = 0) -> None:
    sk.circle("tyre", c, r)
    if spokes:
        sk.circle(None, c, r - tyre)
        for k in range(spokes):
            a = np.pi * k / spokes
            d = (r - tyre / 2) * np.array([np.cos(a), np.sin(a)])
            sk.line("frame", [np.asarray(c) - d, np.asarray(c) + d], 0.012)
    sk.circle("hub", c, hub)


# --- vehicles --------------------------------------------------------------------------------
def _aeroplane(sk: Sketch, rng: np.random.Generator) -> None:
    sk.role = "sky"
    if rng.random() < 0.7:  # side view: fuselage, fin, swept wing, engine, windows
        sk.line("body", [(-0.85, 0.0), (0.85, 0.0)], 0.2)
        sk.poly("body", [(0.8, -0.1), (1.02, 0.02), (0.8, 0.1)], smooth=1)
        sk.poly("tail", [(-0.6, -0.08), (-0.9, -0.5), (-1.05, -0.5), (-0.98, -0.02)])
        sk.poly("body", [(-0.78, 0.0), (-1.05, 0.06), (-1.08, 0.1), (-0.75, 0.08)])
        sweep = rng.uniform(0.25, 0.4)
        sk.poly("body", [(0.3, 0.04), (0.05, 0.04), (0.05 - sweep, 0.42), (0.16 - sweep, 0.42)])
        sk.ellipse("engine", (0.12, 0.18), 0.13, 0.06)
        for x in np.arange(-0.6, 0.62, 0.09):
            sk.circle("window", (float(x), -0.02), 0.022)
        sk.poly("window", [(0.78, -0.07), (0.9, -0.05), (0.86, -0.01), (0.76, -0.02)])
    else:  # seen from below: a cross of swept wings
        sk.line("body", [(-0.5, 0.0), (0.5, 0.0)], 0.11)
        sweep = rng.uniform(0.1, 0.25)
        for s in (-1, 1):
            sk.poly("body", [(0.12, 0.0), (-sweep, 0.55 * s), (-sweep - 0.1, 0.55 * s), (-0.1, 0.0)])
            sk.poly("tail", [(-0.38, 0.0), (-0.5, 0.18 * s), (-0.56, 0.18 * s), (-0.5, 0.0)])
            sk.ellipse("engine", (0.02 - sweep * 0.35, 0.22 * s), 0.07, 0.035)


def _bicycle(sk: Sketch, rng: np.random.Generator) -> None:
    r = rng.uniform(0.28, 0.33)
    rear, front = (-0.52, 0.5 - r), (0.52, 0.5 - r)
    for c in (rear, front):
        _wheel(sk, c, r, tyre=0.045, hub=0.035, spokes=int(rng.integers(3, 6)))
    bb = (-0.05, front[1] + 0.02)
    seat = (-0.17, -0.2 - rng.uniform(0, 0.08))
    head = (0.32, -0.2)
    w = 0.04
    for a, b in ((rear, bb), (bb, seat), (rear, seat), (bb, head), (head, front)):
        sk.line("frame", [a, b], w)
    if rng.random() < 0.7:
        sk.line("frame", [seat, head], w)
    sk.line("frame", [seat, (seat[0] - 0.03, seat[1] - 0.08)], 0.03)
    sk.poly("saddle", [(seat[0] - 0.14, seat[1] - 0.1), (seat[0] + 0.1, seat[1] - 0.11),
                       (seat[0] + 0.08, seat[1] - 0.06), (seat[0] - 0.13, seat[1] - 0.06)], smooth=1)
    bar = (head[0] - 0.02, head[1] - 0.14)
    sk.line("frame", [head, bar, (bar[0] - rng.uniform(0.05, 0.15), bar[1] - 0.02)], 0.03)
    sk.line("frame", [bb, (bb[0] + 0.05, bb[1] + 0.1)], 0.03)


def _boat(sk: Sketch, rng: np.random.Generator) -> None:
    sk.role = "water"
    if rng.random() < 0.5:  # motorboat: pointed hull, cabin with windows
        bow = rng.uniform(-0.25, -0.1)
        sk.poly("hull", [(-1.0, -0.05), (1.0, bow), (0.7, 0.3), (-0.9, 0.3)])
        sk.poly("stripe", [(-0.98, 0.05), (0.88, 0.02 + bow / 3), (0.82, 0.1), (-0.96, 0.12)])
        sk.poly("cabin", [(-0.55, -0.02), (-0.45, -0.35), (0.15, -0.35), (0.4, -0.04)])
        sk.poly("window", [(-0.4, -0.12), (-0.35, -0.28), (0.1, -0.28), (0.25, -0.12)])
        sk.line("cabin", [(-0.48, -0.4), (-0.48, -0.55)], 0.04)
    else:  # sailboat: small hull, mast, main sail and jib
        sk.poly("hull", [(-0.55, 0.28), (0.6, 0.25), (0.42, 0.5), (-0.45, 0.5)])
        top = -rng.uniform(1.0, 1.4)
        sk.line("mast", [(0.0, 0.28), (0.0, top)], 0.035)
        reach = rng.uniform(0.45, 0.6)
        sk.poly("sail", [(-0.03, top + 0.04), (-0.03, 0.18), (-reach, 0.18)], smooth=0)
        sk.poly("sail", [(0.04, top + 0.12), (0.04, 0.2), (reach * 0.8, 0.2)])
        sk.poly("stripe", [(-0.52, 0.33), (0.55, 0.3), (0.52, 0.35), (-0.5, 0.38)])


def _bus(sk: Sketch, rng: np.random.Generator) -> None:
    decker = rng.random() < 0.3
    top = -0.95 if decker else -0.5
    sk.rect("body", (-1.05, top), (1.05, 0.38), radius=0.08)
    rows = [(-0.78, -0.5), (-0.38, -0.08)] if decker else [(-0.38, -0.08)]
    for y0, y1 in rows:
        for x in np.arange(-0.95, 0.55, 0.3):
            sk.rect("window", (float(x), y0), (float(x) + 0.25, y1), radius=0.03)
    sk.rect("window", (0.78, rows[-1][0]), (1.0, 0.02), radius=0.03)
    sk.rect("window", (0.56, rows[-1][0]), (0.72, 0.3))
    sk.rect("stripe", (-1.05, 0.08), (0.56, 0.14))
    for x in (-0.62, 0.62):
        _wheel(sk, (x, 0.36), 0.15, tyre=0.06, hub=0.07)
    sk.rect("light", (0.96, 0.18), (1.05, 0.26))


def _car(sk: Sketch, rng: np.random.Generator) -> None:
    kind = rng.integers(3)  # saloon, hatchback, SUV
    roof = (-0.42, -0.5, -0.55)[kind]
    back = (-0.55, -0.78, -0.8)[kind]
    sk.poly("body", [(-1.12, -0.02), (-0.95, -0.1), (0.7, -0.08), (1.08, 0.02), (1.12, 0.3), (-1.12, 0.3)], smooth=1)
    sk.poly("body", [(back - 0.15, -0.05), (back, roof), (0.25, roof), (0.65, -0.05)], smooth=1)
    sk.poly("window", [(back + 0.05, -0.1), (back + 0.12, roof + 0.07), (-0.12, roof + 0.07), (-0.12, -0.1)])
    sk.poly("window", [(-0.06, -0.1), (-0.06, roof + 0.07), (0.22, roof + 0.07), (0.5, -0.1)])
    sk.rect("light", (1.02, 0.02), (1.12, 0.1))
    sk.rect("stripe", (-1.12, 0.12), (1.12, 0.16))
    for x in (-0.68, 0.7):
        _wheel(sk, (x, 0.3), 0.2, tyre=0.07, hub=0.09)


def _motorbike(sk: Sketch, rng: np.random.Generator) -> None:
    r = rng.uniform(0.22, 0.26)
    for x in (-0.6, 0.62):
        _wheel(sk, (x, 0.5 - r), r, tyre=0.08, hub=0.1)
    sk.poly("engine", [(-0.22, 0.02), (0.22, 0.0), (0.25, 0.25), (-0.15, 0.3)], smooth=1)
    sk.line("chrome", [(-0.1, 0.3), (-0.75, 0.15 + rng.uniform(-0.05, 0.05))], 0.06)
    sk.line("body", [(-0.6, 0.5 - r), (-0.15, 0.05)], 0.06)
    sk.poly("body", [(-0.7, -0.08), (-0.3, -0.14), (-0.3, -0.02), (-0.6, 0.02)], smooth=1)
    sk.ellipse("body", (0.1, -0.12), 0.22, 0.1, angle=-8)
    sk.poly("seat", [(-0.52, -0.14), (-0.1, -0.17), (-0.1, -0.09), (-0.48, -0.06)], smooth=1)
    sk.line("chrome", [(0.3, -0.25), (0.62, 0.5 - r)], 0.05)
    sk.line("tyre", [(0.3, -0.25), (0.22, -0.38 - rng.uniform(0, 0.08))], 0.035)
    sk.circle("light", (0.42, -0.17), 0.06)


def _train(sk: Sketch, rng: np.random.Generator) -> None:
    if rng.random() < 0.7:  # side view: long body, sloped nose, windows, bogies
        n = rng.uniform(0.2, 0.55)
        sk.poly("body", [(-1.6, -0.42), (1.1, -0.42), (1.1 + n, 0.05), (1.15 + n, 0.3), (-1.6, 0.3)], smooth=1)
        sk.poly("window", [(1.12, -0.36), (1.05 + n * 0.8, -0.05), (1.12, -0.05)])
        for x in np.arange(-1.45, 0.9, 0.28):
            sk.rect("window", (float(x), -0.3), (float(x) + 0.18, -0.08), radius=0.02)
        sk.rect("stripe", (-1.6, 0.05), (1.1 + n, 0.12))
        sk.rect("under", (-1.55, 0.28), (1.2, 0.4))
        for x0 in (-1.3, 0.7):
            for dx in (0.0, 0.25):
                _wheel(sk, (x0 + dx, 0.4), 0.1, tyre=0.04, hub=0.05)
    else:  # front view: cab face with a wide windscreen and two lamps
        sk.poly("body", [(-0.45, -0.35), (-0.3, -0.55), (0.3, -0.55), (0.45, -0.35), (0.48, 0.42), (-0.48, 0.42)],
                smooth=1)
        sk.poly("window", [(-0.36, -0.36), (-0.25, -0.48), (0.25, -0.48), (0.36, -0.36), (0.36, -0.08),
                           (-0.36, -0.08)])
        sk.rect("stripe", (-0.48, 0.05), (0.48, 0.13))
        for x in (-0.28, 0.28):
            sk.circle("light", (x, 0.24), 0.06)
        sk.rect("under", (-0.42, 0.42), (0.42, 0.5))


# --- animals ---------------------------------------------------------------------------------
def _legs(sk: Sketch, rng: np.random.Generator, part: str, tops: list[Point], *, width: float,
          swing: float, foot: str | None = None, knee: float = 0.0) -> None:
    for (x, y) in tops:
        dx = rng.uniform(-swing, swing)
        mid = (x + dx / 2 + knee, (y + 0.5) / 2)
        sk.line(part, [(x, y), mid, (x + dx, 0.47)], width, width * 0.7)
        if foot:
            sk.ellipse(foot, (x + dx + width * 0.15, 0.475), width * 0.5, 0.03)


def _cow(sk: Sketch, rng: np.random.Generator) -> None:
    sk.poly("body", [(-0.7, -0.2), (-0.3, -0.26), (0.25, -0.24), (0.42, -0.2), (0.47, 0.05), (0.3, 0.16),
                     (-0.3, 0.18), (-0.66, 0.12), (-0.76, -0.05)], smooth=3)
    _legs(sk, rng, "body", [(-0.58, 0.05), (-0.45, 0.08), (0.22, 0.08), (0.34, 0.05)], width=0.1, swing=0.1,
          foot="hoof")
    sk.ellipse("udder", (-0.36, 0.2), 0.09, 0.06)
    sk.curve("body", [(-0.74, -0.15), (-0.8, 0.0), (-0.79, 0.25)], 0.03)
    sk.ellipse("hoof", (-0.79, 0.27), 0.035, 0.05)
    dy = rng.uniform(0.0, 0.3)  # grazing lowers the head
    sk.poly("body", [(0.3, -0.2), (0.5, -0.25 + dy / 2), (0.56, -0.05 + dy / 2), (0.38, 0.05)])
    head = [(0.46, -0.28), (0.64, -0.28), (0.84, 0.02), (0.8, 0.1), (0.68, 0.12), (0.46, -0.05)]
    sk.poly("face", [(x, y + dy) for x, y in head], smooth=2)
    sk.ellipse("face", (0.48, -0.24 + dy), 0.09, 0.035, angle=-20)
    sk.curve("horn", [(0.56, -0.26 + dy), (0.55, -0.36 + dy), (0.62, -0.4 + dy)], 0.035, 0.015)
    sk.ellipse("nose", (0.8, 0.06 + dy), 0.05, 0.05)


def _horse(sk: Sketch, rng: np.random.Generator) -> None:
    sk.poly("body", [(-0.42, -0.16), (0.0, -0.2), (0.26, -0.18), (0.34, -0.06), (0.26, 0.08), (-0.3, 0.1),
                     (-0.46, 0.0)], smooth=3)
    gallop = rng.random() < 0.35
    swing = 0.22 if gallop else 0.1
    _legs(sk, rng, "body", [(-0.36, 0.0), (-0.26, 0.04), (0.14, 0.04), (0.24, 0.0)], width=0.065, swing=swing,
          foot="hoof", knee=0.03)
    down = rng.uniform(0.0, 0.35) if not gallop else 0.0
    neck_top, head = (0.42, -0.5 + down), (0.62, -0.3 + down)
    sk.poly("body", [(0.16, -0.18), (neck_top[0] - 0.02, neck_top[1]), (neck_top[0] + 0.1, neck_top[1] + 0.06),
                     (0.34, -0.05)], smooth=1)
    sk.line("body", [(neck_top[0] + 0.02, neck_top[1] + 0.04), head], 0.12, 0.07)
    sk.poly("body", [(neck_top[0], neck_top[1] - 0.02), (neck_top[0] + 0.02, neck_top[1] - 0.12),
                     (neck_top[0] + 0.07, neck_top[1] - 0.01)])
    sk.curve("mane", [(0.18, -0.2), (neck_top[0] - 0.04, neck_top[1] - 0.02), (neck_top[0] + 0.02, neck_top[1])],
             0.05)
    sk.curve("mane", [(-0.44, -0.12), (-0.56, 0.0), (-0.54, 0.22 if not gallop else 0.0)], 0.08, 0.04)


def _dog(sk: Sketch, rng: np.random.Generator) -> None:
    sk.poly("body", [(-0.5, -0.12), (0.0, -0.14), (0.28, -0.14), (0.4, 0.0), (0.3, 0.12), (0.0, 0.08),
                     (-0.48, 0.1), (-0.56, -0.02)], smooth=3)
    _legs(sk, rng, "body", [(-0.44, 0.02), (-0.34, 0.04), (0.18, 0.04), (0.28, 0.02)], width=0.1, swing=0.1,
          foot="body")
    wag = rng.uniform(-0.2, 0.15)
    sk.curve("body", [(-0.5, -0.08), (-0.66, -0.18 + wag / 2), (-0.72, -0.38 + wag)], 0.07, 0.035)
    hy = rng.uniform(-0.05, 0.08)
    sk.line("body", [(0.25, -0.08), (0.42, -0.28 + hy)], 0.18)
    sk.circle("body", (0.46, -0.32 + hy), 0.14)
    sk.poly("body", [(0.5, -0.38 + hy), (0.74, -0.3 + hy), (0.74, -0.2 + hy), (0.5, -0.2 + hy)], smooth=1)
    sk.circle("nose", (0.73, -0.28 + hy), 0.035)
    if rng.random() < 0.5:  # floppy ear
        sk.ellipse("ear", (0.38, -0.3 + hy), 0.05, 0.12, angle=20)
    else:  # pricked ears
        sk.poly("ear", [(0.36, -0.38 + hy), (0.38, -0.56 + hy), (0.48, -0.42 + hy)])
    sk.circle("eye", (0.54, -0.36 + hy), 0.02)


def _cat(sk: Sketch, rng: np.random.Generator) -> None:
    if rng.random() < 0.5:  # walking: slender, thin legs, tail up in a curl
        sk.poly("body", [(-0.45, -0.08), (0.0, -0.1), (0.3, -0.1), (0.36, 0.04), (0.2, 0.1), (-0.45, 0.1)],
                smooth=3)
        _legs(sk, rng, "body", [(-0.38, 0.04), (-0.3, 0.06), (0.18, 0.06), (0.26, 0.04)], width=0.065,
              swing=0.08, foot="body")
        curl = rng.uniform(-0.1, 0.1)
        sk.curve("body", [(-0.44, -0.02), (-0.66, -0.1), (-0.7 + curl, -0.42), (-0.58 + curl, -0.5)], 0.06, 0.045)
        head = (0.42, -0.16 + rng.uniform(-0.06, 0.04))
    else:  # sitting: pear-shaped body, tail curled around the paws
        sk.poly("body", [(-0.05, -0.2), (0.15, -0.12), (0.2, 0.25), (0.28, 0.48), (-0.3, 0.5), (-0.34, 0.22),
                         (-0.2, -0.08)], smooth=3)
        sk.curve("body", [(-0.3, 0.45), (-0.42, 0.38), (-0.45, 0.2)], 0.06, 0.04)
        sk.line("body", [(0.15, 0.0), (0.2, 0.48)], 0.07)
        head = (0.05, -0.3)
    r = 0.13
    sk.circle("body", head, r)
    for dx in (-0.07, 0.07):
        sk.poly("body", [(head[0] + dx - 0.06, head[1] - 0.07), (head[0] + dx * 1.4, head[1] - r - 0.11),
                         (head[0] + dx + 0.06, head[1] - 0.09)])
        sk.poly("ear", [(head[0] + dx - 0.03, head[1] - 0.1), (head[0] + dx * 1.4, head[1] - r - 0.07),
                        (head[0] + dx + 0.03, head[1] - 0.11)])
        sk.ellipse("eye", (head[0] + dx * 0.7, head[1] - 0.01), 0.025, 0.02)
    sk.poly("nose", [(head[0] - 0.02, head[1] + 0.04), (head[0] + 0.02, head[1] + 0.04), (head[0], head[1] + 0.065)])


def _sheep(sk: Sketch, rng: np.random.Generator) -> None:
    _legs(sk, rng, "leg", [(-0.4, 0.05), (-0.3, 0.08), (0.15, 0.08), (0.25, 0.05)], width=0.06, swing=0.06)
    sk.ellipse("wool", (-0.1, -0.07), 0.45, 0.22)
    for a in np.linspace(0, 2 * np.pi, 14, endpoint=False):
        r = rng.uniform(0.09, 0.13)
        sk.circle("wool", (-0.1 + 0.43 * np.cos(a), -0.07 + 0.2 * np.sin(a)), r)
    hy = rng.uniform(-0.05, 0.2)
    sk.ellipse("face", (0.42, -0.14 + hy), 0.09, 0.14, angle=-35)
    sk.ellipse("face", (0.35, -0.24 + hy), 0.09, 0.035, angle=-10)
    sk.circle("wool", (0.33, -0.18 + hy), 0.09)


def _bird(sk: Sketch, rng: np.random.Generator) -> None:
    if rng.random() < 0.55:  # flying: spread wings, up or down stroke
        sk.role = "sky"
        sk.ellipse("body", (0.0, 0.0), 0.38, 0.11)
        sk.circle("body", (0.36, -0.04), 0.1)
        sk.poly("beak", [(0.43, -0.07), (0.58, -0.02), (0.43, 0.0)])
        sk.poly("body", [(-0.3, -0.02), (-0.6, -0.1), (-0.62, 0.08), (-0.3, 0.05)])
        tip = rng.choice([-1.0, 1.0]) * rng.uniform(0.35, 0.6)
        for dx, scale in ((0.0, 1.0), (0.08, 0.7)):
            sk.poly("wing", [(0.12 + dx, -0.03), (-0.05 + dx, tip * 0.55 * scale),
                             (-0.35 + dx, tip * scale), (-0.18 + dx, 0.0)], smooth=1)
        sk.circle("eye", (0.4, -0.06), 0.02)
    else:  # perched: body tilted up, head, beak, tail, thin legs
        sk.ellipse("body", (0.0, 0.0), 0.3, 0.2, angle=-25)
        sk.circle("body", (0.24, -0.26), 0.13)
        long = rng.uniform(0.1, 0.22)
        sk.poly("beak", [(0.34, -0.31), (0.36 + long, -0.26), (0.34, -0.21)])
        sk.poly("body", [(-0.2, 0.05), (-0.52, 0.28), (-0.46, 0.35), (-0.14, 0.14)])
        sk.ellipse("wing", (-0.06, 0.02), 0.24, 0.12, angle=-20)
        for dx in (-0.02, 0.06):
            sk.line("leg", [(dx, 0.15), (dx + 0.02, 0.48)], 0.025)
        sk.circle("eye", (0.28, -0.29), 0.025)


def _person(sk: Sketch, rng: np.random.Generator) -> None:
    pose = rng.integers(3)  # standing, walking, waving
    stride = (0.04, rng.uniform(0.12, 0.18), 0.04)[pose]
    dress = rng.random() < 0.3
    for s in (-1, 1):
        hip, foot = (0.05 * s, 0.02), (stride * s + 0.03 * s, 0.46)
        knee = ((hip[0] + foot[0]) / 2 + 0.01, 0.24)
        sk.line("trousers", [hip, knee, foot], 0.075, 0.055)
        sk.ellipse("shoe", (foot[0] + 0.02, 0.475), 0.045, 0.028)
    if dress:
        sk.poly("shirt", [(-0.1, -0.05), (0.1, -0.05), (0.17, 0.22), (-0.17, 0.22)])
    sk.poly("shirt", [(-0.12, -0.31), (0.12, -0.31), (0.1, 0.04), (-0.1, 0.04)], smooth=1)
    for s in (-1, 1):
        shoulder = (0.1 * s, -0.28)
        if pose == 2 and s == 1:
            elbow, hand = (0.2, -0.4), (0.22 + rng.uniform(-0.05, 0.05), -0.56)
        else:
            a = rng.uniform(-0.08, 0.12) + (0.06 if pose == 1 else 0.0)
            elbow, hand = (0.13 * s + a * s * 0.3, -0.1), (0.14 * s + a * s, 0.08)
        sk.line("shirt", [shoulder, elbow], 0.06, 0.05)
        sk.line("skin", [elbow, hand], 0.045, 0.04)
        sk.circle("skin", hand, 0.03)
    sk.rect("skin", (-0.025, -0.37), (0.025, -0.3))
    sk.ellipse("skin", (0.0, -0.43), 0.065, 0.08)
    sk.ellipse("hair", (0.0, -0.47), 0.07, 0.05 + (0.02 if dress else 0.0))
    if dress:
        sk.ellipse("hair", (-0.045, -0.4), 0.03, 0.07)


# --- furniture and objects -------------------------------------------------------------------
def _bottle(sk: Sketch, rng: np.random.Generator) -> None:
    kind = rng.integers(3)  # wine, beer, plastic
    w, neck, shoulder = ((0.15, 0.45, 0.1), (0.13, 0.3, 0.12), (0.19, 0.18, 0.1))[kind]
    top = -0.05
    sk.rect("glass", (-w, top), (w, 0.5), radius=0.04)
    sk.poly("glass", [(-w, top + 0.02), (-w * 0.9, top - shoulder * 0.6), (-0.05, top - shoulder),
                      (0.05, top - shoulder), (w * 0.9, top - shoulder * 0.6), (w, top + 0.02)], smooth=2)
    sk.rect("glass", (-0.045, top - shoulder - neck), (0.045, top - shoulder + 0.02))
    sk.rect("cap", (-0.055, top - shoulder - neck - 0.06), (0.055, top - shoulder - neck + 0.01))
    sk.rect("label", (-w, 0.08), (w, 0.32 if kind != 2 else 0.2))
    if kind == 2:
        for y in (0.28, 0.38):
            sk.rect("cap", (-w, y), (w, y + 0.015))


def _chair(sk: Sketch, rng: np.random.Generator) -> None:
    splay = rng.uniform(0.0, 0.04)
    back_h = rng.uniform(0.45, 0.6)
    sk.line("wood", [(-0.16, 0.02), (-0.14 - splay, 0.44)], 0.04)  # back legs first
    sk.line("wood", [(0.22, 0.02), (0.24 + splay, 0.44)], 0.04)
    sk.poly("seat", [(-0.26, 0.0), (0.2, 0.0), (0.3, 0.1), (-0.18, 0.1)])
    sk.rect("wood", (-0.18, 0.1), (0.3, 0.14))
    sk.line("wood", [(-0.16, 0.12), (-0.18 - splay, 0.5)], 0.05)
    sk.line("wood", [(0.28, 0.12), (0.3 + splay, 0.5)], 0.05)
    sk.line("wood", [(-0.25, 0.02), (-0.27, -back_h)], 0.05)
    sk.line("wood", [(0.19, 0.02), (0.2, -back_h)], 0.05)
    sk.rect("seat", (-0.29, -back_h - 0.04), (0.22, -back_h + 0.12), radius=0.03)
    if rng.random() < 0.5:
        for x in (-0.12, -0.03, 0.06):
            sk.line("wood", [(x, -back_h + 0.1), (x, 0.0)], 0.03)
    else:
        sk.rect("seat", (-0.26, -back_h + 0.1), (0.19, -0.1))


def _diningtable(sk: Sketch, rng: np.random.Generator) -> None:
    depth = rng.uniform(0.1, 0.2)
    if rng.random() < 0.35:  # round top on a pedestal
        sk.rect("wood", (-0.05, 0.0), (0.05, 0.46))
        sk.ellipse("wood", (0.0, 0.47), 0.3, 0.04)
        sk.ellipse("top", (0.0, -0.02), 0.8, depth / 1.5)
        sk.rect("wood", (-0.8, -0.02), (0.8, 0.03))
        return
    for x in (-0.62, 0.62):
        sk.line("wood", [(x, -depth + 0.02), (x, 0.36)], 0.05)
    sk.poly("top", [(-0.7, -depth), (0.7, -depth), (0.85, 0.0), (-0.85, 0.0)])
    if rng.random() < 0.4:  # a tablecloth hanging over the edge
        hem = [(x, 0.26 + 0.03 * np.sin(9 * x)) for x in np.linspace(0.9, -0.9, 12)]
        sk.poly("cloth", [(-0.86, -0.01), (0.86, -0.01), *hem])
        sk.poly("cloth", [(-0.7, -depth), (0.7, -depth), (0.86, 0.0), (-0.86, 0.0)])
    else:
        sk.rect("wood", (-0.85, 0.0), (0.85, 0.07))
    for x in (-0.78, 0.78):
        sk.line("wood", [(x, 0.05), (x * 1.01, 0.5)], 0.06)


def _pottedplant(sk: Sketch, rng: np.random.Generator) -> None:
    kind = rng.integers(3)  # fan of leaves, bush, flowers
    base = 0.12
    if kind == 0:
        for a in np.linspace(-170, -10, int(rng.integers(7, 11))):
            a = np.deg2rad(a + rng.uniform(-8, 8))
            length = rng.uniform(0.3, 0.5)
            c = (0.5 * length * np.cos(a), base + 0.5 * length * np.sin(a))
            sk.ellipse("leaf", c, length / 2, rng.uniform(0.04, 0.07), angle=float(np.rad2deg(a)))
    elif kind == 1:
        for _ in range(12):
            c = (rng.uniform(-0.25, 0.25), base - rng.uniform(0.05, 0.4))
            sk.circle("leaf", c, rng.uniform(0.08, 0.14))
    else:
        for _ in range(int(rng.integers(4, 7))):
            tip = (rng.uniform(-0.3, 0.3), base - rng.uniform(0.3, 0.55))
            sk.curve("leaf", [(0.0, base), (tip[0] * 0.3, (base + tip[1]) / 2), tip], 0.025)
            sk.ellipse("leaf", ((tip[0] * 0.6), (base + tip[1]) / 2 + 0.05), 0.07, 0.03, angle=-30)
            sk.circle("flower", tip, rng.uniform(0.05, 0.08))
    sk.poly("pot", [(-0.2, base), (0.2, base), (0.15, 0.5), (-0.15, 0.5)])
    sk.rect("rim", (-0.22, base - 0.02), (0.22, base + 0.06))


def _sofa(sk: Sketch, rng: np.random.Generator) -> None:
    back = rng.uniform(0.35, 0.5)
    sk.rect("fabric", (-0.85, -back), (0.85, 0.1), radius=0.08)
    n = int(rng.integers(2, 4))
    xs = np.linspace(-0.78, 0.78, n + 1)
    for x0, x1 in zip(xs[:-1], xs[1:]):
        sk.rect("cushion", (float(x0) + 0.01, -back + 0.06), (float(x1) - 0.01, 0.06), radius=0.06)
        sk.rect("cushion", (float(x0) + 0.015, 0.02), (float(x1) - 0.015, 0.24), radius=0.05)
    arm = rng.uniform(0.1, 0.2)
    for x in (-1.0, 0.78):
        sk.rect("fabric", (x, -arm), (x + 0.22, 0.38), radius=0.08)
    sk.rect("fabric", (-0.95, 0.2), (0.95, 0.4))
    for x in (-0.88, 0.82):
        sk.rect("leg", (x, 0.38), (x + 0.06, 0.5))


def _tvmonitor(sk: Sketch, rng: np.random.Generator) -> None:
    if rng.random() < 0.3:  # an old box television
        sk.rect("frame", (-0.55, -0.5), (0.55, 0.45), radius=0.06)
        sk.rect("screen", (-0.45, -0.4), (0.3, 0.3), radius=0.08)
        for y in (-0.3, -0.15, 0.0):
            sk.circle("light", (0.42, y), 0.04)
        sk.rect("frame", (-0.45, 0.45), (0.45, 0.5))
        return
    wide = rng.uniform(0.6, 0.75)
    sk.rect("frame", (-0.05, 0.2), (0.05, 0.44))
    sk.poly("frame", [(-0.3, 0.5), (-0.25, 0.42), (0.25, 0.42), (0.3, 0.5)])
    sk.rect("frame", (-wide, -0.5), (wide, 0.28), radius=0.03)
    sk.rect("screen", (-wide + 0.05, -0.45), (wide - 0.05, 0.2))


_SKETCHERS: dict[int, Callable[[Sketch, np.random.Generator], None]] = {
    1: _aeroplane, 2: _bicycle, 3: _bird, 4: _boat, 5: _bottle, 6: _bus, 7: _car, 8: _cat, 9: _chair, 10: _cow,
    11: _diningtable, 12: _dog, 13: _horse, 14: _motorbike, 15: _person, 16: _pottedplant, 17: _sheep,
    18: _sofa, 19: _train, 20: _tvmonitor,
}

#: Class ids (1..20, :data:`course_utils.palettes.VOC_CLASSES` order) that :func:`sketch_object` draws.
SKETCHED_CLASSES: tuple[int, ...] = tuple(sorted(_SKETCHERS))


def sketch_object(cls: int, rng: np.random.Generator | int) -> Sketch:
    """A normalised sketch of one object of VOC class ``cls`` (1..20) with a random part variation.

    Parameters
    ----------
    cls : int
        The VOC class id (1 aeroplane ... 20 tvmonitor).
    rng : numpy.random.Generator or int (seed)

    Returns
    -------
    Sketch
        Height 1, centred, standing on ``v = 0.5``; ``aspect`` is its width / height.
    """
    cls = check_int(cls, "cls", 1, 20)
    sk = Sketch()
    _SKETCHERS[cls](sk, as_generator(rng))
    return sk.normalised()
