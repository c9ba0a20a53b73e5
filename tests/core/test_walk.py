"""The one folder walker (`ml_core.io.walk`) and its two callers' orders.

The training order is pinned name by name: a seeded training run orders its photos (and so its
batches and validation list) by this scan, so a walker change that reorders it would silently
change what every seed trains.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ml_core.io.imageio import collect_images
from ml_core.io.walk import find_files
from ml_core.training.data import walk_inputs

TREE = ["b.jpg", "B.jpg", "a10.jpg", "a2.jpg", "Z.png", "notes.txt", ".hidden.jpg", "sub/x.jpg", "sub/2.jpg",
        "a_dir/y.jpg", "a_dir/deep/z.tif", ".git/e.png", "sub/.cache/f.png"]


def make_tree(root: Path, names: list[str] = TREE) -> Path:
    for rel in names:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    return root


def test_training_scan_order_is_pinned(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "photos")
    candidates, not_images, problems = walk_inputs([str(root)])
    # Each folder's files by code point, then its subfolders the same way (what os.walk gave).
    assert [rel for _, rel, _ in candidates] == [
        "B.jpg", "Z.png", "a10.jpg", "a2.jpg", "b.jpg", "a_dir/y.jpg", "a_dir/deep/z.tif", "sub/2.jpg", "sub/x.jpg"]
    assert all(path == os.path.join(str(root), *rel.split("/")) and r == str(root) for path, rel, r in candidates)
    assert not_images == [(os.path.join(str(root), "notes.txt"), "not a supported image type (.txt)")]
    assert problems == []


def test_colorize_order_is_a_readers_order(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "photos")
    images, problems = collect_images([root])
    assert [p.relative_to(root).as_posix() for p in images] == [
        "a2.jpg", "a10.jpg", "a_dir/deep/z.tif", "a_dir/y.jpg", "B.jpg", "b.jpg", "sub/2.jpg", "sub/x.jpg", "Z.png"]
    assert problems == []


def test_overlapping_inputs_list_each_file_once_first_place_wins(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "photos")
    candidates, _, _ = walk_inputs([str(root / "sub"), str(root), str(root / "b.jpg")])
    rels = [(Path(r).name, rel) for _, rel, r in candidates]
    assert rels[:2] == [("sub", "2.jpg"), ("sub", "x.jpg")]
    assert len(rels) == 9 and ("photos", "sub/x.jpg") not in rels and ("b.jpg", "b.jpg") not in rels


def test_problems_name_the_bad_path(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "photos", ["ok.jpg"])
    (root / "loop.jpg").symlink_to(root / "loop.jpg")
    (root / "gone.jpg").symlink_to(root / "missing.jpg")  # broken link inside a folder: passed over
    (root / "up").symlink_to(root, target_is_directory=True)  # followed, it would loop forever
    walk = find_files([root, tmp_path / "ghost", root / "gone.jpg", tmp_path / "readme.md"],
                      wanted=lambda name: name.endswith(".jpg"))
    assert [f.rel for f in walk.files] == ["ok.jpg"]
    assert walk.problems == [
        (str(root / "loop.jpg"), "is a symbolic link loop (it leads back to itself)"),
        (str(tmp_path / "ghost"), "does not exist"),
        (str(root / "gone.jpg"), "is a broken link"),
        (str(tmp_path / "readme.md"), "does not exist"),
    ]
    (tmp_path / "readme.md").write_text("x")  # a file named directly that the caller cannot use
    assert find_files([tmp_path / "readme.md"], wanted=lambda n: n.endswith(".jpg")).problems == [
        (str(tmp_path / "readme.md"), "not a supported image type (.md)")]


def test_an_unreadable_folder_is_named_and_the_rest_is_walked(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "photos", ["a.jpg", "locked/b.jpg", "z.jpg"])
    (root / "locked").chmod(0)
    try:
        if os.access(root / "locked", os.R_OK):
            pytest.skip("this user reads any folder (root), so none can be made unreadable")
        walk = find_files([root])
    finally:
        (root / "locked").chmod(0o755)
    assert [f.rel for f in walk.files] == ["a.jpg", "z.jpg"]
    assert [(Path(p).name, r.startswith("cannot open folder")) for p, r in walk.problems] == [("locked", True)]


def test_non_recursive_and_a_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "photos")
    assert [f.rel for f in find_files([root], recursive=False, order="files_first").files] == [
        "B.jpg", "Z.png", "a10.jpg", "a2.jpg", "b.jpg", "notes.txt"]
    deep = tmp_path / "deep"
    deep.mkdir()
    folder = str(deep)
    for _ in range(1100):  # more levels than Python's recursion limit (1000); os.makedirs recurses
        folder = os.path.join(folder, "d")
        os.mkdir(folder)
    Path(folder, "bottom.png").write_bytes(b"x")
    try:
        assert [f.rel.count("/") for f in find_files([deep]).files] == [1100]
    finally:  # shutil.rmtree (pytest's clean-up of old temp folders) recurses too: undo it here
        os.remove(os.path.join(folder, "bottom.png"))
        while folder != str(deep):
            os.rmdir(folder)
            folder = os.path.dirname(folder)


def test_unknown_order_is_refused() -> None:
    with pytest.raises(ValueError, match="order"):
        find_files([], order="random")  # type: ignore[arg-type]
