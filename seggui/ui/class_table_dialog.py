"""Which class table a folder's ground truth is drawn in, asked when the folder carries none.

A folder of pictures with a mask folder beside it but no `classes.json`
gives no way to know what the mask ids mean: aerial masks read as CamVid's
driving classes would be nonsense. The window asks once, when the folder
is first opened: a preset, or a class table file. "Later" keeps the default
preset for now (said in Messages); a model's classes are taken when it runs.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seggui.core.classes import ClassTable, list_presets, load_classes
from seggui.core.errors import BadInputError


class ClassTableDialog(QDialog):
    """A preset or a class table file for ground truth found without one."""

    def __init__(self, truth: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Class table of the ground truth")
        text = QLabel(f"The masks in {truth} come with no class table (classes.json), so their ids mean "
                      "nothing yet. Choose the table they are drawn in: a preset, or a class table file.")
        text.setWordWrap(True)
        self.presets = QComboBox()
        self.presets.addItems(list_presets())
        self.file = QLineEdit()
        self.file.setPlaceholderText("or a class table file (JSON)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(browse)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        std = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(std.Ok | std.Cancel)
        buttons.button(std.Cancel).setText("Later")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (text, self.presets):
            lay.addWidget(w)
        lay.addLayout(row)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.table: ClassTable | None = None

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Class table", "", "Class tables (*.json)")
        if path:
            self.file.setText(path)

    def _accept(self) -> None:
        try:
            self.table = load_classes(self.file.text().strip() or self.presets.currentText())
        except BadInputError as exc:  # a bad file is said here; the dialog stays open
            self.error.setText(str(exc))
            return
        self.accept()

    @classmethod
    def ask(cls, truth: Path, parent: QWidget | None = None) -> ClassTable | None:
        dialog = cls(truth, parent)
        return dialog.table if dialog.exec() == QDialog.DialogCode.Accepted else None
