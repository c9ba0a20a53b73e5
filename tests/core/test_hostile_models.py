"""Hostile model files and `chroma models` arguments (issue 12: findings 2, 3, 9, 14, 15).

Every file here is generated in the test: malformed safetensors, metadata with bad numbers and
types, escape codes in descriptions and cards, and path tricks aimed at `models delete`. Each case
asserts the exit code, that the message names the file (or model) and the field, that nothing
was printed as a traceback, and that files outside the user's store are byte-identical afterwards.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save

from ml_core.cli import main
from ml_core.io import paths
from ml_core.modelfiles.meta import MAX_PARAMETERS, check_metadata
from ml_core.modelfiles.modelfile import ModelFileError, ModelInfo, info_for, load_model, read_info, save_model
from ml_core.modelfiles.store import ModelStore
from ml_core.models import create

CONTROL = ("\x1b", "\x07", "\x9b", "\u202e", "\r")


@pytest.fixture(scope="module")
def template() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A tiny valid model's tensors and metadata, the base every hostile variant is made from."""
    torch.manual_seed(0)
    model = create("unet", width=4, depth=1, stem_stride=4)
    info = info_for(model, "tiny", work_size=128, description="a tiny test model", metrics={"psnr": 20.0},
                    temperature=0.4)
    tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    return tensors, json.loads(info.to_json())


def write(path: Path, tensors: dict[str, torch.Tensor], meta: Any, raw_meta: str | None = None) -> Path:
    """A safetensors file whose chroma metadata is `meta` (or the raw string `raw_meta`)."""
    text = raw_meta if raw_meta is not None else json.dumps(meta)
    path.write_bytes(save(tensors, metadata={"chroma": text}))
    return path


def variant(template, change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    meta = json.loads(json.dumps(template[1]))
    change(meta)
    return meta


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """`chroma ARGV` in-process; an exception escaping main() would be a traceback for the user."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    except BaseException as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"chroma {' '.join(argv)} raised {type(exc).__name__}: {exc} (a traceback for the user)")
    out = capsys.readouterr()
    return code, out.out, out.err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def user_store() -> Path:
    return paths.user_models_dir()


# --- metadata with bad numbers and types (findings 3 and 9) -------------------------------------

BAD_METADATA = [
    # (id, change, field the message must name)
    ("version-string", lambda m: m.update(version="9"), "'version'"),
    ("version-bool", lambda m: m.update(version=True), "'version'"),
    ("version-float", lambda m: m.update(version=1.5), "'version'"),
    ("version-zero", lambda m: m.update(version=0), "'version'"),
    ("version-newer", lambda m: m.update(version=9), "newer Chroma"),
    ("work-size-huge", lambda m: m.update(work_size=100000), "'work_size'"),
    ("work-size-zero", lambda m: m.update(work_size=0), "'work_size'"),
    ("work-size-negative", lambda m: m.update(work_size=-5), "'work_size'"),
    ("work-size-string", lambda m: m.update(work_size="256"), "'work_size'"),
    ("work-size-null", lambda m: m.update(work_size=None), "'work_size'"),
    ("work-size-float", lambda m: m.update(work_size=256.5), "'work_size'"),
    ("temperature-nan", lambda m: m.update(temperature=float("nan")), "'temperature'"),
    ("temperature-inf", lambda m: m.update(temperature=float("inf")), "'temperature'"),
    ("temperature-zero", lambda m: m.update(temperature=0), "'temperature'"),
    ("temperature-negative", lambda m: m.update(temperature=-1), "'temperature'"),
    ("temperature-string", lambda m: m.update(temperature="hot"), "'temperature'"),
    ("width-huge", lambda m: m["config"].update(width=200000), "'config.width'"),
    ("width-float", lambda m: m["config"].update(width=4.5), "'config.width'"),
    ("width-bool", lambda m: m["config"].update(width=True), "'config.width'"),
    ("depth", lambda m: m["config"].update(depth=99), "'config.depth'"),
    ("bins", lambda m: m["config"].update(bins=10**9), "'config.bins'"),
    ("bins-bigint", lambda m: m["config"].update(bins=10**400), "'config.bins'"),
    ("stem-stride", lambda m: m["config"].update(stem_stride=3), "'config.stem_stride'"),
    ("head", lambda m: m["config"].update(head="softmax9000"), "'config.head'"),
    ("space", lambda m: m["config"].update(color_space="cmyk"), "'config.color_space'"),
    ("unknown-setting", lambda m: m["config"].update(layers=1000), "'config.layers'"),
    ("config-list", lambda m: m.update(config=[1, 2]), "'config'"),
    ("arch", lambda m: m.update(arch="../../evil"), "'arch'"),
    ("arch-number", lambda m: m.update(arch=5), "'arch'"),
    ("output-kind", lambda m: m.update(output_kind=7), "'output_kind'"),
    ("metrics-string", lambda m: m["metrics"].update(psnr="high"), "'metrics.psnr'"),
    ("metrics-bigint", lambda m: m["metrics"].update(psnr=10**30), "'metrics.psnr'"),
    ("metrics-list", lambda m: m.update(metrics=[1]), "'metrics'"),
    ("training-list", lambda m: m.update(training=[1]), "'training'"),
    ("training-deep", lambda m: m.update(training=_nested(40)), "nested more than"),
    ("training-bigint", lambda m: m.update(training={"steps": 10**30}), "'training.steps'"),
    ("description-number", lambda m: m.update(description=5), "'description'"),
    ("description-huge", lambda m: m.update(description="x" * 200_000), "'description'"),
    ("name-list", lambda m: m.update(name=["a"]), "'name'"),
    ("placeholder", lambda m: m.update(placeholder="yes"), "'placeholder'"),
    ("missing", lambda m: m.pop("work_size"), "work_size"),
    ("format", lambda m: m.update(format="pickle"), "not a Chroma model file"),
]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("change,field", [c[1:] for c in BAD_METADATA], ids=[c[0] for c in BAD_METADATA])
def test_bad_metadata_is_refused_at_import_and_load_naming_file_and_field(tmp_path, template, capsys, change, field):
    path = write(tmp_path / "hostile.safetensors", template[0], variant(template, change))
    before = snapshot(tmp_path)
    code, out, err = run_cli(capsys, "models", "import", str(path))
    assert code == 2
    assert "hostile.safetensors" in err and field in err, err
    assert "Traceback" not in out + err
    assert not user_store().exists() or not list(user_store().iterdir())  # nothing entered the store
    assert snapshot(tmp_path) == before  # the file itself is untouched
    with pytest.raises(ModelFileError) as load_err:  # the same check guards every load
        load_model(path)
    assert field in str(load_err.value) and str(path) in str(load_err.value)


def test_a_network_too_large_to_build_is_refused_before_any_allocation(tmp_path, template, capsys) -> None:
    """Every field within its own bound, but together 8.8 billion weights: counted, never built."""
    meta = variant(template, lambda m: m.update(arch="fusion", output_kind="ab", config={
        "width": 4.0, "head": "ab", "color_space": "lab", "global_size": 1024}))
    path = write(tmp_path / "huge.safetensors", template[0], meta)
    code, _, err = run_cli(capsys, "models", "import", str(path))
    assert code == 2 and "huge.safetensors" in err and "'config'" in err and f"{MAX_PARAMETERS:,}" in err


def test_nan_weights_and_deep_metadata_json_are_refused(tmp_path, template, capsys) -> None:
    tensors = {k: (torch.full_like(v, math.nan) if v.is_floating_point() else v) for k, v in template[0].items()}
    nan_path = write(tmp_path / "nan.safetensors", tensors, template[1])
    deep = write(tmp_path / "deep.safetensors", template[0], None, raw_meta="[" * 100_000 + "]" * 100_000)
    not_json = write(tmp_path / "notjson.safetensors", template[0], None, raw_meta="{chroma")
    for path, words in ((nan_path, "NaN"), (deep, "nested too deeply"), (not_json, "not valid JSON")):
        code, out, err = run_cli(capsys, "models", "import", str(path))
        assert code == 2 and path.name in err and words in err and "Traceback" not in out + err


def _raw_safetensors(header: bytes, data: bytes = b"", declared: int | None = None) -> bytes:
    return struct.pack("<Q", len(header) if declared is None else declared) + header + data


MALFORMED = {
    "empty": b"",
    "short": b"\x01\x02",
    "huge-header-length": _raw_safetensors(b"{}", declared=2**63),
    "header-not-json": _raw_safetensors(b"this is not json"),
    "header-deep": _raw_safetensors(b"[" * 5000 + b"]" * 5000),
    "offsets-past-end": _raw_safetensors(json.dumps({"w": {"dtype": "F32", "shape": [1000, 1000],
                                                           "data_offsets": [0, 4_000_000]}}).encode()),
    "bad-dtype": _raw_safetensors(json.dumps({"w": {"dtype": "Q99", "shape": [1], "data_offsets": [0, 4]}}).encode(),
                                  b"\0" * 4),
    "metadata-not-string": _raw_safetensors(json.dumps({"__metadata__": {"chroma": 5}}).encode()),
    "pickle": b"\x80\x04\x95" + b"cos\nsystem\n(S'touch /tmp/pwned'\ntR." + b"\0" * 32,
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_safetensors_are_refused_by_name(tmp_path, capsys, name) -> None:
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(MALFORMED[name])
    before = snapshot(tmp_path)
    for argv in (("models", "import", str(path)), ("models", "info", str(path))):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and path.name in err and "Traceback" not in out + err, (argv, err)
    assert snapshot(tmp_path) == before
    assert not user_store().exists() or not list(user_store().iterdir())


def test_models_list_skips_hostile_files_and_still_lists_the_good_one(tmp_path, template, capsys) -> None:
    store = user_store()
    store.mkdir(parents=True)
    write(store / "good.safetensors", template[0], template[1])
    write(store / "bad.safetensors", template[0], variant(template, lambda m: m.update(version="9")))
    (store / "junk.safetensors").write_bytes(MALFORMED["huge-header-length"])
    code, out, err = run_cli(capsys, "models", "list")
    assert code == 0 and "good" in out and "bad" not in out and "Traceback" not in out + err


# --- escape codes from a model file (finding 14) -------------------------------------------------

ANSI_DESCRIPTION = "\x1b[31mRED\x1b[0m \x1b]0;pwned\x07title \x9b2J\u202eevil\ud800 ok\r\nsecond line"


def test_control_characters_never_reach_the_terminal(tmp_path, template, capsys) -> None:
    meta = variant(template, lambda m: (m.update(description=ANSI_DESCRIPTION, name="n\x1b[2Jame"),
                                        m["metrics"].update({"\x1b[1mbold": 1.0}),
                                        m.update(training={"note": "\x1b[5mblink", "list": ["\x07"]})))
    shared = write(tmp_path / "fancy.safetensors", template[0], meta)
    shared.with_suffix(".md").write_text("# card\n\x1b[31mred card\x1b[0m\x07\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "models", "import", str(shared))
    assert code == 0, err
    for argv in (("models", "list"), ("models", "info", "fancy"), ("models", "info", "fancy", "--json"),
                 ("models", "list", "--json")):
        code, out, err = run_cli(capsys, *argv)
        assert code == 0, err
        assert not any(c in out + err for c in CONTROL), (argv, out)
        assert "RED" in out or "RED" in json.dumps(out)
    # the window shows the same parsed metadata and card: clean at the source
    entry = ModelStore().find("fancy")
    texts = [entry.info.description, entry.info.name, entry.card(), json.dumps(entry.info.training),
             *entry.info.metrics]
    assert not any(c in t for t in texts for c in CONTROL)
    assert entry.info.description.splitlines() == ["RED title evil ok", "second line"]
    assert "red card" in entry.card() and entry.card().startswith("# card\n")


def test_a_store_file_whose_name_holds_escape_codes_is_not_listed(template, capsys) -> None:
    store = user_store()
    store.mkdir(parents=True)
    write(store / "\x1b[31mred.safetensors", template[0], template[1])
    write(store / "plain.safetensors", template[0], template[1])
    code, out, _ = run_cli(capsys, "models", "list")
    assert code == 0 and "plain" in out and "\x1b" not in out


# --- --name with the suffix (finding 15) ----------------------------------------------------------

@pytest.mark.parametrize("given_name", ["a.safetensors", "a.SafeTensors", "a"])
def test_import_name_with_the_file_suffix_is_stored_once(tmp_path, template, capsys, given_name) -> None:
    shared = write(tmp_path / "friend.safetensors", template[0], template[1])
    code, out, err = run_cli(capsys, "models", "import", str(shared), "--name", given_name)
    assert code == 0, err
    assert sorted(p.name for p in user_store().iterdir()) == ["a.safetensors"]
    assert "imported a ->" in out
    code, out, _ = run_cli(capsys, "models", "list", "--json")
    assert [m["name"] for m in json.loads(out)] == ["a"]


# --- models delete: only the user's store, by name (finding 2) ------------------------------------

@pytest.fixture
def stores(tmp_path, template, monkeypatch) -> dict[str, Path]:
    """A built-in folder, a user store with one model, and a victim folder outside both."""
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    write(builtin / "default.safetensors", template[0], template[1])
    (builtin / "default.md").write_text("# default")
    monkeypatch.setenv("CHROMA_BUILTIN_MODELS_DIR", str(builtin))
    store = user_store()
    store.mkdir(parents=True)
    write(store / "mine.safetensors", template[0], template[1])
    (store / "mine.md").write_text("# mine")
    victim = tmp_path / "victim"
    victim.mkdir()
    write(victim / "precious.safetensors", template[0], template[1])
    (victim / "precious.md").write_text("# precious")
    monkeypatch.chdir(victim)
    return {"builtin": builtin, "store": store, "victim": victim, "root": tmp_path}


@pytest.mark.parametrize("ref_kind", ["absolute", "relative", "dot", "bare-file", "parent", "builtin-path",
                                      "home", "backslash"])
def test_delete_refuses_paths_and_touches_nothing(stores, capsys, ref_kind) -> None:
    ref = {
        "absolute": str(stores["victim"] / "precious.safetensors"),
        "relative": "victim/../victim/precious.safetensors",
        "dot": "./precious.safetensors",
        "bare-file": "precious.safetensors",
        "parent": "../victim/precious",
        "builtin-path": str(stores["builtin"] / "default.safetensors"),
        "home": "~/precious",
        "backslash": "..\\victim\\precious",
    }[ref_kind]
    before = snapshot(stores["root"])
    code, out, err = run_cli(capsys, "models", "delete", ref)
    assert code == 2
    assert "is a path" in err and "name" in err and "Traceback" not in out + err
    assert snapshot(stores["root"]) == before


@pytest.mark.parametrize("name,words", [("default", "built in"), ("precious", "no model of yours"),
                                         ("nothing-here", "no model of yours"), ("", "model name"),
                                         ("a\x1b[2Jb", "model name")])
def test_delete_refuses_builtins_and_unknown_names(stores, capsys, name, words) -> None:
    before = snapshot(stores["root"])
    code, out, err = run_cli(capsys, "models", "delete", name)
    assert code == 2 and words in err and "Traceback" not in out + err and "\x1b" not in err
    assert repr(name) in err  # the message names what was asked for (escaped, never raw)
    assert snapshot(stores["root"]) == before


def test_delete_removes_only_the_named_user_model_and_its_card(stores, template, capsys) -> None:
    write(stores["store"] / "other.safetensors", template[0], template[1])
    outside = snapshot(stores["victim"]) | snapshot(stores["builtin"])
    code, out, err = run_cli(capsys, "models", "delete", "mine")
    assert code == 0 and "deleted mine" in out, err
    assert sorted(p.name for p in stores["store"].iterdir()) == ["other.safetensors"]
    assert snapshot(stores["victim"]) | snapshot(stores["builtin"]) == outside


def test_delete_of_a_store_symlink_removes_the_link_not_its_target(stores, capsys) -> None:
    link = stores["store"] / "linked.safetensors"
    link.symlink_to(stores["victim"] / "precious.safetensors")
    before = snapshot(stores["victim"])
    code, _, err = run_cli(capsys, "models", "delete", "linked")
    assert code == 0, err
    assert not link.is_symlink() and snapshot(stores["victim"]) == before


def test_a_broken_user_model_can_still_be_deleted_by_name(stores, capsys) -> None:
    (stores["store"] / "broken.safetensors").write_bytes(b"junk")
    code, _, err = run_cli(capsys, "models", "delete", "broken")
    assert code == 0, err
    assert not (stores["store"] / "broken.safetensors").exists()


def test_hostile_model_commands_print_no_traceback_in_a_real_process(stores, template) -> None:
    """The in-process runs above catch escaping exceptions; this checks the real stderr once."""
    bad = write(stores["root"] / "bad.safetensors", template[0], variant(template, lambda m: m.update(version="9")))
    before = snapshot(stores["root"])
    for argv, words in ((["models", "import", str(bad)], "'version'"),
                        (["models", "delete", str(stores["victim"] / "precious.safetensors")], "is a path")):
        proc = subprocess.run([sys.executable, "-m", "ml_core.cli", *argv], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stdout + proc.stderr
    assert snapshot(stores["root"]) == before


# --- property: any JSON metadata either loads into a valid ModelInfo or is a ModelFileError -------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELDS = ("name", "arch", "config", "color_space", "output_kind", "work_size", "description", "training",
          "metrics", "placeholder", "temperature", "version")


def _near_valid(template_meta: dict[str, Any]) -> st.SearchStrategy[Any]:
    """The template with some fields (and config settings) replaced by arbitrary JSON: reaches every check."""
    config_keys = st.sampled_from(["width", "depth", "bins", "stem_stride", "head", "color_space", "hint_input",
                                   "global_context", "bogus"])
    return st.builds(
        lambda swaps, config_swaps: {**template_meta, **swaps,
                                     "config": {**template_meta["config"], **config_swaps}},
        st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=3),
        st.dictionaries(config_keys, JSON, max_size=2),
    )


def _assert_valid(info: ModelInfo) -> None:
    from ml_core.limits import MAX_TEMPERATURE, MAX_WORK_SIZE, MIN_TEMPERATURE, MIN_WORK_SIZE

    assert isinstance(info.work_size, int) and MIN_WORK_SIZE <= info.work_size <= MAX_WORK_SIZE
    assert info.temperature is None or MIN_TEMPERATURE <= info.temperature <= MAX_TEMPERATURE
    assert isinstance(info.config, dict) and isinstance(info.metrics, dict) and isinstance(info.training, dict)
    assert isinstance(info.name, str) and isinstance(info.description, str)
    assert not any(c in info.name + info.description for c in CONTROL)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_metadata_is_a_valid_info_or_a_model_file_error(template, data) -> None:
    raw = data.draw(st.one_of(JSON, _near_valid(template[1])))
    try:
        info = ModelInfo.from_json(json.dumps(raw), "prop.safetensors")
    except ModelFileError as exc:
        assert "prop.safetensors" in str(exc)
        return
    _assert_valid(info)


def test_metadata_parser_accepts_every_shipped_and_trained_shape(template, builtin_models) -> None:
    """The checks are bounds, not a new format: files Chroma writes (and ships) still load."""
    for path in sorted(builtin_models.glob("*.safetensors")):
        _assert_valid(read_info(path))
    for arch, config in (("eccv16", {}), ("fusion", {}), ("vgg_chroma", {}), ("unet", {"hint_input": True})):
        model = create(arch, **config)
        info = info_for(model, arch)
        assert check_metadata(json.loads(info.to_json()))["config"] == dict(model.config)


def test_saved_model_round_trips_through_the_checks(tmp_path) -> None:
    model = create("unet", width=4, depth=1)
    path = save_model(model, tmp_path / "ok.safetensors", info_for(model, "ok", description="fine"))
    assert load_model(path).info.description == "fine"
