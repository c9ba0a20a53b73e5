"""The main window: a tab per job (Colorize, Training), shared menus and status bar.

Drops are accepted anywhere on the window and handed to the Colorize tab, which is brought to
the front, unless the Training tab is showing and takes folders of photos to train on. Closing
the window cancels every tab's work and waits for it (a training run writes a checkpoint first and
is offered for resuming next time), so no worker thread outlives the widgets it reports to.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QMessageBox, QTabWidget, QWidget

from . import resources, theme
from .about import about_html, readme_path
from .colorize import ColorizeTab, jobs
from .colorize.session_control import SessionKeeper
from .preferences import PreferencesDialog
from .recent_menu import RecentMenu
from .settings import AppSettings
from .training import TrainingTab


class MainWindow(QMainWindow):
    shown = Signal()  # first time the window is on screen (launch benchmark, self-test)

    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.setWindowTitle("Chroma")
        self.setWindowIcon(resources.app_icon())
        self.setAcceptDrops(True)
        self._was_shown = False
        self._closed = False
        self._quit_requested = False
        # Replaceable so tests can answer "Quit anyway?" without a modal dialog.
        self.confirm_quit: Callable[[str], bool] = self._ask_quit

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setAutoHide(True)  # a lone tab needs no tab bar
        self.setCentralWidget(self.tabs)
        self.colorize_tab = ColorizeTab(self.settings, self)
        self.add_tab(self.colorize_tab, "Colorize")
        self.colorize_tab.status_message.connect(self._show_status)
        for widget in self.colorize_tab.status_widgets():
            self.statusBar().addPermanentWidget(widget)
        self.training_tab = TrainingTab(self.settings, self)
        training_index = self.add_tab(self.training_tab, "Training")
        self.training_tab.status_message.connect(self._show_status)
        self.training_tab.title_changed.connect(lambda title: self.tabs.setTabText(training_index, title))
        # The store's models are base-model choices; a model training saved shows up in Colorize at once.
        self.colorize_tab.models_refreshed.connect(self.training_tab.set_models)
        self.training_tab.models_changed.connect(lambda: self.colorize_tab.refresh_models())
        self.training_tab.try_model.connect(self.try_model)
        # Beside the settings file, so the self-test's and the tests' sessions stay in their own folders.
        self.session = SessionKeeper(self.colorize_tab, self.settings.path.parent / "session.json", self)
        self._build_menus()
        self.apply_preferences()
        self.resize(1280, 820)
        self.setMinimumSize(900, 600)
        if self.settings.window_geometry is not None:
            self.restoreGeometry(self.settings.window_geometry)
        if self.settings.splitter_state is not None:
            self.colorize_tab.splitter.restoreState(self.settings.splitter_state)

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Tabs are added here; each owns its workers."""
        return self.tabs.addTab(widget, title)

    def try_model(self, name: str) -> None:
        """"Try it" in the Training tab: colorize with the model it just saved."""
        self.tabs.setCurrentWidget(self.colorize_tab)
        self.colorize_tab.refresh_models(select=name)

    # ------------------------------------------------------------------ menus

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._add_groups(file_menu, ("open", "open_folder"))
        self.recent_menu = RecentMenu(self.settings, self._open_recent, self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        self._add_groups(file_menu, ("import_model",), ("export", "export_all", "cancel", "show_export"), ())
        file_menu.addAction(self._action("&Quit", self.request_quit, QKeySequence.StandardKey.Quit))

        edit_menu = self.menuBar().addMenu("&Edit")
        self._add_groups(edit_menu, ("undo", "redo"), ("paste", "remove", "clear"),
                         ("hints", "clear_hints", "save_hints", "load_hints"), ())
        preferences = self._action("Pre&ferences…", self.open_preferences, QKeySequence.StandardKey.Preferences)
        preferences.setMenuRole(QAction.MenuRole.PreferencesRole)
        edit_menu.addAction(preferences)

        view_menu = self.menuBar().addMenu("&View")
        self._add_groups(view_menu, ("side", "split", "compare"), ("fit", "actual", "zoom_in", "zoom_out"),
                         ("confidence",), ("previous", "next"))

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("Chroma &Help (README)", self._open_help))
        help_menu.addAction(self._action("&Keyboard Shortcuts", self._show_shortcuts,
                                         QKeySequence.StandardKey.HelpContents))
        help_menu.addAction(self._action("&About Chroma", self._about))

    def _add_groups(self, menu: QMenu, *groups: tuple[str, ...]) -> None:
        """The tab's commands in groups, a separator between groups (an empty group: a trailing one)."""
        for i, keys in enumerate(groups):
            if i:
                menu.addSeparator()
            for key in keys:
                menu.addAction(self.colorize_tab.commands[key])

    def _action(self, text: str, slot: Callable[[], object],
                shortcut: QKeySequence.StandardKey | None = None) -> QAction:
        """A window-level menu command (not one of the tab's)."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        return action

    def open_preferences(self) -> bool:
        """Edit > Preferences; the choices take effect at once when OK is pressed."""
        dialog = PreferencesDialog(self.settings, self)
        self.preferences_dialog = dialog  # tests answer it
        accepted = dialog.exec() == PreferencesDialog.DialogCode.Accepted
        if accepted:
            self.apply_preferences()
        return accepted

    def apply_preferences(self) -> None:
        """Theme now; the thread count from the next model job on (renders, exports, palettes)."""
        app = QApplication.instance()
        if isinstance(app, QApplication) and self.settings.theme != theme.preference():
            theme.apply_theme(app, self.settings.theme)  # a new palette repaints everything: only on change
        jobs.ThreadPreference.set(self.settings.threads)  # every model job applies it on its own thread

    def _open_recent(self, paths: list) -> None:
        self.tabs.setCurrentWidget(self.colorize_tab)
        self.colorize_tab.add_paths(paths)

    def _show_shortcuts(self) -> None:
        rows = []
        for action in self.colorize_tab.commands.values():
            if not action.shortcut().isEmpty():
                key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                rows.append(f"<tr><td><b>{key}</b></td><td>&nbsp;&nbsp;{action.text().replace('&', '')}</td></tr>")
        QMessageBox.information(self, "Keyboard shortcuts", "<table>" + "".join(rows) + "</table>")

    def _about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "About Chroma", about_html(), QMessageBox.StandardButton.Ok, self)
        box.setIconPixmap(resources.app_icon().pixmap(64, 64))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)  # the link opens
        self.about_box = box  # tests read it
        box.exec()

    def _open_help(self) -> None:
        readme = readme_path()
        if readme is None:
            self._show_status("The README is not installed with this copy; run `chroma --help`", 8000)
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(readme)))

    def _show_status(self, text: str, timeout_ms: int) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # ------------------------------------------------------------------ drag and drop

    def _training_takes(self, event) -> bool:
        return self.tabs.currentWidget() is self.training_tab and self.training_tab.can_accept(event.mimeData())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._training_takes(event):
            event.acceptProposedAction()
        elif self.colorize_tab.can_accept(event.mimeData()):
            event.acceptProposedAction()
            self.colorize_tab.empty.set_highlight(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._training_takes(event) or self.colorize_tab.can_accept(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self.colorize_tab.empty.set_highlight(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self.colorize_tab.empty.set_highlight(False)
        if self._training_takes(event):
            self.training_tab.handle_mime(event.mimeData())
            event.acceptProposedAction()
            return
        self.tabs.setCurrentWidget(self.colorize_tab)
        if self.colorize_tab.handle_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    # ------------------------------------------------------------------ lifecycle

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._was_shown:
            self._was_shown = True
            self.shown.emit()

    def start_session(self) -> None:
        """Put back what was open last time (on a worker); photos opened meanwhile stay open."""
        self.session.start()

    def request_quit(self) -> None:
        """File > Quit: like closing the window, asks first only while work would be lost."""
        self._quit_requested = True
        try:
            self.close()
        finally:
            self._quit_requested = False

    def running_work(self) -> str:
        """What closing now would interrupt, in words ('' when nothing)."""
        tab = self.colorize_tab
        if tab.exporter.running:
            done, total = tab.export_progress.value(), tab.export_progress.maximum()
            return (f"An export is running ({max(done, 0)} of {total} photos written). Quitting stops it after "
                    f"the current photo; the photos already written are kept.")
        if self.training_tab.session.active:
            return ("Training is running. Quitting stops it after the current step and saves a checkpoint, "
                    "so you can resume it next time.")
        return ""

    def _ask_quit(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Quit Chroma?", f"{text}\n\nQuit anyway?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        # Only a person's request (window close button, File > Quit) is questioned; a program
        # closing the window (tests, the self-test, logout handled by Qt) is not.
        asked = event.spontaneous() or self._quit_requested
        if not self._closed and asked:
            work = self.running_work()
            if work and not self.confirm_quit(work):
                event.ignore()
                return
        if not self._closed:
            self._closed = True
            self.session.save(durable=True)  # before shutdown: the queue is still intact
            self.settings.window_geometry = self.saveGeometry()
            self.settings.splitter_state = self.colorize_tab.splitter.saveState()
            self.settings.sync()
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.training_tab.shutdown()  # stops after the current step and checkpoints
                self.colorize_tab.shutdown()
            finally:
                QApplication.restoreOverrideCursor()
        super().closeEvent(event)
