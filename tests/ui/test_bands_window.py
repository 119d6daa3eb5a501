"""View ▸ Bands… in the real window: an RGBN orthomosaic shown true colour, then N, R, G (false colour).

A 4-band GeoTIFF (over the lowered orthomosaic threshold) opens through
File ▸ Open; View ▸ Bands… is answered through its three combo boxes; the
pixels on screen, the session's picture and the new tile reader follow the
choice, and reopening the file keeps it (workspace settings).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from journey import press_ok, trigger, type_path_and_enter, when_dialog  # noqa: E402
from PySide6.QtWidgets import QComboBox, QFileDialog  # noqa: E402

SIDE = 1200
VALUES = (200, 100, 50, 20)  # R, G, B, N: constant bands, so every shown pixel says which band it is


def write_rgbn(path: Path) -> Path:
    from rasterio.enums import ColorInterp

    data = np.stack([np.full((SIDE, SIDE), v, np.uint8) for v in VALUES])
    with rasterio.open(path, "w", driver="GTiff", height=SIDE, width=SIDE, count=4, dtype="uint8",
                       crs="EPSG:32633", transform=rasterio.Affine(0.1, 0, 500000, 0, -0.1, 5000000),
                       tiled=True, blockxsize=256, blockysize=256) as ds:
        ds.write(data)
        ds.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.undefined]
        ds.set_band_description(4, "nir")
    return path


def shown_centre(win) -> tuple[int, int, int]:  # noqa: ANN001
    """The colour on screen at the centre of the canvas."""
    vp = win.view.canvas.viewport()
    c = vp.grab().toImage().pixelColor(vp.rect().center())
    return c.red(), c.green(), c.blue()


def open_file(win, path: Path) -> None:  # noqa: ANN001
    answered = when_dialog(type_path_and_enter(path), QFileDialog)
    trigger(win, "open")
    assert answered == ["answered"]


def test_bands_dialog_shows_an_rgbn_orthomosaic_in_false_colour_and_keeps_it(qtbot, window, tmp_path: Path,
                                                                               monkeypatch) -> None:
    from seggui.core.geo.ortho_region import is_orthomosaic
    from seggui.ui.bands_dialog import BandsDialog

    monkeypatch.setenv("SEGGUI_ORTHO_PIXELS", "1000000")
    path = write_rgbn(tmp_path / "field.tif")
    assert is_orthomosaic(path)
    win, s = window, window.session
    open_file(win, path)
    assert s.current == "field" and win.ortho.ortho is not None
    assert s.image()[5, 5].tolist() == [200, 100, 50]  # true colour by default (the colour interpretation)
    qtbot.waitUntil(lambda: shown_centre(win) == (200, 100, 50), timeout=10000)
    assert win.actions_by_name["bands"].isEnabled()

    seen: list[list[str]] = []

    def answer(dlg: BandsDialog) -> None:
        combos = [dlg.findChild(QComboBox, f"band_{c}") for c in "rgb"]
        seen.append([combos[0].itemText(i) for i in range(combos[0].count())])
        assert [c.currentIndex() for c in combos] == [0, 1, 2]
        for box, band in zip(combos, (4, 1, 2), strict=True):  # N, R, G
            box.setCurrentIndex(band - 1)
        press_ok(dlg)

    answered = when_dialog(answer, BandsDialog)
    trigger(win, "bands")
    assert answered == ["answered"]
    assert seen == [["1 · red", "2 · green", "3 · blue", "4 · nir"]]
    assert s.image()[5, 5].tolist() == [20, 200, 100]  # the overview of N, R, G
    assert win.ortho.layer is not None and win.ortho.layer.pyramid.bands == (4, 1, 2)  # full-res tiles too
    qtbot.waitUntil(lambda: shown_centre(win) == (20, 200, 100), timeout=10000)
    assert len(list((s.workspace.root / "overviews").glob("field-*.tif"))) == 2  # one per band choice

    open_file(win, path)  # the same file again: the workspace keeps the choice
    assert s.image()[5, 5].tolist() == [20, 200, 100]
    qtbot.waitUntil(lambda: shown_centre(win) == (20, 200, 100), timeout=10000)
