"""The double-click app's build recipe, checked without building it (that is scripts/build_app.sh).

build.spec is executed with stand-ins for PyInstaller's build steps, which record what it asks
for: the entry script, every resource (models present at build time included), the exclusions,
the icons and the windowed flag. The bundle entry's argument routing is tested directly.
"""

from __future__ import annotations

import configparser
import shutil
import sys
import types
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "build.spec"


class Recorder:
    """Stands in for Analysis / PYZ / EXE / COLLECT / BUNDLE and records how each was called."""

    def __init__(self, calls: dict, name: str, dist: Path | None = None) -> None:
        self.calls, self.name, self.dist = calls, name, dist

    def __call__(self, *args, **kwargs):
        self.calls[self.name] = (args, kwargs)
        if self.name == "Analysis":
            return types.SimpleNamespace(binaries=list(kwargs.get("binaries", [])), datas=list(kwargs["datas"]),
                                         pure=[], scripts=list(args[0]), kwargs=kwargs)
        if self.name == "COLLECT":
            (self.dist / kwargs["name"]).mkdir(parents=True, exist_ok=True)
        return types.SimpleNamespace(args=args, kwargs=kwargs)


def _fake_collect_submodules(package: str, filter=None) -> list[str]:  # noqa: A002 - PyInstaller's name
    names = []
    for path in sorted((REPO / package).rglob("*.py")):
        rel = path.relative_to(REPO).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if "__pycache__" not in parts:
            names.append(".".join(parts))
    return [n for n in names if filter is None or filter(n)]


def _fake_copy_metadata(distribution: str) -> list[tuple[str, str]]:
    from importlib.metadata import distribution as find

    dist = find(distribution)  # the real dist-info folder, as PyInstaller would find it
    folder = Path(str(dist._path))  # type: ignore[attr-defined]
    return [(str(folder), folder.name)]


def run_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, repo: Path = REPO, env: dict | None = None) -> dict:
    calls: dict = {}
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = _fake_collect_submodules
    hooks.copy_metadata = _fake_copy_metadata
    for name, module in (("PyInstaller", types.ModuleType("PyInstaller")),
                         ("PyInstaller.utils", types.ModuleType("PyInstaller.utils")),
                         ("PyInstaller.utils.hooks", hooks)):
        monkeypatch.setitem(sys.modules, name, module)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    dist = tmp_path / "dist"
    namespace = {"__file__": str(repo / "build.spec"), "__name__": "__main__", "SPECPATH": str(repo),
                 "DISTPATH": str(dist), "workpath": str(tmp_path / "build")}
    for name in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        namespace[name] = Recorder(calls, name, dist)
    exec(compile((repo / "build.spec").read_text(encoding="utf-8"), str(repo / "build.spec"), "exec"), namespace)
    calls["namespace"] = namespace
    calls["dist"] = dist
    return calls


@pytest.fixture
def spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    return run_spec(monkeypatch, tmp_path)


def test_spec_builds_one_folder_app_from_the_bundle_entry(spec: dict) -> None:
    (scripts,), analysis = spec["Analysis"]
    assert scripts == [str(REPO / "desktop_app" / "bundle_entry.py")]
    assert str(REPO) in analysis["pathex"]
    _, exe = spec["EXE"]
    assert exe["name"] == "Chroma" and exe["exclude_binaries"] is True  # one folder, not one file
    _, coll = spec["COLLECT"]
    assert coll["name"] == "Chroma"
    if sys.platform in ("win32", "darwin"):
        assert exe["console"] is False
        assert Path(exe["icon"][0]).is_file()
    if sys.platform == "darwin":
        _, bundle = spec["BUNDLE"]
        assert bundle["name"] == "Chroma.app" and bundle["icon"].endswith("chroma.icns")
    # Subcommands and model families are imported by name: they must be listed explicitly.
    hidden = set(analysis["hiddenimports"])
    assert {"ml_core.commands.colorize", "ml_core.commands.train", "ml_core.commands.gui",
            "ml_core.commands.models", "ml_core.commands.evaluate", "ml_core.models.unet", "desktop_app.app",
            "desktop_app.self_test", "desktop_app.bundle_entry", "pillow_heif", "pyqtgraph"} <= hidden
    # ONNX export is not in the bundle: its command module is left out, so the CLI has no export-onnx.
    assert "ml_core.commands.export_onnx" not in hidden
    assert "ml_core.commands.export_onnx" in analysis["excludes"]


def test_spec_ships_every_resource_file(spec: dict) -> None:
    _, analysis = spec["Analysis"]
    shipped = {(Path(src).resolve(), dest) for src, dest in analysis["datas"]}
    expected = [p for p in (REPO / "resources").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")]
    assert expected, "resources/ is empty"
    for path in expected:
        dest = str(Path("resources") / path.relative_to(REPO / "resources").parent)
        assert (path.resolve(), dest) in shipped, f"{path} is not in the bundle"
    for must in ("icons/chroma.svg", "samples/astronaut_gray.jpg"):
        assert (REPO / "resources" / must).is_file()


def test_spec_ships_the_package_metadata_for_the_about_box(spec: dict) -> None:
    _, analysis = spec["Analysis"]
    assert any(dest.startswith("chroma_colorizer") and dest.endswith((".dist-info", ".egg-info"))  # editable: egg-info
               for _, dest in analysis["datas"])


def test_models_present_at_build_time_are_shipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("build.spec", "pyproject.toml"):
        shutil.copy2(REPO / name, repo / name)
    shutil.copytree(REPO / "resources", repo / "resources", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "scripts", repo / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "resources" / "models").mkdir(exist_ok=True)
    (repo / "resources" / "models" / "default.safetensors").write_bytes(b"not really a model")
    (repo / "resources" / "models" / "default.md").write_text("card")
    (repo / "resources" / "models" / ".partial.tmp").write_text("half-written")
    calls = run_spec(monkeypatch, tmp_path, repo=repo)
    _, analysis = calls["Analysis"]
    shipped = {Path(src).name: dest for src, dest in analysis["datas"]}
    assert shipped["default.safetensors"] == str(Path("resources") / "models")
    assert shipped["default.md"] == str(Path("resources") / "models")
    assert ".partial.tmp" not in shipped


def test_exclusions(spec: dict) -> None:
    _, analysis = spec["Analysis"]
    excludes = set(analysis["excludes"])
    for module in ("onnx", "onnxruntime", "pytest", "hypothesis", "IPython", "PySide6.QtQml", "PySide6.QtQuick",
                   "PySide6.QtWebEngineCore", "PySide6.Qt3DCore", "PySide6.QtMultimedia", "triton", "nvidia"):
        assert module in excludes
    # What the app and pyqtgraph (Training tab) import must not be excluded.
    for module in ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg", "PySide6.QtOpenGL",
                   "PySide6.QtOpenGLWidgets", "PySide6.QtTest", "torch", "scipy", "skimage", "pyqtgraph",
                   "pillow_heif", "tifffile", "torch.testing"):
        assert module not in excludes
    file_reason = spec["namespace"]["file_reason"]
    for dropped in ("torch/include/ATen/ATen.h", "torch/bin/protoc", "torch/test/c10_small_vector_test",
                    "torch/lib/libtorchbind_test.so", "PySide6/Qt/translations/qtbase_de.qm",
                    "PySide6/Qt/plugins/platforms/libqeglfs.so", "torch/testing/_internal/common_utils.py",
                    "nvidia/cublas/lib/libcublas.so.12", "torch/lib/libcudnn.so.9", "scipy/special/tests/data/x.npz"):
        assert file_reason(dropped), dropped
    for kept in ("torch/lib/libtorch_cpu.so", "torch/lib/libc10.so", "torch/nn/modules/conv.py",
                 "torch/bin/torch_shm_manager",
                 "PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so",
                 "PySide6/Qt/plugins/platforms/libqwayland.so", "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
                 "PySide6/Qt/lib/libQt6Widgets.so.6", "torch/testing/_internal/logging_tensor.py",
                 "torch/testing/_internal/common_dtype.py", "torch/testing/_internal/distributed/fake_pg.py",
                 "resources/samples/coffee_gray.jpg", "pyqtgraph/icons/auto.png"):
        assert file_reason(kept) is None, kept
    module_reason = spec["namespace"]["module_reason"]
    assert module_reason("torch.testing._internal.common_utils")
    assert module_reason("skimage.metrics.tests.test_structural_similarity")
    for kept in ("torch.testing", "torch.testing._internal.logging_tensor", "numpy.testing", "unittest",
                 "torch._inductor.test_operators", "PySide6.QtTest", "ml_core.training.trainer"):
        assert module_reason(kept) is None, kept


def test_baseline_build_excludes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = run_spec(monkeypatch, tmp_path, env={"CHROMA_BUNDLE_BASELINE": "1"})
    _, analysis = calls["Analysis"]
    assert analysis["excludes"] == []


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the .desktop file is for Linux")
def test_linux_desktop_entry_and_icon_travel_with_the_folder(spec: dict) -> None:
    out = spec["dist"] / "Chroma"
    assert (out / "chroma.desktop").is_file() and (out / "chroma.png").is_file()


def test_desktop_entry() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(REPO / "scripts" / "chroma.desktop", encoding="utf-8")
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application" and d["Name"] == "Chroma"
    assert d["Exec"].split()[0] == "Chroma" and "%F" in d["Exec"]
    assert d["Icon"] == "chroma" and d["Terminal"] == "false"
    assert "image/jpeg" in d["MimeType"] and "Graphics" in d["Categories"]
    # The window registers itself as "chroma" (QGuiApplication.setDesktopFileName) -> chroma.desktop.
    assert "setDesktopFileName(\"chroma\")" in (REPO / "desktop_app" / "app.py").read_text(encoding="utf-8")


def test_icons_for_every_platform() -> None:
    icons = REPO / "resources" / "icons"
    png = Image.open(icons / "chroma.png")
    assert png.size == (256, 256) and png.mode == "RGBA"
    ico = Image.open(icons / "chroma.ico")
    assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.ico.sizes())
    icns = Image.open(icons / "chroma.icns")
    assert icns.size == (1024, 1024)
    # Rendered from the SVG, not blank: the color wheel has saturated pixels.
    r, g, b, a = png.convert("RGBA").resize((32, 32)).split()
    assert a.getextrema()[1] == 255 and max(r.getextrema()[1], g.getextrema()[1], b.getextrema()[1]) > 200


# ------------------------------------------------------------------------------ the bundle entry

def test_bundle_entry_routes_arguments_like_the_app() -> None:
    from desktop_app.bundle_entry import route
    from ml_core.cli import build_parser, command_names

    commands = command_names(build_parser())
    assert {"colorize", "models", "train", "eval", "gui"} <= commands
    assert route([], commands) == ["gui"]
    assert route(["--self-test"], commands) == ["gui", "--self-test"]
    assert route(["photo.jpg", "old"], commands) == ["gui", "photo.jpg", "old"]
    assert route(["-psn_0_12345"], commands) == ["gui"]  # macOS Finder's extra argument
    assert route(["colorize", "a.jpg", "-o", "out"], commands) == ["colorize", "a.jpg", "-o", "out"]
    assert route(["models", "list"], commands) == ["models", "list"]
    assert route(["--help"], commands) == ["--help"]
    assert route(["--quit-when-shown"], commands) == ["gui", "--quit-when-shown"]
    assert route([str(REPO / "resources" / "samples")], commands)[0] == "gui"  # an existing folder
    assert route(["old/photo"], commands)[0] == "gui"
    # A bare word that is no subcommand (a typo, or export-onnx, which the bundle does not ship)
    # goes to the command line and its "invalid choice" error, not to a window.
    assert route(["colourize", "x.jpg"], commands) == ["colourize", "x.jpg"]
    assert route(["export-onnx", "m", "out.onnx"], commands) == ["export-onnx", "m", "out.onnx"]


def test_bundle_entry_runs_cli_commands(capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_app.bundle_entry import main

    assert main(["models", "list"]) == 0
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "colorize" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["colourize", "x.jpg"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # ml_core.cli is already imported here
def test_bundle_entry_runs_modules_like_python_m(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_app.bundle_entry import main

    monkeypatch.setattr(sys, "argv", ["Chroma"])
    assert main(["-m", "ml_core.cli", "models", "list"]) == 0
    assert main(["-m", "ml_core.cli", "--help"]) == 0
    assert "colorize" in capsys.readouterr().out
    assert main(["-m"]) == 2
