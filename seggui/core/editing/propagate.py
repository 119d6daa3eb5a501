"""Carry a frame's labels to the next frame of a drive along dense optical flow.

Consecutive dashcam frames are near-identical but not equal: the road
slides under the car, a parked car moves a few pixels per frame. Copying the
previous frame's mask keeps those pixels where they were; warping it by the
flow from the new frame back to the previous one (OpenCV's DIS, medium
preset: ~20 ms at 960x720) moves each label with its pixels. Where the flow
fails its forward-backward check (occlusions, the bonnet, new things coming
into view) the warped label is not trusted and `fallback` is kept there
(the current frame's prediction or labels). tests/benchmarks/refine.py
measures warp against copy on CamVid val frames with ground truth.

A cut in the video shows twice: the grey histograms jump, and the flow
fails its check almost everywhere (neighbouring CamVid frames 1/15 s apart:
1-4% of the pixels fail; the last frame of one drive against the first of
another, or two generated fly-overs spliced: 79-88%, though the histograms
of two fly-overs are alike). Either refuses the carry with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FB_TOLERANCE = 2.0  # pixels: forward then backward flow must come back within this
CUT_CORRELATION = 0.5  # grey histograms less alike than this: a cut, not the next frame
CUT_UNRELIABLE = 0.5  # more of the pixels failing the forward-backward check than this: a cut


@dataclass
class Carried:
    """Labels carried onto a frame, and the share of its pixels whose flow failed the check."""

    labels: np.ndarray
    unreliable: float  # of the pixels whose flow comes from inside the previous frame


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.ascontiguousarray(image, np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3], np.uint8), cv2.COLOR_RGB2GRAY)


def is_cut(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two grey frames' histograms are too unlike for neighbours of one shot (a cut)."""
    ha = cv2.calcHist([a], [0], None, [32], [0, 256])
    hb = cv2.calcHist([b], [0], None, [32], [0, 256])
    return float(cv2.compareHist(ha, hb, cv2.HISTCMP_CORREL)) < CUT_CORRELATION


def carry(prev_image: np.ndarray, image: np.ndarray, prev_labels: np.ndarray, unlabelled: int,
          fallback: np.ndarray | None = None, max_unreliable: float = CUT_UNRELIABLE) -> Carried:
    """`prev_labels` moved onto `image` by the flow from `image` back to `prev_image`.

    Pixels whose flow leaves the picture get `unlabelled`; pixels failing the
    forward-backward check get `fallback` there when given (else the warped
    label anyway). ValueError (a plain reason) for frames of different sizes
    or a cut between them (histogram jump, or more than `max_unreliable` of
    the pixels failing the check).
    """
    h, w = image.shape[:2]
    if prev_image.shape[:2] != (h, w) or prev_labels.shape != (h, w):
        raise ValueError(f"the previous frame is {prev_image.shape[1]}x{prev_image.shape[0]} "
                         f"and this one {w}x{h}: they cannot be matched pixel to pixel")
    if fallback is not None and fallback.shape != (h, w):
        raise ValueError(f"the fallback mask is {fallback.shape[1]}x{fallback.shape[0]}, the frame {w}x{h}")
    g0, g1 = _grey(prev_image), _grey(image)
    if is_cut(g0, g1):
        raise ValueError("the previous frame looks like another shot (a cut in the video): "
                         "nothing to carry over")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    back = dis.calc(g1, g0, None)  # for each pixel of this frame, where it was in the previous one
    fwd = dis.calc(g0, g1, None)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx, my = xs + back[..., 0], ys + back[..., 1]
    out = cv2.remap(prev_labels, mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                    borderValue=int(unlabelled))
    fx = cv2.remap(fwd[..., 0], mx, my, cv2.INTER_LINEAR)
    fy = cv2.remap(fwd[..., 1], mx, my, cv2.INTER_LINEAR)
    bad = (fx + back[..., 0]) ** 2 + (fy + back[..., 1]) ** 2 > FB_TOLERANCE ** 2
    inside = (mx >= 0) & (my >= 0) & (mx <= w - 1) & (my <= h - 1)
    share = float(bad[inside].mean()) if inside.any() else 1.0
    if share > max_unreliable:
        raise ValueError(f"the motion from the previous frame cannot be followed ({share:.0%} of the "
                         "pixels fail the flow check): a cut in the video, or too far apart")
    if fallback is not None:
        out[bad] = fallback[bad]
    return Carried(out.astype(prev_labels.dtype, copy=False), share)


def warp_labels(prev_image: np.ndarray, image: np.ndarray, prev_labels: np.ndarray, unlabelled: int,
                fallback: np.ndarray | None = None) -> np.ndarray:
    """`carry`'s labels alone (Edit ▸ Carry labels from the previous frame, the benchmarks)."""
    return carry(prev_image, image, prev_labels, unlabelled, fallback).labels
