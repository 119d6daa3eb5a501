"""One synthetic aerial scene: picture, exact mask, ground sampling distance, parking area.

`render_scene(seed)` is a pure function of its arguments: the seed feeds a numpy
`SeedSequence` that spawns one stream for the layout and one for the paint, so
the same seed gives the same pixels on every run and machine, and the layout of
a scene does not depend on how many random numbers the painter drew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.synth.labels import TABLE_NAME, parking_area_m2, to_parking_2
from seggui.core.synth.layout import Layout
from seggui.core.synth.plan import plan_layout
from seggui.core.synth.render import paint
from seggui.core.synth.varied import check_style, choose_view, plan_extent, randomise_layout

DEFAULT_GSD = 0.15
DEFAULT_SIZE = (512, 512)
CLASS_NAMES = ("background", "parking", "road", "building", "vegetation", "vehicle")


@dataclass
class Scene:
    """A generated picture with its ground truth.

    `mask` holds aerial-parking-6 ids; `parking_area_m2` is exact: the pixel
    count of `to_parking_2(mask)` times `gsd_m`², where parking includes the
    cars standing on a lot (see `seggui.core.synth.labels`).
    """

    image: np.ndarray
    mask: np.ndarray
    gsd_m: float
    seed: int
    parking_area_m2: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def parking_mask(self) -> np.ndarray:
        """The parking-2 view of the mask (1 = parking lot, cars on it included)."""
        return to_parking_2(self.mask)


def streams(seed: int, n: int, key: int = 0) -> list[np.random.Generator]:
    """`n` independent generators derived from `seed` (and a use-specific `key`)."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise BadInputError(None, f"seed must be a non-negative integer, got {seed!r}")
    children = np.random.SeedSequence([int(seed), key]).spawn(n)
    return [np.random.Generator(np.random.PCG64(c)) for c in children]


def check_size(size: tuple[int, int], gsd: float) -> tuple[int, int]:
    """Validate a (height, width) in pixels and a GSD in metres per pixel."""
    try:
        h, w = int(size[0]), int(size[1])
    except (TypeError, ValueError, IndexError):
        raise BadInputError(None, f"size must be (height, width) in pixels, got {size!r}") from None
    if not (16 <= h <= 16384 and 16 <= w <= 16384):
        raise BadInputError(None, f"size {w}x{h} is outside 16..16384 pixels per side")
    if not (isinstance(gsd, int | float) and 0.01 <= gsd <= 5.0):
        raise BadInputError(None, f"gsd must be 0.01..5 metres per pixel, got {gsd!r}")
    return h, w


def describe(lay: Layout, mask: np.ndarray) -> dict[str, Any]:
    """Scene facts for reports and tests: class shares, cars in view, the planned lots, the sun.

    `lots` lists every lot planned, including those lying partly or wholly outside the picture.
    """
    counts = np.bincount(mask.ravel(), minlength=len(CLASS_NAMES))[: len(CLASS_NAMES)]
    where = [c.where for c in lay.cars
             if 0 <= c.center[0] < lay.width_m and 0 <= c.center[1] < lay.height_m]
    return {
        "classes": TABLE_NAME,
        "class_share": {n: round(float(c) / mask.size, 5) for n, c in zip(CLASS_NAMES, counts, strict=True)},
        "lots": lay.meta.get("lots", []),
        "street_angle_deg": lay.meta.get("street_angle_deg"),
        "cars": {k: where.count(k) for k in ("lot", "road", "driveway")},
        "buildings": len(lay.buildings),
        "trees": len(lay.trees),
        "sun_azimuth_deg": round(float(np.degrees(lay.sun_azimuth)), 2),
        "sun_elevation_deg": round(float(np.degrees(lay.sun_elevation)), 2),
    }


def render_scene(seed: int, size: tuple[int, int] = DEFAULT_SIZE, gsd: float = DEFAULT_GSD,
                 style: str = "default") -> Scene:
    """Generate the scene of `seed`: `size` = (height, width) pixels at `gsd` metres per pixel.

    `style` "default" is the generator's one look (its pixels never change for a
    seed); "varied" randomises the same kind of plan widely for training models
    that must work on real pictures (`seggui.core.synth.varied`), from streams
    of its own, so a seed's varied scene is not its default scene re-coloured.
    """
    h, w = check_size(size, gsd)
    if check_style(style) == "default":
        layout_rng, paint_rng = streams(seed, 2)
        lay = plan_layout(layout_rng, w * gsd, h * gsd)
    else:
        layout_rng, paint_rng, vary_rng = streams(seed, 3, key=1)
        lay = plan_layout(layout_rng, *plan_extent(w * gsd, h * gsd))
        randomise_layout(lay, vary_rng)
        choose_view(lay, vary_rng, w * gsd, h * gsd)
    image, mask = paint(lay, h, w, gsd, paint_rng, style=style)
    meta = describe(lay, mask)
    if style != "default":
        meta["style"] = style
    return Scene(image, mask, float(gsd), int(seed), parking_area_m2(mask, gsd), meta)
