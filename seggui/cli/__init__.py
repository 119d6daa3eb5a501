"""The `seggui` command: the GUI by default, subcommands for headless work.

Each subcommand lives in its own module here with `register(subparsers)`; the
modules import only cheap things at top level (torch loads inside `run`), so
`seggui --help` and `seggui classes` answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from seggui import __version__
from seggui.core.errors import SegguiError

# Subcommand modules, in the order `seggui --help` lists them.
COMMANDS: list[str] = [
    "demo_cmd",
    "classes_cmd",
    "models_cmd",
    "export_cmd",
    "eval_cmd",
    "area_cmd",
    "report_cmd",
    "infer_cmd",
    "vectorize_cmd",
    "open_cmd",
    "synth_cmd",
    "train_cmd",
    "retrain_cmd",
    "rank_cmd",
    "serve_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="seggui",
        description="Segment images and video drives, measure IoU and areas, correct, retrain.",
    )
    parser.add_argument("--version", action="version", version=f"seggui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"seggui.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        gui = _find_gui()
        if gui is None:
            parser.print_help()
            return 0
        return gui(args)
    try:
        return int(args.func(args) or 0)
    except SegguiError as exc:
        print(f"seggui {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only folder: one line naming the path, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"seggui {args.command}: error: {where}cannot write or read ({exc.strerror or exc}); "
              "nothing half-written was left", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"seggui {args.command}: interrupted", file=sys.stderr)
        return 130


def _find_gui():  # pragma: no cover - replaced once the window exists
    """The GUI launcher when the `open` command is registered, else None."""
    if "open_cmd" in COMMANDS:
        return importlib.import_module("seggui.cli.open_cmd").run
    return None
