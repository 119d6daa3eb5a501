"""Which class table a folder's ground truth is drawn in, asked when the folder carries none.

A folder of pictures with a mask folder beside it but no `classes.json`
gives no way to know what the mask ids mean: aerial masks read as CamVid's
driving classes would be nonsense. The window asks once, when the folder
is first opened: a preset, or a class table file. The presets that cannot hold the ids
of the first masks are marked, and the dialog starts on the default preset when it fits
them (what "Later" keeps too, said in Messages), else on one that does; a model's classes
are taken when it runs.
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
from seggui.core.truth_tables import fitting_presets, mask_ids


def describe_ids(ids: set[int]) -> str:
    """"0–11" for a run of ids, else the ids themselves (the first dozen)."""
    ordered = sorted(ids)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 2:
        return f"{ordered[0]}–{ordered[-1]}"
    return ", ".join(map(str, ordered[:12])) + (", …" if len(ordered) > 12 else "")


class ClassTableDialog(QDialog):
    """A preset or a class table file for ground truth found without one."""

    def __init__(self, truth: Path, parent: QWidget | None = None, default: str = "camvid-11") -> None:
        super().__init__(parent)
        self.setWindowTitle("Class table of the ground truth")
        ids = mask_ids(truth)
        fits = fitting_presets(ids)
        if ids is None:
            seen = ""
        elif fits:
            seen = f" The first masks hold ids {describe_ids(ids)}; presets with them all: {', '.join(fits)}."
        else:
            seen = (f" The first masks hold ids {describe_ids(ids)}, which no preset holds all of: choose "
                    "a class table file.")
        text = QLabel(f"The masks in {truth} come with no class table (classes.json), so their ids mean "
                      "nothing yet. Choose the table they are drawn in: a preset, or a class table file."
                      + seen)
        text.setWordWrap(True)
        self.presets = QComboBox()
        for name in list_presets():
            self.presets.addItem(name if name in fits else f"{name} (does not hold those ids)", name)
        start = default if default in fits else (fits[0] if fits else default)
        self.presets.setCurrentIndex(max(0, self.presets.findData(start)))
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
            self.table = load_classes(self.file.text().strip() or self.presets.currentData())
        except BadInputError as exc:  # a bad file is said here; the dialog stays open
            self.error.setText(str(exc))
            return
        self.accept()

    @classmethod
    def ask(cls, truth: Path, parent: QWidget | None = None, default: str = "camvid-11") -> ClassTable | None:
        dialog = cls(truth, parent, default)
        return dialog.table if dialog.exec() == QDialog.DialogCode.Accepted else None
