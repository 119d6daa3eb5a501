"""A frame cache bounded by bytes, so a long drive never fills the memory.

Frames differ in size from one source to the next (a 96x128 dashcam frame is
37 KB, an 8000x6000 aerial picture 144 MB), so a bound in frames says nothing
about memory; the bound here is in bytes. The least recently used frames go
first, which keeps the neighbourhood the analyst is browsing (A/D steps back
and forth) while a long play-through streams past.

Cached frames are returned read-only: every caller shares one array per
frame, and a caller that drew on it would otherwise change what the next
caller sees. Copy before editing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from seggui.core.media.base import Source

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of the cache's counters."""

    hits: int
    misses: int
    evictions: int
    frames: int  # frames held now
    bytes: int  # bytes held now
    peak_bytes: int  # most bytes ever held at once
    max_bytes: int  # the bound

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class FrameCache:
    """Least-recently-used frames of one source, at most `max_bytes` of pixels.

    `get(i)` returns frame i, reading it through the source on a miss. Safe to
    call from several threads; a frame larger than the whole bound is returned
    but not kept.
    """

    def __init__(self, source: Source, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, not {max_bytes}")
        self.source = source
        self.max_bytes = int(max_bytes)
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = self._peak = self._hits = self._misses = self._evictions = 0

    def get(self, index: int) -> np.ndarray:
        """Frame `index` (read-only), from the cache or read through the source."""
        i = self.source.check_index(index)
        with self._lock:
            frame = self._frames.get(i)
            if frame is not None:
                self._frames.move_to_end(i)
                self._hits += 1
                return frame
            self._misses += 1
        # Decode outside the lock, so hits on other frames never wait for a decoder.
        frame = self.source.read(i)
        self.put(i, frame)
        return frame

    def put(self, index: int, frame: np.ndarray) -> None:
        """Keep `frame` as frame `index` (a pipeline that decoded it anyway can share it).

        The array is made read-only, since every later `get` shares it.
        """
        frame.flags.writeable = False
        size = frame.nbytes
        with self._lock:
            old = self._frames.pop(index, None)
            if old is not None:
                self._bytes -= old.nbytes
            if size > self.max_bytes:
                return
            self._frames[index] = frame
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._frames.popitem(last=False)
                self._bytes -= dropped.nbytes
                self._evictions += 1
            self._peak = max(self._peak, self._bytes)

    def __contains__(self, index: object) -> bool:
        with self._lock:
            return index in self._frames

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def keys(self) -> list[int]:
        """Cached frame indices, least recently used first."""
        with self._lock:
            return list(self._frames)

    def discard(self, index: int) -> None:
        """Forget one frame (e.g. after its source file changed)."""
        with self._lock:
            old = self._frames.pop(index, None)
            if old is not None:
                self._bytes -= old.nbytes

    def clear(self) -> None:
        """Forget every frame; the counters stay."""
        with self._lock:
            self._frames.clear()
            self._bytes = 0

    @property
    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, self._evictions, len(self._frames),
                              self._bytes, self._peak, self.max_bytes)
