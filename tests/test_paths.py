"""The user's data folder is each system's own (platformdirs), not a hard-coded ~/.local/share."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from platformdirs.macos import MacOS

import seggui.paths as paths


@pytest.mark.skipif(sys.platform != "linux", reason="XDG folders are Linux's")
def test_linux_follows_xdg_data_home_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.user_data_dir() == tmp_path / "xdg" / "seggui"
    assert paths.model_search_dirs()[1] == tmp_path / "xdg" / "seggui" / "models"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert paths.user_data_dir() == tmp_path / "home" / ".local" / "share" / "seggui"


def test_macos_uses_application_support(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a Mac gets: the folder Finder and Time Machine expect, not ~/.local/share."""
    monkeypatch.setattr(paths, "PlatformDirs", MacOS)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert paths.user_data_dir() == tmp_path / "Library" / "Application Support" / "seggui"

