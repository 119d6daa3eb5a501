"""Helpers shared by the window tests (imported by name: tests/ui has no package)."""

from __future__ import annotations

from pathlib import Path

N_PICTURES = 4


def link_pictures(camvid: Path, dest: Path, names: list[str], prefix: str = "") -> Path:
    """A CamVid-like layout (val/, valannot/, classes.json) of symlinks to the real files."""
    (dest / "val").mkdir(parents=True, exist_ok=True)
    (dest / "valannot").mkdir(exist_ok=True)
    if not (dest / "classes.json").exists():
        (dest / "classes.json").symlink_to(camvid / "classes.json")
    for name in names:
        (dest / "val" / f"{prefix}{name}").symlink_to(camvid / "val" / name)
        (dest / "valannot" / f"{prefix}{name}").symlink_to(camvid / "valannot" / name)
    return dest / "val"


def stroke(qtbot, canvas, y: float, xs: tuple[float, ...] = (20.5, 120.5, 220.5)) -> None:  # noqa: ANN001
    """A real left-button drag on the canvas through image points (x, y) for x in `xs`."""
    from PySide6.QtCore import QPointF, Qt

    vp = canvas.viewport()
    pts = [canvas.map_from_image(QPointF(x, y)).toPoint() for x in xs]
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(vp, p)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=pts[-1])


def drag(qtbot, canvas, a: tuple[float, float], b: tuple[float, float]) -> None:  # noqa: ANN001
    """A real left-button drag on the canvas from image point `a` to `b`, through their midpoint."""
    from PySide6.QtCore import QPointF, Qt

    vp = canvas.viewport()
    pa, pb = (canvas.map_from_image(QPointF(*p)).toPoint() for p in (a, b))
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=pa)
    qtbot.mouseMove(vp, (pa + pb) / 2)
    qtbot.mouseMove(vp, pb)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=pb)
