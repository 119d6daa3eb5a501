"""Long-drive benchmark: memory stays flat through the frame cache; decode speeds side by side.

    python tests/benchmarks/drive.py [--frames 10000] [--cache-mb 16] [--seeks 500]

Writes a FRAMES-long mp4v video of small frames (CamVid 0016E5 frames when
../shared/data is there, a synthetic pattern otherwise, with a moving stamp so
no two frames are equal), opens it with seggui.core.media, steps through every
frame via a FrameCache, then decodes it in order (plain and on a background
thread) and reads random frames. Prints ONE JSON line: the cache bound, the
cache's peak, the process's peak resident-memory growth during the step-through
(against what keeping every frame would take), and frames per second of each way
of reading, with ratios against the random-seek rate.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from seggui.core.media import FrameCache, iter_frames_threaded, open_source

REPO = Path(__file__).resolve().parents[2]
CAMVID = REPO.parent / "shared" / "data" / "camvid" / "train"


def _rss_bytes() -> int:
    """Resident memory now (Linux /proc), else the peak so far (other systems)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize()
    except OSError:
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _base_frames(width: int, height: int) -> tuple[list[np.ndarray], str]:
    files = sorted(CAMVID.glob("0016E5_*.png"))[:60]
    if files:
        return [cv2.resize(cv2.imread(str(p)), (width, height), interpolation=cv2.INTER_AREA)
                for p in files], "camvid 0016E5"
    y, x = np.mgrid[0:height, 0:width]
    return [np.dstack([(x * 2 + k) % 256, (y * 2 + 3 * k) % 256, (x + y + 5 * k) % 256]).astype(np.uint8)
            for k in range(60)], "synthetic"


def write_drive(path: Path, frames: int, width: int, height: int) -> str:
    """Write the test drive; return what its pictures come from."""
    base, origin = _base_frames(width, height)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (width, height))
    for i in range(frames):
        frame = base[i % len(base)].copy()
        x = (i * 3) % max(1, width - 40)
        cv2.putText(frame, str(i), (x, height - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1)
        writer.write(frame)
    writer.release()
    return origin


def run(frames: int, width: int, height: int, cache_mb: float, seeks: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drive.mp4"
        t0 = time.perf_counter()
        origin = write_drive(path, frames, width, height)
        write_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        src = open_source(path)
        open_s = time.perf_counter() - t0
        assert len(src) == frames, f"indexed {len(src)} of {frames} frames"

        cache = FrameCache(src, max_bytes=int(cache_mb * 1024 * 1024))
        rss0 = peak_rss = _rss_bytes()
        maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        for i in range(frames):
            cache.get(i)
            if i % 200 == 0:
                peak_rss = max(peak_rss, _rss_bytes())
            if i == frames // 2:
                mid_rss = _rss_bytes()
        seq_s = time.perf_counter() - t0
        end_rss = _rss_bytes()
        peak_rss = max(peak_rss, _rss_bytes())
        maxrss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss0
        stats = cache.stats

        t0 = time.perf_counter()
        for _ in src.iter_frames():
            pass
        iter_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        for _ in iter_frames_threaded(src, queue_size=16):
            pass
        threaded_s = time.perf_counter() - t0

        rng = random.Random(0)
        picks = [rng.randrange(frames) for _ in range(seeks)]
        cold = FrameCache(src, max_bytes=int(cache_mb * 1024 * 1024))
        t0 = time.perf_counter()
        for i in picks:
            cold.get(i)
        random_s = time.perf_counter() - t0
        src.close()

    frame_bytes = width * height * 3
    random_fps = seeks / random_s
    return {
        "bench": "drive",
        "content": origin,
        "frames": frames,
        "frame_size": [height, width],
        "frame_bytes": frame_bytes,
        "cache_bound_bytes": stats.max_bytes,
        "cache_peak_bytes": stats.peak_bytes,
        "cache_evictions": stats.evictions,
        "all_frames_bytes": frames * frame_bytes,
        "peak_rss_growth_bytes": peak_rss - rss0,
        "rss_growth_half_way_bytes": mid_rss - rss0,
        "rss_growth_at_end_bytes": end_rss - rss0,
        "ru_maxrss_growth_kib": maxrss_growth,
        "rss_growth_over_cache_bound": round((peak_rss - rss0) / stats.max_bytes, 3),
        "rss_growth_over_all_frames": round((peak_rss - rss0) / (frames * frame_bytes), 3),
        "write_s": round(write_s, 2),
        "open_index_s": round(open_s, 3),
        "seq_cache_fps": round(frames / seq_s, 1),
        "iter_frames_fps": round(frames / iter_s, 1),
        "threaded_fps": round(frames / threaded_s, 1),
        "random_seek_fps": round(random_fps, 1),
        "seq_cache_over_random": round(frames / seq_s / random_fps, 2),
        "iter_over_random": round(frames / iter_s / random_fps, 2),
        "seeks": seeks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=96)
    parser.add_argument("--cache-mb", type=float, default=16.0)
    parser.add_argument("--seeks", type=int, default=500)
    args = parser.parse_args()
    print(json.dumps(run(args.frames, args.width, args.height, args.cache_mb, args.seeks)))


if __name__ == "__main__":
    main()
