"""The main window: it composes the panels around the session and forwards user intent.

Nothing here computes anything: the session reads and caches, `seggui.core`
computes, the panels show, the runner works in the background. This class
only wires them, opens what the user asks for, and remembers the layout.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMenu, QVBoxLayout, QWidget

from seggui import __version__
from seggui.core.errors import BadInputError, SegguiError
from seggui.core.imagesize import set_max_pixels
from seggui.ui import menus
from seggui.ui.area_panel import AreaPanel
from seggui.ui.class_map_dialog import ClassMapDialog
from seggui.ui.class_panel import ClassPanel
from seggui.ui.class_table_dialog import ClassTableDialog
from seggui.ui.drive_plot import DrivePlot
from seggui.ui.editing import EditController
from seggui.ui.frame_browser import FrameBrowser
from seggui.ui.inference import Inference
from seggui.ui.job_panel import JobPanel
from seggui.ui.messages import MessageLog, MessagesWidget
from seggui.ui.metrics_panel import MetricsPanel
from seggui.ui.model_picker import ModelPicker
from seggui.ui.ortho_run import run_model as run_ortho
from seggui.ui.ortho_view import OrthoView
from seggui.ui.recent import RecentFiles
from seggui.ui.retrain_panel import RetrainPanel
from seggui.ui.runner import JobRunner
from seggui.ui.session import Session
from seggui.ui.timeline import Timeline
from seggui.ui.tools_panel import EditToolBar
from seggui.ui.truth_import import import_truth
from seggui.ui.view_panel import ViewPanel

MASK_FILTER = "Masks (*.png *.tif *.tiff *.bmp)"
PICTURE_FILTER = ("Pictures, videos and workspaces (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp "
                  "*.mp4 *.avi *.mkv *.mov seggui.json)")


class MainWindow(QMainWindow):
    """The seggui window. `settings` is injected so tests use a temporary file."""

    recent_menu: QMenu  # made by menus.build_menus
    docks_menu: QMenu

    def __init__(self, settings: QSettings, store_dir: Path | None = None,
                 model_dirs: list[Path] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.recent = RecentFiles(settings)
        self.log = MessageLog(self)
        self.session = Session(self.log, store_dir, parent=self)
        self.runner = JobRunner(self)
        self.inference = Inference(self.session, self.runner, self)
        self.inference.confirm_map = lambda suggested: ClassMapDialog.ask(suggested, self)
        self._opening = ""  # what is being opened (on a worker thread, the window painting meanwhile)
        self.session.ask_classes = lambda truth: ClassTableDialog.ask(truth, self,
                                                                      self.session.default_classes)
        self.view = ViewPanel(self.session)
        self.frames = FrameBrowser(self.session)
        self.classes = ClassPanel(self.session)
        self.metrics = MetricsPanel(self.session)
        self.view.viewChanged.connect(self.metrics.measure)  # the figures score what the view shows
        self.view.viewChanged.connect(self.classes.show_view)  # and the class shares count it
        self.areas = AreaPanel(self.session)
        self.timeline = Timeline(self.session, self.view)
        self.drive_plot = DrivePlot(self.session)
        self.messages = MessagesWidget(self.log, self.statusBar())
        self.job_panel = JobPanel(self.runner, self.log)
        self.session.opened.connect(self.job_panel.forget_finished)
        self.model_picker = ModelPicker(self.inference, self.log, model_dirs)
        self.model_label = QLabel("No model")
        self.editing = EditController(self.session, self.view, self)
        self.ortho = OrthoView(self.session, self.view, self.editing, self)  # large GeoTIFFs, by regions
        self.frames.set_ranker(self.editing.assist.ranker)  # the list sorts by the scores U goes by
        self.retrain = RetrainPanel(self.session, self.runner, self.model_picker, self.log,
                                    before_start=self.editing.finish)
        self.banner = QLabel("")  # says when this window only reads its workspace (open in another one)
        self.banner.setObjectName("readOnlyBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff1b8; color: #5c4400; padding: 6px; font-weight: 600;")
        self.banner.hide()
        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.view, 1)
        self.setCentralWidget(centre)
        self.setWindowTitle("seggui")
        self.setAcceptDrops(True)
        self.actions_by_name = menus.build(self)
        self.edit_toolbar = EditToolBar(self.editing, self.actions_by_name)
        self.addToolBarBreak()  # a row of its own: both toolbars fit 1366 px without an overflow menu
        self.addToolBar(self.edit_toolbar)
        self._docks()
        sb = self.statusBar()
        sb.addWidget(self.view.readout, 1)
        sb.addPermanentWidget(self.job_panel)
        sb.addPermanentWidget(self.model_label)
        self.inference.modelChanged.connect(self._on_model)
        self.model_picker.cardChosen.connect(self._remember_model)
        self.session.opened.connect(self._on_opened)
        self.view.view_combo.currentIndexChanged.connect(lambda _i: self._on_view())
        self.view.opacity.setValue(int(settings.value("view/opacity", 50)))  # type: ignore[call-overload]
        self.view.opacity.valueChanged.connect(lambda v: settings.setValue("view/opacity", v))
        thumbnails: bool = settings.value("view/thumbnails", True, type=bool)  # type: ignore[assignment]
        self.actions_by_name["thumbnails"].setChecked(thumbnails)
        self.frames.set_thumbnails(thumbnails)
        # the largest picture decoded whole (decompression bombs are refused from their header);
        # a site with huge orthophotos sets limits/max_pixels, and SEGGUI_MAX_PIXELS still wins
        max_px: int = settings.value("limits/max_pixels", 0, type=int)  # type: ignore[assignment]
        set_max_pixels(max_px if max_px > 0 else None)
        self._restore_layout()
        QTimer.singleShot(0, self._after_show)

    def _docks(self) -> None:
        def dock(title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
            d = QDockWidget(title, self)
            d.setObjectName(name)  # saveState needs names
            d.setWidget(widget)
            self.addDockWidget(area, d)
            self.docks_menu.addAction(d.toggleViewAction())
            return d

        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.setCorner(Qt.Corner.BottomLeftCorner, left)  # the picture list keeps its height over a drive
        # 1366x768 is the target: the left column holds pictures over classes (messages as a
        # tab beside classes), the right column gives metrics and areas the full height.
        self.frames_dock = dock("Pictures", "frames", self.frames, left)
        self.classes_dock = dock("Classes", "classes", self.classes, left)
        self.messages_dock = dock("Messages", "messages", self.messages, left)
        self.tabifyDockWidget(self.classes_dock, self.messages_dock)
        self.classes_dock.raise_()
        self.metrics_dock = dock("Metrics", "metrics", self.metrics, right)
        self.area_dock = dock("Area", "area", self.areas, right)
        self.tabifyDockWidget(self.metrics_dock, self.area_dock)
        self.retrain_dock = dock("Retrain", "retrain", self.retrain, right)
        self.tabifyDockWidget(self.metrics_dock, self.retrain_dock)
        self.metrics_dock.raise_()
        self.resizeDocks([self.frames_dock, self.metrics_dock], [260, 350], Qt.Orientation.Horizontal)
        self.resizeDocks([self.frames_dock, self.classes_dock], [300, 330], Qt.Orientation.Vertical)
        drive = QWidget()
        col = QVBoxLayout(drive)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.timeline)
        col.addWidget(self.drive_plot, 1)
        self.drive_dock = dock("Drive", "drive", drive, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.drive_dock], [270], Qt.Orientation.Vertical)
        self.session.opened.connect(self._show_drive_dock)
        self.session.frameChanged.connect(self._show_drive_dock)
        self._show_drive_dock()
        self.messages.countChanged.connect(
            lambda n: self.messages_dock.setWindowTitle(f"Messages ({n})" if n else "Messages"))

    def _show_drive_dock(self, *_: object) -> None:
        """The drive panel shows while the current frame belongs to a video, leaving pictures the room."""
        ws = self.session.workspace
        fid = self.session.current
        rec = ws.frames.get(fid) if ws is not None and fid else None
        self.drive_dock.setVisible(rec is not None and rec.source is not None)

    def _restore_layout(self) -> None:
        geometry, state = self.settings.value("window/geometry"), self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:  # a first start fills most of the screen it opens on, whatever its size
            screen = self.screen().availableGeometry() if self.screen() is not None else None
            if screen is not None and screen.width() > 0:
                self.resize(max(1024, int(screen.width() * 0.92)), max(700, int(screen.height() * 0.92)))
            else:
                self.resize(1366, 768)
            # the Drive panel takes at most a quarter of the height: the canvas stays the largest thing
            self.resizeDocks([self.drive_dock], [max(180, self.height() // 4)], Qt.Orientation.Vertical)
            self.resizeDocks([self.frames_dock, self.classes_dock], [self.height() // 2, self.height() // 3],
                             Qt.Orientation.Vertical)
        if state is not None:
            self.restoreState(state)

    def _after_show(self) -> None:
        self.model_picker.scan()
        last: str = self.settings.value("model/last", "")  # type: ignore[assignment]
        if last and self.inference.card is None and Path(last).exists():
            self.model_picker.open_card(last)

    # ---------------------------------------------------------------- opening
    def open_path(self, path: str | Path, pictures: bool | None = None) -> bool:
        """Open a picture, folder, image sequence, video or workspace; a failure is a message, never a crash.

        `pictures=True` opens a folder's numbered pictures one by one instead of as drives.
        """
        if self._opening:  # the window stays live while a folder opens: one opening at a time
            self.log.warning(f"{self._opening} is still opening; {path} was not opened")
            return False
        self.setCursor(Qt.CursorShape.WaitCursor)
        self._opening = str(path)
        self.statusBar().showMessage(f"Opening {path}…")
        try:
            self.session.open_path(path, pictures)
        except SegguiError as exc:
            self.log.report(exc)
            return False
        finally:
            self._opening = ""
            self.statusBar().clearMessage()
            self.unsetCursor()
        self.recent.add(path)
        self.recent.set_last_dir(path)
        return True

    def open_ground_truth(self, path: str | Path) -> bool:
        try:
            self.session.import_ground_truth(path)
        except SegguiError as exc:
            self.log.report(exc)
            return False
        self.recent.set_last_dir(path, "gt")
        return True

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a picture or workspace", self.recent.last_dir(),
                                              PICTURE_FILTER)
        if path:
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of pictures or a workspace",
                                                self.recent.last_dir())
        if path:
            self.open_path(path, pictures=False)  # as the action says: numbered runs become drives

    def open_pictures_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder as separate pictures (no drives)",
                                                self.recent.last_dir())
        if path:
            self.open_path(path, pictures=True)

    def open_gt_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of ground-truth masks (names match pictures)",
                                                self.recent.last_dir("gt"))
        if path:
            import_truth(self, path)

    def open_gt_file_dialog(self) -> None:
        """One mask for the picture on show (a folder import matches by name; this takes any file)."""
        if self.session.current is None:
            self.log.report(BadInputError(None, "open a picture before its ground truth"))
            return
        path, _ = QFileDialog.getOpenFileName(self, f"Ground-truth mask of {self.session.current}",
                                              self.recent.last_dir("gt"), MASK_FILTER)
        if path:
            import_truth(self, path)

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model card", self.recent.last_dir("model"),
                                              "Model cards (model.json *.onnx)")
        if path:
            self.recent.set_last_dir(path, "model")
            self.model_picker.open_card(path)

    def fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.recent.paths():
            self.recent_menu.addAction(str(p), lambda p=p: self.open_path(p))  # type: ignore[misc]
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    # ------------------------------------------------------------------ work
    def run_model(self, scope: str) -> bool:
        self.editing.finish()  # the stroke being painted reaches the disk before the run reads masks
        try:
            done = run_ortho(self.ortho, scope, self.inference)  # an orthomosaic: by blocks (ui.ortho_run)
            return done if done is not None else self.inference.run(scope)
        except SegguiError as exc:
            self.log.report(exc)
            return False

    def class_map_dialog(self) -> bool:
        """Model ▸ Class map…: edit which model class each ground-truth class counts as."""
        ws = self.session.workspace
        if ws is None or ws.class_map is None:
            self.log.info("no class map here: the ground truth uses the workspace's own classes. A map is "
                          "asked for when a model of other classes runs on ground truth (Model ▸ Run)")
            return False
        cmap = ClassMapDialog.ask(ws.class_map, self)
        if cmap is None:
            return False
        self.editing.finish()
        try:
            self.session.set_class_map(cmap)
        except SegguiError as exc:
            self.log.report(exc)
            return False
        return True

    def _title(self) -> None:
        from seggui.core.report import workspace_title

        ws = self.session.workspace
        name = workspace_title(ws) if ws is not None else ""
        self.setWindowTitle(f"{name} — seggui {__version__}" if name else "seggui")

    def name_workspace(self, name: str | None = None) -> bool:
        """File ▸ Name this workspace…: the name the window title and reports use."""
        from PySide6.QtWidgets import QInputDialog

        from seggui.core.report import workspace_title

        ws = self.session.workspace
        if ws is None:
            self.log.info("open pictures, a folder or a workspace first")
            return False
        if name is None:
            name, ok = QInputDialog.getText(self, "Name this workspace",
                                            "Name (window title and report title):", text=workspace_title(ws))
            if not ok:
                return False
        ws.set_setting("name", name.strip() or None)
        self._title()
        self.log.info(f"this workspace is now called {workspace_title(ws)!r}")
        return True

    def show_retrain(self) -> None:
        self.retrain_dock.show()
        self.retrain_dock.raise_()

    def _on_model(self) -> None:
        self.model_label.setText(self.inference.describe())

    def _remember_model(self, card) -> None:
        if card is not None and card.folder is not None:
            self.settings.setValue("model/last", str(card.folder))

    def _on_opened(self) -> None:
        self._title()
        ro = self.session.read_only
        self.banner.setText(f"Read-only: this workspace is open in another window ({ro}). You can look, "
                            "measure and export; corrections, runs and retraining are refused here. Close "
                            "the other window, then open the workspace again to edit." if ro else "")
        self.banner.setVisible(bool(ro))
        ws = self.session.workspace
        if ws is not None and ws.model:  # the workspace's own model comes first
            self.model_picker.open_card(ws.model)

    def set_thumbnails(self, on: bool) -> None:
        """Thumbnails in the picture list on or off (View menu); remembered for the next start."""
        self.settings.setValue("view/thumbnails", bool(on))
        self.frames.set_thumbnails(on)

    def _on_view(self) -> None:
        if self.view.view == "errors":  # the error view is about the active class: show the list
            self.classes_dock.show()
            self.classes_dock.raise_()

    # ---------------------------------------------------------------- events
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])
            for extra in paths[1:]:
                self.log.warning(f"{extra}: one thing at a time; only {paths[0]} was opened")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.editing.finish()  # the last stroke reaches the disk
        self.ortho.close()  # and an orthomosaic's correction GeoTIFF
        self.session.lease.release()  # another window may now edit the workspace
        self.timeline.stop()
        for runner in (self.runner, self.metrics.runner, self.drive_plot.runner):
            runner.cancel()
            runner.wait(15000)
        self.session.drives.close()
        self.frames.close_thumbnails()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        super().closeEvent(event)
