#!/usr/bin/env bash
# Build the double-click app (dist/Chroma/, plus dist/Chroma.app on macOS) and prove it works:
#
#   scripts/build_app.sh            build with build.spec, then run `Chroma --self-test` from the bundle
#   scripts/build_app.sh --smoke    also train / eval / colorize (incl. HEIC) / import a model with the
#                                   bundle's command line (about a minute more)
#   scripts/build_app.sh --no-build only the checks, on an existing dist/Chroma
#
# Every bundle run uses a scrubbed environment (`env -i`): no virtualenv, no PYTHONPATH, only
# /usr/bin:/bin on PATH, and a throw-away HOME so the per-user folders are fresh and the person's
# own models and settings are never touched; afterwards nothing inside the bundle may have changed.
# Exits non-zero if the build or any check fails. Prints the bundle size, the self-test time and
# the time from launch to the window.
#
# Needs the project's Python environment with the CPU build of torch and PyInstaller
# (`pip install -e ".[package]"`; installed here if missing). PYTHON=... picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PYTHON:-python}
BUILD=1
SMOKE=0
for arg in "$@"; do
    case "$arg" in
        --smoke) SMOKE=1 ;;
        --no-build) BUILD=0 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "build_app.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

DIST="$REPO/dist/Chroma"
case "$(uname -s)" in
    Darwin) DIST="$REPO/dist/Chroma.app"; EXE="$DIST/Contents/MacOS/Chroma" ;;
    MINGW*|MSYS*|CYGWIN*) EXE="$DIST/Chroma.exe" ;;
    *) EXE="$DIST/Chroma" ;;
esac
now() { "$PY" -c 'import time; print(f"{time.time():.3f}")'; }
elapsed() { "$PY" -c "print(f'{$(now) - $1:.1f}')"; }

if [ "$BUILD" = 1 ]; then
    if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
        echo "== installing PyInstaller (the project's [package] extra)"
        "$PY" -m pip install "pyinstaller>=6.0"
    fi
    echo "== building the bundle with build.spec ($("$PY" -m PyInstaller --version), $("$PY" -c 'import torch; print("torch", torch.__version__)'))"
    t0=$(now)
    # Quiet unless it fails: the full log is kept in build/pyinstaller.log.
    mkdir -p build
    if ! "$PY" -m PyInstaller build.spec --noconfirm --log-level WARN --distpath dist --workpath build/Chroma \
            > build/pyinstaller.log 2>&1; then
        tail -n 60 build/pyinstaller.log >&2
        echo "build_app.sh: FAILED: PyInstaller could not build the bundle (full log: build/pyinstaller.log)" >&2
        exit 1
    fi
    echo "built in $(elapsed "$t0") s"
fi
if [ ! -x "$EXE" ]; then
    echo "build_app.sh: FAILED: no bundle executable at $EXE" >&2
    exit 1
fi

# Bytes and files as unzipped on disk (symlinks not counted); portable, unlike `du -b`.
read -r bytes files < <("$PY" -c '
import os, sys
sizes = [os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(sys.argv[1]) for f in fs
         if not os.path.islink(os.path.join(r, f))]
print(sum(sizes), len(sizes))' "$DIST")
echo "bundle: $DIST  $("$PY" -c "print(f'{$bytes / 2**20:.0f} MiB')") ($bytes bytes, $files files)"
if [ "$BUILD" = 1 ] && [ -f build/Chroma/excluded.json ]; then
    "$PY" - <<'EOF'
import json
report = json.load(open("build/Chroma/excluded.json"))
for reason, info in report.items():
    if isinstance(info, dict) and "bytes" in info:
        print(f"  excluded {info['bytes'] / 2**20:7.1f} MiB  {reason}")
EOF
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chroma-bundle-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/home"
touch "$TMP/stamp"
sleep 1  # so "newer than the stamp" is unambiguous on coarse file systems
# The bundle as a person would start it: nothing from this shell's Python environment.
bundle() { env -i HOME="$TMP/home" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen "$EXE" "$@"; }

echo "== self-test: $EXE --self-test (clean environment)"
t0=$(now)
if ! bundle --self-test 2>&1 | tee "$TMP/self-test.log"; then
    echo "build_app.sh: FAILED: the bundle's self-test failed" >&2
    exit 1
fi
self_test_s=$(elapsed "$t0")
grep -q "self-test: OK" "$TMP/self-test.log" || { echo "build_app.sh: FAILED: the self-test did not report OK" >&2; exit 1; }

t0=$(now)
bundle --quit-when-shown > "$TMP/launch.log" 2>&1 || { cat "$TMP/launch.log" >&2; echo "build_app.sh: FAILED: the window did not open" >&2; exit 1; }
grep -q chroma-window-shown "$TMP/launch.log" || { echo "build_app.sh: FAILED: the window did not report being shown" >&2; exit 1; }
launch_s=$(elapsed "$t0")

if [ "$SMOKE" = 1 ]; then
    echo "== smoke: the bundle's command line (train, eval, colorize incl. HEIC, hints and a reference, import a model)"
    "$PY" - "$TMP/photos" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, ".")
from ml_core.training.synthetic import write_synthetic_photos
out = Path(sys.argv[1])
write_synthetic_photos(out, 12, size=(96, 128))
try:
    import pillow_heif
    from PIL import Image
    pillow_heif.register_heif_opener()
    Image.open(out / "scene0000.png").convert("L").save(out.parent / "gray.heic")
except ImportError:
    print("smoke: pillow-heif not installed here; HEIC is not checked")
EOF
    set -x
    bundle train "$TMP/photos" --arch unet --set width=8 --steps 3 --batch-size 4 --size 64 --workers 2 --out smoke --quiet
    bundle eval "$TMP/photos" --model smoke --limit 2 --size 64 --quiet
    cp "$TMP/home/.local/share/Chroma/models/smoke.safetensors" "$TMP/imported.safetensors" 2>/dev/null \
        || cp "$(find "$TMP/home" -name smoke.safetensors | head -n 1)" "$TMP/imported.safetensors"
    bundle models import "$TMP/imported.safetensors"
    bundle models list | grep -q imported
    heic=()
    [ -f "$TMP/gray.heic" ] && heic=("$TMP/gray.heic")
    bundle colorize "${heic[@]}" "$REPO/resources/samples/coffee_gray.jpg" --model imported -o "$TMP/out" --quiet
    echo '{"hints": [{"x": 0.5, "y": 0.8, "color": "#aa2222"}, {"points": [[0.1, 0.4], [0.2, 0.5]], "ab": [10, 30]}]}' > "$TMP/hints.json"
    bundle colorize "$REPO/resources/samples/coffee_gray.jpg" --hints "$TMP/hints.json" \
        --reference "$TMP/photos/scene0000.png" --reference-strength 0.5 -o "$TMP/guided" --quiet
    set +x
    n=$(find "$TMP/out" -type f | wc -l)
    [ "$n" -eq $((1 + ${#heic[@]})) ] || { echo "build_app.sh: FAILED: colorize wrote $n files" >&2; exit 1; }
    [ -f "$TMP/guided/coffee_gray_color.jpg" ] || { echo "build_app.sh: FAILED: no output with --hints/--reference" >&2; exit 1; }
    echo "smoke: OK (trained, evaluated, imported, colorized $n photos, and one with hints and a reference)"
fi

written=$(find "$DIST" -newer "$TMP/stamp" | head -n 5)
if [ -n "$written" ]; then
    echo "build_app.sh: FAILED: running the bundle wrote inside it:" >&2
    echo "$written" >&2
    exit 1
fi

echo "== bundle OK: size $("$PY" -c "print(f'{$bytes / 2**20:.0f} MiB')"), self-test ${self_test_s} s, launch to window ${launch_s} s"
