"""Worker side of the hint-region outline: the region one hint will color, computed off the GUI thread.

The region needs the same model run the preview used (ml_core's `Colorizer.guidance_inputs`);
a drag asks for it many times a second with only the hint's position changing, so the last
inputs are kept (one entry, keyed by photo, model, adjustments and whatever else changes them)
and each later request only recomputes the hint's gate on the coarse grid. No model math here:
ml_core computes, this only caches and hands back its data.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ml_core.cancel import CancelToken

from .jobs import DECODED, REPAIRED, ThreadPreference

if TYPE_CHECKING:
    from ml_core.guidance.hint_outline import HintRegion
    from ml_core.guidance.hints import Hint
    from ml_core.inference.engine import ColorizeOptions, Colorizer, GuidanceInputs
    from ml_core.repair import RepairSettings


class InputsCache:
    """The last photo's guidance inputs; shared by worker threads, so guarded by a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._inputs: "GuidanceInputs | None" = None

    def get(self, key: tuple) -> "GuidanceInputs | None":
        with self._lock:
            return self._inputs if key == self._key else None

    def put(self, key: tuple, inputs: "GuidanceInputs") -> None:
        with self._lock:
            self._key, self._inputs = key, inputs

    def clear(self) -> None:
        with self._lock:
            self._key = self._inputs = None


INPUTS = InputsCache()


def guidance_inputs(colorizer: "Colorizer", path: Path, options: "ColorizeOptions", repair: "RepairSettings | None",
                    key: tuple, token: CancelToken) -> "GuidanceInputs":
    """The photo at `path` as the preview renders it (`options` are the preview's; `repair` the
    repair the preview applies first), up to the hint solve. `key` names everything the model run
    depends on; the same key reuses the last result."""
    inputs = INPUTS.get(key)
    if inputs is None:
        ThreadPreference.apply()
        image = DECODED.get(path)
        token.raise_if_cancelled()
        if repair is not None and repair.any_enabled:
            image, _ = REPAIRED.get(path, image, repair, options.output_max_side, token)
        inputs = colorizer.guidance_inputs(image, options, token)
        INPUTS.put(key, inputs)
    return inputs


def prepare(colorizer: "Colorizer", path: Path, options: "ColorizeOptions", repair: "RepairSettings | None",
            key: tuple, token: CancelToken) -> None:
    """Everything the first outline on this photo needs, before anyone hovers (the model run and
    the hint-independent region costs), so that outline takes a gate's time, not a model run's."""
    inputs = guidance_inputs(colorizer, path, options, repair, key, token)
    token.raise_if_cancelled()
    _ = inputs.region_costs


def hint_region(colorizer: "Colorizer", path: Path, options: "ColorizeOptions", repair: "RepairSettings | None",
                key: tuple, hint: "Hint", token: CancelToken) -> "HintRegion":
    """The region `hint` will color on the photo at `path`, as the preview renders it."""
    inputs = guidance_inputs(colorizer, path, options, repair, key, token)
    token.raise_if_cancelled()
    return inputs.region(hint)
