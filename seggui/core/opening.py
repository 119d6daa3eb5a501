"""Opening what the analyst points at: a workspace, a folder, one picture, a video; no window needed.

Documented choices (the README's "Opening things"):

- a workspace folder, or its `seggui.json`: opened in place;
- a plain folder of pictures, or one picture: a *managed* workspace is made
  under the user data folder (`<store>/<name>-<hash>`, keyed by the absolute
  path), never inside the picture folder, which may be read-only, shared, or
  a dataset that must stay clean. Opening the same folder again finds the
  same workspace, with its predictions and corrections. The class table is
  `classes.json` in the folder or its parent, else the default preset;
- a folder's image sequences (numbered pictures such as CamVid's
  `0016E5_07959.png ...`, at least ten of them; `seggui.core.media.sequences`)
  open as drives in the same managed workspace. `FOLDER/GLOB` (or
  `open_folder(..., pattern=)`) opens one sequence only, and `pictures=True`
  turns detection off (remembered in the workspace settings);
- a video file: a managed workspace like a picture folder's, with one frame
  record per video frame;
- ground truth: a folder of masks matched by file-name stem (`import_truth`).
  When a managed workspace is made, a sibling mask folder with a well-known
  name (`<name>annot`, `<name>_labels`, `masks` beside `images`, ...) is
  imported automatically.

`Opener` returns an `Opened`: the workspace, the open media sources of its
drives (the window wraps them in frame caches) and the messages for the
analyst, so the window (`seggui.ui.session.Session`) only shows them, and
tests open anything without Qt.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import BadInputError, SegguiError
from seggui.core.images import is_image_file, list_images
from seggui.core.mask_kind import MaskKind
from seggui.core.masks import check_mask_size, read_mask
from seggui.core.media import FolderSource, Source, is_video_file, open_source
from seggui.core.media.sequences import ImageSequence, find_sequences
from seggui.core.truth_tables import table_file_beside
from seggui.core.workspace import WORKSPACE_FILE, Workspace

GT_SUFFIXES = ("annot", "_annot", "_labels", "_masks", "_gt")
GT_BESIDE_IMAGES = ("masks", "labels", "annotations", "ground_truth")


def ground_truth_candidates(pictures: Path) -> list[Path]:
    """Sibling folders that, by common dataset layouts, hold a picture folder's masks."""
    folder = pictures if pictures.is_dir() else pictures.parent
    names = [folder.name + s for s in GT_SUFFIXES]
    if folder.name.lower() in ("images", "imgs", "img", "pictures"):
        names += list(GT_BESIDE_IMAGES)
    return [folder.parent / n for n in names if (folder.parent / n).is_dir()]


def import_truth(ws: Workspace, folder: str | Path) -> tuple[list[str], list[str]]:
    """Copy ground-truth masks whose stem matches a frame id into `ws` (one seggui.json write).

    Returns (imported frame ids, problems); a mask of the wrong size or with
    unknown class ids is reported and skipped, the rest go in. Masks are read
    in the workspace's ground-truth classes (`Workspace.gt_classes`).
    """
    from seggui.core.media.headers import image_size

    done, problems = [], []
    with ws.batch():
        for path in list_images(folder):
            fid = path.stem
            if fid not in ws.frames:
                problems.append(f"{path}: no frame named {fid!r} in the workspace")
                continue
            try:
                mask = read_mask(path, ws.gt_classes)
                img = ws.image_path(fid)
                if img is not None:
                    # the header only: a drive has thousands of frames
                    check_mask_size(mask, image_size(img), path, img.name)
            except BadInputError as exc:
                problems.append(str(exc))
                continue
            ws.write_mask(fid, MaskKind.GROUND_TRUTH, mask, save=False)
            done.append(fid)
        ws.save()
    return done, problems


class Notes(list[tuple[str, Any]]):
    """Messages for the analyst, in order: (level, text or BadInputError); level is a log method's name."""

    def info(self, text: str) -> None:
        self.append(("info", text))

    def warning(self, text: str) -> None:
        self.append(("warning", text))

    def error(self, text: str) -> None:
        self.append(("error", text))

    def report(self, exc: BadInputError) -> None:
        self.append(("report", exc))

    def tell(self, log: Any) -> None:
        """Say them all on a log with the same methods (the window's Messages panel, a logger adapter)."""
        for level, what in self:
            getattr(log, level)(what)


@dataclass
class Opened:
    """What opening gave: the workspace, what it was opened from, its drives' open sources, messages."""

    workspace: Workspace
    source: Path
    drives: dict[str, Source] = field(default_factory=dict)  # by FrameRecord.drive
    notes: Notes = field(default_factory=Notes)


class Opener:
    """Opens paths into workspaces; managed workspaces live in `store_dir` (see the module docstring)."""

    def __init__(self, store_dir: Path, default_classes: str = "camvid-11",
                 ask_classes: Callable[[Path], ClassTable | None] | None = None) -> None:
        self.store_dir = Path(store_dir)
        self.default_classes = default_classes
        # asked for the class table of a new folder that has ground truth but no classes.json (the window
        # shows a dialog); None, or an answer of None, keeps the default preset for now and says so
        self.ask_classes = ask_classes

    def open(self, path: str | Path, pictures: bool | None = None) -> Opened:
        """A workspace, a folder of pictures, one picture or a video; `pictures` as in `open_folder`."""
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

    def open_workspace(self, root: str | Path) -> Opened:
        return Opened(Workspace.open(root), Path(root))

    def open_folder(self, folder: str | Path, pattern: str | None = None,
                    pictures: bool | None = None) -> Opened:
        """A folder of pictures: its image sequences as drives, the other pictures as pictures.

        `pattern` opens one sequence only (`0016E5_*`, as in `seggui infer
        --pattern`). `pictures=True` turns sequence detection off (every
        picture stands alone, as in an aerial survey); None keeps the choice
        made when the folder was last opened. See `seggui.core.media.sequences`.
        """
        folder = Path(folder)
        if pattern:
            return self._open_pictures(folder, [], [FolderSource(folder, pattern)], key=folder / pattern)
        try:  # opened once here, for how it was opened last, and handed on (never read twice)
            known = self.existing(folder)
        except BadInputError:
            known = None  # reported when _open_pictures opens it for real
        if pictures is None:
            pictures = known is not None and known.settings.get("open_as") == "pictures"
        sequences: list[ImageSequence]
        if pictures:
            sequences, loose = [], list_images(folder)
        else:
            sequences, loose = find_sequences(folder)
        if not sequences and not loose:
            raise BadInputError(folder, "no pictures (.png .jpg .tif ...) in this folder")
        return self._open_pictures(folder, loose, [FolderSource(folder, q.pattern) for q in sequences],
                                   open_as="pictures" if pictures else "sequences", ws=known)

    def open_image(self, path: str | Path) -> Opened:
        return self._open_pictures(Path(path), [Path(path)], [])

    def open_video(self, path: str | Path) -> Opened:
        """A video as a drive: a managed workspace holding one frame per decodable video frame."""
        path = Path(path)
        src = open_source(path)  # BadInputError names an unreadable file or codec
        notes = Notes()
        ws, _new = self.managed(path, path, notes)
        with ws.batch():
            ws.add_video_frames(path, [src.name(i) for i in range(len(src))])
            ws.set_setting("opened_from", str(path.resolve()))
        if src.warning:
            notes.warning(src.warning)
        drive = ws.frames[src.name(0)].drive if len(src) else None
        return Opened(ws, path, {drive: src} if drive else {}, notes)

    # ------------------------------------------------------- managed workspaces
    def managed_root(self, key: Path) -> Path:
        """Where the managed workspace of a picture folder (or one picture, or a video) lives."""
        key = key.resolve()
        digest = hashlib.sha1(str(key).encode("utf-8")).hexdigest()[:10]
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key.name)[:40] or "root"
        return self.store_dir / f"{slug}-{digest}"

    def existing(self, key: Path) -> Workspace | None:
        """The managed workspace of `key` if one was made before, else None."""
        root = self.managed_root(key)
        return Workspace.open(root) if (root / WORKSPACE_FILE).exists() else None

    def managed(self, key: Path, folder: Path, notes: Notes) -> tuple[Workspace, bool]:
        """(the managed workspace of `key`, whether it is new): opened, or made with `folder`'s classes."""
        ws = self.existing(key)
        if ws is not None:
            return ws, False
        return Workspace.create(self.managed_root(key), self.guess_classes(folder, notes)), True

    def guess_classes(self, key: Path, notes: Notes | None = None) -> ClassTable:
        """`classes.json` in the picture folder or its parent; else the classes of a workspace there (the
        demo's drive.mp4 sits in the demo workspace); else asked (ground truth to read), else the default
        preset, said in the notes: never a silent guess."""
        folder = key if key.is_dir() else key.parent
        beside = table_file_beside(key)
        if beside is not None:
            try:
                return load_classes(beside)
            except BadInputError as exc:
                if notes is not None:
                    notes.warning(f"{exc}; using the {self.default_classes} classes")
                return load_classes(self.default_classes)
        for home in (folder, folder.parent):
            if (home / WORKSPACE_FILE).is_file():
                try:
                    theirs = Workspace.open(home).classes
                except BadInputError:
                    continue  # unreadable: the other sources below still apply
                if notes is not None:
                    notes.info(f"the classes of the workspace in {home} ({theirs.name}) are used")
                return theirs
        truth = ground_truth_candidates(folder) if folder.is_dir() else []
        if truth and self.ask_classes is not None:
            table = self.ask_classes(truth[0])
            if table is not None:
                if notes is not None:
                    notes.info(f"the ground truth in {truth[0]} is read in the {table.name} classes")
                return table
        if notes is not None:
            notes.warning(f"no class table (classes.json) in {folder} or its parent: the "
                          f"{self.default_classes} classes are used for now; running a model takes the "
                          "model's classes"
                          + (f" (the ground truth in {truth[0]} must fit {self.default_classes})" if truth
                             else ""))
        return load_classes(self.default_classes)

    def _open_pictures(self, folder: Path, pictures: list[Path], sequences: list[FolderSource],
                       key: Path | None = None, open_as: str | None = None,
                       ws: Workspace | None = None) -> Opened:
        """Pictures and image sequences into the managed workspace of `key` (default: `folder`).

        Sequences go first: their frame ids are their sources' frame names,
        which drive runs match on; a loose picture whose stem a sequence
        already uses gets `<stem>_<ext>`. Frames that left the folder since the
        last open are reconciled (`Workspace.reconcile_folder`). `ws`: the
        managed workspace of `key` when the caller has already opened it.
        Everything is recorded in one write of seggui.json.
        """
        key = key or folder
        notes = Notes()
        ws, new = (ws, False) if ws is not None else self.managed(key, folder, notes)
        taken: set[str] = set()
        drives: dict[str, Source] = {}
        with ws.batch():
            with ws.adding_files():
                _add_all(ws, sequences, pictures, taken, drives, notes)
            if folder.is_dir():
                dropped, missing = ws.reconcile_folder(folder, taken)
                if dropped:
                    notes.info(f"{len(dropped)} frames whose pictures left {folder} were dropped "
                               f"(first: {dropped[0]}; they held no correction or ground truth)")
                if missing:
                    notes.warning(f"{folder}: the pictures of {len(missing)} frames with corrections or "
                                  f"ground truth are gone (first: {missing[0]}); their masks are kept")
            ws.set_setting("opened_from", str(key.resolve()), save=False)
            if open_as:
                ws.set_setting("open_as", open_as, save=False)
            ws.save()
        if new:
            for gt_dir in ground_truth_candidates(folder):
                import_truth_folder(ws, gt_dir, sorted(taken), notes)
                break
        _prepare_orthomosaics(ws, pictures, notes)
        return Opened(ws, key, drives, notes)


def _add_all(ws: Workspace, sequences: list[FolderSource], pictures: list[Path], taken: set[str],
             drives: dict[str, Source], notes: Notes) -> None:
    """Sequences first (their frame ids are their sources' frame names, which drive runs match on), then
    the loose pictures; a picture whose stem a sequence already uses gets `<stem>_<ext>`."""
    for seq in sequences:
        if seq.warning:
            notes.warning(seq.warning)
        names = [seq.name(i) for i in range(len(seq))]
        try:
            recs = ws.add_sequence_frames(seq.path, seq.pattern, seq.files, names)
        except BadInputError as exc:
            notes.report(exc)
            continue
        drives[str(recs[0].drive)] = seq
        taken.update(names)
        notes.info(f"{seq.path.name}/{seq.pattern or ''}: {len(seq)} frames opened as a drive")
    for pic in pictures:
        fid = pic.stem if pic.stem not in taken else f"{pic.stem}_{pic.suffix.lstrip('.').lower()}"
        try:
            ws.add_image(pic, frame_id=fid)
            taken.add(fid)
        except BadInputError as exc:
            notes.report(exc)


def _prepare_orthomosaics(ws: Workspace, pictures: list[Path], notes: Notes) -> None:
    """Build the overviews of the orthomosaics among `pictures` now, on the opening thread (once).

    The window shows an orthomosaic through them (`seggui.core.geo.ortho_region`);
    building them later would freeze it.
    """
    from seggui.core.geo.ortho_region import ensure_overviews, is_orthomosaic

    for pic in pictures:
        if pic.suffix.lower() in (".tif", ".tiff") and is_orthomosaic(pic):
            problems: list[str] = []
            try:
                ensure_overviews(ws.root, pic, problems=problems)
            except BadInputError as exc:
                notes.report(exc)
                continue
            except SegguiError as exc:  # the GIS extra is missing: said, the picture stays in the list
                notes.error(f"{pic}: {exc}")
                continue
            for problem in problems[:3]:  # a damaged file says so once or a few times, not per strip
                notes.error(f"{problem} (shown black in the overview)")
            notes.info(f"{pic.name} opens as an orthomosaic: zoom in and paint to edit it by regions")


def import_truth_folder(ws: Workspace, folder: Path, stems: list[str], notes: Notes) -> list[str]:
    """Import a folder of ground truth into `ws`, saying what happened; returns the imported frame ids.

    Masks of pictures that were not opened (`stems`: the frames that were)
    are expected (a subset of a data set): one summary line for them; every
    other problem is said as it is.
    """
    wanted = set(stems)
    done, problems = ws.import_ground_truth(folder)
    others = [f"{p}:" for p in list_images(folder) if p.stem not in wanted]
    skipped = 0
    for problem in problems:
        if any(problem.startswith(o) for o in others):
            skipped += 1
        else:
            notes.error(problem)
    note = f" ({skipped} mask{'s' * (skipped != 1)} without an open picture skipped)" if skipped else ""
    notes.info(f"imported {len(done)} ground-truth mask{'s' * (len(done) != 1)} from {folder}{note}")
    return done
