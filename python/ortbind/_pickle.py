"""Sessions that travel: a Session pickles as its model and options, and is rebuilt in the
receiving process once per (model digest, options), however many tasks carry it there.

The environment and the runtime are per process and never pickled. A session made from bytes
pickles those bytes; one made from a path pickles the file's bytes too, unless
:func:`pickle_by_path` was called on it, for workers that share its file system.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Session

_lock = threading.Lock()
_sessions: dict[tuple[str, str], Session] = {}
# Sessions inherited through fork: unusable in the child (see Session), kept referenced so that the
# child never tears them down.
_inherited: list[Session] = []


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    _inherited.extend(_sessions.values())
    _sessions.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _options_key(options: dict[str, Any]) -> str:
    return repr(sorted((k, sorted(v.items()) if isinstance(v, dict) else v) for k, v in options.items()))


def reduce_session(session: Session) -> tuple[Any, ...]:
    from . import _core

    if session.closed:
        raise _core.ClosedError("a closed session cannot be pickled")
    if session._model_path is not None and session._pickle_by_path:
        source: tuple[str, Any] = ("path", session._model_path)
    else:
        data = session._model_bytes
        if data is None:
            data = Path(session._model_path or "").read_bytes()
        source = ("bytes", data)
    return (_rebuild, (source, session._options))


def _rebuild(source: tuple[str, Any], options: dict[str, Any]) -> Session:
    from .session import Session

    kind, payload = source
    identity = hashlib.sha256(payload).hexdigest() if kind == "bytes" else f"path:{payload}"
    key = (identity, _options_key(options))
    with _lock:
        cached = _sessions.get(key)
        if cached is not None and not cached.closed:
            return cached
        session = Session(payload, **options)
        session._pickle_by_path = kind == "path"
        _sessions[key] = session
        return session


def sessions_built() -> int:
    """How many distinct sessions unpickling has built in this process."""
    return len(_sessions)


def pickle_by_path(session: Session) -> Session:
    """Make ``session`` pickle as its path (the receiver must see the same file), not its bytes."""
    if session._model_path is None:
        raise ValueError("this session was made from bytes; it has no path to pickle")
    session._pickle_by_path = True
    return session
