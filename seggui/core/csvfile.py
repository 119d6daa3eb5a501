"""The one CSV writer of seggui: every CSV a command or the window writes goes through here.

Class names and file names come from class tables, workspaces and folders
that analysts share; a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return is run as a formula by spreadsheet programs (CSV formula
injection: `=HYPERLINK(...)`, `=cmd|'/c calc'!A1`). Such a text cell is
written with a leading single quote, which spreadsheets show as text and do
not evaluate. Numbers, including negative ones, are left as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from seggui.core.atomic import atomic_write_text

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def safe_cell(value: Any) -> Any:
    """`value`, or a text that starts like a formula with a single quote in front."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any] | Mapping[str, Any]],
             lineterminator: str = "\n") -> str:
    """CSV text of a header and rows (sequences, or mappings keyed by the header; missing keys empty)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        cells = [row.get(h, "") for h in header] if isinstance(row, Mapping) else row
        writer.writerow([safe_cell(c) for c in cells])
    return buf.getvalue()


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any] | Mapping[str, Any]],
              lineterminator: str = "\n") -> Path:
    """Write `csv_text(header, rows)` atomically to `path`."""
    return atomic_write_text(path, csv_text(header, rows, lineterminator))
