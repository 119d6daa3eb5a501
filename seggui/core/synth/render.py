"""Paint a layout into an RGB picture and its exact index mask.

Every shape is filled into the mask and the picture with the same polygon, so
the mask is exact by construction; the picture then gets what the mask never
sees: texture, oil stains, worn paint, shadows cast away from one sun, global
lighting (brightness, contrast, colour temperature, saturation, haze), optical
blur, sensor noise and sometimes JPEG compression.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np

from seggui.core.synth.labels import BUILDING, VEGETATION, VEHICLE
from seggui.core.synth.layout import Building, Car, Layout, Line, Tree
from seggui.core.synth.texture import MAT, jpeg_round_trip, smooth_noise, texture_gain
from seggui.core.synth.varied import finish as varied_finish
from seggui.core.synth.varied import vary_texture

_SHIFT = 3  # sub-pixel bits for cv2 drawing


class Canvas:
    """Colour, material and class layers of one picture, drawn in metres."""

    def __init__(self, h: int, w: int, gsd: float) -> None:
        self.h, self.w, self.gsd = h, w, gsd
        self.color = np.zeros((h, w, 3), np.float32)
        self.material = np.zeros((h, w), np.uint8)
        self.mask = np.zeros((h, w), np.uint8)

    def px(self, pts: np.ndarray) -> np.ndarray:
        """Metres to fixed-point pixel coordinates (pixel j spans [j, j+1) x gsd metres)."""
        return np.round((np.asarray(pts, float) / self.gsd - 0.5) * (1 << _SHIFT)).astype(np.int32)

    def fill(self, pts: np.ndarray, color: tuple[float, ...], material: str, cls: int | None) -> None:
        p = [self.px(pts)]
        cv2.fillPoly(self.color, p, tuple(float(c) for c in color), cv2.LINE_8, _SHIFT)
        cv2.fillPoly(self.material, p, MAT[material], cv2.LINE_8, _SHIFT)
        if cls is not None:
            cv2.fillPoly(self.mask, p, cls, cv2.LINE_8, _SHIFT)

    def disc(self, c: np.ndarray, r: float, color: tuple[float, ...], material: str, cls: int | None) -> None:
        q = self.px(np.asarray(c)[None])[0]
        rad = int(round(r / self.gsd * (1 << _SHIFT)))
        args = ((int(q[0]), int(q[1])), rad)
        cv2.circle(self.color, *args, tuple(float(v) for v in color), -1, cv2.LINE_8, _SHIFT)
        cv2.circle(self.material, *args, MAT[material], -1, cv2.LINE_8, _SHIFT)
        if cls is not None:
            cv2.circle(self.mask, *args, cls, -1, cv2.LINE_8, _SHIFT)


def _hull(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The convex hull of two point sets: a shape swept along its shadow."""
    return cast(np.ndarray, cv2.convexHull(np.vstack([a, b]).astype(np.float32))[:, 0, :])


def _local(center: np.ndarray, angle: float, pts: np.ndarray) -> np.ndarray:
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return cast(np.ndarray, np.asarray(pts, float) @ rot.T + center)


def _car_parts(car: Car) -> list[tuple[np.ndarray, float, str]]:
    """Body, glass and roof polygons of a car in its own frame (x forward), in paint order.

    Each part carries a brightness factor for the body colour (glass ignores it).
    """
    L, W = car.length / 2, car.width / 2
    c = min(0.35, W * 0.4)
    body = np.array([[L - c, -W], [L, -W + c], [L, W - c], [L - c, W], [-L + 0.6 * c, W],
                     [-L, W - 0.6 * c], [-L, -W + 0.6 * c], [-L + 0.6 * c, -W]])

    def box(x0: float, x1: float, w0: float, w1: float) -> np.ndarray:
        return np.array([[x0 * L, -w0 * W], [x1 * L, -w1 * W], [x1 * L, w1 * W], [x0 * L, w0 * W]])

    parts = [(body, 1.0, "car")]
    if car.kind == "van":
        parts += [(box(0.62, 0.82, 0.9, 0.82), 0, "glass"), (box(-0.95, 0.62, 0.9, 0.9), 1.06, "car")]
    elif car.kind == "pickup":
        parts += [(box(0.22, 0.48, 0.9, 0.8), 0, "glass"), (box(-0.14, -0.05, 0.84, 0.88), 0, "glass"),
                  (box(-0.05, 0.22, 0.88, 0.9), 1.05, "car"), (box(-0.94, -0.22, 0.8, 0.8), 0.72, "car")]
    else:  # windscreen, rear window, side windows, then the roof between them
        parts += [(box(0.1, 0.44, 0.88, 0.78), 0, "glass"), (box(-0.7, -0.5, 0.84, 0.74), 0, "glass"),
                  (box(-0.5, 0.1, 0.97, 0.97), 0, "glass"), (box(-0.5, 0.1, 0.8, 0.82), 1.06, "car")]
    return parts


def car_outline(car: Car) -> np.ndarray:
    """The car's body outline (8, 2) in metres: what the mask labels vehicle, unless hidden."""
    return _local(car.center, car.angle, _car_parts(car)[0][0])


def _draw_car(cv: Canvas, car: Car, glass: tuple[float, float, float]) -> None:
    body_color = np.array(car.color, float)
    for k, (poly, gain, mat) in enumerate(_car_parts(car)):
        color = glass if mat == "glass" else tuple(np.clip(body_color * gain, 0, 255))
        cv.fill(_local(car.center, car.angle, poly), color, mat, VEHICLE if k == 0 else None)


def _roof_faces(b: Building) -> list[tuple[np.ndarray, np.ndarray]]:
    """Roof faces in the building frame, each with its outward horizontal normal."""
    L, W = b.length / 2, b.width / 2
    if b.roof == "flat":
        return [(np.array([[-L, -W], [L, -W], [L, W], [-L, W]]), np.zeros(2))]
    if b.roof == "gable":
        return [(np.array([[-L, 0], [L, 0], [L, W], [-L, W]]), np.array([0, 1.0])),
                (np.array([[-L, -W], [L, -W], [L, 0], [-L, 0]]), np.array([0, -1.0]))]
    r = max(L - W, 0.0)
    return [(np.array([[-L, W], [L, W], [r, 0], [-r, 0]]), np.array([0, 1.0])),
            (np.array([[-L, -W], [L, -W], [r, 0], [-r, 0]]), np.array([0, -1.0])),
            (np.array([[L, -W], [L, W], [r, 0]]), np.array([1.0, 0])),
            (np.array([[-L, -W], [-L, W], [-r, 0]]), np.array([-1.0, 0]))]


def _draw_building(cv: Canvas, b: Building, lay: Layout, shade: np.ndarray, dark: float) -> None:
    sun = lay.sun_direction()
    rot = np.array([[np.cos(b.angle), -np.sin(b.angle)], [np.sin(b.angle), np.cos(b.angle)]])
    base = np.array(b.color, float)
    for poly, normal in _roof_faces(b):
        lit = 1.0 + 0.28 * float((rot @ normal) @ sun)
        cv.fill(_local(b.center, b.angle, poly), tuple(np.clip(base * lit, 0, 255)),
                "flat_roof" if b.roof == "flat" else "roof", BUILDING)
    foot = _local(b.center, b.angle, _roof_faces(b)[0][0]) if b.roof == "flat" else None
    if foot is not None:  # a parapet: a lighter rim round the roof
        inner = _local(b.center, b.angle, np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]])
                       * [b.length / 2 - 0.4, b.width / 2 - 0.4])
        cv.fill(foot, tuple(np.clip(base * 1.12, 0, 255)), "flat_roof", BUILDING)
        cv.fill(inner, tuple(base), "flat_roof", BUILDING)
    for box, height, _ in b.items:
        cv2.fillPoly(shade, [cv.px(_hull(box, box + lay.shadow_vector(height)))], dark, cv2.LINE_8, _SHIFT)
    for box, _, color in b.items:
        cv.fill(box, color, "unit", BUILDING)
        cv2.fillPoly(shade, [cv.px(box)], 1.0, cv2.LINE_8, _SHIFT)


def _tree_blobs(rng: np.random.Generator, t: Tree) -> list[tuple[np.ndarray, float]]:
    n = int(rng.integers(5, 11))
    ang = rng.uniform(0, 2 * np.pi, n)
    dist = rng.uniform(0.1, 0.6, n) * t.radius
    rad = rng.uniform(0.35, 0.6, n) * t.radius
    blobs = [(t.center, t.radius * 0.6)]
    offsets = dist[:, None] * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    blobs += [(t.center + o, float(r)) for o, r in zip(offsets, rad, strict=True)]
    return blobs


def _box(length: float, width: float) -> np.ndarray:
    return np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [length / 2, width / 2]


def _poly(layer: np.ndarray, cv: Canvas, pts: np.ndarray, value: float) -> None:
    cv2.fillPoly(layer, [cv.px(pts)], float(value), cv2.LINE_8, _SHIFT)


def _ground(cv: Canvas, lay: Layout, rng: np.random.Generator) -> None:
    """Grass and bare soil in soft-edged patches; the mask splits them at the 50 % blend."""
    g, h, w = lay.ground, cv.h, cv.w
    field = smooth_noise(rng, h, w, g["patch_m"] / cv.gsd) + 0.4 * smooth_noise(rng, h, w, 2.0 / cv.gsd)
    threshold = float(np.quantile(field[::4, ::4], 1.0 - g["grass_share"]))
    grass = field > threshold
    mix = (1.0 / (1.0 + np.exp(-(field - threshold) * 6.0)))[..., None].astype(np.float32)
    cv.color[:] = mix * np.array(g["grass"], np.float32) + (1 - mix) * np.array(g["soil"], np.float32)
    cv.material[:] = np.where(grass, MAT["grass"], MAT["soil"])
    cv.mask[:] = np.where(grass, VEGETATION, 0)


def _cars(cv: Canvas, lay: Layout, rng: np.random.Generator, dark: float) -> np.ndarray:
    """Draw the cars; return the shade of what lies on the ground (car shadows, stains)."""
    shade = np.ones((cv.h, cv.w), np.float32)
    for car in lay.cars:
        body = _local(car.center, car.angle, _box(car.length, car.width))
        _poly(shade, cv, _hull(body, body + lay.shadow_vector(1.45)), dark)
    for s in lay.stains:
        q = cv.px(s.center[None])[0]
        cv2.circle(shade, (int(q[0]), int(q[1])), int(s.radius / cv.gsd * (1 << _SHIFT)), 1 - s.strength,
                   -1, cv2.LINE_8, _SHIFT)
    glass = tuple(float(v) for v in rng.uniform(30, 60) * np.array([1.0, 1.08, 1.2]))
    for car in lay.cars:
        _draw_car(cv, car, glass)  # type: ignore[arg-type]
        _poly(shade, cv, car_outline(car), 1.0)
    return cv2.GaussianBlur(shade, (0, 0), max(0.5, 0.12 / cv.gsd))


def _tall_things(cv: Canvas, lay: Layout, rng: np.random.Generator, dark: float) -> np.ndarray:
    """Draw buildings and trees; return the shade their shadows cast on what is below."""
    shade: np.ndarray = np.ones((cv.h, cv.w), np.float32)
    for b in lay.buildings:
        foot = _local(b.center, b.angle, _box(b.length, b.width))
        _poly(shade, cv, _hull(foot, foot + lay.shadow_vector(b.height)), dark)
    blobs = [_tree_blobs(rng, t) for t in lay.trees]
    for t, crown in zip(lay.trees, blobs, strict=True):
        for c, r in crown:  # the crown's shadow, swept from its lowest to its highest leaves
            q0, q1 = cv.px(np.array([c + lay.shadow_vector(t.height * 0.3),
                                     c + lay.shadow_vector(t.height * 0.7)]))
            cv2.line(shade, (int(q0[0]), int(q0[1])), (int(q1[0]), int(q1[1])), dark,
                     max(1, int(round(2 * r / cv.gsd))), cv2.LINE_8, _SHIFT)
    shade = cv2.GaussianBlur(shade, (0, 0), max(0.6, 0.25 / cv.gsd))
    for b in lay.buildings:  # a roof is above the shadows around it
        _poly(shade, cv, _local(b.center, b.angle, _box(b.length, b.width)), 1.0)
        _draw_building(cv, b, lay, shade, dark)
    sun = lay.sun_direction()
    for t, crown in zip(lay.trees, blobs, strict=True):
        base = np.array(t.color, float)
        for c, r in crown:
            cv.disc(c, r, tuple(base * 0.78), "tree", VEGETATION)
            q = cv.px(c[None])[0]
            cv2.circle(shade, (int(q[0]), int(q[1])), int(r / cv.gsd * (1 << _SHIFT)), 1.0, -1,
                       cv2.LINE_8, _SHIFT)
        for c, r in crown:  # the sunlit side of each leaf mass
            cv.disc(c + sun * r * 0.25, r * 0.65, tuple(np.clip(base * 1.15, 0, 255)), "tree", None)
    return shade


def paint(lay: Layout, h: int, w: int, gsd: float, rng: np.random.Generator,
          finish: bool = True, style: str = "default") -> tuple[np.ndarray, np.ndarray]:
    """Paint `lay` at `gsd` metres per pixel: an (h, w, 3) uint8 RGB picture and its (h, w) mask.

    `finish=False` skips the sensor stage (blur, noise, JPEG) so a drive can add
    its own per-frame noise to crops of one big picture. `style="varied"` draws
    shadows, texture strength, light and camera from wider ranges (`varied.py`).
    """
    varied = style == "varied"
    cv = Canvas(h, w, gsd)
    _ground(cv, lay, rng)
    for a in lay.areas:
        cv.fill(a.pts, a.color, a.material, a.cls)
    _paint_lines(cv, lay, rng)
    dark = float(rng.uniform(0.3, 0.75) if varied else rng.uniform(0.42, 0.62))
    shade = _cars(cv, lay, rng, dark)
    shade *= _tall_things(cv, lay, rng, dark)
    gain = texture_gain(rng, cv.material, gsd)
    if varied:
        gain = vary_texture(gain, cv.material, gsd, rng)
    img = cv.color * gain[..., None]
    tint = np.array([1.0, 1.0, 0.82], np.float32)  # shadows are lit by the blue sky
    img *= 1.0 - (1.0 - shade)[..., None] * tint
    if varied:
        img = varied_finish(img, rng, sensor_stage=finish)
    else:
        img = _lighting(img, rng)
        if finish:
            img = sensor(img, rng)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), cv.mask


def _paint_lines(cv: Canvas, lay: Layout, rng: np.random.Generator) -> None:
    """Blend the paint strokes (grouped by colour) into the colour layer, with wear."""
    if not lay.lines:
        return
    wear = np.clip(1.0 - 0.35 * np.abs(smooth_noise(rng, cv.h, cv.w, 1.0 / cv.gsd)), 0, 1)
    groups: dict[tuple[int, ...], list[Line]] = {}
    for ln in lay.lines:
        groups.setdefault(tuple(round(c) for c in ln.color), []).append(ln)
    for color, lines in groups.items():
        alpha = np.zeros((cv.h, cv.w), np.uint8)
        for ln in lines:
            width = max(ln.width, 0.8 * cv.gsd)
            strength = ln.alpha * min(1.0, ln.width / width)
            d = np.asarray(ln.p1, float) - np.asarray(ln.p0, float)
            n = np.array([-d[1], d[0]]) / (np.hypot(*d) or 1.0) * width / 2
            poly = np.array([ln.p0 - n, ln.p1 - n, ln.p1 + n, ln.p0 + n])
            cv2.fillPoly(alpha, [cv.px(poly)], int(255 * strength), cv2.LINE_AA, _SHIFT)
        a = (alpha.astype(np.float32) / 255.0 * wear)[..., None]
        cv.color *= 1.0 - a
        cv.color += a * np.array(color, np.float32)


def _lighting(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-scene light: brightness, contrast, colour temperature, saturation, haze, vignette."""
    h, w = img.shape[:2]
    img = (img - 110.0) * rng.uniform(0.85, 1.2) + 110.0 * rng.uniform(0.85, 1.15)
    t = rng.uniform(-0.07, 0.07)
    img *= np.array([1 + t, 1.0, 1 - t], np.float32)
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * rng.uniform(0.75, 1.15)
    if rng.random() < 0.2:
        haze = rng.uniform(0.03, 0.15)
        img = img * (1 - haze) + haze * np.array([205, 210, 220], np.float32)
    if rng.random() < 0.5:
        yy, xx = np.ogrid[:h, :w]
        rr = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2) / ((h / 2) ** 2 + (w / 2) ** 2)
        img *= (1.0 - rng.uniform(0.03, 0.12) * rr).astype(np.float32)[..., None]
    return img


def sensor(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Optics and sensor: slight blur, noise, sometimes JPEG compression (float in, float out)."""
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), rng.uniform(0.45, 0.9))
    img = img + rng.normal(0, rng.uniform(1.0, 3.5), img.shape).astype(np.float32)
    if rng.random() < 0.5:
        img = jpeg_round_trip(img, int(rng.integers(70, 96)))
    return img

