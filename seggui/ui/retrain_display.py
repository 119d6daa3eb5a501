"""What the Retrain panel shows: the comparison table's rows and cells, and the names of versions.

Kept apart from the panel (seggui.ui.retrain_panel), which chains the jobs: this module only shows
what `seggui.training.retrain_versions.compare_models` measured and names versions the way the model
box and the status bar do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from seggui.core.errors import SegguiError
from seggui.core.frame_record import count_records
from seggui.core.workspace import FrameStatus, Workspace
from seggui.engine.card import ModelCard

IN_USE = " · in use"


def shown(ref: str) -> str:
    """A version as the model box and the status bar name it: "parking-demo v3", not "parking-demo@3"."""
    name, _, version = ref.rpartition("@")
    return f"{name} v{version}" if name and version.isdigit() else ref


def shown_dir(card_dir: Path) -> str:
    """`shown` for a card folder (its name, "parking-demo-v3", when its card cannot be read)."""
    try:
        return shown(ModelCard.load(card_dir).ref)
    except SegguiError:
        return Path(card_dir).name


def fmt(x: float | None, sign: bool = False) -> str:
    """A ratio in the comparison table; an en dash where the class never occurs."""
    if x is None:
        return "–"
    if sign and round(x, 3) == 0:
        return "±0.000"  # not "-0.000" for a change that rounds to nothing
    return f"{x:+.3f}" if sign else f"{x:.3f}"


def comparison_rows(cmp: Any) -> list[tuple[str, Any, Any, Any]]:
    """(name, current, new, change) per class, the mIoU, and the parking class's |O Δ E| when measured."""
    rows: list[tuple[str, Any, Any, Any]] = [(r.name, r.old_iou, r.new_iou, r.delta) for r in cmp.rows]
    rows.append(("mIoU", cmp.old_miou, cmp.new_miou, cmp.miou_delta))
    if cmp.parking:
        p = cmp.parking
        rows.append((f"{p['class']} |O Δ E| px", p["old_px"], p["new_px"], p["new_px"] - p["old_px"]))
        if p.get("old_m2") is not None:
            rows.append((f"{p['class']} |O Δ E| m²", p["old_m2"], p["new_m2"], p["new_m2"] - p["old_m2"]))
    return rows


def fill_table(table: QTableWidget, rows: list[tuple[str, Any, Any, Any]]) -> None:
    """The rows into the table, each number kept in its cell's UserRole beside the text shown."""
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        table.setItem(i, 0, QTableWidgetItem(row[0]))
        for col, value in enumerate(row[1:], start=1):
            text = str(value) if isinstance(value, int) else fmt(value, sign=col == 3)
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(i, col, item)


def table_rows(table: QTableWidget) -> list[tuple[str, Any, Any, Any]]:
    """What the table shows (numbers as stored in the cells): for tests and copying."""
    return [(table.item(r, 0).text(), *(table.item(r, c).data(Qt.ItemDataRole.UserRole) for c in (1, 2, 3)))
            for r in range(table.rowCount())]


def ready_text(ws: Workspace) -> str:
    """What a retrain would learn from, said while nothing runs: pictures as pictures, frames as frames."""
    taught = [ws.frames[f] for f in ws.frames_with_status(FrameStatus.CORRECTED, FrameStatus.REVIEWED)]
    waiting = len(ws.frames_with_status(FrameStatus.PROPAGATED))  # not trained on until reviewed
    tail = (f" {waiting} propagated frame{'s are' if waiting != 1 else ' is'} left out until reviewed."
            if waiting else "")
    return (f"{count_records(taught)} corrected or reviewed: ready to retrain." if taught
            else "Correct some masks, then retrain.") + tail
