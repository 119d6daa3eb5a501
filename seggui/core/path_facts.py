"""What a batch of additions asks the disk again and again, asked once per batch.

Adding 10,000 pictures of one folder resolved the folder's real path
10,000 times (every component an lstat) and looked for two masks of each
picture in folders that mostly do not exist: 75% of opening a survey
(tests/benchmarks/open_folder.py). Within one `Workspace.batch` the answers
cannot change in any way that matters, so they are kept until it ends.
"""

from __future__ import annotations

import os
from pathlib import Path


class PathFacts:
    """Real folders and the plain files in a folder, each read once."""

    def __init__(self) -> None:
        self._real: dict[Path, Path] = {}
        self._files: dict[Path, tuple[frozenset[str], frozenset[str]] | None] = {}

    def resolve(self, path: Path) -> Path:
        """`path.resolve()`, its folder resolved once; a file that is a link still resolves itself."""
        if path.name in ("", ".", "..") or path.is_symlink():
            return path.resolve()
        parent = self._real.get(path.parent)
        if parent is None:
            parent = self._real[path.parent] = path.parent.resolve()
        return parent / path.name

    def has_file(self, folder: Path, name: str) -> bool | None:
        """Whether `folder` holds the plain file `name`; None when only a closer look can say (the name
        is a link, or the folder is one or cannot be listed: the caller's own checks apply)."""
        if folder not in self._files:
            self._files[folder] = self._scan(folder)
        found = self._files[folder]
        if found is None:
            return None
        files, links = found
        return True if name in files else None if name in links else False

    @staticmethod
    def _scan(folder: Path) -> tuple[frozenset[str], frozenset[str]] | None:
        """(plain files, links) of `folder`; nothing in a missing folder; None for a link or a failure."""
        if os.path.islink(folder):
            return None
        try:
            with os.scandir(folder) as entries:
                found = [(e.name, e.is_symlink(), e.is_file(follow_symlinks=False)) for e in entries]
        except FileNotFoundError:
            return frozenset(), frozenset()
        except OSError:
            return None
        return (frozenset(n for n, link, file in found if file and not link),
                frozenset(n for n, link, _file in found if link))
