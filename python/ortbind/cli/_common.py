"""What every subcommand shares: the user-error type, opening a model, optional dependencies."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from .. import _core
from ..session import Session


class UsageError(Exception):
    """A mistake of the user's (a missing file, a wrong option, feeds that do not fit): the command
    prints the message on one line and exits with status 2, without a traceback."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def require(command: str, *modules: str) -> None:
    """Imports the optional packages a subcommand needs, or says how to install them."""
    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise UsageError(f"ortbind {command} needs {', '.join(missing)}: pip install 'ortbind[cli]'")


def model_path(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise UsageError(f"{text}: no such file")
    if path.is_dir():
        raise UsageError(f"{text}: is a folder, not an ONNX model file")
    return path


def quiet_env() -> _core.Env | None:
    """An environment that logs fatal errors only (the runtime's warnings about a user's model are
    not results, and a run's error is reported by the command itself), or None (the live one) where
    another is in use in this process. Not kept: it ends with the command's sessions, so that a
    process calling :func:`ortbind.cli.main` may make an environment of its own afterwards."""
    try:
        return _core.Env(log_level="fatal", log_id="ortbind-cli")
    except _core.EnvError:
        return None


def open_session(path: Path, *, intra_op_threads: int | None = None, inter_op_threads: int | None = None) -> Session:
    """ortbind's session on the model, or a :class:`UsageError` saying why ONNX Runtime refused it."""
    try:
        return Session(
            os.fspath(path), env=quiet_env(), intra_op_threads=intra_op_threads, inter_op_threads=inter_op_threads
        )
    except _core.Error as error:
        raise UsageError(
            f"{path}: not a model ONNX Runtime can load ({type(error).__name__}: {first_line(error)})"
        ) from None
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror or error}") from None
