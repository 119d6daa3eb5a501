"""Plain, Qt-free signals, and the events a workspace emits when it changes.

`seggui.core` may not import Qt, yet the window must learn of every change to
a workspace however it was made (a prediction, a stroke's autosave, a status,
the model in use, the GSD, a setting). So the workspace owns its state and
tells subscribers through these signals; `seggui.ui.session.Session` is the
one subscriber that turns them into Qt signals for the panels. Nobody else
emits on the workspace's behalf.

Events are delivered synchronously on the thread that changed the workspace
(the workspace is not thread-safe: one owner thread changes it). Inside
`Workspace.batch()` they are held back and coalesced: one `frames_changed`
naming every frame touched, each (frame, kind) of `masks_changed` once, the
others once with their last value, all after seggui.json is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Slot = Callable[..., Any]


class Signal:
    """A list of callbacks: `connect`, `disconnect`, `emit(*args)` (the order they were connected)."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._slots: list[Slot] = []

    def connect(self, slot: Slot) -> Slot:
        """Call `slot` on every emit (once, however often it is connected); returns it (for decorators)."""
        if slot not in self._slots:
            self._slots.append(slot)
        return slot

    def disconnect(self, slot: Slot | None = None) -> bool:
        """Stop calling `slot` (every slot when None); False when it was not connected."""
        if slot is None:
            had = bool(self._slots)
            self._slots.clear()
            return had
        if slot in self._slots:
            self._slots.remove(slot)
            return True
        return False

    def emit(self, *args: Any) -> None:
        """Call every slot with `args`; a slot connected or removed meanwhile takes effect next time."""
        for slot in list(self._slots):
            slot(*args)

    def __len__(self) -> int:
        return len(self._slots)


class WorkspaceEvents:
    """What a workspace tells its subscribers (see the module docstring).

    - ``frames_changed(ids)``: records changed (status, model, ground truth,
      drive) or frames came or went; `ids` a tuple of frame ids;
    - ``masks_changed(frame_id, kind)``: a mask file of a `MaskKind` was written;
    - ``model_changed(ref)``: the model in use (None when none);
    - ``classes_changed()``: the class table or class map;
    - ``gsd_changed(gsd)``: the workspace GSD (None when cleared);
    - ``settings_changed(key)``: one workspace setting.
    """

    def __init__(self) -> None:
        self.frames_changed = Signal("frames_changed")
        self.masks_changed = Signal("masks_changed")
        self.model_changed = Signal("model_changed")
        self.classes_changed = Signal("classes_changed")
        self.gsd_changed = Signal("gsd_changed")
        self.settings_changed = Signal("settings_changed")
        self.depth = 0  # nesting of batch(); events and saves wait while above zero
        self.dirty = False  # a save was asked for during the batch
        self._frames: dict[str, None] = {}
        self._masks: dict[tuple[str, str], None] = {}
        self._settings: dict[str, None] = {}
        self._latest: dict[str, tuple[Any, ...]] = {}

    def signals(self) -> dict[str, Signal]:
        return {s.name: s for s in (self.frames_changed, self.masks_changed, self.model_changed,
                                    self.classes_changed, self.gsd_changed, self.settings_changed)}

    def frames(self, ids: Iterable[str]) -> None:
        """Emit (or, in a batch, collect) `frames_changed` for these ids; nothing for none."""
        ids = tuple(dict.fromkeys(ids))
        if not ids:
            return
        if self.depth:
            self._frames.update(dict.fromkeys(ids))
        else:
            self.frames_changed.emit(ids)

    def mask(self, frame_id: str, kind: str) -> None:
        if self.depth:
            self._masks[(frame_id, str(kind))] = None
        else:
            self.masks_changed.emit(frame_id, str(kind))

    def setting(self, key: str) -> None:
        if self.depth:
            self._settings[key] = None
        else:
            self.settings_changed.emit(key)

    def latest(self, name: str, *args: Any) -> None:
        """model_changed, classes_changed or gsd_changed: in a batch, only the last value is told."""
        if self.depth:
            self._latest[name] = args
        else:
            self.signals()[name].emit(*args)

    def flush(self) -> None:
        """Emit what a batch collected: classes first (the rest is read in them), then frames, masks."""
        latest, frames, masks, settings = self._latest, self._frames, self._masks, self._settings
        self._latest, self._frames, self._masks, self._settings = {}, {}, {}, {}
        if "classes_changed" in latest:
            self.classes_changed.emit(*latest.pop("classes_changed"))
        if frames:
            self.frames_changed.emit(tuple(frames))
        for fid, kind in masks:
            self.masks_changed.emit(fid, kind)
        for name, args in latest.items():
            self.signals()[name].emit(*args)
        for key in settings:
            self.settings_changed.emit(key)
