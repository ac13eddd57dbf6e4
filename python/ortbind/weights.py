"""What a session may share or be given beside its model: :class:`PrepackedWeights` shared by sessions, and
:class:`LoraAdapter` activated per run. Both are the compiled classes; this module adds pickling.

A ``PrepackedWeights`` container is process-local memory: it pickles as a token, and every
container unpickled in one process from the same token is the same container there, so sessions
that shared one in the sender share one in each receiver too.
"""

from __future__ import annotations

import os
import threading
import uuid
import weakref
from typing import Any

from . import _core

_lock = threading.Lock()
_containers: weakref.WeakValueDictionary[str, PrepackedWeights] = weakref.WeakValueDictionary()


class PrepackedWeights(_core.PrepackedWeights):
    """A container in which ONNX Runtime keeps prepacked weights for sessions to share.

    Sessions made with the same container and the same caller-owned arrays as ``initializers=``
    share one prepacked copy of those weights (ONNX Runtime shares prepacked forms only of shared
    initializers). Each session holds the container for its lifetime.
    """

    def __init__(self) -> None:
        super().__init__()
        self._token = uuid.uuid4().hex
        with _lock:
            _containers[self._token] = self

    def __repr__(self) -> str:
        return f"<ortbind.PrepackedWeights {self._token}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_container_for, (self._token,))


def _container_for(token: str) -> PrepackedWeights:
    """The container this process has for ``token``, made on first use."""
    with _lock:
        found = _containers.get(token)
        if found is None:
            found = PrepackedWeights.__new__(PrepackedWeights)
            _core.PrepackedWeights.__init__(found)
            found._token = token
            _containers[token] = found
        return found


class LoraAdapter(_core.LoraAdapter):
    """A LoRA adapter (ONNX Runtime's adapter format) from a path or bytes-like (copied).

    ``session.run(feeds, adapters=[adapter])`` runs with its parameters in place of the model's
    inputs or overridable initializers of the same names. One adapter may serve many sessions and
    runs at once; each run holds the adapters it was given until it is over.
    """

    def __init__(self, source: str | os.PathLike[str] | bytes | bytearray | memoryview) -> None:
        super().__init__(source)
        self._source = os.fsdecode(source) if isinstance(source, str | os.PathLike) else None

    def __repr__(self) -> str:
        return f"<ortbind.LoraAdapter {self._source or '(from bytes)'}>"
