"""The job panel: what runs in the background, how far it got, and a Cancel button.

It binds to one `JobRunner` and shows its title, a progress bar, the last
item message and an error count; item errors go to the message log so the
analyst can read them after the run, while the job carries on.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from seggui.core.jobs import Progress
from seggui.ui.messages import MessageLog
from seggui.ui.runner import JobRunner


class JobPanel(QWidget):
    """A compact row (fits the status bar): title, progress bar, Cancel."""

    def __init__(self, runner: JobRunner, log: MessageLog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.log = log
        self.errors = 0
        self.title = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setMinimumWidth(140)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the background job after the current picture")
        self.cancel_button.clicked.connect(self._on_cancel)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        runner.started.connect(self._on_started)
        runner.progress.connect(self._on_progress)
        runner.finished.connect(lambda _result: self._on_end("done"))
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(lambda: self._on_end("cancelled"))
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.bar.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)

    def _on_started(self, title: str) -> None:
        self.errors = 0
        self.title.setText(title)
        self.bar.setRange(0, 0)  # busy until the first progress tells the total
        self._set_running(True)

    def _on_progress(self, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, p.total)
            self.bar.setValue(p.done)
            self.bar.setFormat(f"{p.done}/{p.total}")
        if p.error:
            self.errors += 1
            self.log.error(p.error)
        suffix = f" · {self.errors} failed" if self.errors else ""
        text = p.message or p.item or ""
        self.title.setText(f"{self.runner.title}: {text}{suffix}" if text else self.runner.title + suffix)

    def _on_cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.title.setText(f"{self.runner.title}: cancelling…")
        self.runner.cancel()

    def _on_failed(self, message: str, details: str) -> None:
        self.log.error(f"{self.runner.title} failed: {message}", details)
        self._on_end("failed")

    def _on_end(self, how: str) -> None:
        self._set_running(False)
        suffix = f", {self.errors} failed" if self.errors else ""
        self.title.setText(f"{self.runner.title}: {how}{suffix}")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def forget_finished(self) -> None:
        """Another workspace opened: the last job's "…: done" was the old one's news (kept in Messages)."""
        if not self.runner.is_running():
            self.title.setText("")
