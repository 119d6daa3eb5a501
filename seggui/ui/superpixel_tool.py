"""The superpixel brush (S) on the canvas, and the per-picture superpixels it paints with.

The tool is the round brush (same size, outline, Esc, Ctrl+wheel) whose
strokes paint every superpixel they touch (`seggui.core.editing.superpixels`).
The superpixels of the current picture are computed on a worker thread when
the tool is chosen or the picture changes, cached in memory (the last few)
and in the workspace (superpixels/ID_SIZE.png), so a second visit only reads
a file. Until they are ready a press says so in the status bar and paints
nothing, rather than painting with the wrong tool. The segment size is an
Options entry (12, 24, 48 or 96 px across).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt, Signal

from seggui.core.editing.superpixels import (
    Segments,
    cache_path,
    compute_superpixels,
    load_superpixels,
    save_superpixels,
)
from seggui.ui.canvas_tools import ALT, PaintTool

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.editing import EditController

KEEP = 4  # superpixel maps held in memory


class SuperpixelSource(QObject):
    """Superpixels per (frame, size): memory, then the workspace cache, else computed on a thread."""

    ready = Signal(str, int)  # frame id, size (emitted from the worker; queued to the GUI thread)

    def __init__(self, ctrl: EditController) -> None:
        super().__init__(ctrl)
        self.ctrl = ctrl
        self._held: OrderedDict[tuple[str, int], Segments] = OrderedDict()
        self._busy: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        ctrl.session.opened.connect(self._held.clear)

    def get(self, frame_id: str, size: int) -> Segments | None:
        with self._lock:
            segs = self._held.get((frame_id, size))
            if segs is not None:
                self._held.move_to_end((frame_id, size))
            return segs

    def request(self, frame_id: str | None = None, size: int | None = None) -> Segments | None:
        """The superpixels when ready; else starts computing them (once) and returns None."""
        s = self.ctrl.session
        fid, size = frame_id or s.current, size or self.ctrl.superpixel_size
        ws, image = s.workspace, s.image(frame_id)
        if fid is None or ws is None or image is None:
            return None
        found = self.get(fid, size)
        if found is not None or (fid, size) in self._busy:
            return found
        self._busy.add((fid, size))
        path = cache_path(ws.root, fid, size)
        log = s.log
        threading.Thread(target=self._work, args=(fid, size, image, path, log), daemon=True,
                         name="superpixels").start()
        return None

    def _work(self, fid: str, size: int, image: np.ndarray, path, log) -> None:  # noqa: ANN001
        try:
            segs = load_superpixels(path, image.shape[:2])
            if segs is None:
                segs = compute_superpixels(image, size)
                try:
                    save_superpixels(path, segs)
                except OSError as exc:  # only costs a recompute next time
                    log.warning(f"could not cache the superpixels of {fid} ({exc})")
        except Exception as exc:  # noqa: BLE001 - reported, the brush stays usable
            log.error(f"{fid}: no superpixels ({exc})")
            self._busy.discard((fid, size))
            return
        with self._lock:
            self._held[(fid, size)] = segs
            while len(self._held) > KEEP:
                self._held.popitem(last=False)
        self._busy.discard((fid, size))
        self.ready.emit(fid, size)


class SuperpixelTool(PaintTool):
    """Superpixel brush (S): the brush, painting whole superpixels."""

    def __init__(self, ctrl: EditController) -> None:
        super().__init__(ctrl, erase=False)
        self.name = "superpixel"
        self.source = SuperpixelSource(ctrl)
        ctrl.session.frameChanged.connect(self._on_frame)

    def _on_frame(self, _frame_id: str) -> None:
        if self.ctrl.tool == self.name:
            self.source.request()

    def activate(self) -> None:
        super().activate()
        self.source.request()

    def press(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        if modifiers & ALT:
            self.ctrl.pick_at(pos)
            return
        segs = self.source.request()
        if segs is None:
            s = self.ctrl.session
            s.log.info(f"the superpixels of {s.current} are still being computed; paint again in a moment")
            return
        self._stroking = self.ctrl.begin_stroke(pos, False, segments=segs)
