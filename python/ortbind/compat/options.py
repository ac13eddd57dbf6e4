"""``SessionOptions``, ``RunOptions`` and ``LoraAdapter``, as plain Python objects.

``SessionOptions`` keeps the official binding's attributes and defaults and turns them into
:class:`ortbind.Session` arguments when a session is made (:meth:`SessionOptions.session_arguments`,
and :meth:`SessionOptions.providers` for what ``add_provider``, ``add_provider_for_devices`` and
``set_provider_selection_policy`` chose). ``log_severity_level`` is the session's ``log_level``
(0 verbose to 4 fatal; -1 leaves the environment's), ``optimized_model_filepath`` its
``optimized_model`` and ``use_deterministic_compute`` its ``deterministic``. Settings that only tune
logging or memory reuse and that ortbind's core cannot pass on (``log_verbosity_level``, which only
debug builds of ONNX Runtime read, ``logid``, ``execution_order``, ``enable_mem_reuse``) are kept
and not applied: they change no number. Settings that ortbind's core cannot apply and that would
change what a session does (``add_free_dimension_override_by_denotation``, global thread pools, a
selection policy delegate) are refused with ``NotImplemented`` naming the setting, never ignored.

``RunOptions`` applies ``logid`` (the run's tag in ONNX Runtime's log), ``log_severity_level`` and
the run config entries, and carries what ortbind adds to a run: ``terminate`` stops the runs that
use it from any thread (between two nodes), and ``timeout`` (seconds, compat's addition) limits each
run.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import numpy as np

from .. import _core
from ..errors import NotImplementedInRuntime
from ..runtime import FEATURES, Device
from ..weights import LoraAdapter as _NativeAdapter
from .devices import OrtEpDevice
from .enums import (
    LOG_SEVERITIES,
    ExecutionMode,
    ExecutionOrder,
    GraphOptimizationLevel,
    OrtExecutionProviderDevicePolicy,
)
from .errors import Fail, InvalidArgument, OrtRuntimeError, ort_message
from .providers import check_provider_name

if TYPE_CHECKING:
    from .ortvalue import OrtValue


# ortbind's names for the levels. The layout level (extended plus layout changes) has no name of its
# own in the C API ortbind's core is built against; "all" includes it.
_OPTIMIZATION = {
    GraphOptimizationLevel.ORT_DISABLE_ALL: "disabled",
    GraphOptimizationLevel.ORT_ENABLE_BASIC: "basic",
    GraphOptimizationLevel.ORT_ENABLE_EXTENDED: "extended",
    GraphOptimizationLevel.ORT_ENABLE_LAYOUT: "all",
    GraphOptimizationLevel.ORT_ENABLE_ALL: "all",
}

_T = TypeVar("_T")


class _Setting(Generic[_T]):
    """An attribute that converts what it is given (and refuses what it cannot convert) as the
    official binding's typed properties do, with its default."""

    def __init__(self, convert: Callable[[Any], _T], default: _T) -> None:
        self._convert = convert
        self.default = default
        self.slot = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, instance: object, owner: type | None = None) -> _T:
        value: _T = getattr(instance, self.slot)
        return value

    def __set__(self, instance: object, value: Any) -> None:
        setattr(instance, self.slot, self._convert(value))


def _defaults(owner: type) -> dict[str, Any]:
    """The default of every setting of ``owner``, by the name it is kept under: a new instance
    takes them all at once (sessions are made often enough for it to count)."""
    return {s.slot: s.default for s in vars(owner).values() if isinstance(s, _Setting)}


def _flag(value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"expected a bool, got {type(value).__name__}")
    return bool(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a str, got {type(value).__name__}")
    return value


def _missing_entry(owner: str, key: str) -> OrtRuntimeError:
    return OrtRuntimeError(f"{owner} does not have configuration with key: {key}")


# The session config entry with which the official binding records which provider runs each node.
RECORD_ASSIGNMENT = "session.record_ep_graph_assignment_info"


def _log_level(severity: int) -> str | None:
    """An official log severity (0 verbose to 4 fatal, -1 for the default) as ortbind's level name,
    None for the default; None also for a severity out of range, which the caller refuses."""
    return LOG_SEVERITIES[severity] if 0 <= severity < len(LOG_SEVERITIES) else None


# ortbind's names for the policies (mypy checks them against ortbind.Session's provider_policy=).
ProviderPolicy = Literal[
    "default", "prefer_cpu", "prefer_npu", "prefer_gpu", "max_performance", "max_efficiency", "min_overall_power"
]
_POLICIES: dict[OrtExecutionProviderDevicePolicy, ProviderPolicy] = {
    OrtExecutionProviderDevicePolicy.DEFAULT: "default",
    OrtExecutionProviderDevicePolicy.PREFER_CPU: "prefer_cpu",
    OrtExecutionProviderDevicePolicy.PREFER_NPU: "prefer_npu",
    OrtExecutionProviderDevicePolicy.PREFER_GPU: "prefer_gpu",
    OrtExecutionProviderDevicePolicy.MAX_PERFORMANCE: "max_performance",
    OrtExecutionProviderDevicePolicy.MAX_EFFICIENCY: "max_efficiency",
    OrtExecutionProviderDevicePolicy.MIN_OVERALL_POWER: "min_overall_power",
}


def _provider_options(options: Any) -> dict[str, str]:
    if not isinstance(options, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in options.items()):
        raise TypeError(f"provider options must be a dict of str to str, not {options!r}")
    return dict(options)


def _unsupported(what: str) -> NotImplementedInRuntime:
    return NotImplementedInRuntime(
        f"ortbind.compat: {what} is not supported by ortbind's core; the session is not made rather "
        "than made without it"
    )


class _LoadCancellation:
    """The flag ``set_load_cancellation_flag`` sets: a token the sessions being made with these
    options watch. It pickles as whether it is set."""

    def __init__(self, cancelled: bool = False) -> None:
        self.token = _core.CancelToken()
        if cancelled:
            self.token.cancel()

    def __reduce__(self) -> tuple[type[_LoadCancellation], tuple[bool]]:
        return _LoadCancellation, (self.token.cancelled,)


class SessionOptions:
    """How a session is made: the official binding's attributes, defaults and methods."""

    enable_cpu_mem_arena = _Setting(_flag, True)
    enable_mem_pattern = _Setting(_flag, True)
    enable_mem_reuse = _Setting(_flag, True)
    enable_profiling = _Setting(_flag, False)
    use_deterministic_compute = _Setting(_flag, False)
    use_per_session_threads = _Setting(_flag, True)
    execution_mode = _Setting(ExecutionMode, ExecutionMode.ORT_SEQUENTIAL)
    execution_order = _Setting(ExecutionOrder, ExecutionOrder.DEFAULT)
    graph_optimization_level = _Setting(GraphOptimizationLevel, GraphOptimizationLevel.ORT_ENABLE_ALL)
    inter_op_num_threads = _Setting(operator.index, 0)
    intra_op_num_threads = _Setting(operator.index, 0)
    log_severity_level = _Setting(operator.index, -1)
    log_verbosity_level = _Setting(operator.index, 0)
    logid = _Setting(_text, "")
    optimized_model_filepath = _Setting(os.fspath, "")
    profile_file_prefix = _Setting(os.fspath, "onnxruntime_profile_")

    def __init__(self) -> None:
        self.__dict__.update(_SESSION_DEFAULTS)
        self._config: dict[str, str] = {}
        self._free_dimensions: dict[str, int] = {}
        self._denotations: dict[str, int] = {}
        self._custom_op_libraries: list[str] = []
        # The arrays ONNX Runtime reads in place for the session's life: the OrtValue's own, held here
        # as the official binding asks its caller to hold the OrtValue.
        self._initializers: dict[str, np.ndarray[Any, Any]] = {}
        self._external_data: dict[str, Any] = {}
        self._providers: list[tuple[str | Device, dict[str, str]]] = []
        self._policy: ProviderPolicy | None = None
        self._load_cancellation: _LoadCancellation | None = None

    def add_session_config_entry(self, key: str, value: str) -> None:
        self._config[_text(key)] = _text(value)

    def get_session_config_entry(self, key: str) -> str:
        try:
            return self._config[key]
        except KeyError:
            raise _missing_entry("SessionOptions", key) from None

    def add_free_dimension_override_by_name(self, name: str, value: int) -> None:
        self._free_dimensions[_text(name)] = operator.index(value)

    def add_free_dimension_override_by_denotation(self, denotation: str, value: int) -> None:
        self._denotations[_text(denotation)] = operator.index(value)

    def register_custom_ops_library(self, library_path: str | os.PathLike[str]) -> None:
        self._custom_op_libraries.append(os.fspath(library_path))

    def add_initializer(self, name: str, ortvalue: OrtValue) -> None:
        self._initializers[_text(name)] = ortvalue._tensor("add_initializer")

    def add_external_initializers(self, names: Sequence[str], ortvalues: Sequence[OrtValue]) -> None:
        if len(names) != len(ortvalues):
            raise ValueError("add_external_initializers needs as many names as OrtValues")
        for name, value in zip(names, ortvalues, strict=True):
            self.add_initializer(name, value)

    def add_external_initializers_from_files_in_memory(
        self, names: Sequence[str], buffers: Sequence[Any], lengths: Sequence[int]
    ) -> None:
        if not len(names) == len(buffers) == len(lengths):
            raise ValueError("add_external_initializers_from_files_in_memory needs one buffer and length per name")
        for name, buffer, length in zip(names, buffers, lengths, strict=True):
            view = memoryview(buffer).cast("B")
            self._external_data[_text(name)] = view[: operator.index(length)]

    def has_providers(self) -> bool:
        """Whether providers were added here, or a selection policy set."""
        return bool(self._providers) or self._policy is not None

    def add_provider(self, provider_name: str, provider_options: dict[str, str]) -> None:
        """Adds a provider by name (a built-in one the runtime has, or a registered plugin's)."""
        check_provider_name(_text(provider_name))
        self._providers.append((provider_name, _provider_options(provider_options)))

    def add_provider_for_devices(self, ep_devices: Sequence[OrtEpDevice], provider_options: dict[str, str]) -> None:
        """Adds the provider of ``ep_devices`` (from ``get_ep_devices()``, all of one provider) for
        those devices."""
        devices = list(ep_devices)
        if not all(isinstance(device, OrtEpDevice) for device in devices):
            raise TypeError("ep_devices must be OrtEpDevice objects from get_ep_devices()")
        if not devices:
            raise InvalidArgument(ort_message(2, "Must provide one or more OrtEpDevice instances."))
        if len({device.ep_name for device in devices}) != 1:
            raise InvalidArgument(
                ort_message(2, "All OrtEpDevice values in ep_devices must have the same execution provider.")
            )
        if len(devices) > 1:
            raise NotImplementedInRuntime(
                "ortbind.compat: several devices in one add_provider_for_devices call are not supported by "
                "ortbind's core (it adds a provider for one device at a time)"
            )
        self._providers.append((devices[0]._device, _provider_options(provider_options)))

    def set_provider_selection_policy(self, policy: OrtExecutionProviderDevicePolicy) -> None:
        """Lets ONNX Runtime pick the providers among the devices it offers, by ``policy``."""
        self._policy = _POLICIES[OrtExecutionProviderDevicePolicy(policy)]

    def set_provider_selection_policy_delegate(self, *_: Any, **__: Any) -> None:
        raise NotImplementedInRuntime(
            "ortbind.compat: a provider selection delegate (a Python function ONNX Runtime calls to pick "
            "devices) is not supported by ortbind's core; use set_provider_selection_policy"
        )

    def set_load_cancellation_flag(self, value: bool) -> None:
        """``True`` stops sessions being made with these options, from any thread, and refuses
        later ones (``ModelLoadCanceled``); ``False`` lets later ones be made again."""
        if _flag(value):
            if self._load_cancellation is None:
                self._load_cancellation = _LoadCancellation()
            self._load_cancellation.token.cancel()
        elif self._load_cancellation is not None and self._load_cancellation.token.cancelled:
            # A token stays cancelled: later sessions get a fresh one.
            self._load_cancellation = _LoadCancellation()

    def load_cancel_token(self) -> _core.CancelToken | None:
        """The token ``set_load_cancellation_flag`` sets, for ``ortbind.Session``'s ``cancel=``."""
        return self._load_cancellation.token if self._load_cancellation is not None else None

    def providers(self) -> tuple[list[tuple[str | Device, dict[str, str]]], ProviderPolicy | None]:
        """The providers added here, as ``ortbind.Session``'s ``providers=`` takes them, and the
        selection policy's name (None when unset)."""
        return [(target, dict(options)) for target, options in self._providers], self._policy

    def copy(self) -> SessionOptions:
        """An independent copy (what a session reports through ``get_session_options``)."""
        twin = SessionOptions.__new__(SessionOptions)
        twin.__dict__.update(self.__dict__)
        for name in ("_config", "_free_dimensions", "_denotations", "_initializers", "_external_data"):
            setattr(twin, name, dict(getattr(self, name)))
        twin._custom_op_libraries = list(self._custom_op_libraries)
        twin._providers = list(self._providers)
        return twin

    def session_arguments(self, disabled_optimizers: Sequence[str] = ()) -> dict[str, Any]:
        """These options as :class:`ortbind.Session` keyword arguments, less the providers
        (:meth:`providers`)."""
        log_level = _log_level(self.log_severity_level)
        if log_level is None and self.log_severity_level != -1:
            raise OrtRuntimeError(
                "SessionOptions.log_severity_level must be 0 (verbose) to 4 (fatal), or -1 for the default; "
                f"got {self.log_severity_level}"
            )
        if self._denotations:
            raise _unsupported("SessionOptions.add_free_dimension_override_by_denotation")
        if not self.use_per_session_threads:
            raise _unsupported(
                "SessionOptions.use_per_session_threads = False (use an ortbind.Env with global_thread_pools)"
            )
        config = dict(self._config)
        if FEATURES["node_assignment"].available:
            # ortbind's core records it for every session: given twice, ONNX Runtime warns.
            config.pop(RECORD_ASSIGNMENT, None)
        if disabled_optimizers:
            config["optimization.disable_specified_optimizers"] = ",".join(disabled_optimizers)
        arguments: dict[str, Any] = {
            "optimization": _OPTIMIZATION[self.graph_optimization_level],
            "intra_op_threads": self.intra_op_num_threads or None,
            "inter_op_threads": self.inter_op_num_threads or None,
            "execution_mode": "parallel" if self.execution_mode == ExecutionMode.ORT_PARALLEL else "sequential",
            "free_dimensions": dict(self._free_dimensions),
            "config": config,
        }
        optional: dict[str, Any] = {
            "profile": self.profile_file_prefix if self.enable_profiling else None,
            "custom_op_libraries": list(self._custom_op_libraries) or None,
            "initializers": dict(self._initializers) or None,
            "external_data": dict(self._external_data) or None,
            "cpu_arena": None if self.enable_cpu_mem_arena else False,
            "memory_pattern": None if self.enable_mem_pattern else False,
            "optimized_model": self.optimized_model_filepath or None,
            "deterministic": True if self.use_deterministic_compute else None,
            "log_level": log_level,
        }
        arguments.update((key, value) for key, value in optional.items() if value is not None)
        return arguments


_SESSION_DEFAULTS = _defaults(SessionOptions)


class LoraAdapter:
    """A LoRA adapter, loaded with :meth:`Load` and activated for a run by
    ``RunOptions.add_active_adapter``."""

    def __init__(self) -> None:
        self._native: _NativeAdapter | None = None

    def Load(self, adapter_file_path: str | os.PathLike[str]) -> None:
        self._native = _NativeAdapter(adapter_file_path)


class RunOptions:
    """How one run goes: the official binding's attributes, plus ``timeout``.

    ``terminate = True`` stops every run using these options, in flight or later, between two nodes,
    from any thread (the run raises :class:`~ortbind.compat.errors.Terminated`, a ``Fail``);
    ``terminate = False`` lets later runs go again. ``timeout`` (seconds, or None) stops each run
    that takes longer with :class:`~ortbind.compat.errors.TimedOut`. ``logid`` is the run's tag in
    ONNX Runtime's log, ``log_severity_level`` its log level (-1: the session's), and the run config
    entries reach ONNX Runtime; ``log_verbosity_level`` (read by debug builds only) and
    ``only_execute_path_to_fetches`` are kept and not applied.
    """

    log_severity_level = _Setting(operator.index, -1)
    log_verbosity_level = _Setting(operator.index, 0)
    logid = _Setting(_text, "")
    only_execute_path_to_fetches = _Setting(_flag, False)

    def __init__(self) -> None:
        self.__dict__.update(_RUN_DEFAULTS)
        self.timeout: float | None = None
        self._token = _core.CancelToken()
        self._terminate = False
        self._config: dict[str, str] = {}
        self._adapters: list[_NativeAdapter] = []

    @property
    def terminate(self) -> bool:
        return self._terminate

    @terminate.setter
    def terminate(self, value: bool) -> None:
        self._terminate = _flag(value)
        if self._terminate:
            self._token.cancel()
        elif self._token.cancelled:
            # A token stays cancelled: later runs get a fresh one, runs already stopped stay stopped.
            self._token = _core.CancelToken()

    def add_run_config_entry(self, key: str, value: str) -> None:
        self._config[_text(key)] = _text(value)

    def get_run_config_entry(self, key: str) -> str:
        try:
            return self._config[key]
        except KeyError:
            raise _missing_entry("RunOptions", key) from None

    def add_active_adapter(self, adapter: LoraAdapter) -> None:
        if adapter._native is None:
            raise OrtRuntimeError("the LoraAdapter has not been loaded (call its Load(path) first)")
        self._adapters.append(adapter._native)

    def run_arguments(self) -> dict[str, Any]:
        """These options as arguments of ``ortbind.Session.run``."""
        arguments: dict[str, Any] = {"cancel": self._token, "timeout": self.timeout, "adapters": self._adapters or None}
        if self.logid:
            arguments["tag"] = self.logid
        if self.log_severity_level != -1:
            level = _log_level(self.log_severity_level)
            if level is None:
                raise Fail(
                    ort_message(
                        1,
                        "RunOptions.log_severity_level must be 0 (verbose) to 4 (fatal), or -1 for the "
                        f"session's; got {self.log_severity_level}",
                    )
                )
            arguments["log_level"] = level
        if self._config:
            arguments["run_config"] = dict(self._config)
        return arguments


_RUN_DEFAULTS = _defaults(RunOptions)
