"""Frame ids are file stems: check them before they become paths.

A frame's masks live at ``WORKSPACE/<kind>/<frame id>.png``. Workspaces are
shared between analysts, so the ids in a ``seggui.json`` are input like any
other: an id ``../../x`` or ``/tmp/x`` would make every prediction write a
PNG outside the workspace. Ids are checked where they enter (opening a
workspace file, adding pictures, video frames and sequences, importing
ground truth), and `safe_mask_path` — the one place a mask path is made —
refuses any path that lands outside the workspace, symbolic links included.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PureWindowsPath

from seggui.core.errors import BadInputError

MAX_ID_BYTES = 200  # a file name holds 255 bytes; leave room for ".png" and an atomic write's temp name
_SEPARATORS = ("/", "\\")  # both, on every system: a workspace made on Linux may be opened on Windows
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def frame_id_problem(frame_id: object) -> str | None:
    """Why `frame_id` cannot name a frame's files, or None when it can."""
    if not isinstance(frame_id, str):
        return f"frame id {frame_id!r} is not text"
    if not frame_id.strip():
        return "a frame id is empty"
    bad = _UNSAFE.search(frame_id)
    if bad is not None:
        what = "a path separator" if bad.group() in _SEPARATORS else "control characters"
        return f"frame id {frame_id!r} holds {what}"
    if frame_id in (".", ".."):
        return f"frame id {frame_id!r} names a folder, not a file"
    if os.name == "nt":  # "C:x" is a drive-relative path there; elsewhere a plain name
        pure = PureWindowsPath(frame_id)
        if pure.anchor or pure.parts != (frame_id,):
            return f"frame id {frame_id!r} is a path, not a name"
    if len(frame_id.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES:
        return f"frame id {frame_id[:40]!r}... is longer than {MAX_ID_BYTES} bytes"
    return None


def check_frame_id(frame_id: object, where: str | Path | None) -> str:
    """`frame_id` when it is a safe file stem, else BadInputError naming `where` (the file it came from)."""
    problem = frame_id_problem(frame_id)
    if problem is not None:
        raise BadInputError(where, f"{problem}; frame ids must be plain file names")
    return frame_id  # type: ignore[return-value]


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def safe_mask_path(root: Path, kind: str, frame_id: str) -> Path:
    """``root/kind/<frame_id>.png``, refused (BadInputError) when it would resolve outside `root`.

    With the id checked (no separators, not ``..``) and `kind` one of the
    fixed folder names, the path can only leave the workspace through a
    symbolic link: the folder or the file itself. Those two are looked at
    on every call (two lstat calls; a drive has thousands of frames) and,
    when either is a link, the path is resolved and must stay inside.
    """
    check_frame_id(frame_id, root / "seggui.json")
    folder = root / kind
    path = folder / f"{frame_id}.png"
    if os.path.islink(folder) or os.path.islink(path):
        target = os.path.realpath(path)
        if not _inside(target, os.path.realpath(root)):
            raise BadInputError(path, f"the {kind} mask of frame {frame_id!r} would be written outside "
                                f"the workspace ({target}); refused")
    return path
