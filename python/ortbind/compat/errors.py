"""The exceptions code written against onnxruntime catches, as ortbind's own classes.

The classes under ``onnxruntime.capi.onnxruntime_pybind11_state`` (``Fail``, ``InvalidArgument``,
``NoSuchFile``, ...) are the classes of :mod:`ortbind.errors`: ``except InvalidArgument`` catches what
ortbind raises, and every one is an :class:`ortbind.Error`. Where the official binding raises a bare
builtin (``ValueError`` for missing inputs, ``RuntimeError`` for an unconvertible list or an I/O
binding's failed run), compat raises a class that derives from both the builtin and the ortbind
class that says what happened, so that one hierarchy holds and the official ``except`` clauses work.

Messages of ONNX Runtime's own errors carry the official binding's prefix
(``[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : ...``), which some programs search.
"""

from __future__ import annotations

import re

from ..errors import (
    Cancelled,
    DeviceReset,
    EngineError,
    EPFail,
    Error,
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    InvalidValueError,
    ModelLoadCanceled,
    ModelLoaded,
    ModelRequiresCompilation,
    NameMismatchError,
    NoModel,
    NoSuchFile,
    NotFound,
    NotImplementedInRuntime,
    RuntimeException,
    RunTimeout,
)

# The official binding's name for ORT_NOT_IMPLEMENTED; it shadows the builtin constant here only.
NotImplemented = NotImplementedInRuntime


class MissingInputsError(NameMismatchError, ValueError):
    """Required inputs are missing from the feed (the official binding raises ``ValueError``)."""


class ListConversionError(InvalidValueError, RuntimeError):
    """A Python list that numpy cannot convert to the input's declared element type (the official
    binding's ``RuntimeError: Could not create tensor from given input list``)."""


class OrtRuntimeError(Error, RuntimeError):
    """Where the official binding raises a bare ``RuntimeError``: an unknown provider type, a missing
    config entry, an OrtValue it cannot make, a failed run of an I/O binding (``Error in
    execution: ...``). The error ortbind raised, if any, is the ``__cause__``."""


class ProvidersError(InvalidValueError):
    """``providers=`` or ``provider_options=`` in a form the official binding refuses (its
    ``ValueError``), which a new session answers by falling back to the CPU."""


class Terminated(Fail, Cancelled):
    """A run stopped by ``RunOptions.terminate`` (the official binding's ``Fail``)."""


class LoadCanceled(ModelLoadCanceled, Cancelled):
    """A session whose loading ``SessionOptions.set_load_cancellation_flag(True)`` stopped (the
    official binding's ``ModelLoadCanceled``)."""


class TimedOut(Fail, RunTimeout):
    """A run stopped by ``RunOptions.timeout``, compat's addition: a ``Fail`` as a terminated run
    is, and ortbind's ``RunTimeout`` (a ``TimeoutError``)."""


_CODE_NAMES = {
    1: "FAIL",
    2: "INVALID_ARGUMENT",
    3: "NO_SUCHFILE",
    4: "NO_MODEL",
    5: "ENGINE_ERROR",
    6: "RUNTIME_EXCEPTION",
    7: "INVALID_PROTOBUF",
    8: "MODEL_LOADED",
    9: "NOT_IMPLEMENTED",
    10: "INVALID_GRAPH",
    11: "EP_FAIL",
    12: "MODEL_LOAD_CANCELED",
    13: "MODEL_REQUIRES_COMPILATION",
    14: "NOT_FOUND",
    15: "DEVICE_RESET",
}


def ort_message(code: int, text: str) -> str:
    """``text`` as the official binding words an ONNX Runtime status of ``code``."""
    return f"[ONNXRuntimeError] : {code} : {_CODE_NAMES.get(code, 'FAIL')} : {text}"


_PREFIX = re.compile(r"\[ONNXRuntimeError\] : \d+ : [A-Z_]+ : ")


def unprefixed(message: str) -> str:
    """A message without the official binding's prefix (what ``run_async``'s callback is given)."""
    return _PREFIX.sub("", message, count=1)


def worded(error: Error) -> Error:
    """An ONNX Runtime error ortbind raised, with the official binding's prefix; other errors, and
    those worded already, as they are."""
    code = getattr(error, "code", None)
    if not isinstance(code, int) or _PREFIX.match(str(error)):
        return error
    again = type(error)(ort_message(code, str(error)))
    # The instance keeps its code, as _core sets it, since the class may be the base one.
    setattr(again, "code", code)  # noqa: B010
    return again


__all__ = [
    "DeviceReset",
    "EPFail",
    "EngineError",
    "Fail",
    "InvalidArgument",
    "InvalidGraph",
    "InvalidProtobuf",
    "ListConversionError",
    "LoadCanceled",
    "MissingInputsError",
    "ModelLoadCanceled",
    "ModelLoaded",
    "ModelRequiresCompilation",
    "NoModel",
    "NoSuchFile",
    "NotFound",
    "NotImplemented",
    "OrtRuntimeError",
    "ProvidersError",
    "RuntimeException",
    "Terminated",
    "TimedOut",
]
