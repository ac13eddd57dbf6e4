from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

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


def run_python(code: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a fresh interpreter (for crashes, imports, signals and peak memory)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), full_env.get("PYTHONPATH", "")])
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, env=full_env
    )
