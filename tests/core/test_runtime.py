"""The threading policy (ml_core.runtime) reaches OpenMP: set by every entry point before torch loads."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from ml_core import runtime


def test_configure_sets_passive_waiting_but_keeps_the_users_choice() -> None:
    env: dict[str, str] = {}
    runtime.configure(env)
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    runtime.configure(env)
    assert env["OMP_WAIT_POLICY"] == "ACTIVE"


def test_configure_reports_whether_it_came_too_late() -> None:
    # In this test process torch is already loaded, so OpenMP has read its environment.
    import torch  # noqa: F401

    assert runtime.configure({}) is False


SPY = """
import sys
from ml_core import runtime
calls = []
original = runtime.configure
def spy(*args, **kwargs):
    calls.append("torch" in sys.modules)
    return original(*args, **kwargs)
runtime.configure = spy
try:
    {call}
except SystemExit:
    pass
import os
print(calls, os.environ.get("OMP_WAIT_POLICY"))
"""


@pytest.mark.parametrize("call", [
    "from ml_core.cli import main; main(['--help'])",
    "from desktop_app.__main__ import main; main(['--help'])",
    "from desktop_app.bundle_entry import main; main(['--help'])",
])
def test_every_entry_point_configures_before_torch_loads(call: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(SPY).replace("{call}", call)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("[False") and last.endswith("PASSIVE"), last
