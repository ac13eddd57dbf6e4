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

import importlib.metadata

from . import errors, runtime
from ._core import (
    Binding,
    Cancelled,
    CancelToken,
    ClosedError,
    DTypeError,
    Env,
    EnvError,
    Error,
    InputNameError,
    InvalidValueError,
    KindError,
    NameMismatchError,
    OutputShapeError,
    RunTimeout,
    ShapeError,
    ValidationError,
)
from .batcher import Batcher, BatcherStats, QueueFullError
from .contracts import Contract, TensorContract
from .dlpack import DLPackArray
from .result import Result
from .runtime import compile
from .session import AssignedNode, CheckedSession, Metadata, Session, ValueSpec, pickle_by_path
from .weights import LoraAdapter, PrepackedWeights

# Runs build their results as this dict subclass directly, at C speed.
_core._set_result_type(Result)
# Outputs of ml_dtypes' element types are made as this ndarray subclass, which exports them to DLPack.
_core._set_dlpack_array_type(DLPackArray)

__version__ = importlib.metadata.version("ortbind")

__all__ = [
    "AssignedNode",
    "Batcher",
    "BatcherStats",
    "Binding",
    "CancelToken",
    "Cancelled",
    "CheckedSession",
    "ClosedError",
    "Contract",
    "DLPackArray",
    "DTypeError",
    "Env",
    "EnvError",
    "Error",
    "InputNameError",
    "InvalidValueError",
    "KindError",
    "LoraAdapter",
    "Metadata",
    "NameMismatchError",
    "OutputShapeError",
    "PrepackedWeights",
    "QueueFullError",
    "Result",
    "RunTimeout",
    "Session",
    "ShapeError",
    "TensorContract",
    "ValidationError",
    "ValueSpec",
    "__version__",
    "compile",
    "errors",
    "pickle_by_path",
    "runtime",
]
