"""ortbind.Session: the native session with its signature as plain data and a model contract.

``run`` is the C++ method itself (no Python frame on the hot path); this class adds what is
cheap to do once: the signature as :class:`ValueSpec` objects, the model's contract, context
management, contracts tightened by the user, an awaitable run and pickling.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import functools
import os
import pickle
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

import numpy as np

from . import _core, _pickle
from ._convert import numpy_dtype
from .contracts import Contract, DimSpec, ValueDecl
from .options import Buffer, RunSettings, SessionOptions, session_signature
from .result import Result
from .weights import LoraAdapter

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Unpack

Kind = Literal["tensor", "sequence", "map", "optional", "sparse_tensor", "opaque", "unknown"]
Dim = int | str | None


@dataclass(frozen=True)
class ValueSpec:
    """One input or output of a model, or what a sequence, map or optional holds.

    ``dtype`` is the numpy dtype of a tensor's elements (``str`` for string tensors, ``None`` where
    numpy has none or the value is not a tensor). ``shape`` has ints for fixed dims, strs for
    symbolic ones and None for unknown ones; ``()`` also stands for an unknown rank, which ONNX
    Runtime reports the same way. ``element`` is what a sequence, map or optional contains, and
    ``key_dtype`` a map's key type.
    """

    name: str
    kind: Kind
    type: str
    dtype: np.dtype[Any] | builtins.type[str] | None = None
    shape: tuple[Dim, ...] | None = None
    element_type: str | None = None
    key_dtype: np.dtype[Any] | builtins.type[str] | None = None
    element: ValueSpec | None = field(default=None, repr=False)

    @classmethod
    def _from_core(cls, name: str, info: tuple[Any, ...]) -> ValueSpec:
        kind, element, shape, key, contained, type_text = info
        return cls(
            name=name,
            kind=kind,
            type=type_text,
            dtype=_dtype_of(element),
            shape=tuple(shape) if shape is not None else None,
            element_type=element,
            key_dtype=_dtype_of(key),
            element=None if contained is None else cls._from_core("", contained),
        )


def _settle(future: asyncio.Future[Result], result: Result | None, error: BaseException | None, _: object) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


def _dtype_of(element: str | None) -> np.dtype[Any] | type[str] | None:
    if element is None:
        return None
    if element == "string":
        return str
    try:
        return numpy_dtype(element)
    except (TypeError, _core.Error):
        return None


class AssignedNode(NamedTuple):
    """A node of the optimized graph, as :meth:`Session.node_assignment` lists it."""

    name: str
    op_type: str
    domain: str


@dataclass(frozen=True)
class Metadata:
    producer: str
    graph_name: str
    graph_description: str
    domain: str
    description: str
    version: int
    custom: Mapping[str, str]


class Session(_core.Session):
    """An ONNX model loaded once and run many times.

    ``model`` is a path (str or os.PathLike) or bytes-like. The session holds its :class:`Env`
    (the process default when ``env`` is None). Creation releases the GIL.

    ``run(feeds, outputs=None, *, out=None, timeout=None, cancel=None, adapters=None)`` takes a dict
    of input name to value and returns a :class:`Result` in the requested output order (or the model's).
    Arrays of the model's dtype that are C-contiguous are wrapped, not copied, and so are CPU tensors
    of other frameworks (anything with ``__dlpack__``: torch, jax, ...); outputs are numpy arrays
    over ONNX Runtime's own buffers, which ``torch.from_dlpack`` and the like take without a copy
    (bfloat16 and float8 as :class:`DLPackArray`). ``out`` maps output names to preallocated arrays that the
    run writes into. ``timeout`` (seconds) and ``cancel`` (a :class:`CancelToken`) stop a run
    between two nodes with :class:`RunTimeout` or :class:`Cancelled`; Ctrl-C stops a run on the
    main thread and raises KeyboardInterrupt. The GIL is released during the run: several threads
    may run one session at once. Shapes and dtypes are checked against the model's contract
    (symbolic dims bound consistently across inputs) before ONNX Runtime sees the data.

    ``options`` are the session options (:data:`ortbind.options.SESSION_OPTIONS` lists each with its
    default and what it does): execution providers, graph optimization, threads, profiling, custom
    operator libraries, shared weights, initializers from the caller's arrays, external data from
    memory, ONNX Runtime's memory settings, and ``reuse_outputs``. ``run(..., adapters=[...])``
    activates :class:`LoraAdapter` objects for one run, and :attr:`overridable_initializers` lists
    what a run may feed beside the inputs (see the docs' "Loading" guide).

    ``profile`` (a path prefix) turns on ONNX Runtime's profiler: :meth:`end_profiling` stops it and
    returns the path of the JSON file it wrote (``<prefix>_<date>.json``, Chrome's trace format, one
    ``"cat": "Node"`` event per node run); ``profiling_start_ns`` is when it started.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | Buffer,
        *,
        env: _core.Env | None = None,
        timeout: float | None = None,
        cancel: _core.CancelToken | None = None,
        **options: Unpack[SessionOptions],
    ) -> None:
        # Options left as None are not given: ONNX Runtime's own setting stands. The same dict is the
        # key under which a pickled session is rebuilt once per process (_pickle.py).
        given: dict[str, Any] = {name: value for name, value in options.items() if value is not None}
        super().__init__(model, env=env, timeout=timeout, cancel=cancel, **given)
        self._options = _portable(given)
        self._model_path = os.fsdecode(model) if isinstance(model, str | os.PathLike) else None
        # The model's bytes, kept for pickling as one reference, never a copy.
        self._model_bytes = None if self._model_path is not None else _keep(model)  # type: ignore[arg-type]
        self._pickle_by_path = False
        self._inputs = tuple(ValueSpec._from_core(*item) for item in self._describe(inputs=True))
        self._outputs = tuple(ValueSpec._from_core(*item) for item in self._describe(inputs=False))
        self._overridable = tuple(ValueSpec._from_core(*item) for item in self._describe_overridable())
        self._contract = Contract.from_model(self._inputs, self._outputs)
        self._set_contract(self._contract.compile(self))

    # --- signature -----------------------------------------------------------------------------

    @property
    def inputs(self) -> tuple[ValueSpec, ...]:
        return self._inputs

    @property
    def outputs(self) -> tuple[ValueSpec, ...]:
        return self._outputs

    @property
    def overridable_initializers(self) -> tuple[ValueSpec, ...]:
        """Initializers the model also lists as graph inputs: a run may feed them by name, like
        inputs, to replace their stored values (or a :class:`LoraAdapter` may); left out, the stored
        value is used."""
        return self._overridable

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self._inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self._outputs)

    def node_assignment(self) -> list[tuple[str, list[AssignedNode]]]:
        """Which execution provider runs each node, as ONNX Runtime assigned them when the session
        was made: ``(provider, [AssignedNode(name, op_type, domain), ...])`` per subgraph, in the
        runtime's order (C API 24; see ``ortbind.runtime.FEATURES``)."""
        return [(provider, [AssignedNode(*node) for node in nodes]) for provider, nodes in super().node_assignment()]

    @property
    def metadata(self) -> Metadata:
        return Metadata(**self._metadata())

    @property
    def contract(self) -> Contract:
        """The model's own contract, checked on every run."""
        return self._contract

    def with_contract(
        self,
        inputs: Mapping[str, ValueDecl] | None = None,
        outputs: Mapping[str, ValueDecl] | None = None,
        dims: Mapping[str, DimSpec] | None = None,
    ) -> CheckedSession:
        """A runner whose contract is the model's, tightened by these declarations.

        ``inputs``/``outputs`` map names to ``(dtype, shape)`` (either may be None), shape entries
        being ints (fixed), strs (named dims) or None. ``dims`` fixes (``batch=1``) or bounds
        (``batch=(1, 64)``, either end None) named dims.
        """
        return CheckedSession(self, self._contract.tighten(inputs=inputs, outputs=outputs, dims=dims))

    # --- lifetime ------------------------------------------------------------------------------

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        contract = getattr(self, "_contract", None)  # absent when __init__ failed or never ran
        if contract is None:
            return "<ortbind.Session (not made)>"
        state = "closed" if self.closed else str(contract)
        return f"<ortbind.Session {state}>"

    # --- asyncio -------------------------------------------------------------------------------

    async def run_async(
        self,
        feeds: Mapping[str, Any],
        outputs: Sequence[str] | None = None,
        *,
        out: Mapping[str, np.ndarray[Any, Any]] | None = None,
        timeout: float | None = None,
        adapters: Sequence[LoraAdapter] | None = None,
        **settings: Unpack[RunSettings],
    ) -> Result:
        """``run`` without blocking the event loop; same arguments and result.

        The run goes to one of ONNX Runtime's intra-op threads (``OrtApi::RunAsync``), whose callback
        hands the result to the loop. Sessions without an intra-op thread pool
        (``intra_op_threads=1``), and calls with ``out=`` or ``adapters=`` (which RunAsync would
        ignore), run on the loop's default executor instead.
        Cancelling the awaiting task cancels the ONNX Runtime run (between two nodes) and waits for
        it to stop before the cancellation propagates, so no run outlives its task.
        """
        return await self._run_async_under(None, feeds, outputs, out, timeout, adapters, settings)

    async def _run_async_under(
        self,
        contract: _core.CompiledContract | None,
        feeds: Mapping[str, Any],
        outputs: Sequence[str] | None,
        out: Mapping[str, np.ndarray[Any, Any]] | None,
        timeout: float | None,
        adapters: Sequence[LoraAdapter] | None,
        settings: RunSettings,
    ) -> Result:
        loop = asyncio.get_running_loop()
        token = _core.CancelToken()
        future: asyncio.Future[Result]
        # ONNX Runtime's RunAsync ignores LoRA adapters: runs with adapters go through run().
        if out is None and self._options.get("intra_op_threads") != 1 and not adapters:
            future = loop.create_future()

            def done(result: Result | None, error: BaseException | None, session: Session) -> None:
                # On a runtime thread, with the GIL. The session travels to the loop so that its last
                # reference, if this is it, is dropped there and not on one of its own threads.
                with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits this
                    loop.call_soon_threadsafe(_settle, future, result, error, session)

            self._run_async(
                feeds,
                outputs,
                timeout=timeout,
                cancel=token,
                adapters=adapters,
                contract=contract,
                callback=done,
                **settings,
            )
        else:
            call = functools.partial(
                self.run,
                feeds,
                outputs,
                out=out,
                timeout=timeout,
                cancel=token,
                adapters=adapters,
                contract=contract,
                **settings,
            )
            future = loop.run_in_executor(None, call)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            token.cancel()
            with contextlib.suppress(_core.Cancelled):
                await future
            raise

    # --- pickling ------------------------------------------------------------------------------

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        if self.closed:
            raise _core.ClosedError("a closed session cannot be pickled")
        data = None if self._model_bytes is None else self._model_bytes.for_pickle(protocol, "the model")
        options = dict(self._options)
        if self._model_path is not None and not self._pickle_by_path:
            # The file's bytes travel, not the external data files it names: the receiver finds
            # those in the model's folder, as a session made from the path does.
            folder = os.path.dirname(os.path.abspath(self._model_path))
            options["config"] = {_EXTERNAL_FOLDER: folder, **options.get("config", {})}
        if "external_data" in options:
            options["external_data"] = {
                name: kept.for_pickle(protocol, f"external_data[{name!r}]")
                for name, kept in options["external_data"].items()
            }
        return (_rebuild, (_pickle.source_of(self._model_path, data, self._pickle_by_path), options))


# help() and IDEs show every option by name, from the options table.
Session.__init__.__signature__ = session_signature("str | os.PathLike[str] | Buffer")  # type: ignore[attr-defined]

_EXTERNAL_FOLDER = "session.model_external_initializers_file_folder_path"


def _portable(options: dict[str, Any]) -> dict[str, Any]:
    """The options as they pickle and key the cache of rebuilt sessions: paths as str, external data
    as the bytes the session was made from (never copied), mappings and sequences as dicts and
    lists."""

    def portable(value: Any) -> Any:
        if isinstance(value, str | os.PathLike):
            return os.fsdecode(value)
        if isinstance(value, Mapping):
            return {key: portable(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [portable(item) for item in value]
        return value

    result = {name: portable(value) for name, value in options.items() if name not in ("initializers", "external_data")}
    if "initializers" in options:
        result["initializers"] = dict(options["initializers"])
    if "external_data" in options:
        result["external_data"] = {name: _keep(data) for name, data in options["external_data"].items()}
    return result


@dataclass(frozen=True)
class _Kept:
    """Bytes a session was made from, kept for pickling as one reference, never a copy. A buffer
    that can change after the session is made (a bytearray, a writable memoryview, an array) also
    keeps a checksum, so that pickling refuses bytes that are no longer what was loaded."""

    data: Any
    crc: int | None

    def for_pickle(self, protocol: Any, what: str) -> Any:
        if self.crc is not None and zlib.crc32(self.data) != self.crc:
            raise _core.InvalidValueError(
                f"the buffer {what} was read from has changed since the session was made, so the "
                "session cannot be pickled from it; make the session from bytes or from a path"
            )
        if isinstance(protocol, int) and protocol >= 5:
            # Out of band where the pickler takes buffers; otherwise written once into the stream.
            return pickle.PickleBuffer(self.data)
        return self.data if isinstance(self.data, bytes) else bytes(self.data)

    def __repr__(self) -> str:
        return f"<{memoryview(self.data).nbytes} bytes>"


def _keep(data: Buffer) -> _Kept:
    immutable = isinstance(data, bytes) or (
        isinstance(data, memoryview) and data.readonly and isinstance(data.obj, bytes)
    )
    return _Kept(data, None if immutable else zlib.crc32(data))


def _rebuild(source: tuple[str, Any], options: dict[str, Any]) -> Session:
    """A pickled session, made once per process for each (model, options)."""

    def make() -> Session:
        kind, payload = source
        session = Session(payload, **options)
        session._pickle_by_path = kind == "path"
        return session

    return _pickle.rebuilt(source, options, make)


class RunMethod(Protocol):
    """The signature of ``run``:
    ``run(feeds, outputs=None, *, out=None, timeout=None, cancel=None, adapters=None, tag=None,
    log_level=None, run_config=None, profile=None)``."""

    def __call__(
        self,
        feeds: Mapping[str, Any] | Any,
        outputs: Sequence[str] | None = None,
        *,
        out: Mapping[str, np.ndarray[Any, Any]] | None = None,
        timeout: float | None = None,
        cancel: _core.CancelToken | None = None,
        adapters: Sequence[LoraAdapter] | None = None,
        **settings: Unpack[RunSettings],
    ) -> Result: ...


def pickle_by_path(session: Session) -> Session:
    """Make ``session`` pickle as its path (the receiver must see the same file), not its bytes."""
    if session._model_path is None:
        raise _core.InvalidValueError("this session was made from bytes; it has no path to pickle")
    session._pickle_by_path = True
    return session


class CheckedSession:
    """A session run under a tightened contract (:meth:`Session.with_contract`): every run path
    checks it (in C++) before ONNX Runtime sees the data, and checks the declared outputs against
    the same bindings afterwards."""

    run: RunMethod
    """``Session.run`` under this contract (the C++ method with the contract bound: no Python
    frame per call)."""

    def __init__(self, session: Session, contract: Contract) -> None:
        self._session = session
        self._contract = contract
        self._compiled = contract.compile(session)
        self.run = functools.partial(session._run_under, self._compiled)

    @property
    def session(self) -> Session:
        return self._session

    @property
    def contract(self) -> Contract:
        return self._contract

    @property
    def inputs(self) -> tuple[ValueSpec, ...]:
        return self._session.inputs

    @property
    def outputs(self) -> tuple[ValueSpec, ...]:
        return self._session.outputs

    @property
    def closed(self) -> bool:
        return self._session.closed

    def bind(
        self,
        outputs: Sequence[str] | None = None,
        *,
        out: Mapping[str, np.ndarray[Any, Any]] | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> _core.Binding:
        """``Session.bind`` under this contract: every run of the binding checks it."""
        return self._session.bind(outputs, out=out, inputs=inputs, contract=self._compiled)

    async def run_async(
        self,
        feeds: Mapping[str, Any],
        outputs: Sequence[str] | None = None,
        *,
        out: Mapping[str, np.ndarray[Any, Any]] | None = None,
        timeout: float | None = None,
        adapters: Sequence[LoraAdapter] | None = None,
        **settings: Unpack[RunSettings],
    ) -> Result:
        """``Session.run_async`` under this contract."""
        return await self._session._run_async_under(self._compiled, feeds, outputs, out, timeout, adapters, settings)

    def with_contract(
        self,
        inputs: Mapping[str, ValueDecl] | None = None,
        outputs: Mapping[str, ValueDecl] | None = None,
        dims: Mapping[str, DimSpec] | None = None,
    ) -> CheckedSession:
        """This contract tightened further (see :meth:`Session.with_contract`)."""
        return CheckedSession(self._session, self._contract.tighten(inputs=inputs, outputs=outputs, dims=dims))

    def __repr__(self) -> str:
        return f"<ortbind.CheckedSession {self._contract}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (CheckedSession, (self._session, self._contract))
