"""The workspace owns its state: every change goes through a method that saves and tells what changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import seggui.core.workspace as workspace_module
from seggui.core.classes import load_classes
from seggui.core.events import Signal
from seggui.core.gsd import Gsd
from seggui.core.images import write_image
from seggui.core.mask_kind import MaskKind
from seggui.core.workspace import FrameStatus, Workspace


class Recorder:
    """Every event a workspace emits, in order, as (name, args)."""

    def __init__(self, ws: Workspace) -> None:
        self.seen: list[tuple[str, tuple]] = []
        for name, signal in ws.events.signals().items():
            signal.connect(lambda *args, _n=name: self.seen.append((_n, args)))

    def names(self) -> list[str]:
        return [n for n, _a in self.seen]

    def of(self, name: str) -> list[tuple]:
        return [a for n, a in self.seen if n == name]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    pics = []
    for i in range(3):
        p = tmp_path / "pics" / f"p{i}.png"
        write_image(p, np.full((8, 10, 3), 40 * i, np.uint8))
        pics.append(p)
    w = Workspace.create(tmp_path / "ws", "camvid-11")
    w.add_images(pics)
    return w


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every write of seggui.json (the merged, locked write under Workspace.save)."""
    seen: list[Path] = []
    real = workspace_module.save_merged

    def counting(path, ours, base):  # noqa: ANN001, ANN202
        seen.append(Path(path))
        return real(path, ours, base)

    monkeypatch.setattr(workspace_module, "save_merged", counting)
    return seen


def test_signal_connect_disconnect_emit() -> None:
    sig, got = Signal("x"), []
    slot = sig.connect(lambda *a: got.append(a))
    sig.connect(slot)  # once, however often it is connected
    sig.emit(1, "a")
    assert got == [(1, "a")] and len(sig) == 1
    assert sig.disconnect(slot) and not sig.disconnect(slot)
    sig.emit(2)
    assert got == [(1, "a")]


def test_each_mutation_emits_what_changed(ws: Workspace) -> None:
    rec = Recorder(ws)
    mask = np.zeros((8, 10), np.uint8)
    ws.write_mask("p0", "predicted", mask, model="m@1")
    assert rec.seen == [("masks_changed", ("p0", "predicted")), ("frames_changed", (("p0",),))]

    rec.seen.clear()
    ws.write_mask("p0", "predicted", mask, model="m@1")  # same model, same status: the mask only
    assert rec.names() == ["masks_changed"]

    rec.seen.clear()
    ws.set_status("p1", FrameStatus.REVIEWED)
    ws.set_status("p1", FrameStatus.REVIEWED)  # no change, no event
    assert rec.seen == [("frames_changed", (("p1",),))]

    rec.seen.clear()
    ws.set_model("net@2")
    ws.set_gsd(0.05)
    ws.set_setting("parking_class", "road")
    ws.set_setting("parking_class", "road")  # unchanged: nothing told
    ws.set_classes(load_classes("parking-2"))
    assert rec.names() == ["model_changed", "gsd_changed", "settings_changed", "classes_changed"]
    assert rec.of("model_changed") == [("net@2",)] and rec.of("settings_changed") == [("parking_class",)]
    assert rec.of("gsd_changed")[0][0] == Gsd.square(0.05, "flag")

    again = Workspace.open(ws.root)  # and every change was saved
    assert (again.model, again.settings["parking_class"]) == ("net@2", "road")
    assert again.classes.name == "parking-2"
    assert again.gsd is not None and again.gsd.m2_per_px == pytest.approx(0.05 ** 2)
    assert again.frames["p1"].status == FrameStatus.REVIEWED


def test_a_batch_writes_seggui_json_once_and_tells_once(ws: Workspace, writes: list[Path]) -> None:
    rec = Recorder(ws)
    mask = np.ones((8, 10), np.uint8)
    conf = np.full((8, 10), 200, np.uint8)
    with ws.batch():
        for fid in ws.frames:
            ws.write_prediction(fid, mask, conf, model="m@1")  # saves, each, outside a batch
            ws.set_setting("note", fid)
        assert writes == [] and rec.seen == []  # nothing written or told before the batch ends
    assert len(writes) == 1
    assert rec.of("frames_changed") == [(("p0", "p1", "p2"),)]
    assert rec.of("masks_changed") == [("p0", "predicted"), ("p1", "predicted"), ("p2", "predicted")]
    assert rec.of("settings_changed") == [("note",)]
    again = Workspace.open(ws.root)
    assert all(r.status == FrameStatus.PREDICTED and r.model == "m@1" for r in again.frames.values())
    assert ws.mask_path("p2", MaskKind.CONFIDENCE).exists()


def test_a_failing_batch_still_records_and_tells_what_it_changed(ws: Workspace, writes: list[Path]) -> None:
    rec = Recorder(ws)
    with pytest.raises(RuntimeError), ws.batch():
        ws.set_status("p0", FrameStatus.CORRECTED)
        with ws.batch():  # nested: joins the outer one
            ws.set_status("p1", FrameStatus.CORRECTED)
        assert writes == []
        raise RuntimeError("boom")
    assert len(writes) == 1 and rec.of("frames_changed") == [(("p0", "p1"),)]
    assert Workspace.open(ws.root).frames["p1"].status == FrameStatus.CORRECTED


def test_adding_frames_tells_the_new_ids_once(tmp_path: Path, writes: list[Path]) -> None:
    w = Workspace.create(tmp_path / "ws", "camvid-11")
    rec = Recorder(w)
    pics = []
    for i in range(4):
        p = tmp_path / f"f{i}.png"
        write_image(p, np.zeros((4, 4, 3), np.uint8))
        pics.append(p)
    writes.clear()
    w.add_images(pics)
    assert rec.seen == [("frames_changed", (("f0", "f1", "f2", "f3"),))] and len(writes) == 1


def test_drop_prediction_goes_back_to_no_mask(ws: Workspace) -> None:
    ws.write_prediction("p0", np.zeros((8, 10), np.uint8), np.zeros((8, 10), np.uint8), "m@1")
    rec = Recorder(ws)
    ws.drop_prediction("p0")
    assert not ws.mask_path("p0", "predicted").exists() and not ws.mask_path("p0", "confidence").exists()
    assert ws.frames["p0"].status == FrameStatus.NONE and ws.frames["p0"].model is None
    assert rec.names() == ["masks_changed", "frames_changed"]


def test_mask_kind_is_a_string_enum(ws: Workspace) -> None:
    assert MaskKind("ground_truth") is MaskKind.GROUND_TRUTH and MaskKind.CORRECTED == "corrected"
    assert ws.mask_path("p0", MaskKind.PREDICTED) == ws.mask_path("p0", "predicted")
    assert ws.mask_path("p0", MaskKind.CONFIDENCE).parent.name == "confidence"
    with pytest.raises(ValueError):
        ws.mask_path("p0", MaskKind.CURRENT)  # a view of the others, never a file
    assert {k.value for k in MaskKind if k.stored} == {"predicted", "corrected", "ground_truth", "confidence"}
