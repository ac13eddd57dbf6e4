"""Child program: ortbind on an older ONNX Runtime (ORTBIND_LIBRARY), which runs models and refuses
each newer feature alone. Prints one JSON object: the API version, the features, a run's output, and
the message of each refused feature.

Usage: older_runtime.py (run by tests/test_core_loader.py with ORTBIND_LIBRARY set)
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

import ortbind
from support import models


def refusal(call: Callable[[], object]) -> str:
    try:
        call()
    except ortbind.errors.NotImplementedInRuntime as error:
        return str(error)
    return "not refused"


def main() -> None:
    session = ortbind.Session(models.add())
    x = np.ones((2, 3), np.float32)
    out = tempfile.mkdtemp()
    refused = {
        "register_provider_library": refusal(lambda: ortbind.runtime.register_provider_library("p", "/x.so")),
        "devices": refusal(ortbind.runtime.devices),
        "provider_policy": refusal(lambda: ortbind.Session(models.add(), provider_policy="prefer_cpu")),
        "timeout": refusal(lambda: ortbind.Session(models.add(), timeout=5)),
        "node_assignment": refusal(session.node_assignment),
        "compile": refusal(lambda: ortbind.compile(models.add(), Path(out) / "c.onnx")),
        "run_profile": refusal(lambda: session.run({"x": x, "y": x}, profile=Path(out) / "p")),
    }
    print(json.dumps({
        "api": ortbind.runtime.API_VERSION,
        "version": ortbind.runtime.RUNTIME_VERSION,
        "features": {name: feature.available for name, feature in ortbind.runtime.FEATURES.items()},
        "sum": session.run({"x": x, "y": x})["z"].tolist(),
        "tagged": session.run({"x": x, "y": x}, tag="old", run_config={"a": "b"})["z"].tolist(),
        "refused": refused,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
