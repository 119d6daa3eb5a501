"""Ground truth brought in after opening (Ctrl+G, Ctrl+Shift+G), in whatever class table it is drawn in.

At opening, a folder with masks beside it asks which table they are drawn in (ClassTableDialog). An
import later read the masks in the workspace's table, so masks in another one were refused, id by id
("class ids not in the parking-2 table: 2, 5, 6, 16, 18"), with no way on (a walkthrough: the Houston
mask of one picture, after parking-demo had run). Now masks whose ids do not fit are read in their
own table, `classes.json` beside them or the one the analyst picks, and scored through a class map
the analyst confirms, as Run does for a model of other classes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from seggui.core.class_map import suggest
from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import SegguiError
from seggui.core.frame_record import FrameStatus
from seggui.core.truth_tables import fits, mask_ids, table_file_beside
from seggui.ui.class_table_dialog import ClassTableDialog

if TYPE_CHECKING:
    from seggui.ui.main_window import MainWindow


def import_truth(win: MainWindow, path: str | Path) -> bool:
    """Import a folder of masks or one mask for the picture on show, asking for their table if need be."""
    path, ws = Path(path), win.session.workspace
    if ws is not None and not fits(mask_ids(path), ws.gt_classes):
        try:
            if not _adopt_truth_table(win, path):
                return False
        except SegguiError as exc:
            win.log.report(exc)
            return False
    return win.open_ground_truth(path)


def _adopt_truth_table(win: MainWindow, path: Path) -> bool:
    """Make the workspace read its ground truth in the masks' own table; False when the analyst declines."""
    s = win.session
    ws = s.workspace
    assert ws is not None
    beside = table_file_beside(path)
    table: ClassTable | None = load_classes(beside) if beside is not None else \
        ClassTableDialog.ask(path if path.is_dir() else path.parent, win)
    if table is None:
        win.log.info(f"{path}: not imported: its masks hold ids the {ws.gt_classes.name} classes lack, "
                     "and no class table was chosen for them")
        return False
    has_masks = any(r.status != FrameStatus.NONE or r.has_gt for r in ws.frames.values())
    if not has_masks:  # nothing drawn in the old table: the workspace takes the truth's
        ws.set_classes(table, class_map=None)
        win.log.info(f"the workspace now uses the classes of the ground truth ({table.name})")
        return True
    cmap = win.inference.confirm_map(suggest(table, ws.classes))
    if cmap is None:
        win.log.info(f"{path}: not imported: the class map from {table.name} to the workspace's "
                     f"{ws.classes.name} classes was not confirmed")
        return False
    ws.set_classes(ws.classes, class_map=cmap)
    win.log.info(f"the ground truth is read in {table.name} and scored in {ws.classes.name} through the "
                 "class map you confirmed")
    return True
