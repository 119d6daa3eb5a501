"""File ▸ Export ▸ Polygons: a painted GeoTIFF picture's correction becomes GIS polygons in its CRS."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from seggui.core.geo import geo_available

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))

pytestmark = pytest.mark.skipif(not geo_available(), reason="needs the geo extra (pip install 'seggui[geo]')")


def _aerial_classes(folder: Path) -> None:
    """classes.json beside the picture: the window opens it in the aerial parking classes."""
    import json

    from seggui.core.classes import load_classes

    (folder / "classes.json").write_text(json.dumps(load_classes("aerial-parking-6").to_dict()))


def test_export_polygons_through_the_menu(qtbot, window, tmp_path: Path) -> None:
    import pyogrio.raw
    from journey import click_row, press_ok, trigger, type_path_and_enter, when_dialog
    from PySide6.QtWidgets import QFileDialog
    from ui_helpers import stroke

    from seggui.core.synth import render_scene
    from seggui.core.synth.geotiff import UTM, write_geotiff
    from seggui.ui.polygon_export import PolygonOptions

    scene = render_scene(7, (240, 304), 0.15)
    _aerial_classes(tmp_path)
    made = write_geotiff(tmp_path / "site.tif", scene.image, scene.mask, 0.15, crs=UTM)
    assert window.open_path(Path(made["path"]))
    s = window.session
    table = s.workspace.classes
    panel = window.classes.table
    row = next(r for r in range(panel.rowCount()) if panel.item(r, 0).text() == "parking")
    click_row(qtbot, panel, panel.item(row, 0))
    parking = table.find("parking").id
    assert s.active_class == parking
    window.editing.set_tool("brush")
    for y in (40.5, 60.5, 150.5):
        stroke(qtbot, window.view.canvas, y)

    chosen: dict[str, object] = {}

    def options(dialog) -> None:  # noqa: ANN001
        chosen["class"] = dialog.klass.currentText()  # the class selected in the class panel
        press_ok(dialog)

    out = tmp_path / "out" / "parking.gpkg"
    asked = when_dialog(options, PolygonOptions)
    typed = when_dialog(type_path_and_enter(out), kind=QFileDialog)
    with qtbot.waitSignal(window.runner.finished, timeout=60000) as done:
        trigger(window, "export_polygons")
    assert asked == ["answered"] and typed == ["answered"] and chosen["class"] == "parking"
    result = done.args[0]
    meta, _fids, _geoms, fields = pyogrio.raw.read(out)
    cols = dict(zip(meta["fields"], fields, strict=True))
    assert meta["crs"] == "EPSG:32633"
    assert set(cols["class"]) == {"parking"} and set(cols["source"]) == {"site.tif"}
    corrected = s.workspace.read_mask(s.current, "corrected")
    raster_m2 = float(np.count_nonzero(corrected == parking)) * 0.15 * 0.15
    assert raster_m2 > 10 and result.polygons >= 1  # three strokes of parking were painted
    assert float(cols["area_m2"].sum()) == pytest.approx(raster_m2, rel=0.005)
    assert (cols["perimeter_m"] > 0).all() and result.polygons == len(cols["class"])
    said = next(m.text for m in reversed(window.log.entries) if "polygon(s)" in m.text)
    assert f"{result.polygons} polygon(s)" in said and "m² in all" in said and "EPSG:32633" in said


def test_a_bad_name_is_named_and_nothing_starts(qtbot, window, tmp_path: Path) -> None:
    from seggui.core.errors import BadInputError
    from seggui.core.synth import render_scene
    from seggui.core.synth.geotiff import UTM, write_geotiff
    from seggui.ui.polygon_export import export_polygons

    scene = render_scene(3, (64, 80), 0.15)
    made = write_geotiff(tmp_path / "p.tif", scene.image, scene.mask, 0.15, crs=UTM)
    assert window.open_path(Path(made["path"]))
    with pytest.raises(BadInputError, match=r"parking\.kml.*\.gpkg, \.shp or \.geojson"):
        export_polygons(window.session, window.runner, tmp_path / "parking.kml")
    assert not window.runner.is_running()
