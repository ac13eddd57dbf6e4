"""The whole exception hierarchy. ``ortbind.Error`` is the root of everything ortbind raises.

- ONNX Runtime's own failures: one class per ``OrtErrorCode`` (``Fail``, ``InvalidArgument``,
  ``NoSuchFile``, ``InvalidGraph``, ...), each with ``code`` and ``code_name``; some also derive
  from the builtin a caller would try first (``InvalidArgument`` is a ``ValueError``).
- ortbind's own checks, made before ONNX Runtime sees the data (``ValidationError`` and its
  subclasses), and the lifecycle errors (``ClosedError``, ``Cancelled``, ``RunTimeout``,
  ``EnvError``): these are also importable from ``ortbind`` itself.
"""

from __future__ import annotations

from ._core import (
    Cancelled,
    ClosedError,
    DeviceReset,
    DTypeError,
    EngineError,
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
    NameMismatchError,
    NoModel,
    NoSuchFile,
    NotFound,
    NotImplementedInRuntime,
    OutputShapeError,
    RuntimeException,
    RunTimeout,
    ShapeError,
    ValidationError,
)

__all__ = [
    "Cancelled",
    "ClosedError",
    "DTypeError",
    "DeviceReset",
    "EPFail",
    "EngineError",
    "EnvError",
    "Error",
    "Fail",
    "InputNameError",
    "InvalidArgument",
    "InvalidGraph",
    "InvalidProtobuf",
    "InvalidValueError",
    "KindError",
    "ModelLoadCanceled",
    "ModelLoaded",
    "ModelRequiresCompilation",
    "NameMismatchError",
    "NoModel",
    "NoSuchFile",
    "NotFound",
    "NotImplementedInRuntime",
    "OutputShapeError",
    "RunTimeout",
    "RuntimeException",
    "ShapeError",
    "ValidationError",
]
