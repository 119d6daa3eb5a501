"""Plain geometry for scene layout: oriented frames, rectangles, an occupancy grid.

Layout happens in metres, in picture coordinates (x right, y down), so a scene
planned once can be painted at any ground sampling distance.
"""

from __future__ import annotations

import cv2
import numpy as np


class Frame:
    """A local (u, v) frame: origin in metres, unit axes `a` (along u) and `b` (along v).

    The axes need not be right-handed: a lot on the far side of a road uses
    `b` pointing away from the road whichever side that is.
    """

    def __init__(self, origin: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        self.o = np.asarray(origin, float)
        self.a = np.asarray(a, float)
        self.b = np.asarray(b, float)

    @classmethod
    def rotated(cls, origin: np.ndarray, angle: float) -> Frame:
        """A right-handed frame whose u axis points along `angle` (radians, x right, y down)."""
        a = np.array([np.cos(angle), np.sin(angle)])
        b = np.array([-np.sin(angle), np.cos(angle)])
        return cls(origin, a, b)

    @property
    def angle(self) -> float:
        """Direction of the u axis in picture coordinates (radians)."""
        return float(np.arctan2(self.a[1], self.a[0]))

    @property
    def angle_b(self) -> float:
        """Direction of the v axis in picture coordinates (radians)."""
        return float(np.arctan2(self.b[1], self.b[0]))

    def pt(self, u: float, v: float) -> np.ndarray:
        return self.o + u * self.a + v * self.b

    def rect(self, u0: float, v0: float, u1: float, v1: float) -> np.ndarray:
        """The corners (4, 2) of the local box [u0, u1] x [v0, v1]."""
        return np.array([self.pt(u0, v0), self.pt(u1, v0), self.pt(u1, v1), self.pt(u0, v1)])

    def sub(self, u: float, v: float, swap: bool = False) -> Frame:
        """A frame with its origin at local (u, v); `swap` exchanges the axes."""
        o = self.pt(u, v)
        return Frame(o, self.b, self.a) if swap else Frame(o, self.a, self.b)


def oriented_rect(center: np.ndarray, angle: float, length: float, width: float) -> np.ndarray:
    """Corners (4, 2) of a box `length` along `angle` and `width` across it."""
    a = np.array([np.cos(angle), np.sin(angle)]) * (length / 2)
    b = np.array([-np.sin(angle), np.cos(angle)]) * (width / 2)
    c = np.asarray(center, float)
    return np.array([c - a - b, c + a - b, c + a + b, c - a + b])


def local_extent(width_m: float, height_m: float, frame: Frame) -> tuple[float, float, float, float]:
    """Bounds (umin, umax, vmin, vmax) of the picture seen in `frame`."""
    corners = np.array([[0, 0], [width_m, 0], [width_m, height_m], [0, height_m]], float) - frame.o
    u = corners @ frame.a
    v = corners @ frame.b
    return float(u.min()), float(u.max()), float(v.min()), float(v.max())


class Occupancy:
    """A coarse grid of taken ground, to place free objects without overlaps."""

    def __init__(self, width_m: float, height_m: float, res_m: float = 0.5, pad_m: float = 20.0) -> None:
        self.res = res_m
        self.pad = pad_m
        self.grid = np.zeros(
            (int((height_m + 2 * pad_m) / res_m) + 1, int((width_m + 2 * pad_m) / res_m) + 1), np.uint8
        )

    def _px(self, poly: np.ndarray) -> np.ndarray:
        return np.round((np.asarray(poly) + self.pad) / self.res * 8).astype(np.int32)

    def add(self, poly: np.ndarray) -> None:
        cv2.fillPoly(self.grid, [self._px(poly)], 1, cv2.LINE_8, 3)

    def add_disc(self, center: np.ndarray, radius: float) -> None:
        c = self._px(np.asarray(center)[None])[0]
        cv2.circle(self.grid, (int(c[0]), int(c[1])), int(radius / self.res * 8), 1, -1, cv2.LINE_8, 3)

    def is_free(self, poly: np.ndarray) -> bool:
        probe = np.zeros_like(self.grid)
        cv2.fillPoly(probe, [self._px(poly)], 1, cv2.LINE_8, 3)
        return not bool((probe & self.grid).any())

    def disc_is_free(self, center: np.ndarray, radius: float) -> bool:
        c = (np.asarray(center) + self.pad) / self.res
        r = max(1, int(np.ceil(radius / self.res)))
        y0, y1 = max(0, int(c[1]) - r), min(self.grid.shape[0], int(c[1]) + r + 1)
        x0, x1 = max(0, int(c[0]) - r), min(self.grid.shape[1], int(c[0]) + r + 1)
        if y0 >= y1 or x0 >= x1:
            return True
        yy, xx = np.mgrid[y0:y1, x0:x1]
        inside = (yy - c[1]) ** 2 + (xx - c[0]) ** 2 <= r * r
        return not bool(self.grid[y0:y1, x0:x1][inside].any())
