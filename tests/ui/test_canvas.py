"""The canvas with real wheel, mouse and key events: zoom to cursor, pan, readout, layers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from seggui.ui.canvas import Canvas
from seggui.ui.qtutil import qimage_to_rgba


@pytest.fixture
def canvas(qtbot) -> Canvas:
    c = Canvas()
    qtbot.addWidget(c)
    c.resize(400, 300)
    c.show()
    qtbot.waitExposed(c)
    rng = np.random.default_rng(0)
    c.set_image(rng.integers(0, 255, (80, 100, 3), dtype=np.uint8))
    return c


def wheel(canvas: Canvas, pos: QPoint, notches: float) -> None:
    vp = canvas.viewport()
    event = QWheelEvent(QPointF(pos), QPointF(vp.mapToGlobal(pos)), QPoint(0, 0),
                        QPoint(0, int(120 * notches)), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, event)


def inner_point(canvas: Canvas, start: QPoint) -> QPoint:
    """A viewport point near `start` whose image position is well inside a pixel (not on an edge)."""
    for dx in range(12):
        for dy in range(12):
            p = start + QPoint(dx, dy)
            ip = canvas.map_to_image(p)
            fx, fy = ip.x() - math.floor(ip.x()), ip.y() - math.floor(ip.y())
            if 0.3 < fx < 0.7 and 0.3 < fy < 0.7:
                return p
    raise AssertionError("no point inside a pixel found")


def test_fit_shows_the_whole_picture_centred(canvas: Canvas) -> None:
    assert canvas.zoom() == pytest.approx(min(400 / 100, 300 / 80))
    centre = canvas.map_to_image(QPointF(canvas.viewport().rect().center()))
    assert centre.x() == pytest.approx(50, abs=0.5) and centre.y() == pytest.approx(40, abs=0.5)


@pytest.mark.parametrize("start", [QPoint(90, 70), QPoint(300, 200), QPoint(210, 140)])
def test_wheel_zoom_keeps_the_pixel_under_the_cursor(canvas: Canvas, start: QPoint) -> None:
    pos = inner_point(canvas, start)
    before = canvas.pixel_at(pos)
    z0 = canvas.zoom()
    for notches in (1, 2, 1, -1, 3):
        image_before = canvas.map_to_image(pos)
        wheel(canvas, pos, notches)
        after = canvas.map_to_image(pos)
        assert abs(after.x() - image_before.x()) <= 0.5 / canvas.zoom() + 1e-9
        assert abs(after.y() - image_before.y()) <= 0.5 / canvas.zoom() + 1e-9
        assert canvas.pixel_at(pos) == before
    assert canvas.zoom() == pytest.approx(z0 * 1.25 ** 6)


def test_zoom_is_bounded(canvas: Canvas) -> None:
    for _ in range(40):
        wheel(canvas, QPoint(200, 150), 3)
    assert canvas.zoom() == pytest.approx(64.0)
    for _ in range(40):
        wheel(canvas, QPoint(200, 150), -3)
    assert canvas.zoom() == pytest.approx(0.25 * canvas.fit_zoom())


def test_middle_button_and_space_drag_pan(qtbot, canvas: Canvas) -> None:
    vp = canvas.viewport()
    wheel(canvas, QPoint(200, 150), 2)
    a, b = QPoint(150, 120), QPoint(190, 95)
    under_a = canvas.map_to_image(a)
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=a)
    qtbot.mouseMove(vp, QPoint(170, 110))
    qtbot.mouseMove(vp, b)
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=b)
    moved = canvas.map_to_image(b)
    assert moved.x() == pytest.approx(under_a.x()) and moved.y() == pytest.approx(under_a.y())

    # Space held + left drag pans the same way; left drag without Space does not
    c, d = QPoint(100, 100), QPoint(60, 140)
    under_c = canvas.map_to_image(c)
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=c)
    qtbot.mouseMove(vp, d)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=d)
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.map_to_image(d).x() == pytest.approx(under_c.x())
    assert canvas.map_to_image(d).y() == pytest.approx(under_c.y())
    still = canvas.map_to_image(d)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=d)
    qtbot.mouseMove(vp, c)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=c)
    assert canvas.map_to_image(d) == still


def test_actual_size_and_fit(canvas: Canvas) -> None:
    canvas.actual_size()
    assert canvas.zoom() == pytest.approx(1.0)
    canvas.fit()
    assert canvas.zoom() == pytest.approx(canvas.fit_zoom())


def test_hover_emits_image_pixel(qtbot, canvas: Canvas) -> None:
    vp = canvas.viewport()
    pos = inner_point(canvas, QPoint(200, 150))
    with qtbot.waitSignal(canvas.pixelHovered) as blocker:
        qtbot.mouseMove(vp, pos)
    assert tuple(blocker.args) == canvas.pixel_at(pos)
    with qtbot.waitSignal(canvas.pixelHovered) as blocker:
        qtbot.mouseMove(vp, QPoint(2, 2))  # the margin around the picture
    assert blocker.args == [-1, -1]


def test_overlay_layer_patch_and_opacity(canvas: Canvas) -> None:
    layer = np.zeros((80, 100, 4), np.uint8)
    layer[10:20, 30:40] = (255, 0, 0, 255)
    canvas.set_overlay(layer)
    got = qimage_to_rgba(canvas.overlay_pixmap().toImage())
    assert np.array_equal(got, layer)
    patch = np.zeros((5, 6, 4), np.uint8)
    patch[...] = (0, 0, 255, 255)
    canvas.update_overlay_patch(12, 15, patch)
    got = qimage_to_rgba(canvas.overlay_pixmap().toImage())
    expected = layer.copy()
    expected[15:20, 12:18] = (0, 0, 255, 255)
    assert np.array_equal(got, expected)
    canvas.set_overlay_opacity(0.8)
    assert canvas.overlay_opacity() == pytest.approx(0.8)
    with pytest.raises(ValueError):
        canvas.set_overlay(np.zeros((10, 10, 4), np.uint8))
