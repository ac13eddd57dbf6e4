"""Where the ONNX Runtime shared library comes from.

``_core`` calls :func:`library_path` while it is imported. The library is the one the installed
``onnxruntime`` wheel ships in ``onnxruntime/capi/``; it is located with ``importlib.util.find_spec``,
which reads the package's location without running it, so importing ortbind never loads the
official binding (and a second copy of the runtime). ``ORTBIND_LIBRARY`` names another file.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

ENV_VAR = "ORTBIND_LIBRARY"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name.partition(".so")[2]))


def library_path() -> str:
    override = os.environ.get(ENV_VAR)
    if override:
        if not Path(override).is_file():
            raise ImportError(f"ortbind: {ENV_VAR}={override} is not a file")
        return override

    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "ortbind: no ONNX Runtime found; install the onnxruntime package "
            f"(pip install onnxruntime) or set {ENV_VAR} to a libonnxruntime.so"
        )
    tried = []
    for location in spec.submodule_search_locations:
        capi = Path(location) / "capi"
        tried.append(str(capi))
        candidates = sorted(capi.glob("libonnxruntime.so*"), key=_version_key)
        if candidates:
            return str(candidates[-1])
    raise ImportError(
        f"ortbind: the onnxruntime package has no libonnxruntime.so in {', '.join(tried)}; "
        f"set {ENV_VAR} to a libonnxruntime.so"
    )
