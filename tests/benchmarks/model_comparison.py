"""Model comparison (issue 21): the seeds' networks and ours, each trained by `seggui train` under one budget.

    python tests/benchmarks/model_comparison.py [--phase all|train|measure] [--archs fcn8s,xception,...]
        [--budget-cpu-s 600] [--out /work/runs/compare] [--threads 2] [--frames 5] [--rounds 3]
        [--nice] [--table]

Every architecture (ARCHS; `--archs` picks some by key) trains from scratch
(no encoder weights: the factory never downloads) with the held-out-drive
config tests/benchmarks/configs/camvid-heldout-0001TP.yaml: CamVid, trained
on drives 0006R0 and 0016E5, validated and selected on drive 0001TP, which
it never trains on; the same augmentation, loss, median class weights,
resize 240x320, crop 224x320, batch, lr (0.002 AdamW) and seed for all.
Instead of its 40 epochs each run gets the same budget: ``time_budget_s``
CPU seconds of the training process (``budget_clock: cpu``, so a loaded
shared machine slows a run without shortening its work; ``workers: 0``
because loader processes would not be counted), ``schedule: budget`` (the
rate warms up and decays over the budget). A big network therefore sees
fewer pictures than a small one: that is the comparison. Validation (62
pictures after each epoch) counts in the budget, and the epoch the budget
ends in is still validated, so a run spends a little more (budget_spent_s).

Phases: `train` runs ``seggui train --config`` in a child process per
architecture (its card under --out/KEY; a folder that already holds a card
is kept, not retrained; a run whose loss diverges runs once more at a
quarter of the rate, and its row says so); `measure` exports each card
with ``seggui export-onnx --int8 --calib`` (8 frames of the training
drives) and measures frames/s at CamVid's 360x480 (the cards resize to
240x320, as in training) with torch, ONNX Runtime fp32 and int8 at a fixed
thread count; `all` does both. mIoU and per-class IoU are the card's own
validation figures on 0001TP. Errors (a build, export or quantisation that
fails) are recorded in that row and the others go on. Timings need a quiet
machine: torch's two spinning OpenMP threads lose the most to other load.

Prints ONE JSON line (also written to --out/comparison-PHASE.json) with the
`uptime` load before and after each run and phase; `--table` adds Markdown
tables for the README. Skips with a "skipped" line without ../shared/data.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from model_comparison_measure import (
    card_figures,
    export_card,
    fps,
    link_frames,
    loadavg,
    read_frames,
    spread,
)

REPO = Path(__file__).resolve().parents[2]
CAMVID = REPO.parent / "shared" / "data" / "camvid"
BASE = REPO / "tests" / "benchmarks" / "configs" / "camvid-heldout-0001TP.yaml"
EPOCH_CAP = 1000  # the budget ends every run long before; the budget schedule follows the budget then
# key: (label, architecture, encoder, arch_params); None: the base config's (camvid-small's network).
ARCHS: dict[str, tuple[str, str | None, str | None, dict[str, Any]]] = {
    "fcn_resnet50": ("FCN-ResNet50", "torchvision.fcn_resnet50", None, {}),
    "unet": ("UNet-ResNet34", "Unet", "resnet34", {}),
    "pspnet": ("PSPNet-ResNet34", "PSPNet", "resnet34", {}),
    "deeplabv3plus": ("DeepLabV3+-ResNet34", "DeepLabV3Plus", "resnet34", {}),
    "segformer": ("Segformer-MiT-B0", "Segformer", "mit_b0", {}),
    "fcn8s": ("FCN-8s-VGG16", "FCN8s", "vgg16", {}),
    # Xception-65 is the DeepLabv3+ paper's; on 2 CPU cores a training step costs ~1.2x Xception-41's
    # (2.6 vs 2.1 CPU-s for 2 crops of 224x320) for 41.0M parameters against 28.1M: not prohibitive.
    "xception": ("DeepLabV3+-Xception65", "DeepLabV3Plus", "tu-xception65", {}),
    "camvid_small": ("camvid-small's net (UNet-MobileNetV2, slim decoder)", None, None, {}),
}
NOTES = {"pspnet": "smp's PSPNet (encoder_depth 3) runs resnet34 only to stride 8 (stem, layer1, layer2): "
                   "the weights hold all 21.5M parameters, the ONNX file only the ~1.6M that run"}
LR: dict[str, float] = {}  # per-architecture rate, should the common one not suit (none so far)
BATCH: dict[str, int] = {}  # per-architecture batch where 8 does not fit in memory (none so far)


def run_config(key: str, base: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The training config of one architecture: the held-out config with the budget settings."""
    label, arch, encoder, params = ARCHS[key]
    cfg = copy.deepcopy(base)
    cfg["data"] = {**cfg["data"], "root": str(CAMVID)}
    if arch is not None:
        cfg.update(architecture=arch, encoder=encoder, arch_params=params)
    cfg.update(
        name=f"compare-{key.replace('_', '-')}", out=str(args.out / key),
        description=f"{label} from scratch on CamVid drives 0006R0 and 0016E5, validated on 0001TP; "
                    f"{args.budget_cpu_s:g} CPU-s of training (model_comparison benchmark, issue 21)",
        epochs=EPOCH_CAP, schedule="budget", time_budget_s=args.budget_cpu_s, budget_clock="cpu",
        workers=0, seed=args.seed, device="cpu",
        lr=LR.get(key, cfg.get("lr", 0.002)), batch=BATCH.get(key, args.batch or cfg.get("batch", 8)),
    )
    return cfg


def _log_tail(path: Path, n: int = 3) -> str:
    """The last lines of a training log (progress bars and warnings left out)."""
    lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines()]
    keep = [ln for ln in lines if ln and "Warning" not in ln and "warnings.warn" not in ln]
    return " | ".join(keep[-n:])[:800]


def _set_aside(folder: Path, tag: str) -> None:
    """Move a run's folder out of the way (a retry, or a killed run without a card), keeping it to read."""
    if folder.exists():
        aside = folder.with_name(f"{folder.name}.{tag}")
        if aside.exists():
            shutil.rmtree(aside)
        folder.rename(aside)


def _train_child(key: str, cfg: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """One `seggui train --config` child process: its wall and CPU seconds, peak memory and loads."""
    logs = args.out / "logs"
    cfg_path = args.out / "configs" / f"{key}.yaml"
    cfg_path.parent.mkdir(parents=True, exist_ok=True)
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    cmd = [sys.executable, "-m", "seggui", "train", "--config", str(cfg_path), "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}  # nothing may be fetched
    rec: dict[str, Any] = {"config": str(cfg_path), "log": str(logs / f"{key}.train.log"),
                           "lr": cfg["lr"], "batch": cfg["batch"], "load_before": loadavg()}
    t0 = time.perf_counter()
    with open(logs / f"{key}.train.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    rec.update(rc=rc, wall_s=round(time.perf_counter() - t0, 1),
               child_cpu_s=round(usage.ru_utime + usage.ru_stime, 1),
               peak_rss_mb=round(usage.ru_maxrss / 1024), load_after=loadavg())
    if rc != 0:
        rec["error"] = _log_tail(logs / f"{key}.train.log")
    return rec


def train_one(key: str, base: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Train one architecture unless its card is there; a run that diverges is run again at lr / 4."""
    logs = args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    record_path, folder = logs / f"{key}.train.json", args.out / key
    if (folder / "model.json").is_file():
        old = json.loads(record_path.read_text()) if record_path.is_file() else {}
        return {**old, "kept": "a card was already there; delete the folder to train it again"}
    _set_aside(folder, "incomplete")  # a killed run's checkpoint without a card
    cfg = run_config(key, base, args)
    rec = _train_child(key, cfg, args)
    if rec["rc"] != 0 and "diverged" in rec.get("error", ""):
        _set_aside(folder, "diverged")
        shutil.copy(logs / f"{key}.train.log", logs / f"{key}.diverged.log")
        first = rec
        rec = _train_child(key, {**cfg, "lr": cfg["lr"] / 4}, args)
        rec["diverged_first"] = {k: first[k] for k in ("lr", "error", "wall_s", "child_cpu_s")}
    record_path.write_text(json.dumps(rec))
    return rec


def drive_files(drive: str) -> tuple[list[Path], list[Path]]:
    """(the held-out drive's frames, the training drives' frames) of CamVid's train and val folders."""
    files = sorted(p for split in ("train", "val") for p in (CAMVID / split).glob("*.png"))
    return [p for p in files if p.name.startswith(drive)], [p for p in files if not p.name.startswith(drive)]


def measure(keys: list[str], rows: dict[str, dict[str, Any]], drive: str, args: argparse.Namespace) -> None:
    """Export and time every trained card in `keys` (rows gain "export" and "fps")."""
    held_out, training = drive_files(drive)
    calib = link_frames(spread(training, args.calib_frames), args.out / "_frames" / "calib")
    check = link_frames(spread(held_out, 4), args.out / "_frames" / "check")
    frames = read_frames(spread(held_out, args.frames))
    for key in keys:
        row, folder = rows[key], args.out / key
        if not (folder / "model.json").is_file():
            row["measure_error"] = f"no card in {folder}: train it first (--phase train)"
            continue
        row["measure_load_before"] = loadavg()
        row["export"] = export_card(folder, calib, check, args.threads)
        try:
            row["fps"] = fps(folder, frames, args.rounds, args.threads)
        except Exception as exc:  # noqa: BLE001 - record it, measure the others
            row["fps"] = {"errors": {"all": f"{type(exc).__name__}: {str(exc)[:300]}"}}
        row["measure_load_after"] = loadavg()


def _f(v: Any, spec: str = ".3f") -> str:
    return "–" if v is None else format(v, spec)


def markdown(out: dict[str, Any]) -> str:
    """Two Markdown tables (figures, then per-class IoU) for the README."""
    head = ("| Network | Params (M) | Weights (MB) | ONNX (MB) | Pictures trained (epochs) | mIoU 0001TP | "
            "torch fps | ORT fp32 fps | ORT int8 fps | int8 px = fp32 |")
    lines = [head, "|" + "---|" * 10]
    classes: list[str] = []
    for row in out["rows"].values():
        fp = row.get("fps") or {}
        ex = row.get("export") or {}
        onnx = _f(fp.get("onnx"), ".2f") if "fp32_error" not in ex else "export failed"
        int8 = _f(fp.get("int8"), ".2f") if not ({"int8_error", "fp32_error"} & set(ex)) else "failed"
        cells = [row["label"], _f(row.get("params_m"), ".1f"), _f(row.get("weights_mb"), ".1f"),
                 _f(ex.get("onnx_mb"), ".1f"),
                 f"{row.get('images_trained', '–')} ({row.get('epochs_run', '–')})", _f(row.get("miou")),
                 _f(fp.get("torch"), ".2f"), onnx, int8, _f(fp.get("int8_pixels_as_fp32"), ".2%")]
        lines.append("| " + " | ".join(cells) + " |")
        classes = classes or list(row.get("per_class_iou") or {})
    if classes:
        lines += ["", "| Network | " + " | ".join(classes) + " |", "|" + "---|" * (len(classes) + 1)]
        for row in out["rows"].values():
            iou = row.get("per_class_iou") or {}
            lines.append(f"| {row['label']} | " + " | ".join(_f(iou.get(c), ".2f") for c in classes) + " |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--phase", choices=("all", "train", "measure"), default="all")
    p.add_argument("--archs", default=",".join(ARCHS), help=f"comma-separated keys of: {', '.join(ARCHS)}")
    p.add_argument("--budget-cpu-s", dest="budget_cpu_s", type=float, default=600.0,
                   help="training budget per architecture, CPU seconds of its training process")
    p.add_argument("--out", type=Path, default=Path("/work/runs/compare"), help="folder for the cards")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for the export check and fps")
    p.add_argument("--frames", type=int, default=5, help="0001TP frames timed per round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (medians kept)")
    p.add_argument("--calib-frames", dest="calib_frames", type=int, default=8,
                   help="training-drive frames for static int8 calibration")
    p.add_argument("--batch", type=int, default=None, help="training batch (default: the config's 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nice", action="store_true", help="run at nice 19 (training children inherit it)")
    p.add_argument("--table", action="store_true", help="also print Markdown tables for the README")
    args = p.parse_args(argv)
    args.keys = [k.strip() for k in args.archs.split(",") if k.strip()]
    unknown = [k for k in args.keys if k not in ARCHS]
    if unknown or not args.keys:
        p.error(f"unknown --archs {', '.join(unknown) or '(none)'}; choose from {', '.join(ARCHS)}")
    args.out = args.out.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not CAMVID.is_dir():
        print(json.dumps({"benchmark": "model_comparison", "skipped": f"no CamVid at {CAMVID}"}))
        return 0
    if args.nice:
        os.nice(19)
    import onnxruntime as ort
    import segmentation_models_pytorch as smp
    import timm
    import torch

    base = yaml.safe_load(BASE.read_text())
    drive = base["data"]["val_drives"][0]
    t0 = time.perf_counter()
    out: dict[str, Any] = {
        "benchmark": "model_comparison", "phase": args.phase, "budget_cpu_s": args.budget_cpu_s,
        "budget_clock": "cpu", "schedule": "budget", "base_config": str(BASE.relative_to(REPO)),
        "validated_on": drive, "out": str(args.out), "threads_measure": args.threads,
        "train_threads": f"torch default ({torch.get_num_threads()})", "frames": args.frames,
        "frame_hw": [360, 480], "rounds": args.rounds, "cpus": os.cpu_count(), "nice": args.nice,
        "versions": {"torch": torch.__version__, "onnxruntime": ort.__version__, "smp": smp.__version__,
                     "timm": timm.__version__},
        "load_start": loadavg(), "rows": {},
    }
    rows: dict[str, dict[str, Any]] = out["rows"]
    for key in args.keys:
        label, arch, encoder, params = ARCHS[key]
        rows[key] = {"label": label, "architecture": arch or base["architecture"],
                     "encoder": encoder if arch else base.get("encoder"),
                     "arch_params": params if arch else base.get("arch_params", {})}
        if key in NOTES:
            rows[key]["note"] = NOTES[key]
    if args.phase in ("all", "train"):
        for key in args.keys:
            rows[key]["train"] = train_one(key, base, args)
        out["load_after_train"] = loadavg()
    for key in args.keys:
        rec = args.out / "logs" / f"{key}.train.json"
        if "train" not in rows[key] and rec.is_file():
            rows[key]["train"] = json.loads(rec.read_text())
        if (args.out / key / "model.json").is_file():
            try:
                rows[key].update(card_figures(args.out / key))
            except Exception as exc:  # noqa: BLE001 - a broken card is a row's finding
                rows[key]["card_error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    if args.phase in ("all", "measure"):
        measure(args.keys, rows, drive, args)
        out["load_after_measure"] = loadavg()
    if args.phase == "measure":  # the budget the cards were trained with, not this run's flag
        out["budget_cpu_s"] = sorted({r["budget_s"] for r in rows.values() if r.get("budget_s")}) or None
    out["seconds"] = round(time.perf_counter() - t0, 1)
    line = json.dumps(out)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"comparison-{args.phase}.json").write_text(line + "\n")
    print(line)
    if args.table:
        print(markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
