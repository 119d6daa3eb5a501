"""Noise fields and the per-material texture they give the painted colours.

Colour and texture are kept apart: the painter lays flat colours and a material
id per pixel, and one vectorised pass multiplies in grain (per pixel), mottling
(about half a metre) and patches (several metres) with amplitudes per material.
All sizes are in metres, so textures scale with the ground sampling distance.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np

MATERIALS = ["grass", "soil", "asphalt", "concrete", "water", "paint", "car", "glass", "roof",
             "flat_roof", "tree", "unit"]
MAT = {name: i for i, name in enumerate(MATERIALS)}

# amplitudes of (grain, mottle, patch) per material, as fractions of the colour
_AMP = {
    "grass": (0.08, 0.07, 0.12), "soil": (0.07, 0.08, 0.12), "asphalt": (0.07, 0.04, 0.07),
    "concrete": (0.03, 0.025, 0.05), "water": (0.02, 0.03, 0.04), "paint": (0.05, 0.05, 0.05),
    "car": (0.015, 0.0, 0.0), "glass": (0.02, 0.0, 0.0), "roof": (0.05, 0.06, 0.04),
    "flat_roof": (0.03, 0.03, 0.05), "tree": (0.12, 0.22, 0.08), "unit": (0.02, 0.0, 0.0),
}
AMP = np.array([_AMP[m] for m in MATERIALS], np.float32)


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell_px: float) -> np.ndarray:
    """Zero-mean, unit-spread noise varying over about `cell_px` pixels (float32 h x w)."""
    if cell_px <= 1.0:
        return rng.standard_normal((h, w), dtype=np.float32)
    gh, gw = int(np.ceil(h / cell_px)) + 3, int(np.ceil(w / cell_px)) + 3
    small = rng.standard_normal((gh, gw), dtype=np.float32)
    big = cv2.resize(small, (int(gw * cell_px), int(gh * cell_px)), interpolation=cv2.INTER_CUBIC)
    out = big[int(cell_px):int(cell_px) + h, int(cell_px):int(cell_px) + w]
    std = float(out.std())
    return out / std if std > 0 else out


def texture_gain(rng: np.random.Generator, material: np.ndarray, gsd: float) -> np.ndarray:
    """Multiplicative texture (h x w float32) for a material-id map."""
    h, w = material.shape
    grain = rng.standard_normal((h, w), dtype=np.float32)
    if gsd < 0.1:  # sub-decimetre pixels: grain is a few pixels wide
        grain = cv2.GaussianBlur(grain, (0, 0), 0.05 / gsd) * 1.5
    mottle = smooth_noise(rng, h, w, 0.5 / gsd)
    patch = smooth_noise(rng, h, w, 6.0 / gsd)
    amp = AMP[material]
    gain = 1.0 + amp[..., 0] * grain + amp[..., 1] * mottle + amp[..., 2] * patch
    return cast(np.ndarray, np.clip(gain, 0.3, 1.8))


def jpeg_round_trip(img: np.ndarray, quality: int) -> np.ndarray:
    """The picture (float RGB) through JPEG at `quality` and back: real pictures carry its artefacts."""
    bgr = cv2.cvtColor(np.clip(img + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return img
    decoded = cast(np.ndarray, cv2.imdecode(buf, cv2.IMREAD_COLOR))
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB).astype(np.float32)
