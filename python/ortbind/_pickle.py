"""Sessions that travel: a Session pickles as its model and options, and is rebuilt in the
receiving process once per (model digest, options), however many tasks carry it there.

The environment and the runtime are per process and never pickled. A session made from bytes
pickles those bytes; one made from a path pickles the file's bytes too, unless
:func:`ortbind.pickle_by_path` was called on it, for workers that share its file system.
This module keeps the per-process cache; ``Session.__reduce__`` and its rebuilder use it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

_S = TypeVar("_S")
_lock = threading.Lock()
_sessions: dict[tuple[str, str], Any] = {}
# Sessions inherited through fork: unusable in the child (see Session), kept referenced so that the
# child never tears them down.
_inherited: list[Any] = []


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    _inherited.extend(_sessions.values())
    _sessions.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _options_key(options: dict[str, Any]) -> str:
    return repr(_key_of(options))


def _key_of(value: Any) -> Any:
    """A value's part of the cache key: buffers (initializer arrays, external data) by digest, since
    their repr is not their content."""
    if isinstance(value, dict):
        return sorted((key, _key_of(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return [_key_of(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    buffer = value.data if hasattr(value, "for_pickle") else value
    try:
        view = memoryview(buffer)
    except TypeError:
        return repr(value)
    digest = hashlib.sha256(view if view.c_contiguous else view.tobytes()).hexdigest()
    return ("buffer", view.format, view.shape, digest)


def source_of(path: str | None, data: bytes | None, by_path: bool) -> tuple[str, Any]:
    """What a session pickles as: ("path", its path) or ("bytes", the model)."""
    if path is not None and by_path:
        return ("path", path)
    return ("bytes", data if data is not None else Path(path or "").read_bytes())


def rebuilt(source: tuple[str, Any], options: dict[str, Any], make: Callable[[], _S]) -> _S:
    """The session this process already rebuilt for (source, options), or ``make()``'s."""
    kind, payload = source
    identity = hashlib.sha256(payload).hexdigest() if kind == "bytes" else f"path:{payload}"
    key = (identity, _options_key(options))
    with _lock:
        cached = _sessions.get(key)
        if cached is not None and not cached.closed:
            return cached  # type: ignore[no-any-return]
        session = make()
        _sessions[key] = session
        return session


def sessions_built() -> int:
    """How many distinct sessions unpickling has built in this process."""
    return len(_sessions)
