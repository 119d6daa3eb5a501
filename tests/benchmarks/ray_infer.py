"""`seggui infer --ray` throughput: 1 and 2 Ray workers against the single-process pipeline.

    python tests/benchmarks/ray_infer.py [--frames 16] [--model camvid-small]

On CamVid val pictures (generated scenes when ../shared/data is absent), on
this machine: the single-process drive pipeline (`run_pipeline`) with one
backend thread, and a local Ray with 1 worker and with 2 workers of 1
thread each, writing the same outputs (`FolderOutputs`), labels only (no
confidence) in all three; the variants
run interleaved for `--rounds` rounds, each keeping its median. Ray
start-up and model loading are timed apart from the runs. Prints ONE JSON
line: frames/s of each, the ratios to the single-process run, and Ray's
overhead per frame (1 worker vs the 1-thread single process).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CAMVID = REPO.parent / "shared" / "data" / "camvid"


def _drain(job):  # type: ignore[no-untyped-def]
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--model", default="camvid-small")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import ray

    from seggui.core.images import list_images, write_image
    from seggui.core.media import open_source
    from seggui.core.outputs import FolderOutputs
    from seggui.distributed.ray_infer import RayRun
    from seggui.engine.pipeline import run_pipeline
    from seggui.engine.predictor import load_predictor

    tmp = Path(tempfile.mkdtemp(prefix="seggui-ray-bench-"))
    if CAMVID.is_dir():
        folder = CAMVID / "val"
        pattern = None
        names = [p.name for p in list_images(folder)[: args.frames]]
        pics = tmp / "pics"
        pics.mkdir()
        for n in names:
            (pics / n).symlink_to(folder / n)
        folder = pics
    else:
        from seggui.core.synth.scene import render_scene

        folder = tmp / "pics"
        folder.mkdir()
        for k in range(args.frames):
            write_image(folder / f"s{k:03d}.png", render_scene(k, size=(360, 480)).image)
        pattern = None
    out: dict[str, object] = {"model": args.model, "frames": args.frames, "pictures": str(folder)}

    # one thread: torch's thread count is per process, so a 2-thread variant here would change this one
    predictors = {1: load_predictor(args.model, threads=1)}
    first = open_source(folder, pattern=pattern).read(0)
    for pred in predictors.values():
        pred.predict(first)  # warm-up

    def single(threads: int, k: int) -> float:
        pred = predictors[threads]
        sink = FolderOutputs(tmp / f"single{threads}-{k}", pred.card.classes)
        res = _drain(run_pipeline(pred, open_source(folder, pattern=pattern), sink, confidence=False))
        assert len(res.written) == args.frames and not res.failed
        return float(res.fps)

    t0 = time.perf_counter()
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, configure_logging=False)
    out["ray_init_s"] = round(time.perf_counter() - t0, 2)
    card = predictors[1].card
    pools = {}
    fps: dict[str, list[float]] = {"single_1_thread": [], "ray_1_worker": [], "ray_2_workers": []}
    try:
        for n in (1, 2):  # both pools stay up (4 logical CPUs), so the rounds can interleave
            pools[n] = RayRun(card, {"threads": 1}, workers=n)
            t1 = time.perf_counter()
            pools[n].start()
            out[f"ray_{n}_worker_start_s"] = round(time.perf_counter() - t1, 2)
        _drain(pools[2].run(open_source(folder, pattern=pattern), lambda *a: None, stop=4))  # warm-up
        _drain(pools[1].run(open_source(folder, pattern=pattern), lambda *a: None, stop=2))
        for k in range(args.rounds):  # interleaved: a burst of load hits every variant alike
            fps["single_1_thread"].append(single(1, k))
            for n, key in ((1, "ray_1_worker"), (2, "ray_2_workers")):
                sink = FolderOutputs(tmp / f"ray{n}-{k}", card.classes)
                res = _drain(pools[n].run(open_source(folder, pattern=pattern), sink))
                assert len(res.written) == args.frames and not res.failed
                fps[key].append(float(res.fps))
    finally:
        for pool in pools.values():
            pool.close()
        ray.shutdown()
    for key, values in fps.items():
        out[f"{key}_fps"] = round(statistics.median(values), 3)
        out[f"{key}_fps_rounds"] = [round(v, 2) for v in values]
    s1 = statistics.median(fps["single_1_thread"])
    r1 = statistics.median(fps["ray_1_worker"])
    r2 = statistics.median(fps["ray_2_workers"])
    out["ratio_ray_1_vs_single_1_thread"] = round(r1 / s1, 3)
    out["ratio_ray_2_vs_single_1_thread"] = round(r2 / s1, 3)
    out["ray_overhead_ms_per_frame"] = round(1000 * (1 / r1 - 1 / s1), 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
