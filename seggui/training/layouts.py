"""Where the (picture, mask) pairs of a dataset live, for each common layout.

A layout turns a dataset folder into a list of `Sample`s plus a list of
problems (a picture without a mask, a mask without a picture): a folder with a
few bad pairs still trains on the good ones, and the user hears which files
were left out. Nothing here decodes pixels; reading happens in the torch
`SegDataset`, in the data-loader workers.

Layouts (``split`` is ``train``, ``val`` or ``test`` where the layout has splits):

- ``folder``: ``ROOT/images`` + ``ROOT/masks`` (names configurable), paired by
  file stem; masks are index PNGs or colour PNGs in the class table's palette.
- ``camvid``: ``ROOT/<split>`` + ``ROOT/<split>annot`` (the SegNet version).
- ``cityscapes``: ``ROOT/leftImg8bit/<split>/<city>/*_leftImg8bit.png`` +
  ``ROOT/gtFine/<split>/<city>/*_gtFine_labelIds.png``; label ids become
  trainIds through the table's ``label_map`` (cityscapes-19).
- ``kitti``: ``ROOT/training/image_2/um_000000.png`` +
  ``ROOT/training/gt_image_2/um_road_000000.png`` (the ``*_lane_*`` masks are
  a different task and are skipped); colour masks: magenta road, red not
  road, black outside the valid area (ignored), as in the KITTI devkit.
- ``bdd100k``: ``ROOT/images/100k/<split>/*.jpg`` + either
  ``ROOT/labels/drivable/masks/<split>/*.png`` (current release) or
  ``ROOT/drivable_maps/labels/<split>/*_drivable_id.png`` (the 2018 one);
  pixel values 0 direct lane, 1 alternative lane, 2 background.
- ``workspace``: the frames of a seggui workspace whose status is corrected or
  reviewed; the mask is ``corrected/ID.png``, the picture the frame's file.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from seggui.core.errors import BadInputError
from seggui.core.images import is_image_file, list_images

LAYOUTS = ("folder", "camvid", "cityscapes", "kitti", "bdd100k", "workspace")

# How a mask file is decoded (see SegDataset.read): plain ids (or palette colours),
# source labels through the table's label_map, or the KITTI road colour scheme.
MASK_INDEX = "index"
MASK_LABELS = "labels"
MASK_KITTI = "kitti"


@dataclass(frozen=True)
class Sample:
    """One training pair: a picture file, its mask file and how to decode the mask."""

    image: Path
    mask: Path
    mask_kind: str = MASK_INDEX

    @property
    def name(self) -> str:
        return self.image.stem


@dataclass
class Found:
    """The result of scanning a layout: usable pairs and the files left out (with why)."""

    samples: list[Sample]
    problems: list[str]


def _need_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise BadInputError(path, f"{what} folder not found")
    return path


def pair_by_key(
    images: Iterable[Path],
    masks: Iterable[Path],
    image_key: Callable[[Path], str | None],
    mask_key: Callable[[Path], str | None],
    kind: str = MASK_INDEX,
) -> Found:
    """Pair pictures and masks whose keys match; report the unmatched ones.

    A key of None means "not part of this dataset" (e.g. a KITTI lane mask)
    and is skipped silently.
    """
    by_key: dict[str, Path] = {}
    for m in masks:
        key = mask_key(m)
        if key is not None:
            by_key[key] = m
    samples: list[Sample] = []
    problems: list[str] = []
    used: set[str] = set()
    for img in sorted(images):
        key = image_key(img)
        if key is None:
            continue
        mask = by_key.get(key)
        if mask is None:
            problems.append(f"{img}: no mask for this picture")
            continue
        used.add(key)
        samples.append(Sample(img, mask, kind))
    for key, m in sorted(by_key.items()):
        if key not in used:
            problems.append(f"{m}: no picture for this mask")
    return Found(samples, problems)


def _images_under(folder: Path) -> list[Path]:
    """Picture files in a folder and its sub-folders (Cityscapes groups by city)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_image_file(p))


def folder_pairs(images: Path, masks: Path) -> Found:
    """Pictures and masks in two folders, paired by file stem."""
    _need_dir(images, "images")
    _need_dir(masks, "masks")
    return pair_by_key(list_images(images), list_images(masks), lambda p: p.stem, lambda p: p.stem)


def camvid_pairs(root: Path, split: str) -> Found:
    """CamVid (SegNet layout): ``<split>/`` pictures with ``<split>annot/`` masks."""
    return folder_pairs(root / split, root / f"{split}annot")


def cityscapes_pairs(root: Path, split: str) -> Found:
    """Cityscapes leftImg8bit pictures with gtFine label-id masks (mapped to trainIds)."""
    img_dir = _need_dir(root / "leftImg8bit" / split, "Cityscapes leftImg8bit")
    gt_dir = _need_dir(root / "gtFine" / split, "Cityscapes gtFine")

    def img_key(p: Path) -> str | None:
        return p.name[: -len("_leftImg8bit.png")] if p.name.endswith("_leftImg8bit.png") else None

    def gt_key(p: Path) -> str | None:
        return p.name[: -len("_gtFine_labelIds.png")] if p.name.endswith("_gtFine_labelIds.png") else None

    return pair_by_key(_images_under(img_dir), _images_under(gt_dir), img_key, gt_key, MASK_LABELS)


def kitti_pairs(root: Path, split: str = "training") -> Found:
    """KITTI road: ``um_000000.png`` pictures with ``um_road_000000.png`` masks.

    Only the ``training`` part of KITTI road has ground truth; a ``train``
    split name is accepted for it. Lane masks (``um_lane_*``) are skipped.
    """
    part = "training" if split in ("train", "training") else split
    base = root / part if (root / part).is_dir() else root
    img_dir = _need_dir(base / "image_2", "KITTI image_2")
    gt_dir = _need_dir(base / "gt_image_2", "KITTI gt_image_2")

    def gt_key(p: Path) -> str | None:
        cat, _, rest = p.stem.partition("_")
        task, _, num = rest.partition("_")
        return f"{cat}_{num}" if task == "road" and num else None

    return pair_by_key(list_images(img_dir), list_images(gt_dir), lambda p: p.stem, gt_key, MASK_KITTI)


def bdd100k_pairs(root: Path, split: str) -> Found:
    """BDD100K drivable-area maps (current or 2018 release layout)."""
    img_dir = next(
        (d for d in (root / "images" / "100k" / split, root / "images" / split) if d.is_dir()), None
    )
    if img_dir is None:
        raise BadInputError(root, f"no BDD100K images/100k/{split} folder")
    new = root / "labels" / "drivable" / "masks" / split
    old = root / "drivable_maps" / "labels" / split
    if new.is_dir():
        return pair_by_key(list_images(img_dir), list_images(new), lambda p: p.stem, lambda p: p.stem)
    if old.is_dir():
        suffix = "_drivable_id"

        def old_key(p: Path) -> str | None:
            return p.stem[: -len(suffix)] if p.stem.endswith(suffix) else None

        return pair_by_key(list_images(img_dir), list_images(old), lambda p: p.stem, old_key)
    raise BadInputError(
        root, f"no BDD100K drivable masks (labels/drivable/masks/{split} or drivable_maps/labels/{split})"
    )


def workspace_pairs(root: Path) -> Found:
    """Corrected and reviewed frames of a seggui workspace.

    Frames of a video (no picture file of their own) are reported and left
    out: training reads pictures from files.
    """
    from seggui.core.workspace import FrameStatus, Workspace

    ws = Workspace.open(root)
    samples: list[Sample] = []
    problems: list[str] = []
    for fid in ws.frames_with_status(FrameStatus.CORRECTED, FrameStatus.REVIEWED):
        image = ws.image_path(fid)
        mask = ws.mask_path(fid, "corrected")
        if image is None:
            problems.append(f"{ws.root}: frame {fid!r} is a video frame; export it as a picture to train")
        elif not image.is_file():
            problems.append(f"{image}: picture of frame {fid!r} not found")
        elif not mask.is_file():
            problems.append(f"{mask}: corrected mask of frame {fid!r} not found")
        else:
            samples.append(Sample(image, mask, MASK_INDEX))
    return Found(samples, problems)


def find_samples(
    layout: str,
    root: str | Path,
    split: str = "train",
    images: str = "images",
    masks: str = "masks",
) -> Found:
    """Scan a dataset of a given layout; `images`/`masks` name the folder layout's sub-folders."""
    root = Path(root)
    if layout not in LAYOUTS:
        raise BadInputError(None, f"unknown dataset layout {layout!r} (one of {', '.join(LAYOUTS)})")
    _need_dir(root, "dataset")
    if layout == "folder":
        return folder_pairs(root / images, root / masks)
    if layout == "camvid":
        return camvid_pairs(root, split)
    if layout == "cityscapes":
        return cityscapes_pairs(root, split)
    if layout == "kitti":
        return kitti_pairs(root, split)
    if layout == "bdd100k":
        return bdd100k_pairs(root, split)
    return workspace_pairs(root)


def holdout_split(samples: list[Sample], fraction: float,
                  group: Callable[[Sample], str] | None = None) -> tuple[list[Sample], list[Sample]]:
    """Split samples into (train, val) by a hash of the picture's name (or of its `group`).

    The share is close to `fraction`; a picture always falls on the same side,
    whatever else is added to the folder later, so validation figures of two
    versions trained on a growing set stay comparable. With `group` (e.g.
    `seggui.core.media.sequences.block_keys`: runs of ten frames of a drive),
    a whole group falls on one side, so near-identical neighbouring frames
    never sit on both.
    """
    if not 0.0 <= fraction < 1.0:
        raise BadInputError(None, f"validation fraction must lie in [0, 1), got {fraction}")
    cut = int(round(fraction * 10000))
    train: list[Sample] = []
    val: list[Sample] = []
    for s in samples:
        key = group(s) if group is not None else s.name
        (val if zlib.crc32(key.encode("utf-8")) % 10000 < cut else train).append(s)
    if fraction > 0 and (not val or not train) and len(samples) > 1:
        # a small set can hash all to one side: move the last group (or sample) across, whole, so both
        # sides have something and neighbouring frames still never sit on both
        full, empty = (train, val) if not val else (val, train)
        last = group(full[-1]) if group is not None else full[-1].name
        moved = [x for x in full if (group(x) if group is not None else x.name) == last]
        if len(moved) < len(full):
            empty.extend(moved)
            full[:] = [x for x in full if x not in moved]
    return train, val


def fingerprint(samples: Iterable[Sample], root: Path | None = None) -> dict[str, object]:
    """A cheap identity of a dataset: SHA-256 over file names and sizes of every pair.

    Reading every pixel would take minutes on a large set; names plus byte
    sizes catch added, removed and re-written files in a fraction of a second.
    Names are taken relative to `root` when given, so the same data moved to
    another disk keeps its fingerprint.
    """
    h = hashlib.sha256()
    n = 0
    total = 0
    for s in sorted(samples, key=lambda s: (str(s.image), str(s.mask))):
        for p in (s.image, s.mask):
            try:
                rel = p.relative_to(root).as_posix() if root else p.name
            except ValueError:
                rel = p.name
            size = p.stat().st_size if p.exists() else -1
            total += max(size, 0)
            h.update(f"{rel}\t{size}\n".encode())
        n += 1
    return {"sha256": h.hexdigest(), "pairs": n, "bytes": total}
