"""The open session: one workspace, the current frame, and what the views show of it.

Every panel binds to this object: it listens to the change signals and reads
pictures, masks, confusion matrices and areas through it, never from disk on
its own: one cache, one place where a bad file is reported (once), and no
mask arithmetic in the panels (figures come from `seggui.core`).

The workspace owns its state (`seggui.core.workspace_state`): the session
re-emits its events as Qt signals (`framesChanged`, `masksChanged`,
`gsdChanged`, ...); nobody emits those on the workspace's behalf. Opening is
`seggui.core.opening` and drive frames come through `seggui.core.drive_media`.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from seggui.core.area import MIN_REGION_KEY, AreaReport, area_per_class, count_regions, min_region_px
from seggui.core.classes import ClassTable
from seggui.core.confusion import ConfusionMatrix
from seggui.core.drive_media import DriveMedia
from seggui.core.editing import Editor
from seggui.core.errors import BadInputError
from seggui.core.geo.bands import saved_bands  # View ▸ Bands…
from seggui.core.geo.ortho_region import frame_picture  # an orthomosaic's picture: its overviews
from seggui.core.gsd import Gsd, find_gsd
from seggui.core.mask_kind import MaskKind
from seggui.core.masks import check_mask_size, read_mask
from seggui.core.media import Source
from seggui.core.opening import Notes, Opener, import_truth_folder
from seggui.core.report import parking_class
from seggui.core.truth_matrices import matrix_job
from seggui.core.workspace import FrameRecord, Workspace
from seggui.core.workspace_lock import LeaseKeeper
from seggui.paths import user_data_dir
from seggui.ui.background_call import call_in_background, on_gui_thread
from seggui.ui.main_thread import MainThreadRelay

MASK_KINDS = tuple(MaskKind)  # strings work too: MaskKind is a StrEnum
_CACHE_SIZE = 32


class Session(QObject):
    """The state every view binds to; see the module docstring."""

    opened = Signal()  # a workspace was opened: frames, classes, everything may differ
    frameChanged = Signal(str)  # the current frame id ("" when none)
    masksChanged = Signal(str)  # a frame's prediction, correction or ground truth changed
    framesChanged = Signal()  # frame statuses or the frame list changed
    classViewChanged = Signal()  # active class or class visibility changed
    gsdChanged = Signal()
    modelChanged = Signal(str)  # the workspace's model in use ("" when none)
    classesChanged = Signal()  # the workspace's class table or class map
    settingsChanged = Signal(str)  # one workspace setting, by key
    leaving = Signal()  # the current frame or workspace is about to change: save edits now
    editChanged = Signal(str)  # an edit changed the frame's mask; live figures moved incrementally
    editSettled = Signal(str)  # editing paused: figures that need a whole pass (regions) may recount

    def __init__(self, log: Any, store_dir: Path | None = None, default_classes: str = "camvid-11",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log = log
        self.store_dir = Path(store_dir) if store_dir else user_data_dir() / "workspaces"
        self.default_classes = default_classes
        self.ask_classes: Any = None  # the class table of a folder with ground truth and no classes.json
        self.lease = LeaseKeeper()
        self.read_only: str | None = None  # who else has the workspace open
        self.workspace: Workspace | None = None
        self.source: Path | None = None
        self.current: str | None = None
        self.active_class: int | None = None
        self.hidden: set[int] = set()
        self._cache: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._matrices: dict[str, ConfusionMatrix | None] = {}
        self._versions: dict[str, int] = {}
        self._reported: set[str] = set()
        self.editor: Editor | None = None  # the mask being edited (seggui.ui.editing owns it)
        self.editor_frame: str | None = None
        self.drives = DriveMedia(self._report_once, lambda text: self.log.warning(text))
        self._subscriptions: list[tuple[Any, Any]] = []  # (workspace signal, slot) while it is open
        self._relay = MainThreadRelay(self)

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
        """Open a workspace, a folder of pictures, one picture or a video (`seggui.core.opening`).

        `pictures` applies to a plain folder (`Opener.open_folder`).
        """
        opener = Opener(self.store_dir, self.default_classes, on_gui_thread(self.ask_classes))
        opened = call_in_background(lambda: opener.open(path, pictures))  # the window paints meanwhile
        opened.notes.tell(self.log)
        self._set_workspace(opened.workspace, opened.source, opened.drives)

    def _set_workspace(self, ws: Workspace, source: Path,
                       videos: dict[str, Source] | None = None, keep: str | None = None) -> None:
        self.leaving.emit()
        self.workspace, self.source = ws, source
        self.read_only = self.lease.hold(ws)  # a second window only reads (seggui.core.workspace_lock)
        self._subscribe(ws)
        self.drives.reset(ws, videos)
        self._cache.clear()
        self._matrices.clear()
        self._versions.clear()
        self._reported.clear()
        ids = list(ws.frames)
        self.current = keep if keep in ws.frames else (ids[0] if ids else None)
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
            notes = Notes()
            done = import_truth_folder(ws, path, list(ws.frames), notes)  # the workspace tells the views
            notes.tell(self.log)
            return len(done)
        if self.current is None:
            raise BadInputError(path, "open a picture before its ground truth")
        self.import_mask_file(self.current, path)
        return 1

    def import_mask_file(self, frame_id: str, path: str | Path) -> None:
        """One mask file as the ground truth of one frame; the sizes must match."""
        ws = self._need_workspace()
        path = Path(path)
        mask = read_mask(path, ws.gt_classes)  # the file keeps its own table; reads map it
        image = self.image(frame_id)
        if image is not None:
            check_mask_size(mask, image.shape[:2], path, frame_id)
        ws.write_mask(frame_id, MaskKind.GROUND_TRUTH, mask)  # the workspace tells the views

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
            return self.drives.frame(fid)

        def load() -> np.ndarray:
            path = ws.image_path(fid)
            if path is None:
                raise BadInputError(ws.root, f"frame {fid} has neither a picture nor a video")
            return frame_picture(ws.root, path, saved_bands(ws, path))

        return self._cached((fid, "image"), load)

    def video(self, frame_id: str | None = None) -> Source | None:
        """The open media source of a frame's drive (None for pictures or an unreadable drive)."""
        fid = frame_id or self.current
        return self.drives.source(fid) if fid is not None else None

    def drive_frames(self, frame_id: str | None = None) -> list[str]:
        """The frame ids of the drive a frame belongs to, in frame order ([] for a picture)."""
        fid, ws = frame_id or self.current, self.workspace
        drive = ws.frames[fid].drive if ws is not None and fid in ws.frames else None
        return ws.drives()[drive] if ws is not None and drive is not None else []

    def mask(self, kind: str, frame_id: str | None = None) -> np.ndarray | None:
        """A frame's mask of a kind (see MASK_KINDS); None when absent or unreadable."""
        if kind not in MASK_KINDS:
            raise ValueError(f"unknown mask kind {kind!r}")
        ws, fid = self.workspace, frame_id or self.current
        if ws is None or fid is None:
            return None
        if kind == MaskKind.CURRENT and self.editor is not None and fid == self.editor_frame:
            return self.editor.labels  # the mask being painted, live

        def load() -> np.ndarray | None:
            if kind == MaskKind.CURRENT:
                mask = ws.current_mask(fid)
            elif kind == MaskKind.CONFIDENCE:
                path = ws.mask_path(fid, MaskKind.CONFIDENCE)
                mask = read_mask(path) if path.exists() else None
            else:
                mask = ws.read_mask(fid, kind)
            image = self.image(fid)
            if mask is not None and image is not None:
                where = ws.mask_path(fid, MaskKind.CORRECTED if kind == MaskKind.CURRENT else kind)
                check_mask_size(mask, image.shape[:2], where, fid)
            return mask

        return self._cached((fid, kind), load)

    def frame_matrix(self, frame_id: str | None = None,
                     kind: str = MaskKind.CURRENT) -> ConfusionMatrix | None:
        """A frame's current mask (or `kind`: "predicted", the model's own) against its ground truth."""
        fid = frame_id or self.current
        if self.workspace is None or fid is None:
            return None
        if kind == MaskKind.CURRENT and self.editor is not None and fid == self.editor_frame:
            return self.editor.matrix  # kept current by every edit
        if kind != MaskKind.CURRENT or fid not in self._matrices:
            pred, gt = self.mask(kind, fid), self.mask(MaskKind.GROUND_TRUTH, fid)
            cm = None if pred is None or gt is None else ConfusionMatrix.for_table(
                self.workspace.classes).update(pred, gt)
            if kind != MaskKind.CURRENT:
                return cm  # not cached: edits do not change it
            self._matrices[fid] = cm
        return self._matrices[fid]

    def workspace_matrix_job(self) -> tuple[ConfusionMatrix, int, Any]:
        """(matrix of frames already known, their count, a job factory for the rest).

        The factory's job reads the remaining frames' masks on a worker thread
        and yields each frame's matrix in `Progress.data`; `store_matrix`
        keeps it (unless the frame changed meanwhile). It returns the total.
        """
        ws = self._need_workspace()
        total = ConfusionMatrix.for_table(ws.classes)
        known = 0
        todo: list[tuple[str, int]] = []
        for fid, rec in ws.frames.items():
            if not rec.has_gt:
                continue
            if fid in self._matrices or fid == self.editor_frame:
                cm = self.frame_matrix(fid)
                if cm is not None:
                    total.merge(cm)
                    known += 1
                continue
            todo.append((fid, self._versions.get(fid, 0)))
        return total, known, matrix_job(ws, todo, total, known)

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

    def area(self, kind: str = "current", frame_id: str | None = None,
             live: bool = False) -> AreaReport | None:
        """Per-class area and region counts of a frame's mask (core.area), or None.

        `live`: the edited frame's areas from the editor's live counts
        (regions left out), None when that frame is not being edited.
        """
        ws, fid = self.workspace, frame_id or self.current
        if live:
            if self.editor is None or fid != self.editor_frame or ws is None:
                return None
            return self.editor.live.counter.report(ws.classes, self.gsd(fid))
        mask = self.mask(kind, fid)
        if ws is None or fid is None or mask is None:
            return None

        def load() -> AreaReport:
            gsd = self.gsd(fid)
            regions = count_regions(mask, ws.classes.scored_ids, gsd, min_px=self.min_region_px)
            return area_per_class(mask, ws.classes, gsd, regions)

        return self._cached((fid, f"area:{kind}:{self.min_region_px}"), load)

    @property
    def min_region_px(self) -> int:
        """Regions smaller than this are not counted: the workspace's setting, as in its reports."""
        return min_region_px(self.workspace.settings if self.workspace is not None else {})

    # -------------------------------------------------------------- writing
    def apply_prediction(self, frame_id: str, labels: np.ndarray, confidence: np.ndarray | None,
                         model: str | None) -> None:
        """Store a model's output for a frame (on the main thread) and tell the views."""
        ws = self._need_workspace()
        if frame_id not in ws.frames:
            return
        ws.write_prediction(frame_id, labels, confidence, model)  # the workspace tells the views

    def adopt_classes(self, switch: Any, cmap: Any = None) -> None:
        """Switch the workspace to a model's classes (`core.model_classes.adopt`); the views reload."""
        from seggui.core.model_classes import adopt

        for line in adopt(self._need_workspace(), switch, cmap):
            self.log.info(line)

    def set_class_map(self, cmap: Any) -> None:
        """Compare the ground truth through another class map from now on (every figure is recomputed)."""
        from seggui.core.model_classes import set_class_map

        set_class_map(self._need_workspace(), cmap)  # the views reload (_ws_classes)
        self.log.info(f"class map: {cmap.describe()}")

    # -------------------------------------------------------------- editing
    def set_editor(self, frame_id: str | None, editor: Editor | None) -> None:
        """Serve `editor`'s labels and matrix as the frame's current mask and figures from now on.

        (None, None) stops serving the editor (its mask must be saved): the
        frame is read from disk again next time, its matrix kept (exact).
        """
        fid, old = self.editor_frame, self.editor
        self.editor, self.editor_frame = editor, frame_id
        if editor is None and fid is not None and old is not None:
            self._changed(fid)
            self._matrices[fid] = old.matrix  # exact: no recount needed

    def note_edit(self, frame_id: str, settled: bool = False) -> None:
        """An edit changed the frame's mask (`editChanged`); `settled`: editing paused (`editSettled`).

        Settling forgets the figures derived from the frame's old mask that
        need a whole pass (areas, regions).
        """
        if not settled:
            self.editChanged.emit(frame_id)
            return
        self._drop(lambda key: key[0] == frame_id and key[1].startswith("area:current"))
        self._versions[frame_id] = self._versions.get(frame_id, 0) + 1
        self.editSettled.emit(frame_id)

    # ------------------------------------------------ the workspace's events
    def _subscribe(self, ws: Workspace) -> None:
        """Listen to `ws` (not to the one shown before), on the GUI thread whichever thread changes it."""
        for signal, slot in self._subscriptions:
            signal.disconnect(slot)
        ev = ws.events
        self._subscriptions = [(sig, self._relay.wrap(fn)) for sig, fn in (
            (ev.frames_changed, lambda _ids: self.framesChanged.emit()), (ev.masks_changed, self._ws_masks),
            (ev.gsd_changed, self._ws_gsd), (ev.model_changed, lambda ref: self.modelChanged.emit(ref or "")),
            (ev.classes_changed, self._ws_classes), (ev.settings_changed, self._ws_settings))]
        for signal, slot in self._subscriptions:
            signal.connect(slot)

    def _ws_masks(self, frame_id: str, kind: str) -> None:
        """A mask file changed: forget what was derived from it and tell the views.

        The autosave of the frame being edited is the exception: the session
        serves that editor's live labels and figures already.
        """
        if kind == MaskKind.CORRECTED and frame_id == self.editor_frame:
            return
        self._changed(frame_id)
        self.masksChanged.emit(frame_id)

    def _ws_classes(self) -> None:
        """Another class table or class map: every figure differs, the views start over on the same frame."""
        ws = self._need_workspace()
        self._set_workspace(ws, self.source or ws.root, keep=self.current)
        self.classesChanged.emit()

    def _ws_settings(self, key: str) -> None:
        if key in (MIN_REGION_KEY, "bands"):  # regions counted anew; pictures read with the chosen bands
            self._drop(lambda k: k[1].startswith("area:") or (key == "bands" and k[1] == "image"))
        self.settingsChanged.emit(key)

    def _ws_gsd(self, gsd: Gsd | None) -> None:
        self._drop(lambda key: key[1].startswith("area:"))
        self.gsdChanged.emit()

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
