"""Issue 16, finding 2: two processes on one workspace never lose each other's changes.

The window marks frames reviewed while a retrain, which read the workspace
long before, saves predictions and promotes; every status the window set must
survive, and every change of the retrain too. Saves merge under an OS lock
(seggui.core.workspace_merge, seggui.core.workspace_lock).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seggui.core.images import write_image
from seggui.core.workspace import FrameStatus, Workspace
from seggui.core.workspace_lock import LOCK_FILE, LockTimeout, WorkspaceLease, workspace_lock
from seggui.core.workspace_merge import merge_workspace

WRITER = Path(__file__).with_name("workspace_writer.py")
N_FRAMES = 24


def _workspace(root: Path, n: int = N_FRAMES) -> Workspace:
    ws = Workspace.create(root, "camvid-11")
    pics = [write_image(root / "images" / f"f{i:02d}.png", np.zeros((4, 6, 3), np.uint8)) for i in range(n)]
    ws.add_images(pics)
    return ws


def _spawn(mode: str, root: Path, stdin: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WRITER), mode, str(root)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.PIPE if stdin else None,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_the_window_and_a_retrain_lose_none_of_each_others_changes(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _workspace(root)
    retrain = _spawn("retrain", root)
    window = _spawn("window", root)
    for proc in (window, retrain):
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    ws = Workspace.open(root)
    lost = [fid for fid, rec in ws.frames.items() if rec.status != FrameStatus.REVIEWED]
    assert lost == [], f"statuses lost to the other writer: {lost}"
    assert ws.model == "retrained@2"  # the retrain's changes are kept too
    assert all(rec.model == "retrained@2" for rec in ws.frames.values())
    assert ws.settings["retrain_saves"] >= N_FRAMES


def test_a_save_keeps_what_another_process_wrote_since(tmp_path: Path) -> None:
    a = _workspace(tmp_path / "ws", 3)
    b = Workspace.open(a.root)
    b.set_status("f00", "reviewed")
    b.settings["drive_fps"] = {"drive.mp4": 10.0}
    b.save()
    a.set_status("f01", "corrected")  # a still holds its old copy: f00 "none", no drive_fps
    a.settings.setdefault("drive_fps", {})["other.mp4"] = 25.0
    a.save()
    disk = Workspace.open(a.root)
    assert disk.frames["f00"].status == FrameStatus.REVIEWED
    assert disk.frames["f01"].status == FrameStatus.CORRECTED
    assert disk.settings["drive_fps"] == {"drive.mp4": 10.0, "other.mp4": 25.0}


def test_merge_rules() -> None:
    v1, v3, v4 = {"ref": "a@1"}, {"ref": "a@3"}, {"ref": "a@4"}
    base = {"format": "f", "model": "m1", "settings": {"model_versions": [v1], "k": 1},
            "frames": {"x": {"status": "none"}, "y": {"status": "predicted"}, "gone": {"status": "none"}}}
    ours = {"format": "f", "model": "m2", "settings": {"model_versions": [v1, v3], "k": 2},
            "frames": {"x": {"status": "predicted", "model": "a@3"}, "y": {"status": "predicted"},
                       "gone": {"status": "none"}, "new": {"status": "none"}}}
    theirs = {"format": "f", "model": "m1", "settings": {"model_versions": [v1, v4], "k": 3},
              "frames": {"x": {"status": "reviewed"}, "y": {"status": "corrected"}}}
    out = merge_workspace(base, ours, theirs)
    assert out["model"] == "m2"  # only we changed it
    assert out["settings"]["k"] == 2  # both changed: ours wins
    assert out["settings"]["model_versions"] == [v1, v4, v3]  # both retrains' versions stay listed
    assert out["frames"]["x"] == {"status": "reviewed", "model": "a@3"}  # a prediction never downgrades
    assert out["frames"]["y"] == {"status": "corrected"}  # we did not touch y
    assert "gone" not in out["frames"] and out["frames"]["new"] == {"status": "none"}
    assert merge_workspace(base, ours, None) == ours  # nothing on disk: ours whole


def test_lock_and_lease_hold_other_processes_off(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _workspace(root, 1)
    child = _spawn("lock", root, stdin=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(LockTimeout, match="workspace lock"):
            with workspace_lock(root, timeout_s=0.2):
                pass
    finally:
        child.communicate("go\n", timeout=60)
    with workspace_lock(root, timeout_s=5):  # let go when the holder does
        pass
    assert (root / LOCK_FILE).exists()

    child = _spawn("lease", root, stdin=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert WorkspaceLease.acquire(root) is None  # a second window opens read-only
        holder = WorkspaceLease.holder(root)
        assert holder is not None and holder["pid"] == child.pid
        assert str(child.pid) in WorkspaceLease.describe_holder(root)
    finally:
        child.communicate("go\n", timeout=60)
    lease = WorkspaceLease.acquire(root)
    assert lease is not None and WorkspaceLease.holder(root)["pid"] == os.getpid()
    assert WorkspaceLease.acquire(root) is None  # a second window of this process too
    lease.release()
    assert WorkspaceLease.holder(root) is None
    with WorkspaceLease.acquire(root) as again:
        assert again is not None and again.held


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _workspace(root, 1)
    for mode in ("lock", "lease"):
        child = _spawn(mode, root, stdin=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        child.kill()
        child.communicate(timeout=60)
    with workspace_lock(root, timeout_s=5):
        pass
    lease = WorkspaceLease.acquire(root)
    assert lease is not None
    lease.release()


def test_a_read_only_workspace_says_so(tmp_path: Path) -> None:
    if os.name == "nt" or os.geteuid() == 0:
        pytest.skip("folder permissions do not bind here (Windows or root)")
    root = tmp_path / "ws"
    _workspace(root, 1)
    (root / LOCK_FILE).unlink()
    root.chmod(0o555)
    try:
        with pytest.raises(Exception, match="read-only"):
            Workspace.open(root).save()
    finally:
        root.chmod(0o755)
    assert json.loads((root / "seggui.json").read_text())["format"] == "seggui-workspace/1"
