"""Plan a scene: a street (sometimes a cross street) lined with parcels, plus free extras.

The street runs along a random direction (axis-aligned in about half the
scenes, rotated otherwise). One lot is always placed across the middle of the
picture so every default scene shows parking; the rest of each street side is
filled with lots, houses, shops and green plots; a free-standing lot at its own
angle and scattered trees go where the ground is still free.
"""

from __future__ import annotations

import numpy as np

from seggui.core.synth.geometry import Frame, Occupancy, local_extent, oriented_rect
from seggui.core.synth.labels import BACKGROUND, ROAD, VEGETATION
from seggui.core.synth.layout import Area, Car, Layout, Line, jitter_color, pick_car_color
from seggui.core.synth.parcels import (
    GRASS,
    WHITE_PAINT,
    YELLOW_PAINT,
    Ctx,
    build_lot,
    green_parcel,
    house_parcel,
    lot_parcel,
    pavement,
    shop_parcel,
)


def plan_layout(rng: np.random.Generator, width_m: float, height_m: float,
                heading: float | None = None) -> Layout:
    """A random scene layout covering `width_m` x `height_m` metres.

    `heading` (radians) fixes the street direction and keeps the street near
    the middle: a drive flies along it.
    """
    r = rng
    if heading is None:
        pick = r.random()
        theta = 0.0 if pick < 0.3 else np.pi / 2 if pick < 0.45 else r.uniform(0, np.pi)
    else:
        theta = float(heading)
    ground = {
        "grass_share": float(r.uniform(0.7, 1.0)),
        "grass": jitter_color(r, GRASS, 0.15),
        "soil": jitter_color(r, (150, 136, 112), 0.1),
        "patch_m": float(r.uniform(6, 20)),
    }
    lay = Layout(width_m, height_m, ground, float(r.uniform(0, 2 * np.pi)),
                 float(np.radians(r.uniform(40, 72))))
    lay.meta["street_angle_deg"] = round(float(np.degrees(theta)) % 180, 3)
    ctx = Ctx(r, lay, Occupancy(width_m, height_m))
    f = Frame.rotated(np.array([width_m / 2, height_m / 2]), theta)
    umin, umax, vmin, vmax = local_extent(width_m, height_m, f)
    umin, umax = umin - 15, umax + 15
    concrete_lots = r.random() < 0.35
    has_road = heading is not None or r.random() < 0.85
    anchor_side = 1 if r.random() < 0.5 else -1
    if has_road:
        lanes = int(r.choice([2, 2, 2, 3, 4]))
        lane_w, shoulder = r.uniform(3.2, 3.7), r.uniform(0.2, 0.8)
        half = lanes * lane_w / 2 + shoulder
        if heading is not None:
            v_road = r.uniform(-0.3, 0.3) * min(vmax, 30.0)
        else:  # off-centre, leaving more room on the anchor lot's side
            v_road = -anchor_side * r.uniform(0.1, 0.6) * (vmax - half - 4)
        verge, walk = r.uniform(0.5, 3.0), (r.uniform(1.4, 2.4) if r.random() < 0.75 else 0.0)
        road_mat = pavement(r, r.random() < 0.3)
        cross = _cross_street(ctx, f, umin, umax, vmin, vmax, walk)
        for s in (1, -1):
            edge = v_road + s * half
            _strip(ctx, f, edge + s * verge / 2, verge, umin, umax, VEGETATION, "grass",
                   jitter_color(r, GRASS, 0.1))
            if walk:
                _strip(ctx, f, edge + s * (verge + walk / 2), walk, umin, umax, BACKGROUND, "concrete",
                       jitter_color(r, (190, 186, 178), 0.05))
        _road(ctx, f, v_road, lanes, lane_w, shoulder, umin, umax, road_mat,
              None if cross is None else (cross[0], 2 * cross[1] + 0.6))
        if cross is not None:
            _road(ctx, f.sub(cross[0], 0, swap=True), 0.0, 2, cross[1], 0.3, vmin - 20, vmax + 20,
                  road_mat, (v_road, 2 * half), cars=False)
        front = {s: v_road + s * (half + verge + walk) for s in (1, -1)}
        road_edge = -(verge + walk)
    else:
        cross = None
        into = r.uniform(-8.0, 0.3 * (vmax - vmin))
        front = {anchor_side: (vmin + into) if anchor_side == 1 else (vmax - into)}
        road_edge = None
    for s, v_front in front.items():
        fs = Frame(f.pt(0, v_front), f.a, s * f.b)
        depth = (vmax - v_front if s == 1 else v_front - vmin) + 10
        if depth < 6:
            continue
        gaps = [(umin, umax)]
        if cross is not None:
            c0, c1 = cross[0] - cross[2], cross[0] + cross[2]
            gaps = [(umin, c0), (c1, umax)]
        if s == anchor_side or not has_road:
            gaps = _anchor_lot(ctx, fs, gaps, depth, road_edge, concrete_lots)
        for a, b in gaps:
            _fill(ctx, fs, a, b, depth, road_edge, concrete_lots)
    _free_lot(ctx, width_m, height_m, has_road)
    _scatter_trees(ctx, width_m, height_m)
    return lay


def _strip(ctx: Ctx, f: Frame, v: float, w: float, u0: float, u1: float, cls: int, mat: str,
           color: tuple[float, float, float]) -> None:
    poly = f.rect(u0, v - w / 2, u1, v + w / 2)
    ctx.layout.areas.append(Area(poly, cls, mat, color))
    ctx.occ.add(poly)


def _cross_street(ctx: Ctx, f: Frame, umin: float, umax: float, vmin: float, vmax: float,
                  walk: float) -> tuple[float, float, float] | None:
    """Maybe a two-lane cross street: (u centre, lane width, half the width it keeps free)."""
    r = ctx.rng
    if r.random() > 0.3:
        return None
    lane_w = r.uniform(3.2, 3.6)
    u = r.uniform(umin + 20, umax - 20) if umax - umin > 60 else (umax if r.random() < 0.5 else umin)
    keep = lane_w + 0.3 + 1.5 + walk + 1.0
    _strip(ctx, f.sub(u, 0, swap=True), 0.0, 2 * keep - 2, vmin - 20, vmax + 20, BACKGROUND, "concrete",
           jitter_color(r, (190, 186, 178), 0.05))
    return u, lane_w, keep


def _road(ctx: Ctx, f: Frame, v: float, lanes: int, lane_w: float, shoulder: float, u0: float, u1: float,
          road_mat: tuple[str, tuple[float, float, float]], skip: tuple[float, float] | None,
          cars: bool = True) -> None:
    """A road along u centred at v: surface, markings and traffic; `skip` = (u, width) left unmarked."""
    r, lay = ctx.rng, ctx.layout
    half = lanes * lane_w / 2 + shoulder
    poly = f.rect(u0, v - half, u1, v + half)
    lay.areas.append(Area(poly, ROAD, *road_mat))
    ctx.occ.add(poly)
    holes = [] if skip is None else [(skip[0] - skip[1] / 2 - 1, skip[0] + skip[1] / 2 + 1)]
    alpha = r.uniform(0.6, 0.95)

    def stroke(vv: float, color: tuple[float, float, float], dash: tuple[float, float] | None) -> None:
        step = dash[0] + dash[1] if dash else (u1 - u0)
        on = dash[0] if dash else (u1 - u0)
        for a in np.arange(u0 + (r.uniform(0, step) if dash else 0), u1, step):
            b = min(a + on, u1)
            for h0, h1 in holes:  # cut the stroke around an intersection
                if a < h1 and b > h0:
                    if a < h0:
                        lay.lines.append(Line(f.pt(a, vv), f.pt(h0, vv), 0.13, color, alpha))
                    a = max(a, h1)
            if b > a:
                lay.lines.append(Line(f.pt(a, vv), f.pt(b, vv), 0.13, color, alpha))

    if r.random() < 0.7:
        for s in (-1, 1):
            stroke(v + s * (half - shoulder), WHITE_PAINT, None)
    dash = (3.0, r.uniform(6.0, 9.0))
    for k in range(1, lanes):
        vv = v - half + shoulder + k * lane_w
        if lanes % 2 == 0 and k == lanes // 2 and r.random() < 0.6:
            stroke(vv - 0.18, YELLOW_PAINT, None)
            stroke(vv + 0.18, YELLOW_PAINT, None)
        else:
            stroke(vv, WHITE_PAINT, dash)
    if not cars:
        return
    for k in range(lanes):
        vv = v - half + shoulder + (k + 0.5) * lane_w
        forward = k >= lanes / 2
        u = u0 + r.uniform(0, 30)
        while u < u1:
            length, width, kind = ctx.vehicle_dims()
            if r.random() < 0.5 and not any(h0 - 4 < u < h1 + 4 for h0, h1 in holes):
                ang = f.angle + (0.0 if forward else np.pi) + r.normal(0, 0.01)
                c = f.pt(u, vv + r.normal(0, 0.2))
                lay.cars.append(Car(c, ang, length, width, pick_car_color(r), "road", kind))
            u += length + r.uniform(4, 30)


def _anchor_lot(ctx: Ctx, fs: Frame, gaps: list[tuple[float, float]], depth: float, road_edge: float | None,
                concrete: bool) -> list[tuple[float, float]]:
    """Put a lot across u = 0 (the picture's middle) and return the street left on both sides."""
    r = ctx.rng
    length = r.uniform(25, 55)
    u0 = -length * r.uniform(0.25, 0.75)
    for a, b in gaps:
        if a <= 0 <= b:
            length = min(length, b - a - 2)
            u0 = min(max(u0, a + 1), b - length - 1)
            if length > 12 and lot_parcel(ctx, fs, u0, length, depth, road_edge, concrete):
                out = [(g0, g1) for g0, g1 in gaps if (g0, g1) != (a, b)]
                return out + [(a, u0 - 1), (u0 + length + 1, b)]
    return gaps


def _fill(ctx: Ctx, fs: Frame, a: float, b: float, depth: float, road_edge: float | None,
          concrete: bool) -> None:
    """Fill the street side between u = a and u = b with parcels of random kinds.

    Without a street (`road_edge` None) drives start at the parcel front.
    """
    r = ctx.rng
    edge = road_edge if road_edge is not None else 0.0
    u = a
    while b - u > 4:
        kind = r.choice(["lot", "house", "house", "shop", "green"], p=[0.22, 0.17, 0.17, 0.2, 0.24])
        width = min(b - u, {"lot": r.uniform(25, 70), "house": r.uniform(15, 24),
                            "shop": r.uniform(20, 50), "green": r.uniform(8, 35)}[kind])
        done = False
        if kind == "lot" and width > 12:
            done = lot_parcel(ctx, fs, u, width, depth, road_edge, concrete)
        elif kind == "house":
            done = house_parcel(ctx, fs, u, width, depth, edge)
        elif kind == "shop":
            done = shop_parcel(ctx, fs, u, width, depth, edge)
        if not done:
            green_parcel(ctx, fs, u, width, depth)
        u += width + r.uniform(0.5, 3.0)


def _free_lot(ctx: Ctx, width_m: float, height_m: float, has_road: bool) -> None:
    """Sometimes a free-standing lot at its own angle where the ground is still free."""
    r = ctx.rng
    if r.random() > (0.6 if not has_road else 0.3):
        return
    for _ in range(15):
        length, depth = r.uniform(18, 45), r.uniform(14, 35)
        ang = r.uniform(0, np.pi)
        c = np.array([r.uniform(0.1, 0.9) * width_m, r.uniform(0.1, 0.9) * height_m])
        probe = oriented_rect(c, ang, length + 4, depth + 4)
        if ctx.occ.is_free(probe):
            corner = oriented_rect(c, ang, length, depth)[0]
            if build_lot(ctx, Frame.rotated(corner, ang), length, depth, r.random() < 0.35, 2):
                return


def _scatter_trees(ctx: Ctx, width_m: float, height_m: float) -> None:
    """Trees on free ground, loosely clustered."""
    r = ctx.rng
    n = int(width_m * height_m / r.uniform(150, 700))
    centers = np.array([r.uniform(0, width_m, 3), r.uniform(0, height_m, 3)]).T
    for _ in range(n):
        if r.random() < 0.6:
            c = centers[r.integers(len(centers))] + r.normal(0, 8, 2)
        else:
            c = np.array([r.uniform(-5, width_m + 5), r.uniform(-5, height_m + 5)])
        radius = r.uniform(1.8, 5.0)
        if ctx.occ.disc_is_free(c, radius * 0.8):
            ctx.tree(c, radius)
            ctx.occ.add_disc(c, radius * 0.4)
