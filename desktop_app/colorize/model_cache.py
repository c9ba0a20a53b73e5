"""Which models exist and which are loaded: the model list, the selected model, and a small cache
of loaded colorizers.

Loading reads a file and builds a network, so it runs on a worker; a loaded colorizer is kept
(the last few, keyed by name, file and modification time, so a replaced file is reloaded). The
render scheduler asks this for the selected colorizer; the Compare view loads other models
through `load` so they share the cache and the worker pool.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..workers import PRIORITY_PREVIEW, TaskRunner, describe_error
from . import jobs
from .jobs import ModelChoice

if TYPE_CHECKING:
    from ml_core.inference.engine import Colorizer
    from ml_core.modelfiles.modelfile import LoadedModel

_MODEL_CACHE = 2  # colorizers kept for the selected model; the Compare view holds its own while open


class ModelCache(QObject):
    """Public API: refresh_models, add_in_memory_model, choices, choice, model_choice, model_name,
    colorizer, model_error, set_model, load, cache_key."""

    models_refreshed = Signal(list, object)  # choices, name to select (or None)
    models_failed = Signal(str)
    model_state = Signal(str, str)  # name, "loading" | "ready" | error message
    selected_changed = Signal()  # another model is now the selected one (its renders are stale)
    ready = Signal()  # the selected model's colorizer is available

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._choices: dict[str, ModelChoice] = {}
        self._extra: dict[str, ModelChoice] = {}  # in-memory models (self-test)
        self._colorizers: OrderedDict[tuple, "Colorizer"] = OrderedDict()
        self._model_name: str | None = None
        self._model_error: str | None = None

    # ------------------------------------------------------------------ the list

    def refresh_models(self, select: str | None = None) -> None:
        self._runner.submit_job(jobs.scan_models, name="scan", slot="scan", priority=PRIORITY_PREVIEW,
                                on_result=partial(self._on_models, select),
                                on_error=lambda e: self.models_failed.emit(describe_error(e)))

    def add_in_memory_model(self, loaded: "LoadedModel", name: str) -> ModelChoice:
        choice = jobs.choice_for_loaded(loaded, name)
        self._extra[name] = choice
        return choice

    def choices(self) -> list[ModelChoice]:
        return list(self._choices.values()) + [c for n, c in self._extra.items() if n not in self._choices]

    def choice(self, name: str | None) -> ModelChoice | None:
        if name is None:
            return None
        return self._choices.get(name) or self._extra.get(name)

    def _on_models(self, select: str | None, choices: list[ModelChoice]) -> None:
        self._choices = {c.name: c for c in choices}
        live = {self.cache_key(c) for c in self.choices()}
        for key in [k for k in self._colorizers if k not in live]:  # file replaced or deleted
            del self._colorizers[key]
        self.models_refreshed.emit(self.choices(), select)

    @staticmethod
    def cache_key(choice: ModelChoice) -> tuple:
        """Name, file and modification time: a model file replaced on disk is a different model."""
        if choice.in_memory is not None:
            return (choice.name, id(choice.in_memory))
        try:
            stamp = choice.path.stat().st_mtime_ns if choice.path else 0
        except OSError:
            stamp = -1
        return (choice.name, str(choice.path), stamp)

    # ------------------------------------------------------------------ the selected model

    @property
    def model_name(self) -> str | None:
        return self._model_name

    def model_choice(self) -> ModelChoice | None:
        return self.choice(self._model_name)

    @property
    def colorizer(self) -> "Colorizer | None":
        choice = self.model_choice()
        return self.cached(choice) if choice else None

    @property
    def model_error(self) -> str | None:
        return self._model_error

    def cached(self, choice: ModelChoice) -> "Colorizer | None":
        return self._colorizers.get(self.cache_key(choice))

    def set_model(self, name: str | None) -> None:
        """Select a model; loads it in the background unless it is cached."""
        if name == self._model_name and (self.colorizer is not None or self._runner.current("model")):
            return
        self._model_name = name
        self._model_error = None
        self.selected_changed.emit()
        choice = self.model_choice()
        if choice is None:
            self._runner.supersede("model")
            return
        key = self.cache_key(choice)
        if key in self._colorizers:
            self._runner.supersede("model")
            self._colorizers.move_to_end(key)
            self.model_state.emit(choice.name, "ready")
            self.ready.emit()
            return
        self.model_state.emit(choice.name, "loading")
        self._runner.submit(jobs.load_colorizer, choice, name="model", slot="model",
                            priority=PRIORITY_PREVIEW, on_result=partial(self._on_model_loaded, choice.name, key),
                            on_error=partial(self._on_model_failed, choice.name))

    def _on_model_loaded(self, name: str, key: tuple, colorizer: "Colorizer") -> None:
        self._keep(key, colorizer)
        if name == self._model_name:
            self.model_state.emit(name, "ready")
            self.ready.emit()

    def _keep(self, key: tuple, colorizer: "Colorizer") -> None:
        """Cache `colorizer`; the oldest go, but never the selected model's (previews and export
        use it, and the Compare view loading other models must not unload it)."""
        self._colorizers[key] = colorizer
        self._colorizers.move_to_end(key)
        selected = self.model_choice()
        pinned = self.cache_key(selected) if selected is not None else None
        for old in [k for k in self._colorizers if k != pinned and k != key]:
            if len(self._colorizers) <= _MODEL_CACHE:
                break
            del self._colorizers[old]

    def _on_model_failed(self, name: str, error: Exception) -> None:
        message = describe_error(error)
        if name == self._model_name:
            self._model_error = message
            self.model_state.emit(name, message)

    # ------------------------------------------------------------------ any model

    def load(self, choice: ModelChoice, on_result: Callable[["Colorizer"], None],
             on_error: Callable[[Exception], None], slot: str | None = None) -> None:
        """`choice`'s colorizer, from the cache or loaded on a worker (the Compare view's tiles).

        The answer always arrives through the event loop, also from the cache, so callers see one
        order of events whichever way it came.
        """
        key = self.cache_key(choice)
        cached = self._colorizers.get(key)
        if cached is not None:
            self._runner.submit(lambda: cached, name="cached model", slot=slot, priority=PRIORITY_PREVIEW,
                                on_result=on_result, on_error=on_error)
            return

        def loaded(colorizer: "Colorizer") -> None:
            self._keep(key, colorizer)
            on_result(colorizer)

        self._runner.submit(jobs.load_colorizer, choice, name="compare model", slot=slot,
                            priority=PRIORITY_PREVIEW, on_result=loaded, on_error=on_error)
