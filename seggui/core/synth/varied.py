"""The "varied" style: domain randomisation, so a model trained on generated scenes meets real ones.

The default scenes have one look: grey asphalt or pale concrete lots with crisp
white stalls, most of them well filled, roads always asphalt, mild lighting. A
model trained on them learns that look, and on real drone pictures (the Houston
UAV set: an empty pale-concrete lot with faded red and white lines beside grey
metal and shingle roofs, concrete streets and driveways, flood water) it finds
no parking and calls roads and roofs parking. The varied style keeps the same
plans and labels and widens everything a model could cheat on:

- pavement colours drawn widely (asphalt greys and browns, light and dark
  concrete) for lots, roads, driveways and aprons alike, so colour alone never
  tells a lot from a street; flat roofs often take a pavement colour too
  (hard negatives: the model must look at stalls, cars and shape);
- markings in many colours (white, yellow, red, blue), faded or gone;
- lots from empty to full, cars in any colour;
- trees overhanging lot edges; grass from lush to dry; sometimes flood water;
- stronger and more varied texture, shadows, colour casts, haze, gamma, blur,
  noise and JPEG artefacts (`finish`), and with `seggui synth --gsd-range` a
  ground sampling distance drawn per scene.

Everything is drawn from its own seeded stream: the same seed gives the same
pixels, and the default style's pixels do not change.
"""

from __future__ import annotations

import cv2
import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.synth.layout import RGB, Area, Car, Layout, Line
from seggui.core.synth.texture import MAT, jpeg_round_trip, smooth_noise

STYLES = ("default", "varied")
LOT_CLASS, ROAD_CLASS, BACKGROUND_CLASS = 1, 2, 0  # aerial-parking-6 ids (see labels.py)
PAINTS: list[tuple[RGB, float]] = [
    ((236, 236, 230), 0.5), ((228, 196, 60), 0.17), ((190, 60, 70), 0.13), ((70, 110, 190), 0.05),
    ((250, 250, 250), 0.1), ((40, 40, 42), 0.05),
]
PAVED = ("asphalt", "concrete")


def check_style(style: str) -> str:
    """The style name, or a clear error naming the known ones."""
    if style not in STYLES:
        raise BadInputError(None, f"unknown synth style {style!r} (use {' or '.join(STYLES)})")
    return style


def draw_gsd(seed: int, lo: float, hi: float) -> float:
    """A ground sampling distance for scene `seed`, log-uniform in [lo, hi] (its own stream)."""
    if not (0.01 <= lo <= hi <= 5.0):
        raise BadInputError(None, f"--gsd-range must be two values 0.01 <= LO <= HI <= 5, got {lo} {hi}")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 3])))
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def pavement_color(rng: np.random.Generator, concrete: bool | None = None) -> tuple[str, RGB]:
    """A paving material and colour from a wide range: fresh to faded asphalt, brownish, concrete."""
    if concrete is None:
        concrete = bool(rng.random() < 0.5)
    if concrete:
        grey = rng.uniform(135, 230)
        tint = rng.normal(0, 0.035, 3) + np.array([0.01, 0.0, -0.025])
    else:
        grey = rng.uniform(40, 150)
        tint = rng.normal(0, 0.03, 3) + (np.array([0.05, 0.0, -0.07]) if rng.random() < 0.3 else 0.0)
    c = np.clip(grey * (1 + tint), 0, 255)
    return ("concrete" if concrete else "asphalt"), (float(c[0]), float(c[1]), float(c[2]))


def car_color(rng: np.random.Generator, base: RGB) -> RGB:
    """Keep the market-share colour most of the time, else any colour at all."""
    if rng.random() < 0.7:
        return base
    hsv = np.array([[[rng.integers(0, 180), rng.integers(0, 256), rng.integers(20, 256)]]], np.uint8)
    c = np.asarray(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))[0, 0].astype(float)
    return (float(c[0]), float(c[1]), float(c[2]))


def _inside(poly: np.ndarray, pt: np.ndarray) -> bool:
    return cv2.pointPolygonTest(poly.astype(np.float32), (float(pt[0]), float(pt[1])), False) >= 0


def _lot_of(lots: list[np.ndarray], pt: np.ndarray) -> int:
    for k, poly in enumerate(lots):
        if _inside(poly, pt):
            return k
    return -1


def randomise_layout(lay: Layout, rng: np.random.Generator) -> None:
    """Re-colour, re-mark, empty or fill, shade and flood a planned layout in place (labels unchanged)."""
    r = rng
    _recolour(lay, r)
    lots = [a.pts for a in lay.areas if a.cls == LOT_CLASS and len(a.pts) == 4]
    _remark(lay, r, lots)
    _refill(lay, r, lots)
    _overhang(lay, r, lots)
    g = lay.ground
    dry = r.uniform(0, 1) ** 2
    green = np.array([60, 120, 45]) * (1 - dry) + np.array([150, 140, 90]) * dry
    g["grass"] = tuple(np.clip(green * r.uniform(0.75, 1.3, 3), 0, 255).tolist())
    g["soil"] = tuple(np.clip(np.array([150, 130, 100]) * r.uniform(0.7, 1.3, 3), 0, 255).tolist())
    g["grass_share"] = float(r.uniform(0.5, 1.0))
    if r.random() < 0.25:
        _flood(lay, r)


def _recolour(lay: Layout, r: np.random.Generator) -> None:
    """Pavements drawn from one wide range whatever their class; flat roofs often paved-looking."""
    new: dict[tuple[int, tuple[float, ...]], tuple[str, RGB]] = {}
    road_concrete = bool(r.random() < 0.45)
    for k, a in enumerate(lay.areas):
        if a.material not in PAVED or a.cls not in (LOT_CLASS, ROAD_CLASS, BACKGROUND_CLASS):
            continue
        key = (a.cls, tuple(round(c, 3) for c in a.color))  # a lot and its entrance share a colour
        if key not in new:
            concrete = road_concrete if a.cls == ROAD_CLASS else None
            if a.cls == BACKGROUND_CLASS:  # walks, driveways, aprons: mostly concrete
                concrete = bool(r.random() < 0.75)
            new[key] = pavement_color(r, concrete)
        lay.areas[k] = Area(a.pts, a.cls, *new[key])
    paved = [c for _, c in new.values()]
    for b in lay.buildings:
        if b.roof == "flat" and paved and r.random() < 0.5:
            c = np.array(paved[r.integers(len(paved))]) * r.uniform(0.85, 1.15)
            b.color = tuple(np.clip(c, 0, 255).tolist())
        elif b.roof != "flat" and r.random() < 0.5:  # grey shingle or metal, widely
            grey = r.uniform(60, 170)
            b.color = tuple(np.clip(grey * (1 + r.normal(0, 0.04, 3)), 0, 255).tolist())


def _remark(lay: Layout, r: np.random.Generator, lots: list[np.ndarray]) -> None:
    """Per lot a paint colour and a wear level; some lots lose their markings; road paint fades."""
    style: dict[int, tuple[RGB, float, bool]] = {}
    weights = np.array([w for _, w in PAINTS])
    road_fade = r.uniform(0.2, 1.0)
    kept: list[Line] = []
    for ln in lay.lines:
        mid = (np.asarray(ln.p0, float) + np.asarray(ln.p1, float)) / 2
        k = _lot_of(lots, mid)
        joint = ln.width < 0.08
        if k < 0:
            kept.append(Line(ln.p0, ln.p1, ln.width, ln.color, ln.alpha * road_fade))
            continue
        if k not in style:
            paint = PAINTS[r.choice(len(PAINTS), p=weights / weights.sum())][0]
            style[k] = (paint, float(r.uniform(0.15, 1.0)), bool(r.random() < 0.1))
        paint, fade, gone = style[k]
        if joint:
            kept.append(Line(ln.p0, ln.p1, ln.width * r.uniform(0.8, 2.5), ln.color,
                             min(1.0, ln.alpha * r.uniform(0.5, 2.0))))
        elif not gone:
            kept.append(Line(ln.p0, ln.p1, ln.width * r.uniform(0.8, 1.3), paint, ln.alpha * fade))
    lay.lines[:] = kept


def _refill(lay: Layout, r: np.random.Generator, lots: list[np.ndarray]) -> None:
    """Empty lots to full ones: each lot keeps a share of its cars (none in about a quarter)."""
    keep_share: dict[int, float] = {}
    cars: list[Car] = []
    for car in lay.cars:
        if car.where == "lot":
            k = _lot_of(lots, car.center)
            if k not in keep_share:
                keep_share[k] = 0.0 if r.random() < 0.25 else float(r.uniform(0.1, 1.0))
            if r.random() >= keep_share[k]:
                continue
        car.color = car_color(r, car.color)
        cars.append(car)
    lay.cars[:] = cars


def _overhang(lay: Layout, r: np.random.Generator, lots: list[np.ndarray]) -> None:
    """Trees along some lot edges, their crowns reaching over the pavement (and its shadow)."""
    from seggui.core.synth.layout import Tree

    for poly in lots:
        if r.random() > 0.45:
            continue
        for _ in range(int(r.integers(1, 6))):
            i = int(r.integers(4))
            a, b = poly[i], poly[(i + 1) % 4]
            radius = float(r.uniform(2.0, 5.0))
            inward = poly.mean(axis=0) - (a + b) / 2
            inward /= np.hypot(*inward) or 1.0
            c = a + (b - a) * r.uniform(0, 1) - inward * radius * r.uniform(-0.1, 0.6)
            base = np.array([74.0, 100.0, 52.0]) * r.uniform(0.7, 1.25) + r.normal(0, 8, 3)
            lay.trees.append(Tree(c, radius, radius * r.uniform(1.6, 2.6) + 1.5,
                                  tuple(np.clip(base, 10, 255).tolist())))


def _flood(lay: Layout, r: np.random.Generator) -> None:
    """A sheet of brown or olive water under everything built: a smooth hard negative."""
    c = np.array([r.uniform(0, lay.width_m), r.uniform(0, lay.height_m)])
    n = int(r.integers(6, 12))
    ang = np.sort(r.uniform(0, 2 * np.pi, n))
    rad = r.uniform(0.25, 0.7, n) * max(lay.width_m, lay.height_m)
    pts = c + rad[:, None] * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    color = np.array([120, 105, 75]) * r.uniform(0.6, 1.25, 3)
    lay.areas.insert(0, Area(pts, BACKGROUND_CLASS, "water", tuple(np.clip(color, 0, 255).tolist())))


def plan_extent(w_m: float, h_m: float) -> tuple[float, float]:
    """The ground to plan for a view of `w_m` x `h_m` metres: at least 60 m a side.

    At fine GSDs a picture covers only a few metres; planned at that size its
    lot lies beside the street, out of view. Planning a larger block and
    choosing the view on it (`choose_view`) keeps lots in most pictures.
    """
    return max(w_m, 60.0), max(h_m, 60.0)


def choose_view(lay: Layout, rng: np.random.Generator, w_m: float, h_m: float) -> None:
    """Move the layout so the `w_m` x `h_m` view at the origin shows a lot in about 80 % of scenes."""
    lots = [a.pts for a in lay.areas if a.cls == LOT_CLASS]
    room = np.array([lay.width_m - w_m, lay.height_m - h_m])
    if lots and rng.random() < 0.8:
        poly = lots[int(rng.integers(len(lots)))]
        at = rng.dirichlet(np.ones(len(poly))) @ poly
        origin = at - np.array([w_m, h_m]) * rng.uniform(0.2, 0.8, 2)
    else:
        origin = rng.uniform(0, 1, 2) * room
    origin = np.clip(origin, 0, np.maximum(room, 0))
    for a in lay.areas:
        a.pts = a.pts - origin
    for ln in lay.lines:
        ln.p0, ln.p1 = np.asarray(ln.p0) - origin, np.asarray(ln.p1) - origin
    for car in lay.cars:
        car.center = car.center - origin
    for tree in lay.trees:
        tree.center = tree.center - origin
    for stain in lay.stains:
        stain.center = stain.center - origin
    for b in lay.buildings:
        b.center = b.center - origin
        b.items = [(box - origin, height, color) for box, height, color in b.items]
    lay.width_m, lay.height_m = w_m, h_m


def vary_texture(gain: np.ndarray, material: np.ndarray, gsd: float, rng: np.random.Generator) -> np.ndarray:
    """Scale the texture's strength per scene and add patchy wear (patches, tyre tracks) to pavement."""
    k = float(rng.uniform(0.6, 2.2))
    out = 1.0 + k * (gain - 1.0)
    h, w = material.shape
    paved = np.isin(material, [MAT["asphalt"], MAT["concrete"]])
    wear = smooth_noise(rng, h, w, rng.uniform(1.5, 8.0) / gsd) * rng.uniform(0.02, 0.12)
    out = np.where(paved, out * (1.0 + wear), out)
    return np.clip(out, 0.25, 2.0).astype(np.float32)


def finish(img: np.ndarray, rng: np.random.Generator, sensor_stage: bool = True) -> np.ndarray:
    """Light, camera and file, widely: exposure, gamma, colour cast, saturation, haze, blur, noise, JPEG.

    `sensor_stage=False` stops after the light (blur, noise and JPEG left out).
    """
    r = rng
    img = (img - 110.0) * r.uniform(0.7, 1.3) + 110.0 * r.uniform(0.75, 1.25)
    img = 255.0 * (np.clip(img, 0, 255) / 255.0) ** r.uniform(0.75, 1.3)
    img = img * r.normal(1.0, 0.045, 3).astype(np.float32)
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * r.uniform(0.5, 1.35)
    if r.random() < 0.4:
        haze = r.uniform(0.03, 0.35)
        img = img * (1 - haze) + haze * np.array([205, 210, 220], np.float32) * r.uniform(0.85, 1.1)
    if not sensor_stage:
        return img
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), float(np.exp(r.uniform(np.log(0.3), np.log(2.0)))))
    img = img + r.normal(0, r.uniform(0.5, 6.0), img.shape).astype(np.float32)
    if r.random() < 0.8:
        img = jpeg_round_trip(img, int(r.integers(35, 96)))
    return img
