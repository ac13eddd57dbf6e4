"""The official binding's module functions: providers, device, versions, logging, telemetry.

They report the runtime ortbind loaded (the ``onnxruntime`` wheel's ``libonnxruntime.so``). The
default logger's severity is the level of ortbind's default environment
(``ortbind.Env.default().set_log_level``), which sessions made afterwards log at; ONNX Runtime's
records reach Python's ``logging`` as the logger ``ortbind.onnxruntime``. The verbosity, which only
debug builds of ONNX Runtime read, is kept and not applied. Telemetry is off on Linux builds of
ONNX Runtime; the switches are no-ops, as there. There is no CUDA library to preload on the CPU, so
``preload_dlls`` does nothing, as the official binding's does without CUDA.
"""

from __future__ import annotations

import operator

from .._core import Env
from ..runtime import RUNTIME_VERSION, available_providers
from .enums import LOG_SEVERITIES
from .errors import OrtRuntimeError
from .providers import ALL_PROVIDERS

_logger = {"verbosity": 0}


def get_available_providers() -> list[str]:
    return available_providers()


def get_all_providers() -> list[str]:
    return list(ALL_PROVIDERS)


def get_device() -> str:
    return "GPU" if "CUDAExecutionProvider" in available_providers() else "CPU"


def get_version_string() -> str:
    return RUNTIME_VERSION


def get_build_info() -> str:
    return f"ORT Build Info: ONNX Runtime {RUNTIME_VERSION} loaded by ortbind.compat"


def has_collective_ops() -> bool:
    return False


def set_default_logger_severity(severity: int) -> None:
    value = operator.index(severity)
    if not 0 <= value <= 4:
        raise OrtRuntimeError(
            "Invalid logging severity. 0:Verbose, 1:Info, 2:Warning, 3:Error, 4:Fatal (given " + str(value) + ")"
        )
    Env.default().set_log_level(LOG_SEVERITIES[value])


def set_default_logger_verbosity(verbosity: int) -> None:
    _logger["verbosity"] = operator.index(verbosity)


def disable_telemetry_events() -> None:
    """No-op: ONNX Runtime sends no telemetry on Linux."""


def enable_telemetry_events() -> None:
    """No-op: ONNX Runtime sends no telemetry on Linux."""


def preload_dlls(cuda: bool = True, cudnn: bool = True, msvc: bool = True, directory: str | None = None) -> None:
    """No-op: a CPU runtime has no CUDA or cuDNN libraries to load first."""
