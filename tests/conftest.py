from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import models

import ortbind


@pytest.fixture(scope="session")
def add_session() -> ortbind.Session:
    return ortbind.Session(models.add())


@pytest.fixture(scope="session")
def identity_session() -> ortbind.Session:
    return ortbind.Session(models.identity())


CHILDREN = Path(__file__).parent / "children"


def run_child(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Runs the program tests/children/<name>.py in a fresh interpreter."""
    return run_python_file(CHILDREN / f"{name}.py", *args, timeout=timeout)


def run_python_file(path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=timeout, env=env)


def run_python(code: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter (for crashes, imports, signals and peak memory)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), full_env.get("PYTHONPATH", "")])
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, env=full_env
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
