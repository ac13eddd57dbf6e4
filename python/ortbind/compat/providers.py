"""Execution providers as the official binding takes them: names or ``(name, options)`` pairs, with
an optional list of option dicts beside them; or, when ``providers=`` gives none, those
``SessionOptions`` chose (``add_provider``, ``add_provider_for_devices``, a selection policy).

A provider the loaded runtime lacks is warned about and skipped (``get_providers()`` does not list
it); a name ONNX Runtime does not know at all is refused with ``RuntimeError: Unknown Provider
Type``, which a new session answers by falling back to the CPU, as the official binding does. A
registered plugin is named as it was registered (``register_execution_provider_library``). The CPU
provider is always there, last; its options are accepted and, as in the official binding, have no
effect (``get_provider_options()`` shows it with none).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..runtime import Device, available_providers
from .errors import InvalidArgument, OrtRuntimeError, ProvidersError, ort_message

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

    native: list[tuple[str | Device, dict[str, str]]]
    names: list[str]
    options: dict[str, dict[str, str]]


def _registered(native: list[tuple[str | Device, dict[str, str]]]) -> Registered:
    """What a session given ``native`` reports: each provider by name with its options, the CPU
    provider last."""
    names = [target.ep_name if isinstance(target, Device) else target for target, _ in native]
    options = {name: dict(settings) for name, (_, settings) in zip(names, native, strict=True) if name != CPU}
    reported = [name for name in options] + [CPU]
    return Registered(native, reported, options | {CPU: {}})


def register(names: Sequence[str], options: Sequence[dict[str, str]], available: Sequence[str]) -> Registered:
    """The normalized providers as the session registers them: unknown types refused, unavailable
    ones skipped, the CPU provider last."""
    native: list[tuple[str | Device, dict[str, str]]] = []
    for name, settings in zip(names, options, strict=True):
        if name not in ALL_PROVIDERS and name not in available:
            raise OrtRuntimeError(f"Unknown Provider Type: {name}")
        if name != CPU and name in available:
            native.append((name, settings))
    return _registered(native)


def register_chosen(chosen: Sequence[tuple[str | Device, dict[str, str]]]) -> Registered:
    """The providers ``SessionOptions.add_provider`` and ``add_provider_for_devices`` chose, as the
    session registers them (the CPU provider by name needs no registration)."""
    return _registered([(target, settings) for target, settings in chosen if target != CPU])


def assigned(assignment: Sequence[tuple[str, Any]]) -> Registered:
    """What a session whose providers a selection policy picked reports: the providers its nodes
    were assigned to (``node_assignment()``), the CPU provider last."""
    names = dict.fromkeys(provider for provider, _ in assignment if provider != CPU)
    options: dict[str, dict[str, str]] = {name: {} for name in [*names, CPU]}
    return Registered([], [*names, CPU], options)


def check_provider_name(name: str) -> None:
    """Refuses a provider as ``SessionOptions.add_provider`` does when it is given: one the runtime
    lacks (``InvalidArgument``), one ONNX Runtime does not know (``RuntimeError``)."""
    if name in available_providers():
        return
    if name in ALL_PROVIDERS:
        raise InvalidArgument(
            ort_message(
                2,
                f"Failed to add provider of type '{name}' to SessionOptions. Provider configuration is not supported.",
            )
        )
    raise OrtRuntimeError(f"Unknown Provider Type: {name}")
