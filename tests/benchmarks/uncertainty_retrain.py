"""Benchmark: retrain on the k most uncertain CamVid train frames against k random ones (issue 19).

    nice -n 19 python tests/benchmarks/uncertainty_retrain.py [--pool 32] [--k 8] [--seeds 0,1]
                                                            [--epochs 1] [--val 12]

What "Most uncertain next" promises: correcting the frames the model is least
sure of teaches it more than correcting frames picked at random. The test of
it, sized for a 2-core CPU shared with other work (minutes, not hours):

1. a pool of `--pool` CamVid train frames (seeded pick) is predicted by the
   shipped models/camvid-small, and each frame's confidence map is scored as
   the window and `seggui rank` score it (`seggui.core.uncertainty`: share of
   pixels under 0.6 confidence);
2. the `--k` most uncertain frames, and for each seed `--k` random frames of
   the same pool, fine-tune camvid-small with the same settings
   (`seggui.training.loop.train_job`: from the card, `--epochs` epochs, each
   pair shown 4 times an epoch, 256x256 crops, batch 4, AdamW lr 5e-4,
   constant schedule, cross-entropy, the seed as training seed); their
   ground-truth masks stand in for the analyst's corrections;
3. mIoU on `--val` CamVid val pictures after the last epoch (the training
   loop's own validation, same pictures for every run), and camvid-small's
   mIoU on them before any fine-tune (same loop, one step at learning rate 1e-12: no learning).

The gain is uncertain-minus-random, per seed and averaged. Honest limits:
camvid-small was trained on all 367 train frames, so every pool frame is one
it has seen; the fine-tune is tiny (k frames, a few dozen steps); a handful of
seeds on 12 val pictures is noisy evidence, reported as such.

Prints ONE JSON line (with the load average before and after); without
../shared/data it prints a "skipped" line.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CAMVID = ROOT.parent / "shared" / "data" / "camvid"
CARD = ROOT / "models" / "camvid-small"
REPEAT = 4  # each pair is linked this many times, so an epoch is a few optimiser steps


def link_set(dest: Path, split: str, names: list[str], repeat: int = 1) -> Path:
    (dest / "images").mkdir(parents=True)
    (dest / "masks").mkdir()
    for r in range(repeat):
        for n in names:
            (dest / "images" / f"r{r}_{n}").symlink_to(CAMVID / split / n)
            (dest / "masks" / f"r{r}_{n}").symlink_to(CAMVID / f"{split}annot" / n)
    return dest


def fine_tune(tmp: Path, tag: str, names: list[str], val: Path, seed: int, epochs: int, lr: float,
              steps: int | None = None) -> float:
    """Val mIoU after the last epoch of a fine-tune of camvid-small on `names`."""
    from seggui.core.jobs import run_job
    from seggui.training.config import TrainConfig
    from seggui.training.loop import train_job

    data = link_set(tmp / f"{tag}-data", "train", names, REPEAT)
    cfg = TrainConfig.from_dict({
        "data": {"layout": "folder", "root": str(data), "val_split": None, "val_root": str(val)},
        "classes": "camvid-11", "from_model": str(CARD), "out": str(tmp / f"{tag}-card"),
        "epochs": epochs, "batch": 4, "crop": [256, 256], "augment": "driving", "lr": lr,
        "optimizer": "adamw", "schedule": "constant", "loss": "ce", "device": "cpu", "workers": 0,
        "seed": seed, "amp": False, "steps_per_epoch": steps,
    })
    result = run_job(train_job(cfg))
    return float(result.history[-1]["miou"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", type=int, default=32)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--val", type=int, default=12)
    args = ap.parse_args()
    if not (CAMVID / "train").is_dir() or not (CARD / "model.json").is_file():
        print(json.dumps({"benchmark": "uncertainty_retrain", "skipped": f"{CAMVID} or {CARD} not found"}))
        return
    import torch

    from seggui.core.images import read_image
    from seggui.core.outputs import confidence_png
    from seggui.core.uncertainty import rank, score_confidence
    from seggui.engine.predictor import load_predictor

    torch.set_num_threads(2)
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    names = sorted(p.name for p in (CAMVID / "train").glob("*.png"))
    pool = sorted(np.random.default_rng(1234).choice(names, args.pool, replace=False).tolist())
    predictor = load_predictor(CARD, backend="torch", device="cpu", threads=2)
    scores = {}
    for n in pool:
        pred = predictor.predict(read_image(CAMVID / "train" / n))
        scores[n] = score_confidence(confidence_png(pred.confidence))
    predictor.close()
    uncertain = rank(scores)[: args.k]
    val_names = sorted(p.name for p in (CAMVID / "val").glob("*.png"))
    val_pick = sorted(np.random.default_rng(99).choice(val_names, args.val, replace=False).tolist())
    seeds = [int(s) for s in args.seeds.split(",")]
    out: dict = {"benchmark": "uncertainty_retrain", "pool": args.pool, "k": args.k, "epochs": args.epochs,
                 "steps_per_run": args.epochs * (args.k * REPEAT // 4), "val_pictures": args.val,
                 "seeds": seeds, "load_before": load0, "cpus": os.cpu_count(),
                 "uncertain_low_share": round(float(np.mean([scores[n].low_share for n in uncertain])), 3),
                 "pool_low_share": round(float(np.mean([u.low_share for u in scores.values()])), 3)}
    with tempfile.TemporaryDirectory(prefix="seggui-unc-") as tmpdir:
        tmp = Path(tmpdir)
        val = link_set(tmp / "val", "val", val_pick)
        out["before_miou"] = round(fine_tune(tmp, "before", pool[:4], val, 0, 1, 1e-12, steps=1), 4)
        runs = []
        for seed in seeds:
            rnd = sorted(np.random.default_rng(seed).choice(pool, args.k, replace=False).tolist())
            u = fine_tune(tmp, f"unc{seed}", uncertain, val, seed, args.epochs, 5e-4)
            r = fine_tune(tmp, f"rnd{seed}", rnd, val, seed, args.epochs, 5e-4)
            runs.append({"seed": seed, "uncertain_miou": round(u, 4), "random_miou": round(r, 4),
                         "gain": round(u - r, 4), "random_low_share":
                         round(float(np.mean([scores[n].low_share for n in rnd])), 3)})
    out["runs"] = runs
    out["mean_gain"] = round(float(np.mean([r["gain"] for r in runs])), 4)
    out["mean_uncertain_miou"] = round(float(np.mean([r["uncertain_miou"] for r in runs])), 4)
    out["mean_random_miou"] = round(float(np.mean([r["random_miou"] for r in runs])), 4)
    out["seconds"] = round(time.perf_counter() - t0)
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
