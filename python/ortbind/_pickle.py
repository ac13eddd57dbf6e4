"""Sessions that travel: a Session pickles as its model and options, and is rebuilt in the
receiving process once per (model digest, options), however many tasks carry it there.

The environment and the runtime are per process and never pickled. A session made from bytes
pickles those bytes; one made from a path pickles the file's bytes too, unless it was made with
``pickle_by="path"`` semantics (see :func:`pickle_by_path`), for workers that share its file system.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Session

_lock = threading.Lock()
_sessions: dict[tuple[str, str], Session] = {}


def _options_key(options: dict[str, Any]) -> str:
    return repr(sorted((k, sorted(v.items()) if isinstance(v, dict) else v) for k, v in options.items()))


def reduce_session(session: Session) -> tuple[Any, ...]:
    if session.closed:
        raise _closed()
    if session._model_path is not None and session._pickle_by_path:
        source: tuple[str, Any] = ("path", session._model_path)
    else:
        data = session._model_bytes
        if data is None:
            data = Path(session._model_path or "").read_bytes()
        source = ("bytes", data)
    return (_rebuild, (source, session._options))


def _closed() -> Exception:
    from . import _core

    return _core.ClosedError("a closed session cannot be pickled")


def _rebuild(source: tuple[str, Any], options: dict[str, Any]) -> Session:
    from .session import Session

    kind, payload = source
    data = payload if kind == "bytes" else None
    identity = hashlib.sha256(data).hexdigest() if data is not None else f"path:{payload}"
    key = (identity, _options_key(options))
    with _lock:
        cached = _sessions.get(key)
        if cached is not None and not cached.closed:
            return cached
        session = Session(payload, **options)
        if kind == "path":
            session._pickle_by_path = True
        _sessions[key] = session
        return session


def pickle_by_path(session: Session) -> Session:
    """Make ``session`` pickle as its path (the receiver must see the same file), not its bytes."""
    if session._model_path is None:
        raise ValueError("this session was made from bytes; it has no path to pickle")
    session._pickle_by_path = True
    return session
