"""Atomic writes: a process killed mid-save leaves a whole file behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from seggui.core.atomic import atomic_write_bytes, atomic_write_json
from seggui.core.masks import read_mask

WRITER = r"""
import sys, numpy as np
from seggui.core.masks import write_mask
path = sys.argv[1]
i = 0
print("ready", flush=True)
while True:
    i = (i + 1) % 200
    mask = np.full((1500, 2000), i, np.uint8)   # each version is uniform: a torn file would mix values
    mask[::7, ::5] = (i + 1) % 200               # make PNG encoding non-trivial
    write_mask(path, mask)
"""


@pytest.mark.slow
def test_killed_writer_leaves_a_whole_mask(tmp_path: Path) -> None:
    target = tmp_path / "mask.png"
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.3 + 0.17 * attempt)  # kill at a different point of a write each time
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        mask = read_mask(target)  # raises if the PNG were torn
        base = int(mask[1, 1])
        assert mask.shape == (1500, 2000)
        assert (mask[1:, 1:][(np.arange(1, 1500) % 7 != 0)][:, np.arange(1, 2000) % 5 != 0] == base).all()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "mask.png"]
    # A kill can leave a temp file behind, never a half-written target.
    assert all(name.startswith(".mask.png.") for name in leftovers)


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    atomic_write_json(target, {"v": 1})

    class Boom:
        def __len__(self) -> int:
            raise RuntimeError("disk on fire")

    try:
        atomic_write_bytes(target, Boom())  # type: ignore[arg-type]
    except Exception:
        pass
    assert target.read_text().strip().replace(" ", "").replace("\n", "") == '{"v":1}'
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        from seggui.core import atomic

        atomic.plain_file_mode.cache_clear()
        p = atomic_write_json(tmp_path / "x.json", {"a": 1})
        assert p.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)
        atomic.plain_file_mode.cache_clear()
