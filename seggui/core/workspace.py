"""A workspace: one folder on disk that holds an analyst's session.

Layout::

    WORKSPACE/
      seggui.json        classes, model, GSD, sources and per-frame status
      predicted/ID.png   model output (index masks)
      confidence/ID.png  max-softmax confidence x 255 (optional)
      corrected/ID.png   the analyst's corrections (index masks)
      ground_truth/ID.png
      reports/           exported reports
      models/            model versions trained from this workspace

Masks live on disk, one PNG per frame, never a whole drive in RAM. Every write
is atomic (seggui.core.atomic), so killing the app at any moment leaves each
file whole: the previous version or the new one. Pictures are referenced by
path (relative to the workspace when they lie inside it), not copied, unless
the caller asks.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seggui.core.class_map import ClassMap
from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import BadInputError
from seggui.core.frame_ids import check_frame_id, safe_mask_path
from seggui.core.frame_record import FrameRecord, FrameStatus
from seggui.core.gsd import Gsd
from seggui.core.jsonfile import read_json
from seggui.core.mask_kind import LABEL_KINDS, MaskKind
from seggui.core.masks import read_mask, write_mask
from seggui.core.path_facts import PathFacts
from seggui.core.workspace_merge import save_merged, snapshot
from seggui.core.workspace_schema import check_workspace, workspace_classes
from seggui.core.workspace_state import WorkspaceState

WORKSPACE_FILE = "seggui.json"
FORMAT = "seggui-workspace/1"
MASK_KINDS = tuple(str(k) for k in LABEL_KINDS)  # the class-id masks; every kind: MaskKind
__all__ = ["FORMAT", "MASK_KINDS", "WORKSPACE_FILE", "FrameRecord", "FrameStatus", "Workspace"]


@dataclass
class Workspace(WorkspaceState):
    """A session folder; see the module docstring for the layout. Changed only through its methods, which emit
    (seggui.core.workspace_state, seggui.core.events)."""

    root: Path
    classes: ClassTable
    model: str | None = None
    gsd: Gsd | None = None
    frames: dict[str, FrameRecord] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    class_map: ClassMap | None = None  # ground truth held in another class table (seggui.core.class_map)
    # seggui.json as this process last read or wrote it: save() applies only our changes since (a merge)
    _saved: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    # who has it open when this process may only read it (a second window): nothing is saved then
    read_only: str | None = field(default=None, init=False, repr=False, compare=False)

    # --------------------------------------------------------------- life cycle
    @classmethod
    def create(
        cls,
        root: str | Path,
        classes: ClassTable | str | Path,
        model: str | None = None,
        gsd: Gsd | float | None = None,
    ) -> Workspace:
        """Make a new workspace folder (refuses one that already holds a workspace).

        `gsd` is a `Gsd` (from a world file, GeoTIFF, ...) or metres per pixel
        the user states.
        """
        root = Path(root)
        if (root / WORKSPACE_FILE).exists():
            raise BadInputError(root, "already holds a workspace; open it instead")
        table = classes if isinstance(classes, ClassTable) else load_classes(classes)
        if gsd is not None and not isinstance(gsd, Gsd):
            gsd = Gsd.square(gsd)
        ws = cls(root, table, model, gsd)
        root.mkdir(parents=True, exist_ok=True)
        ws.save()
        return ws

    @classmethod
    def open(cls, root: str | Path) -> Workspace:
        """Open an existing workspace folder (or its seggui.json)."""
        root = Path(root)
        if root.name == WORKSPACE_FILE:
            root = root.parent
        path = root / WORKSPACE_FILE
        data = read_json(path, "workspace", BadInputError(root, f"not a workspace (no {WORKSPACE_FILE})"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BadInputError(path, f"not a {FORMAT} file")
        check_workspace(data, path)  # wrong types are named here, never a traceback further on
        classes = data.get("classes")
        table = workspace_classes(classes, path)  # type: ignore[arg-type]  # check_workspace: present
        gsd = data.get("gsd")
        frames = {}
        for fid, rec in (data.get("frames") or {}).items():
            try:
                status = FrameStatus(rec.get("status", "none"))
            except ValueError:
                raise BadInputError(path, f"frame {fid!r} has unknown status {rec.get('status')!r}") from None
            frames[fid] = FrameRecord(
                fid, rec.get("image"), rec.get("source"), rec.get("index"), status,
                bool(rec.get("has_gt")), rec.get("model"), rec.get("pattern"),
            )
        cmap = data.get("class_map")
        ws = cls(
            root,
            table,
            data.get("model"),
            Gsd.from_workspace(gsd, path) if gsd else None,
            frames,
            dict(data.get("settings") or {}),
            ClassMap.from_dict(cmap, table, path) if cmap else None,
        )
        ws._saved = snapshot(ws.to_dict())
        return ws

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "classes": self.classes.to_dict(),
            "model": self.model,
            "gsd": self.gsd.to_dict() if self.gsd else None,
            "settings": self.settings,
            "class_map": self.class_map.to_dict() if self.class_map else None,
            "frames": {fid: rec.to_dict() for fid, rec in self.frames.items()},
        }

    def save(self) -> None:
        """Write seggui.json atomically, under the workspace lock, merged with other processes' changes.

        Only what this process changed since it last read or wrote the file
        goes in (seggui.core.workspace_merge), so a retrain saving beside the
        window never undoes the statuses the analyst just set.
        """
        if self._save_deferred():  # inside batch(): written once when the batch ends
            return
        self.check_writable()
        ours = snapshot(self.to_dict())
        save_merged(self.root / WORKSPACE_FILE, ours, self._saved)
        self._saved = ours

    def check_writable(self) -> None:
        """Refuse to write a workspace this process opened read-only (it is open in another window)."""
        if self.read_only:
            raise BadInputError(self.root, f"is open in another window ({self.read_only}); this window only "
                                "reads it: close the other one, then open it again here to edit")

    # ----------------------------------------------------------------- frames
    def _ref(self, path: Path) -> str:
        """Store a path relative to the workspace when it lies inside it."""
        facts: PathFacts | None = self.__dict__.get("_facts")
        real = facts.resolve if facts else Path.resolve  # one resolve of the folder while adding many
        path, root = real(path), real(self.root)
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return str(path)

    def _resolve(self, ref: str) -> Path:
        p = Path(ref)
        return p if p.is_absolute() else self.root / p

    def add_image(self, path: str | Path, copy: bool = False, frame_id: str | None = None) -> FrameRecord:
        """Add a picture; with `copy`, it is copied into images/ first."""
        path = Path(path)
        if not path.is_file():
            raise BadInputError(path, "picture not found")
        if copy:
            dest = self.root / "images" / path.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.resolve() != path.resolve():
                shutil.copy2(path, dest)
            path = dest
        fid = check_frame_id(frame_id or path.stem, path)
        if fid in self.frames and self.frames[fid].image != self._ref(path):
            raise BadInputError(path, f"frame id {fid!r} already names another picture")
        rec = self.frames.get(fid) or FrameRecord(fid)
        rec.image = self._ref(path)
        rec.source = rec.index = rec.pattern = None  # a picture stands alone (add_sequence_frames re-links)
        self.frames[fid] = rec
        rec.has_gt = self._has_mask(fid, MaskKind.GROUND_TRUTH)
        if rec.status == FrameStatus.NONE and self._has_mask(fid, MaskKind.PREDICTED):
            rec.status = FrameStatus.PREDICTED
        self.events.frames([fid])
        return rec

    def add_images(self, paths: Iterable[str | Path], copy: bool = False) -> list[FrameRecord]:
        """Add several pictures and save once."""
        with self.batch(), self.adding_files():
            recs = [self.add_image(p, copy) for p in paths]
            self.save()
        return recs

    def add_video_frames(self, video: str | Path, names: Iterable[str]) -> list[FrameRecord]:
        """Register the frames of a video (frame ids from the media source)."""
        ref = self._ref(Path(video))
        names = [check_frame_id(fid, video) for fid in names]  # all checked before any is added
        recs = []
        for i, fid in enumerate(names):
            rec = self.frames.get(fid) or FrameRecord(fid)
            rec.source, rec.index = ref, i
            self.frames[fid] = rec
            recs.append(rec)
        self.save()
        self.events.frames(r.id for r in recs)
        return recs

    def add_sequence_frames(self, folder: str | Path, pattern: str | None, files: Iterable[str | Path],
                            names: Iterable[str]) -> list[FrameRecord]:
        """Register an image sequence: each picture as a frame of the drive `folder`/`pattern`.

        `files` in frame order with their frame ids (`FolderSource.files` and
        names). The frames stay pictures (training, reports and ground truth
        read them as files) and also know their drive and index, so the window
        treats them like video frames: timeline, play, drive-wide runs.
        """
        ref = self._ref(Path(folder))
        pairs = list(zip([Path(f) for f in files], names, strict=True))
        for path, fid in pairs:  # refuse before changing anything: never half a drive
            check_frame_id(fid, path)
            rec = self.frames.get(fid)
            if rec is not None and rec.image is not None and rec.image != self._ref(path):
                raise BadInputError(path, f"frame id {fid!r} already names {rec.image} in this workspace; "
                                    "the sequence is not opened as a drive")
        recs = []
        with self.batch():
            for i, (path, fid) in enumerate(pairs):
                rec = self.add_image(path, frame_id=fid)
                rec.source, rec.index, rec.pattern = ref, i, pattern
                recs.append(rec)
            self.save()
        return recs

    def reconcile_folder(self, folder: str | Path, present: set[str]) -> tuple[list[str], list[str]]:
        """Bring the frames that came from `folder` in line with what it holds now.

        `present` are the frame ids just registered from it. Any other frame
        of this folder left its drive (a sequence that shrank below the
        minimum, a file renamed): it is detached, a lone picture again. One
        whose picture is gone is dropped when it holds no work of the analyst
        (no correction, no ground truth), else kept so nothing is lost.
        Returns (dropped ids, kept ids whose picture is missing); the caller
        saves (it has more to record in the same write).
        """
        where = Path(folder).resolve()
        dropped, missing, touched = [], [], []
        for fid, rec in list(self.frames.items()):
            if fid in present or rec.image is None:
                continue
            image = self._resolve(rec.image)
            if image.parent.resolve() != where:
                continue
            if rec.source is not None or not image.exists():
                touched.append(fid)
            rec.source = rec.index = rec.pattern = None
            if image.exists():
                continue
            if rec.status in (FrameStatus.NONE, FrameStatus.PREDICTED) and not rec.has_gt:
                del self.frames[fid]
                dropped.append(fid)
            else:
                missing.append(fid)
        self.events.frames(touched)
        return dropped, missing

    def drives(self) -> dict[str, list[str]]:
        """Frame ids of each drive (see `FrameRecord.drive`), in frame order."""
        return self.split_by_drive(self.frames)[1]

    def split_by_drive(self, frame_ids: Iterable[str]) -> tuple[list[str], dict[str, list[str]]]:
        """(the pictures among `frame_ids`, the drive frames by drive in frame order); unknown ids dropped.

        Predicting needs this split: pictures go through one list of files,
        each drive through its own source, decoded in order.
        """
        pictures: list[str] = []
        drives: dict[str, list[tuple[int, str]]] = {}
        for fid in frame_ids:
            rec = self.frames.get(fid)
            if rec is None:
                continue
            if rec.drive is not None:
                drives.setdefault(rec.drive, []).append((rec.index or 0, fid))
            elif rec.image is not None:
                pictures.append(fid)
        return pictures, {k: [fid for _i, fid in sorted(v)] for k, v in drives.items()}

    def predicted_by(self, frame_id: str, model: str | None) -> bool:
        """Whether `model` (name@version) already predicted this frame and its mask is on disk (resume)."""
        rec = self.frames.get(frame_id)
        return rec is not None and rec.model == model and self.mask_path(frame_id, "predicted").exists()

    def open_drive(self, frame_id: str) -> Any:
        """A media `Source` over the drive of a frame (the caller closes it); BadInputError for a picture."""
        from seggui.core.media import open_source

        rec = self._record(frame_id)
        if rec.source is None:
            raise BadInputError(self.image_path(frame_id), f"frame {frame_id!r} is a picture, not a drive's")
        return open_source(self._resolve(rec.source), pattern=rec.pattern)

    def image_path(self, frame_id: str) -> Path | None:
        """The picture file of a frame (None for video frames)."""
        rec = self._record(frame_id)
        return self._resolve(rec.image) if rec.image else None

    def source_path(self, frame_id: str) -> Path | None:
        """The video or sequence folder a frame comes from (None for pictures)."""
        rec = self._record(frame_id)
        return self._resolve(rec.source) if rec.source else None

    def _record(self, frame_id: str) -> FrameRecord:
        try:
            return self.frames[frame_id]
        except KeyError:
            raise BadInputError(self.root, f"no frame {frame_id!r} in this workspace") from None

    # ------------------------------------------------------------------ masks
    def _has_mask(self, frame_id: str, kind: str) -> bool:
        """Whether the mask file exists; in a batch from one listing of its folder (see path_facts)."""
        facts: PathFacts | None = self.__dict__.get("_facts")
        known = facts.has_file(self.root / kind, f"{frame_id}.png") if facts else None
        return self.mask_path(frame_id, kind).exists() if known is None else known

    def mask_path(self, frame_id: str, kind: str) -> Path:
        """Where a frame's mask of a kind (predicted/corrected/ground_truth) lives."""
        if kind not in MASK_KINDS and kind != MaskKind.CONFIDENCE:
            raise ValueError(f"unknown mask kind {kind!r}")
        return safe_mask_path(self.root, kind, frame_id)  # refuses a path outside the workspace

    @property
    def gt_classes(self) -> ClassTable:
        """The class table the ground-truth files are written in (the model's unless a class map says)."""
        return self.class_map.gt if self.class_map is not None else self.classes

    def read_mask(self, frame_id: str, kind: str) -> np.ndarray | None:
        """A frame's mask of a kind, or None when there is none.

        Ground truth comes back in the workspace's classes: through the class
        map when it was drawn in another table, so every comparison and
        measurement sees one numbering.
        """
        self._record(frame_id)
        path = self.mask_path(frame_id, kind)
        if not path.exists():
            return None
        if kind == MaskKind.GROUND_TRUTH:
            return self.read_truth_file(path)
        return read_mask(path, self.classes)

    def read_truth_file(self, path: str | Path) -> np.ndarray:
        """A ground-truth mask file in the workspace's classes (see `read_mask`)."""
        mask = read_mask(path, self.gt_classes)
        return self.class_map.apply(mask, self.classes) if self.class_map is not None else mask

    def current_mask(self, frame_id: str) -> np.ndarray | None:
        """The mask the analyst works on: the correction if any, else the prediction."""
        mask = self.read_mask(frame_id, MaskKind.CORRECTED)
        return mask if mask is not None else self.read_mask(frame_id, MaskKind.PREDICTED)

    def write_mask(
        self, frame_id: str, kind: str, mask: np.ndarray, model: str | None = None, save: bool = True
    ) -> Path:
        """Write a mask atomically and move the frame's status along.

        A prediction never downgrades a corrected or reviewed frame; a
        correction marks the frame corrected (a reviewed frame stays reviewed;
        a propagated one the analyst edited becomes corrected, as an edited
        frame of a track becomes a keyframe in CVAT).
        """
        self._record(frame_id)  # an unknown frame is refused before anything is written
        self.check_writable()
        path = write_mask(self.mask_path(frame_id, kind), mask)
        self.record_mask(frame_id, kind, model, save)
        return path

    def record_mask(self, frame_id: str, kind: str, model: str | None = None, save: bool = True) -> None:
        """Move a frame's status along for a mask of `kind` just written to `mask_path` (see write_mask).

        Separate from the write so the file can be written on a worker thread
        and the workspace, which is not thread-safe, updated on its owner's.
        """
        rec = self._record(frame_id)
        before = (rec.status, rec.model, rec.has_gt)
        if kind == MaskKind.PREDICTED:
            rec.model = model or self.model
            if rec.status == FrameStatus.NONE:
                rec.status = FrameStatus.PREDICTED
        elif kind == MaskKind.CORRECTED:
            if rec.status != FrameStatus.REVIEWED:  # an edited propagated frame is the analyst's now
                rec.status = FrameStatus.CORRECTED
        elif kind == MaskKind.GROUND_TRUTH:
            rec.has_gt = True
        if save:
            self.save()
        self.events.mask(frame_id, kind)
        if (rec.status, rec.model, rec.has_gt) != before:
            self.events.frames([frame_id])

    def set_model(self, ref: str | None, save: bool = True) -> None:
        """Record the model in use (what retraining fine-tunes and re-predicts with)."""
        if ref != self.model:
            self.model = ref
            if save:
                self.save()
            self.events.latest("model_changed", ref)

    def set_status(self, frame_id: str, status: FrameStatus | str, save: bool = True) -> None:
        """Set a frame's status (e.g. mark reviewed) and save; emits `frames_changed` when it moved."""
        rec, status = self._record(frame_id), FrameStatus(status)
        moved, rec.status = rec.status != status, status
        if save:
            self.save()
        if moved:
            self.events.frames([frame_id])

    def import_ground_truth(self, folder: str | Path) -> tuple[list[str], list[str]]:
        """Copy ground-truth masks whose stem matches a frame id (`seggui.core.opening.import_truth`)."""
        from seggui.core.opening import import_truth

        return import_truth(self, folder)

    def frames_with_status(self, *statuses: FrameStatus | str) -> list[str]:
        """Frame ids whose status is one of `statuses`."""
        wanted = {FrameStatus(s) for s in statuses}
        return [fid for fid, rec in self.frames.items() if rec.status in wanted]

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"
