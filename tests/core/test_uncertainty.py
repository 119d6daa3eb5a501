"""Ranking frames by the model's uncertainty, from their confidence PNGs."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.core.uncertainty import LOW_CONFIDENCE, UncertaintyCache, rank, score_confidence


def test_share_under_the_threshold_ranks_before_the_mean() -> None:
    cut = int(LOW_CONFIDENCE * 255)
    patchy = np.full((10, 10), 250, np.uint8)
    patchy[:3] = cut - 1  # 30% unsure, mean still high
    flat = np.full((10, 10), cut + 1, np.uint8)  # nothing under the threshold, a lower mean
    a, b = score_confidence(patchy), score_confidence(flat)
    assert a.low_share == pytest.approx(0.3) and b.low_share == 0
    assert a.mean == pytest.approx((0.3 * (cut - 1) + 0.7 * 250) / 255)
    assert rank({"flat": b, "patchy": a}) == ["patchy", "flat"]
    sure = score_confidence(np.full((10, 10), 255, np.uint8))
    assert rank({"sure": sure, "flat": b}) == ["flat", "sure"]  # equal shares: the lower mean first


def test_cache_reads_once_and_again_after_the_file_changes(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "c.png"
    cv2.imwrite(str(path), np.full((8, 8), 40, np.uint8))
    cache = UncertaintyCache()
    assert cache.get(path) is None
    first = cache.score(path)
    assert first is not None and first.low_share == 1.0
    reads = []
    monkeypatch.setattr(cv2, "imread", lambda *a: reads.append(a) or None)
    assert cache.score(path) == first and not reads  # cached: no read
    monkeypatch.undo()
    cv2.imwrite(str(path), np.full((8, 8), 250, np.uint8))
    os.utime(path, ns=(1, 10**18))
    again = cache.score(path)
    assert again is not None and again.low_share == 0.0
    assert cache.score(tmp_path / "missing.png") is None
