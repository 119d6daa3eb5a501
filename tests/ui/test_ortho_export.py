"""File ▸ Export ▸ Orthomosaic mask in the real window: refused without an orthomosaic, then a GeoPackage.

The orthomosaic (1500 x 1500, made an orthomosaic by lowering
SEGGUI_ORTHO_PIXELS) opens through the menu; its prediction and one
corrected region lie in the workspace's `ortho/` as a model run and the
window's write-back leave them. The menu's save dialog is answered with a
.gpkg name; the job runs in the background; the polygons are read back with
pyogrio and the merged mask with rasterio.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rasterio")
pytest.importorskip("pyogrio")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from journey import trigger, type_path_and_enter, when_dialog  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

SIDE = 1500
GSD = 0.15


@pytest.mark.slow
def test_export_orthomosaic_mask_as_polygons(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    import pyogrio
    import rasterio

    from seggui.core.geo.maskfile import mask_profile
    from seggui.core.geo.ortho_region import OrthoFiles, write_region
    from seggui.core.geo.raster import GeoRaster
    from seggui.core.synth.ortho import write_orthomosaic

    win, s = window, window.session
    trigger(win, "export_ortho")  # nothing open: refused with a message, no dialog
    assert "not an orthomosaic" in win.log.entries[-1].text

    monkeypatch.setenv("SEGGUI_ORTHO_PIXELS", "1000000")
    source = write_orthomosaic(tmp_path / "src" / "site.tif", SIDE, tile=SIDE, gsd=GSD)["path"]
    answered = when_dialog(type_path_and_enter(source), QFileDialog)
    trigger(win, "open")
    assert answered == ["answered"] and s.current == "site" and win.ortho.ortho is not None

    ws = s.workspace
    files = OrthoFiles(ws.root, source)
    with GeoRaster(source) as ras:
        info = ras.info
    pred = np.zeros((SIDE, SIDE), np.uint8)  # background, one road band
    pred[600:700, :] = 2
    files.predicted.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(files.predicted, "w", **mask_profile(info)) as ds:
        ds.write(pred, 1)
    write_region(files, (100, 300, 200, 500), np.ones((200, 300), np.uint8), ws.classes)  # a parking lot

    out = tmp_path / "out" / "site.gpkg"
    failed: list[str] = []
    win.runner.failed.connect(lambda message, _details: failed.append(message))
    answered = when_dialog(type_path_and_enter(out), QFileDialog)
    with qtbot.waitSignal(win.runner.idle, timeout=120000):
        trigger(win, "export_ortho")
    assert answered == ["answered"] and not failed

    _meta, _fids, _geoms, values = pyogrio.raw.read(out)
    names = list(pyogrio.read_info(out)["fields"])
    classes, area = values[names.index("class")], values[names.index("area_m2")]
    table = ws.classes
    assert float(area[classes == table.name_of(1)].sum()) == pytest.approx(200 * 300 * GSD ** 2, rel=1e-6)
    assert float(area[classes == table.name_of(2)].sum()) == pytest.approx(100 * SIDE * GSD ** 2, rel=1e-6)
    scored = np.isin(np.array([0, 1, 2]), list(table.scored_ids))
    kept = {0: SIDE * SIDE - 200 * 300 - 100 * SIDE, 1: 200 * 300, 2: 100 * SIDE}
    assert float(area.sum()) == pytest.approx(sum(kept[c] for c in (0, 1, 2) if scored[c]) * GSD ** 2,
                                              rel=1e-6)  # the polygons cover the scored classes' pixels
    with rasterio.open(ws.root / "ortho" / "site.merged.tif") as ds, rasterio.open(source) as src:
        assert ds.crs == src.crs and ds.transform == src.transform
        merged = ds.read(1)
    assert (merged[100:300, 200:500] == 1).all() and (merged[600:700, :100] == 2).all()
    said = win.log.entries[-1].text
    assert "site.gpkg" in said and f"{len(classes)} polygon(s)" in said and "m²" in said
