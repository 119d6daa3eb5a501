"""Tiled inference for pictures larger than the network should see at once.

Plan: tiles of `tile_size` squared, `tile_overlap` apart at least, with every
tile start a multiple of the output stride. That alignment matters: a
network that down-samples by 32 is only translation-equivariant in steps of
32, so only stride-aligned tiles see the same pixel grid as the whole
picture. The last tile of a row or column is shifted back to end at the
picture's edge (padded to the stride exactly as a whole-picture pass pads).

Blending: a tile's logits are wrong near its inner edges, where the network
sees the tile's padding instead of the neighbouring pixels. Each tile is
weighted by a separable window that is 0 for `margin` pixels from an inner
edge, then rises linearly to 1; picture edges get weight 1 (no neighbour to
defer to). Blended logits are the weighted mean. When every pixel's
receptive field fits within the margin, the tiled logits equal whole-picture
logits up to float rounding (a test checks this on a small-receptive-field
network); for deep networks whose receptive field exceeds the margin the
argmax still agrees on nearly every pixel (also tested).

Memory: tiles are processed band by band (one row of tiles). A rolling
buffer of (C, tile, W) float32 accumulates a band; rows that no later band
touches are normalised and handed to the summariser, so peak memory is
bounded by the band height, not by the picture height.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seggui.engine.card import InputSpec
from seggui.engine.preprocess import normalise, padded_size

RunBatch = Callable[[np.ndarray], np.ndarray]
Emit = Callable[[int, np.ndarray], None]


def axis_starts(n: int, tile: int, overlap: int, stride: int) -> list[int]:
    """Tile starts along one axis: stride multiples, the last tile flush with the padded edge."""
    if n <= tile:
        return [0]
    step = max(stride, ((tile - overlap) // stride) * stride)
    last = padded_size(n, stride) - tile
    starts = list(range(0, last, step))
    if not starts or starts[-1] != last:
        starts.append(last)
    return starts


def axis_window(start: int, end: int, n: int, margin: int, ramp: int) -> np.ndarray:
    """Weights along one axis of a tile [start, end) of a picture n long."""
    d = np.arange(end - start, dtype=np.float32)
    w = np.ones(end - start, np.float32)
    if start > 0:
        w = np.minimum(w, np.clip((d - margin + 0.5) / ramp, 0.0, 1.0))
    if end < n:
        w = np.minimum(w, np.clip(((end - start - 1 - d) - margin + 0.5) / ramp, 0.0, 1.0))
    return w


@dataclass(frozen=True)
class TilePlan:
    """Where the tiles of an (h, w) picture go and what the blending costs in memory."""

    h: int
    w: int
    tile: int
    overlap: int
    stride: int

    @classmethod
    def for_picture(cls, h: int, w: int, spec: InputSpec) -> TilePlan:
        tile = spec.tile_size or padded_size(max(h, w), spec.stride)
        # An overlap above half a tile would let three tiles share a pixel for no gain.
        return cls(h, w, tile, min(spec.tile_overlap, tile // 2), spec.stride)

    @property
    def margin(self) -> int:
        """Pixels next to an inner tile edge that get no weight."""
        return self.overlap // 4

    @property
    def ramp(self) -> int:
        return max(1, self.overlap - 2 * self.margin)

    @property
    def ys(self) -> list[int]:
        return axis_starts(self.h, self.tile, self.overlap, self.stride)

    @property
    def xs(self) -> list[int]:
        return axis_starts(self.w, self.tile, self.overlap, self.stride)

    @property
    def n_tiles(self) -> int:
        return len(self.ys) * len(self.xs)

    @property
    def band_rows(self) -> int:
        return min(self.tile, self.h)

    def tile_input_hw(self, axis_len: int) -> int:
        return min(self.tile, padded_size(axis_len, self.stride))

    def peak_bytes(self, num_classes: int, batch: int = 1) -> int:
        """Bytes of the accumulation buffers plus one batch of tiles in and out.

        Independent of the picture height: that is the memory bound.
        """
        th, tw = self.tile_input_hw(self.h), self.tile_input_hw(self.w)
        buffers = (num_classes + 1) * self.band_rows * self.w * 4
        tiles = batch * (3 + 2 * num_classes) * th * tw * 4
        return buffers + tiles


def run_tiled(
    work: np.ndarray,
    spec: InputSpec,
    num_classes: int,
    run_batch: RunBatch,
    emit: Emit,
    batch_size: int = 1,
) -> None:
    """Infer an (h, w, 3) uint8 picture tile by tile; `emit(y0, logits)` gets finished row strips.

    `run_batch` maps float32 (N, 3, th, tw) to logits (N, C, th, tw). Strips
    arrive top to bottom, each (C, rows, w) float32, covering the picture once.
    """
    h, w = work.shape[:2]
    plan = TilePlan.for_picture(h, w, spec)
    ys, xs = plan.ys, plan.xs
    rows = plan.band_rows
    acc = np.zeros((num_classes, rows, w), np.float32)
    wsum = np.zeros((rows, w), np.float32)
    wx = {x: axis_window(x, min(x + plan.tile, w), w, plan.margin, plan.ramp) for x in xs}
    top = 0
    for band, y in enumerate(ys):
        if y > top:  # roll the buffer: rows above y were emitted by the previous band
            shift = y - top
            acc[:, : rows - shift] = acc[:, shift:]
            acc[:, rows - shift:] = 0.0
            wsum[: rows - shift] = wsum[shift:]
            wsum[rows - shift:] = 0.0
            top = y
        y_end = min(y + plan.tile, h)
        wy = axis_window(y, y_end, h, plan.margin, plan.ramp)
        in_h = plan.tile_input_hw(h)
        for i in range(0, len(xs), max(1, batch_size)):
            chunk = xs[i:i + max(1, batch_size)]
            in_w = plan.tile_input_hw(w)
            batch = np.stack([normalise(work[y:y_end, x:min(x + plan.tile, w)], spec, (in_h, in_w))
                              for x in chunk])
            logits = run_batch(batch)
            for k, x in enumerate(chunk):
                x_end = min(x + plan.tile, w)
                win = np.maximum(wy[:, None] * wx[x][None, :], 1e-12)
                acc[:, : y_end - y, x:x_end] += logits[k, :, : y_end - y, : x_end - x] * win
                wsum[: y_end - y, x:x_end] += win
        done = (ys[band + 1] if band + 1 < len(ys) else h) - top
        strip = acc[:, :done]
        strip /= wsum[:done]
        emit(top, strip)
