"""Helpers shared by the window tests (imported by name: tests/ui has no package)."""

from __future__ import annotations

from pathlib import Path

N_PICTURES = 4


def link_pictures(camvid: Path, dest: Path, names: list[str], prefix: str = "") -> Path:
    """A CamVid-like layout (val/, valannot/, classes.json) of symlinks to the real files."""
    (dest / "val").mkdir(parents=True, exist_ok=True)
    (dest / "valannot").mkdir(exist_ok=True)
    if not (dest / "classes.json").exists():
        (dest / "classes.json").symlink_to(camvid / "classes.json")
    for name in names:
        (dest / "val" / f"{prefix}{name}").symlink_to(camvid / "val" / name)
        (dest / "valannot" / f"{prefix}{name}").symlink_to(camvid / "valannot" / name)
    return dest / "val"
