"""File ▸ Export ▸ Orthomosaic mask: the corrected orthomosaic as one GeoTIFF, or as polygons.

On an orthomosaic's frame (or one of its editing regions), a save dialog
asks for the file; its extension picks what is written: .tif is the merged
mask (the correction over the model's prediction, on the source's grid), a
.gpkg/.shp/.geojson name gets the polygons of that merged mask, which is
kept in the workspace as `ortho/<name>.merged.tif`. The work is
`seggui.core.geo.ortho_merge.export_ortho`, block by block, off the GUI
thread through the window's job runner; Messages says the file and, for
polygons, their count and total area. Any other frame is refused with a
message.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

from seggui.core.errors import BadInputError, SegguiError
from seggui.ui.runner import JobRunner

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.main_window import MainWindow
    from seggui.ui.ortho_view import OrthoView

FILTERS = ("Orthomosaic mask (*.tif *.gpkg *.shp *.geojson);;GeoTIFF mask (*.tif);;"
           "GeoPackage polygons (*.gpkg);;Shapefile polygons (*.shp);;GeoJSON polygons, WGS84 (*.geojson)")


def export_ortho_mask(view: OrthoView, runner: JobRunner, out: str | Path) -> bool:
    """Start writing the shown orthomosaic's merged mask (or its polygons) to `out`; True when started.

    Raises `BadInputError` when the current frame shows no orthomosaic.
    """
    from seggui.core.geo import require
    from seggui.core.geo.ortho_merge import export_ortho

    s = view.session
    ws, o = s.workspace, view.ortho
    if ws is None or o is None:
        raise BadInputError(None, "the current picture is not an orthomosaic: open a large GeoTIFF (or one "
                                  "of its regions) first, or use Export ▸ Polygons for other pictures")
    for lib in ("rasterio", "shapely", "pyproj", "pyogrio"):  # the geo extra, named before any work
        require(lib)
    view.wait_written()  # the regions' corrections are in the correction GeoTIFF before it is read
    rec = ws.frames.get(o.frame)  # name@version of the run that predicted it (ws.model is a folder path)
    model = (rec.model if rec is not None else None) or ""
    out, root, source, table = Path(out), ws.root, o.source, ws.classes
    handle = runner.start(f"Exporting {out.name}",
                          lambda token: export_ortho(root, source, out, table, model=model, token=token))
    if handle is None:
        raise BadInputError(None, f"{runner.title} is still running; wait or cancel it")

    def said(result: Any) -> None:
        s.log.info(f"{source.name}: {result.describe()}")

    handle.result.connect(said)
    return True


def ortho_export_dialog(win: MainWindow) -> None:
    """The file, then the export; the stroke being painted is saved (and written back) first."""
    ws, o = win.session.workspace, win.ortho.ortho
    if ws is None or o is None:
        from seggui.core.geo.ortho_region import ENV_ORTHO_PIXELS, ortho_pixels

        win.log.report(BadInputError(None, "the current picture is not an orthomosaic: Export ▸ "
                                            "Orthomosaic mask works on a GeoTIFF of more than "
                                            f"{ortho_pixels() / 1e6:g} Mpx (set {ENV_ORTHO_PIXELS} before "
                                            "starting seggui to open smaller ones as orthomosaics) or one of "
                                            "its regions; Export ▸ Polygons serves other pictures"))
        return
    start = win.recent.save_start(ws.reports_dir, f"{o.source.stem}.mask.tif")
    path, _ = QFileDialog.getSaveFileName(win, "Export orthomosaic mask", start, FILTERS)
    if not path:
        return
    win.recent.set_last_dir(path, "export")
    win.editing.finish()
    try:
        export_ortho_mask(win.ortho, win.runner, path)
    except SegguiError as exc:
        win.log.report(exc)
