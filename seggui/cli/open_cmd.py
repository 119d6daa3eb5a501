"""`seggui open [PATH] [--gt MASKS] [--model CARD] [--pictures]`: the window, opened on something.

PATH may be `FOLDER/GLOB` (quoted, e.g. `"camvid/train/0016E5_*"`) to open one
image sequence of a folder as a drive.

`seggui` with no subcommand runs this too, with nothing to open. Qt is
imported inside `run`, so `seggui --help` never loads it.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "open",
        help="open the window on a picture, a folder, an image sequence, a video or a workspace",
        description="Open the seggui window. A plain folder, picture or video gets a workspace of its own "
        "under the user data folder (workspaces/ in ~/.local/share/seggui on Linux, ~/Library/Application "
        "Support/seggui on macOS); a workspace folder opens in place. "
        "A folder's numbered pictures (at least 10 sharing a prefix, like CamVid's 0016E5_*.png) open as "
        "drives with a timeline; the rest as pictures.",
    )
    p.add_argument("path", nargs="?", help="a picture, a folder of pictures, FOLDER/GLOB for one image "
                   "sequence (quote it), a video, or a workspace folder")
    p.add_argument("--gt", metavar="MASKS", help="ground-truth masks: a folder matched by file name")
    p.add_argument("--model", metavar="CARD", help="a model card folder, model.json or .onnx to select")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--pictures", action="store_true",
                     help="open a folder's numbered pictures one by one (an aerial survey), not as drives")
    how.add_argument("--drives", action="store_true",
                     help="open a folder's numbered pictures as drives again after --pictures "
                     "(without either flag, a folder opens the way it was opened last)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seggui.ui.app import main

    path = getattr(args, "path", None)
    return main([path] if path else [], getattr(args, "gt", None), getattr(args, "model", None),
                pictures=_pictures(args))


def _pictures(args: argparse.Namespace) -> bool | None:
    """True for --pictures, False for --drives, None (as last time) for neither."""
    if getattr(args, "pictures", False):
        return True
    return False if getattr(args, "drives", False) else None
