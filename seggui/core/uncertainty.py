"""How unsure the model was on a frame, from its confidence PNG, and which frame to correct next.

Every prediction writes confidence/ID.png: the top class's softmax
probability x 255 per pixel. A frame's uncertainty is the share of its
pixels below `LOW_CONFIDENCE` (the mean is a tie-break): the mean alone is
dominated by the sky and road every frame has plenty of, while the share of
unsure pixels counts the regions an analyst would have to fix. Scores are
cached by the file's size and modification time, so a frame predicted again
is scored again and the rest are not re-read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

LOW_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Uncertainty:
    """`low_share`: share of pixels under LOW_CONFIDENCE; `mean`: mean confidence (0..1)."""

    low_share: float
    mean: float

    @property
    def key(self) -> tuple[float, float]:
        """Sort key, most uncertain first."""
        return -self.low_share, self.mean


def score_confidence(conf: np.ndarray) -> Uncertainty:
    """The uncertainty of one confidence map (uint8, x255)."""
    if conf.size == 0:
        raise ValueError("the confidence map is empty")
    hist = np.bincount(conf.ravel(), minlength=256)
    low = int(hist[: int(LOW_CONFIDENCE * 255)].sum())
    mean = float((hist * np.arange(256)).sum() / conf.size / 255.0)
    return Uncertainty(low / conf.size, mean)


class UncertaintyCache:
    """Scores of confidence PNGs, by path, valid while the file's size and mtime stay the same."""

    def __init__(self) -> None:
        self._scores: dict[Path, tuple[tuple[int, int], Uncertainty]] = {}

    def get(self, path: Path) -> Uncertainty | None:
        """The cached score when still valid (no file read); None otherwise."""
        try:
            st = path.stat()
        except OSError:
            return None
        hit = self._scores.get(path)
        return hit[1] if hit is not None and hit[0] == (st.st_size, st.st_mtime_ns) else None

    def score(self, path: Path) -> Uncertainty | None:
        """The file's score (read when not cached); None for a missing or unreadable file."""
        found = self.get(path)
        if found is not None:
            return found
        try:
            st = path.stat()
        except OSError:
            return None
        conf = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if conf is None or conf.ndim != 2:
            return None
        found = score_confidence(conf.astype(np.uint8, copy=False))
        self._scores[path] = ((st.st_size, st.st_mtime_ns), found)
        return found


def rank(scores: Mapping[str, Uncertainty]) -> list[str]:
    """Frame ids, most uncertain first (ties: the lower mean confidence, then the id)."""
    return [f for _k, f in sorted((u.key, f) for f, u in scores.items())]
