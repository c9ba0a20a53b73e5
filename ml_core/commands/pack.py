"""`chroma pack DIR... -o CORPUS.pack` and `chroma train-packed CORPUS.pack --out-dir DIR --minutes N`.

The accelerator path: pack a corpus once (≤ 60 MiB by default, so it can travel to a borrowed
GPU machine), then train for a fixed time budget with the corpus decoded onto the device. See
ml_core.training.packed and ml_core.training.packed_train for why.
"""

from __future__ import annotations

import argparse
import sys

from .train import _kv


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pack", help="pack color photos into one small file for train-packed")
    p.add_argument("inputs", nargs="+", metavar="DIR",
                   help="folders of color photos (first-level subfolders are sources)")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--side", type=int, default=144, help="square side each photo is stored at (default 144)")
    p.add_argument("--max-mib", type=float, default=60.0,
                   help="size limit; JPEG quality is lowered to fit (default 60)")
    p.add_argument("--exclude", action="append", default=[], metavar="FOLDER",
                   help="leave out a source folder by name, e.g. a held-out set (repeatable)")
    p.set_defaults(func=run_pack)

    t = sub.add_parser("train-packed", help="train for a time budget on a packed corpus (GPU if available)")
    t.add_argument("pack", metavar="CORPUS.pack")
    t.add_argument("--out-dir", required=True, help="folder for the fp16 model file and its card")
    t.add_argument("--name", default="packed-model")
    t.add_argument("--arch", default="unet")
    t.add_argument("--set", dest="arch_config", action="append", type=_kv, default=[], metavar="KEY=VALUE")
    t.add_argument("--init-from", default=None, metavar="MODEL", help="start from this model's weights (same shapes)")
    t.add_argument("--minutes", type=float, default=10.0, help="training time budget (cosine schedule over it)")
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--size", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--damage", type=float, default=0.5)
    t.add_argument("--source-balance", type=float, default=0.5)
    t.add_argument("--val-photos", type=int, default=256)
    t.add_argument("--temperature", type=float, default=0.38, help="annealed-mean temperature stored in the model")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto")
    t.add_argument("--no-bf16", action="store_true", help="fp32 on CUDA too")
    t.add_argument("--description", default="")
    t.set_defaults(func=run_train)


def run_pack(args: argparse.Namespace) -> int:
    from ..training.packed import PackError, pack_corpus

    try:
        s = pack_corpus(args.inputs, args.output, side=args.side, max_mib=args.max_mib, exclude=args.exclude)
    except PackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    skipped = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in s.skipped.items() if n) or "none"
    print(f"packed {s.photos} photos from {len(s.sources)} sources into {s.path} ({s.bytes / 2**20:.1f} MiB, "
          f"{s.side} px, JPEG quality {s.quality}); skipped: {skipped}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    from ..training.packed import PackError
    from ..training.packed_train import PackedTrainConfig, train_packed

    cfg = PackedTrainConfig(
        pack=args.pack, out_dir=args.out_dir, name=args.name, arch=args.arch, arch_config=dict(args.arch_config),
        init_from=args.init_from, minutes=args.minutes, batch_size=args.batch_size, size=args.size, lr=args.lr,
        damage=args.damage, source_balance=args.source_balance, val_photos=args.val_photos,
        temperature=args.temperature, seed=args.seed, device=args.device, bf16=not args.no_bf16,
        description=args.description,
    )
    try:
        path = train_packed(cfg, log=lambda m: print(m, flush=True))
    except (PackError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"saved {path} and {path.with_suffix('.md')}")
    return 0
