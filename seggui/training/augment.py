"""Augmentations applied to picture and mask together (albumentations 2.x).

A config chooses them, as a preset name or a list::

    augment: driving                     # a preset (see PRESETS)
    augment:                             # or a list of steps
      - flip                             # a short name with seggui's defaults
      - {affine: {rotate: [-5, 5]}}      # a short name with some values changed
      - {RandomGamma: {p: 0.3}}          # any albumentations transform by class name

Geometric steps fill the area they uncover with the training ignore label, so
no invented pixels are trained on (albumentations fills masks with 0, a real
class, unless told). Masks are always resampled with nearest neighbour.

Order for training: an optional fixed ``resize`` (also applied in
validation), the listed geometric steps (those that move mask pixels), the
random ``crop`` (padded with ignore where the picture is smaller), then the
listed pixel-level steps (colour, noise, blur, weather). Pixel-level steps
commute with cropping, and running them on the crop rather than the whole
picture cuts their cost by the area ratio (fog on a full CamVid frame takes
a quarter of a second). Validation pictures are padded to a multiple of the
model's stride, the padding ignored.

Per-sample randomness is seeded from (run seed, epoch, sample index) by the
dataset, so a run is repeatable whatever the number of loader workers.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # never reach the network at import

import albumentations as A  # noqa: E402
import cv2  # noqa: E402

from seggui.core.errors import BadInputError  # noqa: E402

# Short names -> (albumentations class, default arguments).
SHORT: dict[str, tuple[str, dict[str, Any]]] = {
    "flip": ("HorizontalFlip", {"p": 0.5}),
    "vflip": ("VerticalFlip", {"p": 0.5}),
    "rotate90": ("RandomRotate90", {"p": 0.5}),
    "affine": ("Affine", {"scale": (0.8, 1.25), "translate_percent": (-0.06, 0.06), "rotate": (-10, 10),
                          "p": 0.5}),
    "shift_scale_rotate": ("Affine", {"scale": (0.9, 1.1), "translate_percent": (-0.06, 0.06),
                                      "rotate": (-15, 15), "p": 0.5}),
    "scale": ("RandomScale", {"scale_limit": (-0.25, 0.25), "p": 0.5}),
    "brightness_contrast": ("RandomBrightnessContrast",
                            {"brightness_limit": 0.2, "contrast_limit": 0.2, "p": 0.5}),
    "hue": ("HueSaturationValue", {"p": 0.3}),
    "noise": ("GaussNoise", {"std_range": (0.02, 0.08), "p": 0.3}),
    "blur": ("GaussianBlur", {"blur_limit": (3, 5), "p": 0.2}),
    "motion_blur": ("MotionBlur", {"blur_limit": (3, 7), "p": 0.2}),
    "rain": ("RandomRain", {"p": 0.1}),
    "fog": ("RandomFog", {"fog_coef_range": (0.1, 0.3), "p": 0.1}),
    "shadow": ("RandomShadow", {"p": 0.2}),
}

PRESETS: dict[str, list[str]] = {
    "none": [],
    "basic": ["flip", "affine", "brightness_contrast"],
    "driving": ["flip", "affine", "brightness_contrast", "noise", "blur", "rain", "fog", "shadow"],
    "aerial": ["flip", "vflip", "rotate90", "affine", "brightness_contrast", "noise", "blur"],
}


def _tuples(value: Any) -> Any:
    """YAML gives lists; albumentations wants (lo, hi) tuples for ranges."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _make(class_name: str, params: dict[str, Any], ignore: int) -> A.BasicTransform:
    cls = getattr(A, class_name, None)
    if not (inspect.isclass(cls) and issubclass(cls, A.BasicTransform)):
        raise BadInputError(
            None, f"unknown augmentation {class_name!r} (short names: {', '.join(SHORT)}; or an "
            "albumentations transform class)"
        )
    args = {k: _tuples(v) for k, v in params.items()}
    accepted = inspect.signature(cls.__init__).parameters
    unknown = sorted(set(args) - set(accepted) - {"self"})
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        # albumentations only warns about these; a typo must not silently train without the step
        raise BadInputError(None, f"augmentation {class_name}: bad settings {params} (unknown: "
                            f"{', '.join(unknown)}; known: {', '.join(k for k in accepted if k != 'self')})")
    if "fill_mask" in accepted:
        args.setdefault("fill_mask", ignore)
    if "mask_interpolation" in accepted:
        args.setdefault("mask_interpolation", cv2.INTER_NEAREST)
    try:
        return cls(**args)
    except (TypeError, ValueError) as exc:
        raise BadInputError(None, f"augmentation {class_name}: bad settings {params} ({exc})") from None


def _step(entry: Any, ignore: int) -> A.BasicTransform:
    params: dict[str, Any]
    if isinstance(entry, str):
        name, params = entry, {}
    elif isinstance(entry, dict) and len(entry) == 1:
        name, params = next(iter(entry.items()))
        params = dict(params or {})
    else:
        raise BadInputError(None, f"augmentation step must be a name or {{name: settings}}, got {entry!r}")
    if name in SHORT:
        cls_name, defaults = SHORT[name]
        return _make(cls_name, {**defaults, **params}, ignore)
    return _make(name, params, ignore)


def augment_steps(spec: str | list[Any] | None, ignore: int) -> list[A.BasicTransform]:
    """The augmentation transforms a config asks for (a preset name or a list)."""
    if spec is None:
        return []
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise BadInputError(None, f"unknown augmentation preset {spec!r} (one of {', '.join(PRESETS)})")
        spec = list(PRESETS[spec])
    if not isinstance(spec, list):
        raise BadInputError(None, f"augment must be a preset name or a list, got {type(spec).__name__}")
    return [_step(e, ignore) for e in spec]


def _hw(size: int | list[int] | tuple[int, int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, int):
        return size, size
    h, w = (int(v) for v in size)
    return h, w


def build_transforms(
    augment: str | list[Any] | None,
    ignore: int,
    train: bool,
    crop: int | list[int] | None = None,
    resize: int | list[int] | None = None,
    stride: int = 32,
) -> A.Compose:
    """The full pipeline for training (augment, resize, crop) or validation (resize, pad).

    `crop` and `resize` are (H, W) or one int for a square. Training crops must
    be multiples of `stride` so every batch fits the network without padding.
    """
    steps: list[A.BasicTransform] = []
    rs = _hw(resize)
    if rs is not None:
        steps.append(
            A.Resize(rs[0], rs[1], interpolation=cv2.INTER_AREA, mask_interpolation=cv2.INTER_NEAREST)
        )
    if train:
        listed = augment_steps(augment, ignore)
        steps.extend(t for t in listed if isinstance(t, A.DualTransform))
        cs = _hw(crop)
        if cs is not None:
            if cs[0] % stride or cs[1] % stride:
                raise BadInputError(
                    None, f"crop size {cs[0]}x{cs[1]} must be a multiple of the stride {stride}"
                )
            steps.append(A.PadIfNeeded(cs[0], cs[1], position="random", fill=0, fill_mask=ignore))
            steps.append(A.RandomCrop(cs[0], cs[1]))
        steps.extend(t for t in listed if not isinstance(t, A.DualTransform))
    # Pad what is not yet a multiple of the stride (validation, or training without a crop).
    steps.append(
        A.PadIfNeeded(None, None, pad_height_divisor=stride, pad_width_divisor=stride,
                      position="top_left", fill=0, fill_mask=ignore)
    )
    return A.Compose(steps, mask_interpolation=cv2.INTER_NEAREST)
