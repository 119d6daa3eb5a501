"""Mask editing without a UI: brush, eraser, fills, polygon, picker, refine, propagation, undo, live figures.

`Editor` is the entry point; see its module. Everything here is numpy and
OpenCV, tested without Qt; the window only forwards mouse and keys to it.
"""

from seggui.core.editing.autosave import AutoSave
from seggui.core.editing.brush import MAX_SIZE, brush_change, dab_centre, disk, segment_footprint
from seggui.core.editing.change import Change, merge, selection_change
from seggui.core.editing.editor import Editor
from seggui.core.editing.fill import flood_change, polygon_change, replace_change
from seggui.core.editing.history import DEFAULT_BUDGET, History, Record
from seggui.core.editing.label_map import LabelMap, blank_labels, starting_labels, unlabelled_value
from seggui.core.editing.live import LiveFigures
from seggui.core.editing.propagate import warp_labels
from seggui.core.editing.refine import Click, Refined, class_probability, refine, refine_change
from seggui.core.editing.shelf import DEFAULT_SHELF_BYTES, EditorShelf, file_stamp

__all__ = [
    "DEFAULT_BUDGET", "DEFAULT_SHELF_BYTES", "MAX_SIZE", "AutoSave", "Change", "Click", "Editor",
    "EditorShelf", "History", "LabelMap", "LiveFigures", "Record", "Refined", "blank_labels",
    "brush_change", "class_probability", "dab_centre", "disk", "file_stamp", "flood_change", "merge",
    "polygon_change", "refine", "refine_change", "replace_change", "segment_footprint", "selection_change",
    "starting_labels", "unlabelled_value", "warp_labels",
]
