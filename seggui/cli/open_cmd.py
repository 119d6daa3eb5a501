"""`seggui open [PATH] [--gt MASKS] [--model CARD]`: the window, opened on something.

`seggui` with no subcommand runs this too, with nothing to open. Qt is
imported inside `run`, so `seggui --help` never loads it.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "open",
        help="open the window on a picture, a folder of pictures or a workspace",
        description="Open the seggui window. A plain folder or picture gets a workspace of its own "
        "under the user data folder (~/.local/share/seggui/workspaces); a workspace folder opens in place.",
    )
    p.add_argument("path", nargs="?", help="a picture, a folder of pictures, or a workspace folder")
    p.add_argument("--gt", metavar="MASKS", help="ground-truth masks: a folder matched by file name")
    p.add_argument("--model", metavar="CARD", help="a model card folder, model.json or .onnx to select")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seggui.ui.app import main

    path = getattr(args, "path", None)
    return main([path] if path else [], getattr(args, "gt", None), getattr(args, "model", None))
