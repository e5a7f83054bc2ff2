"""MiniCity's painter: a random street laid out in 3-D and painted far to near, frame by frame.

A scene is a street seen by a camera 1.2-1.6 m above a (possibly curving) road: buildings with
windows (and sometimes a distant skyline), sky with clouds, trees, hedges, grass verges, walls,
fences, poles, street lights, traffic signs and lights, cars, trucks, buses, trams on rails,
pedestrians, cyclists and motorcyclists (riders), parked bicycles, and void classes (ego vehicle,
parking, static objects, guard rails, bridges) that evaluation ignores. The tools (camera, canvas,
shapes, the photograph) are in :mod:`course_utils.data.minicity_canvas`; writing frames to disk in
the Cityscapes layout is :mod:`course_utils.data.minicity`.

* :func:`scene_rng` -- the generator of frame ``index`` of a split: ``(seed, split, index)`` alone;
* :func:`render_scene` -- one :class:`~course_utils.data.minicity_canvas.Scene` at any size (quick
  and full size show the same scene at two resolutions).

Changing anything here changes the frames: bump :data:`course_utils.data.minicity.GENERATOR_VERSION`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils._shared import check_choice, check_int
from course_utils.data.minicity_canvas import (BUILDING_COLORS, BUS_COLORS, CAR_COLORS, CLOTHES, SKIN, Camera, Canvas,
                                               Scene, check_size, circle, jitter, label_of, photograph, ring, segment,
                                               shaded)

__all__ = ["QUICK_SIZE", "FULL_SIZE", "scene_rng", "render_scene"]

QUICK_SIZE: tuple[int, int] = (256, 512)
FULL_SIZE: tuple[int, int] = (1024, 2048)
_SPLIT_INDEX = {"train": 0, "val": 1}


# --------------------------------------------------------------------------- the scene


class _Street:
    """Random street layout for one frame; ``render`` paints it."""

    def __init__(self, rng: np.random.Generator, size: tuple[int, int]) -> None:
        self.rng = rng
        h, w = size
        self.size = size
        self.px = w / 512.0  # 1 at quick size
        self.cam = Camera(
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
            "road": jitter(rng, (grey, grey, grey * rng.uniform(0.95, 1.08)), 6),
            "sidewalk": jitter(rng, [(150, 150, 150), (175, 160, 140), (165, 120, 110), (190, 190, 185)][rng.integers(4)], 12),
            "terrain": jitter(rng, [(95, 130, 55), (120, 140, 70), (140, 125, 85)][rng.integers(3)], 12),
            "vegetation": jitter(rng, [(45, 85, 35), (65, 100, 40), (35, 70, 40)][rng.integers(3)], 10),
            "parking": jitter(rng, (grey * 1.1, grey * 1.1, grey * 1.1), 8),
            "pole": jitter(rng, [(120, 120, 125), (60, 70, 60), (40, 40, 45), (150, 150, 150)][rng.integers(4)], 8),
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
        canvas = Canvas(*self.size)
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
        image = photograph(canvas, rng, self.weather, self.px)
        return Scene(image, canvas.labels, canvas.instances, canvas.polygons)

    def _sky(self, c: Canvas) -> None:
        h, w = self.size
        top, bottom = {
            "sunny": ((70, 120, 200), (175, 205, 235)),
            "overcast": ((165, 170, 178), (205, 208, 212)),
            "dusk": ((70, 80, 130), (240, 165, 110)),
        }[self.weather]
        top, bottom = jitter(self.rng, top, 8), jitter(self.rng, bottom, 8)
        c.fill(np.array([[0, 0], [w, 0], [w, h], [0, h]], float), "sky", bottom)
        t = np.clip(np.arange(h, dtype=np.float32) / max(self.cam.cy, 1), 0, 1)[:, None, None]
        grad = top[None, None, :] * (1 - t) + bottom[None, None, :] * t
        c.image[:] = np.broadcast_to(grad, c.image.shape).astype(np.uint8)

    def _skyline(self, c: Canvas) -> None:
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
                c.fill(pts, "vegetation", shaded(self.colors["vegetation"], 1 - haze) + haze * sky)
            else:
                col = np.asarray(BUILDING_COLORS[rng.integers(len(BUILDING_COLORS))], float)
                c.fill(self.front(x, x + width, 0, rng.uniform(10, 45), z), "building", col * (1 - haze) + haze * sky)
            x += width + (rng.uniform(0, 10) if rng.random() < 0.3 else 0)

    def _ground(self, c: Canvas) -> None:
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
                c.fill(self.strip(x - 0.6, x + 0.6, z0, z1), "rail track", shaded(col["road"], 0.85))
                for dx in (-0.3, 0.3):
                    c.paint([self.strip(x + dx - 0.04, x + dx + 0.04, z0, z1)], (170, 170, 175))
        # lane markings: dashed between lanes, solid at the edges, a zebra crossing now and then
        white = jitter(rng, (225, 225, 220), 8)
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
                    shaded(col["road"], rng.uniform(0.75, 1.15)))
        cracks = []
        for _ in range(int(rng.integers(0, 6))):
            zc, xc = rng.uniform(z0, 40), rng.uniform(*self.road)
            steps = rng.normal(0, 0.4, (6, 2)).cumsum(axis=0)
            cracks.append(cam.project(xc + steps[:, 0], 0, zc + np.abs(steps[:, 1]) * 3))
        c.lines(cracks, shaded(col["road"], 0.55), max(1, int(self.px)))
        # sidewalk tiles and curbs
        tiles = []
        for side, s in ((0, -1), (1, 1)):
            inner, outer = self.curb[side], self.curb[side] + s * self.walk[side]
            for z in np.arange(z0 - z0 % 1.2, min(z1, 70), rng.uniform(0.9, 1.6)):
                tiles.append(cam.project(np.array([inner, outer]), 0, z))
            c.paint([self.strip(min(inner, inner + s * 0.25), max(inner, inner + s * 0.25), z0, z1)],
                    shaded(col["sidewalk"], 1.18))
        c.lines(tiles, shaded(col["sidewalk"], 0.75), 1)
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
        color = jitter(rng, BUILDING_COLORS[rng.integers(len(BUILDING_COLORS))], 14)
        lit = 1.1 if side == self.sun_side else 0.8
        window = jitter(rng, [(40, 50, 65), (70, 85, 100), (25, 25, 30), (120, 140, 160)][rng.integers(4)], 10)
        floor = rng.uniform(2.8, 3.6)
        spacing = rng.uniform(1.8, 3.5)
        shop = rng.random() < 0.5
        depth = rng.uniform(8, 20)

        def draw(c: Canvas) -> None:
            face = self.wall(xf, 0, height, z0, z1)
            c.fill(face, "building", shaded(color, lit))
            if shop:
                c.paint([self.wall(xf, 0, 3.2, z0, z1)], shaded(jitter(rng, (90, 80, 70), 30), lit))
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
                c.paint(list(quads[keep]), shaded(window, lit))
                bright = rng.random(len(quads)) < (0.25 if self.weather == "dusk" else 0.06)
                c.paint(list(quads[bright & keep]), (230, 220, 170) if self.weather == "dusk" else shaded(window, 1.8))
            # the front wall facing the camera when it is visible past the corner
            if z0 > 2:
                x_out = xf + side * depth
                front = self.front(min(xf, x_out), max(xf, x_out), 0, height, z0)
                c.fill(front, "building", shaded(color, 0.9 * lit))
                xs = np.arange(min(xf, x_out) + 0.8, max(xf, x_out) - 1.0, spacing)
                ys2 = np.arange(1.0, height - 1.2, floor)
                if len(xs) and len(ys2):
                    xx, yy2 = np.meshgrid(xs, ys2, indexing="ij")
                    xx, yy2 = xx.ravel()[:, None], yy2.ravel()[:, None]
                    quads = self.cam.project(xx + np.array([0, 1, 1, 0]) * spacing * 0.55,
                                             yy2 + np.array([0, 0, 1, 1]) * floor * 0.5, z0)
                    c.paint(list(quads), shaded(window, 0.9 * lit))
            c.lines([self.wall(xf, height - 0.4, height - 0.4, z0, z1, n=8)[:8]], shaded(color, 0.6), 1)

        return draw

    def _park(self, side: int, xf: float, z0: float, z1: float, layer2: list) -> None:
        rng = self.rng
        col = self.colors
        if rng.random() < 0.6:  # hedge
            top = rng.uniform(0.8, 1.8)
            phase = rng.uniform(0, 6)

            def hedge(c: Canvas, x=xf - side * 0.3) -> None:
                c.fill(self.wall(x, 0, lambda z: top + 0.15 * np.sin(z * 1.3 + phase), z0, z1, n=24),
                       "vegetation", shaded(col["vegetation"], 1.05))

            layer2.append((z0 + 0.01, hedge))
        for z in np.arange(z0 + rng.uniform(0, 4), z1, rng.uniform(4, 9)):
            layer2.append((z, self._tree_fn(xf + side * rng.uniform(0, 6), z)))

    def _tree_fn(self, x: float, z: float) -> Callable:
        rng = self.rng
        trunk_h, crown = rng.uniform(1.8, 4), rng.uniform(1.3, 3.5)
        color = jitter(rng, self.colors["vegetation"], 12)
        trunk = jitter(rng, (80, 65, 50), 10)
        wobble = rng.uniform(0.08, 0.25)
        seed = int(rng.integers(1 << 30))

        def draw(c: Canvas) -> None:
            s = self.cam.scale(z)
            bx, by = self.cam.project(x, 0, z)
            c.fill(segment((bx, by), (bx, by - trunk_h * s), max(0.25 * s, 1.0)), "vegetation", trunk)
            cy = by - (trunk_h + crown * 0.8) * s
            blob = circle(bx, cy, crown * s, crown * s * 0.9, n=22, rng=np.random.default_rng(seed), wobble=wobble)
            c.fill(blob, "vegetation", color)
            c.paint([circle(bx - crown * s * 0.3, cy - crown * s * 0.25, crown * s * 0.45, n=10)], shaded(color, 1.25))

        return draw

    def _wall_fn(self, x: float, z0: float, z1: float) -> Callable:
        top = self.rng.uniform(0.6, 2.0)
        color = jitter(self.rng, [(160, 160, 155), (150, 120, 100), (110, 110, 115)][self.rng.integers(3)], 10)

        def draw(c: Canvas) -> None:
            c.fill(self.wall(x, 0, top, z0, z1), "wall", color)
            c.lines([self.cam.project(x, top * np.array([0.33, 0.33]), np.array([z0, z1])),
                     self.cam.project(x, top * np.array([0.66, 0.66]), np.array([z0, z1]))], shaded(color, 0.8), 1)

        return draw

    def _fence_fn(self, x: float, z0: float, z1: float) -> Callable:
        rng = self.rng
        top = rng.uniform(1.0, 2.0)
        color = jitter(rng, [(70, 75, 70), (130, 100, 70), (160, 160, 165)][rng.integers(3)], 10)
        step = rng.uniform(1.5, 2.5)

        def draw(c: Canvas) -> None:
            # labelled as a whole band (as Cityscapes annotators do); drawn as posts, rails and mesh
            band = self.wall(x, 0, top, z0, z1)
            pts = band.astype(np.float32)
            c.polygons.append({"label": "fence", "polygon": np.round(pts).astype(int).tolist()})
            import cv2

            cv2.fillPoly(c.labels, [c._int(band)], label_of("fence").id, cv2.LINE_8, c._SHIFT)
            cv2.fillPoly(c.instances, [c._int(band)], label_of("fence").id, cv2.LINE_8, c._SHIFT)
            c.darken(band, 0.85)
            zs = np.arange(z0, z1, step)
            posts = [self.cam.project(np.array([x, x]), np.array([0, top]), np.array([z, z])) for z in zs]
            rails = [self.cam.project(x, np.array([y, y]), np.array([z0, z1])) for y in (top * 0.1, top * 0.5, top)]
            mesh = [self.cam.project(x, np.array([0, top]), np.array([z, z + step / 2])) for z in np.arange(z0, z1, step / 4)]
            c.lines(mesh, color, 1)
            c.lines(posts + rails, shaded(color, 0.8), max(1, int(round(self.px))))

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
            color = jitter(rng, [(60, 90, 60), (90, 90, 95), (140, 90, 50)][rng.integers(3)], 10)
            wd, ht = rng.uniform(0.5, 1.6), rng.uniform(0.5, 1.1)
            layer3.append((z, lambda c, xs=xs, z=z, color=color, wd=wd, ht=ht:
                           c.fill(self.front(xs - wd / 2, xs + wd / 2, 0, ht, z), "static", color)))

    def _pole_fn(self, x: float, z: float, kind: str, side: int) -> Callable:
        rng = self.rng
        height = {"lamp": rng.uniform(5, 9), "sign": rng.uniform(2.6, 3.5), "light": rng.uniform(3.5, 6),
                  "plain": rng.uniform(3, 7)}[kind]
        width = rng.uniform(0.1, 0.22)
        color = jitter(rng, self.colors["pole"], 6)
        sign_kind = rng.choice(["round", "triangle", "square"])
        sign_color = [(200, 30, 30), (30, 70, 170), (230, 230, 230), (240, 200, 30), (30, 130, 60)][rng.integers(5)]
        sign_size = rng.uniform(0.5, 0.85)
        arm = rng.uniform(2, 5) if kind == "light" and rng.random() < 0.5 else 0.0
        lamp_on = int(rng.integers(3))

        def draw(c: Canvas) -> None:
            s = self.cam.scale(z)
            (bx, by), (tx, ty) = self.cam.project(np.array([x, x]), np.array([0, height]), np.array([z, z]))
            c.fill(segment((bx, by), (tx, ty), max(width * s, 0.8)), "pole", color)
            if kind == "lamp":
                head = self.cam.project(np.array([x, x - side * 1.2]), np.array([height, height + 0.2]), np.array([z, z]))
                c.fill(segment(head[0], head[1], max(0.12 * s, 0.8)), "pole", color)
                c.paint([circle(head[1][0], head[1][1] + 0.1 * s, 0.25 * s, 0.08 * s, n=8)], (235, 230, 200))
            elif kind == "sign":
                cx, cy = self.cam.project(x, height, z)
                r = sign_size * s / 2
                if sign_kind == "round":
                    poly = circle(cx, cy, r, n=16)
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
                    c.fill(segment(seg[0], seg[1], max(0.12 * s, 0.8)), "pole", color)
                box = self.front(lx - 0.17, lx + 0.17, height - (0.95 if arm else 0.3), height + (0 if arm else 0.65), z)
                c.fill(box, "traffic light", jitter(rng, (35, 35, 38), 4))
                (x0, y0), (x1, y1) = box[0], box[2]
                lamps = [(200, 30, 20), (230, 160, 20), (40, 200, 80)]
                for k in range(3):
                    ly = y1 + (y0 - y1) * (k + 0.5) / 3
                    col = lamps[k] if k == lamp_on else (55, 55, 55)
                    c.paint([circle((x0 + x1) / 2, ly, abs(x1 - x0) * 0.3, n=10)], col)

        return draw

    # ---- vehicles
    def _box(self, c: Canvas, x0, x1, y0, y1, z0, z1, name, color, instance, faces=None) -> dict:
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
            c.fill(poly, name, shaded(color, shade[name_face]) if faces is None else faces.get(name_face, color), instance)
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
        palette = {"car": CAR_COLORS, "truck": BUS_COLORS + [(235, 235, 235)] * 3, "bus": BUS_COLORS,
                   "train": [(230, 230, 230), (200, 40, 40), (60, 140, 80)], "motorcycle": CAR_COLORS}[kind]
        color = jitter(rng, palette[rng.integers(len(palette))], 10)
        glass = jitter(rng, (45, 55, 70), 10)
        if kind == "train":
            z = rng.uniform(12, 45)
        z0 = z
        rider = jitter(rng, CLOTHES[rng.integers(len(CLOTHES))], 10)

        def draw(c: Canvas) -> None:
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
                faces = {"back": glass, "side": glass, "top": shaded(color, 1.1)}
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
                cab = self._box(c, x0 + 0.05, x1 - 0.05, 0.5, 2.9, cab_z0, cab_z0 + 2.4, "truck", shaded(color, 0.9), inst)
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

    def _wheels(self, c: Canvas, body: dict, inst: int, name: str, z0, z1, x0, x1) -> None:
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
                c.fill(circle(cx, cy, r * s * max(k, 0.25), r * s, n=14), name, tire, inst)
        (bx0, by0), (bx1, _) = body["back"][0], body["back"][1]
        s = self.cam.scale(z0)
        ww, wh = 0.25 * s, 0.35 * s
        for x in (bx0 + 0.05 * s, bx1 - 0.05 * s - ww):
            c.fill(np.array([[x, by0 - 0.05 * s], [x + ww, by0 - 0.05 * s], [x + ww, by0 + wh - 0.2 * s], [x, by0 + wh - 0.2 * s]]),
                   name, tire, inst)

    def _motorcycle(self, c: Canvas, xc: float, z: float, color, clothes) -> None:
        """Seen from behind/ahead: a narrow body, the wheel, and a rider sitting on it."""
        s = self.cam.scale(z)
        bx, by = self.cam.project(xc, 0, z)
        inst = c.new_instance("motorcycle")
        c.fill(segment((bx, by), (bx, by - 0.65 * s), 0.14 * s), "motorcycle", (25, 25, 28), inst)
        c.fill(np.array([[bx - 0.3 * s, by - 0.45 * s], [bx + 0.3 * s, by - 0.45 * s], [bx + 0.25 * s, by - 0.85 * s],
                         [bx - 0.25 * s, by - 0.85 * s]]), "motorcycle", color, inst)
        c.fill(segment((bx - 0.38 * s, by - 1.05 * s), (bx + 0.38 * s, by - 1.05 * s), 0.05 * s), "motorcycle", (40, 40, 40), inst)
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
        top = jitter(rng, CLOTHES[rng.integers(len(CLOTHES))], 10)
        legs = jitter(rng, CLOTHES[rng.integers(len(CLOTHES))], 10)
        skin = SKIN[rng.integers(len(SKIN))]
        stride = rng.uniform(-0.25, 0.25)

        def draw(c: Canvas) -> None:
            s = self.cam.scale(z)
            bx, by = self.cam.project(x, 0, z)
            c.darken(circle(bx, by, 0.35 * s, 0.06 * s, n=10), 0.65)
            self._person_shape(c, bx, by, s, height, (top, legs, skin), "person", stride=stride)

        return draw

    def _person_shape(self, c: Canvas, bx, by, s, height, colors, name, stride=0.0, seated=False) -> None:
        if not isinstance(colors, tuple):
            colors = (colors, shaded(colors, 0.6), SKIN[0])
        top, legs, skin = colors
        inst = c.new_instance(name)
        h = height * s
        hip = by - (0.0 if seated else 0.52 * h)
        shoulder = hip - 0.3 * h * (1 if not seated else 0.85)
        lw = max(0.075 * h, 1.0)
        if seated:
            for dx in (-0.09, 0.09):
                c.fill(segment((bx + dx * h, hip), (bx + dx * 1.4 * h, hip + 0.35 * h), lw), name, legs, inst)
        else:
            for dx, sgn in ((-0.05, -1), (0.05, 1)):
                c.fill(segment((bx + dx * h, hip), (bx + (dx + sgn * stride * 0.3) * h, by), lw), name, legs, inst)
        c.fill(np.array([[bx - 0.12 * h, shoulder], [bx + 0.12 * h, shoulder], [bx + 0.095 * h, hip + 0.02 * h],
                         [bx - 0.095 * h, hip + 0.02 * h]]), name, top, inst)
        aw = max(0.05 * h, 0.8)
        for sgn in (-1, 1):
            hand = (bx + sgn * (0.15 + 0.1 * stride) * h, shoulder + (0.3 if not seated else 0.2) * h)
            c.fill(segment((bx + sgn * 0.115 * h, shoulder + 0.02 * h), hand, aw), name, top, inst)
        c.fill(circle(bx, shoulder - 0.085 * h, 0.065 * h, 0.075 * h, n=12), name, skin, inst)

    def _bicycle_fn(self, x: float, z: float, rider: bool) -> Callable:
        rng = self.rng
        frame = jitter(rng, [(200, 30, 30), (30, 60, 160), (30, 30, 30), (220, 220, 220), (40, 140, 70)][rng.integers(5)], 10)
        direction = rng.choice([-1, 1])
        clothes = jitter(rng, CLOTHES[rng.integers(len(CLOTHES))], 10)

        def draw(c: Canvas) -> None:
            s = self.cam.scale(z)
            bx, by = self.cam.project(x, 0, z)
            inst = c.new_instance("bicycle")
            r, t = 0.34 * s, max(0.045 * s, 0.8)

            def at(u, v):
                return (bx + direction * u * s, by - v * s)

            for u in (-0.52, 0.52):
                for quad in ring(*at(u, 0.34), r, t, n=14):
                    c.fill(quad, "bicycle", (25, 25, 25), inst)
            bb, seat, head, rear, front = at(-0.05, 0.3), at(-0.25, 0.9), at(0.38, 0.88), at(-0.52, 0.34), at(0.52, 0.34)
            for p0, p1 in ((rear, bb), (bb, seat), (seat, rear), (seat, head), (head, bb), (head, front)):
                c.fill(segment(p0, p1, t), "bicycle", frame, inst)
            c.fill(segment(head, at(0.42, 1.02), t), "bicycle", frame, inst)
            c.fill(segment(at(0.34, 1.02), at(0.5, 1.02), t * 1.2), "bicycle", (30, 30, 30), inst)
            c.fill(segment(at(-0.33, 0.93), at(-0.15, 0.93), t * 1.5), "bicycle", (30, 30, 30), inst)
            if rider:
                self._person_shape(c, seat[0], seat[1], s, 1.15, clothes, "rider", seated=True)

        return draw

    # ---- void classes
    def _bridge(self, c: Canvas) -> None:
        z = self.rng.uniform(40, 90)
        y0 = self.rng.uniform(5, 7)
        c.fill(self.front(-60, 60, y0, y0 + 1.8, z), "bridge", jitter(self.rng, (150, 145, 140), 10))

    def _ego_vehicle(self, c: Canvas) -> None:
        h, w = self.size
        depth = h * self.rng.uniform(0.06, 0.12)
        xs = np.linspace(-2, w + 2, 24)
        ys = h - depth * (1 - 0.55 * ((xs - w / 2) / (w / 2)) ** 2)
        pts = np.concatenate([np.stack([xs, ys], 1), [[w + 2, h + 2], [-2, h + 2]]])
        c.fill(pts, "ego vehicle", jitter(self.rng, (40, 42, 48), 10))


# --------------------------------------------------------------------------- public API


def scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of image ``index`` of ``split``: independent of the dataset's size."""
    check_choice(split, "split", sorted(_SPLIT_INDEX))
    return np.random.default_rng([check_int(seed, "seed", 0), _SPLIT_INDEX[split], check_int(index, "index", 0)])


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
    h, w = check_size(size)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(check_int(rng, "rng (an int seed)", 0))
    return _Street(rng, (h, w)).render()
