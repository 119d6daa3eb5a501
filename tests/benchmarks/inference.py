"""Inference benchmark: naive torch vs our torch and ONNX Runtime backends, fp32 and int8, on the CPU.

    python tests/benchmarks/inference.py [--frames 5] [--rounds 3] [--threads N]
    python tests/benchmarks/inference.py --under-load [--loads 0,1,2] [--model camvid-small]

For each reference model (Unet-resnet18 and FPN-mobilenet_v2, random init,
12 CamVid classes) at CamVid's 360x480, one run measures side by side:

1. naive:   the straightforward loop - normalise with numpy, pad, call the
            torch model under no_grad, argmax - one frame at a time;
2. torch:   our torch backend (`load_predictor(backend="torch")`), labels and
            confidence;
3. onnx:    our ONNX Runtime backend, fp32, labels and confidence;
4. int8:    our ONNX Runtime backend on the static-int8 export (calibrated on 8
            CamVid train frames);
5. bare:    `session.run` alone on tensors prepared beforehand (fp32): the
            ceiling the ONNX backend can approach.
(6) the whole drive pipeline (decode + infer + write) is measured by tests/benchmarks/pipeline.py.

Variants run interleaved for `rounds` rounds and each keeps its median, so a
burst of load from other processes hits all of them alike. Prints ONE JSON
line: frames per second per variant, the ratios the targets speak of, and
pixel agreement (ONNX vs torch, int8 vs fp32) on CamVid val frames.
Targets: onnx >= 1.5x naive; int8 >= 1.3x onnx fp32 with >= 98% agreement.

--under-load (tests/benchmarks/threads_load.py): the thread defaults against
fixed settings with and without busy background processes; one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CAMVID = REPO.parent / "shared" / "data" / "camvid"
MODELS = (("Unet", "resnet18"), ("FPN", "mobilenet_v2"))


def _frames(n: int) -> list[np.ndarray]:
    from seggui.core.images import list_images, read_image
    from seggui.engine.export import synthetic_images

    if not CAMVID.is_dir():
        return synthetic_images(n)
    files = list_images(CAMVID / "val")
    return [read_image(files[i * len(files) // n]) for i in range(n)]


def _naive(model, frames: list[np.ndarray]) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """What a first script does: per frame, numpy normalisation, F.pad, model(x), argmax."""
    import torch
    import torch.nn.functional as F

    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    out = []
    for frame in frames:
        x = torch.from_numpy(((frame / 255.0 - mean) / std).astype(np.float32).transpose(2, 0, 1))[None]
        h, w = frame.shape[:2]
        x = F.pad(x, (0, -w % 32, 0, -h % 32), mode="reflect")
        with torch.no_grad():
            out.append(model(x).argmax(1)[0, :h, :w].numpy().astype(np.uint8))
    return out


def _bench_model(arch: str, encoder: str, frames: list[np.ndarray], rounds: int, threads: int,
                 work: Path) -> dict:
    import onnxruntime as ort
    import torch

    from seggui.core.jobs import run_job
    from seggui.engine.card import ModelCard
    from seggui.engine.export import export_job, label_agreement
    from seggui.engine.factory import build_model
    from seggui.engine.onnx_backend import session_options
    from seggui.engine.predictor import load_predictor
    from seggui.engine.weights import load_model, save_state_dict

    torch.manual_seed(0)
    folder = work / f"{arch}-{encoder}"
    save_state_dict(build_model(arch, encoder, 12), folder / "weights.safetensors")
    ModelCard(name=f"bench-{arch}-{encoder}".lower(), architecture=arch, encoder=encoder, num_classes=12,
              classes_spec="camvid-11").save(folder)
    card = ModelCard.load(folder)
    calib = CAMVID / "train" if CAMVID.is_dir() else None
    check = CAMVID / "val" if CAMVID.is_dir() else None
    report = run_job(export_job(card, folder, int8=calib is not None, calib_dir=calib, calib_count=8,
                                check_dir=check, check_count=4, threads=threads))
    card = ModelCard.load(folder)

    torch.set_num_threads(threads)
    naive_model = load_model(card)
    ours = {
        "torch": load_predictor(card, backend="torch", device="cpu", threads=threads),
        "onnx": load_predictor(card, backend="onnx", device="cpu", threads=threads),
    }
    if card.onnx_int8:
        ours["int8"] = load_predictor(card, int8=True, device="cpu", threads=threads)
    bare = ort.InferenceSession(str(card.onnx_path), session_options(threads),
                                providers=["CPUExecutionProvider"])
    name = bare.get_inputs()[0].name
    tensors = [ours["onnx"].prepare(f).tensor[None] for f in frames]

    variants = {
        "naive": lambda: _naive(naive_model, frames),
        **{k: (lambda p=p: [p.predict(f).labels for f in frames]) for k, p in ours.items()},
        "bare": lambda: [bare.run(None, {name: t}) for t in tensors],
    }
    for run in variants.values():  # warm-up: first calls allocate and pick kernels
        run()
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for key, run in variants.items():
            t0 = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - t0)
    fps = {k: round(len(frames) / statistics.median(v), 3) for k, v in times.items()}
    naive_labels = _naive(naive_model, frames)
    onnx_labels = [ours["onnx"].predict(f).labels for f in frames]
    result = {
        "fps": fps,
        "onnx_vs_naive": round(fps["onnx"] / fps["naive"], 3),
        "torch_vs_naive": round(fps["torch"] / fps["naive"], 3),
        "onnx_share_of_bare": round(fps["onnx"] / fps["bare"], 3),
        "agreement_onnx_vs_naive_torch": round(label_agreement(naive_labels, onnx_labels), 5),
        "export_check_agreement": round(report.agreement, 5),
        "onnx_mb": round(report.onnx_bytes / 1e6, 1),
    }
    if "int8" in fps:
        int8_labels = [ours["int8"].predict(f).labels for f in frames]
        result.update(
            int8_vs_onnx=round(fps["int8"] / fps["onnx"], 3),
            int8_agreement_vs_fp32=round(label_agreement(onnx_labels, int8_labels), 5),
            int8_mb=round((report.int8_bytes or 0) / 1e6, 1),
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    parser.add_argument("--under-load", action="store_true",
                        help="thread defaults vs 1/2 threads and ORT spinning, with busy processes beside")
    parser.add_argument("--loads", default="0,1,2", help="with --under-load: busy processes per condition")
    parser.add_argument("--model", default="camvid-small", help="with --under-load: the card to run")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    if args.under_load:
        from threads_load import run_under_load

        loads = [int(v) for v in args.loads.split(",") if v.strip()]
        print(json.dumps(run_under_load(args.model, _frames(args.frames), args.rounds, loads)))
        return 0

    import onnxruntime as ort
    import torch

    from seggui.engine.threads import inference_threads

    threads = inference_threads(args.threads)
    frames = _frames(args.frames)
    t0 = time.perf_counter()
    out: dict = {
        "benchmark": "inference", "device": "CPU", "threads": threads, "frames": len(frames),
        "frame_hw": list(frames[0].shape[:2]), "rounds": args.rounds,
        "data": "camvid val" if CAMVID.is_dir() else "synthetic", "torch": torch.__version__,
        "onnxruntime": ort.__version__,
    }
    with tempfile.TemporaryDirectory(prefix="seggui-bench-") as tmp:
        for arch, encoder in MODELS:
            out[f"{arch}-{encoder}"] = _bench_model(arch, encoder, frames, args.rounds, threads, Path(tmp))
    results = [out[f"{a}-{e}"] for a, e in MODELS]
    out["targets"] = {
        "onnx_ge_1.5x_naive": all(r["onnx_vs_naive"] >= 1.5 for r in results),
        "int8_ge_1.3x_fp32": all(r.get("int8_vs_onnx", 0) >= 1.3 for r in results),
        "int8_agreement_ge_98pct": all(r.get("int8_agreement_vs_fp32", 0) >= 0.98 for r in results),
    }
    out["drive_pipeline"] = "measured by tests/benchmarks/pipeline.py (decode + infer + write vs bare)"
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
