"""`--gt-classes` and `--map`: ground truth drawn in another class table, for `eval` and `report`."""

from __future__ import annotations

import argparse

from seggui.core.class_map import ClassMap, parse_map_arg
from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import BadInputError


def add_class_map_args(p: argparse.ArgumentParser, compared_in: str) -> None:
    """The two options, worded for what the ground truth is compared in (`--classes`, the workspace's)."""
    p.add_argument("--gt-classes", metavar="NAME_OR_JSON",
                   help=f"the class table the ground truth is drawn in, when it is not {compared_in} "
                   "(compared through --map)")
    p.add_argument("--map", action="append", metavar="MAP", default=[],
                   help='ground-truth class to compared class: "GT NAME=CLASS" (repeatable; "GT NAME=" '
                   "leaves it unscored) or a JSON file; classes not named are mapped by name")


def class_map_args(args: argparse.Namespace, table: ClassTable) -> ClassMap | None:
    """The class map of `--gt-classes` and `--map` (None when the ground truth is in `table`)."""
    if not args.gt_classes:
        if args.map:
            raise BadInputError(None, "--map needs --gt-classes: the table the ground truth is drawn in")
        return None
    return parse_map_arg(args.map, load_classes(args.gt_classes), table)
