"""Trainer: fine-tuning learns, determinism, cancel/checkpoint, resume == uninterrupted, NaN guard."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save

import ml_core.training.losses as losses_mod
from ml_core.cancel import CancelToken
from ml_core.modelfiles.modelfile import ModelFileError, info_for, load_model, read_info, save_model
from ml_core.models import available, create, model_class
from ml_core.training.card import shown_folder
from ml_core.training.checkpoint import list_runs, load_checkpoint
from ml_core.training.synthetic import write_synthetic_photos
from ml_core.training.trainer import NotEnoughPhotos, TrainCallbacks, TrainConfig, Trainer, TrainError, TrainingDiverged

TINY = dict(width=8, depth=2, stem_stride=2)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMA_DATA_DIR", str(tmp_path / "user-data"))
    monkeypatch.setenv("CHROMA_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("CHROMA_RESOURCES_DIR", str(tmp_path / "resources"))


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    write_synthetic_photos(folder, 24, size=(40, 48), seed=11, subfolders=4)
    return folder


class Recorder(TrainCallbacks):
    def __init__(self, cancel_at: int | None = None, token: CancelToken | None = None) -> None:
        self.steps, self.epochs, self.checkpoints, self.starts, self.finished = [], [], [], [], []
        self.cancel_at, self.token = cancel_at, token

    def on_start(self, info):
        self.starts.append(info)

    def on_step(self, p):
        self.steps.append(p)
        if self.cancel_at is not None and p.step == self.cancel_at:
            self.token.cancel()

    def on_epoch(self, e):
        self.epochs.append(e)

    def on_checkpoint(self, path, reason):
        self.checkpoints.append((Path(path), reason))

    def on_finish(self, result):
        self.finished.append(result)


def _config(photos: Path, name: str, **kw) -> TrainConfig:
    base = dict(data=[str(photos)], arch="unet", arch_config=dict(TINY, head="ab"), epochs=2, batch_size=6,
                size=32, lr=3e-3, val_fraction=0.25, name=name, workers=0, preview_count=2)
    base.update(kw)
    return TrainConfig(**base)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def test_twenty_step_finetune_lowers_validation_loss_and_saves_a_documented_model(photos, tmp_path):
    torch.manual_seed(0)
    base = create("unet", **TINY, head="ab")
    base_path = save_model(base, tmp_path / "base.safetensors", info_for(base, "base", 64))
    rec = Recorder()
    cfg = _config(photos, "tuned", base=str(base_path), arch=None, arch_config={}, epochs=None, steps=20, lr=5e-3)
    result = Trainer(cfg, rec).run()

    assert result.status == "completed" and result.steps_completed == 20
    assert [p.step for p in rec.steps] == list(range(1, 21))
    assert all(p.total_steps == 20 and p.eta_seconds >= 0 and p.loss > 0 for p in rec.steps)
    first, last = rec.epochs[0], rec.epochs[-1]
    assert first.epoch == 0 and first.train_loss is None  # the starting model, validated before training
    best = min(e.val_loss for e in rec.epochs[1:])
    assert best < first.val_loss * 0.9  # 0.087 -> 0.072 here; BatchNorm statistics lag behind
    assert last.step == 20 and set(first.metrics) >= {"psnr", "auc", "auc_rebalanced", "gray_psnr", "gray_auc"}
    for s in last.samples:
        assert s.gray.shape == s.prediction.shape == s.truth.shape == (32, 32, 3) and s.prediction.dtype == np.uint8
        assert np.ptp(s.gray.astype(int) - s.gray[..., :1]) == 0  # gray input really is gray

    loaded = load_model(result.model_path)  # a normal model file in the user's store
    assert result.model_path == tmp_path / "user-data" / "models" / "tuned.safetensors"
    info = loaded.info
    assert info.work_size == 64 and info.training["base"] == str(base_path)
    assert info.training["steps_completed"] == 20 and info.training["data"]["train"] == 18
    assert info.metrics["val_loss"] == pytest.approx(result.best_value)
    card = result.card_path.read_text()
    assert result.card_path == result.model_path.with_suffix(".md")
    assert "gray baseline" in card and "Fine-tuned from" in card and shown_folder(str(photos.resolve())) in card


def test_same_seed_same_loss_curve_and_another_seed_differs(photos):
    curves = []
    for name, seed, workers in (("a", 3, 0), ("b", 3, 2), ("c", 4, 0)):
        rec = Recorder()
        Trainer(_config(photos, name, seed=seed, lightness_jitter=0.1, workers=workers, epochs=1), rec).run()
        curves.append([p.loss for p in rec.steps])
    assert curves[0] == curves[1]  # also independent of the number of DataLoader workers
    assert curves[0] != curves[2]


def test_cancel_mid_epoch_leaves_a_loadable_checkpoint(photos):
    token = CancelToken()
    rec = Recorder(cancel_at=2, token=token)  # 3 steps per epoch: stop inside epoch 1
    result = Trainer(_config(photos, "stopped"), rec, token).run()
    assert result.status == "cancelled" and result.steps_completed == 2
    assert rec.checkpoints == [(result.checkpoint_path, "cancel")]
    state = torch.load(result.checkpoint_path, weights_only=True)  # plain tensors and numbers only
    assert (state["step"], state["epoch"], state["batch"]) == (2, 0, 2)
    model = create(state["arch"], **json.loads(state["arch_config"]))
    model.load_state_dict(state["model"])
    meta = json.loads((result.run_dir / "run.json").read_text())
    assert meta["status"] == "cancelled" and meta["progress"]["step"] == 2
    (run,) = [r for r in list_runs() if r.name == result.run_name]
    assert run.resumable and run.total_steps == 6


def test_resume_reaches_the_same_weights_as_an_uninterrupted_run(photos):
    kw = dict(arch_config=dict(TINY, head="bins313"), lightness_jitter=0.1, optimizer="adamw", prior_images=8)
    full = Trainer(_config(photos, "full", **kw), Recorder()).run()

    token = CancelToken()
    first = Recorder(cancel_at=4, token=token)  # inside the second epoch
    part = Trainer(_config(photos, "parts", **kw), first, token).run()
    assert part.status == "cancelled" and part.steps_completed == 4
    second = Recorder()
    resumed = Trainer.for_run(part.run_name, second).run()
    assert resumed.status == "completed" and second.starts[0].resumed and second.starts[0].start_step == 4
    assert [p.step for p in second.steps] == [5, 6]

    a, b = _weights(full.checkpoint_path), _weights(resumed.checkpoint_path)
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=1e-6), key
    assert torch.equal(load_checkpoint(full.checkpoint_path)["class_weights"],
                       load_checkpoint(resumed.checkpoint_path)["class_weights"])
    assert [h["val_loss"] for h in full.history] == pytest.approx([h["val_loss"] for h in resumed.history])
    assert resumed.best_epoch == full.best_epoch


def test_nan_guard_stops_without_saving_a_broken_model(photos, monkeypatch):
    real = losses_mod.mse_loss

    class PoisonAfterEpoch1(Recorder):
        poison = False

        def on_epoch(self, e):
            super().on_epoch(e)
            self.poison = True  # the next training step's loss is NaN

    rec = PoisonAfterEpoch1()

    def poisoned(pred, target):
        loss = real(pred, target)
        return loss * float("nan") if rec.poison else loss

    monkeypatch.setattr(losses_mod, "mse_loss", poisoned)
    with pytest.raises(TrainingDiverged, match="nan.*learning rate"):
        Trainer(_config(photos, "diverges", val_fraction=0.25, batch_size=6), rec).run()
    assert [p.step for p in rec.steps] == [1, 2, 3]
    (epoch,) = [e for e in rec.epochs if e.epoch == 1]
    model_path = epoch.model_path
    loaded = load_model(model_path)  # the epoch-1 model is intact and finite
    assert all(torch.isfinite(v).all() for v in loaded.model.state_dict().values() if v.is_floating_point())
    assert read_info(model_path).training["steps_completed"] == 3
    meta = json.loads((model_path.parent.parent / "runs" / "diverges" / "run.json").read_text())
    assert meta["status"] == "failed" and "nan" in meta["message"]
    assert load_checkpoint(model_path.parent.parent / "runs" / "diverges" / "checkpoint.pt")["step"] == 3


def test_pause_blocks_between_steps_and_resume_continues(photos):
    token = CancelToken()
    resumed_at: list[int] = []

    class Pauser(Recorder):
        def on_step(self, p):
            super().on_step(p)
            if p.step == 2:
                token.pause()
                timer = threading.Timer(0.3, lambda: (resumed_at.append(len(self.steps)), token.resume()))
                timer.start()

    rec = Pauser()
    result = Trainer(_config(photos, "paused", epochs=1), rec, token).run()
    assert result.status == "completed" and resumed_at == [2] and len(rec.steps) == 3


def test_freeze_encoder_trains_only_the_decoder(photos):
    torch.manual_seed(0)
    base = create("unet", **TINY, head="ab")
    before = {k: v.clone() for k, v in base.state_dict().items()}
    path = save_model(base, Path(photos).parent / "frozen-base.safetensors", info_for(base, "b"))
    result = Trainer(_config(photos, "frozen", base=str(path), arch=None, arch_config={}, epochs=1,
                             freeze_encoder=True, validate_first=False)).run()
    after = load_model(result.model_path).model.state_dict()
    enc = {n for n, _ in base.named_parameters() if n.split(".")[0] in ("stem", "down", "bottleneck")}
    enc |= {n.replace("weight", "running_mean") for n in enc} | {n.replace("weight", "running_var") for n in enc}
    for key, value in before.items():
        if key in enc:
            assert torch.equal(after[key], value), key
    assert not torch.equal(after["head.weight"], before["head.weight"])


def test_bad_settings_and_too_few_photos_are_explained(tmp_path, photos):
    with pytest.raises(TrainError, match="base model .* or an architecture"):
        Trainer(TrainConfig(data=[str(photos)])).run()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no photos here")
    with pytest.raises(TrainError, match="not enough usable photos.*1 not_image"):
        Trainer(_config(empty, "none")).run()
    with pytest.raises(TrainError, match="cannot resume"):
        Trainer.for_run("never-ran")
    with pytest.raises(TrainError, match="cannot resume"):
        Trainer(TrainConfig(resume=True, run_name="never-ran")).run()


def test_too_few_photos_is_its_own_error_with_the_counts(tmp_path, photos):
    folder = tmp_path / "two"
    folder.mkdir()
    for p in sorted(photos.rglob("*.png"))[:2]:  # 2 usable photos: one goes to validation, one is too few
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "notes.txt").write_text("not a photo")
    with pytest.raises(NotEnoughPhotos) as caught:
        Trainer(_config(folder, "few", val_fraction=0.5)).run()
    assert (caught.value.usable, caught.value.train, caught.value.skipped["not_image"]) == (2, 1, 1)
    assert isinstance(caught.value, TrainError)  # callers that only know TrainError still catch it


def test_the_window_imports_config_and_events_without_torch():
    code = ("import sys; import ml_core.training.config, ml_core.training.events; "
            "ml_core.training.config.TrainConfig(); print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr


def test_names_never_replace_an_existing_model(photos):
    a = Trainer(_config(photos, "same", epochs=1)).run()
    b = Trainer(_config(photos, "same", epochs=1)).run()
    assert a.model_name == "same" and b.model_name == "same-2" and a.model_path != b.model_path


def train_two_steps(photos: Path, arch: str):
    """Two steps of the family's smallest declared test config (shared with the new-family test)."""
    config = model_class(arch).test_configs[0]
    return Trainer(_config(photos, f"fam-{arch}", arch=arch, arch_config=dict(config), epochs=None, steps=2,
                           val_fraction=0.1, max_val_images=2, min_side=16)).run()


@pytest.mark.parametrize("arch", available())
def test_every_model_family_trains_a_step(photos, arch):
    result = train_two_steps(photos, arch)
    assert result.status == "completed" and math.isfinite(result.best_value)
    assert load_model(result.model_path).info.arch == arch


THROWAWAY_FAMILY = """
import torch
from torch import nn

from ml_core.modelfiles.rules import integer
from ml_core.models import ColorModel, register


@register
class Throwaway(ColorModel):
    arch = "throwaway"
    description = "Two 1x1 convolutions: a family written for one test"
    size_multiple = 1
    test_configs = (dict(width=3),)
    config_rules = {"width": integer(1, 8)}

    def __init__(self, *, width: int = 4) -> None:
        super().__init__(space="lab", output_kind="ab", config=dict(width=width))
        self.encoder = nn.Sequential(nn.Conv2d(self.in_channels, width, 1), nn.BatchNorm2d(width), nn.ReLU())
        self.head = nn.Conv2d(width, 2, 1)

    def forward(self, lum: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(lum))

    def encoder_parameters(self):
        return self.encoder.parameters()
"""


def test_a_family_is_one_module_and_nothing_else(photos, tmp_path, monkeypatch, capsys):
    """A new family written as one module of a package (here a throw-away one, so the real
    registry is untouched) is listed, offered by the CLI, trained by the loop above, and its
    model files are checked by the rules it states itself."""
    from ml_core.cli import main
    from ml_core.models import _registry, load_families

    package = tmp_path / "more_families"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "throwaway.py").write_text(THROWAWAY_FAMILY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    assert load_families("more_families") == ["throwaway"]
    assert "throwaway" in available()
    assert main(["models", "architectures"]) == 0
    assert "throwaway    Two 1x1 convolutions" in capsys.readouterr().out
    result = train_two_steps(photos, "throwaway")  # what test_every_model_family_trains_a_step runs per family
    assert result.status == "completed" and math.isfinite(result.best_value)
    assert load_model(result.model_path).info.arch == "throwaway"
    # Its own bound (1..8), not the ±4096 a family without rules gets: the rules were picked up.
    raw = json.loads(read_info(result.model_path).to_json())
    raw["config"]["width"] = 9
    hostile = tmp_path / "wide.safetensors"
    hostile.write_bytes(save(load_file(str(result.model_path)), metadata={"chroma": json.dumps(raw)}))
    with pytest.raises(ModelFileError, match=r"wide\.safetensors.*'config\.width' must be from 1 to 8, got 9"):
        load_model(hostile)


def test_cancel_while_scanning_writes_nothing(photos, tmp_path):
    token = CancelToken()

    class CancelOnScan(Recorder):
        def on_scan(self, done, total):
            token.cancel()

    rec = CancelOnScan()
    result = Trainer(_config(photos, "early"), rec, token).run()
    assert result.status == "cancelled" and result.steps_completed == 0 and result.checkpoint_path is None
    assert not (tmp_path / "user-data" / "runs" / "early").exists() and rec.finished == [result]


def test_validation_cap_returns_surplus_photos_to_training(photos):
    rec = Recorder()
    Trainer(_config(photos, "capped", epochs=1, val_fraction=0.5, max_val_images=2), rec).run()
    (start,) = rec.starts
    assert start.val_images == 2 and start.train_images == 22


def test_a_fine_tune_inherits_its_base_temperature(photos, tmp_path):
    torch.manual_seed(0)
    base = create("unet", **TINY)
    info = info_for(base, "base", 64)
    info.temperature = 0.47
    base_path = save_model(base, tmp_path / "base.safetensors", info)
    cfg = _config(photos, "tuned-t", base=str(base_path), arch=None, arch_config={}, epochs=None, steps=2)
    result = Trainer(cfg).run()
    assert read_info(result.model_path).temperature == 0.47


def test_init_from_warm_starts_an_arch_run_with_input_levels_damage_and_balance(photos, tmp_path):
    torch.manual_seed(0)
    donor = create("unet", **TINY)
    donor_path = save_model(donor, tmp_path / "donor.safetensors", info_for(donor, "donor", 64))
    cfg = _config(photos, "warm", arch_config=dict(TINY, input_levels=True), init_from=str(donor_path), epochs=None,
                  steps=1, damage=0.5, source_balance=0.5, lr=1e-12, validate_first=True)
    rec = Recorder()
    result = Trainer(cfg, rec).run()
    loaded = load_model(result.model_path)
    assert loaded.info.config["input_levels"] is True
    # With a vanishing learning rate the weights are the donor's (BatchNorm statistics move, weights don't).
    assert torch.allclose(loaded.model.head.weight, donor.head.weight, atol=1e-6)
    # The card says where the weights came from (by file name) and how the inputs were damaged.
    card = result.model_path.with_suffix(".md").read_text()
    assert "started from the weights of `donor.safetensors`" in card and "from scratch" not in card
    assert "| damage | 0.5 |" in card and "| source balance | 0.5 |" in card
    bad = _config(photos, "bad", arch_config=dict(TINY, width=12), init_from=str(donor_path), steps=1)
    with pytest.raises(TrainError, match="do not fit"):
        Trainer(bad).run()
    with pytest.raises(TrainError, match="damage"):
        Trainer(_config(photos, "bad2", damage=2.0)).run()


def test_the_card_names_data_folders_relative_to_where_training_ran(tmp_path, monkeypatch):
    from ml_core.training.card import render_card

    repo, shared = tmp_path / "repo", tmp_path / "shared" / "photos" / "train" / "birds"
    repo.mkdir()
    monkeypatch.chdir(repo)
    training = {"data": {"folders": [str(shared), str(repo / "my photos")], "usable": 3, "train": 2, "val": 1}}
    card = render_card("m", "unet", {}, training, {})
    assert "- `../shared/photos/train/birds`" in card and "- `my photos`" in card
    assert str(tmp_path) not in card  # nothing that names this machine's layout
