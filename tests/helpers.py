"""Helpers the tests share: running a child program in a fresh interpreter, and sizing long runs to
this machine."""

from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import ortbind
from support import models

ROOT = Path(__file__).resolve().parent.parent
CHILDREN = Path(__file__).resolve().parent / "children"


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
