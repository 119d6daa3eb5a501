"""`seggui rank WORKSPACE [--json]`: the frames to correct first, most uncertain prediction first.

The same ranking as the window's Go ▸ Most uncertain picture (U): the share
of a frame's pixels the model predicted with a confidence under 0.6, from
the confidence PNG every prediction writes (`seggui.core.uncertainty`).
Corrected, reviewed and propagated frames are left out unless `--all`; frames with no
confidence file are listed as not ranked.
"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rank", help="frames to correct first: most uncertain prediction first",
                       description="Rank a workspace's predicted frames by the model's uncertainty "
                       "(share of pixels under 0.6 confidence, from its confidence PNGs).")
    p.add_argument("workspace", help="a workspace folder (holding seggui.json)")
    p.add_argument("--all", action="store_true", help="include corrected, reviewed and propagated frames")
    p.add_argument("--top", type=int, default=0, metavar="N", help="only the N most uncertain")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seggui.core.uncertainty import UncertaintyCache, rank
    from seggui.core.workspace import FrameStatus, Workspace

    ws = Workspace.open(args.workspace)
    wanted = ((FrameStatus.PREDICTED, FrameStatus.CORRECTED, FrameStatus.REVIEWED, FrameStatus.PROPAGATED)
              if args.all else (FrameStatus.PREDICTED,))
    cache = UncertaintyCache()
    scores: dict = {}
    unranked: list[str] = []
    for fid in ws.frames_with_status(*wanted):
        found = cache.score(ws.mask_path(fid, "confidence"))
        if found is None:
            unranked.append(fid)
        else:
            scores[fid] = found
    order = rank(scores)
    if args.top > 0:
        order = order[: args.top]
    rows = [{"frame": f, "status": str(ws.frames[f].status),
             "low_confidence_share": round(scores[f].low_share, 4),
             "mean_confidence": round(scores[f].mean, 4)} for f in order]
    if args.json:
        print(json.dumps({"workspace": str(ws.root), "ranked": rows, "not_ranked": unranked}, indent=2))
        return 0
    print(f"{'rank':>4}  {'frame':<28} {'status':<10} {'< 0.6':>7} {'mean':>6}")
    for i, r in enumerate(rows, 1):
        print(f"{i:>4}  {r['frame']:<28} {r['status']:<10} {100 * r['low_confidence_share']:6.1f}% "
              f"{r['mean_confidence']:6.3f}")
    if unranked:
        print(f"{len(unranked)} frames have no confidence file (predicted before it was written): "
              f"not ranked (first: {unranked[0]})")
    return 0
