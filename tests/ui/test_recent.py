"""File dialogs start where the analyst last was, per kind, falling back sensibly."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from seggui.ui.recent import RecentFiles


def _recent(tmp_path: Path) -> RecentFiles:
    return RecentFiles(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def test_a_first_dialog_of_a_kind_starts_where_pictures_were_opened(tmp_path: Path) -> None:
    recent = _recent(tmp_path)
    assert recent.last_dir("gt") == str(Path.home())
    (tmp_path / "site").mkdir()
    recent.set_last_dir(tmp_path / "site" / "7677.jpg")
    assert recent.last_dir("gt") == recent.last_dir("model") == str(tmp_path / "site")
    (tmp_path / "masks").mkdir()
    recent.set_last_dir(tmp_path / "masks", "gt")
    assert recent.last_dir("gt") == str(tmp_path / "masks") and recent.last_dir() == str(tmp_path / "site")


def test_exports_start_in_the_folder_last_exported_to(tmp_path: Path) -> None:
    recent = _recent(tmp_path)
    reports = tmp_path / "ws" / "reports"
    assert recent.save_start(reports, "area-report.html") == str(reports / "area-report.html")
    (tmp_path / "deliveries").mkdir()
    recent.set_last_dir(tmp_path / "deliveries" / "drive.mp4", "export")
    assert recent.save_start(reports, "polygons.gpkg") == str(tmp_path / "deliveries" / "polygons.gpkg")
    (tmp_path / "deliveries").rmdir()  # gone since: back to the workspace's folder
    assert recent.save_start(reports, "a.csv") == str(reports / "a.csv")
