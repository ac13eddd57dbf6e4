"""Helpers the tests share: running a child program in a fresh interpreter, and sizing long runs to
this machine."""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import pytest

import ortbind
from support import models

ROOT = Path(__file__).resolve().parent.parent
CHILDREN = Path(__file__).resolve().parent / "children"
# A free-threaded CPython build (PEP 703), as `make test` runs the suite a second time on.
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

needs_mypy = pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="needs mypy, which is not installed (free-threaded CPython has no wheel of its librt)",
)


def run_child(
    name: str, *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the program tests/children/<name>.py in a fresh interpreter, with the repository root on
    PYTHONPATH (for ``from support import models``) and ``env`` added to this process's environment."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p)
    full_env.update(env or {})
    path = CHILDREN / f"{name}.py"
    return subprocess.run(
        [sys.executable, str(path), *args], capture_output=True, text=True, timeout=timeout, env=full_env
    )


@functools.cache
def _seconds_per_matmul() -> float:
    session = ortbind.Session(models.matmul_chain(40, 256), intra_op_threads=1)
    x = np.eye(256, dtype=np.float32)
    session.run({"x": x})
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        session.run({"x": x})
        best = min(best, time.perf_counter() - started)
    return best / 40


def chain_nodes(seconds: float) -> int:
    """How many 256x256 MatMuls (models.matmul_chain) make a run of at least ``seconds`` on one
    thread of this machine: tests that need a long run size it to the machine, not to a constant."""
    return max(10, math.ceil(seconds / _seconds_per_matmul()))
