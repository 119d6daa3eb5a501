"""The drive plot's y axes at the plot's least height: value labels never overlap, and each axis keeps
labels to read.

The real window on a short generated drive whose frames have predictions
(area growing frame by frame) and ground truth on a few, so both the area
and the IoU plot show; the Drive panel is then dragged down to its least
height (as a user drags the panel's edge), and the labels each y axis
would draw are laid out with the font's full line height.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF, QImage, QPainter

from seggui.core.masks import write_mask
from seggui.core.synth import write_drive_video

N_FRAMES, HW = 12, (120, 160)


@pytest.fixture
def measured(qtbot, window, tmp_path: Path):
    """The window on a 12-frame drive, every frame predicted, three with ground truth, all measured."""
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (*HW, 3), dtype=np.uint8) for _ in range(N_FRAMES)]
    assert window.open_path(write_drive_video(tmp_path / "clip" / "drive.mp4", frames, fps=10.0))
    s = window.session
    table = s.classes
    cid = table.scored_ids[1]
    unl = [c.id for c in table.classes if c.id not in table.scored_ids][0]
    for i, fid in enumerate(s.frame_ids):
        pred = np.full(HW, table.scored_ids[0], table.mask_dtype)
        pred[: 10 + 9 * i] = cid  # the class grows from 1600 to 17440 px: labels 0..17000 on the axis
        s.apply_prediction(fid, pred, None, "test")
        if i < 3:
            gt = np.full(HW, unl, table.mask_dtype)
            gt[: 20 + 9 * i] = cid
            s.import_mask_file(fid, write_mask(tmp_path / "gt" / f"{i}.png", gt))
    window.classes.select_class(cid)
    plot = window.drive_plot
    qtbot.waitUntil(lambda: len(plot.series()) == N_FRAMES and not plot.runner.is_running(), timeout=30000)
    qtbot.waitUntil(lambda: plot.iou_plot.isVisible(), timeout=10000)
    return window


def labels(axis) -> list[tuple[float, str]]:  # noqa: ANN001
    """(centre y in pixels, text) of each value label the axis draws at its present size."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        painter.setFont(axis.font())
        _line, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return sorted((rect.center().y(), text) for rect, _flags, text in texts)


def test_y_labels_never_overlap_at_the_least_height(qtbot, measured) -> None:
    win = measured
    plot = win.drive_plot
    least = plot.widget.minimumHeight()
    win.resizeDocks([win.drive_dock], [1], Qt.Orientation.Vertical)  # the panel's edge dragged down
    qtbot.waitUntil(lambda: plot.widget.height() == least, timeout=5000)
    qtbot.wait(100)  # the plots lay themselves out
    for item, fewest in ((plot.area_plot, 2), (plot.iou_plot, 1)):
        axis = item.getAxis("left")
        line = QFontMetricsF(axis.font()).height()
        shown = labels(axis)
        assert len(shown) >= fewest, f"{axis.labelText}: {shown} at {axis.height():.0f} px"
        gaps = [b[0] - a[0] for a, b in zip(shown, shown[1:], strict=False)]
        assert all(g >= line for g in gaps), f"{axis.labelText}: labels {shown} overlap (line {line:.1f} px)"
