"""Drive pipeline benchmark: decode + infer + write vs the bare `session.run` ceiling.

    python tests/benchmarks/pipeline.py [--frames 30] [--rounds 2] [--threads 2]

A video of consecutive CamVid 0016E5 frames (360x480, mp4v) goes through
`run_pipeline` with ONNX Runtime fp32 (FPN-mobilenet_v2, random init), which
decodes on a thread, prepares and infers here, and writes PNG masks on
another thread. The ceiling is `session.run` alone on the same frames'
tensors prepared beforehand. Both run interleaved for `rounds` rounds and
keep their medians. Prints ONE JSON line; target: pipeline >= 85% of the
ceiling's frames per second.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[2]
CAMVID = REPO.parent / "shared" / "data" / "camvid"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if not CAMVID.is_dir():
        print(json.dumps({"skipped": f"no CamVid at {CAMVID}"}))
        return 0

    import onnxruntime as ort
    import torch

    from seggui.core.jobs import run_job
    from seggui.core.media import open_source
    from seggui.core.outputs import FolderOutputs
    from seggui.engine.card import ModelCard
    from seggui.engine.export import export_job
    from seggui.engine.factory import build_model
    from seggui.engine.onnx_backend import session_options
    from seggui.engine.pipeline import run_pipeline
    from seggui.engine.predictor import load_predictor
    from seggui.engine.weights import save_state_dict

    work = Path(tempfile.mkdtemp(prefix="seggui-pipe-"))
    try:
        files = sorted((CAMVID / "train").glob("0016E5_*.png"))[: args.frames]
        video = work / "drive.mp4"
        vw = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 15, (480, 360))
        for f in files:
            vw.write(cv2.imread(str(f)))
        vw.release()
        torch.manual_seed(0)
        folder = work / "card"
        save_state_dict(build_model("FPN", "mobilenet_v2", 12), folder / "weights.safetensors")
        ModelCard(name="bench-fpn", architecture="FPN", encoder="mobilenet_v2", num_classes=12,
                  classes_spec="camvid-11").save(folder)
        run_job(export_job(ModelCard.load(folder), folder, check_count=2, threads=args.threads))
        card = ModelCard.load(folder)
        pred = load_predictor(card, backend="onnx", device="cpu", threads=args.threads)
        src = open_source(video)
        tensors = [pred.prepare(f).tensor[None] for _, f in src.iter_frames()]
        bare = ort.InferenceSession(str(card.onnx_path), session_options(args.threads),
                                    providers=["CPUExecutionProvider"])
        name = bare.get_inputs()[0].name

        def run_bare() -> None:
            for t in tensors:
                bare.run(None, {name: t})

        def run_pipe() -> None:
            out = work / "out"
            shutil.rmtree(out, ignore_errors=True)
            result = run_job(run_pipeline(pred, src, FolderOutputs(out, card.classes)))
            assert len(result.written) == len(src)

        run_bare()
        run_pipe()  # warm-up
        times: dict[str, list[float]] = {"bare": [], "pipeline": []}
        for _ in range(args.rounds):
            for key, fn in (("bare", run_bare), ("pipeline", run_pipe)):
                t0 = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - t0)
        fps = {k: round(len(src) / statistics.median(v), 3) for k, v in times.items()}
        print(json.dumps({
            "model": "FPN-mobilenet_v2 ONNX Runtime fp32 CPU", "frames": len(src), "size": "360x480",
            "threads": args.threads, "fps": fps,
            "pipeline_share_of_bare": round(fps["pipeline"] / fps["bare"], 3), "target": 0.85,
        }))
        src.close()
        pred.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
