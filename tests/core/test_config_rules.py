"""Each model family states what its settings accept (`config_rules` beside its constructor), and a
model file is checked by those rules before anything is built from it.

The throw-away family of tests/core/test_train.py checks that a new family's own rules are picked
up; these tests cover the registered families and a family that states none.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save
from torch import nn

from ml_core.modelfiles.meta import MetadataError, check_config, estimated_parameters
from ml_core.modelfiles.modelfile import ModelFileError, info_for, load_model
from ml_core.models import ColorModel, _registry, available, create, model_class, register


def constructor_settings(cls: type) -> set[str]:
    params = inspect.signature(cls.__init__).parameters
    return {name for name, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


@pytest.mark.parametrize("arch", available())
def test_every_family_states_a_rule_for_each_setting_and_only_those(arch: str) -> None:
    # A setting without a rule would make the family's own saved files unreadable; a rule for a
    # setting the constructor lacks would let a file reach it with an unknown keyword.
    cls = model_class(arch)
    assert cls.config_rules is not None, f"{arch} states no config_rules"
    assert set(cls.config_rules) == constructor_settings(cls)


def model_file(folder: Path, arch: str, change: dict[str, Any] | None = None) -> Path:
    """A real file of the family's smallest test model, its config changed by `change`."""
    torch.manual_seed(0)
    model = create(arch, **model_class(arch).test_configs[0])
    meta = json.loads(info_for(model, f"tiny-{arch}").to_json())
    meta["config"].update(change or {})
    tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    path = folder / f"{arch}.safetensors"
    path.write_bytes(save(tensors, metadata={"chroma": json.dumps(meta)}))
    return path


@pytest.mark.parametrize("arch", available())
def test_a_bad_config_value_names_the_file_and_the_key_for_every_family(tmp_path: Path, arch: str) -> None:
    assert load_model(model_file(tmp_path, arch)).info.arch == arch  # the unchanged file loads
    for key in model_class(arch).config_rules:
        for bad in ("wide", 10**9):  # text, and a number beyond every bound any family states
            path = model_file(tmp_path, arch, {key: bad})
            with pytest.raises(ModelFileError) as caught:
                load_model(path)
            message = str(caught.value)
            assert str(path) in message and f"'config.{key}'" in message, message


@pytest.mark.parametrize("arch", available())
def test_the_size_check_counts_each_family_exactly_without_building_it(arch: str) -> None:
    config = dict(model_class(arch).test_configs[-1])
    model = create(arch, **config)
    real = sum(t.numel() for t in model.parameters()) + sum(t.numel() for t in model.buffers())
    assert estimated_parameters(arch, config) == real


def test_a_family_builds_its_own_tables_before_the_count() -> None:
    # 400 classes: a bin table no other test has cached, so only ECCV16.prepare_tables makes it
    # before the constructor runs on the meta device (which cannot compute it).
    counted = estimated_parameters("eccv16", {"width": 0.05, "classes": 400})  # first: nothing cached yet
    model = create("eccv16", width=0.05, classes=400)
    assert counted == sum(t.numel() for t in model.parameters()) + sum(t.numel() for t in model.buffers())
    assert estimated_parameters("eccv16", {"classes": 5}) is None  # refused by the constructor's own check


class NoRules(ColorModel):
    """A family that states no rules: its files still carry scalars only, each as its own type."""

    arch = "no_rules"

    def __init__(self, *, width: int = 4, gain: float = 1.0, head: str = "ab") -> None:
        super().__init__(space="lab", output_kind="ab", config=dict(width=width, gain=gain, head=head))
        self.head = nn.Conv2d(self.in_channels, 2, 1)


def test_a_family_without_rules_gets_scalars_under_its_constructor_names(monkeypatch) -> None:
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    register(NoRules)
    checked = check_config("no_rules", {"width": 3, "gain": 0.5, "head": "ab"})
    assert checked == {"width": 3, "gain": 0.5, "head": "ab"} and type(checked["width"]) is int
    with pytest.raises(MetadataError, match="config.depth.*settings: gain, head, width"):
        check_config("no_rules", {"depth": 2})
    with pytest.raises(MetadataError, match="config.width"):
        check_config("no_rules", {"width": 10**6})


def test_the_metadata_checker_imports_without_torch() -> None:
    code = ("import sys; import ml_core.modelfiles.meta, ml_core.modelfiles.rules; "
            "print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr
