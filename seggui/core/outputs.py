"""Where inference results go: a folder of masks, or a workspace.

Both sinks take (index, frame id, picture, prediction) on the pipeline's
writer thread and write atomically, one PNG per frame, so a stopped run keeps
every frame it finished and `done()` tells the pipeline what to skip on
resume. The prediction is duck-typed (`.labels`, `.confidence`): core never
imports the engine.
"""

from __future__ import annotations

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
