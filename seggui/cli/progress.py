"""Run a core job in the terminal with a progress bar; report per-item errors."""

from __future__ import annotations

import sys
from typing import TypeVar

from tqdm import tqdm

from seggui.core.jobs import Job, Progress, drive

T = TypeVar("T")


def run_with_progress(job: Job[T], desc: str, quiet: bool = False) -> T:
    """Drive `job`, showing a bar on stderr; per-item errors print as lines.

    The bar hides itself when stderr is not a terminal (CI logs stay clean)
    unless the job is long enough that progress matters.
    """
    bar = tqdm(
        desc=desc, unit="item", file=sys.stderr, disable=quiet or None, leave=False, dynamic_ncols=True
    )

    def show(p: Progress) -> None:
        if p.total is not None and bar.total != p.total:
            bar.total = p.total
        bar.n = p.done
        if p.message:
            bar.set_postfix_str(p.message[-40:], refresh=False)
        bar.refresh()
        if p.error:
            bar.write(f"warning: {p.error}", file=sys.stderr)

    try:
        return drive(job, show)
    finally:
        bar.close()
