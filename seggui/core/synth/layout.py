"""What a synthetic scene contains: the primitives, in metres, that the painter draws.

A layout is data only (areas, paint lines, cars, buildings, trees, stains and
the sun), so planning (`scene.plan_layout`) and painting (`render.paint`) stay
apart and the same plan paints at any ground sampling distance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

RGB = tuple[float, float, float]

# Car colours as seen from above, with rough market shares (white, black, greys lead).
CAR_COLORS: list[tuple[RGB, float]] = [
    ((225, 226, 224), 0.24),
    ((28, 29, 32), 0.17),
    ((110, 112, 115), 0.14),
    ((170, 172, 175), 0.14),
    ((30, 55, 110), 0.08),
    ((150, 25, 28), 0.08),
    ((95, 70, 50), 0.03),
    ((40, 80, 50), 0.03),
    ((200, 185, 150), 0.03),
    ((215, 175, 30), 0.02),
    ((200, 90, 30), 0.02),
    ((60, 130, 170), 0.02),
]


@dataclass
class Area:
    """A flat polygon of ground: its class, material (texture) and base colour."""

    pts: np.ndarray
    cls: int
    material: str
    color: RGB


@dataclass
class Line:
    """A straight stroke of paint (stall line, lane marking, joint) on the ground."""

    p0: np.ndarray
    p1: np.ndarray
    width: float
    color: RGB
    alpha: float = 0.9


@dataclass
class Car:
    """A vehicle seen from above; `angle` points from its rear to its front."""

    center: np.ndarray
    angle: float
    length: float
    width: float
    color: RGB
    where: str  # "lot", "road" or "driveway"
    kind: str = "car"  # "car", "van" or "pickup"


@dataclass
class Building:
    """A rectangular building; `angle` is its long axis; roof "flat", "hip" or "gable"."""

    center: np.ndarray
    angle: float
    length: float
    width: float
    height: float
    roof: str
    color: RGB
    items: list[tuple[np.ndarray, float, RGB]] = field(default_factory=list)  # rooftop box, height, colour


@dataclass
class Tree:
    center: np.ndarray
    radius: float
    height: float
    color: RGB


@dataclass
class Stain:
    """A dark oil or tyre mark on pavement (paint only: the class stays)."""

    center: np.ndarray
    radius: float
    strength: float


@dataclass
class Layout:
    """Everything a scene holds, in metres in picture coordinates (x right, y down)."""

    width_m: float
    height_m: float
    ground: dict[str, Any]
    sun_azimuth: float
    sun_elevation: float
    areas: list[Area] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    cars: list[Car] = field(default_factory=list)
    buildings: list[Building] = field(default_factory=list)
    trees: list[Tree] = field(default_factory=list)
    stains: list[Stain] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def shadow_vector(self, height: float) -> np.ndarray:
        """Where the shadow of a point `height` metres up falls, relative to its foot."""
        length = height / np.tan(self.sun_elevation)
        return cast(np.ndarray, -length * np.array([np.cos(self.sun_azimuth), np.sin(self.sun_azimuth)]))

    def sun_direction(self) -> np.ndarray:
        """Unit vector on the ground pointing towards the sun."""
        return np.array([np.cos(self.sun_azimuth), np.sin(self.sun_azimuth)])


def pick_car_color(rng: np.random.Generator) -> RGB:
    """A car colour drawn by market share, with a little per-car variation."""
    weights = np.array([w for _, w in CAR_COLORS])
    base = np.array(CAR_COLORS[rng.choice(len(CAR_COLORS), p=weights / weights.sum())][0], float)
    base = np.clip(base * rng.uniform(0.9, 1.1) + rng.normal(0, 4, 3), 0, 255)
    return (float(base[0]), float(base[1]), float(base[2]))


def jitter_color(rng: np.random.Generator, color: RGB, spread: float = 0.08) -> RGB:
    """The colour scaled by a random brightness and tint (surfaces are never uniform)."""
    c = np.array(color, float) * rng.uniform(1 - spread, 1 + spread) * rng.uniform(0.97, 1.03, 3)
    c = np.clip(c, 0, 255)
    return (float(c[0]), float(c[1]), float(c[2]))
