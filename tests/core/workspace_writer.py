"""A second process on a workspace, for tests/core/test_workspace_concurrency.py.

``python workspace_writer.py MODE WORKSPACE``:

- ``window``: marks every frame reviewed, one save each (the window's save path), then writes
  ``window.done`` beside the workspace.
- ``retrain``: opens the workspace once, then keeps writing predictions (model ``retrained@2``)
  and a setting, saving each time, until ``window.done`` appears; saves once more and promotes
  (`set_model`), as ``seggui retrain --promote`` does beside the window.
- ``lock`` / ``lease``: holds the workspace lock / lease, prints ``held``, and lets go when a line
  arrives on stdin.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from seggui.core.workspace import Workspace
from seggui.core.workspace_lock import WorkspaceLease, workspace_lock


def window(root: Path) -> None:
    ws = Workspace.open(root)
    for fid in sorted(ws.frames):
        ws.set_status(fid, "reviewed")
    (root.parent / "window.done").write_text("done")


def retrain(root: Path) -> None:
    ws = Workspace.open(root)
    ids = sorted(ws.frames)
    mask = np.zeros((4, 6), np.uint8)
    done = root.parent / "window.done"
    i = 0
    while not done.exists() or i < len(ids):
        fid = ids[i % len(ids)]
        ws.write_mask(fid, "predicted", mask, model="retrained@2", save=False)
        ws.settings["retrain_saves"] = i + 1
        ws.save()
        i += 1
    ws.save()
    ws.model = "retrained@2"  # promote
    ws.save()


def hold(root: Path, what: str) -> None:
    if what == "lock":
        with workspace_lock(root):
            print("held", flush=True)
            sys.stdin.readline()
    else:
        lease = WorkspaceLease.acquire(root)
        print("held" if lease is not None else "busy", flush=True)
        sys.stdin.readline()
        if lease is not None:
            lease.release()


if __name__ == "__main__":
    mode, where = sys.argv[1], Path(sys.argv[2])
    {"window": window, "retrain": retrain}.get(mode, lambda r: hold(r, mode))(where)
