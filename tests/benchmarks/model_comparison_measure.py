"""The measuring half of model_comparison.py: what a trained card scored, weighs, and how fast it runs.

- `card_figures`: mIoU and per-class IoU on the held-out drive (the card's
  own validation metrics: training validated and selected on that drive),
  the run's record (status, epochs, training seconds of the budget's clock),
  parameter count and weights file size;
- `export_card`: `seggui export-onnx --int8 --calib DIR` in a child process,
  as a user runs it; a failure keeps its error text (and, when int8 failed,
  the fp32 export is tried alone so the fp32 row still gets its figure);
- `fps`: frames per second at CamVid's 360x480 through the product's
  predictors (torch, ONNX Runtime fp32, int8), `threads` fixed, variants
  interleaved for `rounds` rounds, each keeping its median (as
  tests/benchmarks/inference.py does), so a burst of load hits all alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def loadavg() -> list[float]:
    """The load averages `uptime` prints (1, 5, 15 minutes): figures mean little without them."""
    return [round(v, 2) for v in os.getloadavg()]


def link_frames(files: list[Path], folder: Path) -> Path:
    """A folder of symlinks to `files` (the export's --calib / --check take a folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for f in files:
        (folder / f.name).symlink_to(f.resolve())
    return folder


def spread(files: list[Path], n: int) -> list[Path]:
    """`n` files spread evenly over a sorted list (a drive's frames: its whole length)."""
    if n >= len(files):
        return list(files)
    return [files[round(i * (len(files) - 1) / max(1, n - 1))] for i in range(n)]


def card_figures(folder: Path) -> dict[str, Any]:
    """What the trained card says of itself, plus its size."""
    from seggui.engine.card import ModelCard
    from seggui.engine.factory import build_from_card

    card = ModelCard.load(folder)
    raw = json.loads((folder / "model.json").read_text())
    metrics, training = raw.get("metrics") or {}, raw.get("training") or {}
    history = [json.loads(line) for line in (folder / "train" / "metrics.jsonl").read_text().splitlines()
               if line.strip()] if (folder / "train" / "metrics.jsonl").is_file() else []
    last = history[-1] if history else {}
    weights = card.require_weights()
    out: dict[str, Any] = {
        "miou": _r(metrics.get("miou")), "pixel_accuracy": _r(metrics.get("pixel_accuracy")),
        "per_class_iou": {k: _r(v) for k, v in (metrics.get("per_class_iou") or {}).items()},
        "validated_on": metrics.get("source"), "val_images": metrics.get("n_images"),
        "best_epoch": training.get("best_epoch"), "epochs_run": training.get("epochs_run"),
        "status": training.get("status"), "train_pairs": training.get("train_pairs"),
        "budget_s": (training.get("config") or {}).get("time_budget_s"),
        "budget_clock": (training.get("config") or {}).get("budget_clock"),
        "budget_spent_s": last.get("elapsed_s"), "train_process_cpu_s": last.get("process_cpu_s"),
        "images_trained": round(sum((r.get("images_per_s") or 0) * (r.get("train_s") or 0) for r in history)),
        "val_s_per_epoch": _r(statistics.median([r["val_s"] for r in history]), 1) if history else None,
        "weights_mb": round(weights.stat().st_size / 1e6, 1),
    }
    out["params_m"] = round(sum(p.numel() for p in build_from_card(card).parameters()) / 1e6, 2)
    return out


def _export_cli(folder: Path, calib: Path, check: Path, threads: int, int8: bool) -> tuple[int, str, float]:
    cmd = [sys.executable, "-m", "seggui", "export-onnx", "--model", str(folder), "--out", str(folder),
           "--check", str(check), "--check-count", str(len(list(check.iterdir()))),
           "--threads", str(threads), "--quiet"]
    if int8:
        cmd += ["--int8", "--calib", str(calib)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("seggui export-onnx: ")]  # else a traceback's last line
    text = errors[-1] if errors else (lines[-1] if lines else "")
    return done.returncode, text[:600], round(time.perf_counter() - t0, 1)


def export_card(folder: Path, calib: Path, check: Path, threads: int) -> dict[str, Any]:
    """ONNX + static int8 export through the CLI; figures from the card's provenance, or the error."""
    from seggui.engine.card import ModelCard

    rc, text, seconds = _export_cli(folder, calib, check, threads, int8=True)
    out: dict[str, Any] = {"seconds": seconds}
    if rc != 0:
        out["int8_error"] = text
        rc, text, seconds = _export_cli(folder, calib, check, threads, int8=False)
        out["fp32_only_seconds"] = seconds
        if rc != 0:
            out["fp32_error"] = text
            return out
    card = ModelCard.load(folder)
    rec = card.provenance.get("onnx_export") or {}
    out["onnx_mb"] = round((rec.get("onnx_bytes") or 0) / 1e6, 1)
    out["agreement_vs_torch"] = rec.get("agreement_vs_torch")
    if card.onnx_int8 and "int8_error" not in out:
        q = rec.get("int8") or {}
        out.update(int8_mb=round((q.get("bytes") or 0) / 1e6, 1), int8_mode=q.get("mode"),
                   int8_agreement_vs_fp32=q.get("agreement_vs_fp32"))
    return out


def read_frames(files: list[Path]) -> list[np.ndarray]:
    from seggui.core.images import read_image

    return [read_image(f) for f in files]


def fps(folder: Path, frames: list[np.ndarray], rounds: int, threads: int,
        auto: bool = False) -> dict[str, Any]:
    """Frames/s per backend the card has (labels only, one frame at a time), medians of interleaved rounds.

    `auto` adds what `--backend auto` loads on this CPU, and `auto_runs` names it.
    """
    import torch

    from seggui.engine.card import ModelCard
    from seggui.engine.export import label_agreement
    from seggui.engine.predictor import load_predictor

    torch.set_num_threads(threads)
    card = ModelCard.load(folder)
    variants: dict[str, Any] = {}
    errors: dict[str, str] = {}
    kinds: tuple[tuple[str, dict[str, Any]], ...] = (
        ("torch", {"backend": "torch"}), ("onnx", {"backend": "onnx"}), ("int8", {"int8": True}),
        ("auto", {"backend": "auto"}))
    for key, kwargs in kinds:
        has = {"onnx": card.onnx, "int8": card.onnx_int8, "auto": auto}.get(key, True)
        if not has:
            continue
        try:
            variants[key] = load_predictor(card, device="cpu", threads=threads, **kwargs)
        except Exception as exc:  # noqa: BLE001 - record it, measure the others
            errors[key] = f"{type(exc).__name__}: {str(exc)[:300]}"
    labels: dict[str, list[np.ndarray]] = {}
    for key, pred in variants.items():  # warm-up: first calls allocate and pick kernels
        labels[key] = [pred.predict(f, confidence=False).labels for f in frames]
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for key, pred in variants.items():
            t0 = time.perf_counter()
            for f in frames:
                pred.predict(f, confidence=False)
            times[key].append(time.perf_counter() - t0)
    out: dict[str, Any] = {k: round(len(frames) / statistics.median(v), 2) for k, v in times.items()}
    if "auto" in variants:
        out["auto_runs"] = variants["auto"].describe()
    if "onnx" in labels and "int8" in labels:
        out["int8_pixels_as_fp32"] = round(label_agreement(labels["onnx"], labels["int8"]), 4)
    for pred in variants.values():
        pred.close()
    if errors:
        out["errors"] = errors
    return out


def _r(v: Any, nd: int = 4) -> float | None:
    return None if v is None else round(float(v), nd)
