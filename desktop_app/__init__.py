"""Chroma's desktop window (PySide6). Widgets only: all image and model work is done by ml_core.

Entry points: `chroma` / `chroma gui` (ml_core.commands.gui), `python -m desktop_app`, and
`desktop_app.app.run()`.
"""
