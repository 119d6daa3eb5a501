"""`seggui retrain WORKSPACE`: fine-tune the workspace model on its corrected frames, headless.

Trains in a separate process (as the GUI does), prints the old-versus-new
comparison on the validation frames, and switches the workspace to the new
version only with ``--promote``; ``--rollback`` and ``--list`` manage versions.
Training stops after ``--time-budget`` seconds (default 40, 0 for no limit)
and keeps its best epoch (seggui.training.retrain_budget).
``--base DATASET`` mixes a labelled dataset with the model's classes into every
epoch, so a fine-tune on a handful of corrections does not forget the rest.
"""

from __future__ import annotations

import argparse
import json
import sys

from seggui.cli.argtypes import positive_int
from seggui.training.retrain_budget import DEFAULT_BUDGET_S  # plain numbers: no torch at start-up


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("retrain", help="fine-tune the workspace model on corrected frames; compare, promote")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs (default: enough for 40 optimiser steps, at least 5)")
    p.add_argument("--time-budget", type=float, default=DEFAULT_BUDGET_S, metavar="SECONDS",
                   help=f"stop training after this many seconds and keep the best epoch (default "
                        f"{DEFAULT_BUDGET_S:g}; 0: no limit, the epochs run to the end)")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 1e-3)")
    p.add_argument("--batch", type=positive_int, default=4, help="batch size (default 4)")
    p.add_argument("--val-fraction", type=float, default=0.2,
                   help="share of corrected frames held out when no frame has ground truth (default 0.2)")
    p.add_argument("--base", metavar="DATASET",
                   help="a labelled dataset folder with the model's classes to mix into every epoch "
                        "(against forgetting); it never validates")
    p.add_argument("--base-layout", default="auto", metavar="LAYOUT",
                   help="layout of --base: folder, camvid, cityscapes, kitti, bdd100k, workspace "
                        "(default: told from the folder)")
    p.add_argument("--base-share", type=float, default=0.5, metavar="SHARE",
                   help="share of each epoch's samples taken from --base, between 0 and 1 (default 0.5; "
                        "every correction is still seen once per epoch)")
    p.add_argument("--base-masks", metavar="FOLDER",
                   help="mask folder name of a --base in the folder layout when not masks/ (e.g. parking2 "
                        "for `seggui synth` output)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--backend", default="torch", help="backend of the comparison (torch or onnx)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                   help="any other training setting, e.g. --set 'crop=[256,256]' (repeatable)")
    p.add_argument("--promote", action="store_true",
                   help="make the new version the workspace model and re-predict uncorrected frames")
    p.add_argument("--no-repredict", action="store_true", help="with --promote: do not re-predict")
    p.add_argument("--rollback", metavar="NAME@VERSION", help="switch back to a listed version and exit")
    p.add_argument("--list", action="store_true", help="list the workspace's model versions and exit")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=run)


def _overrides(items: list[str]) -> dict:
    from seggui.core.errors import BadInputError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInputError(None, f"--set {item!r}: use KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _list(ws) -> int:  # noqa: ANN001
    from seggui.training.retrain_versions import list_versions, version_card_path
    from seggui.training.versions import unfinished_version_dirs

    versions = list_versions(ws)
    if not versions:
        print(f"no versions listed yet; current model: {ws.model}")
    current = ws.model
    for v in versions:
        mark = "*" if current and str(version_card_path(ws, v["card"]).resolve()) == current else " "
        print(f"{mark} {v['ref']:<24} {v['label']:<24} {v['card']}")
    for folder in unfinished_version_dirs(ws.models_dir):  # left by a killed run: say what they are
        print(f"! {'(failed)':<24} {folder.name:<24} unfinished run, no model card: not a version "
              "(safe to delete)")
    return 0


def run(args: argparse.Namespace) -> int:
    from seggui.cli.progress import run_with_progress
    from seggui.core.errors import Cancelled
    from seggui.core.workspace import Workspace
    from seggui.training.retrain import plan_retrain, retrain_job
    from seggui.training.retrain_versions import compare_models, promote, repredict_job, rollback

    ws = Workspace.open(args.workspace)
    if args.list:
        return _list(ws)
    if args.rollback:
        entry = rollback(ws, args.rollback)
        print(f"workspace model is now {entry['ref']} ({entry['card']})")
        return 0
    plan = plan_retrain(ws, epochs=args.epochs, lr=args.lr, batch=args.batch, val_fraction=args.val_fraction,
                        device=args.device, overrides=_overrides(args.set), base=args.base,
                        base_layout=args.base_layout, base_share=args.base_share,
                        base_masks=args.base_masks, time_budget_s=args.time_budget or None)
    for problem in plan.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(plan.summary(), file=sys.stderr)
    try:
        result = run_with_progress(retrain_job(plan), "retrain")
    except Cancelled as exc:
        print(f"seggui retrain: {exc}", file=sys.stderr)
        return 130
    print(f"new version: {result.card_dir} ({result.status}, {result.epochs_run} epochs)", file=sys.stderr)
    if plan.val_ids:
        cmp = run_with_progress(
            compare_models(ws, plan.parent, result.card_dir, plan.val_ids, args.backend, args.device),
            "compare")
        print(json.dumps(cmp.to_dict(), indent=2) if args.json else cmp.table())
    else:
        print("no validation frames: nothing to compare on", file=sys.stderr)
    if args.promote:
        entry = promote(ws, result.card_dir)
        print(f"promoted {entry['ref']}; roll back with: seggui retrain {args.workspace} "
              f"--rollback {plan.parent.ref}", file=sys.stderr)
        if not args.no_repredict:
            n = run_with_progress(repredict_job(ws, args.backend, args.device), "re-predict")
            print(f"re-predicted {n} uncorrected frames", file=sys.stderr)
    return 0
