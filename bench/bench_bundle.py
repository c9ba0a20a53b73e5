"""Bundle benchmark: size, what each exclusion saved, launch-to-window and self-test time of the
built double-click app.

    scripts/build_app.sh                       # builds dist/Chroma first
    python bench/bench_bundle.py               # size by component, launch and self-test times
    python bench/bench_bundle.py --baseline /tmp/base/Chroma
                                               # + measured saving of every exclusion, against a
                                               #   bundle built with CHROMA_BUNDLE_BASELINE=1

* size: bytes of every file in dist/Chroma (as unzipped on disk), by component; the compiled Python
  modules live in an archive inside the executable and are counted per package from its table.
* exclusions: build.spec writes what its file filters dropped to build/Chroma/excluded.json. With
  --baseline, every file or module present in the baseline bundle and absent from this one is
  charged to the exclusion that removed it (file filter, excluded module, or a package that only an
  excluded module pulled in), so the savings add up to the measured difference.
* launch to window: wall time from starting `Chroma --quit-when-shown` to its "window shown" line
  (first frame painted), a fresh process each time. The first launch is a cold start: the bundle's
  files are evicted from the OS file cache first (posix_fadvise, Linux; nothing else is touched),
  as after a reboot; then the median of the following, warm, launches.
* --zip: size of the folder zipped (what people download).
* self-test: wall time of `Chroma --self-test` (opens the window offscreen, colorizes and exports).

Bundle runs use a scrubbed environment, as scripts/build_app.sh does: env -i, PATH=/usr/bin:/bin,
a throw-away HOME, QT_QPA_PLATFORM=offscreen unless --platform says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from _common import print_table  # noqa: E402

MiB = 2 ** 20


def executable(dist: Path) -> Path:
    for name in ("Chroma", "Chroma.exe"):
        if (dist / name).is_file():
            return dist / name
    mac = dist.parent / "Chroma.app" / "Contents" / "MacOS" / "Chroma"
    if mac.is_file():
        return mac
    raise SystemExit(f"no Chroma executable in {dist}: build it with scripts/build_app.sh")


# ----------------------------------------------------------------------------------- contents

def files_of(dist: Path) -> dict[str, int]:
    """Relative path (inside _internal/ when there is one) -> size, symlinks not counted."""
    out = {}
    for path in dist.rglob("*"):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(dist).as_posix()
            out[rel.removeprefix("_internal/")] = path.stat().st_size
    return out


def pyz_modules(exe: Path) -> dict[str, int]:
    """Module name -> compressed size in the PYZ archive embedded in the executable."""
    try:
        from PyInstaller.archive.readers import CArchiveReader
    except ImportError:
        return {}
    try:
        pkg = CArchiveReader(str(exe))
    except Exception:  # noqa: BLE001 - not a PyInstaller executable (or another version's)
        return {}
    out = {}
    for name, entry in pkg.toc.items():
        if entry[-1] == "z":
            pyz = pkg.open_embedded_archive(name)
            for module, (_typecode, _offset, length) in pyz.toc.items():
                out[module] = length
    return out


def component(rel: str) -> str:
    """A reader's name for where a file belongs."""
    parts = rel.split("/")
    top = parts[0]
    if len(parts) == 1:
        if top.startswith("libpython") or top == "base_library.zip":
            return "Python runtime and standard library"
        if top.startswith(("Chroma", "chroma")):
            return "executable + compiled Python modules (PYZ)" if top.startswith("Chroma") else "desktop entry, icon"
        return "other shared libraries (system deps)"
    if top in ("python3.11", "python3.12", "python3.10", "lib-dynload") or rel.startswith("python"):
        return "Python runtime and standard library"
    if top == "torch":
        if parts[1] == "lib":
            return "torch: libraries (libtorch_cpu, ...)"
        return "torch: Python sources (kept for TorchScript) and data"
    if top == "PySide6":
        if rel.startswith("PySide6/Qt/lib/libicu"):
            return "Qt: ICU (Unicode data QtCore needs)"
        if rel.startswith("PySide6/Qt/lib/"):
            return "Qt: libraries"
        if rel.startswith("PySide6/Qt/plugins/"):
            return "Qt: plugins (platforms, image formats, ...)"
        return "Qt: PySide6 bindings"
    if top == "shiboken6":
        return "Qt: PySide6 bindings"
    top = top.removesuffix(".libs")
    if top.endswith((".dist-info", ".egg-info")):
        return "package metadata (*.dist-info)"
    return {"pillow": "PIL"}.get(top, top)


def package_of_module(module: str) -> str:
    return module.split(".")[0]


def size_table(dist: Path) -> tuple[list[dict], int, dict[str, int], dict[str, int]]:
    files = files_of(dist)
    modules = pyz_modules(executable(dist))
    by = defaultdict(int)
    for rel, size in files.items():
        by[component(rel)] += size
    total = sum(files.values())
    rows = [{"component": name, "MiB": f"{size / MiB:.1f}", "share": f"{100 * size / total:.0f}%"}
            for name, size in sorted(by.items(), key=lambda kv: -kv[1])]
    rows.append({"component": "TOTAL on disk", "MiB": f"{total / MiB:.1f}", "share": f"{len(files)} files"})
    return rows, total, files, modules


def pyz_table(modules: dict[str, int], top: int = 10) -> list[dict]:
    by = defaultdict(int)
    for module, size in modules.items():
        by[package_of_module(module)] += size
    return [{"component": f"  PYZ: {name}", "MiB": f"{size / MiB:.1f}", "share": ""}
            for name, size in sorted(by.items(), key=lambda kv: -kv[1])[:top]]


# ----------------------------------------------------------------------------------- exclusions

# Files and packages that only an excluded module pulled in, by the excluded module responsible
# (the baseline bundle cannot tell who imported what; these are the known cases).
TRANSITIVE = [
    (re.compile(r"tcl|tk8|_tk_data|_tkinter|libXft|libXss"), "tkinter"),
    (re.compile(r"sqlite"), "sqlite3"),
    (re.compile(r"^scipy"), "scipy.optimize"),
    (re.compile(r"^google|protobuf"), "onnx"),
    (re.compile(r"PySide6/Qt/plugins/(tls|networkinformation)/"), "PySide6.QtNetwork"),
    (re.compile(r"^(pygments|prompt_toolkit|traitlets|wcwidth|jedi|parso|decorator|pexpect|ptyprocess|"
                r"stack_data|executing|asttokens|pure_eval|matplotlib_inline|trio|_curses|libncurses)"), "IPython"),
    (re.compile(r"^(attr|sortedcontainers|exceptiongroup|iniconfig|pluggy|_hypothesis)"), "hypothesis"),
]


def exclusion_savings(report: dict, base_files: dict[str, int], base_mods: dict[str, int],
                      files: dict[str, int], mods: dict[str, int]) -> list[dict]:
    """Charge every baseline-only file and module to the exclusion that removed it."""
    dropped_files = {}
    for reason, info in report.items():
        if isinstance(info, dict) and "names" in info:
            for name in info["names"]:
                dropped_files[name.replace("\\", "/")] = reason
    groups = report.get("module exclusions (whole import subtrees)", {})
    prefixes = sorted(((m, reason) for reason, ms in groups.items() for m in ms), key=lambda mr: -len(mr[0]))

    def by_module(dotted: str) -> str | None:
        for prefix, reason in prefixes:
            if dotted == prefix or dotted.startswith(prefix + "."):
                return reason
        return None

    def transitive(name: str, label: str) -> str:
        for pattern, module in TRANSITIVE:
            if pattern.search(name):
                return by_module(module) or label
        return f"(pulled in only by excluded modules: {label})"

    # The executable holds the PYZ, whose modules are compared one by one below.
    exes = {"Chroma", "Chroma.exe"}
    saved = defaultdict(int)
    for rel, size in base_files.items():
        if rel in exes:
            continue
        if rel in files:
            if files[rel] < size:  # made smaller (stripped) rather than left out
                saved[dropped_files.get(rel, "(files made smaller)")] += size - files[rel]
            continue
        dotted = rel.split(".")[0].replace("/", ".") if "/" in rel else rel
        reason = dropped_files.get(rel) or by_module(dotted) or transitive(rel, component(rel))
        saved[reason] += size
    for module, size in base_mods.items():
        if module in mods:
            continue
        reason = dropped_files.get(module) or by_module(module) or transitive(module, package_of_module(module))
        saved[reason] += size
    grown = sum(size for rel, size in files.items() if rel not in base_files and rel not in exes)
    grown += sum(size for m, size in mods.items() if m not in base_mods)
    rows = [{"exclusion": reason, "saved MiB": f"{size / MiB:.1f}"}
            for reason, size in sorted(saved.items(), key=lambda kv: -kv[1]) if size >= 0.05 * MiB]
    small = sum(size for size in saved.values() if size < 0.05 * MiB)
    if small:
        rows.append({"exclusion": "(smaller items)", "saved MiB": f"{small / MiB:.1f}"})
    if grown:
        rows.append({"exclusion": "(files and modules only in this bundle, e.g. code added since the baseline)",
                     "saved MiB": f"{-grown / MiB:.1f}"})
    return rows


# ----------------------------------------------------------------------------------- timing

def bundle_env(home: Path, platform: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": platform,
            **({"DISPLAY": os.environ["DISPLAY"]} if "DISPLAY" in os.environ and platform == "xcb" else {})}


def evict_from_page_cache(dist: Path) -> bool:
    """Drop the bundle's own files from the OS file cache (posix_fadvise DONTNEED, Linux), so the
    next launch reads them from disk like the first launch after a reboot. Touches no other file."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for path in dist.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def launch_times(exe: Path, repeat: int, platform: str, cold: bool) -> list[float]:
    """Seconds to the first frame; with `cold` the first launch starts with the bundle's files
    evicted from the file cache (a real cold start), the rest are warm."""
    times = []
    with tempfile.TemporaryDirectory(prefix="chroma-bench-home-") as home:
        for i in range(repeat):
            if cold and i == 0:
                evict_from_page_cache(exe.parent if exe.parent.name != "MacOS" else exe.parents[2])
            start = time.perf_counter()
            proc = subprocess.Popen([str(exe), "--quit-when-shown"], env=bundle_env(Path(home), platform),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert proc.stdout is not None
            shown = None
            for line in proc.stdout:
                if line.strip() == "chroma-window-shown":
                    shown = time.perf_counter() - start
                    break
            _, err = proc.communicate(timeout=120)
            if shown is None:
                raise RuntimeError(f"the bundle never showed its window:\n{err}")
            times.append(shown)
    return times


def self_test_time(exe: Path) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix="chroma-bench-home-") as home:
        start = time.perf_counter()
        proc = subprocess.run([str(exe), "--self-test"], env=bundle_env(Path(home), "offscreen"),
                              capture_output=True, text=True, timeout=600)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"self-test failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", type=Path, default=REPO / "dist" / "Chroma", help="the bundle folder")
    # build_app.sh's folder, then a bare pyinstaller run's
    reports = [REPO / "build" / name / "excluded.json" for name in ("Chroma", "build")]
    parser.add_argument("--report", type=Path, default=next((r for r in reports if r.is_file()), reports[0]),
                        help="excluded.json written by build.spec for this bundle (build/Chroma/ by default)")
    parser.add_argument("--baseline", type=Path, help="a bundle folder built with CHROMA_BUNDLE_BASELINE=1")
    parser.add_argument("--repeat", type=int, default=5, help="launches to time")
    parser.add_argument("--platform", default="offscreen", help="QT_QPA_PLATFORM for the launches (xcb needs DISPLAY)")
    parser.add_argument("--no-run", action="store_true", help="sizes only")
    parser.add_argument("--warm", action="store_true",
                        help="do not evict the bundle from the file cache before the first launch")
    parser.add_argument("--zip", action="store_true", help="also measure the zipped folder (the download)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    exe = executable(args.dist)
    results: dict = {"bundle": str(args.dist)}
    rows, total, files, mods = size_table(args.dist)
    results["size_bytes"] = total
    results["size_by_component"] = rows
    print(f"Bundle {args.dist}: {total / MiB:.0f} MiB on disk, {len(files)} files, "
          f"{len(mods)} modules in the PYZ\n")
    print_table(rows + pyz_table(mods), [("component", "component"), ("MiB", "MiB"), ("share", "share")])

    report = json.loads(args.report.read_text()) if args.report.is_file() else {}
    if report:
        filt = [{"exclusion": reason, "files": str(info["files"]), "saved MiB": f"{info['bytes'] / MiB:.1f}"}
                for reason, info in report.items() if isinstance(info, dict) and "bytes" in info]
        print("\nFiles dropped by build.spec's filters (uncompressed sizes; .py modules are in the PYZ compressed):")
        print_table(filt, [("exclusion", "exclusion"), ("files", "files"), ("saved MiB", "saved MiB")])
        results["filtered"] = filt
    if args.baseline:
        base_rows, base_total, base_files, base_mods = size_table(args.baseline)
        saved = exclusion_savings(report, base_files, base_mods, files, mods)
        print(f"\nAgainst the baseline bundle {args.baseline} ({base_total / MiB:.0f} MiB): "
              f"{(base_total - total) / MiB:.0f} MiB saved ({100 * (base_total - total) / base_total:.0f}%)")
        print_table(saved, [("exclusion", "exclusion"), ("saved MiB", "saved MiB")])
        results["baseline_size_bytes"] = base_total
        results["savings"] = saved

    if args.zip:
        import zipfile

        with tempfile.TemporaryDirectory(prefix="chroma-bench-zip-") as tmp:
            archive = Path(tmp) / "Chroma.zip"
            start = time.perf_counter()
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                for path in sorted(args.dist.rglob("*")):
                    if path.is_file():
                        zf.write(path, Path(args.dist.name) / path.relative_to(args.dist))
            zipped = archive.stat().st_size
        print(f"\nZipped (deflate level 6, symlinks stored as copies): {zipped / MiB:.0f} MiB "
              f"in {time.perf_counter() - start:.0f} s")
        results["zip_bytes"] = zipped

    if not args.no_run:
        cold = not args.warm and hasattr(os, "posix_fadvise")
        times = launch_times(exe, max(1, args.repeat), args.platform, cold)
        st, line = self_test_time(exe)
        first = "cold start (bundle evicted from the file cache)" if cold else "first launch"
        timing = [
            {"measure": f"launch to window, {first}", "value": f"{times[0]:.2f} s"},
            {"measure": f"launch to window, median of {len(times) - 1} more" if len(times) > 1 else "-",
             "value": f"{statistics.median(times[1:]):.2f} s" if len(times) > 1 else "-"},
            {"measure": "--self-test, wall time", "value": f"{st:.1f} s ({line})"},
        ]
        print()
        print_table(timing, [("measure", "measure"), ("value", "result")])
        results["launch_s"] = times
        results["self_test_s"] = st
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
