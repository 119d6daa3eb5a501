"""Editors of frames the analyst left, kept so that coming back brings the undo history back.

Correcting a drive means going back and forth between near-identical
frames; an undo history that vanishes on each frame change makes every
return a one-way street. The window parks the editor of a frame it leaves
(its correction already saved) and takes it back on return, as long as the
correction on disk is still the one that editor wrote (`stamp`: the file's
size and modification time): a correction changed behind its back (another
window, an import, a re-predict) discards the parked editor instead of
undoing into stale pixels. Parked editors cost their labels plus their undo
records; the oldest are let go beyond `budget_bytes`.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from seggui.core.editing.editor import Editor

DEFAULT_SHELF_BYTES = 384 << 20

Stamp = tuple[int, int] | None


def file_stamp(path: Path) -> Stamp:
    """(size, mtime in ns) of a file, or None when it is absent."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def editor_bytes(editor: Editor) -> int:
    return int(editor.labels.nbytes + editor.history.nbytes)


class EditorShelf:
    """Parked editors by frame id, least recently parked let go first."""

    def __init__(self, budget_bytes: int = DEFAULT_SHELF_BYTES) -> None:
        self.budget_bytes = int(budget_bytes)
        self._parked: OrderedDict[str, tuple[Editor, Stamp]] = OrderedDict()

    @property
    def nbytes(self) -> int:
        return sum(editor_bytes(e) for e, _s in self._parked.values())

    def __contains__(self, frame_id: str) -> bool:
        return frame_id in self._parked

    def __len__(self) -> int:
        return len(self._parked)

    def put(self, frame_id: str, editor: Editor, stamp: Stamp) -> bool:
        """Park an editor whose correction on disk has `stamp`; False when not worth keeping."""
        self._parked.pop(frame_id, None)
        if not (editor.history.can_undo or editor.history.can_redo) or stamp is None:
            return False
        if editor_bytes(editor) > self.budget_bytes:
            return False
        self._parked[frame_id] = (editor, stamp)
        while self.nbytes > self.budget_bytes:
            self._parked.popitem(last=False)
        return True

    def take(self, frame_id: str, stamp: Stamp) -> Editor | None:
        """The parked editor of a frame if its correction on disk is unchanged (it leaves the shelf)."""
        parked = self._parked.pop(frame_id, None)
        if parked is None or parked[1] != stamp:
            return None
        return parked[0]

    def clear(self) -> None:
        self._parked.clear()
