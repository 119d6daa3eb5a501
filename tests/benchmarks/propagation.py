"""Benchmark: a corrected frame carried 1, 5 and 10 frames along the generated drive, against the model alone
and against copying the correction.

    python tests/benchmarks/propagation.py [--starts 0 10 20] [--backend auto]

The drive is the demo's (`seggui demo`: `render_drive(500, ...)`, 360x480,
8 px a frame, written as drive.mp4 and read back, so the frames carry the
video's compression), with the generator's exact parking-2 mask for every
frame. The model is the shipped parking-demo, the demo's, run on every
frame through the workspace pipeline.

For each start frame the "correction" is the ground truth of that frame
(a perfect analyst). It is then carried forward through the feature's own
path (`seggui.core.editing.propagate_drive.propagate`: DIS flow, the model's
prediction where the flow fails its forward-backward check, chained frame
to frame) and scored against each frame's ground truth, beside:

- `flow_only`: the same chain with no prediction to fall back on,
- `copy`: the correction copied unchanged (Edit ▸ Copy labels from previous),
- `model`: the model's own prediction of that frame.

Figures: IoU of the parking class and mIoU over both classes (parking,
background), each the mean over the start frames, at 1, 5 and 10 frames
ahead; and the milliseconds a carried frame costs (flow, check, reading).
Prints ONE JSON line; the load average is in it (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from seggui.core.editing.label_map import unlabelled_value  # noqa: E402
from seggui.core.editing.propagate import carry  # noqa: E402
from seggui.core.editing.propagate_drive import FrameReader, propagate  # noqa: E402
from seggui.core.jobs import run_job  # noqa: E402
from seggui.demo import DemoSpec, build_demo_workspace  # noqa: E402

AHEAD = (1, 5, 10)
PARKING = 1


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def scores(labels: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(parking IoU, mIoU over the two classes)."""
    per = [iou(labels == c, truth == c) for c in (0, PARKING)]
    return per[PARKING], float(np.mean(per))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, nargs="+", default=[0, 10, 20])
    ap.add_argument("--backend", default="auto")
    args = ap.parse_args()
    from seggui.engine.predictor import load_predictor
    from seggui.engine.workspace_inference import predict_workspace

    frames_needed = max(args.starts) + max(AHEAD) + 1
    with tempfile.TemporaryDirectory() as tmp:
        ws = run_job(build_demo_workspace(Path(tmp) / "ws", DemoSpec(pictures=0, drive_frames=frames_needed)))
        drive = next(iter(ws.drives().values()))
        with load_predictor(ws.model or "parking-demo", args.backend, "cpu") as predictor:
            device = predictor.describe()
            run_job(predict_workspace(ws, predictor))
        truth = {f: ws.read_mask(f, "ground_truth") for f in drive}
        pred = {f: ws.read_mask(f, "predicted") for f in drive}
        reader = FrameReader(ws, drive)
        images = {f: reader.image(f) for f in drive}
        reader.close()
        unl = unlabelled_value(ws.classes)
        rows: dict[str, dict[int, list[tuple[float, float]]]] = {
            k: {a: [] for a in AHEAD} for k in ("flow_model", "flow_only", "copy", "model")}
        seconds, carried_n = 0.0, 0
        for s in args.starts:
            start = drive[s]
            ws.write_mask(start, "corrected", truth[start])
            t0 = time.perf_counter()
            outcome = run_job(propagate(ws, drive, start, max(AHEAD)))
            seconds += time.perf_counter() - t0
            carried_n += len(outcome.carried)
            assert not outcome.stopped and len(outcome.carried) == max(AHEAD), outcome
            labels = truth[start]
            for k in range(1, max(AHEAD) + 1):
                fid = drive[s + k]
                labels = carry(images[drive[s + k - 1]], images[fid], labels, unl).labels
                if k in AHEAD:
                    rows["flow_model"][k].append(scores(ws.read_mask(fid, "corrected"), truth[fid]))
                    rows["flow_only"][k].append(scores(labels, truth[fid]))
                    rows["copy"][k].append(scores(truth[start], truth[fid]))
                    rows["model"][k].append(scores(pred[fid], truth[fid]))
    out = {
        "benchmark": "propagation",
        "drive": f"generated (demo seed 500), {len(drive)} frames 480x360, mp4",
        "model": "parking-demo", "device": device, "starts": args.starts,
        "parking_iou": {m: {str(a): round(float(np.mean([r[0] for r in v[a]])), 4) for a in AHEAD}
                        for m, v in rows.items()},
        "miou": {m: {str(a): round(float(np.mean([r[1] for r in v[a]])), 4) for a in AHEAD}
                 for m, v in rows.items()},
        "ms_per_carried_frame": round(1000 * seconds / max(1, carried_n), 1),
        "load": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
