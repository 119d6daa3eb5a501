"""The Retrain panel's chart: the run's curves on one mIoU axis, and the comparison's figures beside them.

Kept apart from the panel (seggui.ui.retrain_panel), which chains the jobs: this module only draws
what the epoch records and the comparison already say.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt


def new_plot() -> Any:
    """A white plot with a legend readable over the curves (the loss starts at 1.0, under it)."""
    plot = pg.PlotWidget(background="w")
    plot.setMenuEnabled(False)
    plot.addLegend(offset=(5, 5), brush=pg.mkBrush(255, 255, 255, 235), labelTextColor=(40, 40, 40))
    plot.setLabel("bottom", "epoch")
    plot.setMinimumHeight(110)
    return plot


def draw_curves(plot: Any, epochs: list[dict[str, Any]], comparison: Any) -> None:
    """Redraw: loss relative to epoch 1's, validation mIoU per epoch, and the table's two mIoUs.

    The comparison's figures are drawn as dashed lines so chart and table say the same; the loss is
    divided by its first epoch's so it fits the mIoU axis (0..1).
    """
    plot.clear()
    xs = [float(e["epoch"]) for e in epochs]
    if comparison is not None and xs:
        for value, name, color in ((comparison.old_miou, "current model mIoU (table)", (120, 120, 120)),
                                   (comparison.new_miou, "new model mIoU (table)", (20, 150, 60))):
            if value is not None:
                plot.plot([0.0, max(xs)], [value, value], name=name,
                          pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine))
    first_loss = next((float(e["train_loss"]) for e in epochs if e.get("train_loss")), None)
    for key, name, color in (("train_loss", "loss ÷ epoch 1's", (200, 60, 40)),
                             ("miou", "val mIoU while training (crops)", (40, 90, 200))):
        scale = first_loss if key == "train_loss" and first_loss else 1.0
        pts = [(x, float(e[key]) / scale) for x, e in zip(xs, epochs, strict=True) if e.get(key) is not None]
        if pts:
            plot.plot([a for a, _b in pts], [b for _a, b in pts], name=name,
                      pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5, symbolBrush=color)
    plot.setLabel("left", "mIoU")
    plot.setYRange(0.0, 1.05, padding=0)
    if xs:
        plot.setXRange(0.0, max(xs), padding=0.05)
        plot.getAxis("bottom").setTickSpacing(max(1, round(max(xs) / 8)), 1)  # whole epochs
