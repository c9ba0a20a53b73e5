"""File > Open Recent: the last photos and folders opened, checked against the disk each time it opens.

The lists live in AppSettings (bounded there); entries whose file or folder is gone are dropped
when the menu is shown, so it never offers something that would only fail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMenu, QWidget

from .settings import AppSettings

KINDS = (("photos", "Photos"), ("folders", "Folders"))


class RecentMenu(QMenu):
    def __init__(self, settings: AppSettings, open_paths: Callable[[list[Path]], object],
                 parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self._settings = settings
        self._open = open_paths
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def entries(self, kind: str) -> list[str]:
        """The list with missing entries pruned (and the pruned list stored)."""
        listed = self._settings.recent(kind)
        present = [p for p in listed if (Path(p).is_dir() if kind == "folders" else Path(p).is_file())]
        if present != listed:
            self._settings.set_recent(kind, present)
        return present

    def rebuild(self) -> None:
        self.clear()
        any_entry = False
        for kind, title in KINDS:
            paths = self.entries(kind)
            if not paths:
                continue
            if any_entry:
                self.addSeparator()
            self.addSection(title)
            for text in paths:
                path = Path(text)
                action = self.addAction(path.name or text)
                action.setToolTip(text)
                action.setStatusTip(text)
                action.setData(text)
                action.triggered.connect(lambda _checked=False, p=path: self._open([p]))
            any_entry = True
        if not any_entry:
            self.addAction("No recent photos").setEnabled(False)
            return
        self.addSeparator()
        self.addAction("Clear Recent", self.clear_recent)
        self.setToolTipsVisible(True)

    def clear_recent(self) -> None:
        for kind, _ in KINDS:
            self._settings.set_recent(kind, [])
        self.rebuild()
