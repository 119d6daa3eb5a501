"""The model picker: shipped and user model cards, plus any card the user opens.

Listing cards reads only their `model.json` files (no torch), so it is cheap;
the chosen card's network loads on the first run, off the UI thread. A card
that cannot be read is reported by file name and left out of the list; the
others stay usable.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from seggui.core.errors import SegguiError
from seggui.engine.card import ModelCard, find_models, resolve_model
from seggui.ui.inference import Inference
from seggui.ui.messages import MessageLog


class ModelPicker(QWidget):
    """A combo box of model cards bound to `Inference.card`."""

    cardChosen = Signal(object)

    def __init__(self, inference: Inference, log: MessageLog, dirs: list[Path] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inference = inference
        self.log = log
        self.dirs = dirs
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(18)
        self.combo.setMaximumWidth(300)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setToolTip("The model that Run uses (shipped, user and opened model cards)")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Model:"))
        lay.addWidget(self.combo)
        self.combo.currentIndexChanged.connect(self._on_index)
        inference.modelChanged.connect(self._sync)

    def scan(self) -> None:
        """List the cards in the model folders (unreadable ones go to Messages)."""
        cards, problems = find_models(self.dirs)
        for exc in problems:
            self.log.report(exc)
        keep = self.inference.card
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem("(no model)", None)
        for card in sorted(cards, key=lambda c: (c.name, c.version)):
            self._add(card)
        self.combo.blockSignals(False)
        if keep is not None:
            self._add(keep)
        self._sync()

    def _add(self, card: ModelCard) -> int:
        for i in range(self.combo.count()):
            other = self.combo.itemData(i)
            if other is not None and other.folder == card.folder and other.ref == card.ref:
                return i
        self.combo.addItem(f"{card.name} v{card.version}", card)
        i = self.combo.count() - 1
        self.combo.setItemData(i, f"{card.description or card.name}\n{card.folder}", 3)  # tooltip role
        return i

    def open_card(self, path: str | Path) -> ModelCard | None:
        """Add a card from a folder, model.json or .onnx file and choose it; errors name the file."""
        try:
            card = resolve_model(Path(path))
            card.classes  # noqa: B018 - a card whose class table does not fit is refused now
        except (SegguiError, OSError, ValueError) as exc:
            self.log.report(exc)
            return None
        self.combo.setCurrentIndex(self._add(card))
        return card

    def _on_index(self, index: int) -> None:
        card = self.combo.itemData(index)
        self.inference.set_card(card)
        self.cardChosen.emit(card)

    def _sync(self) -> None:
        card = self.inference.card
        index = 0 if card is None else self._add(card)
        if self.combo.currentIndex() != index:
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(index)
            self.combo.blockSignals(False)
