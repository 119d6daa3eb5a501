"""Refine one class's region from a few clicks (or a box), the picture and the model's probabilities.

The analyst picks a class and clicks: a positive click on pixels that belong
to it, a negative one on pixels that do not. The region (the current labels
of that class) is recomputed around the clicks by a graph cut (OpenCV's
GrabCut: colour models of the region and its surroundings, a cut along
strong edges) or, for comparison, a random walker on an edge map that also
weighs the model's probability (`method="walker"`, scikit-image);
tests/benchmarks/refine.py measures both with a scripted annotator and GrabCut
is the default (see the README for the figures).

Both start from the same trimap, which is where the model's probability comes in:

- each click makes a disk of its polarity definite; its radius is a share of
  the distance from the click to the edge of the region it fell in, so a
  click in the middle of a wrong blob claims much of it, one near an edge little;
- around each click (a few such distances) the current region is only a guess;
- elsewhere a pixel is definite when it lies farther than a band from the
  region's edge and, with a probability map, when the model agrees
  confidently (p > 0.8 inside, p < 0.2 outside); otherwise it is a guess.

Without a prediction the same runs on colour alone. Everything works on a
window of the picture around the clicks, scaled to at most `WORK_SIDE` pixels,
so a click costs about the same on any picture size.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np

from seggui.core.editing.brush import allowed
from seggui.core.editing.change import Change, selection_change

WORK_SIDE = 240  # the window is scaled to at most this side for the cut
METHODS = ("grabcut", "walker")
CONFIDENT = 0.8
DEPTH_CAP = 0.08  # a click's depth counts up to this share of the long side (an empty mask has no edge)


@dataclass(frozen=True)
class Click:
    """A click at image position (x, y): positive (belongs to the class) or negative."""

    x: float
    y: float
    positive: bool = True


@dataclass(frozen=True)
class Refined:
    """The recomputed region inside a window of the picture: `region[i, j]` is pixel (top+i, left+j)."""

    top: int
    left: int
    region: np.ndarray


def class_probability(pred: np.ndarray | None, conf: np.ndarray | None, class_id: int,
                      n_classes: int) -> np.ndarray | None:
    """P(class) per pixel from what a prediction stores: its labels and its confidence PNG (max softmax x255).

    Where the model chose the class this is its confidence; elsewhere the
    rest of the probability spread over the other classes. Exact for the
    class the model chose, which is what a refine of that class's edge needs;
    without a confidence map a flat 0.9 stands in.
    """
    if pred is None:
        return None
    top = np.full(pred.shape, 0.9, np.float32) if conf is None else conf.astype(np.float32) / 255.0
    if top.shape != pred.shape:
        raise ValueError(f"the confidence map is {top.shape[1]}x{top.shape[0]}, "
                         f"the prediction {pred.shape[1]}x{pred.shape[0]}")
    rest = (1.0 - top) / max(1, n_classes - 1)
    return np.where(pred == class_id, top, rest).astype(np.float32)


def check_clicks(shape: tuple[int, int], clicks: Sequence[Click],
                 box: tuple[float, float, float, float] | None) -> None:
    """ValueError with a plain reason for a click off the picture or a box of no size."""
    h, w = shape
    for c in clicks:
        if not (0 <= c.x < w and 0 <= c.y < h):
            raise ValueError(f"the click at ({c.x:.0f}, {c.y:.0f}) is outside the {w}x{h} picture")
    if box is not None:
        x0, y0, x1, y1 = box
        if abs(x1 - x0) < 2 or abs(y1 - y0) < 2:
            raise ValueError("the box has no size: drag a rectangle around the region")
    if not clicks and box is None:
        raise ValueError("nothing to refine from: click on the region or drag a box around it")


def _click_depths(base: np.ndarray, clicks: Sequence[Click]) -> list[float]:
    """Per click, the distance to the edge of the region (of `base` or its complement) it fell in."""
    dist: dict[bool, np.ndarray] = {}
    out = []
    for c in clicks:
        inside = bool(base[int(c.y), int(c.x)])
        if inside not in dist:
            side = (base if inside else ~base).astype(np.uint8)
            padded = cv2.copyMakeBorder(side, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
            dist[inside] = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]
        out.append(min(float(dist[inside][int(c.y), int(c.x)]), DEPTH_CAP * max(base.shape)))
    return out


def _window(shape: tuple[int, int], clicks: Sequence[Click], depths: Sequence[float],
            box: tuple[float, float, float, float] | None) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the part of the picture the refine may change."""
    h, w = shape
    pad = max(16.0, 0.04 * max(h, w))
    cap = 0.35 * max(h, w)
    xs0, xs1, ys0, ys1 = [], [], [], []
    for c, d in zip(clicks, depths, strict=True):
        r = min(cap, 3.0 * d) + pad
        xs0.append(c.x - r)
        xs1.append(c.x + r)
        ys0.append(c.y - r)
        ys1.append(c.y + r)
    if box is not None:
        x0, y0, x1, y1 = min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])
        m = 0.1 * max(x1 - x0, y1 - y0) + 4
        xs0.append(x0 - m)
        xs1.append(x1 + m)
        ys0.append(y0 - m)
        ys1.append(y1 + m)
    top, bottom = max(0, int(min(ys0))), min(h, int(np.ceil(max(ys1))))
    left, right = max(0, int(min(xs0))), min(w, int(np.ceil(max(xs1))))
    return top, bottom, left, right


Window = tuple[int, int, int, int]


def trimap(base: np.ndarray, prob: np.ndarray | None, clicks: Sequence[Click],
           box: tuple[float, float, float, float] | None = None) -> tuple[np.ndarray, Window]:
    """The GrabCut mask (GC_BGD, GC_FGD, GC_PR_BGD, GC_PR_FGD) of the window, and the window."""
    h, w = base.shape
    depths = _click_depths(base, clicks)
    top, bottom, left, right = _window((h, w), clicks, depths, box)
    sub = base[top:bottom, left:right]
    band = max(3.0, 0.012 * max(h, w))
    edge = cv2.morphologyEx(sub.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    far = cv2.distanceTransform((1 - edge).astype(np.uint8), cv2.DIST_L2, 3) > band
    sure = far
    if prob is not None:
        p = prob[top:bottom, left:right]
        sure = far & np.where(sub, p > CONFIDENT, p < 1 - CONFIDENT)
    mask = np.where(sub, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    mask[sure] = np.where(sub[sure], cv2.GC_FGD, cv2.GC_BGD)
    if box is not None:  # GrabCut's own start: inside the box a guess of the region, outside not it
        x0, y0 = int(min(box[0], box[2])) - left, int(min(box[1], box[3])) - top
        x1, y1 = int(max(box[0], box[2])) - left, int(max(box[1], box[3])) - top
        inner = np.zeros(sub.shape, bool)
        inner[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = True
        mask[inner & ~sure] = cv2.GC_PR_FGD
        if not sub[inner].any():
            mask[inner] = cv2.GC_PR_FGD
        mask[~inner] = cv2.GC_BGD
    yy, xx = np.mgrid[top:bottom, left:right]
    for c, d in zip(clicks, depths, strict=True):
        r2 = (xx - c.x) ** 2 + (yy - c.y) ** 2
        zone = r2 <= (2.0 * d + band) ** 2
        mask[zone] = cv2.GC_PR_FGD if c.positive else cv2.GC_PR_BGD
    for c, d in zip(clicks, depths, strict=True):  # the definite disks last: they win over any zone
        r2 = (xx - c.x) ** 2 + (yy - c.y) ** 2
        mask[r2 <= max(2.0, 0.6 * d) ** 2] = cv2.GC_FGD if c.positive else cv2.GC_BGD
    return mask, (top, bottom, left, right)


def _scale(arr: np.ndarray, size: tuple[int, int], nearest: bool) -> np.ndarray:
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
    return cv2.resize(arr, size, interpolation=interp)


def _grabcut(img: np.ndarray, mask: np.ndarray, iterations: int) -> np.ndarray:
    fg: np.ndarray = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    if fg.all() or not fg.any():
        return fg  # one side only: no colour model to compare with
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    m = mask.copy()
    cv2.grabCut(np.ascontiguousarray(img[..., ::-1]), m, None, bgd, fgd, iterations,  # type: ignore[call-overload]
                cv2.GC_INIT_WITH_MASK)
    return cast(np.ndarray, (m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD))


def _walker(img: np.ndarray, mask: np.ndarray, prob: np.ndarray | None) -> np.ndarray:
    from skimage.segmentation import random_walker  # the assist extra; only this method needs it

    seeds = np.zeros(mask.shape, np.int32)
    seeds[mask == cv2.GC_FGD] = 1
    seeds[mask == cv2.GC_BGD] = 2
    if not (seeds == 1).any() or not (seeds == 2).any():
        return cast(np.ndarray, (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD))
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32) / 255.0
    chans = [lab] if prob is None else [lab, 2.0 * prob[..., None]]
    data = np.concatenate(chans, axis=2)
    out = random_walker(data, seeds, beta=130, mode="cg_j", tol=1e-2, channel_axis=-1)
    return np.asarray(out == 1)


def refine(image: np.ndarray, base: np.ndarray, clicks: Sequence[Click], prob: np.ndarray | None = None,
           box: tuple[float, float, float, float] | None = None, method: str = "grabcut",
           iterations: int = 2, reach: Sequence[Click] | None = None) -> Refined:
    """The class's region recomputed near `clicks` (and inside `box`), from `base` (the current region).

    `image` RGB uint8 (H, W, 3); `base` bool (H, W); `prob` the model's
    P(class) (H, W) or None for colour alone. Only changes connected to a
    click of `reach` (default: all clicks) or inside the box are kept; an
    editor passes the newest click alone once earlier clicks are on the mask.
    ValueError (a plain reason) for clicks off the picture, a box of no size
    or maps of another size.
    """
    h, w = base.shape
    if image.shape[:2] != (h, w):
        raise ValueError(f"the picture is {image.shape[1]}x{image.shape[0]}, the mask {w}x{h}")
    if prob is not None and prob.shape != (h, w):
        raise ValueError(f"the prediction is {prob.shape[1]}x{prob.shape[0]}, the picture {w}x{h}: "
                         "run the model again on this picture")
    if method not in METHODS:
        raise ValueError(f"unknown refine method {method!r} (one of {', '.join(METHODS)})")
    check_clicks((h, w), clicks, box)
    mask, (top, bottom, left, right) = trimap(base, prob, clicks, box)
    wh, ww = bottom - top, right - left
    k = min(1.0, WORK_SIDE / max(wh, ww))
    small = (max(1, round(ww * k)), max(1, round(wh * k)))
    img = image[top:bottom, left:right]
    if image.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = np.ascontiguousarray(img[..., :3], np.uint8)
    p = None if prob is None else prob[top:bottom, left:right]
    if k < 1.0:
        img, m = _scale(img, small, False), _scale(mask, small, True)
        p = None if p is None else _scale(p, small, False)
    else:
        m = mask
    fg = _grabcut(img, m, iterations) if method == "grabcut" else _walker(img, m, p)
    if k < 1.0:
        fg = cv2.resize(fg.astype(np.float32), (ww, wh), interpolation=cv2.INTER_LINEAR) > 0.5
    fg = np.where(mask == cv2.GC_FGD, True, np.where(mask == cv2.GC_BGD, False, fg))
    reach = list(clicks if reach is None else reach)
    depths = _click_depths(base, reach)
    band = max(3.0, 0.012 * max(h, w))
    kept = _touching(fg, base[top:bottom, left:right], reach, depths, band, box, (top, left))
    return Refined(top, left, kept)


def _touching(fg: np.ndarray, base: np.ndarray, clicks: Sequence[Click], depths: Sequence[float], band: float,
              box: tuple[float, float, float, float] | None, origin: tuple[int, int]) -> np.ndarray:
    """`fg` where it differs from `base` only in the changes a click (or the box) asks for.

    A click says something about the pixels around it; a colour model that
    flips a far-off patch of the window is a side effect, not an answer. So
    a change is kept where it is connected to a click, goes its way (a
    positive click only adds, a negative one only takes away) and lies
    within a few of its depths (distance to the edge of the region clicked
    in) of it; with a box, every change inside the box stays.
    """
    top, left = origin
    yy, xx = np.mgrid[top:top + fg.shape[0], left:left + fg.shape[1]]
    keep = np.zeros(fg.shape, bool)
    for positive in (True, False):
        near = np.zeros(fg.shape, bool)
        mine = [(c, d) for c, d in zip(clicks, depths, strict=True) if c.positive == positive]
        for c, d in mine:
            near |= (xx - c.x) ** 2 + (yy - c.y) ** 2 <= (3.0 * d + 2.0 * band) ** 2
        diff = (fg & ~base) if positive else (base & ~fg)
        n, comp = cv2.connectedComponents((diff & near).astype(np.uint8), connectivity=8)
        if n <= 1:
            continue
        ids = np.zeros(n, bool)
        for c, _d in mine:
            ids[comp[int(c.y) - top, int(c.x) - left]] = True
        ids[0] = False
        keep |= ids[comp]
    if box is not None:
        x0, y0 = int(min(box[0], box[2])) - left, int(min(box[1], box[3])) - top
        x1, y1 = int(max(box[0], box[2])) - left, int(max(box[1], box[3])) - top
        inside = np.zeros(fg.shape, bool)
        inside[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = True
        keep |= inside & (fg != base)
    return np.where(keep, fg, base)


def refine_change(labels: np.ndarray, refined: Refined, value: int, fallback: int | np.ndarray,
                  only_over: Collection[int] | None = None) -> Change | None:
    """The change that makes the window's `value` region equal the refined one (labels untouched).

    Pixels joining the region get `value`; pixels leaving it get `fallback`
    (the prediction's label there when it is another class, else unlabelled),
    so a negative click never leaves a hole of the wrong class. With
    `only_over` the protected labels stay as they are, as for the brush.
    """
    h, w = refined.region.shape
    t, lft = refined.top, refined.left
    win = labels[t:t + h, lft:lft + w]
    fb = fallback if np.ndim(fallback) == 0 else np.asarray(fallback)[t:t + h, lft:lft + w]
    new = np.where(refined.region, value, np.where(win == value, fb, win)).astype(labels.dtype)
    ok = allowed(win, only_over)
    return selection_change(labels, t, lft, np.ones((h, w), bool) if ok is None else ok, new)
