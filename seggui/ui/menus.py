"""Menus, toolbar and shortcuts of the main window, in one table-like place.

Shortcuts follow what users know from napari, CVAT and labelme: A/D previous
and next picture (Shift+A/D ten frames, Home/End first and last, K play/pause
on a drive: see `seggui.ui.timeline`), Ctrl+0 fit, Ctrl+1 actual size, Space-drag pan. The editing
actions (B, E, F, P, L, [ ], Ctrl+Z ...) come from `seggui.ui.tools_panel`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QToolBar

from seggui.ui import (
    bands_dialog,
    drive_export,
    drive_run,
    ortho_export,
    polygon_export,
    propagate_drive,
    report_export,
    tools_panel,
)

if TYPE_CHECKING:  # pragma: no cover
    from seggui.ui.main_window import MainWindow


def _action(win: MainWindow, text: str, slot, shortcut: str | QKeySequence.StandardKey | None = None,
            tip: str = "", icon: QStyle.StandardPixmap | None = None) -> QAction:
    act = QAction(text, win)
    if icon is not None:
        act.setIcon(win.style().standardIcon(icon))
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    if tip:
        act.setStatusTip(tip)
        act.setToolTip(f"{tip} ({act.shortcut().toString()})" if shortcut else tip)
    act.triggered.connect(lambda _checked=False: slot())
    win.addAction(act)  # shortcuts work while the menu bar is hidden or a dock has focus
    return act


def build(win: MainWindow) -> dict[str, QAction]:
    """Create every action, the menu bar and the toolbar; returns the actions by name."""
    sp = QStyle.StandardPixmap
    a = {
        "open": _action(win, "&Open…", win.open_dialog, QKeySequence.StandardKey.Open,
                        "Open a picture or a workspace file", sp.SP_DialogOpenButton),
        "open_folder": _action(win, "Open &folder…", win.open_folder_dialog, "Ctrl+Shift+O",
                               "Open a folder: its numbered image sequences as drives, other pictures "
                               "as pictures; or a workspace folder", sp.SP_DirOpenIcon),
        "open_pictures": _action(win, "Open folder as separate &pictures…", win.open_pictures_dialog, None,
                                 "Numbered pictures stay separate pictures instead of a drive"),
        "open_gt": _action(win, "Open &ground truth…", win.open_gt_dialog, "Ctrl+G",
                           "Import a folder of ground-truth masks, matched to the pictures by name"),
        "open_gt_file": _action(win, "Ground truth of this &picture…", win.open_gt_file_dialog,
                                "Ctrl+Shift+G", "One mask file as the ground truth of the picture on show"),
        "name_ws": _action(win, "&Name this workspace…", win.name_workspace, None,
                           "The name the window and the reports use (instead of the folder's)"),
        "quit": _action(win, "&Quit", win.close, QKeySequence.StandardKey.Quit),
        "fit": _action(win, "&Fit to window", win.view.canvas.fit, "Ctrl+0", "Show the whole picture"),
        "one": _action(win, "&Actual size (1:1)", win.view.canvas.actual_size, "Ctrl+1",
                       "One picture pixel per screen pixel"),
        "view_pred": _action(win, "&Prediction", lambda: win.view.set_view("prediction"), "Alt+1"),
        "view_gt": _action(win, "&Ground truth", lambda: win.view.set_view("ground_truth"), "Alt+2"),
        "view_err": _action(win, "&Errors of the active class", lambda: win.view.set_view("errors"),
                            "Alt+3"),
        "view_pic": _action(win, "Picture &only", lambda: win.view.set_view("picture"), "Alt+4"),
        "view_model": _action(win, "&Model's prediction (under a correction too)",
                              lambda: win.view.set_view("model"), "Alt+5"),
        "prev": _action(win, "&Previous picture", lambda: win.timeline.step(-1), "A",
                        "Previous picture", sp.SP_ArrowBack),
        "next": _action(win, "&Next picture", lambda: win.timeline.step(1), "D",
                        "Next picture", sp.SP_ArrowForward),
        "prev10": _action(win, "Back ten frames", lambda: win.timeline.step(-10), "Shift+A"),
        "next10": _action(win, "Forward ten frames", lambda: win.timeline.step(10), "Shift+D"),
        "first": _action(win, "&First frame", win.timeline.go_first, "Home"),
        "last": _action(win, "&Last frame", win.timeline.go_last, "End"),
        "play": _action(win, "Play / &pause drive", win.timeline.toggle_play, "K",
                        "Play the drive at its frame rate with the overlay (K; Space pans)"),
        "mark_in": _action(win, "Mark range &start", win.timeline.mark_in, "I",
                           "The current frame starts the drive range (for Run on part of this drive)"),
        "mark_out": _action(win, "Mark range &end", win.timeline.mark_out, "O",
                            "The current frame ends the drive range"),
        "mark_clear": _action(win, "Clear the &range marks", win.timeline.clear_marks, "Shift+I"),
        "export_report": _action(win, "Area &report (HTML, CSV or JSON)…",
                                 lambda: report_export.report_dialog(win), "Ctrl+E",
                                 "Per picture and frame: areas, parking, IoU against ground truth, totals"),
        "export_overlay": _action(win, "Overlay &video of the drive…",
                                  lambda: drive_export.overlay_video_dialog(win), None,
                                  "Write the drive with its masks blended in (mp4)"),
        "export_polygons": _action(win, "&Polygons (GeoPackage, Shapefile, GeoJSON)…",
                                   lambda: polygon_export.polygon_dialog(win), None,
                                   "Class regions of this picture or all as GIS polygons with their area"),
        "export_ortho": _action(win, "&Orthomosaic mask (GeoTIFF or polygons)…",
                                lambda: ortho_export.ortho_export_dialog(win), None,
                                "The orthomosaic's correction over its prediction as one GeoTIFF, or as "
                                "polygons (.gpkg, .shp, .geojson)"),
        "export_csv": _action(win, "Per-frame &area CSV of the drive…",
                              lambda: drive_export.area_csv_dialog(win), None,
                              "One row per frame: m² per class"),
        "open_model": _action(win, "Open model &card…", win.open_model_dialog, None,
                              "Add a model card (folder, model.json or .onnx)"),
        "rescan": _action(win, "&Rescan model folders", win.model_picker.scan),
        "run": _action(win, "&Run on this picture", lambda: win.run_model("current"), "Ctrl+R",
                       "Predict the current picture in the background", sp.SP_MediaPlay),
        "run_all": _action(win, "Run on &all pictures", lambda: win.run_model("all"), "Ctrl+Shift+R",
                           "Predict every picture in the background", sp.SP_MediaSeekForward),
        "run_drive": _action(win, "Run on this &drive", lambda: drive_run.run_drive(win), "Ctrl+Alt+R",
                             "Predict every frame of this video or image sequence; done frames are skipped"),
        "run_range": _action(win, "Run on &part of this drive…", lambda: drive_run.run_range_dialog(win),
                             "Ctrl+Alt+Shift+R",
                             "Predict a frame range (marked with I / O, or typed); done frames are skipped"),
        "class_map": _action(win, "Class &map…", win.class_map_dialog, None,
                             "Which model class each ground-truth class counts as (metrics, areas, reports)"),
        "retrain": _action(win, "Re&train on corrections…", win.show_retrain, None,
                           "Fine-tune the model on corrected frames, compare, promote or roll back"),
        "propagate": _action(win, "&Propagate labels along the drive…",
                             lambda: propagate_drive.propagate_dialog(win), "Ctrl+Shift+P",
                             "Carry this frame's correction to the next (or previous) frames along the "
                             "motion; they are marked propagated until reviewed"),
        "cancel": _action(win, "&Cancel background job", win.runner.cancel, None,
                          "Stop the running job", sp.SP_MediaStop),
    }
    a.update(tools_panel.create_actions(win, win.editing))
    a["cancel"].setEnabled(False)  # only while a job of the window's runner runs
    win.runner.started.connect(lambda _title: a["cancel"].setEnabled(True))
    win.runner.idle.connect(lambda: a["cancel"].setEnabled(False))
    a["thumbnails"] = QAction("&Thumbnails in the picture list", win, checkable=True)
    a["thumbnails"].setStatusTip("Show each picture small beside its name in the Pictures list")
    a["thumbnails"].toggled.connect(win.set_thumbnails)
    a["sort_uncertain"] = QAction("Sort pictures by u&ncertainty", win, checkable=True)
    a["sort_uncertain"].setStatusTip("The Pictures list shows the most uncertain predictions first (those "
                                     "without a prediction last); kept with the workspace")
    a["sort_uncertain"].triggered.connect(lambda on: win.frames.set_order("uncertainty" if on else "list"))
    win.frames.orderChanged.connect(lambda order: a["sort_uncertain"].setChecked(order == "uncertainty"))
    a["bands"] = _action(win, "&Bands…", lambda: bands_dialog.bands_dialog(win), None,
                         "Which bands of a multi-band GeoTIFF (RGBA, RGBN) are shown as R, G, B")
    a["bands"].setEnabled(False)
    # greyed where the picture is no drive's frame (the drive exports were offered on a single picture)
    drive_only = [a["run_drive"], a["run_range"], a["export_overlay"], a["export_csv"]]
    for signal in (win.session.frameChanged, win.session.opened):
        signal.connect(lambda *_: bands_dialog.update_action(win, a["bands"]))
        signal.connect(lambda *_: drive_run.update_actions(win, drive_only))
    drive_run.update_actions(win, drive_only)
    a["run"].setIconText("Run")
    a["run_all"].setIconText("Run all")
    mb = win.menuBar()
    m = mb.addMenu("&File")
    m.addActions([a["open"], a["open_folder"], a["open_pictures"], a["open_gt"], a["open_gt_file"]])
    win.recent_menu = m.addMenu("Open &recent")
    win.recent_menu.aboutToShow.connect(win.fill_recent_menu)
    m.addMenu("&Export").addActions([a["export_report"], a["export_polygons"], a["export_ortho"],
                                     a["export_overlay"], a["export_csv"]])
    m.addAction(a["name_ws"])
    m.addSeparator()
    m.addAction(a["quit"])
    tools_panel.fill_edit_menu(mb.addMenu("&Edit"), a)
    m = mb.addMenu("&View")
    m.addActions([a["fit"], a["one"]])
    m.addSeparator()
    m.addActions([a["view_pred"], a["view_gt"], a["view_err"], a["view_pic"], a["view_model"]])
    m.addAction(a["bands"])
    m.addSeparator()
    m.addActions([a["thumbnails"], a["sort_uncertain"]])
    win.docks_menu = m.addMenu("&Panels")
    m = mb.addMenu("&Go")
    m.addActions([a["prev"], a["next"], a["prev10"], a["next10"], a["first"], a["last"], a["uncertain"]])
    m.addSeparator()
    m.addAction(a["play"])
    m.addSeparator()
    m.addActions([a["mark_in"], a["mark_out"], a["mark_clear"]])
    m = mb.addMenu("&Model")
    m.addActions([a["open_model"], a["rescan"]])
    m.addSeparator()
    m.addActions([a["run"], a["run_all"], a["run_drive"], a["run_range"], a["cancel"]])
    m.addSeparator()
    m.addActions([a["class_map"], a["retrain"]])

    tb = QToolBar("Main")
    tb.setObjectName("main_toolbar")
    tb.setMovable(False)
    tb.addActions([a["open"], a["open_folder"]])
    tb.addSeparator()
    tb.addActions([a["prev"], a["next"]])
    tb.addSeparator()
    tb.addWidget(win.model_picker)
    tb.addAction(a["run"])
    tb.addAction(a["run_all"])
    for key in ("run", "run_all"):
        tb.widgetForAction(a[key]).setToolButtonStyle(  # type: ignore[attr-defined]
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    win.addToolBar(tb)
    return a
