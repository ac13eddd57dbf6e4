"""ortbind.compat: the official ``onnxruntime`` binding's Python surface, on ortbind's core.

For your own code, one line::

    import ortbind.compat as ort

    session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"x": x})

For libraries that ``import onnxruntime`` themselves, call :func:`install` before importing them.
compat never imports the official package; the ``onnxruntime`` wheel stays the source of the
``libonnxruntime.so`` that ortbind loads. ``session.ortbind`` is the native :class:`ortbind.Session`.
"""

from __future__ import annotations

from ..runtime import RUNTIME_VERSION
from . import capi
from .compiler import ModelCompiler
from .devices import (
    OrtEpAssignedNode,
    OrtEpAssignedSubgraph,
    OrtEpDevice,
    OrtHardwareDevice,
    get_ep_devices,
    register_execution_provider_library,
    unregister_execution_provider_library,
)
from .enums import (
    ExecutionMode,
    ExecutionOrder,
    GraphOptimizationLevel,
    OrtCompileApiFlags,
    OrtExecutionProviderDevicePolicy,
    OrtHardwareDeviceType,
)
from .errors import (
    DeviceReset,
    EngineError,
    EPFail,
    Fail,
    InvalidArgument,
    InvalidGraph,
    InvalidProtobuf,
    ModelLoadCanceled,
    ModelLoaded,
    ModelRequiresCompilation,
    NoModel,
    NoSuchFile,
    NotFound,
    NotImplemented,
    RuntimeException,
)
from .install import install, installed, uninstall
from .iobinding import IOBinding
from .nodeargs import ModelMetadata, NodeArg
from .options import LoraAdapter, RunOptions, SessionOptions
from .ortvalue import OrtDevice, OrtDeviceVendorId, OrtValue
from .runtime import (
    disable_telemetry_events,
    enable_telemetry_events,
    get_all_providers,
    get_available_providers,
    get_build_info,
    get_device,
    get_version_string,
    has_collective_ops,
    preload_dlls,
    set_default_logger_severity,
    set_default_logger_verbosity,
)
from .session import InferenceSession, Session

# The version of the ONNX Runtime ortbind loaded, as the official package reports its own.
__version__ = RUNTIME_VERSION

__all__ = [
    "DeviceReset",
    "EPFail",
    "EngineError",
    "ExecutionMode",
    "ExecutionOrder",
    "Fail",
    "GraphOptimizationLevel",
    "IOBinding",
    "InferenceSession",
    "InvalidArgument",
    "InvalidGraph",
    "InvalidProtobuf",
    "LoraAdapter",
    "ModelCompiler",
    "ModelLoadCanceled",
    "ModelLoaded",
    "ModelMetadata",
    "ModelRequiresCompilation",
    "NoModel",
    "NoSuchFile",
    "NodeArg",
    "NotFound",
    "NotImplemented",
    "OrtCompileApiFlags",
    "OrtDevice",
    "OrtDeviceVendorId",
    "OrtEpAssignedNode",
    "OrtEpAssignedSubgraph",
    "OrtEpDevice",
    "OrtExecutionProviderDevicePolicy",
    "OrtHardwareDevice",
    "OrtHardwareDeviceType",
    "OrtValue",
    "RunOptions",
    "RuntimeException",
    "Session",
    "SessionOptions",
    "__version__",
    "capi",
    "disable_telemetry_events",
    "enable_telemetry_events",
    "get_all_providers",
    "get_available_providers",
    "get_build_info",
    "get_device",
    "get_ep_devices",
    "get_version_string",
    "has_collective_ops",
    "install",
    "installed",
    "preload_dlls",
    "register_execution_provider_library",
    "set_default_logger_severity",
    "set_default_logger_verbosity",
    "uninstall",
    "unregister_execution_provider_library",
]
