"""Recent files and last folders, kept in QSettings so they survive restarts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10


class RecentFiles:
    """Most-recent-first list of opened paths; missing paths are dropped when read."""

    def __init__(self, settings: QSettings, key: str = "recent/paths") -> None:
        self.settings = settings
        self.key = key

    def paths(self) -> list[Path]:
        raw: object = self.settings.value(self.key, [])
        if isinstance(raw, str):  # QSettings returns a lone string for a one-item list
            raw = [raw]
        return [Path(p) for p in raw or [] if p and _openable(Path(p))]  # type: ignore[attr-defined]

    def add(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        items = [text] + [str(p) for p in self.paths() if str(p) != text]
        self.settings.setValue(self.key, items[:MAX_RECENT])

    def clear(self) -> None:
        self.settings.setValue(self.key, [])

    def last_dir(self, kind: str = "open") -> str:
        """The folder a file dialog of this kind should start in: the last one of this kind, else the
        last opened from, else home (a first ground-truth dialog started at home beside the pictures)."""
        for key in dict.fromkeys((kind, "open")):
            value = self.settings.value(f"paths/last_{key}")
            if value and Path(str(value)).is_dir():
                return str(value)
        return str(Path.home())

    def save_start(self, default_dir: Path | None, name: str) -> str:
        """Where an export's Save dialog starts: the folder last exported to, else `default_dir`
        (the workspace's reports folder), with the suggested file `name`."""
        value = self.settings.value("paths/last_export")
        folder = Path(str(value)) if value and Path(str(value)).is_dir() else default_dir or Path.home()
        return str(folder / name)

    def set_last_dir(self, path: str | Path, kind: str = "open") -> None:
        p = Path(path)
        self.settings.setValue(f"paths/last_{kind}", str(p if p.is_dir() else p.parent))


def _openable(path: Path) -> bool:
    """Still there: the path itself, or for FOLDER/GLOB (one image sequence) its folder."""
    return path.exists() or (any(c in path.name for c in "*?[") and path.parent.is_dir())
