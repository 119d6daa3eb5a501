"""After a retrain: compare old and new model, promote the new one, roll back, re-predict.

Promotion is a separate, explicit step because a fine-tune on a handful of
corrections can be worse than the model it started from; the comparison on
the validation frames is what the analyst decides on. Nothing here deletes
or overwrites a card: versions are listed in ``ws.settings["model_versions"]``
and promote/rollback only move ``ws.model`` between them.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seggui.core.confusion import ConfusionMatrix
from seggui.core.errors import BadInputError
from seggui.core.images import read_image
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.metrics import SegMetrics, compute_metrics
from seggui.core.report import parking_class
from seggui.core.workspace import FrameStatus, Workspace
from seggui.engine.card import ModelCard, resolve_model
from seggui.training.base_set import describe

VERSIONS_KEY = "model_versions"
WEAK_FRAMES = 3  # a comparison on fewer validation frames than this is flagged as weak
WEAK_CLASS_PX = 1000  # ... and so is one where a class present in the truth has fewer pixels


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


@dataclass
class ClassRow:
    """One class: IoU of the current model, of the new one, and new minus old (None where undefined)."""

    name: str
    id: int
    old_iou: float | None
    new_iou: float | None

    @property
    def delta(self) -> float | None:
        return None if self.old_iou is None or self.new_iou is None else self.new_iou - self.old_iou


@dataclass
class Comparison:
    """Old versus new model on the validation frames."""

    old_ref: str
    new_ref: str
    frames: list[str]
    rows: list[ClassRow]
    old_miou: float | None
    new_miou: float | None
    parking: dict[str, Any] | None = None  # class, old/new |O delta E| in px and m2 (m2 None without a GSD)
    base: dict[str, Any] | None = None  # the base set the new model was trained with (its card's record)
    old_metrics: SegMetrics | None = field(default=None, repr=False)
    new_metrics: SegMetrics | None = field(default=None, repr=False)

    @property
    def miou_delta(self) -> float | None:
        return None if self.old_miou is None or self.new_miou is None else self.new_miou - self.old_miou

    @property
    def scored_px(self) -> int:
        """Ground-truth pixels the figures rest on (the ignored ones left out)."""
        return int(self.old_metrics.total_px) if self.old_metrics is not None else 0

    def rests_on(self) -> str:
        """What the figures rest on, in words: frames and scored pixels."""
        n = len(self.frames)
        return f"{n} validation frame{'s' if n != 1 else ''}, {self.scored_px:,} scored pixels"

    def weaknesses(self) -> list[str]:
        """Why the comparison may not be worth deciding on (empty when it is sound)."""
        out = []
        if len(self.frames) < WEAK_FRAMES:
            out.append(f"weak comparison: only {len(self.frames)} validation frame"
                       f"{'s' if len(self.frames) != 1 else ''} (fewer than {WEAK_FRAMES})")
        m, n = self.old_metrics, self.new_metrics
        if m is not None:
            thin = [f"{name} ({int(px)} px)" for name, px in zip(m.names, m.gt_px, strict=True)
                    if 0 < px < WEAK_CLASS_PX]
            if thin:
                out.append(f"weak comparison for {', '.join(thin)}: fewer than {WEAK_CLASS_PX} pixels of "
                           "ground truth, their IoU moves with a handful of pixels")
            predicted = [int(p) + (int(n.pred_px[j]) if n is not None else 0)
                         for j, p in enumerate(m.pred_px)]
            absent = [name for j, name in enumerate(m.names) if m.gt_px[j] == 0 and predicted[j] > 0]
            if absent:
                out.append(f"no ground truth of {', '.join(absent)} in the validation frames: "
                           f"{'its' if len(absent) == 1 else 'their'} IoU only counts false alarms and says "
                           "nothing of how well the class is found")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old_ref, "new": self.new_ref, "frames": list(self.frames),
            "rows": [{"class": r.name, "id": r.id, "old_iou": r.old_iou, "new_iou": r.new_iou,
                      "delta": r.delta} for r in self.rows],
            "old_miou": self.old_miou, "new_miou": self.new_miou, "miou_delta": self.miou_delta,
            "parking": dict(self.parking) if self.parking else None,
            "base": dict(self.base) if self.base else None,
            "scored_px": self.scored_px, "weaknesses": self.weaknesses(),
        }

    def table(self) -> str:
        """A plain-text table for the terminal."""
        def f(x: float | None, sign: bool = False) -> str:
            return "   -  " if x is None else (f"{x:+.3f}" if sign else f"{x:.3f}")

        width = max([len(r.name) for r in self.rows] + [5])
        lines = [f"{'class':<{width}}  {'old':>6}  {'new':>6}  {'delta':>6}"]
        lines += [f"{r.name:<{width}}  {f(r.old_iou):>6}  {f(r.new_iou):>6}  {f(r.delta, True):>6}"
                  for r in self.rows]
        lines.append(f"{'mIoU':<{width}}  {f(self.old_miou):>6}  {f(self.new_miou):>6}  "
                     f"{f(self.miou_delta, True):>6}")
        if self.parking:
            p = self.parking
            lines.append(f"parking |O delta E|: {p['old_px']} px -> {p['new_px']} px")
            if p.get("old_m2") is not None:
                lines.append(f"                     {p['old_m2']:.2f} m2 -> {p['new_m2']:.2f} m2")
        lines.append(f"measured on {self.rests_on()}")
        lines += self.weaknesses()
        if self.base:
            lines.append(f"{self.new_ref} was trained with the {describe(self.base)}; "
                         "the figures are on your frames only")
        return "\n".join(lines)


def truth_mask_kind(ws: Workspace, frame_id: str) -> str:
    """Ground truth where the frame has it, else the analyst's correction."""
    return "ground_truth" if ws.mask_path(frame_id, "ground_truth").is_file() else "corrected"


def evaluate_card(ws: Workspace, card: ModelCard | str | Path, frame_ids: list[str], backend: str = "torch",
                  device: str = "auto", token: CancelToken | None = None) -> Job[SegMetrics]:
    """Metrics of one model over the given frames' truth masks (see truth_mask_kind)."""
    from seggui.engine.predictor import load_predictor

    cm = ConfusionMatrix.for_table(ws.classes)
    with load_predictor(card, backend, device) as predictor:
        for i, fid in enumerate(frame_ids):
            if token is not None:
                token.raise_if_cancelled()
            image = ws.image_path(fid)
            if image is None:
                raise BadInputError(ws.root, f"frame {fid!r} has no picture to evaluate on")
            kind = truth_mask_kind(ws, fid)
            truth = ws.read_mask(fid, kind)
            labels = predictor.predict(read_image(image), confidence=False).labels
            cm.update(labels, truth, ws.mask_path(fid, kind))  # type: ignore[arg-type]  # truth_mask_kind: exists
            yield Progress(i + 1, len(frame_ids), f"{predictor.card.ref}: {fid}", item=fid)
    metrics = compute_metrics(cm, ws.classes)
    metrics.n_images = len(frame_ids)
    return metrics


def compare_models(ws: Workspace, old: ModelCard | str | Path, new: ModelCard | str | Path,
                   frame_ids: list[str], backend: str = "torch", device: str = "auto",
                   token: CancelToken | None = None) -> Job[Comparison]:
    """Per-class IoU, mIoU and (with a parking class) the parking symmetric difference, old vs new."""
    old_card = old if isinstance(old, ModelCard) else resolve_model(old)
    new_card = new if isinstance(new, ModelCard) else resolve_model(new)
    if not frame_ids:
        raise BadInputError(ws.root, "no validation frames to compare the models on")
    a = yield from evaluate_card(ws, old_card, frame_ids, backend, device, token)
    b = yield from evaluate_card(ws, new_card, frame_ids, backend, device, token)
    rows = [ClassRow(name, cid, _num(a.iou[j]), _num(b.iou[j]))
            for j, (cid, name) in enumerate(zip(a.ids, a.names, strict=True))]
    parking = None
    pid = parking_class(ws.classes)
    if pid is not None and pid in a.ids:
        j = a.ids.index(pid)
        m2 = ws.gsd.m2_per_px if ws.gsd else None
        old_px, new_px = int(a.symdiff_px[j]), int(b.symdiff_px[j])
        parking = {"class": ws.classes.name_of(pid), "old_px": old_px, "new_px": new_px,
                   "old_m2": old_px * m2 if m2 else None, "new_m2": new_px * m2 if m2 else None}
    base = (new_card.provenance.get("dataset") or {}).get("base")
    return Comparison(old_card.ref, new_card.ref, list(frame_ids), rows, _num(a.miou), _num(b.miou),
                      parking, base, a, b)


# ------------------------------------------------------------------ versions
def _card_ref(ws: Workspace, folder: Path) -> str:
    """A card folder as stored: relative to the workspace when inside it (the folder may move)."""
    try:
        return folder.resolve().relative_to(ws.root.resolve()).as_posix()
    except ValueError:
        return str(folder.resolve())


def version_card_path(ws: Workspace, stored: str) -> Path:
    """The card folder of a listed version (stored relative to the workspace when inside it)."""
    p = Path(stored)
    return p if p.is_absolute() else ws.root / p


def list_versions(ws: Workspace) -> list[dict[str, Any]]:
    """The versions this workspace has used, oldest first (each: ref, label, card, parent, added)."""
    return [dict(v) for v in ws.settings.get(VERSIONS_KEY, [])]


def register_version(ws: Workspace, card: ModelCard, save: bool = True) -> dict[str, Any]:
    """List a card as a version (once; a card already listed is returned as is)."""
    if card.folder is None:
        raise BadInputError(None, f"model {card.ref} has no card folder to list as a version")
    stored = _card_ref(ws, card.folder)
    versions = list(ws.settings.get(VERSIONS_KEY) or [])
    for v in versions:
        if v["card"] == stored:
            return dict(v)
    entry = {"ref": card.ref, "label": card.folder.name, "card": stored, "parent": card.parent,
             "added": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    ws.set_setting(VERSIONS_KEY, versions + [entry], save=save)
    return dict(entry)


def _use(ws: Workspace, folder: Path) -> None:
    ws.set_model(str(folder.resolve()), save=False)
    ws.save()  # also what was registered unsaved before (promote, roll back)


def promote(ws: Workspace, card_dir: str | Path) -> dict[str, Any]:
    """Make a new card the workspace model; the previous model stays listed for rollback."""
    card = resolve_model(Path(card_dir))
    card.require_weights()
    if ws.model:
        register_version(ws, resolve_model(ws.model), save=False)
    entry = register_version(ws, card, save=False)
    _use(ws, card.folder)  # type: ignore[arg-type]
    return entry


def rollback(ws: Workspace, which: str) -> dict[str, Any]:
    """Switch back to a listed version, named by ``name@version`` or its folder label."""
    versions = list_versions(ws)
    matches = [v for v in versions if which in (v["ref"], v["label"])]
    if not matches:
        known = ", ".join(f"{v['ref']} ({v['label']})" for v in versions) or "none listed"
        raise BadInputError(ws.root, f"no model version {which!r} in this workspace (versions: {known})")
    if len({v["card"] for v in matches}) > 1:
        labels = ", ".join(v["label"] for v in matches)
        raise BadInputError(ws.root, f"{which!r} names several versions ({labels}); give the folder label")
    entry = matches[-1]
    folder = version_card_path(ws, entry["card"])
    resolve_model(folder).require_weights()
    _use(ws, folder)
    return entry


def repredict_job(ws: Workspace, backend: str = "auto", device: str = "auto",
                  token: CancelToken | None = None) -> Job[int]:
    """Re-run the workspace model on frames not yet corrected (status none or predicted).

    Corrected and reviewed frames keep their masks untouched: the analyst's
    work is never replaced by a prediction. Returns the number of frames predicted.
    """
    from seggui.engine.predictor import load_predictor
    from seggui.engine.workspace_inference import predict_workspace

    todo = ws.frames_with_status(FrameStatus.NONE, FrameStatus.PREDICTED)
    with load_predictor(current_model(ws), backend, device) as predictor:
        return (yield from predict_workspace(ws, predictor, todo, token))


def current_model(ws: Workspace) -> str:
    """The workspace's model reference, or a refusal."""
    if not ws.model:
        raise BadInputError(ws.root, "the workspace has no model; pick one first")
    return ws.model
