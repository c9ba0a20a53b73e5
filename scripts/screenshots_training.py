"""Screenshots of the Training tab before, during and after a fine-tune, for docs/ and the README.

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshots_training.py \
        [--photos DIR_OR_FILE ...] [--base MODEL.safetensors] [--minutes N | --epochs N]

Drives the real window through the Training tab's own controls (choose photos, pick the base
model, set the length, Start) and grabs it three times: photos checked and settings ready; during
training, once a few epochs have drawn the loss plot and refreshed the samples; and after, with the
saved model and "Try it". Prints each epoch's validation metrics (the starting model is epoch 0).

Defaults need nothing but the repository: generated color photos (ml_core.training.synthetic) and the
store's `default` model, or an untrained tiny U-Net written to a throw-away store when none is
installed. Everything is written under a temporary folder except the PNGs; photos are read where
they are, never copied.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--size", default="1360x840", help="window size WxH")
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    parser.add_argument("--photos", nargs="*", type=Path, default=[], help="folders or photos (default: generated)")
    parser.add_argument("--base", type=Path, default=None, help="model file to fine-tune (imported into a temp store)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=int, default=None, help="time budget (the Training tab's 'About N minutes')")
    length.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--image-size", type=int, default=None, help="training crop side (default: the tab's)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: the tab's)")
    parser.add_argument("--name", default=None, help="name of the new model")
    parser.add_argument("--during-epoch", type=int, default=3, help="grab the 'during' shot after this epoch")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="chroma-training-shots-"))
    os.environ["CHROMA_DATA_DIR"] = str(tmp / "data")
    os.environ["CHROMA_CACHE_DIR"] = str(tmp / "cache")
    os.environ["CHROMA_THEME"] = args.theme

    from ml_core.io.paths import builtin_models_dir, user_models_dir
    from ml_core.modelfiles.store import ModelStore

    if args.base is not None:
        base = ModelStore().import_file(args.base).name
    elif (builtin_models_dir() / "default.safetensors").is_file():
        base = "default"
    else:
        import torch

        from ml_core.modelfiles.modelfile import info_for, save_model
        from ml_core.models import create

        torch.manual_seed(0)
        model = create("unet", width=16)
        base = "untrained-base"
        save_model(model, user_models_dir() / f"{base}.safetensors",
                   info_for(model, base, description="Untrained U-Net (screenshots only; colors are random)"))
    photos = [p.resolve() for p in args.photos]
    if not photos:
        from ml_core.training.synthetic import write_synthetic_photos

        folder = tmp / "my color photos"
        write_synthetic_photos(folder, 120, size=(96, 128), seed=1)
        photos = [folder]

    from PySide6.QtCore import QTimer

    from desktop_app.app import create_app
    from desktop_app.main_window import MainWindow
    from desktop_app.self_test import wait_until

    app = create_app()  # kept alive for the whole run
    window = MainWindow()
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    tab, colorize = window.training_tab, window.colorize_tab
    window.tabs.setCurrentWidget(tab)
    colorize.refresh_models()
    wait_until(lambda: tab.setup.base_combo.findData(base) >= 0 and tab.setup.arch_combo.count() > 0, 120,
               "the model list")
    args.out.mkdir(parents=True, exist_ok=True)

    def settle(ms: int = 400) -> None:
        done = []
        QTimer.singleShot(ms, lambda: done.append(1))
        wait_until(lambda: bool(done), 10, "the UI to settle")

    def shot(name: str) -> None:
        tab.plot.flush()
        settle()
        path = args.out / f"training_{name}.png"
        window.grab().save(str(path))
        print(path, flush=True)

    setup = tab.setup
    setup.select_base(base)
    tab.add_folders(photos)
    if args.image_size:
        setup.size_spin.setValue(args.image_size)
    if args.batch:
        setup.batch_spin.setValue(args.batch)
    if args.minutes:
        setup.minutes_spin.setValue(args.minutes)
    elif args.epochs:
        setup.epochs_spin.setValue(args.epochs)
    if args.name:
        setup.name_edit.setText(args.name)
    wait_until(lambda: setup.summary is not None and not tab._scanning and tab.start_button.isEnabled(), 1800,
               "the photo check")
    shot("before")

    def report(e) -> None:
        m = e.metrics
        print(f"epoch {e.epoch:>3}  step {e.step:>5}/{e.total_steps}  train loss "
              f"{'-' if e.train_loss is None else f'{e.train_loss:.4f}'}  val loss {e.val_loss:.4f}  "
              f"PSNR {m.get('psnr', float('nan')):.2f} dB (gray {m.get('gray_psnr', float('nan')):.2f})  "
              f"colorfulness {m.get('colorfulness_ratio', float('nan')):.3f}  AuC-rb "
              f"{m.get('auc_rebalanced', float('nan')):.4f}  {'*' if e.is_best else ''}  "
              f"[{time.perf_counter() - t0:.0f} s]", flush=True)

    tab.session.epoch_done.connect(report)
    tab.session.budget_planned.connect(lambda plan: print(plan.describe(), flush=True))
    t0 = time.perf_counter()
    tab.start_button.click()
    wait_until(lambda: not tab.session.active or sum(e.epoch >= 1 for e in tab.session.epochs) >= args.during_epoch,
               24 * 3600, "the first epochs")
    if tab.session.active:
        shot("during")
    wait_until(lambda: not tab.session.active, 24 * 3600, "the training")
    minutes = (time.perf_counter() - t0) / 60
    shot("after")
    outcome = tab.session.outcome
    result = outcome.result if outcome else None
    print(f"outcome: {outcome.status if outcome else '?'} {outcome.message if outcome else ''}")
    if result is not None:
        print(f"{result.steps_completed} steps, {result.epochs_completed} epochs, {minutes:.1f} min wall "
              f"({result.seconds / 60:.1f} min of training); model {result.model_path}")
    window.close()
    app.processEvents()
    return 0 if outcome is not None and outcome.status == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
