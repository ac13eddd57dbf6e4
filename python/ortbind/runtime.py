"""The loaded ONNX Runtime: which file, which version, which C API, which execution providers.

The library is the one the ``onnxruntime`` wheel ships (or ``ORTBIND_LIBRARY``), dlopen'ed when
``ortbind`` is imported; see ``ortbind._library`` for how it is found.
"""

from __future__ import annotations

from ._core import API_VERSION, RUNTIME_PATH, RUNTIME_VERSION, available_providers

__all__ = ["API_VERSION", "RUNTIME_PATH", "RUNTIME_VERSION", "available_providers"]
