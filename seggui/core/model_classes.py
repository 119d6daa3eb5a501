"""Switching a workspace to the classes of the model that runs on it.

A model writes masks in its own class table. A workspace whose frames hold
nothing yet simply takes the model's table. One that holds ground truth in
another table keeps those files untouched and gains a class map
(`seggui.core.class_map`) from their table to the model's, which the analyst
confirms: from then on every comparison reads the ground truth in the model's
classes. Corrections are the analyst's work in the old table: a model of
other classes is refused rather than leave them stranded under ids the new
table does not know. Predictions of another model's classes are outputs, not
work: they are dropped (their frames go back to "no mask") and predicted again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seggui.core.class_map import ClassMap, scoring_table, suggest
from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.core.frame_record import CORRECTION_STATUSES
from seggui.core.workspace import FrameStatus, Workspace


def same_classes(a: ClassTable, b: ClassTable) -> bool:
    """Whether masks of `a` and `b` mean the same: ids and names agree, and so does what is ignored.

    An ignore id outside the ids (added so unmapped ground truth is not
    scored, `class_map.scoring_table`) does not make two tables differ.
    """
    if [(c.id, c.name) for c in a.classes] != [(c.id, c.name) for c in b.classes]:
        return False
    if a.ignore_index == b.ignore_index:
        return True
    outside = {a.ignore_index, b.ignore_index} - {None}
    return len(outside) == 1 and next(iter(outside)) not in a.by_id


@dataclass
class ClassSwitch:
    """What running a model of `table` on a workspace asks for."""

    table: ClassTable
    suggested: ClassMap | None = None  # a map to confirm: ground truth is held in another table
    dropped: list[str] = field(default_factory=list)  # frames whose other-class predictions go


def plan_switch(ws: Workspace, table: ClassTable) -> ClassSwitch | None:
    """None when `table` is already the workspace's; else what the switch needs (or a refusal).

    Refuses, naming the way out, when frames hold corrections in the old
    table.
    """
    current = ws.class_map.model if ws.class_map is not None else ws.classes
    if same_classes(current, table) or same_classes(ws.classes, table):
        return None
    corrected = ws.frames_with_status(*CORRECTION_STATUSES)
    if corrected:
        raise BadInputError(ws.root, f"{len(corrected)} frames hold corrections in the {ws.classes.name} "
                            f"classes (first: {corrected[0]}); a model with {table.name} classes cannot take "
                            f"them over. Choose a model with {ws.classes.name} classes, or open the pictures "
                            "again in a new workspace (File ▸ Open folder) to use this model")
    has_gt = any(rec.has_gt for rec in ws.frames.values())
    suggested = suggest(ws.gt_classes, table) if has_gt else None
    dropped = ws.frames_with_status(FrameStatus.PREDICTED)
    return ClassSwitch(table, suggested, dropped)


def adopt(ws: Workspace, switch: ClassSwitch, cmap: ClassMap | None) -> list[str]:
    """Switch the workspace to `switch.table` with `cmap` (the confirmed map, when ground truth is held).

    Returns what the analyst is told. Saves the workspace.
    """
    if switch.suggested is not None and cmap is None:
        raise BadInputError(ws.root, "the ground truth needs a class map to the model's classes")
    said = []
    with ws.batch():  # one write of seggui.json, the views told once
        for fid in switch.dropped:
            ws.drop_prediction(fid, save=False)
        if switch.dropped:
            said.append(f"{len(switch.dropped)} predictions in the {ws.classes.name} classes were dropped")
        if cmap is not None:
            table = scoring_table(switch.table) if cmap.needs_ignore else switch.table
            ws.set_classes(table, class_map=ClassMap(cmap.gt, table, dict(cmap.pairs)), save=False)
            said.append(f"ground truth ({cmap.gt.name}) is compared in the {table.name} classes: "
                        f"{cmap.describe()}")
        else:
            ws.set_classes(switch.table, class_map=None, save=False)
        ws.save()
    return said


def set_class_map(ws: Workspace, cmap: ClassMap) -> None:
    """Replace the class map of a workspace whose ground truth is held in another table; saves."""
    if not same_classes(cmap.model, ws.classes):
        raise BadInputError(ws.root, f"the class map is to {cmap.model.name}, but the workspace uses "
                            f"{ws.classes.name}")
    table = scoring_table(ws.classes) if cmap.needs_ignore else ws.classes
    ws.set_classes(table, class_map=ClassMap(cmap.gt, table, dict(cmap.pairs)))
