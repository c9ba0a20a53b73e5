"""Model files load without executing code and reject anything that does not fit its architecture."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from ml_core.modelfiles.modelfile import ModelFileError, info_for, load_model, read_info, save_model
from ml_core.modelfiles.store import ModelStore
from ml_core.models import create


def tiny(**config):
    torch.manual_seed(0)
    return create("unet", width=8, **config).eval()


def test_save_load_round_trip_is_exact(tmp_path) -> None:
    model = tiny()
    path = save_model(model, tmp_path / "m.safetensors",
                      info_for(model, "m", description="test", metrics={"psnr": 1.0}))
    loaded = load_model(path)
    assert loaded.info.name == "m" and loaded.info.metrics == {"psnr": 1.0}
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), loaded.model(x))
    assert not list(tmp_path.glob("*.tmp"))
    assert path.stat().st_mode & 0o044 == 0o044  # readable by others, like any file the user saves


def test_half_storage_is_half_size_and_close(tmp_path) -> None:
    model = tiny()
    full = save_model(model, tmp_path / "full.safetensors", info_for(model, "full"))
    half = save_model(model, tmp_path / "half.safetensors", info_for(model, "half"), half=True)
    assert half.stat().st_size < full.stat().st_size * 0.6
    loaded = load_model(half)
    assert all(p.dtype == torch.float32 for p in loaded.model.parameters())
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x), loaded.model(x), atol=0.05)


def test_save_is_atomic_previous_file_survives_a_failed_write(tmp_path, monkeypatch) -> None:
    model = tiny()
    path = save_model(model, tmp_path / "m.safetensors", info_for(model, "m"))
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("ml_core.modelfiles.modelfile.save", boom)
    with pytest.raises(OSError):
        save_model(tiny(head="ab"), path, info_for(model, "m"))
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))


def rewrite(path, tensors=None, meta=None):
    data = load_file(str(path))
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        metadata = dict(fh.metadata())
    if tensors is not None:
        data = tensors(data)
    if meta is not None:
        info = json.loads(metadata["chroma"])
        meta(info)
        metadata["chroma"] = json.dumps(info)
    save_file(data, str(path), metadata=metadata)


@pytest.mark.parametrize(
    "tensors,meta,message",
    [
        (lambda d: {k: v for k, v in d.items() if k != "head.weight"}, None, "missing 1 tensors (e.g. head.weight)"),
        (lambda d: {**d, "extra.weight": torch.zeros(2)}, None, "unexpected tensors (e.g. extra.weight)"),
        (lambda d: {**d, "head.bias": torch.zeros(7)}, None, "head.bias is (7,)"),
        (lambda d: {**d, "head.bias": torch.full_like(d["head.bias"], float("nan"))}, None, "NaN"),
        (None, lambda m: m.update(arch="nonexistent"), "unknown architecture 'nonexistent'"),
        (None, lambda m: m.update(config={"width": 8, "bogus": 1}),
         "'config.bogus' is not a setting of architecture 'unet'"),
        (None, lambda m: m.update(config={"width": 8, "stem_stride": 3}),
         "'config.stem_stride' must be one of 1, 2, 4"),
        (None, lambda m: m.update(output_kind="ab"), "metadata says lab/ab"),
        (None, lambda m: m.update(format="other"), "not a Chroma model file"),
        (None, lambda m: m.pop("work_size"), "metadata lacks work_size"),
        (None, lambda m: m.update(version=99), "newer Chroma"),
    ],
)
def test_mismatched_files_are_rejected_with_a_clear_message(tmp_path, tensors, meta, message) -> None:
    model = tiny()
    path = save_model(model, tmp_path / "m.safetensors", info_for(model, "m"))
    rewrite(path, tensors, meta)
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_non_model_files_are_rejected(tmp_path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(ModelFileError, match="not a readable safetensors"):
        read_info(junk)
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(ModelFileError, match="no chroma metadata"):
        load_model(plain)
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "missing.safetensors")


def test_store_lists_builtin_then_user_and_imports(tmp_path) -> None:
    builtin, user = tmp_path / "builtin", tmp_path / "user"
    builtin.mkdir()
    for name in ("fast", "default"):
        m = tiny()
        save_model(m, builtin / f"{name}.safetensors", info_for(m, name))
    (builtin / "broken.safetensors").write_bytes(b"junk")
    store = ModelStore(builtin, user)
    assert store.names() == ["default", "fast"]
    assert store.default_name() == "default"

    shared = tmp_path / "shared" / "grandma.safetensors"
    m = tiny(head="ab")
    save_model(m, shared, info_for(m, "grandma"))
    shared.with_suffix(".md").write_text("# card")
    entry = store.import_file(shared)
    assert entry.name == "grandma" and not entry.builtin and entry.card() == "# card"
    assert store.names() == ["default", "fast", "grandma"]
    assert store.load("grandma").info.output_kind == "ab"
    assert store.find(shared).path == shared  # a path works as a reference too
    with pytest.raises(FileExistsError):
        store.import_file(shared)
    with pytest.raises(ValueError, match="built-in"):
        store.user_model_path("default")
    with pytest.raises(ValueError, match="built in"):
        store.delete("default")
    assert store.unique_name("grandma") == "grandma-2"
    store.delete("grandma")
    assert "grandma" not in store.names()
    with pytest.raises(ModelFileError, match="no such model"):
        store.find("grandma")


def test_store_refuses_to_import_a_broken_file(tmp_path) -> None:
    bad = tmp_path / "bad.safetensors"
    save_file({"w": torch.zeros(2)}, str(bad))
    store = ModelStore(tmp_path / "b", tmp_path / "u")
    with pytest.raises(ModelFileError):
        store.import_file(bad)
    assert store.names() == []


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden", "x" * 80])
def test_bad_model_names_are_refused(tmp_path, name) -> None:
    with pytest.raises(ValueError):
        ModelStore(tmp_path / "b", tmp_path / "u").user_model_path(name)
