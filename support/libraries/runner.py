"""Running a library's scenario in its environment, once with the official binding and once with
ortbind.compat, each in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from .environment import ROOT, Environment

MODES = ("official", "compat")


class ScenarioFailed(RuntimeError):
    pass


def run_scenario(environment: Environment, mode: str, workdir: Path, repeat: int = 5) -> dict[str, Any]:
    """The scenario's JSON report; :class:`ScenarioFailed` with its stderr when it fails."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)  # for support.libraries.scenario; ortbind is the installed wheel
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy's spinning threads would take the runtime's cores
    command = [str(environment.python), str(environment.library.scenario), mode, str(workdir), "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir.parent, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise ScenarioFailed(f"{environment.library.name} ({mode}) exited {done.returncode}:\n{done.stderr[-6000:]}")
    report: dict[str, Any] = json.loads(lines[-1])
    return report
