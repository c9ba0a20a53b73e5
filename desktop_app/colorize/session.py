"""The Colorize tab's session file: what was open when the window closed, to be put back next time.

A session is the open photos (each with its own hints and reference photo), the selected one,
the model, the adjustments and the Repair panel's settings. It is written atomically (a crash
mid-write leaves the previous session) and read as untrusted input: the file sits in a user
folder and may be truncated, hand-edited or planted, so every field is checked against a type
and a bound before anything is built, and any problem becomes one `SessionError` naming the file
and the field. Hints are checked by ml_core's own hint-file reader, the same one `chroma
colorize --hints` uses.

No Qt here: the tab turns a `Session` into queue items; this module only reads and writes JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_core.io.safe_text import clean_text, shown
from ml_core.repair.settings import RepairSettings

if TYPE_CHECKING:
    from ml_core.guidance.hints import Hint

FORMAT = "chroma-session"
VERSION = 1
MAX_SESSION_BYTES = 64 * 1024 * 1024  # thousands of photos with hints fit in a few MB
MAX_PHOTOS = 20_000
MAX_PATH_CHARS = 4_096
MAX_NAME_CHARS = 200
WORK_SIZE_RANGE = (32, 4_096)
SATURATION_RANGE = (0.0, 2.0)
TEMPERATURE_RANGE = (0.01, 1.0)
STRENGTH_RANGE = (0.0, 1.0)
VIEW_MODES = ("side_by_side", "split")
_TOP_KEYS = frozenset(("format", "version", "model", "view_mode", "adjust", "repair", "selected", "photos"))
_ADJUST_KEYS = frozenset(("saturation", "work_size", "temperature"))
_PHOTO_KEYS = frozenset(("path", "hints", "reference"))
_REFERENCE_KEYS = frozenset(("path", "strength"))


class SessionError(ValueError):
    """A session file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class SessionAdjustments:
    """Only what the person changed: None means "the model's own default" (it follows the model)."""

    saturation: float = 1.0
    work_size: int | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class SessionPhoto:
    path: Path
    hints: tuple["Hint", ...] = ()
    reference: Path | None = None
    reference_strength: float = 1.0


@dataclass
class Session:
    photos: list[SessionPhoto] = field(default_factory=list)
    selected: int | None = None  # index into photos
    model: str | None = None
    view_mode: str | None = None
    adjust: SessionAdjustments = field(default_factory=SessionAdjustments)
    repair: RepairSettings | None = None  # None: the file had none (older sessions); panel as it is
    missing: list[Path] = field(default_factory=list)  # listed in the file but gone from disk

    @property
    def empty(self) -> bool:
        return not self.photos


# ---------------------------------------------------------------------------------------- writing

def session_json(session: Session) -> str:
    """The file's text. Hints are stored in the hint-file format (relative units), so a session
    entry could be pasted into a hints file and read by the CLI."""
    adjust = session.adjust
    photos = []
    for photo in session.photos:
        entry: dict[str, Any] = {"path": str(photo.path)}
        if photo.hints:
            entry["hints"] = {"units": "relative", "hints": [h.to_json() for h in photo.hints]}
        if photo.reference is not None:
            entry["reference"] = {"path": str(photo.reference), "strength": round(photo.reference_strength, 4)}
        photos.append(entry)
    data = {
        "format": FORMAT, "version": VERSION, "model": session.model, "view_mode": session.view_mode,
        "adjust": {"saturation": adjust.saturation, "work_size": adjust.work_size, "temperature": adjust.temperature},
        "selected": session.selected, "photos": photos,
    }
    if session.repair is not None:
        data["repair"] = session.repair.as_dict()
    return json.dumps(data, indent=1)


def save_session(path: Path, session: Session, durable: bool = True) -> None:
    """Atomic: a reader (the next launch) sees the previous session or this one, never half."""
    from ml_core.io.atomic import atomic_write_text  # not needed before the first save (launch time)

    atomic_write_text(path, session_json(session) + "\n", durable=durable)


# ---------------------------------------------------------------------------------------- reading

def read_session(path: Path, check_files: bool = True) -> Session | None:
    """The session in `path` (None when there is none), every field checked; photos no longer on
    disk are left out and listed in `missing`. Imports torch (through ml_core.guidance.hints): call it on a
    worker thread, never while the window is waiting for its first frame."""
    from ml_core.io.json_file import JsonFileError, read_json_file

    path = Path(path)
    try:
        data = read_json_file(path, max_bytes=MAX_SESSION_BYTES, kind="session file", reading="the session")
    except FileNotFoundError:
        return None
    except JsonFileError as exc:
        raise SessionError(str(exc)) from None
    session = parse_session(data, str(path))
    if check_files:
        kept = [p for p in session.photos if p.path.is_file()]
        session.missing = [p.path for p in session.photos if not p.path.is_file()]
        if session.selected is not None:
            chosen = session.photos[session.selected]
            session.selected = kept.index(chosen) if chosen in kept else (0 if kept else None)
        session.photos = kept
    return session


def parse_session(data: Any, source: str = "<session>") -> Session:
    """A parsed JSON value -> Session, or SessionError naming `source` and the field. Nothing else."""
    if not isinstance(data, dict):
        raise SessionError(f"{source}: not a session file: expected a JSON object, got {shown(data)}")
    if data.get("format") != FORMAT:
        raise SessionError(f'{source}: not a session file ("format" is {shown(data.get("format"))}, '
                           f'expected "{FORMAT}")')
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version != VERSION:
        raise SessionError(f"{source}: session version {shown(version)} is not one this Chroma reads "
                           f"(it reads version {VERSION})")
    _no_unknown(data, _TOP_KEYS, source, "the session")
    model = _optional_text(data.get("model"), f"{source}: model", MAX_NAME_CHARS)
    view_mode = data.get("view_mode")
    if view_mode is not None and view_mode not in VIEW_MODES:
        raise SessionError(f"{source}: view_mode must be one of {', '.join(VIEW_MODES)}, got {shown(view_mode)}")
    adjust = _adjust(data.get("adjust", {}), source)
    repair = _repair(data.get("repair"), source)
    raw_photos = data.get("photos", [])
    if not isinstance(raw_photos, list):
        raise SessionError(f"{source}: photos must be a list, got {shown(raw_photos)}")
    if len(raw_photos) > MAX_PHOTOS:
        raise SessionError(f"{source}: {len(raw_photos):,} photos; a session holds at most {MAX_PHOTOS:,}")
    photos = [_photo(entry, f"{source}: photo {n}") for n, entry in enumerate(raw_photos, start=1)]
    selected = data.get("selected")
    if selected is not None and (not isinstance(selected, int) or isinstance(selected, bool)
                                 or not 0 <= selected < len(photos)):
        raise SessionError(f"{source}: selected must be the index of a photo (0..{len(photos) - 1}), "
                           f"got {shown(selected)}")
    return Session(photos=photos, selected=selected, model=model, view_mode=view_mode, adjust=adjust, repair=repair)


def _no_unknown(data: dict, known: frozenset[str], source: str, what: str) -> None:
    unknown = sorted(clean_text(str(k))[:40] for k in data if k not in known)
    if unknown:
        raise SessionError(f"{source}: unknown key {', '.join(map(repr, unknown))} in {what}")


def _optional_text(value: Any, where: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise SessionError(f"{where} must be text of 1 to {limit} characters, got {shown(value)}")
    return value


def _number(value: Any, where: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not lo <= value <= hi:
        raise SessionError(f"{where} must be a number from {lo:g} to {hi:g}, got {shown(value)}")
    return float(value)


def _adjust(value: Any, source: str) -> SessionAdjustments:
    if not isinstance(value, dict):
        raise SessionError(f"{source}: adjust must be an object, got {shown(value)}")
    _no_unknown(value, _ADJUST_KEYS, source, "adjust")
    saturation = _number(value.get("saturation", 1.0), f"{source}: adjust.saturation", *SATURATION_RANGE)
    work_size = value.get("work_size")
    if work_size is not None:
        if not isinstance(work_size, int) or isinstance(work_size, bool) \
                or not WORK_SIZE_RANGE[0] <= work_size <= WORK_SIZE_RANGE[1]:
            raise SessionError(f"{source}: adjust.work_size must be a whole number of pixels from "
                               f"{WORK_SIZE_RANGE[0]} to {WORK_SIZE_RANGE[1]}, got {shown(work_size)}")
    temperature = value.get("temperature")
    if temperature is not None:
        temperature = _number(temperature, f"{source}: adjust.temperature", *TEMPERATURE_RANGE)
    return SessionAdjustments(saturation, work_size, temperature)


def _repair(value: Any, source: str) -> RepairSettings | None:
    """Checked by RepairSettings itself (the same checks `chroma repair` options get): unknown
    keys, non-booleans and strengths outside 0..1 are refused, named."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SessionError(f"{source}: repair must be an object, got {shown(value)}")
    try:
        return RepairSettings.from_dict(value)
    except (TypeError, ValueError) as exc:
        raise SessionError(f"{source}: repair: {clean_text(str(exc))[:200]}") from None


def _path(value: Any, where: str) -> Path:
    text = _optional_text(value, where, MAX_PATH_CHARS)
    if text is None:
        raise SessionError(f"{where} is missing")
    path = Path(text)
    if not path.is_absolute():
        raise SessionError(f"{where} must be an absolute path, got {shown(text)}")
    return path


def _photo(entry: Any, where: str) -> SessionPhoto:
    if not isinstance(entry, dict):
        raise SessionError(f"{where}: expected an object, got {shown(entry)}")
    _no_unknown(entry, _PHOTO_KEYS, where, "the photo")
    path = _path(entry.get("path"), f"{where}: path")
    hints: tuple = ()
    if entry.get("hints") is not None:
        from ml_core.guidance.hints import HintError, parse_hints  # imports torch: read_session runs on a worker

        try:
            hint_file = parse_hints(entry["hints"], f"{where} ({path.name}): hints")
            if hint_file.units != "relative":
                raise SessionError(f"{where}: hints must be in relative units")
            hints = hint_file.for_size(1, 1)
        except HintError as exc:
            raise SessionError(str(exc)) from None
    reference, strength = None, 1.0
    raw_ref = entry.get("reference")
    if raw_ref is not None:
        if not isinstance(raw_ref, dict):
            raise SessionError(f"{where}: reference must be an object, got {shown(raw_ref)}")
        _no_unknown(raw_ref, _REFERENCE_KEYS, where, "the reference")
        reference = _path(raw_ref.get("path"), f"{where}: reference path")
        strength = _number(raw_ref.get("strength", 1.0), f"{where}: reference strength", *STRENGTH_RANGE)
    return SessionPhoto(path, hints, reference, strength)
