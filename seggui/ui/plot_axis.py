"""A pyqtgraph value axis whose labels never crowd, however short the plot.

pyqtgraph picks at least two and a quarter tick intervals whatever the
axis length and always labels its major ticks, so on a plot a few dozen
pixels tall (the drive plot in a quarter-height Drive panel) the labels sit
on top of each other. This axis widens the major spacing, through the 1-2-5
steps pyqtgraph uses, until consecutive labels are `GAP_LINES` text lines
apart (or, when that would leave a single label, `LEAST_GAP_LINES`: still
apart, only tighter), and labels only the major ticks (the minor ones stay
as grid lines).

Imported only once a plot is made, like pyqtgraph itself.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

GAP_LINES = 1.5  # consecutive labels this many text lines apart (centre to centre) where it fits
LEAST_GAP_LINES = 1.0  # and never closer than this: the labels' line boxes may touch, never overlap


def next_step(step: float) -> float:
    """The next spacing of the 1-2-5 series above `step` (0.5 -> 1, 1 -> 2, 2 -> 5, 5 -> 10)."""
    exp = math.floor(math.log10(step))
    mantissa = step / 10 ** exp
    for m in (2.0, 5.0, 10.0):
        if m > mantissa * (1 + 1e-9):
            return m * 10 ** exp
    return 20.0 * 10 ** exp


def _labels_within(a: float, b: float, step: float, margin: float) -> int:
    """How many multiples of `step` lie in [a, b] at least `margin` from its ends (pyqtgraph drops a
    label that would stick out of the axis)."""
    lo, hi = min(a, b) + margin, max(a, b) - margin
    return max(0, math.floor(hi / step) - math.ceil(lo / step) + 1)


class FittingAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """A value axis with as many labelled ticks as fit without crowding (see the module docstring)."""

    def __init__(self, orientation: str = "left", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.setStyle(maxTextLevel=0)  # minor ticks unlabelled: they are what crowds a short axis

    def line(self) -> float:
        """The height of a line of label text, in pixels."""
        return QFontMetricsF(self.style.get("tickFont") or self.font()).height()

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N802
        levels: list[tuple[float, float]] = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if not levels or size <= 0 or span == 0 or self._tickSpacing is not None:
            return levels
        per_unit, line = size / span, self.line()
        major = levels[0][0]
        if major * per_unit >= GAP_LINES * line:
            return levels
        smaller = major
        while major * per_unit < GAP_LINES * line:
            smaller, major = major, next_step(major)
        if _labels_within(minVal, maxVal, major, 0.5 * line / per_unit) < 2 \
                and smaller * per_unit >= LEAST_GAP_LINES * line:
            major = smaller  # one label says nothing of the scale: two, a little closer
        if self.style["maxTickLevel"] < 1:
            return [(major, 0.0)]
        mantissa = round(major / 10 ** math.floor(math.log10(major)))
        minor = major / (5 if mantissa == 5 else 2)  # the grid lines pyqtgraph would draw for this major
        return [(major, 0.0), (minor, 0.0)] if minor * per_unit >= 4 else [(major, 0.0)]
