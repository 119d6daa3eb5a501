"""What a user can do in the window, as test steps: menus, shortcuts, dialogs, clicks and drags.

Journey tests use only these (and read what the window shows); nothing here
writes workspace files or sets workspace fields. Modal dialogs are answered
through their widgets from a timer, as a person would answer them while the
window waits.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QWidget,
)


def when_dialog(handle: Callable[[QDialog], None], kind: type = QDialog, wait_ms: int = 30000) -> list[str]:
    """Answer the next modal dialog of `kind` with `handle` as soon as it shows; returns a list that
    receives "answered" (or the error) so the test can check the dialog really came."""
    done: list[str] = []
    left = [wait_ms // 50]

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind) and dialog.isVisible():
            try:
                handle(dialog)
                done.append("answered")
            except Exception as exc:  # noqa: BLE001 - reported to the test, which asserts on it
                done.append(f"error: {exc!r}")
                dialog.reject()
            return
        left[0] -= 1
        if left[0] > 0:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)
    return done


def type_path_and_enter(path: Path) -> Callable[[QDialog], None]:
    """Answer a file dialog by typing the path in its name field and pressing Enter."""
    from PySide6.QtTest import QTest

    def answer(dialog: QDialog) -> None:
        assert isinstance(dialog, QFileDialog)
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        edit.setText(str(path))
        QTest.keyClick(edit, Qt.Key.Key_Return)
        if dialog.isVisible():  # a directory dialog may first enter the folder: choose it
            dialog.accept()

    return answer


def press_ok(dialog: QDialog) -> None:
    """Click OK (or the accepting button) of a dialog's button box."""
    from PySide6.QtTest import QTest

    box = dialog.findChild(QDialogButtonBox)
    ok = box.button(QDialogButtonBox.StandardButton.Ok)
    QTest.mouseClick(ok, Qt.MouseButton.LeftButton)


def trigger(win: QWidget, name: str) -> None:
    """Choose a menu item (the window's action of that name), as a click in the menu does."""
    win.actions_by_name[name].trigger()


def click(qtbot, widget: QAbstractButton) -> None:  # noqa: ANN001
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_row(qtbot, view, item) -> None:  # noqa: ANN001
    """Click a row of a list, tree or table, where it is drawn."""
    view.scrollToItem(item)
    rect = view.visualItemRect(item)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def canvas_point(canvas, x: float, y: float) -> QPoint:  # noqa: ANN001
    return canvas.map_from_image(QPointF(x, y)).toPoint()


def polygon(qtbot, canvas, points: list[tuple[float, float]]) -> None:  # noqa: ANN001
    """Click the vertices of a polygon on the canvas (picture coordinates), then press Enter."""
    vp = canvas.viewport()
    for x, y in points:
        qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=canvas_point(canvas, x, y))
    canvas.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_Return)


def shortcut(qtbot, win: QWidget, key: str) -> None:  # noqa: ANN001
    """Press a shortcut in the window (as typed on the keyboard)."""
    from PySide6.QtGui import QKeySequence

    seq = QKeySequence(key)
    combo = seq[0]
    win.activateWindow()
    qtbot.keyClick(win.view.canvas.viewport(), combo.key(), combo.keyboardModifiers())


def drag(qtbot, canvas, points: list[tuple[float, float]]) -> None:  # noqa: ANN001
    """A left-button drag on the canvas through picture points (a brush stroke)."""
    vp = canvas.viewport()
    pts = [canvas_point(canvas, x, y) for x, y in points]
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(vp, p)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=pts[-1])


def retrain_one_epoch(qtbot, win, timeout_ms: int = 900000) -> str:  # noqa: ANN001
    """Model ▸ Retrain, Advanced… set to one epoch, then Retrain on corrections; returns how it ended."""
    trigger(win, "retrain")
    panel = win.retrain

    def one_epoch(dialog: QDialog) -> None:
        dialog.epochs.setValue(1)
        press_ok(dialog)

    answered = when_dialog(one_epoch)
    click(qtbot, panel.advanced_button)
    assert answered == ["answered"], answered
    with qtbot.waitSignal(panel.done, timeout=timeout_ms) as ended:
        click(qtbot, panel.retrain_button)
    return ended.args[0]
