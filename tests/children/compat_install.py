"""Child program: ``ortbind.compat.install()`` in a fresh interpreter, then what ``import onnxruntime``
gives, as JSON on stdout. The argument picks the case:

- ``install``: install, import onnxruntime and its capi modules, make and run a session, and report
  what is loaded (the official extension must not be, and one ONNX Runtime library only);
- ``uninstall``: install, then uninstall: ``import onnxruntime`` finds the official package again;
- ``late``: the official package is imported first, and install() is refused.

Run by tests/test_compat_install.py.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import ortbind
import ortbind.compat


def loaded() -> dict[str, Any]:
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "/" in line}
    return {
        "extension": sorted(p for p in paths if "onnxruntime_pybind11_state" in p),
        "runtimes": sorted(p for p in paths if "libonnxruntime.so" in p),
    }


def install() -> dict[str, Any]:
    ortbind.compat.install()
    ortbind.compat.install()  # twice is harmless
    import onnxruntime
    import onnxruntime.capi.onnxruntime_inference_collection as collection
    from onnxruntime.capi import _pybind_state
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument

    from support import models

    session = onnxruntime.InferenceSession(models.add_one_element(), providers=["CPUExecutionProvider"])
    try:
        session.run(None, {"x": [[1.0]]})
        refused = ""
    except InvalidArgument as error:
        refused = type(error).__name__
    return {
        "is_compat": onnxruntime is ortbind.compat and onnxruntime.InferenceSession is collection.InferenceSession,
        "capi": _pybind_state.SessionOptions is ortbind.compat.SessionOptions,
        "errors_are_ortbind": issubclass(Fail, ortbind.Error) and issubclass(InvalidArgument, ortbind.Error),
        "installed": ortbind.compat.installed(),
        "output": session.run(None, {"x": [1.5]})[0].tolist(),
        "refused": refused,
        "runtime_path": ortbind.runtime.RUNTIME_PATH,
        **loaded(),
    }


def uninstall() -> dict[str, Any]:
    ortbind.compat.install()
    ortbind.compat.uninstall()
    official = importlib.import_module("onnxruntime")
    return {
        "installed": ortbind.compat.installed(),
        "is_compat": official is ortbind.compat,
        "official_module": official.InferenceSession.__module__,
    }


def late() -> dict[str, Any]:
    importlib.import_module("onnxruntime")
    try:
        ortbind.compat.install()
    except ortbind.EnvError as error:
        return {"refused": str(error), "installed": ortbind.compat.installed()}
    return {"refused": "", "installed": ortbind.compat.installed()}


if __name__ == "__main__":
    case = {"install": install, "uninstall": uninstall, "late": late}[sys.argv[1]]
    print(json.dumps(case()))
