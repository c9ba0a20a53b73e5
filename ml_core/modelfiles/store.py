"""The model store: built-in models shipped in resources/, user models in the per-user data dir.

A model is referred to by name (the file stem) or by a path to a .safetensors file; user models
shadow nothing: a user model with a built-in's name is refused at save time so "default" always
means the shipped one.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..io import paths
from ..io.atomic import atomic_path
from ..io.safe_text import clean_text
from .info import ModelFileError, ModelInfo, read_info  # torch-free: finding a model needs no torch

if TYPE_CHECKING:
    from .modelfile import LoadedModel

SUFFIX = ".safetensors"
DEFAULT_MODEL = "default"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


@dataclass(frozen=True)
class StoreEntry:
    name: str
    path: Path
    builtin: bool
    info: ModelInfo

    @property
    def card_path(self) -> Path:
        return self.path.with_suffix(".md")

    def card(self) -> str:
        """The card beside the model, as safe to print or show as the metadata (see safe_text)."""
        if not self.card_path.is_file():
            return ""
        try:
            text = self.card_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return clean_text(text, multiline=True)


def validate_name(name: str) -> str:
    """A store name; a trailing ".safetensors" is the file's, not the name's (`--name a.safetensors` is "a")."""
    name = name.strip()
    if name.lower().endswith(SUFFIX):
        name = name[: -len(SUFFIX)].rstrip()
    if not _NAME_RE.match(name) or name.endswith("."):
        raise ValueError(
            f"model name {name!r} must be 1-64 letters, digits, spaces, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    return name


class ModelStore:
    def __init__(self, builtin_dir: Path | None = None, user_dir: Path | None = None) -> None:
        self.builtin_dir = Path(builtin_dir) if builtin_dir else paths.builtin_models_dir()
        self.user_dir = Path(user_dir) if user_dir else paths.user_models_dir()

    def _scan(self, folder: Path, builtin: bool) -> list[StoreEntry]:
        entries = []
        if folder.is_dir():
            for path in sorted(folder.glob(f"*{SUFFIX}")):
                if clean_text(path.stem) != path.stem:
                    continue  # a name that would print escape codes is no name a person gave
                try:
                    entries.append(StoreEntry(path.stem, path, builtin, read_info(path)))
                except ModelFileError:
                    continue  # a broken file in the folder must not hide the good ones
        return entries

    def entries(self) -> list[StoreEntry]:
        """Built-ins first (default first among them), then user models by name."""
        builtin = self._scan(self.builtin_dir, True)
        builtin.sort(key=lambda e: (e.name != DEFAULT_MODEL, e.name))
        names = {e.name for e in builtin}
        user = [e for e in self._scan(self.user_dir, False) if e.name not in names]
        return builtin + user

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def find(self, ref: str | Path) -> StoreEntry:
        """A store name, or a path to a model file anywhere."""
        candidate = Path(ref)
        if candidate.suffix == SUFFIX and candidate.is_file():
            return StoreEntry(candidate.stem, candidate, False, read_info(candidate))
        for entry in self.entries():
            if entry.name == str(ref):
                return entry
        known = ", ".join(self.names()) or "none installed"
        raise ModelFileError(str(ref), f"no such model (known models: {known})")

    def locate(self, ref: str | Path | None = None) -> Path | None:
        """The file `find(ref)` (or, for None, `find(default_name())`) would name, found without reading
        any model's metadata: checking that imports the model registry, hence torch, and this is for
        the torch-free path. None where only the full scan can tell; `find` then says why.

        A file found here may still be unusable: the caller trusts it only through something its
        content was checked for (an ONNX graph cached under its hash, ml_core.inference.fast_path).
        """
        ref = DEFAULT_MODEL if ref is None else ref
        candidate = Path(ref)
        if candidate.suffix == SUFFIX and candidate.is_file():
            return candidate
        name = str(ref)
        if candidate.name != name or clean_text(name) != name or name.startswith("."):
            return None
        for folder in (self.builtin_dir, self.user_dir):
            path = folder / f"{name}{SUFFIX}"
            if path.is_file():
                return path
        return None

    def load(self, ref: str | Path) -> "LoadedModel":
        from .modelfile import load_model  # torch: only when the weights are needed

        return load_model(self.find(ref).path)

    def default_name(self) -> str:
        names = self.names()
        if not names:
            raise ModelFileError(self.builtin_dir, "no models installed")
        return DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]

    def user_model_path(self, name: str) -> Path:
        name = validate_name(name)
        if (self.builtin_dir / f"{name}{SUFFIX}").exists():
            raise ValueError(f"{name!r} is the name of a built-in model; choose another name")
        return self.user_dir / f"{name}{SUFFIX}"

    def unique_name(self, base: str) -> str:
        """`base`, or `base-2`, `base-3`... so saving never replaces a model silently."""
        taken = set(self.names())
        if base not in taken:
            return base
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    def import_file(self, source: Path | str, name: str | None = None, overwrite: bool = False) -> StoreEntry:
        """Copy a shared model file (and its card) into the user store after checking it loads."""
        from .modelfile import load_model

        source = Path(source)
        loaded = load_model(source)  # full validation: metadata, architecture, tensor shapes
        target = self.user_model_path(name or source.stem)
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target}: a model named {target.stem!r} already exists")
        if source.resolve() != target.resolve():
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
            card = source.with_suffix(".md")
            if card.is_file():
                with atomic_path(target.with_suffix(".md")) as tmp:
                    shutil.copyfile(card, tmp)
        del loaded
        return StoreEntry(target.stem, target, False, read_info(target))

    def import_eccv16(self, checkpoint: Path | str, name: str | None = None) -> StoreEntry:
        """Convert Zhang et al.'s official ECCV16 .pth (loaded with weights_only=True) to a model file."""
        from ..models.eccv16 import load_official_checkpoint
        from .modelfile import save_model

        loaded = load_official_checkpoint(Path(checkpoint))
        target = self.user_model_path(name or loaded.info.name)
        loaded.info.name = target.stem
        save_model(loaded.model, target, loaded.info)
        return StoreEntry(target.stem, target, False, read_info(target))

    def delete(self, name: str) -> Path:
        """Delete a user model (and its card) by store name; returns the deleted file's path.

        Only ever a file inside the user store: a path, or a name that only resolves outside it
        (a built-in), is refused, so `models delete` cannot be pointed at anything else on disk.
        """
        shown = clean_text(name)
        if _looks_like_path(name):
            raise ValueError(f"{shown!r} is a path; models delete takes the name of one of your models "
                             f"(see `chroma models list`), e.g. {_stem_of(shown)!r}")
        if name.strip() in self._builtin_names():
            raise ValueError(f"{shown!r} is built in and cannot be deleted")
        name = validate_name(name)
        target = self.user_dir / f"{name}{SUFFIX}"
        if not target.is_file() and not target.is_symlink():
            yours = ", ".join(e.name for e in self.entries() if not e.builtin) or "none"
            raise ValueError(f"no model of yours is named {name!r} (your models: {yours})")
        target.unlink()
        card = target.with_suffix(".md")
        if card.is_file() or card.is_symlink():
            card.unlink()
        return target

    def _builtin_names(self) -> set[str]:
        """Every built-in file name, readable or not: none of them is the user's to delete."""
        return {p.stem for p in self.builtin_dir.glob(f"*{SUFFIX}")} if self.builtin_dir.is_dir() else set()


def _looks_like_path(name: str) -> bool:
    """Anything with a folder separator, a file suffix or a leading dot/tilde names a file, not a model."""
    text = name.strip()
    return (any(sep in text for sep in ("/", "\\")) or text.lower().endswith(SUFFIX)
            or text.startswith((".", "~")) or Path(text).is_absolute())


def _stem_of(text: str) -> str:
    stem = Path(text.replace("\\", "/")).name
    return stem[: -len(SUFFIX)] if stem.lower().endswith(SUFFIX) else stem
