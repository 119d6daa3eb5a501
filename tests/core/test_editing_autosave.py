"""Autosave: each stroke is written atomically; a kill mid-save loses at most the stroke being saved."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from seggui.core.classes import load_classes
from seggui.core.editing import AutoSave, Click, Editor
from seggui.core.images import encode_png
from seggui.core.masks import read_mask
from seggui.core.workspace import FrameStatus, Workspace

STROKES = r"""
import numpy as np
def stroke(editor, k):
    # stroke k: a deterministic line, so any saved state can be replayed
    editor.begin_stroke(9 + k % 20, k % 11)
    x, y = (k * 37) % 480, (k * 53) % 360
    editor.stroke_to(x + 0.5, y + 0.5)
    editor.stroke_to((x + 90) % 480 + 0.5, (y + 35) % 360 + 0.5)
    editor.end_stroke()
"""

WRITER = STROKES + r"""
import sys
from seggui.core.editing import AutoSave, Click, Editor
from seggui.core.workspace import Workspace
ws = Workspace.open(sys.argv[1])
editor = Editor(np.full((360, 480), 11, np.uint8), ws.classes)
saver = AutoSave(ws, "f0", editor)
print("ready", flush=True)
k = 0
while True:
    k += 1
    stroke(editor, k)
    saver.save()
    print(k, flush=True)
"""


def make_workspace(root: Path) -> Workspace:
    table = load_classes("camvid-11")
    ws = Workspace.create(root, table)
    picture = root / "f0.png"
    picture.write_bytes(encode_png(np.zeros((360, 480, 3), np.uint8), picture))
    ws.add_images([picture])
    return ws


def replay(n: int) -> np.ndarray:
    space: dict = {}
    exec(STROKES, space)  # noqa: S102 - the test's own stroke script
    e = Editor(np.full((360, 480), 11, np.uint8), load_classes("camvid-11"))
    for k in range(1, n + 1):
        space["stroke"](e, k)
    return e.labels


@pytest.mark.slow
def test_killed_while_saving_leaves_a_whole_correction_missing_at_most_one_stroke(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    make_workspace(root)
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.25 + 0.13 * attempt)  # a different moment of a write each time
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        reported = [int(line) for line in proc.stdout.read().split()]
        assert reported, "the writer saved nothing before the kill"
        last = reported[-1]
        ws = Workspace.open(root)  # seggui.json is whole too
        assert ws.frames["f0"].status == FrameStatus.CORRECTED
        on_disk = read_mask(ws.mask_path("f0", "corrected"), ws.classes)  # raises if torn
        # the file holds the last reported stroke, or the next one if its save finished unreported
        assert np.array_equal(on_disk, replay(last)) or np.array_equal(on_disk, replay(last + 1))
    stray = [p.name for p in (root / "corrected").iterdir() if p.name != "f0.png"]
    assert all(name.startswith(".f0.png.") for name in stray)  # only temp files, never a torn target


def test_autosave_writes_only_after_changes_and_marks_reviewed(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    e = Editor(np.full((360, 480), 11, np.uint8), ws.classes)
    saver = AutoSave(ws, "f0", e)
    assert not saver.pending and saver.save() is None
    assert not ws.mask_path("f0", "corrected").exists()
    e.dab(10.5, 10.5, 5, 3)
    assert saver.pending
    path = saver.save()
    assert path == ws.mask_path("f0", "corrected") and saver.writes == 1 and not saver.pending
    assert np.array_equal(read_mask(path, ws.classes), e.labels)
    assert Workspace.open(ws.root).frames["f0"].status == FrameStatus.CORRECTED
    assert saver.save() is None and saver.writes == 1
    saver.mark_reviewed()
    e.dab(50.5, 50.5, 5, 4)
    saver.save()  # a later edit keeps the frame reviewed
    again = Workspace.open(ws.root)
    assert again.frames["f0"].status == FrameStatus.REVIEWED
    assert np.array_equal(again.read_mask("f0", "corrected"), e.labels)


def test_a_refine_preview_is_never_written_until_it_is_kept(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    img = np.full((360, 480, 3), 110, np.uint8)
    img[100:160, 200:280] = (200, 30, 30)  # two red cars on grey road
    img[250:300, 50:120] = (200, 30, 30)
    e = Editor(np.full((360, 480), 11, np.uint8), ws.classes)
    saver = AutoSave(ws, "f0", e)
    e.dab(10.5, 10.5, 5, 3)
    saver.save()
    kept = e.labels.copy()
    e.refine_preview(img, [Click(240.5, 130.5, True)], 8, fallback=11)
    assert e.preview is not None and (e.labels != kept).sum() > 1000
    assert not saver.pending  # a preview on show is not work to save
    assert np.array_equal(e.kept_labels(), kept)
    _version, snap = saver.snapshot()
    assert np.array_equal(snap, kept) and not np.array_equal(snap, e.labels)
    saver.save(force=True)
    assert np.array_equal(read_mask(ws.mask_path("f0", "corrected"), ws.classes), kept)
    shown = e.labels.copy()
    e.commit_preview()  # Enter: now it is kept, and due
    assert saver.pending and np.array_equal(e.kept_labels(), shown)
    saver.save()
    assert np.array_equal(read_mask(ws.mask_path("f0", "corrected"), ws.classes), shown)
    e.refine_preview(img, [Click(85.5, 275.5, True)], 8, fallback=11)
    assert e.preview is not None and not saver.pending
    e.drop_preview()  # Esc: nothing kept changed, nothing due
    assert not saver.pending
