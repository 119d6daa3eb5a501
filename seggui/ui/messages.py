"""Non-blocking messages: a log every part of the window writes to, and its dock.

A bad file must never stop the analyst with a modal dialog in the middle of a
drive: errors (each naming its file, see `BadInputError`) go to the status bar
for a few seconds and stay listed in the Messages dock, with any traceback as
the entry's tooltip for bug reports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStatusBar,
    QStyle,
    QVBoxLayout,
    QWidget,
)

LEVELS = ("info", "warning", "error")


@dataclass(frozen=True)
class Message:
    """One entry: when, how serious, the text a user reads, and optional details."""

    when: float
    level: str
    text: str
    details: str = ""


class MessageLog(QObject):
    """The window's message list; `added(Message)` fires for each entry."""

    added = Signal(object)
    cleared = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[Message] = []

    def add(self, level: str, text: str, details: str = "") -> Message:
        if level not in LEVELS:
            raise ValueError(f"unknown message level {level!r}")
        msg = Message(time.time(), level, text, details)
        self.entries.append(msg)
        self.added.emit(msg)
        return msg

    def info(self, text: str) -> Message:
        return self.add("info", text)

    def warning(self, text: str) -> Message:
        return self.add("warning", text)

    def error(self, text: str, details: str = "") -> Message:
        return self.add("error", text, details)

    def report(self, exc: BaseException) -> Message:
        """An exception as an error entry (its message already names the file)."""
        return self.error(str(exc) or type(exc).__name__)

    def clear(self) -> None:
        self.entries.clear()
        self.cleared.emit()

    def errors(self) -> list[Message]:
        return [m for m in self.entries if m.level == "error"]


class MessagesWidget(QWidget):
    """The Messages dock's content: newest entry last, with an icon per level."""

    countChanged = Signal(int)

    def __init__(self, log: MessageLog, status_bar: QStatusBar | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.log = log
        self.status_bar = status_bar
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        clear = QPushButton("Clear")
        clear.clicked.connect(log.clear)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(clear)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.list)
        lay.addLayout(row)
        style = self.style()
        self._icons = {
            "info": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation),
            "warning": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
            "error": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
        }
        log.added.connect(self._on_added)
        log.cleared.connect(self._on_cleared)
        for msg in log.entries:
            self._on_added(msg)

    def _on_added(self, msg: Message) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(msg.when))
        item = QListWidgetItem(self._icons[msg.level], f"{stamp}  {msg.text}")
        item.setData(Qt.ItemDataRole.UserRole, msg)
        item.setToolTip(msg.details or msg.text)
        self.list.addItem(item)
        self.list.scrollToBottom()
        if self.status_bar is not None and msg.level != "info":
            self.status_bar.showMessage(f"{msg.level.capitalize()}: {msg.text}", 10000)
        self.countChanged.emit(self.list.count())

    def _on_cleared(self) -> None:
        self.list.clear()
        self.countChanged.emit(0)

    def texts(self) -> list[str]:
        """The shown entries' texts (without time stamps), oldest first."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole).text for i in range(self.list.count())]
