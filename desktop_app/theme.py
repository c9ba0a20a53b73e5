"""Light and dark palettes that follow the system's colour scheme, live.

Fusion is used everywhere so the custom-painted widgets (filmstrip, preview) sit in one known
look on every OS; the palette, not the style, carries light versus dark.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(43, 44, 48), QColor(30, 31, 34), QColor(228, 228, 232)
    accent = QColor(64, 144, 235)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(38, 39, 43),
        QPalette.ColorRole.ToolTipBase: QColor(24, 25, 28),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor(150, 151, 158),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(52, 53, 58),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Highlight: accent,
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(110, 170, 250),
        QPalette.ColorRole.Light: QColor(70, 71, 76),
        QPalette.ColorRole.Midlight: QColor(60, 61, 66),
        QPalette.ColorRole.Mid: QColor(40, 41, 45),
        QPalette.ColorRole.Dark: QColor(22, 23, 26),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    disabled = QColor(120, 121, 128)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


_preference = "system"


def wants_dark() -> bool:
    forced = os.environ.get("CHROMA_THEME", "").lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    if _preference in ("dark", "light"):
        return _preference == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, preference: str | None = None) -> None:
    """Fusion with a light or dark palette: the preference ("system", "light", "dark") when one
    is given, else the last one; "system" follows the desktop's scheme, live. CHROMA_THEME wins."""
    global _preference
    if preference is not None:
        _preference = preference
    if app.style().name().lower() != "fusion":  # setting it again would re-polish every widget
        app.setStyle("Fusion")
    if not getattr(app, "_chroma_theme_hooked", False):
        app.styleHints().colorSchemeChanged.connect(lambda *_args: _update(app))
        app._chroma_theme_hooked = True  # type: ignore[attr-defined]
    _update(app)


def preference() -> str:
    """The theme preference last applied ("system", "light" or "dark")."""
    return _preference


def _update(app: QApplication) -> None:
    app.setPalette(dark_palette() if wants_dark() else app.style().standardPalette())
