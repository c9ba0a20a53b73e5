"""Keeps the Colorize tab's session: saved as work changes and on quit, put back on the next start.

Restoring is automatic (people expect to find their work where they left it) and undoable: a
banner says what came back, with "Start fresh" to close exactly the restored photos and reset the
adjustments, and "Undo" after that to bring them back. The file is read on a worker (checking
hints imports torch) and saved a moment after each change, so a crash loses seconds, not a
session. A session that cannot be read is reported in the banner, never raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from ..widgets.banner import ERROR, INFO, Banner
from ..workers import PRIORITY_PREVIEW, describe_error
from .photo_queue import ItemState
from .session import Session, SessionAdjustments, SessionPhoto, read_session, save_session

if TYPE_CHECKING:
    from .tab import ColorizeTab

_AUTOSAVE_MS = 1500
_NAMES_SHOWN = 3
def _names(paths: Sequence[Path]) -> str:
    shown = ", ".join(p.name for p in paths[:_NAMES_SHOWN])
    return shown + (f" and {len(paths) - _NAMES_SHOWN} more" if len(paths) > _NAMES_SHOWN else "")


class SessionKeeper(QObject):
    """Public API: start() once the window is up, save(), start_fresh(), undo_fresh(), capture()."""

    restored = Signal(int)  # photos put back (0 when there was nothing to restore or it failed)

    def __init__(self, tab: "ColorizeTab", path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tab = tab
        self.path = Path(path)
        self.banner: Banner = tab.session_banner
        self.started = False  # only a session that was read (or found absent) may be replaced
        self.last_error = ""
        self._loaded: Session | None = None
        self._restored_ids: set[int] = set()
        self._save_failed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_AUTOSAVE_MS)
        self._timer.timeout.connect(lambda: self.save(durable=False))
        for signal in (tab.queue.rowsInserted, tab.queue.rowsRemoved, tab.hint_editor.hints_changed,
                       tab.references.changed, tab.adjust_panel.changed, tab.repair_panel.changed,
                       tab.model_panel.model_selected, tab.view.mode_changed,
                       tab.filmstrip.selectionModel().currentChanged):
            signal.connect(self._changed)

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        """Read the last session on a worker and put it back (photos added meanwhile stay)."""
        path = self.path
        self.tab.runner.submit(read_session, path, name="session", priority=PRIORITY_PREVIEW,
                               on_result=self._on_read, on_error=lambda error: self._on_failed(describe_error(error)))

    def _on_read(self, session: Session | None) -> None:
        self.started = True
        if session is None or (session.empty and not session.missing):
            if session is not None:
                self.tab.apply_session_settings(session)
            self.restored.emit(0)
            return
        self._loaded = session
        items = self.tab.restore_session(session)
        self._restored_ids = {i.id for i in items}
        count = len(items)
        text = (f"Restored {count} photo{'s' if count != 1 else ''} from last time, with their hints and "
                f"your adjustments." if count else "Nothing to restore from last time.")
        if session.missing:
            n = len(session.missing)
            text += (f" {n} photo{'s are' if n != 1 else ' is'} no longer where {'they were' if n != 1 else 'it was'}"
                     f" and {'were' if n != 1 else 'was'} left out: {_names(session.missing)}.")
        self.banner.show_message(INFO, text, "Start fresh" if count else "", self.start_fresh if count else None)
        self.restored.emit(count)

    def _on_failed(self, message: str) -> None:
        """The file is moved aside (not deleted, not trusted): the next save starts a good one."""
        self.started = True
        self.last_error = message
        kept = self.path.with_name(f"{self.path.stem}-unreadable{self.path.suffix}")
        try:
            self.path.replace(kept)
            note = f"It was kept as {kept.name} beside it; a new session starts now."
        except OSError:
            note = "Photos you open now start a new session, which replaces it."
        self.banner.show_message(ERROR, f"Your last session could not be restored: {message}. {note}")
        self.restored.emit(0)

    # ------------------------------------------------------------------ start fresh / undo

    def start_fresh(self) -> None:
        """Close the restored photos (photos opened since stay) and go back to the model's defaults."""
        closed = len(self._restored_ids & {i.id for i in self.tab.queue.items})
        self.tab.remove_items(self._restored_ids)
        self._restored_ids = set()
        self.tab.adjust_panel.reset()
        photos = f"{closed} restored photo{'s' if closed != 1 else ''}"
        self.banner.show_message(INFO, f"Started fresh: closed the {photos}.", "Undo", self.undo_fresh)
        self.save(durable=False)

    def undo_fresh(self) -> None:
        if self._loaded is None:
            return
        items = self.tab.restore_session(self._loaded)
        self._restored_ids = {i.id for i in items}
        self.banner.show_message(INFO, f"Restored {len(items)} photo{'s' if len(items) != 1 else ''} again.",
                                 "Start fresh", self.start_fresh)

    # ------------------------------------------------------------------ save

    def capture(self) -> Session:
        """The tab as it is now; photos that could not be read are not kept."""
        tab = self.tab
        kept = [i for i in tab.queue.items if i.state != ItemState.FAILED]
        selected = tab.selected_item()
        photos = [SessionPhoto(i.path.absolute(), tuple(i.hints),
                               i.reference_path.absolute() if i.reference is not None and i.reference_path else None,
                               float(i.reference_strength)) for i in kept]
        index = next((n for n, i in enumerate(kept) if selected is not None and i.id == selected.id), None)
        panel = tab.adjust_panel
        adjust = SessionAdjustments(panel.saturation(), panel.work_size(), panel.changed_temperature())
        return Session(photos=photos, selected=index, model=tab.current_model() or None,
                       view_mode=tab.view.mode().value, adjust=adjust, repair=tab.repair_panel.all_settings())

    def save(self, durable: bool = True) -> bool:
        """Write the session now (atomically); False, with one status message, if the disk refuses."""
        self._timer.stop()
        if not self.started:
            return False  # the old session is still being read: never replace it with a half-built one
        try:
            save_session(self.path, self.capture(), durable=durable)
        except OSError as exc:
            if not self._save_failed:
                self.tab.status_message.emit(f"Could not save the session to {self.path}: {exc.strerror or exc}", 10000)
            self._save_failed = True
            return False
        self._save_failed = False
        return True

    def _changed(self, *args) -> None:
        if self.started:
            self._timer.start()
