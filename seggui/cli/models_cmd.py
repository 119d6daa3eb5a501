"""`seggui models`: list the model cards found in models/ and the user's model folders."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from seggui.core.errors import SegguiError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the model cards seggui can find")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=run)


def _metrics_text(metrics: dict[str, Any], limit: int = 3) -> str:
    parts = [f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
             for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    return " ".join(parts[:limit])


def _row(card: Any) -> dict[str, Any]:
    try:
        table = card.classes
        classes = f"{table.name} ({len(table.classes)})"
        problem = None
    except SegguiError as exc:
        classes, problem = "?", str(exc)
    weights = card.weights_path
    onnx, int8 = card.onnx_path, card.onnx_int8_path
    return {
        "ref": card.ref, "name": card.name, "version": card.version,
        "architecture": card.architecture, "encoder": card.encoder, "classes": classes,
        "metrics": card.metrics, "path": str(card.folder),
        "has_weights": bool(weights and weights.is_file()), "has_onnx": bool(onnx and onnx.is_file()),
        "has_int8": bool(int8 and int8.is_file()), "int8_as_good": card.int8_as_good, "problem": problem,
    }


def run(args: argparse.Namespace) -> int:
    from seggui.engine.card import find_models
    from seggui.paths import model_search_dirs

    cards, problems = find_models()
    for exc in problems:
        print(f"warning: skipped a model card: {exc}", file=sys.stderr)
    rows = [_row(c) for c in sorted(cards, key=lambda c: (c.name, c.version))]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        dirs = ", ".join(str(d) for d in model_search_dirs())
        print(f"no model cards found (searched {dirs})")
        return 0
    for r in rows:
        arch = r["architecture"] + (f"/{r['encoder']}" if r["encoder"] else "")
        flags = []
        if r["has_onnx"]:
            flags.append("onnx")
        if r["has_int8"]:
            as_good = r["int8_as_good"]
            flags.append("int8 (auto runs it on a CPU: measured as accurate)" if as_good else "int8")
        if not r["has_weights"]:
            flags.append("weights missing")
        if r["problem"]:
            flags.append(f"problem: {r['problem']}")
        print(f"{r['ref']:24s} {arch:28s} {r['classes']:24s} {_metrics_text(r['metrics']):30s} "
              f"{', '.join(flags)}")
        print(f"{'':24s} {r['path']}")
    return 0
