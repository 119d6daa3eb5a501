"""Autosave: write an editor's mask as the frame's correction whenever it changed since the last write.

The write is `Workspace.write_mask(frame, "corrected", ...)`: a temporary
file and a rename (seggui.core.atomic), so a kill at any moment leaves the
previous correction or the new one on disk, never a torn PNG; it also moves
the frame's status to "corrected" (a reviewed frame stays reviewed). The
window calls `save` after every stroke (debounced) and before leaving a
picture, so a crash loses at most the stroke being drawn. What is written
is the editor's *kept* mask (`Editor.kept_labels`, `kept_version`): a
refine preview on show is not the analyst's until Enter, so no save, and no
crash after one, can put it on disk.

Encoding a large mask as PNG takes a while (0.4 s for 8000x6000), too long
for the window's thread between two strokes. So a save also comes in three
steps: `snapshot` (a copy of the labels at one version, on the editor's
thread), `write_snapshot` (encode and atomic write, safe on a worker thread:
it touches only the mask file) and `commit` (the status and seggui.json, on
the workspace owner's thread again).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seggui.core.editing.editor import Editor
from seggui.core.masks import write_mask
from seggui.core.workspace import FrameStatus, Workspace


class AutoSave:
    """Tracks which version of an editor's mask is on disk."""

    def __init__(self, workspace: Workspace, frame_id: str, editor: Editor) -> None:
        self.workspace = workspace
        self.frame_id = frame_id
        self.editor = editor
        self.saved_version = editor.kept_version  # the starting mask needs no write until edited
        self.writes = 0

    @property
    def pending(self) -> bool:
        """True when the kept mask changed since it was last written (a refine preview is not kept)."""
        return self.editor.kept_version != self.saved_version

    def save(self, force: bool = False) -> Path | None:
        """Write the mask if it changed (or `force`); returns the path written, else None."""
        if not (self.pending or force):
            return None
        version = self.editor.kept_version
        path = self.workspace.write_mask(self.frame_id, "corrected", self.editor.kept_labels())
        self.saved_version = version
        self.writes += 1
        return path

    def snapshot(self, into: np.ndarray | None = None) -> tuple[int, np.ndarray]:
        """(kept version, a copy of the kept labels): `into`, of the right shape, is reused (no new pages)."""
        return self.editor.kept_version, self.editor.kept_labels(into)

    def write_snapshot(self, labels: np.ndarray) -> Path:
        """Write a snapshot as the correction file (atomic); thread-safe, the workspace is not touched."""
        return write_mask(self.workspace.mask_path(self.frame_id, "corrected"), labels)

    def commit(self, version: int) -> None:
        """Record a written snapshot of `version`: the frame's status, seggui.json, what is on disk."""
        if version <= self.saved_version and self.writes:
            return  # an older snapshot than one already recorded (or recorded twice)
        self.workspace.record_mask(self.frame_id, "corrected")
        self.saved_version = max(self.saved_version, version)
        self.writes += 1

    def mark_reviewed(self) -> Path | None:
        """Save the mask (always, so the retraining set has it) and mark the frame reviewed."""
        path = self.save(force=True)
        self.workspace.set_status(self.frame_id, FrameStatus.REVIEWED)
        return path
