"""Atomic file writes: a kill at any moment leaves the old file or the new one.

Data goes to a temporary file in the same folder (same file system), is
flushed and fsynced, then `os.replace` swaps it in; a reader never sees a
half-written mask or workspace file.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from seggui.core.errors import BadInputError


@cache
def plain_file_mode() -> int:
    """The mode a plain `open()` would give a new file (0666 less the umask).

    mkstemp creates 0600 files; without this, masks, cards and reports would
    be unreadable to the user's other accounts and tools sharing the folder.
    """
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically, creating the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, plain_file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write JSON (indented, trailing newline) atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def check_writable(path: str | Path, folder: bool = False) -> Path:
    """Refuse, before any work starts, an output that cannot be written; returns the path.

    `path` is a file to be written (or, with `folder`, a folder to write
    into); folders that do not exist yet count as writable when the nearest
    existing one is. The check writes and removes a probe file there, because
    permission bits do not show a read-only mount or a full disk. A command
    calls this before loading a model or reading a folder, so a bad `--out`
    costs a second, not a whole run.
    """
    path = Path(path)
    target = path if folder else path.parent
    if path.is_dir() and not folder:
        raise BadInputError(path, "is a folder; give a file name to write")
    probe = target
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise BadInputError(path, f"cannot write here: {probe} is a file, not a folder")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".seggui-write-check.", dir=probe)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise BadInputError(path, f"cannot write in {probe} ({exc.strerror or exc})") from None
    return path
