"""The Colorize tab: queue, before/after preview, model and adjustment controls, export."""

from .tab import ColorizeTab

__all__ = ["ColorizeTab"]
