"""The official binding's module functions: providers, device, versions, logging, telemetry.

They report the runtime ortbind loaded (the ``onnxruntime`` wheel's ``libonnxruntime.so``). The
default logger's severity and verbosity are kept and not applied: ortbind's one environment takes
its log level when it is made (``ortbind.Env(log_level=...)``), and they change no number.
Telemetry is off on Linux builds of ONNX Runtime; the switches are no-ops, as there. There is no
CUDA library to preload on the CPU, so ``preload_dlls`` does nothing, as the official binding's does
without CUDA.
"""

from __future__ import annotations

import operator

from ..runtime import RUNTIME_VERSION, available_providers
from .errors import OrtRuntimeError
from .providers import ALL_PROVIDERS

_logger = {"severity": 2, "verbosity": 0}


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
    _logger["severity"] = value


def set_default_logger_verbosity(verbosity: int) -> None:
    _logger["verbosity"] = operator.index(verbosity)


def disable_telemetry_events() -> None:
    """No-op: ONNX Runtime sends no telemetry on Linux."""


def enable_telemetry_events() -> None:
    """No-op: ONNX Runtime sends no telemetry on Linux."""


def preload_dlls(cuda: bool = True, cudnn: bool = True, msvc: bool = True, directory: str | None = None) -> None:
    """No-op: a CPU runtime has no CUDA or cuDNN libraries to load first."""
