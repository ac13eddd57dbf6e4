"""Execution providers as the official binding takes them: names or ``(name, options)`` pairs, with
an optional list of option dicts beside them.

A provider the loaded runtime lacks is warned about and skipped (``get_providers()`` does not list
it); a name ONNX Runtime does not know at all is refused with ``RuntimeError: Unknown Provider
Type``, which a new session answers by falling back to the CPU, as the official binding does. The
CPU provider is always there, last; its options are accepted and, as in the official binding, have
no effect (``get_provider_options()`` shows it with none).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import OrtRuntimeError, ProvidersError

CPU = "CPUExecutionProvider"

# Every provider type ONNX Runtime 1.32 knows, in its default order of precedence (the official
# binding's get_all_providers()); a name outside it is an unknown provider type.
ALL_PROVIDERS = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "MIGraphXExecutionProvider",
    "OpenVINOExecutionProvider",
    "DnnlExecutionProvider",
    "VitisAIExecutionProvider",
    "QNNExecutionProvider",
    "NnapiExecutionProvider",
    "VSINPUExecutionProvider",
    "JsExecutionProvider",
    "CoreMLExecutionProvider",
    "DmlExecutionProvider",
    "RknpuExecutionProvider",
    "WebNNExecutionProvider",
    "WebGpuExecutionProvider",
    "XnnpackExecutionProvider",
    "CANNExecutionProvider",
    "AzureExecutionProvider",
    CPU,
)


def check_and_normalize_provider_args(
    providers: Sequence[str | tuple[str, Mapping[Any, Any]]] | None,
    provider_options: Sequence[Mapping[Any, Any]] | None,
    available_provider_names: Sequence[str],
) -> tuple[list[str], list[dict[str, str]]]:
    """The providers as two parallel lists, names and options (keys and values made str), with a
    warning for each unavailable provider and each repeated one (the later is dropped)."""
    if providers is None:
        return [], []
    if not isinstance(providers, Sequence):
        raise ProvidersError("'providers' should be a sequence.")
    pairs: list[tuple[str, Mapping[Any, Any]]] = []
    if provider_options is not None:
        if not isinstance(provider_options, Sequence):
            raise ProvidersError("'provider_options' should be a sequence.")
        if len(providers) != len(provider_options):
            raise ProvidersError("'providers' and 'provider_options' should be the same length if both are given.")
        if not all(isinstance(name, str) for name in providers):
            raise ProvidersError("Only string values for 'providers' are supported if 'provider_options' is given.")
        if not all(isinstance(options, dict) for options in provider_options):
            raise ProvidersError("'provider_options' values must be dicts.")
        pairs = [(str(name), options) for name, options in zip(providers, provider_options, strict=True)]
    else:
        for item in providers:
            if isinstance(item, str):
                pairs.append((item, {}))
            elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], dict):
                pairs.append((item[0], item[1]))
            else:
                raise ProvidersError("'providers' values must be either strings or (string, dict) tuples.")
    chosen: dict[str, dict[str, str]] = {}
    for name, options in pairs:
        if name not in available_provider_names:
            warnings.warn(
                f"Specified provider '{name}' is not in available provider names."
                f"Available providers: '{', '.join(available_provider_names)}'",
                stacklevel=4,
            )
        if name in chosen:
            warnings.warn(f"Duplicate provider '{name}' encountered, ignoring.", stacklevel=4)
            continue
        chosen[name] = {str(key): str(value) for key, value in options.items()}
    return list(chosen), list(chosen.values())


@dataclass(frozen=True)
class Registered:
    """The providers a session registers: what ortbind is given, and what the session reports."""

    native: list[tuple[str, dict[str, str]]]
    names: list[str]
    options: dict[str, dict[str, str]]


def register(names: Sequence[str], options: Sequence[dict[str, str]], available: Sequence[str]) -> Registered:
    """The normalized providers as the session registers them: unknown types refused, unavailable
    ones skipped, the CPU provider last."""
    native: list[tuple[str, dict[str, str]]] = []
    for name, settings in zip(names, options, strict=True):
        if name not in ALL_PROVIDERS:
            raise OrtRuntimeError(f"Unknown Provider Type: {name}")
        if name != CPU and name in available:
            native.append((name, settings))
    reported = [name for name, _ in native] + [CPU]
    return Registered(native, reported, {name: dict(settings) for name, settings in native} | {CPU: {}})
