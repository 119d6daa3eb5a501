"""Predicting a long drive in the window: GUI-thread time per frame and seggui.json bytes written.

    python tests/benchmarks/drive_predict_gui.py [--frames 2000] [--old 11772a3]

Writes an image sequence of FRAMES small frames (64x48, a moving pattern),
opens it in the real main window (offscreen), picks a tiny random-init model
card (a 3-level Unet-resnet18 at 64 px, so the model is not the bottleneck),
runs Model ▸ Run on all frames and waits until the job ends. Each variant runs
in a fresh process:

- "new": the window as it is (the engine's `predict_workspace`; PNGs written
  on the pipeline's writer thread, frames recorded on the GUI thread in
  batches);
- "old": the same window with `seggui/ui/inference.py` taken from git
  revision OLD (the window wrote each mask and rewrote seggui.json per frame
  on the GUI thread).

Measured: the time spent in the prediction's own slots on the GUI thread
(`Inference`'s result handlers: the old per-frame apply, the new batch
recording, with everything the workspace's events set off in them), per
frame (`handler_ms_per_frame`, the goal is 2 ms); the GUI (main) thread's
whole CPU time from the click until the job's end signal was handled, per
frame (every slot and repaint on that thread, the progress bar and the live
drive plot included; an idle event loop costs next to none); the longest
stall of a 20 ms QTimer on that thread; the bytes of seggui.json written
(every save, summed); the wall time. Prints ONE JSON line with both variants
and their ratios. SEGGUI_BENCH_PROFILE=1 with --variant new|old prints a
cProfile of the GUI thread on stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OLD = "11772a3"  # the last commit whose window predicted through ui/inference.py's predict_job


def _write_drive(folder: Path, frames: int, width: int, height: int) -> None:
    import cv2

    folder.mkdir(parents=True)
    y, x = np.mgrid[0:height, 0:width]
    for i in range(frames):
        img = np.dstack([(x * 3 + i) % 256, (y * 5 + 2 * i) % 256, (x + y + 7 * i) % 256]).astype(np.uint8)
        cv2.imwrite(str(folder / f"drive_{i:05d}.png"), img)


def _tiny_card(folder: Path) -> Path:
    import torch

    from seggui.engine.card import InputSpec, ModelCard
    from seggui.engine.factory import build_model
    from seggui.engine.weights import save_state_dict

    params = {"encoder_depth": 3, "decoder_channels": [32, 16, 8]}
    torch.manual_seed(0)
    save_state_dict(build_model("Unet", "resnet18", 12, params), folder / "weights.safetensors")
    ModelCard(name="tiny-bench", architecture="Unet", num_classes=12, classes_spec="camvid-11",
              encoder="resnet18", arch_params=params,
              input=InputSpec(resize="max_side", size=64, stride=8, tile_size=None),
              description="random weights, for the benchmark").save(folder)
    return folder


def _use_old_inference(rev: str) -> None:
    """Install `seggui.ui.inference` as it was at `rev`, before the window imports it."""
    source = subprocess.run(["git", "show", f"{rev}:seggui/ui/inference.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix="seggui-old-")) / "inference.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("seggui.ui.inference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["seggui.ui.inference"] = module
    spec.loader.exec_module(module)


def run_variant(variant: str, frames: int, rev: str, tmp: Path) -> dict:
    """Predict the drive in a window; the figures of one variant (run in its own process)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import torch

    torch.set_num_threads(1)
    if variant == "old":
        _use_old_inference(rev)
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    import seggui.core.workspace as workspace_module
    from seggui.core.workspace import FrameStatus
    from seggui.ui.main_window import MainWindow

    written = {"bytes": 0, "saves": 0}
    plain_save = workspace_module.save_merged

    def counting_save(path: Path, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        out = plain_save(path, *args, **kwargs)
        written["bytes"] += path.stat().st_size
        written["saves"] += 1
        return out

    workspace_module.save_merged = counting_save

    # time inside the prediction's own GUI-thread slots (outermost call only: they call each other)
    from seggui.ui.inference import Inference

    handlers = {"s": 0.0, "depth": 0}

    def timed(fn):  # noqa: ANN001, ANN202
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            handlers["depth"] += 1
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                handlers["depth"] -= 1
                if handlers["depth"] == 0:
                    handlers["s"] += time.perf_counter() - t
        return wrapper

    for name in ("take_predictor", "_record", "_on_finished", "_on_ended"):
        if hasattr(Inference, name):
            setattr(Inference, name, timed(getattr(Inference, name)))

    t0 = time.perf_counter()

    def note(what: str) -> None:  # where a slow run spends its time, on stderr
        print(f"[{variant} {time.perf_counter() - t0:7.1f} s] {what}", file=sys.stderr, flush=True)

    drive = tmp / "drive"
    _write_drive(drive, frames, 64, 48)
    note("drive written")
    card = _tiny_card(tmp / "models" / "tiny-bench")
    app = QApplication.instance() or QApplication([])
    import pyqtgraph  # noqa: F401  (the drive plot's first draw imports it: 2 s once, not the run's cost)
    settings = QSettings(str(tmp / "settings" / "seggui.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings, store_dir=tmp / "workspaces", model_dirs=[tmp / "models"])
    win.resize(1366, 768)
    win.show()
    app.processEvents()
    assert win.open_path(drive), "the drive did not open"
    assert win.model_picker.open_card(card) is not None
    app.processEvents()
    note("drive opened, model chosen")
    written.update(bytes=0, saves=0)  # opening saved seggui.json: only the run counts
    handlers["s"] = 0.0

    stalls: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        stalls.append(now - last[0])
        last[0] = now

    probe = QTimer()
    probe.setInterval(20)
    probe.timeout.connect(tick)
    loop = QEventLoop()
    win.runner.idle.connect(loop.quit)
    probe.start()
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    profile = None
    if os.environ.get("SEGGUI_BENCH_PROFILE"):  # where the GUI thread's time goes (cProfile: this thread)
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    assert win.run_model("all"), "the run did not start"
    win.runner.progress.connect(lambda p: p.done % 100 == 0 and note(f"{p.done}/{p.total}"))
    loop.exec()
    note("run ended")
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
    probe.stop()
    ws = win.session.workspace
    predicted = len(ws.frames_with_status(FrameStatus.PREDICTED))
    win.close()
    return {
        "frames": frames, "predicted": predicted,
        "handler_ms_per_frame": round(1000 * handlers["s"] / frames, 3),
        "gui_cpu_s": round(cpu, 3), "gui_cpu_ms_per_frame": round(1000 * cpu / frames, 3),
        "max_gui_stall_ms": round(1000 * max(stalls, default=0.0), 1),
        "seggui_json_bytes": written["bytes"], "seggui_json_saves": written["saves"],
        "wall_s": round(wall, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--old", default=DEFAULT_OLD, help="git revision of the old ui/inference.py")
    ap.add_argument("--variant", choices=("old", "new"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run_variant(args.variant, args.frames, args.old, Path(tmp))))
        return
    out: dict = {"bench": "drive_predict_gui", "old_rev": args.old, "load": os.getloadavg()[0]}
    for variant in ("old", "new"):
        proc = subprocess.run([sys.executable, __file__, "--variant", variant, "--frames", str(args.frames),
                               "--old", args.old], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{variant} failed:\n{proc.stderr[-3000:]}")
        out[variant] = json.loads(proc.stdout.strip().splitlines()[-1])
    old, new = out["old"], out["new"]
    out["handler_time_ratio_old_over_new"] = round(old["handler_ms_per_frame"]
                                                   / max(new["handler_ms_per_frame"], 1e-9), 1)
    out["gui_cpu_ratio_old_over_new"] = round(old["gui_cpu_s"] / max(new["gui_cpu_s"], 1e-9), 1)
    out["json_bytes_ratio_old_over_new"] = round(old["seggui_json_bytes"]
                                                 / max(new["seggui_json_bytes"], 1), 1)
    out["goal_gui_ms_per_frame"] = 2.0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
