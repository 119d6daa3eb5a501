"""File ▸ Export ▸ Polygons: the masks as GIS polygons with their area, as a background job.

An options dialog (this picture or all, the class, a minimum area, a
simplification), then a file dialog whose name's extension picks the format
(.gpkg, .shp, .geojson). The work is `seggui.core.geo.frame_polygons`, run
off the GUI thread; the message says how many polygons and their total
area, and whether the file has a CRS.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QWidget,
)

from seggui.core.errors import BadInputError, SegguiError
from seggui.ui.runner import JobRunner
from seggui.ui.session import Session

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.main_window import MainWindow

ALL = "__all__"


class PolygonOptions(QDialog):
    """Which pictures and classes become polygons, the minimum area and the simplification."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export polygons")
        self.scope = QComboBox()
        self.scope.setObjectName("polygon_scope")
        self.scope.addItem("This picture", "current")
        self.scope.addItem("All pictures", "all")
        self.klass = QComboBox()
        self.klass.setObjectName("polygon_class")
        self.klass.addItem("All classes", ALL)
        ws = session.workspace
        if ws is not None:
            for cid in ws.classes.scored_ids:
                self.klass.addItem(ws.classes.name_of(cid), ws.classes.name_of(cid))
            if session.active_class is not None:  # the class selected in the class panel
                at = self.klass.findData(ws.classes.name_of(session.active_class))
                self.klass.setCurrentIndex(max(0, at))
        self.min_area = QDoubleSpinBox()
        self.min_area.setObjectName("polygon_min_area")
        self.min_area.setRange(0.0, 1e9)
        self.min_area.setDecimals(2)
        self.min_area.setSuffix(" m²")
        self.min_area.setToolTip("Leave out polygons smaller than this (they are counted)")
        self.simplify = QDoubleSpinBox()
        self.simplify.setObjectName("polygon_simplify")
        self.simplify.setRange(0.0, 1000.0)
        self.simplify.setDecimals(3)
        self.simplify.setSuffix(" m")
        self.simplify.setToolTip("Smooth outlines to this tolerance (0: exact pixel edges, areas equal the "
                                 "raster's)")
        form = QFormLayout(self)
        form.addRow("Pictures", self.scope)
        form.addRow("Class", self.klass)
        form.addRow("Minimum area", self.min_area)
        form.addRow("Simplify", self.simplify)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)

    def values(self) -> dict[str, Any]:
        klass = self.klass.currentData()
        return {"scope": self.scope.currentData(), "classes": None if klass == ALL else [klass],
                "min_area_m2": self.min_area.value(), "simplify_m": self.simplify.value()}


def export_polygons(session: Session, runner: JobRunner, out: str | Path, *, scope: str = "current",
                    classes: list[str] | None = None, min_area_m2: float = 0.0,
                    simplify_m: float = 0.0) -> bool:
    """Start writing the polygons of this picture (or all) to `out`; the format follows its suffix."""
    from seggui.core.geo import require
    from seggui.core.geo.frame_polygons import check_target
    from seggui.core.geo.frame_polygons import export_polygons as job

    ws = session.workspace
    if ws is None or session.current is None:
        raise BadInputError(None, "open pictures or a workspace first")
    for lib in ("rasterio", "shapely", "pyproj", "pyogrio"):  # the geo extra, named before any work
        require(lib)
    out = check_target(out)
    ids = list(session.frame_ids) if scope == "all" else [session.current]
    handle = runner.start(f"Polygons {out.name}", lambda token: job(
        ws, ids, out, classes=classes, min_area_m2=min_area_m2, simplify_m=simplify_m, token=token))
    if handle is not None:
        def said(result: Any) -> None:
            session.log.info(result.describe())

        handle.result.connect(said)
    return handle is not None


def polygon_dialog(win: MainWindow) -> None:
    """Options, then the file; the stroke being painted is written first, so it is exported too."""
    if win.session.workspace is None:
        win.log.report(BadInputError(None, "open pictures or a workspace first"))
        return
    options = PolygonOptions(win.session, win)
    if options.exec() != QDialog.DialogCode.Accepted:
        return
    opts = options.values()
    ws = win.session.workspace
    start = win.recent.save_start(ws.reports_dir, "polygons.gpkg")
    path, _ = QFileDialog.getSaveFileName(win, "Export polygons", start,
                                          "Polygons (*.gpkg *.shp *.geojson);;GeoPackage (*.gpkg);;"
                                          "Shapefile (*.shp);;GeoJSON, WGS84 (*.geojson)")
    if not path:
        return
    win.recent.set_last_dir(path, "export")
    win.editing.finish()
    try:
        export_polygons(win.session, win.runner, path, **opts)
    except SegguiError as exc:
        win.log.report(exc)
