"""Every registered model family honours the ColorModel contract; ECCV16 matches the authors' release.

Families run at narrow widths so the whole file stays fast on a 2-core CPU.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from ml_core.modelfiles.modelfile import ModelFileError, info_for, load_model, save_model
from ml_core.models import available, create, model_class
from ml_core.models.eccv16 import convert_official_state_dict, load_official_checkpoint

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
ECCV16_PARAMETERS = 32_236_011

SIZES = [(64, 64), (96, 128), (128, 160)]


def _cases() -> list:
    """(arch, tiny config) for every registered family: each declares its own `test_configs`."""
    out = []
    for arch in available():
        for i, cfg in enumerate(model_class(arch).test_configs or [None]):
            out.append(pytest.param(arch, cfg, id=f"{arch}-{i}-{(cfg or {}).get('head', 'default')}"))
    return out


def _build(arch: str, cfg: dict | None):
    if cfg is None:
        pytest.fail(f"family {arch!r} has no small test config: declare test_configs in its module")
    torch.manual_seed(0)
    return create(arch, **cfg)


def _randomize(model) -> None:
    """Perturb every tensor, buffers included, so a round trip that drops anything shows."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.is_floating_point():
                noise = torch.rand(t.shape, generator=g) * 0.5 + 0.75 if "running_var" in name else \
                    torch.randn(t.shape, generator=g) * 0.1
                t.copy_(noise)


@pytest.mark.parametrize("arch,cfg", _cases())
def test_forward_shapes_and_decode(arch: str, cfg: dict | None) -> None:
    model = _build(arch, cfg).eval()
    for height, width in SIZES:
        h, w = model.input_size_for(height, width, max(height, width))
        if model.fixed_input is None:
            assert h % model.size_multiple == 0 and w % model.size_multiple == 0
        x = torch.randn(2, 1, h, w) * 0.3
        with torch.no_grad():
            raw = model(x)
        assert raw.shape == (2, model.out_channels, *model.output_size(h, w))
        chroma, conf = model.decode(raw, 0.38)
        assert chroma.shape == (2, 2, *raw.shape[-2:])
        assert torch.isfinite(chroma).all()
        if model.output_kind == "ab":
            assert conf is None
        else:
            assert conf is not None and conf.shape == (2, 1, *raw.shape[-2:])
            assert conf.min() >= 0.0 and conf.max() <= 1.0


@pytest.mark.parametrize("arch,cfg", _cases())
def test_config_rebuilds_identical_module(arch: str, cfg: dict | None) -> None:
    model = _build(arch, cfg)
    twin = create(arch, **model.config)
    assert twin.config == model.config
    assert {k: v.shape for k, v in twin.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    assert (twin.space.name, twin.output_kind) == (model.space.name, model.output_kind)


@pytest.mark.parametrize("arch,cfg", _cases())
def test_save_load_round_trip(arch: str, cfg: dict | None, tmp_path: Path) -> None:
    model = _build(arch, cfg)
    _randomize(model)
    model.eval()
    path = save_model(model, tmp_path / "m.safetensors", info_for(model, "m"))
    loaded = load_model(path)
    assert loaded.info.arch == arch and loaded.info.config == model.config
    h, w = model.input_size_for(64, 96, 96)
    x = torch.randn(1, 1, h, w) * 0.3
    with torch.no_grad():
        assert torch.equal(model(x), loaded.model(x))


@pytest.mark.parametrize("arch,cfg", _cases())
def test_encoder_parameters_and_backward(arch: str, cfg: dict | None) -> None:
    model = _build(arch, cfg).train()
    enc = {id(p) for p in model.encoder_parameters()}
    params = {id(p) for p in model.parameters()}
    assert enc and enc < params
    h, w = model.input_size_for(64, 64, 64)
    raw = model(torch.randn(2, 1, h, w) * 0.3)
    raw.square().mean().backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, f"{name} gets no gradient"
            assert torch.isfinite(p.grad).all(), name


# --- ECCV16: the authors' layout and checkpoint import -------------------------------------------------


@pytest.fixture(scope="module")
def eccv16_full():
    torch.manual_seed(0)
    return create("eccv16")


def _reference_shapes() -> dict[str, list[int]]:
    path = REFERENCE / "eccv16_state_dict.txt"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    shapes = {}
    for line in path.read_text().splitlines():
        if line.strip():
            key, shape = line.split()
            shapes[key] = [int(n) for n in re.findall(r"\d+", shape)]
    return shapes


def test_eccv16_matches_published_layout(eccv16_full) -> None:
    ref = _reference_shapes()
    ours = {k: list(v.shape) for k, v in eccv16_full.state_dict().items()}
    assert ours == ref
    assert sum(p.numel() for p in eccv16_full.parameters()) == ECCV16_PARAMETERS
    assert not eccv16_full.model_out.weight.requires_grad
    with torch.no_grad():
        assert eccv16_full.eval()(torch.zeros(1, 1, 64, 64)).shape == (1, 313, 16, 16)


def test_eccv16_bin_centers() -> None:
    from ml_core.color.quantize import gamut_bin_centers
    from ml_core.models.eccv16 import eccv16_bin_centers

    gamut = gamut_bin_centers()
    centers = eccv16_bin_centers(313)
    assert centers.shape == (313, 2) and torch.equal(centers, eccv16_bin_centers(313))
    assert len({tuple(c) for c in centers.tolist()}) == 313
    assert {tuple(c) for c in gamut.tolist()} <= {tuple(c) for c in centers.tolist()}
    assert torch.all(centers % 10 == 0)
    assert torch.equal(eccv16_bin_centers(len(gamut)), gamut)
    model = create("eccv16", width=0.125)
    assert torch.allclose(model.ab_bins().centers, centers, atol=1e-4)
    with pytest.raises(ValueError):
        create("eccv16", width=0.125, classes=len(gamut) - 1)


def test_eccv16_official_import(eccv16_full, tmp_path: Path) -> None:
    source = create("eccv16")
    _randomize(source)
    source.eval()
    path = tmp_path / "colorization_release_v2.pth"
    torch.save({f"module.{k}": v for k, v in source.state_dict().items()}, path)
    loaded = load_official_checkpoint(path)
    assert loaded.info.name == "colorization_release_v2"
    assert loaded.info.arch == "eccv16" and loaded.info.work_size == 256
    assert loaded.info.training["imported_from"] == path.name
    assert "Zhang" in loaded.info.description
    stored = source.model_out.weight[:, :, 0, 0].T * 110
    assert torch.allclose(loaded.model.ab_bins().centers, stored)
    x = torch.randn(1, 1, 64, 64) * 0.3
    with torch.no_grad():
        assert torch.equal(source(x), loaded.model(x))
    # The same tensors wrapped the ways training scripts save them.
    sd = source.state_dict()
    for wrapped in ({"state_dict": sd}, {"model": {f"module.{k}": v for k, v in sd.items()}}):
        converted = convert_official_state_dict(wrapped)
        assert converted.keys() == sd.keys() and all(torch.equal(converted[k], sd[k]) for k in sd)


def test_eccv16_import_rejects_wrong_layout(eccv16_full) -> None:
    sd = dict(eccv16_full.state_dict())
    missing = {k: v for k, v in sd.items() if k != "model5.4.bias"}
    with pytest.raises(ModelFileError, match=r"model5\.4\.bias"):
        convert_official_state_dict(missing)
    wrong = dict(sd, **{"model3.2.weight": torch.zeros(256, 256, 1, 1)})
    with pytest.raises(ModelFileError, match=r"model3\.2\.weight"):
        convert_official_state_dict(wrong)
    extra = dict(sd, **{"model9.0.weight": torch.zeros(1)})
    with pytest.raises(ModelFileError, match=r"model9\.0\.weight"):
        convert_official_state_dict(extra)


class NotATensor:
    """A harmless custom object: loading it would still mean importing and constructing code."""

    def __init__(self) -> None:
        self.payload = "anything"


def test_eccv16_import_refuses_code_pickles(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"model1.0.weight": NotATensor()}, path)
    with pytest.raises(ModelFileError, match="refused"):
        load_official_checkpoint(path)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelFileError):
        load_official_checkpoint(junk)
    with pytest.raises(ModelFileError):
        load_official_checkpoint(tmp_path / "absent.pth")
