"""What a batch command prints per photo: a progress bar, a JSON record each (`--json`), and each
failure and warning named by its photo. Shared by `chroma colorize` and `chroma repair`, so both
report alike."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable


def naming_source(outcome: Any) -> str:
    """The error with the photo it belongs to: an export error names the output file only."""
    error = str(outcome.error)
    return error if error.startswith(str(outcome.source)) else f"{outcome.source}: {error}"


def progress_printer(bar: Any, as_json: bool) -> Callable[[int, int, Any], None]:
    """The batch's progress callback: advance the tqdm `bar`, print the record and the problems."""

    def progress(done: int, total: int, outcome: Any) -> None:
        bar.update(1)
        if as_json:
            print(json.dumps(outcome.as_record()), flush=True)
        if not outcome.ok:
            bar.write(f"error: {naming_source(outcome)}", file=sys.stderr)
        for warning in outcome.warnings:
            bar.write(f"warning: {outcome.source}: {warning}", file=sys.stderr)

    return progress
