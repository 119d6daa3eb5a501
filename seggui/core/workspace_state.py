"""The mutating half of `Workspace`: every change goes through a method here (or in workspace.py) that emits.

A workspace's state (frames and statuses, masks, the model in use, classes,
GSD, settings) has one owner, the `Workspace` object: callers never assign
its fields (`ws.settings[k] = v`, `ws.gsd = ...`, `rec.status = ...`), they
call `set_setting`, `set_gsd`, `set_classes`, `set_model`, `set_status`,
`write_mask`/`record_mask`/`write_prediction`/`write_propagated` or the `add_*` methods, which
save seggui.json and tell subscribers what changed (`seggui.core.events`).

`batch()` groups changes: seggui.json is written once when the outermost
batch ends, and the events are coalesced and emitted after that write, so a
drive of thousands of frames costs one write, not one per frame.

This is a mixin so workspace.py (the file format, frames, masks) stays
readable; `Workspace` is the only class that uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seggui.core.events import WorkspaceEvents
from seggui.core.frame_record import FrameRecord, FrameStatus
from seggui.core.gsd import Gsd
from seggui.core.mask_kind import MaskKind
from seggui.core.masks import write_mask as write_mask_file
from seggui.core.path_facts import PathFacts

if TYPE_CHECKING:
    from seggui.core.classes import ClassTable

_KEEP: Any = object()


class WorkspaceState:
    """Events, batching and the setters of `Workspace` (see the module docstring)."""

    if TYPE_CHECKING:  # provided by Workspace
        classes: ClassTable
        class_map: Any
        gsd: Gsd | None
        model: str | None
        frames: dict[str, FrameRecord]
        settings: dict[str, Any]

        def save(self) -> None: ...
        def mask_path(self, frame_id: str, kind: str) -> Path: ...
        def write_mask(self, frame_id: str, kind: str, mask: np.ndarray, model: str | None = None,
                       save: bool = True) -> Path: ...
        def _record(self, frame_id: str) -> FrameRecord: ...
        def check_writable(self) -> None: ...

    @property
    def events(self) -> WorkspaceEvents:
        """The signals this workspace emits (made on first use; not part of the saved state)."""
        events = self.__dict__.get("_events")
        if events is None:
            events = self.__dict__["_events"] = WorkspaceEvents()
        return events

    @contextmanager
    def batch(self) -> Iterator[Any]:
        """Defer saving and events until the block ends: one seggui.json write, coalesced events.

        Nested batches join the outermost one. The write and the events happen
        even when the block raises (what was changed in memory is recorded and
        told), then the exception goes on.
        """
        events = self.events
        events.depth += 1
        try:
            yield self
        finally:
            events.depth -= 1
            if events.depth == 0:
                try:
                    if events.dirty:
                        events.dirty = False
                        self.save()
                finally:
                    events.flush()

    @contextmanager
    def adding_files(self) -> Iterator[Any]:
        """A block that only adds pictures: the disk's answers about their folders (real paths, masks
        present) are read once for the block (see path_facts), not once per picture. Nothing written
        inside it is seen by those answers, so it holds additions only."""
        outer = "_facts" in self.__dict__
        if not outer:
            self.__dict__["_facts"] = PathFacts()
        try:
            yield self
        finally:
            if not outer:
                self.__dict__.pop("_facts", None)

    def _save_deferred(self) -> bool:
        """True (and the save remembered) inside a batch: `save` returns at once and the batch writes."""
        events = self.events
        if events.depth:
            events.dirty = True
            return True
        return False

    # ------------------------------------------------------------ setters
    def set_setting(self, key: str, value: Any, save: bool = True) -> None:
        """Set one workspace setting (None removes it), save, and emit `settings_changed(key)`."""
        if value is None:
            if key not in self.settings:
                return
            del self.settings[key]
        elif key in self.settings and self.settings[key] == value:
            return
        else:
            self.settings[key] = value
        if save:
            self.save()
        self.events.setting(key)

    def set_gsd(self, gsd: Gsd | float | None, save: bool = True) -> None:
        """Set (or clear) the workspace GSD: a `Gsd`, or metres per pixel the user states."""
        if gsd is not None and not isinstance(gsd, Gsd):
            gsd = Gsd.square(float(gsd), "flag")
        self.gsd = gsd
        if save:
            self.save()
        self.events.latest("gsd_changed", gsd)

    def set_classes(self, table: ClassTable, class_map: Any = _KEEP, save: bool = True) -> None:
        """Switch the class table (and, when given, the ground truth's class map); emits `classes_changed`.

        The caller has checked that the masks on disk fit (seggui.core.model_classes).
        """
        self.classes = table
        if class_map is not _KEEP:
            self.class_map = class_map
        if save:
            self.save()
        self.events.latest("classes_changed")

    def drop_prediction(self, frame_id: str, save: bool = True) -> None:
        """Delete a frame's prediction and confidence files; an untouched frame goes back to no mask."""
        rec = self._record(frame_id)
        for kind in (MaskKind.PREDICTED, MaskKind.CONFIDENCE):
            self.mask_path(frame_id, kind).unlink(missing_ok=True)
        if rec.status == FrameStatus.PREDICTED:
            rec.status = FrameStatus.NONE
        rec.model = None
        if save:
            self.save()
        self.events.mask(frame_id, MaskKind.PREDICTED)
        self.events.frames([frame_id])

    def write_prediction(self, frame_id: str, labels: np.ndarray, confidence: np.ndarray | None = None,
                         model: str | None = None, save: bool = True) -> Path:
        """A model's output for a frame: its confidence map (uint8, optional) and its labels.

        One `masks_changed(frame, "predicted")`: the confidence map belongs to
        the prediction and is written first, so whoever reacts finds both.
        """
        self._record(frame_id)
        if confidence is not None:
            write_mask_file(self.mask_path(frame_id, MaskKind.CONFIDENCE), confidence)
        return self.write_mask(frame_id, MaskKind.PREDICTED, labels, model=model, save=save)

    def write_propagated(self, frame_id: str, labels: np.ndarray, save: bool = True) -> Path:
        """Labels carried along the drive as the frame's correction, the frame marked "propagated".

        The mask is the corrected kind (the views, areas, metrics and reports
        see it as the frame's mask); the status keeps it out of retraining
        until the analyst reviews or edits it. Callers decide whether an
        analyst's frame may be replaced (`seggui.core.editing.propagate_drive`).
        """
        self._record(frame_id)
        self.check_writable()
        path = write_mask_file(self.mask_path(frame_id, MaskKind.CORRECTED), labels)
        self.record_propagated(frame_id, save=save)
        return path

    def record_propagated(self, frame_id: str, staged: Path | None = None, save: bool = True) -> None:
        """`write_propagated` for a mask already written: `staged` (a finished file, encoded on a
        worker thread) is renamed into place first, a cheap step for the owner's thread."""
        rec = self._record(frame_id)
        if staged is not None:
            self.check_writable()
            staged.replace(self.mask_path(frame_id, MaskKind.CORRECTED))  # same folder: atomic
        moved, rec.status = rec.status != FrameStatus.PROPAGATED, FrameStatus.PROPAGATED
        if save:
            self.save()
        self.events.mask(frame_id, MaskKind.CORRECTED)
        if moved:
            self.events.frames([frame_id])
