"""Class weights against imbalance, computed from the training masks.

Driving scenes are mostly road, sky and building; poles, signs and cyclists
cover a percent or less, and an unweighted loss learns to ignore them. The
weights scale each class's term in cross-entropy (or focal) loss.

Counts: pixels of each class over the masks, ignore label left out;
`image_px[c]` is the total pixel count of the masks in which class c appears
at all (what median-frequency weighting needs).

Methods (a class absent from every mask gets weight 0: it never occurs in a
target, so its weight changes nothing, and 0 says so honestly):

- ``inverse``: w_c = 1 / f_c with f_c = n_c / sum(n), rescaled so the
  pixel-weighted mean weight sum_c f_c w_c is 1 (the loss keeps its scale).
- ``median``: median-frequency balancing (Eigen & Fergus 2015, as used by
  SegNet on CamVid): f_c = n_c / image_px[c], w_c = median(f) / f_c.
- ``enet``: w_c = 1 / ln(1.02 + f_c) (Paszke et al. 2016), bounded for rare
  classes (at most 1 / ln 1.02, about 50).
- ``none``: all ones.

`clip` caps a weight (a class seen on a handful of pixels would otherwise
dominate).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.training.layouts import Sample
from seggui.training.readers import read_sample_mask, train_ignore_index

METHODS = ("none", "inverse", "median", "enet")


def count_classes(
    samples: Sequence[Sample], table: ClassTable, max_images: int | None = 500
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(pixels per class, pixels of the masks containing each class, problems).

    Reads at most `max_images` masks, evenly spread over the list, which is
    plenty for stable frequencies and keeps start-up short on big sets. A mask
    that fails to read is reported and skipped.
    """
    n = table.size
    ignore = train_ignore_index(table)
    counts = np.zeros(n, np.int64)
    image_px = np.zeros(n, np.int64)
    chosen = list(samples)
    if max_images is not None and len(chosen) > max_images:
        picks = np.linspace(0, len(chosen) - 1, max_images).round().astype(int)
        chosen = [chosen[i] for i in picks]
    problems: list[str] = []
    for s in chosen:
        try:
            mask = read_sample_mask(s, table, ignore)
        except BadInputError as exc:
            problems.append(str(exc))
            continue
        hist = np.bincount(mask.ravel(), minlength=max(n, ignore + 1))
        c = hist[:n].copy()
        if ignore < n:
            c[ignore] = 0
        counts += c
        image_px[c > 0] += int(c.sum())
    return counts, image_px, problems


def weights_from_counts(
    counts: np.ndarray,
    image_px: np.ndarray | None = None,
    method: str = "median",
    clip: float | None = None,
) -> np.ndarray:
    """Per-class weights (float32, one per id) from pixel counts; see the module docstring."""
    if method not in METHODS:
        raise BadInputError(None, f"unknown class-weight method {method!r} (one of {', '.join(METHODS)})")
    counts = np.asarray(counts, np.float64)
    present = counts > 0
    w = np.zeros_like(counts)
    if method == "none" or not present.any():
        w[:] = 1.0
        return w.astype(np.float32)
    if method == "inverse":
        f = counts / counts.sum()
        w[present] = 1.0 / f[present]
        w /= float((f * w).sum())
    elif method == "median":
        if image_px is None:
            raise ValueError("median-frequency weights need the per-class image pixel counts")
        f = np.zeros_like(counts)
        f[present] = counts[present] / np.asarray(image_px, np.float64)[present]
        w[present] = float(np.median(f[present])) / f[present]
    else:  # enet
        f = counts / counts.sum()
        w[present] = 1.0 / np.log(1.02 + f[present])
    if clip is not None:
        w = np.minimum(w, float(clip))
    return w.astype(np.float32)


def class_weights(
    samples: Sequence[Sample],
    table: ClassTable,
    method: str = "median",
    clip: float | None = None,
    max_images: int | None = 500,
) -> tuple[np.ndarray, list[str]]:
    """Count the masks and turn the counts into weights; returns (weights, problems)."""
    counts, image_px, problems = count_classes(samples, table, max_images)
    return weights_from_counts(counts, image_px, method, clip), problems
