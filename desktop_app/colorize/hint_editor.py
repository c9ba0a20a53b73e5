"""Per-photo color hints as undoable edits: add, move, recolor, change reach, delete, clear.

Every edit replaces the photo's whole hint tuple (hints are small, immutable `ml_core.guidance.hints.Hint`
values), so one command class serves every kind of edit, undo restores the exact tuple that
was there before, and the render key can compare tuples directly. Each photo keeps its own
QUndoStack; the tab's QUndoGroup makes the selected photo's stack the active one, so Ctrl+Z
always undoes the last change to the photo on screen.

No model math here: hints are built through ml_core.guidance.hints and only stored and swapped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from .photo_queue import QueueItem

if TYPE_CHECKING:
    from ml_core.guidance.hints import Hint

Hints = tuple["Hint", ...]


class SetHintsCommand(QUndoCommand):
    """Replace an item's hints with `after`; undo puts `before` back, exactly."""

    def __init__(self, editor: "HintEditor", item: QueueItem, before: Hints, after: Hints, text: str) -> None:
        super().__init__(text)
        self._editor = editor
        self._item = item
        self._before = before
        self._after = after

    def redo(self) -> None:
        self._editor._apply(self._item, self._after)

    def undo(self) -> None:
        self._editor._apply(self._item, self._before)


class HintEditor(QObject):
    """The only way hints change: every edit goes through an item's undo stack."""

    hints_changed = Signal(int)  # item id

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.group = QUndoGroup(self)
        self._stacks: dict[int, QUndoStack] = {}

    # ------------------------------------------------------------------ stacks

    def stack_for(self, item: QueueItem) -> QUndoStack:
        """Created on first use; owned by the group so the Undo/Redo actions can follow it."""
        stack = self._stacks.get(item.id)
        if stack is None:
            stack = QUndoStack(self.group)
            self.group.addStack(stack)
            self._stacks[item.id] = stack
        return stack

    def activate(self, item: QueueItem | None) -> None:
        """The selected photo's history becomes the one Undo/Redo act on."""
        self.group.setActiveStack(self.stack_for(item) if item is not None else None)

    def forget(self, item_ids: set[int]) -> None:
        """Photos removed from the queue take their history with them."""
        for item_id in item_ids:
            stack = self._stacks.pop(item_id, None)
            if stack is not None:
                self.group.removeStack(stack)
                stack.deleteLater()

    # ------------------------------------------------------------------ edits

    def add(self, item: QueueItem, hint: "Hint") -> int:
        """Returns the new hint's index (always the last: later hints win where they overlap)."""
        self._push(item, item.hints + (hint,), "Add Hint" if len(hint.points) == 1 else "Paint Hint")
        return len(item.hints) - 1

    def move(self, item: QueueItem, index: int, x: float, y: float) -> None:
        hint = item.hints[index]
        if (hint.x, hint.y) != (x, y):
            self._push(item, _replaced(item.hints, index, hint.moved_to(x, y)), "Move Hint")

    def recolor(self, item: QueueItem, index: int, ab: Sequence[float]) -> None:
        hint = item.hints[index]
        new = hint.with_ab(ab)
        if new.ab != hint.ab:
            self._push(item, _replaced(item.hints, index, new), "Recolor Hint")

    def set_reach(self, item: QueueItem, index: int, reach: str) -> None:
        """How far hint `index` may spread ("small" | "object" | "wide", checked by Hint itself)."""
        hint = item.hints[index]
        if reach != hint.reach:
            self._push(item, _replaced(item.hints, index, hint.with_reach(reach)), "Change Hint Reach")

    def delete(self, item: QueueItem, index: int) -> None:
        if 0 <= index < len(item.hints):
            self._push(item, item.hints[:index] + item.hints[index + 1:], "Delete Hint")

    def clear(self, item: QueueItem) -> None:
        if item.hints:
            self._push(item, (), "Clear Hints")

    def replace(self, item: QueueItem, hints: Hints, text: str = "Load Hints") -> None:
        """All of a photo's hints at once (a loaded hint file), as one undoable step."""
        if tuple(hints) != item.hints:
            self._push(item, tuple(hints), text)

    def _push(self, item: QueueItem, after: Hints, text: str) -> None:
        self.stack_for(item).push(SetHintsCommand(self, item, item.hints, after, text))

    def _apply(self, item: QueueItem, hints: Hints) -> None:
        item.hints = hints
        self.hints_changed.emit(item.id)


def _replaced(hints: Hints, index: int, hint: "Hint") -> Hints:
    return hints[:index] + (hint,) + hints[index + 1:]
