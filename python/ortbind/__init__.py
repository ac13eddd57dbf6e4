"""ortbind: the low-overhead, safe way to run ONNX models from Python.

A C++ core over the ONNX Runtime C/C++ API (``ortbind._core``) with zero-copy numpy inputs and
outputs, and a thin Python layer for typed extraction and shape contracts.
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as error:
    if "_core" in str(error) and "ortbind" in str(error) and "ONNX Runtime" not in str(error):
        raise ImportError(
            f"{error}\nortbind's compiled module is missing: did you forget to build it? "
            "Run `make build` (or pip install -e .) in the source tree."
        ) from error
    raise

from ._core import (
    API_VERSION,
    RUNTIME_PATH,
    RUNTIME_VERSION,
    Cancelled,
    CancelToken,
    ClosedError,
    DeviceReset,
    DTypeError,
    EngineError,
    Env,
    EnvError,
    EPFail,
    Error,
    Fail,
    InputNameError,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    InvalidValueError,
    KindError,
    ModelLoadCanceled,
    ModelLoaded,
    ModelRequiresCompilation,
    NoModel,
    NoSuchFile,
    NotFound,
    NotImplementedInRuntime,
    OutputShapeError,
    RuntimeException,
    RunTimeout,
    ShapeError,
    ValidationError,
    available_providers,
)
from ._pickle import pickle_by_path
from .contracts import Contract, TensorContract
from .result import Result
from .session import CheckedSession, Metadata, Session, ValueSpec

# Runs build their results as this dict subclass directly, at C speed.
_core._set_result_type(Result)

__version__ = "0.1.0"

__all__ = [
    "API_VERSION",
    "RUNTIME_PATH",
    "RUNTIME_VERSION",
    "CancelToken",
    "Cancelled",
    "CheckedSession",
    "ClosedError",
    "Contract",
    "DTypeError",
    "DeviceReset",
    "EPFail",
    "EngineError",
    "Env",
    "EnvError",
    "Error",
    "Fail",
    "InputNameError",
    "InvalidArgument",
    "InvalidGraph",
    "InvalidProtobuf",
    "InvalidValueError",
    "KindError",
    "Metadata",
    "ModelLoadCanceled",
    "ModelLoaded",
    "ModelRequiresCompilation",
    "NoModel",
    "NoSuchFile",
    "NotFound",
    "NotImplementedInRuntime",
    "OutputShapeError",
    "Result",
    "RunTimeout",
    "RuntimeException",
    "Session",
    "ShapeError",
    "TensorContract",
    "ValidationError",
    "ValueSpec",
    "__version__",
    "available_providers",
    "pickle_by_path",
]
