"""Run one training job in its own process and report on stdout as JSON lines.

The GUI (and any other tool) spawns::

    python -m seggui.training.run CONFIG.json      # or CONFIG.yaml

so a crash, a CUDA out-of-memory or a leak in training never takes the window
down, and all GPU memory is returned when the process exits.

Protocol — stdout carries one JSON object per line, nothing else (library
chatter goes to stderr); every object has an ``event``:

- ``{"event": "start", "pid": int, "config": {...}}`` — first line.
- ``{"event": "setup", "card": path, "train_pairs": int, "val_pairs": int,
  "steps": int, "device": str, "processes": int, "amp": bool, "start_epoch": int,
  ...}`` — once the data and model are ready; `card` is the new card's folder.
- ``{"event": "step", "done": int, "total": int, "epoch": int, "step": int,
  "steps": int, "message": str}`` — after every training step; every 10th step
  also has ``"loss"`` and ``"lr"``.
- ``{"event": "epoch", "done", "total", "message", "epoch", "train_loss",
  "val_loss", "miou", "per_class_iou": {name: iou or null}, "pixel_accuracy",
  "lr", "images_per_s", "stage", "loss_name", "best", ...}`` — after each epoch.
- ``{"event": "export", "done", "total", "message"}`` — with ``export_onnx`` set, after the
  training: the new card's ONNX export (a failure is a ``warning``; the card still runs on torch).
- ``{"event": "warning", "message": str}`` — a file left out, a note; the run goes on.
- ``{"event": "done", "card": path, "status": "finished" | "early-stopped" | "time-budget",
  "best_miou": float or null, "best_epoch": int or null, "epochs_run": int}``
- ``{"event": "cancelled", "card": path or null}`` — stopped on request; the
  card and ``train/last.pt`` are those of the last completed epoch.
- ``{"event": "error", "message": str}`` — bad input or a failure.

Cancel: write the line ``cancel`` to the process's stdin (works everywhere),
or send SIGTERM / SIGINT; the job stops at its next step. Exit status: 0 done,
2 bad input, 130 cancelled, 1 an unexpected failure (an ``error`` line, then
the traceback on stderr). Under ``torchrun`` only rank 0 reports.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from seggui.core.errors import Cancelled, SegguiError
from seggui.core.jobs import CancelToken, Progress, drive


def _clean(value: Any) -> Any:
    """NaN and infinities become null: strict JSON parsers (and the GUI's) refuse them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _emit(out: TextIO, obj: dict[str, Any]) -> None:
    out.write(json.dumps(_clean(obj), ensure_ascii=False, allow_nan=False, default=str) + "\n")
    out.flush()


def _watch_stdin(token: CancelToken) -> None:
    """Cancel when the parent writes ``cancel``; end of input just stops watching."""
    try:
        for line in sys.stdin:
            if line.strip().lower() == "cancel":
                token.cancel()
                return
    except (OSError, ValueError):  # stdin closed or not readable: nothing to watch
        return


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``python -m seggui.training.run CONFIG``; returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    stream = out or sys.stdout
    rank0 = int(os.environ.get("RANK", "0")) == 0

    def emit(obj: dict[str, Any]) -> None:
        if rank0:
            _emit(stream, obj)

    if len(args) != 1:
        emit({"event": "error", "message": "usage: python -m seggui.training.run CONFIG.json"})
        return 2
    token = CancelToken()
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, lambda *_: token.cancel())
        except ValueError:  # not the main thread (an embedding caller): cancel via stdin only
            pass
    threading.Thread(target=_watch_stdin, args=(token,), daemon=True).start()
    try:
        return _run(args[0], token, emit)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(config: str, token: CancelToken, emit: Any) -> int:
    """Drive the job, translating its progress, result and failures into protocol lines."""
    card: Path | None = None
    try:
        from seggui.training.config import load_config
        from seggui.training.export_after import export_after_training
        from seggui.training.loop import train_job

        cfg = load_config(config)
        emit({"event": "start", "pid": os.getpid(), "config": cfg.to_dict()})
        card = Path(cfg.out) if cfg.out else None

        def tell(p: Progress) -> None:
            nonlocal card
            if p.error:
                emit({"event": "warning", "message": p.error})
                return
            kind = p.data.get("event", "progress")
            if kind == "setup":
                card = Path(p.data["card"])
            rest = {k: v for k, v in p.data.items() if k != "event"}
            emit({"event": kind, "done": p.done, "total": p.total, "message": p.message, **rest})

        r = drive(train_job(cfg, token), tell)
        if cfg.export_onnx:
            failed = drive(export_after_training(r.card_dir, token, cfg), tell)
            if failed:
                emit({"event": "warning", "message": failed})
        emit({"event": "done", "card": str(r.card_dir), "status": r.status, "best_miou": r.best_miou,
              "best_epoch": r.best_epoch, "epochs_run": r.epochs_run})
        return 0
    except Cancelled:
        emit({"event": "cancelled", "card": str(card) if card else None})
        return 130
    except SegguiError as exc:
        emit({"event": "error", "message": str(exc)})
        return 2
    except Exception as exc:  # a bug or a library failure: report it, then the traceback on stderr
        emit({"event": "error", "message": f"{type(exc).__name__}: {exc}"})
        raise


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in the tests
    sys.exit(main())
