"""Small inline-SVG charts for self-contained HTML reports.

Reports must open anywhere with no network and no plotting library, so the
charts are plain SVG strings: a horizontal bar chart (area per class) and a
line chart (area over time along a drive).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence

import cv2
import numpy as np

from seggui.core.thumbnails import make_thumbnail


def _fmt(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else "n/a"
    if abs(v) >= 1000 or float(v).is_integer():
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _rgb(c: Sequence[int]) -> str:
    return f"rgb({int(c[0])},{int(c[1])},{int(c[2])})"


def bar_chart_svg(
    labels: Sequence[str],
    values: Sequence[float],
    colors: Sequence[Sequence[int]],
    unit: str = "",
    width: int = 640,
) -> str:
    """Horizontal bars, one per label, each in its class colour, value printed."""
    row, left, right = 22, 190, 90
    height = row * len(labels) + 10
    top = max([v for v in values if math.isfinite(v)] or [0.0]) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
    ]
    span = width - left - right
    for i, (label, value, color) in enumerate(zip(labels, values, colors, strict=True)):
        y = 5 + i * row
        w = 0 if not math.isfinite(value) else max(0.0, value) / top * span
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{html.escape(label)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{_rgb(color)}" '
            f'stroke="#333" stroke-width="0.5"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 15}">{_fmt(value)} {html.escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart_svg(
    xs: Sequence[float],
    series: dict[str, tuple[Sequence[float], Sequence[int]]],
    x_label: str = "frame",
    y_label: str = "",
    width: int = 640,
    height: int = 240,
) -> str:
    """Lines over a shared x axis; `series` maps a name to (values, RGB colour)."""
    left, bottom, top_pad, right = 60, 30, 12, 130
    finite = [v for vals, _ in series.values() for v in vals if math.isfinite(v)]
    ymax = max(finite or [1.0]) or 1.0
    xmin, xmax = (min(xs), max(xs)) if len(xs) else (0.0, 1.0)
    xspan = (xmax - xmin) or 1.0
    pw, ph = width - left - right, height - bottom - top_pad

    def px(x: float) -> float:
        return left + (x - xmin) / xspan * pw

    def py(y: float) -> float:
        return top_pad + ph - y / ymax * ph

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect x="{left}" y="{top_pad}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top_pad + 8}" text-anchor="end">{_fmt(ymax)}</text>',
        f'<text x="{left - 4}" y="{top_pad + ph}" text-anchor="end">0</text>',
        f'<text x="{left}" y="{height - 8}">{_fmt(xmin)}</text>',
        f'<text x="{left + pw}" y="{height - 8}" text-anchor="end">{_fmt(xmax)}</text>',
        f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">{html.escape(x_label)}</text>',
        f'<text x="12" y="{top_pad + ph / 2}" transform="rotate(-90 12 {top_pad + ph / 2})" '
        f'text-anchor="middle">{html.escape(y_label)}</text>',
    ]
    for k, (name, (vals, color)) in enumerate(series.items()):
        pts = " ".join(
            f"{px(x):.1f},{py(v):.1f}" for x, v in zip(xs, vals, strict=True) if math.isfinite(v)
        )
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{_rgb(color)}" stroke-width="1.8"/>')
        ly = top_pad + 14 + 16 * k
        parts.append(
            f'<line x1="{left + pw + 8}" y1="{ly - 4}" x2="{left + pw + 24}" y2="{ly - 4}" '
            f'stroke="{_rgb(color)}" stroke-width="3"/>'
            f'<text x="{left + pw + 28}" y="{ly}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def image_data_uri(rgb: np.ndarray, max_side: int = 320, quality: int = 85) -> str:
    """A JPEG thumbnail of an RGB picture as a data: URI to embed in HTML."""
    rgb = make_thumbnail(rgb, max_side)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - encoding a valid uint8 array does not fail
        raise ValueError("cannot encode thumbnail")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")
