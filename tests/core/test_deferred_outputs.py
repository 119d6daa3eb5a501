"""The window's prediction sink: files written by the pipeline's writer, recorded by the workspace's owner in
batches (one seggui.json write), never downgrading a frame corrected meanwhile."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

import seggui.core.workspace as workspace_module
from seggui.core.outputs import DeferredWorkspaceOutputs
from seggui.core.workspace import FrameStatus, Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(5):
        cv2.imwrite(str(pics / f"p{i}.png"), np.full((6, 8, 3), 40 * i, np.uint8))
    ws = Workspace.create(tmp_path / "ws", "camvid-11")
    ws.add_images(sorted(pics.glob("*.png")))
    return ws


def _pred(value: int) -> SimpleNamespace:
    return SimpleNamespace(labels=np.full((6, 8), value, np.uint8), confidence=np.full((6, 8), 0.5))


def test_files_first_then_one_save_for_the_batch(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    saves: list[Path] = []
    save = workspace_module.save_merged
    monkeypatch.setattr(workspace_module, "save_merged",
                        lambda p, *a, **k: (saves.append(p), save(p, *a, **k))[1])
    told: list[int] = []
    sink = DeferredWorkspaceOutputs(ws, "m@1", every_s=3600, every_n=3, notify=lambda: told.append(1))
    ws.write_mask("p1", "corrected", np.full((6, 8), 2, np.uint8))  # the analyst corrects p1 meanwhile
    saves.clear()
    for i in range(4):
        sink(i, f"p{i}", np.zeros((6, 8, 3), np.uint8), _pred(i + 1))
    assert told == [1]  # the third frame made a batch due
    assert ws.mask_path("p3", "predicted").is_file() and ws.mask_path("p3", "confidence").is_file()
    assert saves == [] and ws.frames["p0"].status == FrameStatus.NONE  # nothing recorded yet
    assert sink.record() == ["p0", "p1", "p2", "p3"]
    assert len(saves) == 1
    on_disk = Workspace.open(ws.root)
    assert on_disk.frames["p0"].status == FrameStatus.PREDICTED and on_disk.frames["p0"].model == "m@1"
    assert on_disk.frames["p1"].status == FrameStatus.CORRECTED  # the prediction lies beside it
    assert (on_disk.read_mask("p1", "corrected") == 2).all()
    assert (on_disk.read_mask("p1", "predicted") == 2).all()
    assert sink.record() == [] and len(saves) == 1  # nothing new: no write


def test_a_stopped_sink_writes_nothing_more(ws: Workspace) -> None:
    sink = DeferredWorkspaceOutputs(ws, "m@1")
    sink(0, "p0", np.zeros((6, 8, 3), np.uint8), _pred(1))
    sink.stop()
    sink(1, "p1", np.zeros((6, 8, 3), np.uint8), _pred(1))
    assert not ws.mask_path("p1", "predicted").exists()
    assert sink.record() == ["p0"]


def test_a_batch_waits_for_min_n_frames_unless_it_waited_max_s(ws: Workspace) -> None:
    told: list[int] = []
    sink = DeferredWorkspaceOutputs(ws, "m@1", every_s=0.0, every_n=100, max_s=3600,
                                    notify=lambda: told.append(1))
    sink.min_n = 3
    for i in range(3):
        sink(i, f"p{i}", np.zeros((6, 8, 3), np.uint8), _pred(1))
    assert told == [1]  # due at the third frame, not before
