"""Thread counts under load: the backends' defaults against fixed settings, with busy processes beside.

Run through `python tests/benchmarks/inference.py --under-load [--loads 0,1,2]`.

For each condition (0, 1, 2 ... busy processes at normal priority, started
before the models load, as a user's other programs would be), it loads:

- torch: the default (threads chosen from the free cores), 1 thread, 2 threads;
- onnx:  the default (free cores, workers sleep when idle), 1 thread,
         2 threads spinning, 2 threads not spinning;

and the card's int8 file with the default threads when it has one (its fps
are reported, not ranked: int8 is another model), then runs them interleaved
for `rounds` rounds (in a shuffled order each round) on the same CamVid
frames and keeps each one's median time per frame. Ratios: default / best setting per
backend (target >= 0.9 under load), 2 threads / 1 thread, spinning off / on.
The machine it runs on may carry other load too: the load average is
recorded beside every condition, and where the default equals one of the
fixed settings the two are reported side by side (`*_default_vs_same_setting`:
the same setting measured twice, so its distance from 1 is the noise). The
targets use `*_default_setting_vs_best`: the default's setting with both
instances' times pooled, against the best of the other settings (1.0 when it
is the best).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

BUSY = "while True: pass"


def _busy(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(n)]


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()


def _predictors(card: Any) -> dict[str, Any]:
    from seggui.engine.onnx_backend import OrtRunner
    from seggui.engine.predictor import Predictor, load_predictor

    onnx = card.require_onnx(False)
    out = {
        "torch_default": load_predictor(card, backend="torch", device="cpu"),
        "torch_1": load_predictor(card, backend="torch", device="cpu", threads=1),
        "torch_2": load_predictor(card, backend="torch", device="cpu", threads=2),
        "onnx_default": load_predictor(card, backend="onnx", device="cpu"),
        "onnx_1": Predictor(card, OrtRunner(onnx, "cpu", 1)),
        "onnx_2_spin": Predictor(card, OrtRunner(onnx, "cpu", 2, spinning=True)),
        "onnx_2_nospin": Predictor(card, OrtRunner(onnx, "cpu", 2, spinning=False)),
    }
    if card.onnx_int8_path is not None and card.onnx_int8_path.is_file():
        out["int8_default"] = load_predictor(card, int8=True, device="cpu")  # the shipped int8 file
    return out


def _condition(card: Any, frames: list[np.ndarray], rounds: int, busy: int) -> dict[str, Any]:
    from seggui.engine.threads import competing_load

    procs = _busy(busy)
    try:
        time.sleep(1.0)  # let the busy processes get going before the models load
        load_seen = competing_load(0.5)
        preds = _predictors(card)
        for p in preds.values():  # warm-up
            p.predict(frames[0], confidence=False)
        times: dict[str, list[float]] = {k: [] for k in preds}
        order = list(preds)
        shuffle = random.Random(busy)
        for _ in range(rounds):
            shuffle.shuffle(order)  # no variant always runs right after the same neighbour
            for key in order:
                for f in frames:
                    t0 = time.perf_counter()
                    preds[key].predict(f, confidence=False)
                    times[key].append(time.perf_counter() - t0)
        loadavg = os.getloadavg()
    finally:
        _stop(procs)
    fps = {k: round(1.0 / statistics.median(v), 2) for k, v in times.items()}
    out: dict[str, Any] = {
        "busy_processes": busy,
        "competing_cores_measured": None if load_seen is None else round(load_seen, 2),
        "loadavg_1_5_15": [round(v, 2) for v in loadavg], "fps": fps,
        "default_threads": {k.split("_")[0]: p.threads for k, p in preds.items() if k.endswith("_default")},
    }
    for backend in ("torch", "onnx"):
        mine = {k: v for k, v in fps.items() if k.startswith(backend)}
        best = max(mine, key=mine.__getitem__)
        out[f"{backend}_best"] = best
        out[f"{backend}_default_vs_best"] = round(fps[f"{backend}_default"] / fps[best], 3)
        n = preds[f"{backend}_default"].threads
        twin = f"{backend}_{n}" if backend == "torch" or n == 1 else f"{backend}_{n}_nospin"
        if twin in fps:  # the same setting measured twice: their ratio shows the noise of the machine
            out[f"{backend}_default_same_as"] = twin
            out[f"{backend}_default_vs_same_setting"] = round(fps[f"{backend}_default"] / fps[twin], 3)
            # the default's setting, both instances pooled, against the best of the other settings
            pooled = 1.0 / statistics.median(times[f"{backend}_default"] + times[twin])
            same = (twin, f"{backend}_default")
            others = [v for k, v in fps.items() if k.startswith(backend) and k not in same]
            out[f"{backend}_default_setting_vs_best"] = round(min(1.0, pooled / max(others)), 3)
    out["torch_2_vs_1"] = round(fps["torch_2"] / fps["torch_1"], 3)
    out["onnx_2_spin_vs_1"] = round(fps["onnx_2_spin"] / fps["onnx_1"], 3)
    out["onnx_2_nospin_vs_1"] = round(fps["onnx_2_nospin"] / fps["onnx_1"], 3)
    out["onnx_nospin_vs_spin_2"] = round(fps["onnx_2_nospin"] / fps["onnx_2_spin"], 3)
    for p in preds.values():
        p.close()
    return out


def run_under_load(model: str, frames: list[np.ndarray], rounds: int, loads: list[int]) -> dict[str, Any]:
    """The benchmark's JSON object: one entry per condition and the targets."""
    import onnxruntime as ort
    import torch

    from seggui.engine.card import resolve_model
    from seggui.engine.threads import allowed_cores

    card = resolve_model(model)
    if card.onnx_path is None or not card.onnx_path.is_file():
        raise SystemExit(f"{card.ref} has no ONNX export; run seggui export-onnx first")
    t0 = time.perf_counter()
    out: dict[str, Any] = {
        "benchmark": "inference-threads-under-load", "model": card.ref, "cores": len(allowed_cores()),
        "frames": len(frames), "frame_hw": list(frames[0].shape[:2]), "rounds": rounds,
        "torch": torch.__version__, "onnxruntime": ort.__version__,
        "loadavg_at_start": [round(v, 2) for v in os.getloadavg()],
        "note": "shared machine: other processes add load beyond busy_processes (see loadavg)",
    }
    conditions = [_condition(card, frames, rounds, n) for n in loads]
    out["conditions"] = conditions
    loaded = [c for c in conditions if c["busy_processes"] > 0]
    def ratio(c: dict[str, Any], b: str) -> float:
        return c.get(f"{b}_default_setting_vs_best", c[f"{b}_default_vs_best"])

    out["targets"] = {
        "default_within_10pct_of_best_under_load": all(
            ratio(c, b) >= 0.9 for c in loaded for b in ("torch", "onnx")
        ),
        "default_within_10pct_of_best_without_added_load": all(
            ratio(c, b) >= 0.9 for c in conditions if c["busy_processes"] == 0 for b in ("torch", "onnx")
        ),
    }
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out
