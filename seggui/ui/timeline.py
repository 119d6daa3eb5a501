"""The drive timeline: a slider over the frames of the current drive, its status strip, play/pause.

Shown for drive frames only (a video's or an image sequence's; a picture has
no timeline). Keys, as window actions (see `seggui.ui.menus`): A/D
previous/next frame, Shift+A/Shift+D ten frames, Home/End first/last frame,
K play/pause (Space is already pan-drag on the canvas, so it cannot also be
play), I / O mark the start / end of a frame range (Model ▸ Run on part of
this drive), Shift+I clears it. Play steps at the drive's frame rate and
switches a "picture only" view to the prediction, so the overlay shows.

The strip under the slider gives each frame its status colour (the frame
browser's colours: grey none, blue predicted, orange corrected, green
reviewed, violet propagated and not yet reviewed) and a dark tick
underneath where the frame has ground truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QSlider,
    QStyle,
    QToolButton,
    QWidget,
)

from seggui.core.workspace import FrameStatus
from seggui.ui.frame_browser import STATUS_COLORS
from seggui.ui.session import Session

STATUS_ORDER = (FrameStatus.NONE, FrameStatus.PREDICTED, FrameStatus.CORRECTED, FrameStatus.REVIEWED,
                FrameStatus.PROPAGATED)
GT_COLOR = (30, 30, 30)
MARK_COLOR = (200, 30, 120)


def status_codes(session: Session, frames: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(status code per frame as an index into STATUS_ORDER, has-ground-truth per frame)."""
    ws = session.workspace
    if ws is None:
        return np.zeros(0, np.uint8), np.zeros(0, bool)
    recs = [ws.frames[f] for f in frames]
    codes = np.array([STATUS_ORDER.index(FrameStatus(r.status)) for r in recs], np.uint8)
    return codes, np.array([r.has_gt for r in recs], bool)


MIN_FPS = 0.1  # a drive's slowest rate (one frame each 10 s)

class StatusStrip(QWidget):
    """A thin bar: one status colour per frame (sampled per pixel column on long drives)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.codes = np.zeros(0, np.uint8)
        self.gt = np.zeros(0, bool)
        self.marked: tuple[int, int] | None = None  # the frame range marked with I / O, inclusive
        self.setFixedHeight(10)
        self.setToolTip("Frame status: grey no mask, blue predicted, orange corrected, green reviewed, "
                        "violet propagated (not reviewed yet); a dark tick below: ground truth")

    def set_codes(self, codes: np.ndarray, gt: np.ndarray) -> None:
        self.codes, self.gt = codes, gt
        self.update()

    def set_marked(self, marked: tuple[int, int] | None) -> None:
        self.marked = marked
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        n, w, h = len(self.codes), self.width(), self.height()
        if n == 0 or w <= 0:
            return
        p = QPainter(self)
        colors = [QColor(*STATUS_COLORS[s]) for s in STATUS_ORDER]
        cols = np.minimum((np.arange(w) * n) // w, n - 1)  # the frame under each pixel column
        codes, gt = self.codes[cols], self.gt[cols]
        starts = np.flatnonzero(np.r_[True, (codes[1:] != codes[:-1]) | (gt[1:] != gt[:-1])])
        ends = np.r_[starts[1:], w]
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            p.fillRect(QRect(a, 0, b - a, h * 2 // 3), colors[codes[a]])
            if gt[a]:
                p.fillRect(QRect(a, h * 2 // 3, b - a, h - h * 2 // 3), QColor(*GT_COLOR))
        if self.marked is not None:  # the marked range: a frame around it, the rest dimmed
            a, b = (self.marked[0] * w) // n, ((self.marked[1] + 1) * w + n - 1) // n
            p.fillRect(QRect(0, 0, a, h), QColor(255, 255, 255, 150))
            p.fillRect(QRect(b, 0, w - b, h), QColor(255, 255, 255, 150))
            p.setPen(QColor(*MARK_COLOR))
            p.drawRect(QRect(a, 0, max(1, b - a - 1), h - 1))
        p.end()


class Timeline(QWidget):
    """Slider, frame number and time, play/pause, status strip; bound to the session."""

    playingChanged = Signal(bool)

    def __init__(self, session: Session, view: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.view = view  # the ViewPanel: play turns the overlay on
        self.frames: list[str] = []
        self._source_ref: str | None = None
        self.mark_start: int | None = None  # positions in the drive set with I and O
        self.mark_end: int | None = None
        self.play_button = QToolButton()
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause the drive (K)")
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window actions
        self.slider.valueChanged.connect(self._on_slider)
        self.label = QLabel("")
        self.label.setMinimumWidth(190)
        self.fps_box = QDoubleSpinBox()
        self.fps_box.setRange(0.0, 1000.0)
        self.fps_box.setSpecialValueText("–")  # no drive, no rate (it showed 0.10 fps, the minimum)
        self.fps_box.setValue(0.0)
        self.fps_box.setDecimals(2)
        self.fps_box.setSuffix(" fps")
        self.fps_box.setKeyboardTracking(False)
        self.fps_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.fps_box.setToolTip("Frame rate of this drive: play speed, the time shown and the overlay "
                                "video's rate. An image sequence carries none (30 is assumed): set its "
                                "real rate here; it is kept with the workspace.")
        self.fps_box.valueChanged.connect(self._on_fps)
        self.strip = StatusStrip()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        grid = QGridLayout(self)  # the strip sits in the slider's column, so frame x lines up with it
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setVerticalSpacing(1)
        grid.addWidget(self.play_button, 0, 0)
        grid.addWidget(self.slider, 0, 1)
        grid.addWidget(self.label, 0, 2)
        grid.addWidget(self.fps_box, 0, 3)
        grid.addWidget(self.strip, 1, 1)
        grid.setColumnStretch(1, 1)
        session.opened.connect(self._rebuild)
        session.frameChanged.connect(self._on_frame)
        self._status_timer = QTimer(self)  # a drive-wide run changes statuses per frame: repaint in bursts
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(100)
        self._status_timer.timeout.connect(self._refresh_status)
        session.framesChanged.connect(self._status_timer.start)
        self._rebuild()

    # ------------------------------------------------------------------ state
    @property
    def fps(self) -> float:
        src = self.session.video(self.frames[0]) if self.frames else None  # the rate set here, else its own
        return float(src.fps) if src is not None and src.fps else 10.0

    def set_fps(self, fps: float) -> None:
        """The drive's frame rate (kept in the workspace); play restarts at the new rate."""
        self.fps_box.setValue(fps)

    def _on_fps(self, value: float) -> None:
        if not self.frames or abs(value - self.fps) < 1e-9:
            return
        if value < MIN_FPS:  # the "–" of no drive is no rate for a drive
            self.set_fps(self.fps)
            return
        self.session.drives.set_fps(self.frames[0], value)  # kept in the workspace settings
        if self.is_playing():
            self.timer.start(max(1, round(1000 / self.fps)))
        self.fps_box.clearFocus()
        self._on_frame(self.session.current or "")

    @property
    def position(self) -> int:
        """The current frame's position in the drive (-1 when the current frame is not a drive's)."""
        cur = self.session.current
        return self.frames.index(cur) if cur in self.frames else -1

    def is_playing(self) -> bool:
        return self.timer.isActive()

    def _rebuild(self) -> None:
        self.stop()
        self.frames, self._source_ref = [], None
        self._on_frame(self.session.current or "")

    def _on_frame(self, frame_id: str) -> None:
        ws = self.session.workspace
        rec = ws.frames.get(frame_id) if ws is not None and frame_id else None
        ref = rec.drive if rec is not None else None
        if ref != self._source_ref:
            self._source_ref = ref
            self.frames = self.session.drive_frames(frame_id) if ref else []
            self.slider.blockSignals(True)
            self.slider.setRange(0, max(0, len(self.frames) - 1))
            self.slider.blockSignals(False)
            self.mark_start = self.mark_end = None
            self.strip.set_marked(None)
            self.fps_box.blockSignals(True)
            self.fps_box.setValue(self.fps if self.frames else 0.0)
            self.fps_box.blockSignals(False)
            self._refresh_status()
        self.setEnabled(bool(self.frames))
        if not self.frames:
            self.stop()
            self.label.setText("no drive: open a video or an image sequence")
            return
        pos = max(0, self.position)
        self.slider.blockSignals(True)
        self.slider.setValue(pos)
        self.slider.blockSignals(False)
        t = pos / self.fps
        marked = self.marked_range()
        # counted from 1 on screen, as a person counts (positions stay 0-based inside)
        span = f" · range {marked[0] + 1}–{marked[1] + 1}" if marked and self.has_marks() else ""
        self.label.setText(f"frame {pos + 1} of {len(self.frames)} · {int(t // 60)}:{t % 60:05.2f}{span}")

    def _refresh_status(self) -> None:
        self.strip.set_codes(*status_codes(self.session, self.frames))

    def _on_slider(self, value: int) -> None:
        if 0 <= value < len(self.frames):
            self.session.set_frame(self.frames[value])

    # ----------------------------------------------------------------- range
    def has_marks(self) -> bool:
        return self.mark_start is not None or self.mark_end is not None

    def marked_range(self) -> tuple[int, int] | None:
        """(first, last) positions of the marked range, inclusive; an unset end means the drive's end."""
        if not self.frames:
            return None
        first = self.mark_start if self.mark_start is not None else 0
        last = self.mark_end if self.mark_end is not None else len(self.frames) - 1
        return (min(first, last), max(first, last))

    def mark_in(self) -> None:
        """The current frame starts the range (I)."""
        self._mark(start=self.position)

    def mark_out(self) -> None:
        """The current frame ends the range (O)."""
        self._mark(end=self.position)

    def clear_marks(self) -> None:
        self.mark_start = self.mark_end = None
        self.strip.set_marked(None)
        self._on_frame(self.session.current or "")

    def _mark(self, start: int | None = None, end: int | None = None) -> None:
        if not self.frames or self.position < 0:
            self.session.log.info("marking a range needs a drive: open a video or an image sequence")
            return
        if start is not None:
            self.mark_start = start
        if end is not None:
            self.mark_end = end
        self.strip.set_marked(self.marked_range())
        self._on_frame(self.session.current or "")

    def range_frames(self, first: int, last: int) -> list[str]:
        """The frame ids from position `first` to `last`, inclusive (clamped to the drive)."""
        first, last = max(0, min(first, last)), min(len(self.frames) - 1, max(first, last))
        return self.frames[first:last + 1]

    # -------------------------------------------------------------- movement
    def step(self, delta: int) -> None:
        """Move `delta` frames within the drive (clamped); outside a drive, through the frame list."""
        if not self.frames or self.position < 0:
            self.session.step(delta)
            return
        self.go_to(self.position + delta)

    def go_to(self, pos: int) -> None:
        if self.frames:
            self.session.set_frame(self.frames[max(0, min(len(self.frames) - 1, pos))])
        elif self.session.frame_ids:
            ids = self.session.frame_ids
            self.session.set_frame(ids[max(0, min(len(ids) - 1, pos))])

    def go_first(self) -> None:
        self.go_to(0)

    def go_last(self) -> None:
        self.go_to(len(self.frames or self.session.frame_ids) - 1)

    def toggle_play(self) -> None:
        if self.is_playing():
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        """Step through the drive at its frame rate, from the start when at the last frame."""
        if not self.frames:
            return
        if self.position >= len(self.frames) - 1:
            self.go_first()
        if self.view is not None and self.view.view == "picture":
            self.view.set_view("prediction")
        self.timer.start(max(1, round(1000 / self.fps)))
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        self.playingChanged.emit(True)

    def stop(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.playingChanged.emit(False)
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))

    def _tick(self) -> None:
        pos = self.position
        if pos < 0 or pos >= len(self.frames) - 1:
            self.stop()
            return
        self.go_to(pos + 1)
