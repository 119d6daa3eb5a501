"""`seggui eval`: score a folder of predicted masks against ground truth."""

from __future__ import annotations

import argparse
import math
import sys

from seggui.cli.class_map_args import add_class_map_args, class_map_args
from seggui.cli.progress import run_with_progress
from seggui.core.atomic import check_writable
from seggui.core.class_map import scoring_table
from seggui.core.classes import load_classes
from seggui.core.evaluation import EvalResult, evaluate_folders

EPILOG = """\
Pairing: each ground-truth mask is matched to the prediction with the same
file-name stem (gt/foo.png <- pred/foo.png, pred/foo.tif, ...; .png wins when
several share a stem). Masks are read as class ids, or as colours through the
class table's palette. Ground-truth pixels of the table's ignore index are not
scored; a prediction of the ignore index counts as a miss of the true class.

Dataset figures sum the confusion matrix over all images (pixel-weighted);
"mean per-image IoU" weighs every image the same. A class absent from both
truth and prediction has no IoU (null in JSON, empty in CSV) and is left out
of the means.

Exit status: 0 every ground-truth mask was evaluated; 1 some files were bad
(missing prediction, unreadable or truncated PNG, size mismatch, unknown class
ids: each is named on stderr) but figures were computed from the good pairs and
written; 2 nothing could be evaluated (missing or empty folder, no pairs) or a
bad argument, with a one-line reason. Predictions without ground truth are
only noted.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="per-class IoU, Dice, precision, recall of predicted masks against ground truth",
        description="Score a folder of predicted masks against a folder of ground-truth masks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pred", required=True, metavar="DIR", help="folder of predicted masks")
    p.add_argument("--gt", required=True, metavar="DIR", help="folder of ground-truth masks")
    p.add_argument(
        "--classes", required=True, metavar="NAME_OR_JSON", help="class-table preset name or JSON file"
    )
    add_class_map_args(p, "--classes")
    p.add_argument("--json", metavar="OUT", help="write every figure as JSON here (atomic)")
    p.add_argument("--csv", metavar="OUT", help="write the per-class table as CSV here (atomic)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for out in (args.json, args.csv):  # refused before any mask is read
        if out:
            check_writable(out)
    table = load_classes(args.classes)
    cmap = class_map_args(args, table)
    if cmap is not None:
        table = scoring_table(table) if cmap.needs_ignore else table
        print(f"ground truth in {cmap.gt.name}, compared in {table.name}: {cmap.describe()}", file=sys.stderr)
        for problem in cmap.problems():
            print(f"warning: {problem}", file=sys.stderr)
    result = run_with_progress(
        evaluate_folders(args.pred, args.gt, table, class_map=cmap), desc="eval", quiet=args.quiet
    )
    print(format_table(result))
    if args.json:
        result.write_json(args.json)
        print(f"wrote {args.json}")
    if args.csv:
        result.write_csv(args.csv)
        print(f"wrote {args.csv}")
    if result.unpaired_predictions:
        print(
            f"note: {len(result.unpaired_predictions)} predictions have no ground truth "
            f"(e.g. {result.unpaired_predictions[0]})",
            file=sys.stderr,
        )
    if result.problems:  # each was already named on stderr as the run went
        print(
            f"{len(result.problems)} of {len(result.problems) + len(result.images)} ground-truth masks "
            "could not be evaluated (named above); figures use the rest",
            file=sys.stderr,
        )
        return 1
    return 0


def _pct(x: float) -> str:
    return "     -" if math.isnan(x) else f"{100 * x:6.2f}"


def format_table(result: EvalResult) -> str:
    """The per-class table (percentages) and the means, as printed by `seggui eval`."""
    m = result.metrics
    width = max(8, *(len(n) for n in m.names))
    head = f"{'id':>5}  {'class':<{width}}  {'IoU':>6}  {'Dice':>6}  {'Prec':>6}  {'Recall':>6}  {'Share':>6}"
    lines = [
        f"{len(result.images)} images, {m.total_px} scored pixels, "
        f"classes {result.table.name} (figures in %)",
        head,
        "-" * len(head),
    ]
    for j, (cid, name) in enumerate(zip(m.ids, m.names, strict=True)):
        lines.append(
            f"{cid:>5}  {name:<{width}}  {_pct(m.iou[j])}  {_pct(m.dice[j])}  {_pct(m.precision[j])}  "
            f"{_pct(m.recall[j])}  {_pct(m.pixel_share[j])}"
        )
    lines.append("-" * len(head))
    lines.append(
        f"{'':>5}  {'mean':<{width}}  {_pct(m.miou)}  {_pct(m.mean_dice)}  {_pct(m.mean_precision)}  "
        f"{_pct(m.mean_recall)}"
    )
    lines.append(
        f"mIoU {_pct(m.miou).strip()}  pixel accuracy {_pct(m.pixel_accuracy).strip()}  "
        f"class-average accuracy {_pct(m.class_avg_accuracy).strip()}  "
        f"mean per-image IoU {_pct(m.mean_per_image_iou).strip()}  "
        f"|O \u0394 E| {int(m.symdiff_px.sum())} px"
    )
    return "\n".join(lines)
