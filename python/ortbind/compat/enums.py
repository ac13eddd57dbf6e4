"""The official binding's enums, with its members, values and printed names; and its log
severities' numbers."""

from __future__ import annotations

import enum

from .._logging import LEVELS

# ONNX Runtime's log severities by number (0 verbose to 4 fatal), as ortbind names them.
LOG_SEVERITIES = tuple(LEVELS)


class _OfficialEnum(enum.IntEnum):
    """An IntEnum whose str() is the official binding's (``GraphOptimizationLevel.ORT_ENABLE_ALL``)."""

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


class GraphOptimizationLevel(_OfficialEnum):
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_LAYOUT = 3
    ORT_ENABLE_ALL = 99


class ExecutionMode(_OfficialEnum):
    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1


class ExecutionOrder(_OfficialEnum):
    DEFAULT = 0
    PRIORITY_BASED = 1
    MEMORY_EFFICIENT = 2


class OrtExecutionProviderDevicePolicy(_OfficialEnum):
    """How ONNX Runtime picks a session's providers among the devices it offers
    (``SessionOptions.set_provider_selection_policy``)."""

    DEFAULT = 0
    PREFER_CPU = 1
    PREFER_NPU = 2
    PREFER_GPU = 3
    MAX_PERFORMANCE = 4
    MAX_EFFICIENCY = 5
    MIN_OVERALL_POWER = 6


class OrtHardwareDeviceType(_OfficialEnum):
    CPU = 0
    GPU = 1
    NPU = 2


class OrtCompileApiFlags(_OfficialEnum):
    """``ModelCompiler``'s ``flags``, combined with ``|``."""

    NONE = 0
    ERROR_IF_NO_NODES_COMPILED = 1
    ERROR_IF_OUTPUT_FILE_EXISTS = 2
