"""``InferenceSession``: the official binding's session class over an :class:`ortbind.Session`.

``run`` is a thin frame over the native ``Session.run``: the feeds go to ortbind as they are, and
only a refusal costs more (see :mod:`ortbind.compat.feeds`). Everything a run checks is checked
before ONNX Runtime sees the data, with the official binding's error classes. The model's contract
here is what ONNX Runtime itself refuses (element types, ranks, fixed dims); symbolic dims are not
bound across inputs, since the official binding runs what broadcasting allows there.

The attributes programs read (``_sess``, ``_model_path``, ``_model_bytes``, ``_sess_options``,
``_providers``, ``_provider_options``, ...) are kept under the official names, so that a subclass
written for onnxruntime (pickling by calling ``__init__`` again, say) works unchanged.
``session.ortbind`` is the native :class:`ortbind.Session`, for the bound path and typed results.
"""

from __future__ import annotations

import functools
import os
import threading
import traceback
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import _core
from ..contracts import Contract, TensorContract
from ..errors import Error
from ..runtime import FEATURES, available_providers
from ..session import Session as _NativeSession
from ..session import ValueSpec
from . import feeds as _feeds
from .devices import OrtEpAssignedNode, OrtEpAssignedSubgraph
from .errors import (
    Fail,
    LoadCanceled,
    OrtRuntimeError,
    ProvidersError,
    Terminated,
    TimedOut,
    ort_message,
    unprefixed,
    worded,
)
from .iobinding import IOBinding
from .nodeargs import ModelMetadata, NodeArg
from .options import RECORD_ASSIGNMENT, RunOptions, SessionOptions
from .ortvalue import OrtValue
from .providers import CPU, assigned, check_and_normalize_provider_args, register, register_chosen

Callback = Callable[[list[Any], Any, str], None]


def _runtime_contract(contract: Contract) -> Contract:
    """The model's contract less its symbolic dims: what ONNX Runtime itself checks."""

    def unnamed(rule: TensorContract | None) -> TensorContract | None:
        if rule is None or rule.shape is None:
            return rule
        return TensorContract(rule.dtype, tuple(d if isinstance(d, int) else None for d in rule.shape))

    return Contract(
        {name: unnamed(rule) for name, rule in contract.inputs.items()},
        {name: unnamed(rule) for name, rule in contract.outputs.items()},
    )


def _official_output(value: Any) -> Any:
    # The official binding gives string tensors as object arrays of str.
    if isinstance(value, np.ndarray):
        return value.astype(object) if value.dtype.kind == "U" else value
    if isinstance(value, list):
        return [_official_output(item) for item in value]
    return value


class Session:
    """What every session of the official binding can do; :class:`InferenceSession` makes one."""

    _sess: _NativeSession
    _providers: list[str]
    _providers_given: bool  # whether providers= named any (else the options chose them)
    _provider_options: dict[str, dict[str, str]]
    _run: Callable[..., Any]
    _strings: bool

    def __init__(self, enable_fallback: bool = True) -> None:
        self._enable_fallback = enable_fallback
        self._options_used: SessionOptions | None = None
        self._options_reported: SessionOptions | None = None

    @property
    def _sess_options(self) -> SessionOptions:
        """The session's own copy of its options (made when first asked for: sessions are made
        more often than asked)."""
        if self._options_reported is None:
            self._options_reported = self._options_used.copy() if self._options_used else SessionOptions()
        return self._options_reported

    @_sess_options.setter
    def _sess_options(self, options: SessionOptions) -> None:
        self._options_reported = options

    # --- the native session, and what describes it ------------------------------------------------

    @property
    def ortbind(self) -> _NativeSession:
        """The native :class:`ortbind.Session` under this one: ``bind()`` for the bound path,
        ``run()`` for a :class:`ortbind.Result` with typed extraction, ``with_contract()``."""
        return self._sess

    def _bind_session(self, native: _NativeSession, options: SessionOptions | None) -> None:
        contract = _runtime_contract(native.contract)
        native._set_contract(contract.compile(native))
        native._contract = contract
        self._sess = native
        self._options_used, self._options_reported = options, None
        self._without_pool = options is not None and options.intra_op_num_threads == 1  # no RunAsync there
        for name in _DESCRIBED:  # described again, from the new native session, when next asked
            self.__dict__.pop(name, None)
        self._profiling_start_time_ns = native.profiling_start_ns
        self._specs: dict[str, ValueSpec] = {s.name: s for s in (*native.inputs, *native.overridable_initializers)}
        self._output_names = list(native.output_names)
        # The hot path's two reads: the native run, and whether an output can hold strings.
        self._run = native.run
        self._strings = any("string" in spec.type for spec in native.outputs)
        if type(self).run is Session.run and not self._strings:
            self.__dict__["run"] = self._fast_run()
        else:
            self.__dict__.pop("run", None)

    def _fast_run(self) -> Callable[..., list[Any]]:
        """``run`` as a closure over the native run, for a session whose class keeps the base
        ``run`` and whose outputs hold no strings: a call without run options reads no attribute of
        the session. It holds the session weakly, so a session is still freed when dropped."""
        native_run, owner = self._run, weakref.ref(self)

        def run(
            output_names: Sequence[str] | None, input_feed: Mapping[str, Any], run_options: RunOptions | None = None
        ) -> list[Any]:
            if run_options is None:
                try:
                    return [*native_run(input_feed, output_names or None).values()]
                except Error as error:
                    refused_by = owner()
                    if refused_by is None:  # only this method was kept: the native session's words
                        raise
                    return [*refused_by._run_refused(error, output_names, input_feed, None).values()]
            session = owner()
            if session is None:
                return [*native_run(input_feed, output_names or None, **run_options.run_arguments()).values()]
            return Session.run(session, output_names, input_feed, run_options)

        run.__doc__ = Session.run.__doc__
        return run

    # The signature and metadata as the official binding shows them, made when first asked for:
    # programs that make many sessions (one per operator, say) ask for few of them.
    @functools.cached_property
    def _inputs_meta(self) -> list[NodeArg]:
        return [NodeArg(spec) for spec in self._sess.inputs]

    @functools.cached_property
    def _outputs_meta(self) -> list[NodeArg]:
        return [NodeArg(spec) for spec in self._sess.outputs]

    @functools.cached_property
    def _overridable_initializers(self) -> list[NodeArg]:
        return [NodeArg(spec) for spec in self._sess.overridable_initializers]

    @functools.cached_property
    def _model_meta(self) -> ModelMetadata:
        return ModelMetadata(self._sess.metadata)

    @functools.cached_property
    def _output_types(self) -> dict[str, str]:
        return {arg.name: arg.type for arg in self._outputs_meta}

    def get_session_options(self) -> SessionOptions:
        return self._sess_options

    def get_inputs(self) -> list[NodeArg]:
        return self._inputs_meta

    def get_outputs(self) -> list[NodeArg]:
        return self._outputs_meta

    def get_overridable_initializers(self) -> list[NodeArg]:
        return self._overridable_initializers

    def get_modelmeta(self) -> ModelMetadata:
        return self._model_meta

    def get_providers(self) -> list[str]:
        return self._providers

    def get_provider_options(self) -> dict[str, dict[str, str]]:
        return self._provider_options

    def get_provider_graph_assignment_info(self) -> list[OrtEpAssignedSubgraph]:
        """Which provider runs each node of the optimized graph, for a session whose options set
        the config entry ``session.record_ep_graph_assignment_info`` to ``"1"``, as in the
        official binding."""
        options = self._options_used
        if options is None or options._config.get(RECORD_ASSIGNMENT) != "1":
            raise Fail(
                ort_message(
                    1,
                    f"Session configuration entry '{RECORD_ASSIGNMENT}' must be set to \"1\" to retrieve EP graph "
                    "assignment information.",
                )
            )
        try:
            assignment = self._sess.node_assignment()
        except Error as error:
            raise worded(error) from None
        return [
            OrtEpAssignedSubgraph(provider, [OrtEpAssignedNode(*node) for node in nodes])
            for provider, nodes in assignment
        ]

    def disable_fallback(self) -> None:
        self._enable_fallback = False

    def enable_fallback(self) -> None:
        self._enable_fallback = True

    def end_profiling(self) -> str:
        return self._sess.end_profiling()

    def get_profiling_start_time_ns(self) -> int:
        return self._sess.profiling_start_ns

    # --- runs ----------------------------------------------------------------------------------

    def run(
        self, output_names: Sequence[str] | None, input_feed: Mapping[str, Any], run_options: RunOptions | None = None
    ) -> list[Any]:
        """The outputs ``output_names`` (all of them when None or empty) as a list, for the inputs in
        ``input_feed``."""
        try:
            if run_options is None:
                outputs = self._run(input_feed, output_names or None).values()
            else:
                outputs = self._run(input_feed, output_names or None, **run_options.run_arguments()).values()
        except Error as error:
            outputs = self._run_refused(error, output_names, input_feed, run_options).values()
        if self._strings:
            return [_official_output(value) for value in outputs]
        return [*outputs]

    def _run_refused(
        self,
        error: Error,
        output_names: Sequence[str] | None,
        input_feed: Mapping[str, Any],
        run_options: RunOptions | None,
    ) -> Any:
        """A run ortbind refused: once more with the feeds the official binding would convert, else
        the refusal in the official binding's terms."""
        converted = None
        if isinstance(error, _core.ValidationError) and not _feeds.missing_inputs(self._inputs_meta, list(input_feed)):
            converted = _feeds.official_feeds(self._specs, input_feed)
        if converted is None:
            raise self._official_error(error, input_feed, output_names, run_options) from _cause(error)
        arguments = run_options.run_arguments() if run_options is not None else {}
        try:
            return self._run(converted, output_names or None, **arguments)
        except Error as again:
            raise self._official_error(again, converted, output_names, run_options) from _cause(again)

    def _official_error(
        self,
        error: Error,
        input_feed: Mapping[str, Any],
        output_names: Sequence[str] | None,
        run_options: RunOptions | None,
    ) -> Error:
        """ortbind's error of a run, as the official binding raises it."""
        if isinstance(error, _core.ValidationError):
            missing = _feeds.missing_inputs(self._inputs_meta, list(input_feed))
            if missing is not None:
                return missing
            kind, text = _feeds.refusal(self._specs, self._output_names, input_feed, output_names, error)
            return kind(ort_message(2, text))
        if isinstance(error, _core.RunTimeout):
            return TimedOut(str(error))
        if isinstance(error, _core.Cancelled) and run_options is not None and run_options.terminate:
            return Terminated(ort_message(1, "Exiting due to terminate flag being set to true."))
        return worded(error)

    def _refusal_text(
        self,
        error: Error,
        input_feed: Mapping[str, Any],
        output_names: Sequence[str] | None,
        run_options: RunOptions | None = None,
    ) -> str:
        """A failed run as the official binding words it, without the ``[ONNXRuntimeError]`` prefix
        (what an I/O binding's run and ``run_async``'s callback report)."""
        return unprefixed(str(self._official_error(error, input_feed, output_names, run_options)))

    def _validate_input(self, feed_input_names: Sequence[str]) -> None:
        missing = _feeds.missing_inputs(self._inputs_meta, feed_input_names)
        if missing is not None:
            raise missing

    def run_with_ort_values(
        self,
        output_names: Sequence[str] | None,
        input_dict_ort_values: Mapping[str, Any],
        run_options: RunOptions | None = None,
    ) -> list[OrtValue]:
        """``run`` with OrtValues in and out (numpy arrays are taken in too)."""
        feeds = {name: v._value if isinstance(v, OrtValue) else v for name, v in input_dict_ort_values.items()}
        names = list(output_names) if output_names else self._output_names
        values = self.run(names, feeds, run_options)
        return [OrtValue(value, self._output_types[name]) for name, value in zip(names, values, strict=True)]

    def run_async(
        self,
        output_names: Sequence[str] | None,
        input_feed: Mapping[str, Any],
        callback: Callback,
        user_data: Any,
        run_options: RunOptions | None = None,
    ) -> None:
        """Starts the run and returns; ``callback(results, user_data, error)`` is called on another
        thread with the outputs as a list and ``""``, or ``[]`` and the error's message.

        On a session with an intra-op thread pool the run goes to one of ONNX Runtime's threads
        (``RunAsync``); with ``intra_op_num_threads = 1``, where the official binding refuses, and
        with LoRA adapters, which ``RunAsync`` ignores, it runs on a thread of its own.
        """
        self._validate_input(list(input_feed))
        names = list(output_names) if output_names else None
        arguments = run_options.run_arguments() if run_options is not None else {}
        if self._without_pool or arguments.get("adapters"):
            threading.Thread(
                target=self._run_and_call, args=(names, input_feed, callback, user_data, run_options), daemon=True
            ).start()
            return

        def done(result: Any, error: BaseException | None, _: Any) -> None:
            # On an ONNX Runtime thread, with the GIL.
            if error is None:
                _call(callback, self._listed(result.values()), user_data, "")
            elif isinstance(error, Error):
                _call(callback, [], user_data, self._refusal_text(error, input_feed, names, run_options))
            else:
                _call(callback, [], user_data, str(error))

        try:
            self._sess._run_async(input_feed, names, callback=done, **arguments)
        except Error:
            # Refused before it started (a feed to convert, or one the official binding refuses in
            # its callback): the rest goes through run() on a thread of its own.
            threading.Thread(
                target=self._run_and_call, args=(names, input_feed, callback, user_data, run_options), daemon=True
            ).start()

    def _run_and_call(
        self,
        names: list[str] | None,
        input_feed: Mapping[str, Any],
        callback: Callback,
        user_data: Any,
        run_options: RunOptions | None,
    ) -> None:
        try:
            outputs = self.run(names, input_feed, run_options)
        except Error as error:
            _call(callback, [], user_data, unprefixed(str(error)))
            return
        _call(callback, outputs, user_data, "")

    def _listed(self, outputs: Iterable[Any]) -> list[Any]:
        if self._strings:
            return [_official_output(value) for value in outputs]
        return [*outputs]

    def io_binding(self) -> IOBinding:
        return IOBinding(self)

    def run_with_iobinding(self, iobinding: IOBinding, run_options: RunOptions | None = None) -> None:
        if iobinding._session is not self._sess:
            raise ValueError("IOBinding must be used with the session that created it.")
        iobinding._run(run_options)


_DESCRIBED = ("_inputs_meta", "_outputs_meta", "_overridable_initializers", "_model_meta", "_output_types")


def _cause(error: Error) -> Error | None:
    """What a translated error keeps as its cause: ortbind's own check (its message names the input
    and what was expected), not an ONNX Runtime error, which the translation only rewords."""
    return error if isinstance(error, _core.ValidationError) else None


def _provider_failure(error: Error) -> bool:
    """Whether making a session failed for its providers (ortbind prefixes a provider's own errors)."""
    return isinstance(error, ProvidersError | OrtRuntimeError | _core.EPFail) or str(error).startswith(
        "execution provider "
    )


def _call(callback: Callback, outputs: list[Any], user_data: Any, error: str) -> None:
    try:
        callback(outputs, user_data, error)
    except Exception:
        # Nobody waits on this thread to receive it; the official binding prints it too.
        traceback.print_exc()


# What a session made without SessionOptions is made with (never changed, never handed out).
_DEFAULT_OPTIONS = SessionOptions()


class InferenceSession(Session):
    """A model loaded once and run many times: ``InferenceSession(path_or_bytes, sess_options=None,
    providers=None, provider_options=None)``, as in the official binding."""

    def __init__(
        self,
        path_or_bytes: str | bytes | os.PathLike[str],
        sess_options: SessionOptions | None = None,
        providers: Sequence[str | tuple[str, dict[Any, Any]]] | None = None,
        provider_options: Sequence[dict[Any, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(enable_fallback=int(kwargs.get("enable_fallback", 1)) == 1)
        if isinstance(path_or_bytes, str | os.PathLike):
            self._model_path: str | None = os.fspath(path_or_bytes)
            self._model_bytes: bytes | bytearray | memoryview | None = None
        elif isinstance(path_or_bytes, bytes | bytearray | memoryview):
            self._model_path = None
            self._model_bytes = path_or_bytes
        else:
            raise TypeError(f"Unable to load from type '{type(path_or_bytes)}'")
        if sess_options is not None and not isinstance(sess_options, SessionOptions):
            raise TypeError(f"sess_options must be an onnxruntime.SessionOptions, not {type(sess_options).__name__}")
        self._sess_options_initial = sess_options
        self._read_config_from_model = (
            int(kwargs["read_config_from_model"]) == 1
            if "read_config_from_model" in kwargs
            else os.environ.get("ORT_LOAD_CONFIG_FROM_MODEL") == "1"
        )
        if self._read_config_from_model:
            raise _core.NotImplementedInRuntime(
                "ortbind.compat: reading session options from the model (ORT_LOAD_CONFIG_FROM_MODEL) is not "
                "supported by ortbind's core"
            )
        self._disabled_optimizers = list(kwargs.get("disabled_optimizers") or ())
        self._fallback_providers = [CPU]
        try:
            self._create_inference_session(providers, provider_options)
        except Error as error:
            # As the official binding: a session whose providers cannot be set up falls back to the
            # CPU once, and says so on stdout. Errors of the model itself are not retried.
            if not (self._enable_fallback and _provider_failure(error)):
                raise
            print("*************** EP Error ***************")
            print(f"EP Error {error} when using {providers}")
            print(f"Falling back to {self._fallback_providers} and retrying.")
            print("****************************************")
            self._create_inference_session(self._fallback_providers, None)
            self.disable_fallback()

    def _create_inference_session(
        self,
        providers: Sequence[str | tuple[str, dict[Any, Any]]] | None,
        provider_options: Sequence[dict[Any, Any]] | None,
    ) -> None:
        available = available_providers()
        names, options = check_and_normalize_provider_args(providers, provider_options, available)
        session_options = self._sess_options_initial
        chosen, policy = session_options.providers() if session_options is not None else ([], None)
        if names:
            if chosen or policy is not None:
                warnings.warn(
                    "Specified 'providers'/'provider_options' when creating InferenceSession but SessionOptions has "
                    "already been configured with providers. InferenceSession will only use the providers "
                    "passed to InferenceSession().",
                    stacklevel=3,
                )
            registered, policy = register(names, options, available), None
        else:
            registered = register_chosen(chosen)
        self._providers_given = bool(names)
        used = session_options or _DEFAULT_OPTIONS
        arguments = used.session_arguments(self._disabled_optimizers)
        model: Any = self._model_path if self._model_path is not None else self._model_bytes
        try:
            native = _NativeSession(
                model,
                cancel=used.load_cancel_token(),
                providers=registered.native or None,
                provider_policy=policy,
                **arguments,
            )
        except _core.Cancelled:
            raise LoadCanceled(ort_message(12, "Graph loading canceled due to user request.")) from None
        except Error as error:
            raise worded(error) from None
        if policy is not None:
            registered = assigned(native.node_assignment() if FEATURES["node_assignment"].available else [])
        self._providers = registered.names
        self._provider_options = registered.options
        self._bind_session(native, session_options)

    def set_providers(
        self,
        providers: Sequence[str | tuple[str, dict[Any, Any]]] | None = None,
        provider_options: Sequence[dict[Any, Any]] | None = None,
    ) -> None:
        """Makes the session again with these providers (no fallback: a bad provider raises)."""
        self._create_inference_session(providers, provider_options)

    # A session pickles as what made it, and is made again where it is unpickled (the official
    # binding's cannot be pickled). A subclass with its own __getstate__/__setstate__ keeps them.
    def __getstate__(self) -> dict[str, Any]:
        # Providers the options chose are chosen again from them where the session is made again.
        providers = [(name, self._provider_options.get(name, {})) for name in self._providers]
        return {
            "path_or_bytes": self._model_path if self._model_path is not None else bytes(self._model_bytes or b""),
            "sess_options": self._sess_options_initial,
            "providers": providers if self._providers_given else None,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        InferenceSession.__init__(self, state["path_or_bytes"], state["sess_options"], state["providers"])
