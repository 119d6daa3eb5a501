"""Inference over GeoTIFF orthomosaics of any size, in bounded memory, resumable.

The orthomosaic is cut into blocks (4096 px a side by default, multiples of
the mask file's tiles, 512 px, or smaller for small blocks). Each block is read with a halo around it, so
the network sees the neighbours of the block's edge pixels; inside the block
plus halo the engine's own tiler (`seggui.engine.tiling.run_tiled`: tiles
with overlap, weighted blending, stride-aligned) predicts; the halo is
dropped and the block written into the mask GeoTIFF (`seggui.core.geo.maskfile`).
Blocks and halos start on multiples of the output stride, so every tile sees
the pixel grid the whole picture would give it.

Memory is bounded by the block size, whatever the picture: one block plus
halo of RGB (57 MB at 4096 + 2x128), its labels, and the tiler's band buffer
((classes + 1) x tile x block width float32). A block the file cannot give
(a corrupt tile) is reported and left nodata; the others are processed, and a
second run retries it (it is not marked done).

Models trained at a ground resolution (Deepness cards give `resolution_cm`)
see the picture resampled to it: each block is read at that resolution and
its labels brought back to the source grid.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.maskfile import BLOCK, MaskWriter, iter_blocks
from seggui.core.geo.raster import GeoRaster
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.engine.deepness import below_floor_to_background, median_labels
from seggui.engine.predictor import Predictor
from seggui.engine.tiling import run_tiled

DEFAULT_BLOCK = 4096
GDAL_CACHE_MB = 16


@dataclass
class OrthoResult:
    """What an orthomosaic run did."""

    mask: Path | None
    blocks: int
    written: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    megapixels: float = 0.0
    scale: float = 1.0  # model pixels per source pixel (1: native resolution)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"mask": str(self.mask) if self.mask else None, "blocks": self.blocks,
                "written": self.written, "skipped_as_done": self.skipped,
                "failed": [{"block": b, "error": e} for b, e in self.failed],
                "seconds": round(self.seconds, 2), "megapixels": round(self.megapixels, 2),
                "s_per_megapixel": round(self.seconds / self.megapixels, 4) if self.megapixels else None,
                "scale": self.scale, "notes": self.notes}


def model_scale(predictor: Predictor, ras: GeoRaster) -> tuple[float, str | None]:
    """Model pixels per source pixel, from the card's `resolution_cm` and the file's GSD."""
    res_cm = predictor.card.extra.get("resolution_cm")
    if not res_cm:
        return 1.0, None
    if not ras.info.has_crs:
        return 1.0, (f"{ras.path.name} has no CRS: the model's {res_cm} cm/px cannot be matched, "
                     "the picture is used at its own resolution")
    from seggui.core.geo.areas import pixel_areas

    src_m = math.sqrt(pixel_areas(ras.info).m2_per_px)
    scale = src_m / (float(res_cm) / 100.0)
    if abs(scale - 1.0) < 0.05:
        return 1.0, None
    return scale, f"resampled from {100 * src_m:.2f} to the model's {res_cm} cm/px (x{scale:.3f})"


def _halo(spec_overlap: int, stride: int) -> int:
    h = max(spec_overlap, stride, 64)
    return -(-h // stride) * stride


def predict_ortho(predictor: Predictor, source: str | Path, out: str | Path, *,
                  bands: tuple[int, ...] | None = None, block: int = DEFAULT_BLOCK, resume: bool = True,
                  cog: bool = False, token: CancelToken | None = None) -> Job[OrthoResult]:
    """Predict the GeoTIFF `source` into the mask GeoTIFF `out` (CRS, transform, nodata, colours).

    A job: yields `Progress` per block, returns an `OrthoResult`. `resume`
    keeps the blocks of an earlier run of the same model and options.
    GDAL's block cache is held to `GDAL_CACHE_MB` (its default, 5% of the
    machine's memory, would otherwise grow with the picture: 1.2 GB seen).
    """
    with require("rasterio").Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        return (yield from _predict_ortho(predictor, source, out, bands, block, resume, cog, token))


def _predict_ortho(predictor: Predictor, source: str | Path, out: str | Path, bands: tuple[int, ...] | None,
                   block: int, resume: bool, cog: bool, token: CancelToken | None) -> Job[OrthoResult]:
    out = Path(out)
    card = predictor.card
    spec = card.input
    if spec.tile_size is None:
        spec = replace(spec, tile_size=1024, tile_overlap=min(128, spec.tile_overlap or 128))
    stride = spec.stride
    step = math.lcm(16, stride)  # GeoTIFF tiles are multiples of 16; blocks start on the stride
    ras = GeoRaster(source, bands)
    t0 = time.perf_counter()
    try:
        info = ras.info
        ras.check_not_empty()
        ras.stretch()
        scale, note = model_scale(predictor, ras)
        if scale > 1.0:  # upsampled for the model: smaller blocks keep the memory bound
            block = int(block / scale)
        block = max(step, (block // step) * step)
        file_tile = next(t for t in (BLOCK, 256, 128, 64, 32, 16) if block % t == 0)
        halo = _halo(spec.tile_overlap, stride)
        if scale < 1.0:  # the halo is in source pixels: give the model as many of its own pixels
            halo = -(-math.ceil(halo / scale) // stride) * stride
        reach = math.ceil((predictor.median_side // 2) / min(scale, 1.0))  # the median filter's reach
        halo = max(halo, -(-reach // stride) * stride)
        identity = {"seggui_model": card.ref, "seggui_source": info.path.name,
                    "seggui_bands": list(info.bands),
                    "seggui_block": block, "seggui_scale": round(scale, 6),
                    "seggui_size": [info.height, info.width]}
        blocks = list(iter_blocks(info.height, info.width, block))
        if resume and _finished(out, identity):  # the whole mask exists from the same model and options
            yield Progress(len(blocks), len(blocks), f"{out.name} already done")
            return OrthoResult(out, len(blocks), skipped=len(blocks), scale=scale,
                               seconds=time.perf_counter() - t0, notes=[note] if note else [])
        writer = MaskWriter(out, info, card.classes, identity, resume, file_tile)
        result = OrthoResult(None, len(blocks), scale=scale, notes=[note] if note else [])
        complete = False
        try:
            yield Progress(0, len(blocks), f"{len(writer.done)} block(s) already done" if writer.done
                           else "starting")
            for n, (key, win) in enumerate(blocks, 1):
                if token is not None:
                    token.raise_if_cancelled()
                if key in writer.done:
                    result.skipped += 1
                    continue
                name = f"block {key[0]},{key[1]} (rows {win[0]}-{win[1]}, columns {win[2]}-{win[3]})"
                try:
                    try:
                        labels = _predict_block(predictor, ras, win, halo, scale, spec, writer.nodata)
                    except BadInputError:  # a damaged tile in the halo: the block alone, without context
                        labels = _predict_block(predictor, ras, win, 0, scale, spec, writer.nodata)
                        result.notes.append(f"{name}: predicted without its halo (a damaged tile beside it)")
                except BadInputError as exc:
                    result.failed.append((name, exc.problem))
                    yield Progress(n, len(blocks), name, item=name, error=f"{info.path.name}: {exc.problem}")
                    continue
                writer.write(win, labels, key)
                result.written += 1
                result.megapixels += (win[1] - win[0]) * (win[3] - win[2]) / 1e6
                yield Progress(n, len(blocks), name, item=name)
            complete = not result.failed
        finally:
            result.mask = writer.close(complete, cog)
            result.seconds = time.perf_counter() - t0
        return result
    finally:
        ras.close()


def _finished(out: Path, identity: dict[str, Any]) -> bool:
    """True when `out` is a finished mask whose tags carry this run's identity."""
    if not out.is_file():
        return False
    try:
        with require("rasterio").open(out) as ds:
            tags = ds.tags()
    except Exception:  # noqa: BLE001 - an unreadable old mask is simply redone
        return False
    return all(tags.get(k) == str(v) for k, v in identity.items())


def _predict_block(predictor: Predictor, ras: GeoRaster, win: tuple[int, int, int, int], halo: int,
                   scale: float, spec: Any, nodata: int) -> np.ndarray:
    """Labels of one block (its own rows and columns), predicted with a halo of context."""
    info = ras.info
    r0, r1, c0, c1 = win
    h0, h1 = max(0, r0 - halo), min(info.height, r1 + halo)
    w0, w1 = max(0, c0 - halo), min(info.width, c1 + halo)
    region = (h0, h1, w0, w1)
    rh, rw = h1 - h0, w1 - w0
    ok = ras.valid(win)  # the block's own pixels (nodata in the halo is predicted, then dropped)
    if not ok.any():
        return np.full((r1 - r0, c1 - c0), nodata, np.uint16 if nodata > 255 else np.uint8)
    shape = (max(1, round(rh * scale)), max(1, round(rw * scale))) if scale != 1.0 else None
    rgb = ras.read_rgb(region, shape)
    mh, mw = rgb.shape[:2]
    labels = np.empty((mh, mw), np.uint16 if nodata > 255 else np.uint8)

    floor = predictor.score_floor

    def emit(y0: int, strip: np.ndarray) -> None:
        for r in range(0, strip.shape[1], 128):  # argmax gives int64: a few rows at a time
            part = strip[:, r:r + 128]
            rows = labels[y0 + r:y0 + r + part.shape[1]]
            rows[...] = part.argmax(axis=0)
            below_floor_to_background(rows, part.max(axis=0), floor)  # Deepness seg_thresh

    run_tiled(rgb, spec, predictor.card.num_classes, predictor._run, emit,  # noqa: SLF001
              predictor.batch_size)
    labels = median_labels(labels, predictor.median_side)  # with the halo: no seams at block borders
    if (mh, mw) != (rh, rw):
        labels = cv2.resize(labels, (rw, rh), interpolation=cv2.INTER_NEAREST)
    out = labels[r0 - h0:r1 - h0, c0 - w0:c1 - w0].copy()
    out[~ok] = nodata
    return out
