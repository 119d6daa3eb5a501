"""The autosave writes on a worker thread: strokes go on while it encodes, files land in order."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from ui_helpers import stroke

from seggui.core.editing import AutoSave
from seggui.core.masks import read_mask
from seggui.core.workspace import FrameStatus


@pytest.fixture
def gate(window):  # noqa: ANN001, ANN201 - after `window`, so it is released before the window closes
    """Holds the worker's write until set; always set at teardown so nothing stays blocked."""
    event = threading.Event()
    yield event
    event.set()


def test_strokes_continue_while_the_correction_is_written(qtbot, window, camvid_folder: Path,
                                                          monkeypatch, gate) -> None:
    assert window.open_path(camvid_folder)
    ctrl, s, canvas = window.editing, window.session, window.view.canvas
    ctrl.set_tool("brush")
    threads, versions = [], []
    real_write = AutoSave.write_snapshot

    def slow_write(self, labels):  # noqa: ANN001, ANN202 - stands in for a long PNG encode
        versions.append(labels.copy())
        threads.append(threading.current_thread())  # last: the test waits on this list
        assert gate.wait(20)
        return real_write(self, labels)

    monkeypatch.setattr(AutoSave, "write_snapshot", slow_write)
    stroke(qtbot, canvas, 40.5)
    qtbot.waitUntil(lambda: ctrl.writer.busy and bool(threads), timeout=3000)  # the debounced save started...
    assert threads[0] is not threading.main_thread()  # ...on the worker thread
    assert not ctrl.saved and "saving" in window.edit_toolbar.state.text()
    first = versions[0]

    stroke(qtbot, canvas, 80.5)  # the window is free: a second stroke while the first is encoding
    after_second = s.mask("current").copy()
    assert not np.array_equal(after_second, first)
    path = s.workspace.mask_path(s.current, "corrected")
    assert not path.exists()  # nothing recorded before the write is done

    gate.set()
    qtbot.waitUntil(lambda: ctrl.saved, timeout=10000)  # the first lands, then the pending second one
    assert len(versions) == 2 and np.array_equal(versions[1], after_second)
    assert np.array_equal(read_mask(path), after_second)
    assert s.record(s.current).status == FrameStatus.CORRECTED


def test_a_synchronous_save_waits_for_the_write_in_flight(qtbot, window, camvid_folder: Path,
                                                          monkeypatch, gate) -> None:
    assert window.open_path(camvid_folder)
    ctrl, s, canvas = window.editing, window.session, window.view.canvas
    ctrl.set_tool("brush")
    real_write = AutoSave.write_snapshot

    def slow_write(self, labels):  # noqa: ANN001, ANN202
        assert gate.wait(20)
        return real_write(self, labels)

    monkeypatch.setattr(AutoSave, "write_snapshot", slow_write)
    stroke(qtbot, canvas, 40.5)
    qtbot.waitUntil(lambda: ctrl.writer.busy, timeout=3000)
    monkeypatch.setattr(AutoSave, "write_snapshot", real_write)  # the later, synchronous write is quick
    stroke(qtbot, canvas, 80.5)
    latest = s.mask("current").copy()
    threading.Timer(0.3, gate.set).start()
    assert ctrl.flush()  # Ctrl+S: waits for the older snapshot, then writes the latest over it
    assert ctrl.saved
    assert np.array_equal(read_mask(s.workspace.mask_path(s.current, "corrected")), latest)
    qtbot.wait(200)  # the older write's queued result arrives late and changes nothing
    assert np.array_equal(read_mask(s.workspace.mask_path(s.current, "corrected")), latest)


def test_a_failing_disk_is_said_once_and_the_work_is_never_dropped(qtbot, window, camvid_folder: Path,
                                                                    monkeypatch) -> None:
    assert window.open_path(camvid_folder)
    ctrl, s, canvas = window.editing, window.session, window.view.canvas
    first = s.current
    ctrl.set_tool("brush")
    attempts = []

    def full_disk(path, mask):  # noqa: ANN001, ANN202 - every mask write fails, as on a full disk
        attempts.append(path)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("seggui.core.editing.autosave.write_mask", full_disk)
    monkeypatch.setattr("seggui.core.workspace.write_mask", full_disk)
    stroke(qtbot, canvas, 40.5)
    painted = s.mask("current").copy()
    qtbot.waitUntil(lambda: ctrl.save_failed, timeout=5000)
    qtbot.wait(1200)  # no retry loop: one attempt, one message, and the toolbar says so
    assert len(attempts) == 1
    assert sum("No space left" in m.text for m in window.log.entries) == 1
    assert "not saved" in window.edit_toolbar.state.text()

    qtbot.keyClick(window, Qt.Key.Key_D)  # leaving: the synchronous save fails too; the work is kept
    assert s.current != first and first in ctrl.unsaved
    assert any("kept in memory" in m.text for m in window.log.entries)
    monkeypatch.undo()  # the disk has room again
    qtbot.keyClick(window, Qt.Key.Key_A)
    assert s.current == first and np.array_equal(s.mask("current"), painted)  # the unsaved work is back
    qtbot.waitUntil(lambda: ctrl.saved, timeout=5000)  # and written
    assert np.array_equal(read_mask(s.workspace.mask_path(first, "corrected")), painted)


def test_strokes_made_during_a_write_are_written_as_soon_as_it_ends(qtbot, window, camvid_folder: Path,
                                                                   monkeypatch, gate) -> None:
    assert window.open_path(camvid_folder)
    ctrl, s, canvas = window.editing, window.session, window.view.canvas
    ctrl.set_tool("brush")
    real_write, started = AutoSave.write_snapshot, []

    def slow_write(self, labels):  # noqa: ANN001, ANN202
        started.append(1)
        assert gate.wait(20)
        return real_write(self, labels)

    monkeypatch.setattr(AutoSave, "write_snapshot", slow_write)
    stroke(qtbot, canvas, 40.5)
    qtbot.waitUntil(lambda: bool(started), timeout=3000)
    stroke(qtbot, canvas, 80.5)
    latest = s.mask("current").copy()
    monkeypatch.setattr(AutoSave, "write_snapshot", real_write)
    ctrl._save_timer.stop()  # noqa: SLF001 - only the end of the write may trigger the next one here
    gate.set()
    qtbot.waitUntil(lambda: ctrl.saved, timeout=5000)
    assert np.array_equal(read_mask(s.workspace.mask_path(s.current, "corrected")), latest)
