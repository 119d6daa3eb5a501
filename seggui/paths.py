"""Where seggui finds its shipped resources, models and the user's folders.

The repository layout keeps `resources/` and `models/` at the top level, beside
the package; an editable install (the README's set-up) resolves them from
here. `SEGGUI_RESOURCES` and `SEGGUI_MODELS` override them, and
`SEGGUI_USER_MODELS` adds the user's own model folders (os.pathsep separated).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

REPO_ROOT = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    """The folder with class tables, icons and style sheets."""
    return Path(os.environ.get("SEGGUI_RESOURCES", REPO_ROOT / "resources"))


def class_presets_dir() -> Path:
    """The folder of class-table JSON presets (`seggui classes` lists them)."""
    return resources_dir() / "classes"


def shipped_models_dir() -> Path:
    """The folder of model cards that ship with seggui."""
    return Path(os.environ.get("SEGGUI_MODELS", REPO_ROOT / "models"))


def user_data_dir() -> Path:
    """The per-user folder for demo workspaces, user models and settings.

    Each system's own place, from platformdirs: `$XDG_DATA_HOME/seggui` or
    `~/.local/share/seggui` on Linux, `~/Library/Application Support/seggui` on
    macOS, `%LOCALAPPDATA%\\seggui` on Windows. Read at each call, so a changed
    `XDG_DATA_HOME` (or `HOME`) is followed.
    """
    return Path(PlatformDirs("seggui", appauthor=False).user_data_dir)


def model_search_dirs() -> list[Path]:
    """All folders searched for model cards: shipped, user, and extra ones."""
    dirs = [shipped_models_dir(), user_data_dir() / "models"]
    extra = os.environ.get("SEGGUI_USER_MODELS", "")
    dirs.extend(Path(p) for p in extra.split(os.pathsep) if p)
    return dirs
