"""Exports of the current drive: the overlay video and the per-frame area CSV, as background jobs.

Both read the masks on disk (corrected, else predicted) through core code:
`seggui.core.overlay_video.write_overlay_video` for the video and the area
report (`seggui.core.report.build_report`, `report_formats.write_report`) for
the CSV, so the window's files equal those of the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

from seggui.core.errors import BadInputError, SegguiError
from seggui.core.jobs import CancelToken, Job
from seggui.core.overlay_video import OverlayVideo, write_overlay_video
from seggui.core.report import build_report
from seggui.core.report_formats import write_report
from seggui.core.workspace import FrameStatus, Workspace
from seggui.ui.runner import JobRunner
from seggui.ui.session import Session

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.main_window import MainWindow


def _drive(session: Session) -> tuple[Any, str]:
    """The current drive's source and workspace reference; BadInputError on a picture."""
    src = session.video()
    if session.workspace is None or session.current is None or src is None:
        raise BadInputError(None, "go to a frame of a drive first (File ▸ Open a video or an image sequence)")
    return src, session.record(session.current).drive or ""


def export_overlay_video(session: Session, runner: JobRunner, out: str | Path, alpha: float = 0.5,
                         frames: range | None = None) -> bool:
    """Start writing the current drive's `frames` (source indices; default: those holding a mask, first
    to last, else all) with their masks blended in, a legend and the frame number (mp4 H.264 or avi)."""
    src, _ref = _drive(session)
    ws = session.workspace
    assert ws is not None
    table = ws.classes

    def mask_of(i: int) -> Any:
        fid = src.name(i)
        return ws.current_mask(fid) if fid in ws.frames else None

    if frames is None:
        held = [i for i in range(len(src)) if (fid := src.name(i)) in ws.frames
                and ws.frames[fid].status != FrameStatus.NONE]
        frames = range(held[0], held[-1] + 1) if held else src.span()
    handle = runner.start(f"Overlay video {Path(out).name}", lambda token: write_overlay_video(
        src, mask_of, table, out, alpha=alpha, token=token, frames=frames))
    if handle is not None:
        def said(result: Any) -> None:
            if isinstance(result, OverlayVideo):
                session.log.info(f"wrote {result.describe()}")

        handle.result.connect(said)  # this job's result only
    return handle is not None


def area_csv_job(ws: Workspace, ref: str, out: str | Path, token: CancelToken) -> Job[Path]:
    """The area report restricted to one drive's frames (`ref`: their `FrameRecord.drive`), as CSV."""
    report = yield from build_report(ws, token=token)
    report.frames = [f for f in report.frames if f.source == ref]
    report.skipped = [s for s in report.skipped if ws.frames[s["frame"]].drive == ref]
    return write_report(report, "csv", out, ws)


def export_area_csv(session: Session, runner: JobRunner, out: str | Path) -> bool:
    """Start writing the per-frame area CSV of the current drive."""
    _src, ref = _drive(session)
    ws = session.workspace
    assert ws is not None
    handle = runner.start(f"Area CSV {Path(out).name}", lambda token: area_csv_job(ws, ref, out, token))
    return handle is not None


def _ask(win: MainWindow, title: str, name: str, filt: str) -> str:
    ws = win.session.workspace
    start = win.recent.save_start(ws.reports_dir if ws is not None else None, name)
    path, _ = QFileDialog.getSaveFileName(win, title, start, filt)
    if path:
        win.recent.set_last_dir(path, "export")
    return path


def overlay_video_dialog(win: MainWindow) -> None:
    """The overlay video of the range marked with I / O, else of the frames that hold a mask."""
    path = _ask(win, "Export the overlay video", "overlay.mp4", "Videos (*.mp4 *.avi)")
    if not path:
        return
    tl = win.timeline
    frames = None
    if tl.has_marks():
        first, last = tl.marked_range()  # type: ignore[misc]
        frames = range(first, last + 1)
    win.editing.finish()  # the stroke being painted is in the video
    try:
        export_overlay_video(win.session, win.runner, path, win.view.opacity.value() / 100, frames)
    except SegguiError as exc:
        win.log.report(exc)


def area_csv_dialog(win: MainWindow) -> None:
    path = _ask(win, "Export the per-frame area CSV", "drive-area.csv", "CSV (*.csv)")
    if path:
        win.editing.finish()  # the stroke being painted is measured too
        try:
            export_area_csv(win.session, win.runner, path)
        except SegguiError as exc:
            win.log.report(exc)
