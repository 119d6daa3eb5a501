"""`seggui classes [NAME_OR_JSON]`: list the class-table presets or show one."""

from __future__ import annotations

import argparse

from seggui.core.classes import list_presets, load_classes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classes", help="list class-table presets, or show one table")
    p.add_argument("table", nargs="?", help="a preset name or a class-table JSON file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.table:
        for name in list_presets():
            t = load_classes(name)
            ignore = "none" if t.ignore_index is None else str(t.ignore_index)
            print(f"{name:22s} {len(t.classes):3d} classes  ignore {ignore:4s}  {t.description}")
        return 0
    t = load_classes(args.table)
    print(f"{t.name}: {len(t.classes)} classes, ignore index {t.ignore_index}")
    for c in t.classes:
        mark = "  (ignored)" if c.id == t.ignore_index else ""
        print(f"{c.id:5d}  #{c.color[0]:02x}{c.color[1]:02x}{c.color[2]:02x}  {c.name}{mark}")
    if t.label_map:
        print(f"label map: {len(t.label_map)} source labels -> class ids")
    return 0
