"""Builders for what stands beside a street: parking lots, houses, shops, green plots.

Each builder adds primitives (in metres) to a `Layout` and marks the ground it
takes in the `Occupancy` grid, so trees and free-standing lots placed later do
not land on it. Sizes are real-world: a stall 2.4-2.8 m x 4.8-5.5 m, an aisle
6-7.5 m, a car 1.7-2 m x 4.2-5.2 m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seggui.core.synth.geometry import Frame, Occupancy
from seggui.core.synth.labels import BACKGROUND, PARKING, VEGETATION
from seggui.core.synth.layout import (
    Area,
    Building,
    Car,
    Layout,
    Line,
    Stain,
    Tree,
    jitter_color,
    pick_car_color,
)

ASPHALT = (92.0, 92.0, 94.0)
ASPHALT_FRESH = (58.0, 59.0, 62.0)
CONCRETE = (196.0, 194.0, 188.0)
GRASS = (98.0, 122.0, 64.0)
WHITE_PAINT = (235.0, 235.0, 230.0)
YELLOW_PAINT = (228.0, 196.0, 60.0)
ROOF_COLORS = [
    (92.0, 94.0, 100.0), (118.0, 116.0, 112.0), (70.0, 72.0, 78.0), (112.0, 86.0, 70.0),
    (142.0, 84.0, 64.0), (168.0, 150.0, 122.0), (150.0, 150.0, 148.0), (98.0, 110.0, 122.0),
]
FLAT_ROOF_COLORS = [
    (205.0, 205.0, 200.0), (170.0, 168.0, 160.0), (120.0, 120.0, 118.0), (185.0, 172.0, 150.0),
    (225.0, 226.0, 224.0), (95.0, 98.0, 104.0),
]


@dataclass
class Ctx:
    """The state the builders share: the random stream, the layout and the occupancy."""

    rng: np.random.Generator
    layout: Layout
    occ: Occupancy

    def tree(self, center: np.ndarray, radius: float | None = None) -> Tree:
        r = self.rng
        radius = float(radius if radius is not None else r.uniform(2.2, 5.5))
        base = np.array([74.0, 100.0, 52.0]) * r.uniform(0.8, 1.2) + r.normal(0, 6, 3)
        t = Tree(np.asarray(center, float), radius, radius * r.uniform(1.6, 2.6) + 1.5,
                 tuple(np.clip(base, 10, 255).tolist()))
        self.layout.trees.append(t)
        return t

    def vehicle_dims(self) -> tuple[float, float, str]:
        kind = self.rng.choice(["car", "car", "car", "car", "car", "van", "pickup"])
        if kind == "car":
            return self.rng.uniform(4.1, 5.0), self.rng.uniform(1.72, 1.9), "car"
        return self.rng.uniform(5.0, 5.8), self.rng.uniform(1.9, 2.05), str(kind)


def pavement(rng: np.random.Generator, concrete: bool) -> tuple[str, tuple[float, float, float]]:
    """A paving material and its colour: weathered or fresh asphalt, or concrete."""
    if concrete:
        return "concrete", jitter_color(rng, CONCRETE, 0.07)
    return "asphalt", jitter_color(rng, ASPHALT if rng.random() < 0.7 else ASPHALT_FRESH, 0.12)


@dataclass
class Lot:
    """What `build_lot` made: the depth it used and its paving (for the entrance)."""

    depth: float
    material: str
    color: tuple[float, float, float]


def build_lot(ctx: Ctx, f: Frame, length: float, depth_max: float, concrete: bool,
              max_bays: int = 3) -> Lot | None:
    """A parking lot in frame `f`: stall rows along u, stacked in bays along v.

    Returns None when not even one row and its aisle fit.
    """
    r, lay = ctx.rng, ctx.layout
    sd, aw, sw = r.uniform(4.8, 5.5), r.uniform(6.0, 7.5), r.uniform(2.45, 2.8)
    em = r.uniform(1.0, 6.0)
    n = int((length - 2 * em) // sw)
    if n < 3:
        return None
    em = (length - n * sw) / 2
    rows: list[float] = []
    islands: list[tuple[float, float]] = []
    y = aw if r.random() < 0.4 else 0.0
    while len(rows) < 2 * max_bays and y + 2 * sd + aw + 0.5 <= depth_max:
        rows += [y, y + sd + aw]
        y += 2 * sd + aw
        if r.random() < 0.35 and y + 2.0 + 2 * sd + aw < depth_max:
            islands.append((y, y + r.uniform(1.5, 2.5)))
            y = islands[-1][1]
    if not rows:
        if depth_max < sd + aw + 0.5:
            return None
        y, rows = 0.0, [aw]  # one row behind its aisle
        y = aw + sd
    if islands and islands[-1][1] >= y - 1e-9:
        y = islands.pop()[0]
    depth = y + r.uniform(0.4, 1.5)
    material, color = pavement(r, concrete)
    foot = f.rect(0, 0, length, depth)
    lay.areas.append(Area(foot, PARKING, material, color))
    ctx.occ.add(foot)
    if concrete:  # expansion joints every few metres
        step = r.uniform(4.0, 6.0)
        for u in np.arange(step, length, step):
            lay.lines.append(Line(f.pt(u, 0), f.pt(u, depth), 0.06, (90, 90, 88), 0.35))
        for v in np.arange(step, depth, step):
            lay.lines.append(Line(f.pt(0, v), f.pt(length, v), 0.06, (90, 90, 88), 0.35))
    grass = jitter_color(r, GRASS, 0.15)
    for y0, y1 in islands:
        lay.areas.append(Area(f.rect(em, y0, length - em, y1), VEGETATION, "grass", grass))
        for u in np.arange(em + r.uniform(2, 6), length - em - 2, r.uniform(8, 15)):
            ctx.tree(f.pt(u, (y0 + y1) / 2), r.uniform(1.8, 3.2))
    paint = WHITE_PAINT if r.random() < 0.8 else YELLOW_PAINT
    alpha, lw = r.uniform(0.8, 1.0) if concrete else r.uniform(0.55, 0.95), r.uniform(0.1, 0.15)
    hairpin = r.random() < 0.2
    occupancy = r.uniform(0.2, 0.95)
    ends = em >= 2.6 and r.random() < 0.5
    cars = 0
    for y0 in rows:
        if ends:  # landscaped row ends
            iw = min(em - 0.4, 3.0)
            for u0, u1 in ((em - 0.2 - iw, em - 0.2), (length - em + 0.2, length - em + 0.2 + iw)):
                lay.areas.append(Area(f.rect(u0, y0 + 0.3, u1, y0 + sd - 0.3), VEGETATION, "grass", grass))
        for i in range(n + 1):
            u = em + i * sw
            for du in ((-0.15, 0.15) if hairpin else (0.0,)):
                lay.lines.append(Line(f.pt(u + du, y0), f.pt(u + du, y0 + sd), lw, paint, alpha))
        for i in range(n):
            center = f.pt(em + (i + 0.5) * sw + r.normal(0, 0.08), y0 + sd / 2 + r.normal(0, 0.15))
            if r.random() < occupancy:
                length_c, width_c, kind = ctx.vehicle_dims()
                ang = f.angle_b + (np.pi if r.random() < 0.5 else 0.0) + r.normal(0, 0.025)
                lay.cars.append(Car(center, ang, min(length_c, sd - 0.1), width_c, pick_car_color(r),
                                    "lot", kind))
                cars += 1
            elif r.random() < 0.3:
                lay.stains.append(Stain(center, r.uniform(0.3, 0.7), r.uniform(0.06, 0.2)))
    lay.meta.setdefault("lots", []).append({
        "angle_deg": round(float(np.degrees(f.angle)) % 180, 2), "stalls": n * len(rows), "cars": cars,
        "stall_width_m": round(sw, 3), "stall_depth_m": round(sd, 3), "material": material,
    })
    return Lot(depth, material, color)


def building(ctx: Ctx, center: np.ndarray, angle: float, length: float, width: float, flat: bool) -> None:
    """A building: a flat roof with rooftop units (shops), or a hip or gable roof (houses)."""
    r = ctx.rng
    if length < width:
        length, width, angle = width, length, angle + np.pi / 2
    items = []
    if flat:
        color = jitter_color(r, FLAT_ROOF_COLORS[r.integers(len(FLAT_ROOF_COLORS))], 0.06)
        a = np.array([np.cos(angle), np.sin(angle)])
        b = np.array([-np.sin(angle), np.cos(angle)])
        for _ in range(int(r.integers(0, 2 + int(length * width / 120)))):
            s = r.uniform(1.0, 3.0, 2)
            pos = r.uniform(-0.5, 0.5, 2) * (np.array([length, width]) - s - 2)
            c = np.asarray(center) + pos[0] * a + pos[1] * b
            box = np.array([c - s[0] / 2 * a - s[1] / 2 * b, c + s[0] / 2 * a - s[1] / 2 * b,
                            c + s[0] / 2 * a + s[1] / 2 * b, c - s[0] / 2 * a + s[1] / 2 * b])
            items.append((box, float(r.uniform(0.6, 1.8)), jitter_color(r, (190, 192, 192), 0.1)))
        roof, height = "flat", r.uniform(4.0, 10.0)
    else:
        color = jitter_color(r, ROOF_COLORS[r.integers(len(ROOF_COLORS))], 0.08)
        roof, height = ("hip" if r.random() < 0.6 else "gable"), r.uniform(4.0, 7.5)
    bld = Building(np.asarray(center, float), float(angle), float(length), float(width), float(height),
                   roof, color, items)
    ctx.layout.buildings.append(bld)
    half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [length / 2, width / 2]
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    ctx.occ.add(half @ rot.T + center)


def lot_parcel(ctx: Ctx, fs: Frame, u0: float, length: float, depth: float, road_edge: float | None,
               concrete: bool) -> bool:
    """A lot beside the street, its entrance (if there is a street), front trees, a shop behind."""
    r, lay = ctx.rng, ctx.layout
    setback = r.uniform(1.5, 6.0)
    along = r.random() < 0.65 or depth - setback < 20
    bays = int(r.choice([1, 1, 2, 2, 3]))
    if along:  # stall rows run along the street
        lot = build_lot(ctx, fs.sub(u0, setback), length, depth - setback, concrete, bays)
        if lot is None:
            return False
        span, used = length, lot.depth
    else:  # stall rows run away from the street
        rows_len = min(depth - setback, r.uniform(20, 50))
        lot = build_lot(ctx, fs.sub(u0, setback, swap=True), rows_len, length, concrete, bays)
        if lot is None:
            return False
        span, used = lot.depth, rows_len
    material, color = lot.material, lot.color
    ew = r.uniform(6.0, 8.0)
    ue = u0 + r.uniform(1.0, max(1.5, span - ew - 1.0))
    if road_edge is not None:
        lay.areas.append(Area(fs.rect(ue, road_edge - 0.3, ue + ew, setback + 0.2), PARKING, material, color))
    if setback > 2.8 and r.random() < 0.6:
        for u in np.arange(u0 + r.uniform(1, 5), u0 + span - 1, r.uniform(7, 13)):
            if not ue - 2.5 < u < ue + ew + 2.5:
                ctx.tree(fs.pt(u, setback / 2), min(r.uniform(1.8, 3.5), setback * 0.6))
    back = setback + used + r.uniform(2.0, 6.0)
    if depth - back > 10 and r.random() < 0.6:
        bw = min(span * r.uniform(0.5, 0.95), 70.0)
        bd = min(depth - back, r.uniform(12.0, 30.0))
        uc = u0 + span / 2 + r.uniform(-0.2, 0.2) * (span - bw)
        lay.areas.append(Area(fs.rect(uc - bw / 2 - 2, back - 2, uc + bw / 2 + 2, back + bd + 2),
                              BACKGROUND, "concrete", jitter_color(r, CONCRETE, 0.06)))
        building(ctx, fs.pt(uc, back + bd / 2), fs.angle, bw, bd, flat=True)
    return True


def house_parcel(ctx: Ctx, fs: Frame, u0: float, width: float, depth: float, road_edge: float) -> bool:
    """A house with a driveway (where a car may stand: background, not parking) and a yard."""
    r, lay = ctx.rng, ctx.layout
    lh, dh, st = min(width - 4, r.uniform(9, 16)), r.uniform(8, 13), r.uniform(5, 9)
    if lh < 8 or depth < st + dh + 2:
        return False
    uc = u0 + width / 2 + r.uniform(-1, 1)
    dw = r.uniform(3.0, 5.5)
    ud = uc - lh / 2 + 0.5 if r.random() < 0.5 else uc + lh / 2 - dw - 0.5
    drive = fs.rect(ud, road_edge - 0.3, ud + dw, st + 0.5)
    lay.areas.append(Area(drive, BACKGROUND, "concrete", jitter_color(r, CONCRETE, 0.08)))
    ctx.occ.add(drive)
    for k in range(int(r.integers(0, 3))):
        length_c, width_c, kind = ctx.vehicle_dims()
        w = st - 0.5 - length_c / 2 - k * (length_c + 0.8)
        if w - length_c / 2 < 0.5:
            break
        lay.cars.append(Car(fs.pt(ud + dw / 2, w), fs.angle_b + (np.pi if r.random() < 0.7 else 0.0),
                            length_c, min(width_c, dw - 0.4), pick_car_color(r), "driveway", kind))
    building(ctx, fs.pt(uc, st + dh / 2), fs.angle, lh, dh, flat=False)
    if r.random() < 0.15 and depth > st + dh + 9:
        pool = fs.rect(uc - 3, st + dh + 2, uc + 2, st + dh + 6)
        lay.areas.append(Area(pool, BACKGROUND, "water", jitter_color(r, (70, 160, 190), 0.1)))
        ctx.occ.add(pool)
    for _ in range(int(r.integers(0, 4))):
        c = fs.pt(u0 + r.uniform(1, width - 1), r.uniform(1, min(depth, st + dh + 12)))
        radius = r.uniform(1.8, 4.5)
        if ctx.occ.disc_is_free(c, radius * 0.7):
            ctx.tree(c, radius)
    return True


def green_parcel(ctx: Ctx, fs: Frame, u0: float, width: float, depth: float) -> None:
    """Grass with a few trees, sometimes a bare patch of soil (background)."""
    r, lay = ctx.rng, ctx.layout
    d = min(depth, 40.0)
    if r.random() < 0.3:
        n = int(r.integers(5, 9))
        ang = np.sort(r.uniform(0, 2 * np.pi, n))
        rad = r.uniform(0.25, 0.45, n) * min(width, d)
        c = np.array([u0 + width / 2, d / 2])
        offsets = rad[:, None] * np.stack([np.cos(ang), np.sin(ang)], axis=1)
        pts = np.array([fs.pt(*(c + o)) for o in offsets])
        lay.areas.append(Area(pts, BACKGROUND, "soil", jitter_color(r, (150, 126, 96), 0.12)))
    for _ in range(int(width * d / r.uniform(60, 200))):
        c = fs.pt(u0 + r.uniform(0, width), r.uniform(1, d))
        radius = r.uniform(1.8, 5.0)
        if ctx.occ.disc_is_free(c, radius * 0.6):
            ctx.tree(c, radius)


def shop_parcel(ctx: Ctx, fs: Frame, u0: float, width: float, depth: float, road_edge: float) -> bool:
    """A flat-roofed building on a concrete apron, reached by a short drive."""
    r, lay = ctx.rng, ctx.layout
    st = r.uniform(3, 10)
    bd = min(depth - st - 2, r.uniform(12, 30))
    if width < 16 or bd < 8:
        return False
    apron = fs.rect(u0 + 1, st - 2, u0 + width - 1, st + bd + 2)
    lay.areas.append(Area(apron, BACKGROUND, "concrete", jitter_color(r, CONCRETE, 0.06)))
    ud = u0 + r.uniform(1, width - 7)
    lay.areas.append(Area(fs.rect(ud, road_edge - 0.3, ud + 6, st - 1.9), BACKGROUND, "concrete",
                          lay.areas[-1].color))
    ctx.occ.add(apron)
    building(ctx, fs.pt(u0 + width / 2, st + bd / 2), fs.angle, width - r.uniform(4, 8), bd, flat=True)
    return True
