"""Training data: scanning (skip reasons, cache), split, crops, batch preparation."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ml_core.color.spaces import LAB, YUV, rgb_to_lab
from ml_core.training.data import (
    Augment,
    PhotoDataset,
    cache_side_for,
    epoch_batches,
    prepare_batch,
    random_box,
    scan_photos,
    split_photos,
)
from ml_core.training.synthetic import synthetic_photo, write_synthetic_photos


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMA_DATA_DIR", str(tmp_path / "user-data"))
    monkeypatch.setenv("CHROMA_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("CHROMA_RESOURCES_DIR", str(tmp_path / "resources"))


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = Path(root) / name
            key = str(p.relative_to(folder))
            out[key] = (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
    return out


def _make_messy_folder(folder: Path) -> None:
    rng = np.random.default_rng(3)
    write_synthetic_photos(folder / "trip", 3, size=(80, 96), seed=1)
    write_synthetic_photos(folder / "home", 2, size=(80, 96), seed=2, fmt="jpg")
    (folder / "notes.txt").write_text("not a photo")
    (folder / "trip" / "Thumbs.db").write_bytes(b"\0" * 64)
    (folder / ".hidden.jpg").write_bytes(b"ignored: hidden")
    (folder / "broken.jpg").write_text("this is text pretending to be a JPEG")
    buf = io.BytesIO()
    Image.fromarray(synthetic_photo(rng, 120, 160)).save(buf, "JPEG", quality=90)
    (folder / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    Image.fromarray(synthetic_photo(rng, 20, 24)).save(folder / "tiny.png")
    gray = (np.linspace(0, 255, 80 * 96).reshape(80, 96)).astype(np.uint8)
    Image.fromarray(gray, "L").save(folder / "gray_l.png")
    Image.fromarray(np.repeat(gray[..., None], 3, axis=2)).save(folder / "gray_rgb.jpg", quality=90)
    sepia = np.stack([gray * 1.0, gray * 0.85, gray * 0.65], axis=2)
    Image.fromarray(np.clip(sepia + [12, 6, 0], 0, 255).astype(np.uint8)).save(folder / "sepia.png")
    pale = np.repeat(gray[..., None], 3, axis=2).astype(np.int16) + np.array([4, 0, -3])
    Image.fromarray(np.clip(pale, 0, 255).astype(np.uint8)).save(folder / "pale.png")


def test_scan_skips_each_bad_kind_counts_it_and_never_writes_into_the_folder(tmp_path):
    photos = tmp_path / "photos"
    _make_messy_folder(photos)
    before = _snapshot(photos)
    result = scan_photos([photos], size=64)
    assert _snapshot(photos) == before  # nothing created, changed or touched in the user's folder
    assert result.skipped == {"not_image": 2, "corrupt": 2, "too_small": 1, "grayscale": 2, "low_chroma": 2}
    reasons = {Path(p).name: r for p, r, _ in result.skipped_files}
    assert reasons == {
        "notes.txt": "not_image", "Thumbs.db": "not_image", "broken.jpg": "corrupt", "truncated.jpg": "corrupt",
        "tiny.png": "too_small", "gray_l.png": "grayscale", "gray_rgb.jpg": "grayscale", "sepia.png": "low_chroma",
        "pale.png": "low_chroma",
    }
    assert all(detail for _, _, detail in result.skipped_files)
    assert sorted(Path(it.path).name for it in result.items) == [
        "scene0000.jpg", "scene0000.png", "scene0001.jpg", "scene0001.png", "scene0002.png"]
    cache = tmp_path / "user-cache" / "thumbs"
    for it in result.items:
        assert Path(it.thumb).is_relative_to(cache)
        thumb = np.load(it.thumb)
        assert thumb.dtype == np.uint8 and thumb.shape[2] == 3
        assert min(thumb.shape[:2]) == min(80, cache_side_for(64))


def test_warm_cache_decodes_nothing_and_a_changed_file_is_decoded_again(tmp_path):
    photos = tmp_path / "photos"
    files = write_synthetic_photos(photos, 4, size=(64, 80))
    cold = scan_photos([photos], size=64)
    assert cold.decoded == 4 and len(cold.items) == 4
    warm = scan_photos([photos], size=64)
    assert warm.decoded == 0 and [it.path for it in warm.items] == [it.path for it in cold.items]
    st = files[0].stat()
    os.utime(files[0], ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    again = scan_photos([photos], size=64)
    assert again.decoded == 1
    bigger = scan_photos([photos], size=128)  # another cache side: its own thumbnails
    assert bigger.decoded == 4


def test_large_jpeg_decodes_reduced_and_upright(tmp_path):
    rng = np.random.default_rng(0)
    pixels = synthetic_photo(rng, 600, 1000)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.fromarray(pixels).save(tmp_path / "camera.jpg", quality=90, exif=exif)
    result = scan_photos([tmp_path], size=64)
    (item,) = result.items
    assert (item.width, item.height) == (600, 1000)  # upright: portrait
    thumb = np.load(item.thumb)
    assert thumb.shape[1] == cache_side_for(64) and thumb.shape[0] > thumb.shape[1]


def test_split_is_deterministic_and_keeps_subfolders_together(tmp_path):
    write_synthetic_photos(tmp_path / "p", 24, size=(48, 64), subfolders=6)
    items = scan_photos([tmp_path / "p"], size=32).items
    a_train, a_val = split_photos(items, 0.25, seed=7)
    b_train, b_val = split_photos(items, 0.25, seed=7)
    assert a_val == b_val and a_train == b_train
    assert len(a_val) == 6 and not set(a_val) & set(a_train)
    assert split_photos(items, 0.25, seed=8)[1] != a_val
    f_train, f_val = split_photos(items, 0.25, seed=7, by_folder=True)
    assert f_val and f_train
    assert not {it.group for it in f_val} & {it.group for it in f_train}
    assert split_photos(items, 0.0)[1] == []


def test_training_crops_depend_only_on_seed_epoch_and_index(tmp_path):
    write_synthetic_photos(tmp_path / "p", 3, size=(64, 96))
    photos = scan_photos([tmp_path / "p"], size=32)
    ds = PhotoDataset(photos.items, 32, train=True, seed=5, augment=Augment(lightness_jitter=0.2))
    a, ga, _ = ds[(0, 1)]
    b, gb, _ = ds[(0, 1)]
    assert a.shape == (3, 32, 32) and a.dtype == torch.uint8
    assert torch.equal(a, b) and ga == gb and ga != 1.0
    assert not torch.equal(ds[(1, 1)][0], a)
    val = PhotoDataset(photos.items, 32, train=False)
    assert torch.equal(val[1][0], val[(3, 1)][0]) and float(val[1][1]) == 1.0
    # Seed 000's crop keeps the aspect ratio: always a square box of the thumbnail.
    rng = np.random.default_rng(0)
    for _ in range(20):
        x0, y0, x1, y1 = random_box(60, 90, rng, Augment(crop="short_side"))
        assert abs((x1 - x0) - (y1 - y0)) < 1e-9 and 0 <= x0 and x1 <= 90 and 0 <= y0 and y1 <= 60


def test_prepare_batch_builds_input_and_target_in_the_models_space():
    rng = np.random.default_rng(1)
    rgb = torch.from_numpy(np.stack([synthetic_photo(rng, 16, 16) for _ in range(2)])).permute(0, 3, 1, 2)
    inp, lum, chroma = prepare_batch(rgb, None, LAB)
    lab = rgb_to_lab(rgb.float() / 255)
    assert torch.allclose(chroma, lab[:, 1:]) and torch.allclose(inp, (lab[:, :1] - 50) / 100)
    jit, _, chroma2 = prepare_batch(rgb, torch.tensor([1.2, 0.8]), LAB)
    assert torch.equal(chroma2, chroma) and not torch.allclose(jit, inp)
    yin, ylum, ychroma = prepare_batch(rgb, None, YUV)
    assert ychroma.shape == (2, 2, 16, 16) and torch.allclose(yin, ylum - 0.5)


def test_epoch_batches_shard_a_global_batch_across_ranks():
    single = epoch_batches(20, 4, seed=3, epoch=1, world_size=1)
    r0 = epoch_batches(20, 2, seed=3, epoch=1, rank=0, world_size=2)
    r1 = epoch_batches(20, 2, seed=3, epoch=1, rank=1, world_size=2)
    assert len(r0) == len(r1) == len(single) == 5
    for s, a, b in zip(single, r0, r1):
        assert sorted(s) == sorted(a + b)
    assert epoch_batches(20, 4, seed=3, epoch=2) != single
