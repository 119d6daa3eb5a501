"""`seggui train`: train or fine-tune a model; writes a NEW model card folder.

    seggui train --config run.yaml
    seggui train --data ../shared/data/camvid --layout camvid --epochs 40 --out models/camvid-small
    seggui train --from models/camvid-small --data my_workspace --layout workspace --epochs 5
    torchrun --nproc_per_node 2 -m seggui train --config run.yaml      # DDP, same command

Flags override the config file. A progress bar follows the steps and a table
row prints after every epoch; Ctrl+C once stops at the next step (the card
and checkpoint of the last completed epoch stay), twice interrupts at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

from seggui.cli.argtypes import positive_int
from seggui.core.errors import BadInputError, Cancelled

# flag -> config key (None: handled specially)
_FLAGS: dict[str, str] = {
    "layout": "data.layout", "data": "data.root", "classes": "classes", "arch": "architecture",
    "encoder": "encoder", "epochs": "epochs", "batch": "batch", "lr": "lr", "out": "out",
    "from_model": "from_model", "device": "device", "workers": "workers", "seed": "seed",
    "loss": "loss", "augment": "augment", "name": "name", "class_weights": "class_weights",
    "schedule": "schedule", "optimizer": "optimizer", "early_stop": "early_stop",
    "freeze_encoder_epochs": "freeze_encoder_epochs",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train or fine-tune a segmentation model (writes a new model card)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="a YAML or JSON training config (flags override it)")
    p.add_argument("--data", help="dataset folder (or a workspace folder)")
    p.add_argument("--layout", help="folder | camvid | cityscapes | kitti | bdd100k | workspace")
    p.add_argument("--classes", help="class table preset or JSON (default: from the layout or --from)")
    p.add_argument("--arch", help="architecture, e.g. Unet, FPN, DeepLabV3Plus, torchvision.fcn_resnet50, "
                                  "FCN8s (with --encoder vgg16)")
    p.add_argument("--encoder", help="encoder, e.g. resnet18, mobilenet_v2")
    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--batch", type=positive_int)
    p.add_argument("--lr", type=float)
    p.add_argument("--size", help="training crop, H or HxW (multiples of 32)")
    p.add_argument("--out", help="folder for the new model card (must not hold one already)")
    p.add_argument("--from", dest="from_model", help="fine-tune from this model card (folder or name)")
    p.add_argument("--device", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--workers", type=int, help="data-loader worker processes")
    p.add_argument("--seed", type=int)
    p.add_argument("--loss", help="e.g. ce, ce+0.5*dice, focal, lovasz")
    p.add_argument("--stages", help="staged losses switched on plateau, comma-separated: bce,iou,symdiff")
    p.add_argument("--augment", help="augmentation preset: none, basic, driving, aerial")
    p.add_argument("--class-weights", dest="class_weights", help="none | inverse | median | enet")
    p.add_argument("--schedule", help="onecycle | plateau | constant")
    p.add_argument("--optimizer", help="adam | adamw | sgd")
    p.add_argument("--early-stop", dest="early_stop", type=int, help="patience in epochs on val mIoU")
    p.add_argument("--freeze-encoder-epochs", dest="freeze_encoder_epochs", type=int)
    p.add_argument("--name", help="name of the new model (default: the output folder's)")
    p.add_argument("--resume", action="store_true", help="continue the unfinished run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _size(text: str) -> list[int]:
    parts = text.lower().replace(",", "x").split("x")
    try:
        vals = [int(v) for v in parts]
    except ValueError:
        raise BadInputError(None, f"--size {text!r}: give H or HxW in pixels") from None
    if len(vals) == 1:
        return [vals[0], vals[0]]
    if len(vals) == 2:
        return vals
    raise BadInputError(None, f"--size {text!r}: give H or HxW in pixels")


def config_from_args(args: argparse.Namespace) -> Any:
    """The TrainConfig of a command line: the --config file with the flags laid over it."""
    from seggui.training.config import TrainConfig, read_config_dict

    raw: dict[str, Any] = read_config_dict(args.config) if args.config else {}
    raw = {**raw, "data": dict(raw.get("data") or {})}
    for flag, key in _FLAGS.items():
        value = getattr(args, flag, None)
        if value is None:
            continue
        if key.startswith("data."):
            raw["data"][key[5:]] = value
        else:
            raw[key] = value
    if args.size:
        raw["crop"] = _size(args.size)
    if args.stages:
        raw["stages"] = [s.strip() for s in args.stages.split(",") if s.strip()]
    if args.resume:
        raw["resume"] = True
    if not raw["data"].get("root"):
        raise BadInputError(args.config, "no training data: give --data DIR (or data.root in the config)")
    return TrainConfig.from_dict(raw, args.config)


def _fmt(v: Any, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def epoch_row(r: dict[str, Any]) -> str:
    """One line of the per-epoch table."""
    return (f"{r['epoch']:5d}  {r['stage']:5d}  {_fmt(r['train_loss'], '10.4f')}  "
            f"{_fmt(r['val_loss'], '8.4f')}  {_fmt(r['miou'], '6.4f')}  {_fmt(r['pixel_accuracy'], '6.4f')}  "
            f"{r['lr']:9.2e}  "
            f"{r['images_per_s']:7.1f}  {'*' if r['best'] else ''}")


HEADER = "epoch  stage  train_loss  val_loss    mIoU  pixacc         lr    img/s  best"


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from seggui.cli.progress import run_with_progress
    from seggui.core.jobs import CancelToken, Progress, map_progress
    from seggui.training.export_after import export_after_training
    from seggui.training.loop import train_job

    cfg = config_from_args(args)
    main_rank = int(os.environ.get("RANK", "0")) == 0
    token = CancelToken()

    def on_sigint(*_: Any) -> None:
        if token.cancelled:  # second Ctrl+C: stop now
            raise KeyboardInterrupt
        token.cancel()
        print("\nstopping after this step (Ctrl+C again to stop at once)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)

    printed = False

    def with_table(p: Progress) -> Progress:
        nonlocal printed
        if main_rank and p.data.get("event") == "epoch":
            if not printed:
                tqdm.write(HEADER)
                printed = True
            tqdm.write(epoch_row(p.data))
        return p

    try:
        result = run_with_progress(map_progress(train_job(cfg, token), with_table), "train",
                                   quiet=args.quiet or not main_rank)
        if cfg.export_onnx and main_rank:
            failed = run_with_progress(export_after_training(result.card_dir, token, cfg), "export",
                                       quiet=args.quiet)
            if failed:
                print(f"warning: {failed}", file=sys.stderr)
    except Cancelled:
        if main_rank:
            print(f"cancelled: {cfg.out or 'the output folder'} keeps the model card and checkpoint of the "
                  "last completed epoch (continue with --resume)", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    if main_rank:
        best = "n/a" if result.best_miou is None else f"{result.best_miou:.4f}"
        print(f"{result.status}: {result.epochs_run} epochs; best val mIoU {best} "
              f"(epoch {result.best_epoch}); model card: {result.card_dir}")
        rec = next((r for r in result.history if r["epoch"] == result.best_epoch), None)
        if rec is not None:
            for name, iou in (rec.get("per_class_iou") or {}).items():
                print(f"  {name:24s} {_fmt(iou, '.4f')}")
    return 0
