"""A large GeoTIFF in the real window: File ▸ Open, wheel zoom, pan, a stroke, undo, the GeoTIFF on disk.

The orthomosaic (6000 x 6000, over the 25-Mpx threshold, no overviews of its
own) opens through the menu and shows through overviews built in the
workspace; real wheel and mouse events zoom and pan; the first brush press
makes the 4096-px cell under it the editing region (the same ground stays
under the pointer); the stroke and its undo reach the correction GeoTIFF by
its window, with the source's CRS and transform.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rasterio")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from journey import trigger, type_path_and_enter, when_dialog  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog  # noqa: E402

from seggui.core.frame_record import FrameStatus  # noqa: E402

SIDE = 6000


@pytest.fixture(scope="module")
def ortho(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seggui.core.synth.ortho import write_orthomosaic

    return write_orthomosaic(tmp_path_factory.mktemp("ortho") / "survey.tif", SIDE, tile=1024)["path"]


def wheel(canvas, pos: QPoint, notches: int) -> None:  # noqa: ANN001
    """Real wheel events on the canvas viewport, one per notch, at `pos`."""
    vp = canvas.viewport()
    for _ in range(abs(notches)):
        ev = QWheelEvent(QPointF(pos), QPointF(vp.mapToGlobal(pos)), QPoint(0, 0),
                         QPoint(0, 120 if notches > 0 else -120), Qt.MouseButton.NoButton,
                         Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(vp, ev)


def source_at(win, pos: QPoint) -> QPointF:  # noqa: ANN001
    """The orthomosaic pixel under a viewport position."""
    return win.ortho.to_source(win.view.canvas.map_to_image(QPointF(pos)))


@pytest.mark.slow
def test_orthomosaic_open_pan_zoom_paint_undo(qtbot, window, ortho: Path) -> None:
    import rasterio

    win, s = window, window.session
    canvas = win.view.canvas
    vp = canvas.viewport()
    answered = when_dialog(type_path_and_enter(ortho), QFileDialog)
    trigger(win, "open")
    assert answered == ["answered"]
    assert s.current == "survey"
    assert canvas.image_size() == (1500, 1500)  # the overview level (1/4), never the 36 Mpx picture
    assert (s.workspace.root / "overviews").is_dir()
    assert "Orthomosaic survey.tif" in win.view.hint.text()

    def shown_zoom() -> float:
        return float(win.view.zoom_label.text().rstrip("%"))

    # the zoom figure counts the orthomosaic's pixels, not its quarter-size level's (it said 4x too much)
    assert shown_zoom() == pytest.approx(100 * canvas.zoom() / 4, abs=0.6)
    centre = vp.rect().center()
    wheel(canvas, centre, 8)  # 1.25^8: about 6x the fit zoom, over a quarter of full resolution
    assert win.ortho.source_zoom() >= 0.25
    assert shown_zoom() == pytest.approx(100 * win.ortho.source_zoom(), abs=0.6)
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=centre)
    qtbot.mouseMove(vp, centre + QPoint(-60, -40))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=centre + QPoint(-60, -40))
    layer = win.ortho.layer
    qtbot.waitUntil(lambda: any(k[0] < 2 for k in layer.tiles), timeout=20000)  # finer tiles than the picture

    # the brush's first press makes the cell under it the editing region, the same ground under the pointer
    trigger(win, "tool_brush")
    cls = s.active_class
    assert cls is not None
    before = source_at(win, centre)
    a, b = centre + QPoint(-30, 0), centre + QPoint(30, 0)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=a)
    assert s.current.startswith("survey@r")
    after = source_at(win, centre)
    assert abs(after.x() - before.x()) < 2 and abs(after.y() - before.y()) < 2
    assert shown_zoom() == pytest.approx(100 * win.ortho.source_zoom(), abs=0.6)  # same view, same figure
    qtbot.mouseMove(vp, b)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=b)
    region = win.ortho.ortho.region
    r0, r1, c0, c1 = region
    assert canvas.image_size() == (c1 - c0, r1 - r0)  # full resolution, the region only
    y, x0, x1 = int(before.y()), int(source_at(win, a).x()), int(source_at(win, b).x())
    trigger(win, "save")
    win.ortho.wait_written()
    corrected = s.workspace.root / "ortho" / "survey.corrected.tif"
    with rasterio.open(corrected) as ds, rasterio.open(ortho) as src:
        assert ds.crs == src.crs and ds.transform == src.transform and (ds.width, ds.height) == (SIDE, SIDE)
        assert ds.profile["tiled"] and ds.profile["compress"] == "deflate"
        line = ds.read(1, window=rasterio.windows.Window(x0, y, x1 - x0, 1))[0]
        outside = ds.read(1, window=rasterio.windows.Window(c1 % SIDE, 0, 8, 8)) if c1 < SIDE else None
    assert (line == cls).mean() > 0.9  # the stroke, at full resolution, where it was drawn
    assert outside is None or (outside == 255).all()  # nodata outside the corrected region

    trigger(win, "undo")
    trigger(win, "save")
    win.ortho.wait_written()
    with rasterio.open(corrected) as ds:
        line = ds.read(1, window=rasterio.windows.Window(x0, y, x1 - x0, 1))[0]
    assert not (line == cls).any()
    assert np.isin(line, [c.id for c in s.classes.classes]).all()

    # the pointer readout names the orthomosaic's pixel inside a region, as on the whole
    spot = centre + QPoint(5, 7)
    with qtbot.waitSignal(canvas.pixelHovered):
        qtbot.mouseMove(vp, spot)
    at = source_at(win, spot)
    assert win.view.readout.text().startswith(f"x {int(at.x())}, y {int(at.y())}")

    # zooming well out of the region comes back to the whole orthomosaic, the view kept
    wheel(canvas, centre, -12)
    qtbot.waitUntil(lambda: s.current == "survey", timeout=5000)
    assert win.ortho.ortho.region is None
    with qtbot.waitSignal(canvas.pixelHovered):
        qtbot.mouseMove(vp, spot + QPoint(1, 0))
    xy = win.view.readout.text().split("  ·  ")[0]
    at = source_at(win, spot + QPoint(1, 0))
    x, y = (int(v.split()[1]) for v in xy.split(", "))
    assert abs(x - at.x()) <= 4 and abs(y - at.y()) <= 4  # a level pixel is 4 source pixels here
    trigger(win, "one")  # View ▸ Actual size: one orthomosaic pixel per screen pixel
    assert win.ortho.source_zoom() == pytest.approx(1.0) and shown_zoom() == 100


@pytest.mark.slow
def test_run_on_an_orthomosaic_predicts_it_by_blocks_in_the_background(qtbot, window, ortho: Path,
                                                                       tmp_path: Path) -> None:
    import rasterio

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "geo"))
    from geo_helpers import tiny_onnx

    from seggui.engine.onnx_meta import card_from_onnx

    win, s = window, window.session
    answered = when_dialog(type_path_and_enter(ortho), QFileDialog)
    trigger(win, "open")
    assert answered == ["answered"] and s.current == "survey"
    win.inference.set_card(card_from_onnx(tiny_onnx(tmp_path / "tiny.onnx", tiles_size=512)))
    failed: list[str] = []
    win.runner.failed.connect(lambda message, _details: failed.append(message))
    with qtbot.waitSignal(win.runner.idle, timeout=300000):
        trigger(win, "run")
    assert not failed
    assert not (s.workspace.root / "predicted" / "survey.png").exists()  # never predicted whole
    out = s.workspace.root / "ortho" / "survey.predicted.tif"
    with rasterio.open(out) as ds, rasterio.open(ortho) as src:
        assert ds.crs == src.crs and ds.transform == src.transform and ds.overviews(1)
        block = ds.read(1, window=rasterio.windows.Window(2000, 3000, 256, 256))
    assert set(np.unique(block)) <= {0, 1, 2}
    assert s.classes.name_of(1) == "parking"  # the workspace took the model's classes
    qtbot.waitUntil(lambda: any(mask is not None for _rgb, mask in win.ortho.layer.tiles.values()),
                    timeout=20000)  # the tiles show the prediction
    # the picture list, the status bar and the record say it is predicted, and by whom
    card = win.inference.card
    assert s.record("survey").status == FrameStatus.PREDICTED and s.record("survey").model == card.ref
    qtbot.waitUntil(lambda: win.frames._items["survey"].text(1) == "predicted", timeout=5000)  # noqa: SLF001
    assert "ONNX Runtime" in win.model_label.text() and "loads on first run" not in win.model_label.text()
