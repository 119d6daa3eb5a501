"""Small bridges between numpy arrays and Qt images, and colour swatches.

QImage does not own a numpy buffer it wraps, so every conversion here copies
into Qt-owned memory: a pixmap stays valid after the array is gone.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """An (H, W, 3) uint8 RGB array as a Qt-owned QImage."""
    arr = np.ascontiguousarray(rgb, np.uint8)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """An (H, W, 4) uint8 RGBA array (straight alpha) as a Qt-owned QImage."""
    arr = np.ascontiguousarray(rgba, np.uint8)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def qimage_to_rgba(image: QImage) -> np.ndarray:
    """A QImage as an (H, W, 4) uint8 RGBA array (used by tests and screenshots)."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h)
    return buf.reshape(h, img.bytesPerLine())[:, : 4 * w].reshape(h, w, 4).copy()


def swatch_icon(rgb: tuple[int, int, int], size: int = 14, round_: bool = False) -> QIcon:
    """A filled square (or dot) icon of one colour, outlined so black and white show."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, round_)
    p.setPen(QColor(110, 110, 110))
    p.setBrush(QColor(*rgb))
    if round_:
        p.drawEllipse(1, 1, size - 2, size - 2)
    else:
        p.drawRect(0, 0, size - 1, size - 1)
    p.end()
    return QIcon(pm)


def status_dot_icon(rgb: tuple[int, int, int], size: int = 12) -> QIcon:
    """A coloured dot that stays visible on a selected row.

    Qt paints a selected row's icon in its Selected mode, which tints it with
    the highlight, and a plain dot of a blue status on the blue highlight is
    lost either way. So the Selected mode has its own picture: the same
    colour, untinted, inside a white ring that sets it off from any highlight.
    """
    icon = swatch_icon(rgb, size, round_=True)
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(QColor(110, 110, 110))
    p.setBrush(QColor(255, 255, 255))
    p.drawEllipse(QRectF(0.5, 0.5, size - 1, size - 1))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(*rgb))
    p.drawEllipse(QRectF(2, 2, size - 4, size - 4))
    p.end()
    icon.addPixmap(pm, QIcon.Mode.Selected)
    return icon


def figures_table(headers: list[str]) -> QTableWidget:
    """A read-only, compact table of figures: first column stretches, the others fit their numbers."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(21)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for col in range(1, len(headers)):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    return table
