"""`seggui demo [--headless --out DIR]`: the embedded default, with nothing downloaded.

Builds a demo workspace (generated aerial pictures with exact ground truth,
a generated drive video, the shipped parking-demo model, GSD set) and opens
the window on it; `--headless` runs the model, evaluates, writes the reports
and prints the per-picture parking figures instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _size(text: str) -> tuple[int, int]:
    h, _, w = text.lower().partition("x")
    return (int(h), int(w or h))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="build the demo workspace (generated aerial scenes + drive) and open it, or run it headless",
    )
    p.add_argument("--out", help="workspace folder (default demo/ in the user data folder: "
                   "~/.local/share/seggui on Linux, ~/Library/Application Support/seggui on macOS)")
    p.add_argument("--headless", action="store_true",
                   help="no window: predict, evaluate, write reports, print a summary")
    p.add_argument("--fresh", action="store_true", help="rebuild a demo workspace that already exists")
    p.add_argument("--pictures", type=int, default=12, help="generated aerial pictures (default 12)")
    p.add_argument("--size", type=_size, default=(512, 512), help="picture size HxW (default 512x512)")
    p.add_argument("--drive-frames", type=int, default=40, help="frames of the generated drive (0: none)")
    p.add_argument("--drive-size", type=_size, default=(360, 480), help="drive frame size HxW")
    p.add_argument("--model", default="parking-demo", help="model card to use (default parking-demo)")
    p.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seggui.cli.progress import run_with_progress
    from seggui.core.workspace import Workspace
    from seggui.demo import DemoSpec, build_demo_workspace, reset_demo, run_demo_headless
    from seggui.paths import user_data_dir

    out = Path(args.out) if args.out else user_data_dir() / "demo"
    if args.fresh:
        reset_demo(out)
    if (out / "seggui.json").exists():
        ws = Workspace.open(out)
        print(f"using the demo workspace in {out} (--fresh rebuilds it)", file=sys.stderr)
    else:
        spec = DemoSpec(args.pictures, args.size, args.drive_frames, args.drive_size, model=args.model)
        ws = run_with_progress(build_demo_workspace(out, spec), "building the demo")
        print(f"demo workspace: {out}", file=sys.stderr)
    if not args.headless:
        from seggui.ui.app import main as gui_main

        return gui_main([str(out)])
    summary = run_with_progress(run_demo_headless(ws, args.backend, args.device), "running the demo")
    print(f"model {ws.model} on {summary.device}; GSD {ws.gsd.describe() if ws.gsd else 'unknown'}")
    print(f"{'picture / frame':22s} {'predicted m²':>13s} {'true m²':>11s} {'IoU':>7s}")
    for row in summary.rows:
        pred, true, iou = row["predicted_parking_m2"], row["true_parking_m2"], row["parking_iou"]
        print(f"{row['frame']:22s} {_n(pred):>13s} {_n(true):>11s} "
              f"{'–' if iou is None else f'{iou:.3f}':>7s}")
    t = summary.totals
    print(f"{'TOTAL':22s} {_n(t.get('parking_m2')):>13s} {_n(t.get('true_parking_m2')):>11s} "
          f"{'' if t.get('mean_parking_iou') is None else format(t['mean_parking_iou'], '.3f'):>7s}"
          f"  (mean IoU)")
    for path in summary.reports:
        print(f"report: {path}")
    return 0


def _n(v: float | None) -> str:
    return "–" if v is None else f"{v:,.1f}"
