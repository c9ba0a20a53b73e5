"""The packed-corpus path: pack a folder, load it, draw augmented batches, train for a tiny budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ml_core.modelfiles.modelfile import load_model
from ml_core.training.packed import PackedCorpus, PackError, pack_corpus


@pytest.fixture
def corpus_dir(tmp_path: Path, fixture_photos: list[Path]) -> Path:
    """Two sources (first-level folders) of real photos, one of them held out by name."""
    root = tmp_path / "corpus"
    for i, photo in enumerate(fixture_photos):
        folder = root / ("a" if i < 5 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / photo.name).write_bytes(photo.read_bytes())
    (root / "held_out").mkdir()
    (root / "held_out" / "x.jpg").write_bytes(fixture_photos[0].read_bytes())
    return root


def test_pack_roundtrip_sources_and_exclusion(tmp_path: Path, corpus_dir: Path) -> None:
    out = tmp_path / "c.pack"
    summary = pack_corpus([corpus_dir], out, side=64, max_mib=1.0, exclude=["held_out"])
    assert summary.skipped["excluded"] == 1
    assert summary.photos == len(list((corpus_dir / "a").iterdir())) + len(list((corpus_dir / "b").iterdir()))
    assert sorted(summary.sources) == ["corpus/a", "corpus/b"]
    corpus = PackedCorpus.load(out)
    assert corpus.photos.shape == (summary.photos, 3, 64, 64) and corpus.photos.dtype == torch.uint8
    # Balanced weights give each source the same total share.
    idx = torch.arange(len(corpus))
    w = corpus.weights(idx, 1.0)
    shares = [float(w[corpus.source == s].sum() / w.sum()) for s in range(len(corpus.sources))]
    assert shares == pytest.approx([0.5, 0.5])


def test_pack_fits_the_size_limit_by_lowering_quality(tmp_path: Path, corpus_dir: Path) -> None:
    roomy = pack_corpus([corpus_dir], tmp_path / "a.pack", side=96, max_mib=5.0)
    tight = pack_corpus([corpus_dir], tmp_path / "b.pack", side=96, max_mib=roomy.bytes * 0.7 / 2**20)
    assert tight.quality < roomy.quality
    assert tight.bytes <= roomy.bytes * 0.7
    with pytest.raises(PackError, match="MiB"):
        pack_corpus([corpus_dir], tmp_path / "c.pack", side=96, max_mib=0.001)


def test_batches_are_seeded_crops_of_the_right_size(tmp_path: Path, corpus_dir: Path) -> None:
    pack_corpus([corpus_dir], tmp_path / "c.pack", side=64, max_mib=1.0)
    corpus = PackedCorpus.load(tmp_path / "c.pack")
    idx = torch.tensor([0, 1, 2, 3])
    a = corpus.batch(idx, 32, torch.Generator().manual_seed(1))
    b = corpus.batch(idx, 32, torch.Generator().manual_seed(1))
    c = corpus.batch(idx, 32, torch.Generator().manual_seed(2))
    assert a.shape == (4, 3, 32, 32) and a.dtype == torch.uint8
    assert torch.equal(a, b) and not torch.equal(a, c)
    # A full-area crop without flip is the whole photo, resized.
    whole = corpus.batch(idx, 64, torch.Generator().manual_seed(0), scale=(1.0, 1.0), flip=False)
    assert (whole.float() - corpus.photos[idx].float()).abs().mean() < 1.0


def test_damaged_pack_is_refused_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pack"
    bad.write_bytes(b"not a pack at all")
    with pytest.raises(PackError, match="bad.pack"):
        PackedCorpus.load(bad)


@pytest.mark.slow
def test_train_packed_writes_an_fp16_model_and_card(tmp_path: Path, corpus_dir: Path) -> None:
    pack = tmp_path / "c.pack"
    pack_corpus([corpus_dir], pack, side=64, max_mib=1.0)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "ml_core.cli", "train-packed", str(pack), "--out-dir", str(out), "--name", "tiny",
         "--minutes", "0.05", "--batch-size", "4", "--size", "32", "--set", "width=8", "--set", "depth=2",
         "--set", "stem_stride=4", "--set", "input_levels=true", "--val-photos", "2", "--device", "cpu"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    loaded = load_model(out / "tiny.safetensors")
    assert loaded.info.training["settings"]["schedule"] == "cosine over the time budget"
    assert loaded.info.config["input_levels"] is True
    assert "val_loss" in loaded.info.metrics
    from safetensors import safe_open

    with safe_open(str(out / "tiny.safetensors"), "pt") as f:
        assert f.get_tensor(next(k for k in f.keys() if k.endswith("weight"))).dtype == torch.float16
    assert (out / "tiny.md").read_text().startswith("# tiny")
