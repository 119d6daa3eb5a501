"""Picture -> network input, exactly as the card says the model was trained.

Pure numpy + OpenCV and free of shared state, so a pipeline may prepare the
next frames in worker threads while the backend runs the current batch.
Steps: check the picture, apply the resize policy, pad to a multiple of the
output stride (so every down-sampling divides evenly and the logits line up
with the pixels), normalise to float32 (3, H, W). The padding is cropped off
the logits afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from seggui.core.errors import BadInputError
from seggui.engine.card import InputSpec


@dataclass
class PreparedImage:
    """A network-ready picture and what is needed to map the logits back.

    `tensor` is float32 (3, Hp, Wp), padded; `work_hw` is the picture's size
    after the resize policy (the logits are cropped to it), `orig_hw` the
    size the labels are returned at. `tensor` is None when the picture is
    too large for one pass: the tiler then prepares tiles from `work`.
    """

    tensor: np.ndarray | None
    orig_hw: tuple[int, int]
    work_hw: tuple[int, int]
    work: np.ndarray | None = None


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Check a picture and bring it to (H, W, 3) uint8 RGB (grey and RGBA are converted)."""
    if not isinstance(image, np.ndarray):
        raise BadInputError(None, f"expected a numpy picture, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise BadInputError(None, f"picture must be uint8, got {image.dtype}")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = np.ascontiguousarray(image[..., :3])
    elif image.ndim != 3 or image.shape[2] != 3:
        raise BadInputError(None, f"picture must be (H, W, 3) RGB, got shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise BadInputError(None, f"picture is empty ({image.shape[1]}x{image.shape[0]})")
    return image


def work_size(h: int, w: int, spec: InputSpec) -> tuple[int, int]:
    """The size the network sees after the card's resize policy."""
    if spec.resize == "fixed":
        fh, fw = spec.size  # type: ignore[misc]
        return int(fh), int(fw)
    if spec.resize == "max_side":
        side = int(spec.size)  # type: ignore[arg-type]
        if max(h, w) > side:
            scale = side / max(h, w)
            return max(1, round(h * scale)), max(1, round(w * scale))
    return h, w


def resize_to(image: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Area averaging to shrink (no aliasing), bilinear to enlarge."""
    h, w = image.shape[:2]
    if (h, w) == hw:
        return image
    shrink = hw[0] * hw[1] < h * w
    return cv2.resize(image, (hw[1], hw[0]), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def padded_size(n: int, stride: int) -> int:
    """The next multiple of the stride (at least one stride)."""
    return max(stride, -(-n // stride) * stride)


def normalise(image: np.ndarray, spec: InputSpec, out_hw: tuple[int, int] | None = None) -> np.ndarray:
    """(H, W, 3) uint8 -> float32 (3, Hp, Wp) normalised, padded to `out_hw` on the bottom/right.

    Reflect padding mirrors the picture (no artificial edge for the network
    to respond to); constant padding adds zeros after normalisation, i.e.
    the mean colour.
    """
    h, w = image.shape[:2]
    hp, wp = out_hw or (h, w)
    if (hp, wp) != (h, w) and spec.pad == "reflect":
        # REFLECT_101 needs the pad to be shorter than the side; tiny pictures replicate instead.
        mode = cv2.BORDER_REFLECT_101 if hp - h < h and wp - w < w else cv2.BORDER_REPLICATE
        image = cv2.copyMakeBorder(image, 0, hp - h, 0, wp - w, mode)
    scale = np.array([1.0 / (spec.max_pixel_value * s) for s in spec.std], np.float32)
    offset = np.array([m / s for m, s in zip(spec.mean, spec.std, strict=True)], np.float32)
    out = np.zeros((3, hp, wp), np.float32)
    ih, iw = image.shape[:2]
    for c in range(3):
        np.multiply(image[:, :, c], scale[c], out=out[c, :ih, :iw], casting="unsafe")
        out[c, :ih, :iw] -= offset[c]
    return out


def prepare(image: np.ndarray, spec: InputSpec, tile: bool | None = None) -> PreparedImage:
    """Check, resize and normalise one picture; large ones are left for the tiler.

    `tile`: None tiles pictures larger than `spec.tile_size` on either side,
    False never tiles, True always tiles (when the card has a tile size).
    """
    image = as_rgb_uint8(image)
    h, w = image.shape[:2]
    wh, ww = work_size(h, w, spec)
    work = resize_to(image, (wh, ww))
    tiled = spec.tile_size is not None and (
        tile is True or (tile is None and max(wh, ww) > spec.tile_size)
    )
    if tiled:
        return PreparedImage(None, (h, w), (wh, ww), work)
    hp, wp = padded_size(wh, spec.stride), padded_size(ww, spec.stride)
    return PreparedImage(normalise(work, spec, (hp, wp)), (h, w), (wh, ww))
