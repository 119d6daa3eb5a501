"""The export a training run makes after it ends (config `export_onnx`, `export_int8`).

Why a run does it: the child has torch loaded and the cores to itself, so an
fp32 export costs about two seconds (camvid-small), where without it the new
model ran on torch (26 against 35 fps at 360x480 on two cores) until someone
ran `seggui export-onnx`. With `export_int8` (a retrain of a parent that runs
int8) the new version is quantised too, calibrated on the pictures it trained
on and scored against its validation frames' masks, so `--backend auto` runs
it in int8 only where it measured as accurate as fp32 there, as its parent did.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from seggui.core.errors import Cancelled, SegguiError
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.workspace import Workspace

CALIB_PICTURES = 16  # as the shipped cards were calibrated


def export_after_training(card_dir: Path, token: CancelToken | None = None,
                          cfg: Any = None) -> Job[str | None]:
    """The new card's ONNX export (checked against torch; int8 too when `cfg.export_int8`).

    Returns None, or why it failed: a failed export only warns, the card is whole and runs on torch.
    """
    from seggui.engine.card import resolve_model
    from seggui.engine.export import export_job

    yield Progress(0, None, "exporting the new model for ONNX Runtime", data={"event": "export"})
    with tempfile.TemporaryDirectory(prefix="seggui-int8-") as tmp:
        try:
            kwargs = _int8_inputs(cfg, Path(tmp)) if cfg is not None and cfg.export_int8 else {}
            for p in export_job(resolve_model(card_dir), card_dir, **kwargs):
                if token is not None:
                    token.raise_if_cancelled()
                yield Progress(p.done, p.total, f"ONNX export: {p.message}", data={"event": "export"})
        except Cancelled:
            raise  # a cancel stops the retrain, it is no failed export
        except SegguiError as exc:
            return f"{exc}; the new model runs on torch"
    return None


def _int8_inputs(cfg: Any, into: Path) -> dict[str, Any]:
    """export_job's int8 settings: folders of links to the run's training pictures (calibration), its
    validation pictures (the check) and their masks (the score), named by frame id."""
    data = cfg.data
    if data.layout != "workspace" or not data.val_root:
        return {}
    calib, check, truth = into / "calib", into / "check", into / "truth"
    train_ids = _link_frames(Path(data.root), calib, None)
    val_ids = _link_frames(Path(data.val_root), check, truth)
    if not train_ids or not val_ids:
        return {}
    return {"int8": True, "calib_dir": calib, "calib_count": min(CALIB_PICTURES, len(train_ids)),
            "check_dir": check, "check_count": len(val_ids), "truth_dir": truth}


def _link_frames(root: Path, pictures: Path, masks: Path | None) -> list[str]:
    """Link a snapshot workspace's pictures (and its masks, the corrections it trains or validates on)."""
    ws = Workspace.open(root)
    pictures.mkdir(parents=True)
    if masks is not None:
        masks.mkdir(parents=True)
    done = []
    for fid in ws.frames:
        image, mask = ws.image_path(fid), ws.mask_path(fid, "corrected")
        if image is None or not image.is_file() or not mask.is_file():
            continue
        _link(image, pictures / f"{fid}{image.suffix.lower()}")
        if masks is not None:
            _link(mask, masks / f"{fid}.png")
        done.append(fid)
    return done


def _link(target: Path, link: Path) -> None:
    try:
        os.symlink(target.resolve(), link)
    except OSError:  # no symbolic links here (Windows without the right): a copy does
        shutil.copyfile(target, link)
