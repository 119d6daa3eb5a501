"""The session is a thin Qt adapter over the workspace's events; editing never speaks for the workspace."""

from __future__ import annotations

import inspect
import threading
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from ui_helpers import stroke

from seggui.core.images import write_image
from seggui.core.workspace import FrameStatus
from seggui.ui.edit_saving import EditSaving, SaveState
from seggui.ui.editing import EditController
from seggui.ui.messages import MessageLog
from seggui.ui.session import Session

UI = Path(__file__).resolve().parents[2] / "seggui" / "ui"


class Count:
    def __init__(self, signal) -> None:  # noqa: ANN001
        self.calls: list[tuple] = []
        signal.connect(lambda *a: self.calls.append(a))


@pytest.fixture
def session(qtbot, tmp_path: Path) -> Session:  # noqa: ARG001 - qtbot: a QApplication for the signals
    for name in ("a", "b"):
        write_image(tmp_path / "pics" / f"{name}.png", np.zeros((6, 8, 3), np.uint8))
    s = Session(MessageLog(), store_dir=tmp_path / "store")
    s.open_path(tmp_path / "pics")
    return s


def test_changes_made_on_the_workspace_reach_the_views(session: Session, tmp_path: Path) -> None:
    ws = session.workspace
    frames, masks = Count(session.framesChanged), Count(session.masksChanged)
    gsd, model = Count(session.gsdChanged), Count(session.modelChanged)
    settings = Count(session.settingsChanged)
    assert session.mask("ground_truth", "a") is None  # cached as absent

    ws.set_status("b", FrameStatus.REVIEWED)  # whoever changes it, the session hears it
    truth = np.ones((6, 8), np.uint8)
    ws.write_mask("a", "ground_truth", truth)
    ws.set_gsd(0.1)
    ws.set_model("tiny@3")
    ws.set_setting("parking_class", "car")
    assert len(frames.calls) == 2 and masks.calls == [("a",)]
    assert np.array_equal(session.mask("ground_truth", "a"), truth)  # the cache forgot the old answer
    assert len(gsd.calls) == 1 and model.calls == [("tiny@3",)] and settings.calls == [("parking_class",)]

    ws.set_gsd(None)  # cleared
    assert ws.gsd is None and len(gsd.calls) == 2

    old = ws
    session.open_path(tmp_path / "pics")  # a new workspace object: the old one is no longer heard
    old.set_status("a", FrameStatus.REVIEWED)
    assert len(frames.calls) == 2
    session.workspace.set_status("a", FrameStatus.CORRECTED)
    assert len(frames.calls) == 3


def test_a_change_made_on_a_worker_thread_is_told_on_the_gui_thread(qtbot, session: Session) -> None:
    seen: list[threading.Thread] = []
    session.framesChanged.connect(lambda: seen.append(threading.current_thread()))
    worker = threading.Thread(target=session.workspace.set_status, args=("a", FrameStatus.REVIEWED))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(seen), timeout=3000)
    assert seen == [threading.main_thread()]  # the session's caches and signals stay on the GUI thread


def test_a_prediction_is_one_mask_change(session: Session) -> None:
    masks, frames = Count(session.masksChanged), Count(session.framesChanged)
    labels, conf = np.zeros((6, 8), np.uint8), np.full((6, 8), 255, np.uint8)
    session.apply_prediction("a", labels, conf, "tiny@1")
    assert masks.calls == [("a",)] and len(frames.calls) == 1
    assert session.record("a").status == FrameStatus.PREDICTED
    assert session.mask("confidence", "a") is not None


def test_saving_a_stroke_is_told_by_the_workspace_once(qtbot, window, camvid_folder: Path) -> None:
    assert window.open_path(camvid_folder)
    ctrl, s = window.editing, window.session
    frames, masks = Count(s.framesChanged), Count(s.masksChanged)
    ctrl.set_tool("brush")
    stroke(qtbot, window.view.canvas, 40.5)
    assert ctrl.flush() or ctrl.saved
    qtbot.waitUntil(lambda: ctrl.saved, timeout=10000)
    assert s.record(s.current).status == FrameStatus.CORRECTED
    assert len(frames.calls) == 1  # the status moved once: told once, by the workspace
    assert masks.calls == []  # its own autosave: the session serves the editor's labels already
    stroke(qtbot, window.view.canvas, 80.5)
    ctrl.flush()
    assert len(frames.calls) == 1  # corrected again: nothing moved, nothing told
    ctrl.mark_reviewed()
    assert len(frames.calls) == 2 and ctrl.saving.state is SaveState.IDLE


def test_a_write_that_fails_at_once_leaves_the_state_failed(qtbot, window, camvid_folder: Path,
                                                           monkeypatch) -> None:
    assert window.open_path(camvid_folder)
    ctrl = window.editing
    ctrl.set_tool("brush")

    def failed_at_once(fn, *args):  # noqa: ANN001, ANN202 - the future is done before submit returns
        future: Future = Future()
        future.set_exception(OSError(28, "No space left on device"))
        return future

    monkeypatch.setattr(ctrl.writer._pool, "submit", failed_at_once)  # noqa: SLF001
    stroke(qtbot, window.view.canvas, 40.5)
    ctrl.saving.flush_in_background()
    assert ctrl.saving.state is SaveState.FAILED and ctrl.save_failed and not ctrl.saved


def test_the_shape_of_session_and_editing() -> None:
    for name in ("session.py", "editing.py", "edit_saving.py"):
        assert len((UI / name).read_text(encoding="utf-8").splitlines()) < 450, name
    for cls in (Session, EditController):
        public = [n for n, v in vars(cls).items()
                  if not n.startswith("_") and (inspect.isfunction(v) or isinstance(v, property))]
        assert len(public) <= 25, (cls.__name__, public)
    source = "".join((UI / n).read_text(encoding="utf-8") for n in ("editing.py", "edit_saving.py"))
    for signal in ("framesChanged", "masksChanged", "gsdChanged"):
        assert f"{signal}.emit" not in source  # only the session re-emits the workspace's events
    assert [s.name for s in SaveState] == ["IDLE", "WRITING", "FLUSHING", "FAILED"]
    for flag in ("_flushing", "_unsaved_back", "_status_before"):  # one state, not three flags
        assert flag not in source
    assert callable(EditSaving.flush)
