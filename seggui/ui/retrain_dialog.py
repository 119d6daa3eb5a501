"""The Retrain panel's Advanced dialog: time budget, epochs, learning rate, batch and the base dataset.

Kept apart from the panel so each module holds one concept: this one is the
form and its defaults (those of `plan_retrain`, safe for a non-expert), the
panel is the retrain -> compare -> promote flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from seggui.training.retrain_budget import BUDGET_MIN_STEPS, DEFAULT_BUDGET_S  # plain numbers: no torch

# those of plan_retrain: safe for a non-expert; no base set unless the analyst names one
DEFAULTS = {"epochs": None, "lr": 1e-3, "batch": 4, "base": None, "base_layout": "auto", "base_share": 0.5,
            "time_budget_s": DEFAULT_BUDGET_S}


def base_text(settings: dict[str, Any]) -> str:
    """The base set of the settings in a few words ("" when none)."""
    if not settings.get("base"):
        return ""
    return f"base set {Path(settings['base']).name} ({settings['base_layout']}, {settings['base_share']:.0%})"


class AdvancedDialog(QDialog):
    """Time budget, epochs, learning rate, batch size and the base dataset of the next retrain.

    The time budget stops the training after that many seconds (the best
    epoch so far is kept); 0 means no limit: the epochs run to the end.

    The base dataset (a labelled folder with the model's classes) is mixed
    into every epoch so the model does not forget what it knew while it
    learns the corrections; empty means corrections only.
    """

    def __init__(self, settings: dict[str, Any], parent: QWidget | None = None) -> None:
        from seggui.training.layouts import LAYOUTS  # no torch: names only

        super().__init__(parent)
        self.setWindowTitle("Retrain settings")
        self.budget = QSpinBox()
        self.budget.setRange(0, 24 * 3600)
        self.budget.setSuffix(" s")
        self.budget.setSpecialValueText("no limit")  # 0: the planned epochs run to the end
        self.budget.setValue(int(settings.get("time_budget_s") or 0))
        self.budget.setToolTip("Training stops after this many seconds and keeps its best epoch so far")
        self.epochs = QSpinBox()
        self.epochs.setRange(0, 1000)
        self.epochs.setSpecialValueText(f"auto ({BUDGET_MIN_STEPS} passes; 40 steps with no limit)")
        self.epochs.setValue(int(settings["epochs"] or 0))
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setSingleStep(1e-5)
        self.lr.setValue(float(settings["lr"]))
        self.batch = QSpinBox()
        self.batch.setRange(1, 256)
        self.batch.setValue(int(settings["batch"]))
        self.base = QLineEdit(str(settings.get("base") or ""))
        self.base.setPlaceholderText("none: learn from the corrections only")
        self.base.setMinimumWidth(300)  # a folder path and the placeholder stay readable
        self.base.setToolTip("A labelled dataset with the model's classes, mixed into every epoch so the "
                             "model keeps what it knew; it never validates")
        self.choose_base = QPushButton("Choose…")
        self.choose_base.clicked.connect(self._choose_base)
        self.clear_base = QPushButton("Clear")
        self.clear_base.clicked.connect(self.base.clear)
        self.base_layout = QComboBox()
        self.base_layout.addItems(["auto", *LAYOUTS])
        self.base_layout.setCurrentText(str(settings.get("base_layout") or "auto"))
        self.base_share = QDoubleSpinBox()
        self.base_share.setDecimals(2)
        self.base_share.setRange(0.05, 0.95)
        self.base_share.setSingleStep(0.05)
        self.base_share.setValue(float(settings.get("base_share") or 0.5))
        self.base_share.setToolTip("Share of each epoch's samples taken from the base dataset; every "
                                   "correction is still seen once per epoch")
        row = QHBoxLayout()
        row.addWidget(self.base, 1)
        row.addWidget(self.choose_base)
        row.addWidget(self.clear_base)
        form = QFormLayout(self)
        form.addRow("Time budget", self.budget)
        form.addRow("Epochs", self.epochs)
        form.addRow("Learning rate", self.lr)
        form.addRow("Batch size", self.batch)
        form.addRow("Base dataset", row)
        form.addRow("Base layout", self.base_layout)
        form.addRow("Base share", self.base_share)
        self.base.textChanged.connect(self._enable_base)
        self._enable_base()
        ok, cancel = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok | cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _choose_base(self) -> None:
        start = self.base.text() or str(Path.home())
        path = QFileDialog.getExistingDirectory(self, "Base dataset (pictures and masks with the model's "
                                                "classes)", start)
        if path:
            self.base.setText(path)

    def _enable_base(self) -> None:
        on = bool(self.base.text().strip())
        for w in (self.base_layout, self.base_share, self.clear_base):
            w.setEnabled(on)

    def values(self) -> dict[str, Any]:
        return {"epochs": self.epochs.value() or None, "lr": self.lr.value(), "batch": self.batch.value(),
                "base": self.base.text().strip() or None, "base_layout": self.base_layout.currentText(),
                "base_share": round(self.base_share.value(), 2),
                "time_budget_s": float(self.budget.value()) or None}
