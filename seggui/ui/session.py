"""The open session: one workspace, the current frame, and what the views show of it.

Every panel binds to this object: it listens to the change signals and reads
pictures, masks, confusion matrices and areas through it, never from disk on
its own. That keeps one cache (a picture is read once however many panels show
it), one place where a bad file is reported (once, not once per panel), and
the panels free of mask arithmetic: figures come from `seggui.core`.

Opening things (documented choice):
- a workspace folder, or its `seggui.json`: opened in place;
- a plain folder of pictures, or one picture: a *managed* workspace is made
  under the user data folder (`~/.local/share/seggui/workspaces/<name>-<hash>`,
  keyed by the absolute path), never inside the picture folder, which may be
  read-only, shared, or a dataset that must stay clean. Opening the same
  folder again finds the same workspace, with its predictions and
  corrections. The class table is `classes.json` in the folder or its
  parent, else the default preset;
- a folder's image sequences (numbered pictures such as CamVid's
  `0016E5_07959.png ...`, at least ten of them; `seggui.core.media.sequences`)
  open as drives in the same managed workspace: each picture is a frame that
  also knows its drive and index (`Workspace.add_sequence_frames`), so the
  timeline, play and drive-wide runs work on it as on a video. `FOLDER/GLOB`
  (or `open_folder(..., pattern=)`) opens one sequence only, and
  `pictures=True` turns detection off;
- a video file (mp4, avi, mkv, mov): a managed workspace like a picture
  folder's, with one frame record per video frame (`Workspace.add_video_frames`).
  Frames are decoded through `seggui.core.media`: one open `Source` per video
  and a `FrameCache` bounded in bytes, so a long drive browses in flat memory;
- ground truth: a folder of masks matched by file-name stem, or one mask for
  the current picture. When a managed workspace is made, a sibling mask
  folder with a well-known name (`<name>annot`, `<name>_labels`, `masks`
  beside `images`, ...) is imported automatically.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from seggui.core.area import AreaReport, area_per_class, count_regions
from seggui.core.classes import ClassTable, load_classes
from seggui.core.confusion import ConfusionMatrix
from seggui.core.editing import Editor
from seggui.core.errors import BadInputError
from seggui.core.gsd import Gsd, find_gsd
from seggui.core.images import is_image_file, list_images, read_image
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.masks import read_mask
from seggui.core.media import FolderSource, FrameCache, Source, is_video_file, open_source
from seggui.core.media.sequences import find_sequences
from seggui.core.report import parking_class
from seggui.core.workspace import WORKSPACE_FILE, FrameRecord, Workspace
from seggui.paths import user_data_dir

MASK_KINDS = ("current", "predicted", "corrected", "ground_truth", "confidence")
GT_SUFFIXES = ("annot", "_annot", "_labels", "_masks", "_gt")
GT_BESIDE_IMAGES = ("masks", "labels", "annotations", "ground_truth")
_CACHE_SIZE = 32
VIDEO_CACHE_BYTES = 192 << 20  # decoded frames kept per open video (about 60 frames of 1080p)


def ground_truth_candidates(pictures: Path) -> list[Path]:
    """Sibling folders that, by common dataset layouts, hold a picture folder's masks."""
    folder = pictures if pictures.is_dir() else pictures.parent
    names = [folder.name + s for s in GT_SUFFIXES]
    if folder.name.lower() in ("images", "imgs", "img", "pictures"):
        names += list(GT_BESIDE_IMAGES)
    return [folder.parent / n for n in names if (folder.parent / n).is_dir()]


class Session(QObject):
    """The state every view binds to; see the module docstring."""

    opened = Signal()  # a workspace was opened: frames, classes, everything may differ
    frameChanged = Signal(str)  # the current frame id ("" when none)
    masksChanged = Signal(str)  # a frame's prediction, correction or ground truth changed
    framesChanged = Signal()  # frame statuses or the frame list changed
    classViewChanged = Signal()  # active class or class visibility changed
    gsdChanged = Signal()
    leaving = Signal()  # the current frame or workspace is about to change: save edits now
    editChanged = Signal(str)  # an edit changed the frame's mask; live figures moved incrementally
    editSettled = Signal(str)  # editing paused: figures that need a whole pass (regions) may recount

    def __init__(self, log: Any, store_dir: Path | None = None, default_classes: str = "camvid-11",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log = log
        self.store_dir = Path(store_dir) if store_dir else user_data_dir() / "workspaces"
        self.default_classes = default_classes
        self.workspace: Workspace | None = None
        self.source: Path | None = None
        self.current: str | None = None
        self.active_class: int | None = None
        self.hidden: set[int] = set()
        self.min_region_px = 20
        self._cache: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._matrices: dict[str, ConfusionMatrix | None] = {}
        self._versions: dict[str, int] = {}
        self._reported: set[str] = set()
        self.editor: Editor | None = None  # the mask being edited (seggui.ui.editing owns it)
        self.editor_frame: str | None = None
        self._videos: dict[str, FrameCache] = {}  # by FrameRecord.drive

    # ------------------------------------------------------------- opening
    @property
    def classes(self) -> ClassTable | None:
        return self.workspace.classes if self.workspace else None

    @property
    def frame_ids(self) -> list[str]:
        return list(self.workspace.frames) if self.workspace else []

    def record(self, frame_id: str) -> FrameRecord:
        assert self.workspace is not None
        return self.workspace.frames[frame_id]

    def open_path(self, path: str | Path, pictures: bool | None = None) -> None:
        """Open a workspace, a folder of pictures, one picture or a video (see the module docstring).

        `pictures` applies to a plain folder (see `open_folder`).
        """
        path = Path(path).expanduser()
        if not path.exists() and path.parent.is_dir() and any(c in path.name for c in "*?["):
            return self.open_folder(path.parent, pattern=path.name)  # FOLDER/0016E5_*: one sequence
        if not path.exists():
            raise BadInputError(path, "not found")
        if path.is_dir():
            if (path / WORKSPACE_FILE).exists():
                return self.open_workspace(path)
            return self.open_folder(path, pictures=pictures)
        if path.name == WORKSPACE_FILE:
            return self.open_workspace(path.parent)
        if is_image_file(path):
            return self.open_image(path)
        if is_video_file(path):
            return self.open_video(path)
        raise BadInputError(path, "not a picture, a video, a folder of pictures, "
                            "or a workspace (seggui.json)")

    def open_workspace(self, root: str | Path) -> None:
        self._set_workspace(Workspace.open(root), Path(root))

    def open_folder(self, folder: str | Path, pattern: str | None = None,
                    pictures: bool | None = None) -> None:
        """A folder of pictures: its image sequences as drives, the other pictures as pictures.

        `pattern` opens one sequence only (`0016E5_*`, as in `seggui infer
        --pattern`). `pictures=True` turns sequence detection off (every
        picture stands alone, as in an aerial survey); None keeps the choice
        made when the folder was last opened. See `seggui.core.media.sequences`.
        """
        folder = Path(folder)
        if pattern:
            self._open_pictures(folder, [], [FolderSource(folder, pattern)], key=folder / pattern)
            return
        try:  # opened once here, for how it was opened last, and handed on (never read twice)
            known = self._existing(folder)
        except BadInputError:
            known = None  # reported when _open_pictures opens it for real
        if pictures is None:
            pictures = known is not None and known.settings.get("open_as") == "pictures"
        if pictures:
            sequences, loose = [], list_images(folder)
        else:
            sequences, loose = find_sequences(folder)
        if not sequences and not loose:
            raise BadInputError(folder, "no pictures (.png .jpg .tif ...) in this folder")
        self._open_pictures(folder, loose, [FolderSource(folder, q.pattern) for q in sequences],
                            open_as="pictures" if pictures else "sequences", ws=known)

    def _existing(self, key: Path) -> Workspace | None:
        """The managed workspace of `key` if one was made before, else None."""
        root = self.managed_root(key)
        return Workspace.open(root) if (root / WORKSPACE_FILE).exists() else None

    def _managed(self, key: Path, folder: Path) -> tuple[Workspace, bool]:
        """(the managed workspace of `key`, whether it is new): opened, or made with `folder`'s classes."""
        ws = self._existing(key)
        if ws is not None:
            return ws, False
        return Workspace.create(self.managed_root(key), self.guess_classes(folder)), True

    def open_image(self, path: str | Path) -> None:
        self._open_pictures(Path(path), [Path(path)], [])

    def open_video(self, path: str | Path) -> None:
        """A video as a drive: a managed workspace holding one frame per decodable video frame."""
        path = Path(path)
        src = open_source(path)  # BadInputError names an unreadable file or codec
        ws, _new = self._managed(path, path)
        ws.add_video_frames(path, [src.name(i) for i in range(len(src))])
        ws.settings["opened_from"] = str(path.resolve())
        ws.save()
        if src.warning:
            self.log.warning(src.warning)
        drive = ws.frames[src.name(0)].drive if len(src) else None
        self._set_workspace(ws, path, {drive: FrameCache(src, VIDEO_CACHE_BYTES)} if drive else None)

    def managed_root(self, key: Path) -> Path:
        """Where the managed workspace of a picture folder (or one picture) lives."""
        key = key.resolve()
        digest = hashlib.sha1(str(key).encode("utf-8")).hexdigest()[:10]
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key.name)[:40] or "root"
        return self.store_dir / f"{slug}-{digest}"

    def guess_classes(self, key: Path) -> ClassTable:
        """`classes.json` in the picture folder or its parent, else the default preset."""
        folder = key if key.is_dir() else key.parent
        for cand in (folder / "classes.json", folder.parent / "classes.json"):
            if cand.is_file():
                try:
                    return load_classes(cand)
                except BadInputError as exc:
                    self.log.warning(f"{exc}; using the {self.default_classes} classes")
        return load_classes(self.default_classes)

    def _open_pictures(self, folder: Path, pictures: list[Path], sequences: list[FolderSource],
                       key: Path | None = None, open_as: str | None = None,
                       ws: Workspace | None = None) -> None:
        """Pictures and image sequences into the managed workspace of `key` (default: `folder`).

        Sequences go first: their frame ids are their sources' frame names,
        which drive runs match on; a loose picture whose stem a sequence
        already uses gets `<stem>_<ext>`. Frames that left the folder since the
        last open are reconciled (`Workspace.reconcile_folder`). `ws`: the
        managed workspace of `key` when the caller has already opened it.
        """
        key = key or folder
        ws, new = (ws, False) if ws is not None else self._managed(key, folder)
        taken: set[str] = set()
        drives: dict[str, FrameCache] = {}
        for seq in sequences:
            if seq.warning:
                self.log.warning(seq.warning)
            names = [seq.name(i) for i in range(len(seq))]
            try:
                recs = ws.add_sequence_frames(seq.path, seq.pattern, seq.files, names)
            except BadInputError as exc:
                self.log.report(exc)
                continue
            drives[str(recs[0].drive)] = FrameCache(seq, VIDEO_CACHE_BYTES)
            taken.update(names)
            self.log.info(f"{seq.path.name}/{seq.pattern or ''}: {len(seq)} frames opened as a drive")
        for pic in pictures:
            fid = pic.stem if pic.stem not in taken else f"{pic.stem}_{pic.suffix.lstrip('.').lower()}"
            try:
                ws.add_image(pic, frame_id=fid)
                taken.add(fid)
            except BadInputError as exc:
                self.log.report(exc)
        if folder.is_dir():
            dropped, missing = ws.reconcile_folder(folder, taken)
            if dropped:
                self.log.info(f"{len(dropped)} frames whose pictures left {folder} were dropped "
                              f"(first: {dropped[0]}; they held no correction or ground truth)")
            if missing:
                self.log.warning(f"{folder}: the pictures of {len(missing)} frames with corrections or "
                                 f"ground truth are gone (first: {missing[0]}); their masks are kept")
        ws.settings["opened_from"] = str(key.resolve())
        if open_as:
            ws.settings["open_as"] = open_as
        ws.save()
        if new:
            for gt_dir in ground_truth_candidates(folder):
                self._import_gt(ws, gt_dir, sorted(taken))
                break
        self._set_workspace(ws, key, drives)

    def _set_workspace(self, ws: Workspace, source: Path,
                       videos: dict[str, FrameCache] | None = None) -> None:
        self.leaving.emit()
        self.workspace, self.source = ws, source
        self.close_videos()
        for key, cache in (videos or {}).items():
            self._videos[key] = cache
            self._own_fps(key, cache.source)
        self._cache.clear()
        self._matrices.clear()
        self._versions.clear()
        self._reported.clear()
        ids = list(ws.frames)
        self.current = ids[0] if ids else None
        scored = ws.classes.scored_ids
        try:  # the class the analyst measures first: the workspace's parking class, if it has one
            focus = parking_class(ws.classes, ws.settings.get("parking_class"))
        except BadInputError:
            focus = None
        self.active_class = focus if focus is not None else (scored[0] if scored else None)
        self.hidden = set()
        self.opened.emit()
        self.frameChanged.emit(self.current or "")

    # --------------------------------------------------------- ground truth
    def import_ground_truth(self, path: str | Path) -> int:
        """Import a folder of masks (by stem) or one mask for the current frame; returns the count."""
        ws = self._need_workspace()
        path = Path(path)
        if path.is_dir():
            done = self._import_gt(ws, path, list(ws.frames))
        else:
            if self.current is None:
                raise BadInputError(path, "open a picture before its ground truth")
            self.import_mask_file(self.current, path)
            done = 1
        self.framesChanged.emit()
        return done

    def _import_gt(self, ws: Workspace, folder: Path, stems: list[str]) -> int:
        wanted = set(stems)
        done, problems = ws.import_ground_truth(folder)
        # masks of pictures that were not opened are expected (a subset of a data set): one
        # summary line for them; every other problem is reported as it is
        others = [f"{p}:" for p in list_images(folder) if p.stem not in wanted]
        skipped = 0
        for problem in problems:
            if any(problem.startswith(o) for o in others):
                skipped += 1
            else:
                self.log.error(problem)
        note = f" ({skipped} masks without an open picture skipped)" if skipped else ""
        self.log.info(f"imported {len(done)} ground-truth masks from {folder}{note}")
        for fid in done:
            self._changed(fid)
        return len(done)

    def import_mask_file(self, frame_id: str, path: str | Path) -> None:
        """One mask file as the ground truth of one frame; the sizes must match."""
        ws = self._need_workspace()
        path = Path(path)
        mask = read_mask(path, ws.classes)
        image = self.image(frame_id)
        if image is not None and image.shape[:2] != mask.shape:
            raise BadInputError(
                path, f"mask is {mask.shape[1]}x{mask.shape[0]} but picture {frame_id} is "
                f"{image.shape[1]}x{image.shape[0]}")
        ws.write_mask(frame_id, "ground_truth", mask)
        self._changed(frame_id)
        self.masksChanged.emit(frame_id)

    # ------------------------------------------------------------- frames
    def set_frame(self, frame_id: str) -> None:
        if self.workspace is None or frame_id == self.current or frame_id not in self.workspace.frames:
            return
        self.leaving.emit()
        self.current = frame_id
        self.frameChanged.emit(frame_id)

    def step(self, delta: int) -> None:
        """Go `delta` frames forward (negative: back), stopping at the ends."""
        ids = self.frame_ids
        if not ids:
            return
        i = ids.index(self.current) if self.current in ids else 0
        self.set_frame(ids[max(0, min(len(ids) - 1, i + delta))])

    def set_active_class(self, class_id: int) -> None:
        if class_id != self.active_class:
            self.active_class = class_id
            self.classViewChanged.emit()

    def set_class_visible(self, class_id: int, visible: bool) -> None:
        if visible != (class_id not in self.hidden):
            (self.hidden.discard if visible else self.hidden.add)(class_id)
            self.classViewChanged.emit()

    # --------------------------------------------------------------- data
    def _report_once(self, key: str, exc: BadInputError) -> None:
        if key not in self._reported:
            self._reported.add(key)
            self.log.report(exc)

    def _cached(self, key: tuple[str, str], load: Any) -> Any:
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            value = load()
        except BadInputError as exc:
            self._report_once("/".join(key), exc)
            value = None
        self._cache[key] = value
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return value

    def image(self, frame_id: str | None = None) -> np.ndarray | None:
        """The frame's picture (RGB), or None when it cannot be read (reported once)."""
        ws, fid = self.workspace, frame_id or self.current
        if ws is None or fid is None:
            return None

        rec = ws.frames.get(fid)
        if rec is not None and rec.image is None and rec.source is not None:
            return self._video_frame(fid, rec)

        def load() -> np.ndarray:
            path = ws.image_path(fid)
            if path is None:
                raise BadInputError(ws.root, f"frame {fid} has neither a picture nor a video")
            return read_image(path)

        return self._cached((fid, "image"), load)

    def video(self, frame_id: str | None = None) -> Source | None:
        """The open media source of a frame's drive (None for pictures or an unreadable drive)."""
        fid = frame_id or self.current
        if self.workspace is None or fid is None or fid not in self.workspace.frames:
            return None
        cache = self._drive_cache(fid)
        return cache.source if cache is not None else None

    def drive_frames(self, frame_id: str | None = None) -> list[str]:
        """The frame ids of the drive a frame belongs to, in frame order ([] for a picture)."""
        fid = frame_id or self.current
        ws = self.workspace
        if ws is None or fid is None or fid not in ws.frames or ws.frames[fid].drive is None:
            return []
        return ws.drives()[ws.frames[fid].drive]

    def drive_fps(self, frame_id: str | None = None) -> float | None:
        """The frame rate of a frame's drive: the one set in the window, else the source's own."""
        src = self.video(frame_id)
        return float(src.fps) if src is not None and src.fps else None

    def set_drive_fps(self, fps: float, frame_id: str | None = None) -> None:
        """Set a drive's frame rate (an image sequence carries none); kept in the workspace settings."""
        ws, fid = self._need_workspace(), frame_id or self.current
        key = ws.frames[fid].drive if fid in ws.frames else None
        if key is None:
            raise BadInputError(ws.root, "a frame rate belongs to a drive: go to a frame of one first")
        if not fps > 0:
            raise BadInputError(ws.root, f"a frame rate must be positive, not {fps}")
        ws.settings.setdefault("drive_fps", {})[key] = float(fps)
        ws.save()
        src = self.video(fid)
        if src is not None:
            src.fps = float(fps)

    def _own_fps(self, key: str, src: Source) -> Source:
        """`src` with the rate the analyst set for its drive, if any."""
        fps = (self.workspace.settings.get("drive_fps") or {}).get(key) if self.workspace else None
        if isinstance(fps, int | float) and fps > 0:
            src.fps = float(fps)
        return src

    def _drive_cache(self, fid: str) -> FrameCache | None:
        """The frame cache over the drive of `fid`: one open source per video or image sequence."""
        assert self.workspace is not None
        key = self.workspace.frames[fid].drive
        if key is None:
            return None
        if key not in self._videos:
            try:
                src = self.workspace.open_drive(fid)
            except BadInputError as exc:
                self._report_once(key, exc)
                return None
            if src.warning:
                self.log.warning(src.warning)
            self._videos[key] = FrameCache(self._own_fps(key, src), VIDEO_CACHE_BYTES)
        return self._videos[key]

    def _video_frame(self, fid: str, rec: FrameRecord) -> np.ndarray | None:
        assert self.workspace is not None
        cache = self._drive_cache(fid)
        if cache is None:
            return None
        try:
            return cache.get(rec.index or 0)
        except BadInputError as exc:
            self._report_once(f"{fid}/image", exc)
        except IndexError as exc:
            self._report_once(f"{fid}/image", BadInputError(cache.source.path, str(exc)))
        return None

    def close_videos(self) -> None:
        """Release the decoders and cached frames of the open drives."""
        for cache in self._videos.values():
            cache.clear()
            cache.source.close()
        self._videos.clear()

    def mask(self, kind: str, frame_id: str | None = None) -> np.ndarray | None:
        """A frame's mask of a kind (see MASK_KINDS); None when absent or unreadable."""
        if kind not in MASK_KINDS:
            raise ValueError(f"unknown mask kind {kind!r}")
        ws, fid = self.workspace, frame_id or self.current
        if ws is None or fid is None:
            return None
        if kind == "current" and self.editor is not None and fid == self.editor_frame:
            return self.editor.labels  # the mask being painted, live

        def load() -> np.ndarray | None:
            if kind == "current":
                mask = ws.current_mask(fid)
            elif kind == "confidence":
                path = ws.mask_path(fid, "confidence")
                mask = read_mask(path) if path.exists() else None
            else:
                mask = ws.read_mask(fid, kind)
            image = self.image(fid)
            if mask is not None and image is not None and mask.shape != image.shape[:2]:
                where = ws.mask_path(fid, "corrected" if kind == "current" else kind)
                raise BadInputError(where, f"mask is {mask.shape[1]}x{mask.shape[0]} but picture "
                                    f"{fid} is {image.shape[1]}x{image.shape[0]}")
            return mask

        return self._cached((fid, kind), load)

    def frame_matrix(self, frame_id: str | None = None) -> ConfusionMatrix | None:
        """The confusion matrix of a frame's current mask against its ground truth, or None."""
        fid = frame_id or self.current
        if self.workspace is None or fid is None:
            return None
        if self.editor is not None and fid == self.editor_frame:
            return self.editor.matrix  # kept current by every edit
        if fid not in self._matrices:
            pred, gt = self.mask("current", fid), self.mask("ground_truth", fid)
            cm = None
            if pred is not None and gt is not None:
                cm = ConfusionMatrix.for_table(self.workspace.classes).update(pred, gt)
            self._matrices[fid] = cm
        return self._matrices[fid]

    def workspace_matrix_job(self) -> tuple[ConfusionMatrix, int, Any]:
        """(matrix of frames already known, their count, a job factory for the rest).

        The factory's job reads the remaining frames' masks on a worker thread
        and yields each frame's matrix in `Progress.data`; `store_matrix`
        keeps it (unless the frame changed meanwhile). It returns the total.
        """
        ws = self._need_workspace()
        table = ws.classes
        total = ConfusionMatrix.for_table(table)
        known = 0
        todo: list[tuple[str, int, list[Path], Path]] = []
        for fid, rec in ws.frames.items():
            if not rec.has_gt:
                continue
            if fid in self._matrices or fid == self.editor_frame:
                cm = self.frame_matrix(fid)
                if cm is not None:
                    total.merge(cm)
                    known += 1
                continue
            preds = [ws.mask_path(fid, "corrected"), ws.mask_path(fid, "predicted")]
            todo.append((fid, self._versions.get(fid, 0), preds, ws.mask_path(fid, "ground_truth")))

        def job(token: CancelToken) -> Job[tuple[ConfusionMatrix, int]]:
            acc, count = total.copy(), known
            for i, (fid, version, preds, gt_path) in enumerate(todo, 1):
                token.raise_if_cancelled()
                error, cm = None, None
                try:
                    pred_path = next((p for p in preds if p.exists()), None)
                    if pred_path is not None and gt_path.exists():
                        cm = ConfusionMatrix.for_table(table).update(
                            read_mask(pred_path, table), read_mask(gt_path, table), pred_path)
                        acc.merge(cm)
                        count += 1
                except BadInputError as exc:
                    error = str(exc)
                yield Progress(i, len(todo), fid, item=fid, error=error,
                               data={"frame": fid, "version": version, "matrix": cm})
            return acc, count

        return total, known, job

    def store_matrix(self, frame_id: str, version: int, matrix: ConfusionMatrix | None) -> None:
        """Keep a matrix computed in the background if its frame has not changed since."""
        if self._versions.get(frame_id, 0) == version and frame_id not in self._matrices:
            self._matrices[frame_id] = matrix

    def gsd(self, frame_id: str | None = None) -> Gsd | None:
        """The frame's GSD: georeferencing beside its picture first, else the workspace value."""
        ws, fid = self.workspace, frame_id or self.current
        if ws is None or fid is None:
            return None

        def load() -> Gsd | None:
            path = ws.image_path(fid)
            return find_gsd(path) if path is not None else None

        found = self._cached((fid, "gsd"), load)
        return found if found is not None else ws.gsd

    def set_gsd(self, m_per_px: float | None) -> None:
        """Set (or clear) the workspace GSD typed by the user, and save the workspace."""
        ws = self._need_workspace()
        ws.gsd = Gsd.square(m_per_px, "flag") if m_per_px else None
        ws.save()
        self._drop(lambda key: key[1].startswith("area:"))
        self.gsdChanged.emit()

    def area(self, kind: str = "current", frame_id: str | None = None) -> AreaReport | None:
        """Per-class area and region counts of a frame's mask (core.area), or None."""
        ws, fid = self.workspace, frame_id or self.current
        mask = self.mask(kind, fid)
        if ws is None or fid is None or mask is None:
            return None

        def load() -> AreaReport:
            gsd = self.gsd(fid)
            regions = count_regions(mask, ws.classes.scored_ids, gsd, min_px=self.min_region_px)
            return area_per_class(mask, ws.classes, gsd, regions)

        return self._cached((fid, f"area:{kind}:{self.min_region_px}"), load)

    # -------------------------------------------------------------- writing
    def apply_prediction(self, frame_id: str, labels: np.ndarray, confidence: np.ndarray | None,
                         model: str | None) -> None:
        """Store a model's output for a frame (on the main thread) and tell the views."""
        ws = self._need_workspace()
        if frame_id not in ws.frames:
            return
        if confidence is not None:
            ws.write_mask(frame_id, "confidence", confidence, save=False)
        ws.write_mask(frame_id, "predicted", labels, model=model)
        self._changed(frame_id)
        self.masksChanged.emit(frame_id)
        self.framesChanged.emit()

    def adopt_classes(self, table: ClassTable) -> None:
        """Switch a workspace that holds no masks yet to another class table (a model's)."""
        ws = self._need_workspace()
        if any(rec.status != "none" or rec.has_gt for rec in ws.frames.values()):
            raise BadInputError(ws.root, f"the workspace already holds {ws.classes.name} masks; "
                                f"a model with {table.name} classes cannot write into it")
        ws.classes = table
        ws.save()
        self._set_workspace(ws, self.source or ws.root)

    # -------------------------------------------------------------- editing
    def begin_editing(self, frame_id: str, editor: Editor) -> None:
        """Serve `editor`'s labels and matrix as the frame's current mask and figures from now on."""
        self.editor, self.editor_frame = editor, frame_id

    def end_editing(self) -> None:
        """Stop serving the editor (its mask must be saved); re-read the frame from disk next time."""
        fid, editor = self.editor_frame, self.editor
        self.editor, self.editor_frame = None, None
        if fid is not None and editor is not None:
            self._changed(fid)
            self._matrices[fid] = editor.matrix  # exact: no recount needed

    def live_area(self, frame_id: str | None = None) -> AreaReport | None:
        """The edited frame's areas from the live counts (regions left out), or None when not editing it."""
        fid = frame_id or self.current
        if self.editor is None or fid != self.editor_frame or self.workspace is None:
            return None
        return self.editor.live.counter.report(self.workspace.classes, self.gsd(fid))

    def note_edit(self, frame_id: str) -> None:
        self.editChanged.emit(frame_id)

    def note_settled(self, frame_id: str) -> None:
        """Forget figures derived from the frame's old mask (areas, regions) and tell the panels."""
        self._drop(lambda key: key[0] == frame_id and key[1].startswith("area:current"))
        self._versions[frame_id] = self._versions.get(frame_id, 0) + 1
        self.editSettled.emit(frame_id)

    # ------------------------------------------------------------- helpers
    def _need_workspace(self) -> Workspace:
        if self.workspace is None:
            raise BadInputError(None, "open a picture, a folder or a workspace first")
        return self.workspace

    def _drop(self, pred: Any) -> None:
        for key in [k for k in self._cache if pred(k)]:
            del self._cache[key]

    def _changed(self, frame_id: str) -> None:
        """Forget everything derived from a frame's masks."""
        self._drop(lambda key: key[0] == frame_id and key[1] != "image" and key[1] != "gsd")
        self._matrices.pop(frame_id, None)
        self._versions[frame_id] = self._versions.get(frame_id, 0) + 1
        self._reported = {k for k in self._reported if not k.startswith(frame_id + "/")}
