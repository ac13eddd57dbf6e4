"""The machine and the versions a benchmark ran on, recorded with its numbers."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import _core


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine_info(intra_op_threads: int, inter_op_threads: int) -> dict[str, Any]:
    import importlib.metadata

    try:
        import onnxruntime

        official = str(onnxruntime.__version__)
    except ImportError:
        official = "not installed"
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "ortbind": importlib.metadata.version("ortbind"),
        # The library's file name, not its path: a report is shared beyond the machine it ran on.
        "ortbind_runtime": f"{_core.RUNTIME_VERSION} ({Path(_core.RUNTIME_PATH).name})",
        "ortbind_api_version": _core.API_VERSION,
        "onnxruntime_package": official,
        "session_options": {
            "intra_op_threads": intra_op_threads,
            "inter_op_threads": inter_op_threads,
            "execution_mode": "sequential",
            "optimization": "all",
        },
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
