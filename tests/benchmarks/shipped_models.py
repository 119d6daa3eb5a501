"""The shipped driving models' speeds on the held-out drive, and what `--backend auto` runs.

    python tests/benchmarks/shipped_models.py [--models camvid-pspnet,camvid-small] [--frames 10]
        [--rounds 3] [--threads 2]

Each card is timed with torch, ONNX Runtime fp32, int8 and `--backend auto`
(labels only, one 360x480 frame at a time, `--frames` frames spread over
drive 0001TP, each card's variants interleaved round by round, medians
kept: see model_comparison_measure.fps). `auto_runs` is what auto chose on
this CPU: int8 where the card measured it as accurate as fp32 against ground
truth (ModelCard.int8_as_good), else fp32. The mIoU figures are the cards'
own (`provenance.onnx_export.int8.miou_vs_truth` where present). Prints ONE
JSON line with the load before and after; skips without ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from model_comparison_measure import fps, loadavg, read_frames, spread  # noqa: E402

CAMVID = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "camvid"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="camvid-pspnet,camvid-small")
    p.add_argument("--frames", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    held_out = sorted((CAMVID / "train").glob("0001TP_*.png"))
    if not held_out:
        print(json.dumps({"benchmark": "shipped_models", "skipped": f"no CamVid drive 0001TP in {CAMVID}"}))
        return 0
    from seggui.engine.card import resolve_model

    frames = read_frames(spread(held_out, args.frames))
    out: dict[str, Any] = {"benchmark": "shipped_models", "frames": len(frames), "threads": args.threads,
                           "load_before": loadavg()}
    for name in args.models.split(","):
        card = resolve_model(name)
        scores = ((card.provenance.get("onnx_export") or {}).get("int8") or {}).get("miou_vs_truth")
        out[card.ref] = {"fps": fps(card.folder, frames, args.rounds, args.threads, auto=True),  # type: ignore[arg-type]
                         "int8_as_good": card.int8_as_good, "miou_vs_truth": scores}
    out["load_after"] = loadavg()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
