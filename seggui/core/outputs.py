"""Where inference results go: a folder of masks, or a workspace.

Both sinks take (index, frame id, picture, prediction) on the pipeline's
writer thread and write atomically, one PNG per frame, so a stopped run keeps
every frame it finished and `done()` tells the pipeline what to skip on
resume. The prediction is duck-typed (`.labels`, `.confidence`): core never
imports the engine.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from seggui.core.area import area_per_class
from seggui.core.classes import ClassTable
from seggui.core.csvfile import write_csv
from seggui.core.gsd import Gsd
from seggui.core.masks import read_mask, write_mask
from seggui.core.workspace import Workspace


class PredictionLike(Protocol):
    labels: np.ndarray
    confidence: np.ndarray | None


def confidence_png(confidence: np.ndarray) -> np.ndarray:
    """Max-softmax confidence in [0, 1] as uint8 0..255 (what confidence/*.png stores)."""
    return np.clip(np.rint(confidence * 255.0), 0, 255).astype(np.uint8)


class FolderOutputs:
    """OUT/masks/ID.png (+ OUT/confidence/ID.png), and a per-frame area CSV on request."""

    def __init__(self, out: str | Path, table: ClassTable, write_confidence: bool = False) -> None:
        self.out = Path(out)
        self.table = table
        self.write_confidence = write_confidence
        self.masks = self.out / "masks"
        self.masks.mkdir(parents=True, exist_ok=True)

    def mask_path(self, frame_id: str) -> Path:
        return self.masks / f"{frame_id}.png"

    def confidence_path(self, frame_id: str) -> Path:
        return self.out / "confidence" / f"{frame_id}.png"

    def done(self, index: int, frame_id: str) -> bool:
        """True when the frame's mask (and confidence, when asked for) is on disk (atomic: present is whole).

        Which model made them is checked once per folder (seggui.core.run_record).
        """
        return self.mask_path(frame_id).exists() and (
            not self.write_confidence or self.confidence_path(frame_id).exists())

    def __call__(self, index: int, frame_id: str, frame: np.ndarray, pred: PredictionLike) -> None:
        write_mask(self.mask_path(frame_id), pred.labels)
        if self.write_confidence and pred.confidence is not None:
            write_mask(self.confidence_path(frame_id), confidence_png(pred.confidence))

    def write_area_csv(self, frame_ids: list[str], gsd_of: Any, path: str | Path | None = None) -> Path:
        """One row per frame with a mask: m² per class (pixels when no GSD), in frame order.

        `gsd_of(frame_id) -> Gsd | None` gives each frame's GSD.
        """
        names = [c.name for c in self.table.classes if c.id != self.table.ignore_index]
        header = ["frame", "gsd_m_per_px", *[f"{n} px" for n in names], *[f"{n} m2" for n in names]]
        rows = []
        for fid in frame_ids:
            p = self.mask_path(fid)
            if not p.exists():
                continue
            gsd: Gsd | None = gsd_of(fid)
            area = area_per_class(read_mask(p, self.table), self.table, gsd)
            scored = [c for c in area.classes if c.id != self.table.ignore_index]
            rows.append([fid, "" if gsd is None else f"{gsd.m_per_px:.6g}",
                         *[c.pixels for c in scored],
                         *["" if c.m2 is None else f"{c.m2:.4f}" for c in scored]])
        return write_csv(path or self.out / "areas.csv", header, rows, lineterminator="\r\n")


class WorkspaceOutputs:
    """Predictions into a workspace's predicted/ (and confidence/) folders.

    A frame the analyst corrected keeps its correction: the prediction is
    still written beside it (so IoU of the model can be measured) but the
    status does not go back. seggui.json is saved every `save_every` frames
    and at `close()`.
    """

    def __init__(self, ws: Workspace, model: str | None, write_confidence: bool = True,
                 save_every: int = 50) -> None:
        self.ws = ws
        self.model = model
        self.write_confidence = write_confidence
        self.save_every = save_every
        self._since_save = 0

    def done(self, index: int, frame_id: str) -> bool:
        """Predicted by this model already, with its confidence file when those are written (resume)."""
        return self.ws.predicted_by(frame_id, self.model) and (
            not self.write_confidence or self.ws.mask_path(frame_id, "confidence").exists())

    def __call__(self, index: int, frame_id: str, frame: np.ndarray, pred: PredictionLike) -> None:
        self.ws.write_mask(frame_id, "predicted", pred.labels, model=self.model, save=False)
        if self.write_confidence and pred.confidence is not None:
            write_mask(self.ws.mask_path(frame_id, "confidence"), confidence_png(pred.confidence))
        self._since_save += 1
        if self._since_save >= self.save_every:
            self.close()

    def close(self) -> None:
        self.ws.save()
        self._since_save = 0


class DeferredWorkspaceOutputs:
    """Predictions written as files on the pipeline's writer thread, recorded in the workspace later.

    For a workspace owned by another thread (the window's GUI thread): the
    PNG encoding and writing happen here, off that thread, and the frames
    written wait in a list until the owner calls `record()`, which moves
    their statuses in one `Workspace.batch()` (one seggui.json write,
    coalesced events) instead of one save per frame, which costs O(n²) on a
    drive. `notify()` (from the writer thread) tells the owner a batch is
    due: `every_s` seconds after the last one once `min_n` frames wait (the
    owner raises `min_n` when recording costs more, so its time per frame
    stays small; `max_s` seconds at the latest), or `every_n` frames, and at
    `close()`. A frame corrected meanwhile keeps its correction (see
    `Workspace.record_mask`); `stop()` writes nothing more (the workspace
    was closed).
    """

    def __init__(self, ws: Workspace, model: str | None, *, write_confidence: bool = True,
                 every_s: float = 0.5, every_n: int = 500, max_s: float = 30.0, notify: Any = None) -> None:
        self.ws = ws
        self.model = model
        self.write_confidence = write_confidence
        self.every_s = every_s
        self.every_n = every_n
        self.max_s = max_s
        self.min_n = 1
        self.notify = notify
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._last = time.monotonic()
        self._stopped = False
        self._asked = False  # notify() was called and the owner has not taken the frames yet

    def done(self, index: int, frame_id: str) -> bool:
        """Predicted by this model already (read on the owner's thread, when planning)."""
        return self.ws.predicted_by(frame_id, self.model)

    def __call__(self, index: int, frame_id: str, frame: np.ndarray, pred: PredictionLike) -> None:
        if self._stopped:
            return
        if self.write_confidence and pred.confidence is not None:  # first: a reader of the labels finds both
            write_mask(self.ws.mask_path(frame_id, "confidence"), confidence_png(pred.confidence))
        write_mask(self.ws.mask_path(frame_id, "predicted"), pred.labels)
        with self._lock:
            self._pending.append(frame_id)
            waited, n = time.monotonic() - self._last, len(self._pending)
            due = not self._asked and (n >= self.every_n or waited >= self.max_s
                                       or (waited >= self.every_s and n >= self.min_n))
            if due:  # once until the owner takes them
                self._last, self._asked = time.monotonic(), True
        if due and self.notify is not None:
            self.notify()

    def take(self) -> list[str]:
        """The frames written since the last call (any thread)."""
        with self._lock:
            taken, self._pending, self._asked = self._pending, [], False
        return taken

    def record(self, ws: Workspace | None = None) -> list[str]:
        """On the workspace's thread: record the frames written so far in `ws` (default: the run's).

        `ws` may be a newer object for the same folder (the workspace was
        opened again); frames it no longer has are left out.
        """
        ws = ws if ws is not None else self.ws
        taken = [fid for fid in self.take() if fid in ws.frames]
        if taken:
            with ws.batch():
                for fid in taken:
                    ws.record_mask(fid, "predicted", self.model)
        return taken

    def stop(self) -> None:
        """Write no more files (any thread); what was written stays to be taken."""
        self._stopped = True

    def close(self) -> None:
        """The run ended (writer thread): the owner is told to record the last frames."""
        if self.notify is not None:
            self.notify()
