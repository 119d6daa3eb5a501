"""The class map dialog: which model class each ground-truth class counts as.

Shown when a model whose classes differ from the ground truth's runs on a
workspace (prefilled with `seggui.core.class_map.suggest`), and from
Model ▸ Class map… at any time. One row per ground-truth class, with its
colour and a choice of model class or "not scored"; what the map means for
the figures (a model class nothing maps to) is said under the table as the
analyst edits. The dialog only builds a `ClassMap`; the session applies it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seggui.core.class_map import ClassMap

NOT_SCORED = "— not scored —"


class ClassMapDialog(QDialog):
    """Edit a class map between a ground-truth table and a model's table."""

    def __init__(self, suggested: ClassMap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classMapDialog")
        self.suggested = suggested
        gt, model = suggested.gt, suggested.model
        self.setWindowTitle(f"Class map: {gt.name} ground truth → {model.name} model")
        intro = QLabel(f"The ground truth is drawn in the {gt.name} classes, the model predicts "
                       f"{model.name}. Say which model class each ground-truth class counts as; metrics, "
                       "the error view, areas, reports and retraining all use this map. It was suggested "
                       "by name: check it.")
        intro.setWordWrap(True)
        self.table = QTableWidget(len(gt.classes), 2, self)
        self.table.setHorizontalHeaderLabels(["Ground-truth class", "counts as model class"])
        self.table.verticalHeader().setVisible(False)
        self.combos: dict[str, QComboBox] = {}
        choices = [c.name for c in model.classes if c.id != model.ignore_index] + [NOT_SCORED]
        # the rows that matter first: classes matched by name, then those left to the catch-all class
        counts: dict[int | None, int] = {}
        for c in gt.classes:
            counts[suggested.target(c.id)] = counts.get(suggested.target(c.id), 0) + 1
        order = sorted(gt.classes, key=lambda c: counts[suggested.target(c.id)])
        for row, c in enumerate(order):
            swatch = QPixmap(12, 12)
            swatch.fill(QColor(*c.color))
            item = QTableWidgetItem(c.name)
            item.setIcon(swatch)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)  # the names are the file's
            self.table.setItem(row, 0, item)
            combo = QComboBox()
            combo.addItems(choices)
            target = suggested.target(c.id)
            combo.setCurrentText(NOT_SCORED if target is None else model.name_of(target))
            combo.currentIndexChanged.connect(self._update)
            self.table.setCellWidget(row, 1, combo)
            self.combos[c.name] = combo
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setObjectName("classMapNotes")
        ok, cancel = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok | cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes)
        layout.addWidget(buttons)
        self.resize(600, min(560, 200 + 30 * len(gt.classes)))
        self._update()

    def set_target(self, gt_name: str, model_name: str | None) -> None:
        """Choose the model class of one ground-truth class (None: not scored), as the combo does."""
        self.combos[gt_name].setCurrentText(NOT_SCORED if model_name is None else model_name)

    def class_map(self) -> ClassMap:
        """The map as the rows now say."""
        gt, model = self.suggested.gt, self.suggested.model
        pairs: dict[int, int | None] = {}
        for c in gt.classes:
            text = self.combos[c.name].currentText()
            pairs[c.id] = None if text == NOT_SCORED else model.find(text).id
        return ClassMap(gt, model, pairs)

    def _update(self) -> None:
        cmap = self.class_map()
        problems = cmap.problems()
        self.notes.setText("\n".join(problems) if problems else cmap.describe().replace("; ", "\n"))
        self.notes.setStyleSheet("color: #b35c00;" if problems else "")

    @classmethod
    def ask(cls, suggested: ClassMap, parent: QWidget | None = None) -> ClassMap | None:
        """Show the dialog modally; the confirmed map, or None when the analyst cancels."""
        dialog = cls(suggested, parent)
        return dialog.class_map() if dialog.exec() == QDialog.DialogCode.Accepted else None
