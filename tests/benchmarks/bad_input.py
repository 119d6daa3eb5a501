"""Bad-input benchmark: time and peak memory to refuse 30000² and 60000² PNG bombs.

The bombs (all-black 8-bit PNGs, under 1 MB and 3.5 MB on disk, 0.9 and 3.6
gigapixels declared) are made in a temp folder by tests/bomb_files.py.
Each is refused through `read_image` and `read_mask`, the two readers every
command and the window use; the figure is the slower of the two. Peak memory
is what tracemalloc saw allocated by Python and NumPy during the refusal
(OpenCV allocates outside it, so the process's peak RSS is printed too).
The whole command is timed too: `seggui area BOMB` in a fresh process (start-up
and imports included), with that process's peak RSS; it must exit 2 with the
one-line reason. Goal: under a second and 100 MB each.
Run: python tests/benchmarks/bad_input.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for bomb_files

from bomb_files import png_bomb  # noqa: E402

from seggui.core.errors import BadInputError  # noqa: E402
from seggui.core.images import read_image  # noqa: E402
from seggui.core.masks import read_mask  # noqa: E402


def refuse(path: Path) -> tuple[float, float]:
    """(seconds, peak MB) of the slower of read_image / read_mask refusing `path`."""
    worst_s = worst_mb = 0.0
    for read in (read_image, read_mask):
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            read(path)
        except BadInputError:
            pass
        else:
            raise SystemExit(f"{path} was decoded, not refused")
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        worst_s, worst_mb = max(worst_s, elapsed), max(worst_mb, peak / 2**20)
    return worst_s, worst_mb


_CHILD = ("import resource, sys\nfrom seggui.cli import main\nrc = main(sys.argv[1:])\n"
          "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(rc)")


def command(path: Path) -> tuple[float, float]:
    """(seconds, peak RSS MB) of `seggui area PATH` in a new process, which must refuse it."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, "area", str(path), "--classes", "camvid-11"],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    lines = done.stderr.strip().splitlines()
    if done.returncode != 2 or "over the limit" not in lines[0]:
        raise SystemExit(f"seggui area did not refuse {path}: {done.returncode} {done.stderr[-300:]}")
    return elapsed, int(lines[-1]) / 1024


def main() -> int:
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side in (30000, 60000):
            bomb = png_bomb(Path(tmp) / f"bomb{side}.png", side, side)
            seconds, mb = refuse(bomb)
            key = f"png_{side // 1000}k"
            out[f"{key}_file_mb"] = round(bomb.stat().st_size / 2**20, 2)
            out[f"{key}_refuse_s"] = round(seconds, 4)
            out[f"{key}_peak_mb"] = round(mb, 2)
            seconds, rss = command(bomb)
            out[f"{key}_area_cmd_s"] = round(seconds, 3)
            out[f"{key}_area_cmd_rss_mb"] = round(rss, 1)
    out["process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["goal"] = "under 1 s and 100 MB each"
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
