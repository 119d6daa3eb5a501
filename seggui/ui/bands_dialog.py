"""View ▸ Bands…: which bands of a multi-band GeoTIFF the window shows as R, G and B.

Three combo boxes (band 1..N, named by the file's descriptions or colour
interpretations); the choice is checked and kept per source file by
`seggui.core.geo.bands`. An orthomosaic's overviews for the new bands are
built on a worker thread (the window paints meanwhile), then its tiles and
picture are read again; a plain GeoTIFF re-reads its picture. Regions made
afterwards and Model ▸ Run on the orthomosaic read the same bands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QWidget

from seggui.core.errors import BadInputError
from seggui.core.geo.bands import band_facts, band_labels, can_choose, save_bands, saved_bands
from seggui.core.geo.ortho_region import ensure_overviews, is_orthomosaic
from seggui.ui.background_call import call_in_background

if TYPE_CHECKING:
    from seggui.ui.main_window import MainWindow


class BandsDialog(QDialog):
    """R, G, B ← band 1..N for one file."""

    def __init__(self, path: Path, current: tuple[int, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bands_dialog")
        self.setWindowTitle(f"Bands of {path.name}")
        form = QFormLayout(self)
        labels = band_labels(path)
        self.combos: list[QComboBox] = []
        for name, band in zip(("Red", "Green", "Blue"), current, strict=False):
            box = QComboBox(self)
            box.setObjectName(f"band_{name[0].lower()}")
            box.addItems(labels)
            box.setCurrentIndex(band - 1)
            form.addRow(f"{name} ←", box)
            self.combos.append(box)
        ok, cancel = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok | cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen(self) -> tuple[int, ...]:
        """The band numbers picked (1-based)."""
        return tuple(box.currentIndex() + 1 for box in self.combos)


def source_of(win: MainWindow) -> Path | None:
    """The GeoTIFF behind the current frame (an orthomosaic's region names its orthomosaic), if any."""
    s = win.session
    ws, fid = s.workspace, s.current
    if ws is None or fid is None:
        return None
    found = win.ortho._find(fid)  # noqa: SLF001 - the region -> orthomosaic mapping lives there
    return found[1] if found is not None else ws.image_path(fid)


def update_action(win: MainWindow, action: QAction) -> None:
    """Enabled when the current frame is (a region of) a GeoTIFF with more than three bands."""
    action.setEnabled(can_choose(source_of(win)))


def bands_dialog(win: MainWindow) -> bool:
    """Ask R, G, B for the current frame's file and apply them; True when the choice changed."""
    s = win.session
    path, ws = source_of(win), s.workspace
    if path is None or ws is None or not can_choose(path):
        s.log.warning("View ▸ Bands… needs a GeoTIFF with more than three bands (RGBA, RGBN)")
        return False
    before = saved_bands(ws, path)
    dlg = BandsDialog(path, before or band_facts(path)[1], win)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return False
    try:
        ws.check_writable()
        bands = save_bands(ws, path, dlg.chosen())
        if bands == before:
            return False
        if is_orthomosaic(path):  # the overviews of these bands, once, off the GUI thread
            problems: list[str] = []
            root = ws.root
            call_in_background(lambda: ensure_overviews(root, path, bands, problems))
            for problem in problems[:3]:
                s.log.warning(f"{path.name}: {problem}")
    except BadInputError as exc:
        s.log.report(exc)
        return False
    _show_again(win)
    s.log.info(f"{path.name}: bands {list(bands or band_facts(path)[1])} shown as R, G, B")
    return True


def _show_again(win: Any) -> None:
    """Show the current frame again with the new bands (the session dropped its pictures)."""
    s = win.session
    win.ortho.reload()
    if s.current is not None:
        s.leaving.emit()
        s.frameChanged.emit(s.current)
