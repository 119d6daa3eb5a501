"""File ▸ Export ▸ Area report: the workspace's report (HTML, CSV or JSON) as a background job.

The same core code as `seggui report` builds and writes it, so the window's
file and the command line's carry the same numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from seggui.core.errors import BadInputError, SegguiError
from seggui.core.jobs import CancelToken, Job
from seggui.core.report import build_report
from seggui.core.report_formats import FORMATS, write_report
from seggui.core.workspace import Workspace
from seggui.ui.runner import JobRunner
from seggui.ui.session import Session

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.main_window import MainWindow


def report_job(ws: Workspace, out: Path, fmt: str, token: CancelToken) -> Job[Path]:
    report = yield from build_report(ws, token=token)
    return write_report(report, fmt, out, ws)


def export_report(session: Session, runner: JobRunner, out: str | Path) -> bool:
    """Start writing the area report; the format follows the suffix (.html, .csv, .json)."""
    ws = session.workspace
    out = Path(out)
    if ws is None:
        raise BadInputError(None, "open pictures or a workspace first")
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise BadInputError(out, f"choose a .html, .csv or .json file, not {out.suffix or 'no suffix'}")
    return runner.start(f"Area report {out.name}", lambda token: report_job(ws, out, fmt, token)) is not None


def report_dialog(win: MainWindow) -> None:
    ws = win.session.workspace
    start = win.recent.save_start(ws.reports_dir if ws is not None else None, "area-report.html")
    path, _ = QFileDialog.getSaveFileName(win, "Export the area report", start,
                                          "Report (*.html *.csv *.json)")
    if path:
        win.recent.set_last_dir(path, "export")
        win.editing.finish()  # the stroke being painted, still inside the autosave delay, is in the report
        try:
            export_report(win.session, win.runner, path)
        except SegguiError as exc:
            win.log.report(exc)
