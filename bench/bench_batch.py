"""Folder batch: `python bench/bench_batch.py` prints seconds per 12 MP photo, in turn and overlapped.

* in turn: read, colorize, write JPEG, next photo (what a plain loop does).
* overlapped: the next photo is decoded and the previous result encoded on two helper threads
  while the model and the recombination run (Pillow's decoder and encoder release the GIL),
  so a photo costs about max(decode + encode, colorize) instead of their sum.

Both with the store's default model (torch path) on --count copies of the 12 MP bench photo.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_photo, print_table  # noqa: E402


def in_turn(colorizer, photos: list[Path], out: Path) -> float:
    from ml_core.io.imageio import export_image, read_image

    start = time.perf_counter()
    for i, photo in enumerate(photos):
        image = read_image(photo)
        export_image(colorizer.colorize(image).rgb, out / f"seq{i}.jpg", "jpg", quality=92, exif=image.exif,
                     overwrite=True)
    return (time.perf_counter() - start) / len(photos)


def overlapped(colorizer, photos: list[Path], out: Path) -> float:
    from ml_core.io.imageio import export_image, read_image

    start = time.perf_counter()
    with ThreadPoolExecutor(1, thread_name_prefix="decode") as decode, \
            ThreadPoolExecutor(1, thread_name_prefix="encode") as encode:
        pending = decode.submit(read_image, photos[0])
        writes = []
        for i in range(len(photos)):
            image = pending.result()
            if i + 1 < len(photos):
                pending = decode.submit(read_image, photos[i + 1])
            rgb = colorizer.colorize(image).rgb
            writes.append(encode.submit(export_image, rgb, out / f"ovl{i}.jpg", "jpg", quality=92,
                                       exif=image.exif, overwrite=True))
        for w in writes:
            w.result()
    return (time.perf_counter() - start) / len(photos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--photo", type=Path, default=None, help="default: the generated 12 MP JPEG")
    args = parser.parse_args()

    from ml_core import runtime

    runtime.configure()
    import numpy as np

    from ml_core.inference.engine import Colorizer
    from ml_core.modelfiles.store import ModelStore

    photo = args.photo or make_photo(Path(tempfile.gettempdir()) / "chroma-bench" / "12mp.jpg")
    colorizer = Colorizer(ModelStore().load("default"))
    photos = [photo] * args.count
    with tempfile.TemporaryDirectory() as tmp:
        colorizer.colorize(np.zeros((64, 64), np.uint8))  # warm up
        rows = [{"mode": "in turn", "s": f"{in_turn(colorizer, photos, Path(tmp)):.2f}"},
                {"mode": "overlapped (decode next, encode previous)",
                 "s": f"{overlapped(colorizer, photos, Path(tmp)):.2f}"},
                {"mode": "in turn (again)", "s": f"{in_turn(colorizer, photos, Path(tmp)):.2f}"}]
    print(f"photo: {photo}, {args.count} in a batch, default model")
    print_table(rows, [("mode", "mode"), ("s", "s per photo")])


if __name__ == "__main__":
    main()
