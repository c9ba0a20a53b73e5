"""What the app remembers between runs: folders, model, export options, window layout.

Stored as an INI file in Chroma's per-user data folder rather than the platform default
(registry, plist): it follows CHROMA_DATA_DIR, so tests and portable installs never read or write
the real user's settings, and one format works everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from ml_core.io.paths import user_data_dir

RECENT_LIMIT = 10  # entries per list in File > Open Recent
THEMES = ("system", "light", "dark")
SAME_FORMAT = "same"  # export each photo in its own format (ml_core.io.imageio.export_format_for)
EXPORT_FORMAT_KEYS = (SAME_FORMAT, "png", "jpg", "webp", "tiff")


def max_threads() -> int:
    """The most CPU threads a person may choose: the logical cores of this machine."""
    return os.cpu_count() or 1


class AppSettings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else user_data_dir() / "settings.ini"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._q = QSettings(str(self.path), QSettings.Format.IniFormat)

    # Generic typed access: INI stores everything as text, so convert on the way out.
    def _get(self, key: str, default: Any, kind: type) -> Any:
        value = self._q.value(key, default)
        if value is None:
            return default
        try:
            if kind is bool:
                return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    def _set(self, key: str, value: Any) -> None:
        self._q.setValue(key, value)

    def sync(self) -> None:
        self._q.sync()

    # Folders -------------------------------------------------------------------------------
    @property
    def last_open_dir(self) -> str:
        return self._get("folders/open", "", str)

    @last_open_dir.setter
    def last_open_dir(self, value: str) -> None:
        self._set("folders/open", value)

    @property
    def last_export_dir(self) -> str:
        return self._get("folders/export", "", str)

    @last_export_dir.setter
    def last_export_dir(self, value: str) -> None:
        self._set("folders/export", value)

    # Recent photos and folders ---------------------------------------------------------------
    def recent(self, kind: str) -> list[str]:
        """Most recent first; `kind` is "photos" or "folders". An INI list of one comes back as text."""
        value = self._q.value(f"recent/{kind}", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [str(v) for v in items if isinstance(v, str) and v][:RECENT_LIMIT]

    def set_recent(self, kind: str, paths: list[str]) -> None:
        self._set(f"recent/{kind}", list(paths)[:RECENT_LIMIT])

    def add_recent(self, kind: str, paths: list[str]) -> None:
        """The first of `paths` becomes the most recent; a path already listed moves up, not in twice."""
        fresh = list(dict.fromkeys(paths))
        self.set_recent(kind, fresh + [p for p in self.recent(kind) if p not in fresh])

    # Model -----------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self._get("colorize/model", "", str)

    @model.setter
    def model(self, value: str) -> None:
        self._set("colorize/model", value)

    # Export ----------------------------------------------------------------------------------
    @property
    def export_format(self) -> str:
        """The format chosen last time; until one is chosen, each photo keeps its own (JPEG stays JPEG)."""
        return self._get("export/format", SAME_FORMAT, str)

    @export_format.setter
    def export_format(self, value: str) -> None:
        self._set("export/format", value)

    @property
    def export_quality(self) -> int:
        return self._get("export/quality", 92, int)

    @export_quality.setter
    def export_quality(self, value: int) -> None:
        self._set("export/quality", int(value))

    @property
    def export_pattern(self) -> str:
        return self._get("export/pattern", "{name}_color", str) or "{name}_color"

    @export_pattern.setter
    def export_pattern(self, value: str) -> None:
        self._set("export/pattern", value)

    # Preferences (Edit > Preferences) ---------------------------------------------------------
    @property
    def theme(self) -> str:
        """"system", "light" or "dark"; anything else in the file reads as "system"."""
        value = self._get("appearance/theme", "system", str)
        return value if value in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self._set("appearance/theme", value if value in THEMES else "system")

    @property
    def export_default_dir(self) -> str:
        """Where every export dialog starts ('' = the folder used last time)."""
        return self._get("export/default_dir", "", str)

    @export_default_dir.setter
    def export_default_dir(self, value: str) -> None:
        self._set("export/default_dir", value)

    @property
    def export_default_format(self) -> str:
        """The format every export dialog starts with ('' = the one used last time)."""
        value = self._get("export/default_format", "", str)
        return value if value in EXPORT_FORMAT_KEYS else ""

    @export_default_format.setter
    def export_default_format(self, value: str) -> None:
        self._set("export/default_format", value if value in EXPORT_FORMAT_KEYS else "")

    @property
    def threads(self) -> int:
        """CPU threads for colorizing: 0 = automatic; a hand-edited value out of 1..cores reads as 0."""
        value = self._get("performance/threads", 0, int)
        return value if 0 <= value <= max_threads() else 0

    @threads.setter
    def threads(self, value: int) -> None:
        if not 0 <= int(value) <= max_threads():
            raise ValueError(f"CPU threads must be 0 (automatic) to {max_threads()}, got {value}")
        self._set("performance/threads", int(value))

    # View ------------------------------------------------------------------------------------
    @property
    def view_mode(self) -> str:
        return self._get("view/mode", "side_by_side", str)

    @view_mode.setter
    def view_mode(self, value: str) -> None:
        self._set("view/mode", value)

    # Window ----------------------------------------------------------------------------------
    @property
    def window_geometry(self) -> QByteArray | None:
        value = self._q.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @window_geometry.setter
    def window_geometry(self, value: QByteArray) -> None:
        self._set("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        value = self._q.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._set("window/state", value)

    @property
    def splitter_state(self) -> QByteArray | None:
        value = self._q.value("window/splitter")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @splitter_state.setter
    def splitter_state(self, value: QByteArray) -> None:
        self._set("window/splitter", value)
