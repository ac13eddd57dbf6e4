"""Serving ``import onnxruntime`` from ortbind.compat: :func:`install` and :func:`uninstall`.

``install()`` registers ortbind.compat in ``sys.modules`` under the official package's name and the
names of its ``capi`` modules that libraries import, so that a library imported afterwards, which
runs ``import onnxruntime``, gets ortbind unchanged. The official package is never imported: its
extension carries a whole runtime of its own, and loading it would put a second ONNX Runtime in the
process. ortbind itself is imported before the names are registered, so it still finds the wheel's
``libonnxruntime.so`` through the real package's location.
"""

from __future__ import annotations

import sys
from types import ModuleType

from .. import _core

_NAMES = {
    "onnxruntime": "ortbind.compat",
    "onnxruntime.capi": "ortbind.compat.capi",
    "onnxruntime.capi._pybind_state": "ortbind.compat.capi._pybind_state",
    "onnxruntime.capi.onnxruntime_pybind11_state": "ortbind.compat.capi.onnxruntime_pybind11_state",
    "onnxruntime.capi.onnxruntime_inference_collection": "ortbind.compat.capi.onnxruntime_inference_collection",
}


def installed() -> bool:
    """Whether ``import onnxruntime`` gives ortbind.compat in this process."""
    return sys.modules.get("onnxruntime") is sys.modules["ortbind.compat"]


def install() -> None:
    """Make ``import onnxruntime`` (and its ``capi`` modules) give ortbind.compat from now on.

    Call it before anything imports onnxruntime: a process that has already imported the official
    package is refused with :class:`ortbind.EnvError`, since the modules holding it would keep it.
    Installing twice is harmless.
    """
    present = sys.modules.get("onnxruntime")
    if present is not None and not installed():
        raise _core.EnvError(
            "the official onnxruntime package is already imported in this process; call "
            "ortbind.compat.install() before anything imports onnxruntime"
        )
    for alias, name in _NAMES.items():
        sys.modules[alias] = sys.modules[name]


def uninstall() -> None:
    """Undo :func:`install`: ``import onnxruntime`` finds the official package again. Modules that
    imported onnxruntime meanwhile keep ortbind.compat."""
    for alias, name in _NAMES.items():
        module: ModuleType | None = sys.modules.get(alias)
        if module is not None and module is sys.modules.get(name):
            del sys.modules[alias]
